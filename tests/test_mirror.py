"""Paper trading end to end: a served synthetic twin plays Kraken, a second twin mirrors it.

Both on loopback sockets: the mirror reads the source's public socket with this library's
streams, and a Session trades on the mirror over REST. The source's clock is manual, so its
book moves only when this test trades on it; the mirror's clock is manual too, so the test
says when a second has passed (resting fills are applied second by second).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from decimal import ROUND_DOWN, Decimal

import pytest

from kraken_futures_async import Session
from kraken_futures_async.auth import API_KEY_ENV, API_SECRET_ENV
from kraken_futures_async.errors import OrderRejectedError
from kraken_futures_async.models import OrderBook
from kraken_futures_async.models.streams import SystemState, SystemStatus
from kraken_futures_async.simulator import ManualClock, RunningTwin, TwinConfig, run_in_thread
from kraken_futures_async.simulator.mirror import MirrorTwin, mirror_twin
from kraken_futures_async.testing import ControlledTwin
from tests.test_cli import run, run_json

XBT = "PF_XBTUSD"
D = Decimal


def levels(book: OrderBook, depth: int = 25) -> tuple[list[tuple[Decimal, Decimal]], ...]:
    return (
        [(level.price, level.size) for level in book.bids[:depth]],
        [(level.price, level.size) for level in book.asks[:depth]],
    )


def half(size: Decimal) -> Decimal:
    """Half a level's size, on PF_XBTUSD's size step."""
    return (size / 2).quantize(D("0.0001"), rounding=ROUND_DOWN)


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    """Wait until ``check`` holds (the mirror hears the source a moment after it changed)."""
    for _ in range(int(within / 0.02)):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not so within {within} s")


async def status_becomes(statuses: AsyncIterator[SystemStatus], state: SystemState) -> None:
    """Read the mirror's ``status`` pushes until one says ``state``."""
    async with asyncio.timeout(10):
        async for status in statuses:
            if status.system is state:
                return
    raise AssertionError(f"the status stream ended before {state.value}")


def source_twin(seed: int = 0) -> ControlledTwin:
    return ControlledTwin(TwinConfig(seed=seed, clock=ManualClock(), rate_limits=False))


@pytest.fixture
def source() -> Iterator[RunningTwin]:
    with run_in_thread(source_twin()) as running:
        yield running


@pytest.fixture
def mirror(source: RunningTwin) -> Iterator[tuple[MirrorTwin, ManualClock, RunningTwin]]:
    clock = ManualClock()
    twin = mirror_twin(source.url, symbols=[XBT], config=TwinConfig(clock=clock))
    with run_in_thread(twin) as running:
        yield twin, clock, running


async def same_book(paper: Session, real: Session) -> bool:
    mirrored, actual = await paper.market.orderbook(XBT), await real.market.orderbook(XBT)
    return levels(mirrored) == levels(actual)


async def test_paper_orders_fill_on_the_sources_market_and_never_reach_it(
    source: RunningTwin, mirror: tuple[MirrorTwin, ManualClock, RunningTwin]
) -> None:
    _twin, clock, served = mirror
    async with served.session() as paper, source.session() as real:
        # the mirror's book is the source's
        await eventually(lambda: same_book(paper, real))
        book = await real.market.orderbook(XBT)

        # a marketable buy takes the source's asks level by level, at the source's prices
        first, second = book.asks[0], book.asks[1]
        part = half(second.size)
        size = first.size + part
        await paper.orders.send(symbol=XBT, side="buy", size=size, order_type="mkt")
        fills = await paper.orders.fills()
        assert sorted((f.price, f.size) for f in fills) == [
            (first.price, first.size),
            (second.price, part),
        ]
        cost = first.price * first.size + second.price * part
        (position,) = await paper.account.open_positions()
        assert position.size == size
        assert abs(position.price - cost / size) < D("1e-9")  # the fills' average
        paper_book = await paper.market.orderbook(XBT)
        assert paper_book.asks[0].price == second.price  # the level it emptied is gone
        assert paper_book.asks[0].size == second.size - part  # and the next one depleted

        # nothing reached the source: its account never traded, its book is untouched
        assert await real.orders.fills() == []
        assert await real.orders.open() == []
        assert levels(await real.market.orderbook(XBT)) == levels(book)

        # a resting buy at the source's best bid waits behind the size shown there ...
        best, next_bid = book.bids[0], book.bids[1]
        resting = await paper.orders.send(
            symbol=XBT, side="buy", size=D("0.01"), order_type="lmt", limit_price=best.price
        )
        assert resting.order_id is not None
        clock.advance(1)
        assert len(await paper.orders.fills()) == 2  # nothing traded on the source yet

        # ... and fills once the source trades through its price (the bid level swept,
        # then some of the next one), at its own limit, as a maker
        swept = best.size + half(next_bid.size)
        await real.orders.send(
            symbol=XBT, side="sell", size=swept, order_type="ioc", limit_price=next_bid.price
        )

        async def filled() -> bool:
            clock.advance(1)
            return len(await paper.orders.fills()) == 3

        await eventually(filled)
        fills = await paper.orders.fills()
        (maker,) = [f for f in fills if f.order_id == resting.order_id]
        assert (maker.price, maker.size, maker.fill_type.value) == (best.price, D("0.01"), "maker")

        # the mirror follows the source's new bids; the asks it took stay taken (rule 1)
        async def followed() -> bool:
            (paper_bids, paper_asks), (bids, asks) = (
                levels(await paper.market.orderbook(XBT)),
                levels(await real.market.orderbook(XBT), 27),
            )
            taken = [(second.price, second.size - part), *asks[2:]]
            return paper_bids == bids[:25] and paper_asks == taken[:25]

        await eventually(followed)


