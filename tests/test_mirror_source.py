"""The mirror's source task against a served twin on loopback: books, trades, marks, outages.

The source is a synthetic twin on a manual clock (its market moves only when a test moves
it), served on a loopback port; the mirror reads it over its public socket exactly as it
would read Kraken. No test depends on the date or the network.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from urllib.parse import urlsplit

import pytest

from kraken_futures_async import Session
from kraken_futures_async.simulator import ManualClock, RunningTwin, run_in_thread
from kraken_futures_async.simulator.mirror.market import MirroredMarket
from kraken_futures_async.simulator.mirror.source import MirrorSource
from kraken_futures_async.simulator.uws import UwsServer, public_url
from kraken_futures_async.testing import ControlledTwin, TwinControl

XBT, ETH = "PF_XBTUSD", "PF_ETHUSD"
DEPTH = 25


def serve(twin: ControlledTwin, port: int = 0) -> RunningTwin:
    running = run_in_thread(twin, port=port)
    twin.control.serve_on(running.loop)  # controls run between the server's requests
    return running


async def stop(running: RunningTwin) -> None:
    await asyncio.to_thread(running.stop)  # off the loop: the mirror's socket closes meanwhile
    control_of(running).serve_on(None)


def control_of(running: RunningTwin) -> TwinControl:
    twin = running.twin
    assert isinstance(twin, ControlledTwin)
    return twin.control


def uws(running: RunningTwin) -> UwsServer:
    server: UwsServer = running.twin.app.uws
    return server


def recorder(market: MirroredMarket) -> list[str | None]:
    """Every stale reason the market reports as it changes, in order."""
    seen: list[str | None] = []
    market.listen(lambda _symbol: seen.append(market.stale()))
    return seen


@pytest.fixture
def source() -> Iterator[RunningTwin]:
    with serve(ControlledTwin()) as running:
        yield running


@contextlib.asynccontextmanager
async def mirroring(url: str, *symbols: str) -> AsyncIterator[tuple[MirroredMarket, MirrorSource]]:
    market = MirroredMarket(symbols)
    mirror = MirrorSource(market, public_url(url), clock=ManualClock(), depth=DEPTH, retry=0.1)
    await mirror.start()
    try:
        yield market, mirror
    finally:
        await mirror.aclose()


async def until(condition: object, seconds: float = 5.0) -> None:
    """Wait (briefly polling) until ``condition()`` is true."""
    assert callable(condition)
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 (a test's poll of the mirror's state)
            await asyncio.sleep(0.02)


Levels = list[tuple[Decimal, Decimal]]


async def source_book(url: str, symbol: str) -> tuple[Levels, Levels]:
    """The source's top levels, read over REST (not over the socket the mirror reads)."""
    async with Session(base_url=url) as kf:
        book = await kf.market.orderbook(symbol)
    return [(p, q) for p, q in book.bids[:DEPTH]], [(p, q) for p, q in book.asks[:DEPTH]]


def mirrored_book(market: MirroredMarket, symbol: str) -> tuple[Levels, Levels]:
    mirrored = market.symbols[symbol]
    return [(p, q) for p, q in mirrored.bids], [(p, q) for p, q in mirrored.asks]


async def books_match(market: MirroredMarket, url: str, symbol: str) -> None:
    """The mirrored book is the source's top levels (a push may still be on its way)."""
    for _ in range(20):
        expected = await source_book(url, symbol)
        if mirrored_book(market, symbol) == expected:
            return
        await asyncio.sleep(0.05)
    assert mirrored_book(market, symbol) == await source_book(url, symbol)


async def test_the_mirrored_books_are_the_sources_books(source: RunningTwin) -> None:
    async with asyncio.timeout(10), mirroring(source.url, XBT, ETH) as (market, mirror):
        await until(lambda: market.stale() is None)
        assert mirror.running
        for symbol in (XBT, ETH):
            await books_match(market, source.url, symbol)
            assert len(market.symbols[symbol].bids) == DEPTH
        control = control_of(source)
        control.move_mark(XBT, control.mark(XBT) * Decimal("1.02"))  # the book moves with it
        await books_match(market, source.url, XBT)
        contract = uws(source).feed.contracts[XBT]  # what the source's instrument list says
        await until(lambda: market.symbols[XBT].tick is not None)
        assert market.symbols[XBT].tick == contract.price_increment
        assert market.symbols[XBT].size_step == contract.qty_increment
        await until(lambda: "volume" in market.symbols[XBT].ticker)
        assert market.outages == 0