async def test_the_source_dropping_suspends_trading_and_its_return_heals_the_book(
    source: RunningTwin, mirror: tuple[MirrorTwin, ManualClock, RunningTwin]
) -> None:
    twin, _clock, served = mirror
    async with served.session() as paper, paper.stream.status() as statuses:
        async with source.session() as real:
            await eventually(lambda: same_book(paper, real))
        await status_becomes(statuses, SystemState.ONLINE)  # cancel-only before the first books
        port = source.url.rsplit(":", 1)[1]
        source.stop()

        async def suspended() -> bool:
            return (await paper.market.ticker(XBT)).suspended is True

        await eventually(suspended)
        await status_becomes(statuses, SystemState.CANCEL_ONLY)  # the mirror's socket says so
        with pytest.raises(OrderRejectedError) as refused:
            await paper.orders.send(symbol=XBT, side="buy", size=D("0.01"), order_type="mkt")
        assert refused.value.status == "marketSuspended"
        assert twin.market.outages == 1

        # the source comes back on the same port with another market: the mirror heals
        returned = run_in_thread(source_twin(seed=1), port=int(port))
        try:
            async with returned.session() as real:

                async def healed() -> bool:
                    fresh = (await paper.market.ticker(XBT)).suspended is False
                    return fresh and await same_book(paper, real)

                await eventually(healed, within=20.0)
                await status_becomes(statuses, SystemState.ONLINE)
                await paper.orders.send(symbol=XBT, side="buy", size=D("0.01"), order_type="mkt")
                (fill,) = await paper.orders.fills()
                assert fill.price == (await real.market.orderbook(XBT)).asks[0].price
        finally:
            returned.stop()


async def test_the_uws_backend_trades_on_the_mirror_as_rest_does(
    source: RunningTwin, mirror: tuple[MirrorTwin, ManualClock, RunningTwin]
) -> None:
    _twin, _clock, served = mirror
    async with served.session() as rest, source.session() as real:
        await eventually(lambda: same_book(rest, real))
        ask = (await real.market.orderbook(XBT)).asks[0]
        async with served.session(backend="uws") as uws:
            await uws.orders.send(symbol=XBT, side="buy", size=D("0.001"), order_type="mkt")
            (position,) = await uws.account.open_positions()
        assert (position.size, position.price) == (D("0.001"), ask.price)
        assert await real.orders.fills() == []


def test_the_book_command_shows_the_paper_orders_as_yours(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    source: RunningTwin,
    mirror: tuple[MirrorTwin, ManualClock, RunningTwin],
) -> None:
    twin, _clock, served = mirror
    monkeypatch.setenv(API_KEY_ENV, twin.key.public_key)
    monkeypatch.setenv(API_SECRET_ENV, twin.key.secret)

    async def rest_a_bid() -> tuple[Decimal, Decimal]:
        async with served.session() as paper, source.session() as real:
            await eventually(lambda: same_book(paper, real))
            best = (await real.market.orderbook(XBT)).bids[0]
            await paper.orders.send(
                symbol=XBT, side="buy", size=D("0.01"), order_type="lmt", limit_price=best.price
            )
            return best.price, best.size

    price, theirs = asyncio.run(rest_a_bid())
    book = run_json(capsys, "--base-url", served.url, "book", XBT)
    assert book["yours"] == {"bids": [{"price": str(price), "size": "0.01"}], "asks": []}
    assert book["bids"][0] == {"price": str(price), "size": str(theirs + D("0.01"))}
    status, out, _ = run(capsys, "--base-url", served.url, "book", XBT, "--depth", "2")
    assert status == 0
    header = next(line for line in out.splitlines() if "bid size" in line)
    assert header.split() == ["yours", "bid", "size", "bid", "ask", "ask", "size", "yours"]
    first = next(line for line in out.splitlines() if str(price) in line)
    assert first.split()[:3] == ["0.01", str(theirs + D("0.01")), str(price)]