async def test_a_trade_on_the_source_reaches_the_mirror(source: RunningTwin) -> None:
    async with asyncio.timeout(10), mirroring(source.url, XBT) as (market, _):
        await until(lambda: market.stale() is None)
        async with source.session() as kf:
            assert await kf.market.trades(XBT)  # the source has a past...
            before = market.symbols[XBT].trade_seq
            assert before == 0  # ...that the mirror does not replay as new trades
            sent = await kf.orders.send(symbol=XBT, side="buy", size="0.01", order_type="mkt")
        fills = sorted((e.price, e.amount) for e in sent.executions)
        assert fills
        await until(lambda: market.symbols[XBT].trade_seq >= before + len(fills))
        arrived = market.symbols[XBT].trades_since(before)
        assert sorted((t.price, t.size) for t in arrived) == fills
        assert {t.side for t in arrived} == {"buy"}
        assert all(t.trade_id > 0 for t in arrived)


async def test_marks_and_indices_arrive(source: RunningTwin) -> None:
    control = control_of(source)
    async with asyncio.timeout(10), mirroring(source.url, XBT) as (market, _):
        mirrored = market.symbols[XBT]
        await until(lambda: mirrored.marks.latest is not None and bool(mirrored.indices))
        assert mirrored.marks.latest == control.mark(XBT)  # the source's clock stands still
        index = control.exchange.index_price(XBT)
        assert mirrored.indices.latest is not None
        assert abs(mirrored.indices.latest / index - 1) < Decimal("0.001")
        moved = control.move_mark(XBT, control.mark(XBT) * Decimal("0.97"))
        await until(lambda: mirrored.marks.latest == moved)


async def test_the_mirror_goes_stale_when_the_source_drops_and_heals(
    caplog: pytest.LogCaptureFixture,
) -> None:
    first = serve(ControlledTwin())
    port = urlsplit(first.url).port
    assert port is not None
    caplog.set_level("INFO", logger="kraken_futures_async.simulator.mirror")
    async with asyncio.timeout(15), mirroring(first.url, XBT) as (market, mirror):
        await until(lambda: market.stale() is None)
        await stop(first)
        await until(lambda: market.stale() is not None)
        assert "dropped" in (market.stale() or "")
        assert market.outages == 1
        assert mirror.running
        again = ControlledTwin()  # another market on the same port: the mirror must follow it
        control = again.control
        control.move_mark(XBT, control.mark(XBT) * Decimal("1.05"))
        second = serve(again, port)
        try:
            await until(lambda: market.stale() is None, 10)
            await books_match(market, second.url, XBT)
        finally:
            await stop(second)
    assert any("stale" in r.message and r.levelname == "WARNING" for r in caplog.records)
    assert any("fresh from" in r.message and r.levelname == "INFO" for r in caplog.records)


async def test_a_failed_checksum_goes_stale_until_the_fresh_snapshot(source: RunningTwin) -> None:
    control = control_of(source)
    async with asyncio.timeout(10), mirroring(source.url, XBT, ETH) as (market, _):
        await until(lambda: market.stale() is None)
        seen = recorder(market)
        uws(source).corrupt_next_checksum(XBT)
        control.move_mark(XBT, control.mark(XBT) * Decimal("1.01"))  # an update of the book
        await until(lambda: market.outages == 1 and market.stale() is None)
        reason = "the source's PF_XBTUSD book failed its checksum; resubscribing"
        assert reason in seen
        assert seen[-1] is None
        await books_match(market, source.url, XBT)
        assert market.symbols[ETH].has_book  # its book was whole all along


async def test_a_dropped_connection_goes_stale_until_the_books_are_back(
    source: RunningTwin,
) -> None:
    async with asyncio.timeout(10), mirroring(source.url, XBT) as (market, _):
        await until(lambda: market.stale() is None)
        seen = recorder(market)
        uws(source).disconnect_all()
        await until(lambda: market.outages == 1 and market.stale() is None)
        assert any(reason and "dropped" in reason for reason in seen)
        await books_match(market, source.url, XBT)


async def test_a_source_that_is_not_there_yet_is_waited_for() -> None:
    with run_in_thread(ControlledTwin()) as probe:  # a port that was free a moment ago
        url = probe.url
    port = urlsplit(url).port
    assert port is not None
    async with asyncio.timeout(15), mirroring(url, XBT) as (market, mirror):
        await asyncio.sleep(0.3)
        assert market.stale() is not None
        assert mirror.running
        running = serve(ControlledTwin(), port)
        try:
            await until(lambda: market.stale() is None, 10)
            await books_match(market, running.url, XBT)
        finally:
            await stop(running)


async def test_aclose_leaves_nothing_running(source: RunningTwin) -> None:
    before = asyncio.all_tasks()
    async with asyncio.timeout(10):
        market = MirroredMarket([XBT])
        mirror = MirrorSource(market, public_url(source.url), clock=ManualClock(), retry=0.1)
        await mirror.start()
        await mirror.start()  # already running: nothing more
        await until(lambda: market.stale() is None)
        await mirror.aclose()
        await mirror.aclose()  # idempotent
        assert not mirror.running
        await asyncio.sleep(0)
        assert asyncio.all_tasks() - before == set()
        with pytest.raises(RuntimeError, match="closed"):
            await mirror.start()
