"""The library's trading surface against the exchange twin, in-process, on a manual clock.

Each scenario goes through a real Session (signing, rate limits, envelopes, models) and checks
what the caller sees against numbers worked out here by hand: the fill price from the book,
Kraken's taker fee of 0.05 %, PF_XBTUSD's 1 % initial margin, the mark from the twin's price
function.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_CEILING, Decimal

import pytest

from kraken_futures_async import InvalidArgumentError, OrderRejectedError, RateLimitPolicy, Session
from kraken_futures_async.models import (
    ExecutionEvent,
    OrderRequestStatus,
    PlaceEvent,
    PositionSide,
)
from kraken_futures_async.resources.orders import BatchOrder
from kraken_futures_async.simulator import ManualClock, Twin, TwinConfig
from kraken_futures_async.simulator.engine import Exchange

XBT = "PF_XBTUSD"
TAKER = Decimal("0.0005")
START_USD = Decimal(100_000)


@pytest.fixture
def twin() -> Twin:
    return Twin(TwinConfig(seed=21, clock=ManualClock()))


def _session(twin: Twin, account: str | None = None) -> Session:
    key = twin.issue_key(account) if account else None
    return twin.session(key, rate_limits=RateLimitPolicy.kraken())


def _mark(twin: Twin, at: float | None = None) -> Decimal:
    exchange = twin.exchange
    assert isinstance(exchange, Exchange)
    return exchange.mark_price(XBT, at)


def _clock(twin: Twin) -> ManualClock:
    assert isinstance(twin.clock, ManualClock)
    return twin.clock


async def test_rest_edit_and_cancel_a_limit_order(twin: Twin) -> None:
    async with _session(twin) as kf:
        book = await kf.market.orderbook(XBT)
        assert book.best_bid is not None
        price = book.best_bid.price - 100
        placed = await kf.orders.send(
            symbol=XBT, side="buy", size="0.5", limit_price=price, cli_ord_id="rest-1"
        )
        assert placed.status is OrderRequestStatus.PLACED
        (event,) = placed.order_events
        assert isinstance(event, PlaceEvent)
        assert event.order is not None
        assert (event.order.quantity, event.order.limit_price) == (Decimal("0.5"), price)

        edited = await kf.orders.edit(cli_ord_id="rest-1", size="0.3", limit_price=price - 1)
        assert edited.status is OrderRequestStatus.EDITED
        (listed,) = await kf.orders.open()
        assert (listed.order_id, listed.unfilled_size, listed.limit_price) == (
            placed.order_id,
            Decimal("0.3"),
            price - 1,
        )

        cancelled = await kf.orders.cancel(order_id=placed.order_id)
        assert cancelled.status is OrderRequestStatus.CANCELLED
        assert await kf.orders.open() == []


async def test_a_partial_fill_then_the_rest_rests(twin: Twin) -> None:
    async with _session(twin) as kf:
        book = await kf.market.orderbook(XBT)
        best = book.asks[0]
        size = best.size + Decimal("0.5")
        placed = await kf.orders.send(symbol=XBT, side="buy", size=size, limit_price=best.price)
        executions = [e for e in placed.order_events if isinstance(e, ExecutionEvent)]
        assert sum(e.amount for e in executions) == best.size
        assert {e.price for e in executions} == {best.price}
        (rest,) = await kf.orders.open()
        assert rest.status == "partiallyFilled"
        assert rest.filled_size == best.size
        assert rest.unfilled_size == Decimal("0.5")
        (position,) = await kf.account.open_positions()
        assert (position.side, position.size, position.price) == (
            PositionSide.LONG,
            best.size,
            best.price,
        )


async def test_margin_and_pnl_follow_the_mark_by_hand(twin: Twin) -> None:
    async with _session(twin) as kf:
        ask = (await kf.market.orderbook(XBT)).asks[0]
        size = min(ask.size, Decimal("0.2"))
        await kf.orders.send(symbol=XBT, side="buy", size=size, limit_price=ask.price)
        fee = ask.price * size * TAKER
        _clock(twin).advance(90)
        mark = _mark(twin)
        flex = (await kf.account.accounts()).flex
        assert flex is not None
        usd = START_USD - fee
        pnl = (mark - ask.price) * size
        assert flex.currencies["USD"].quantity == usd
        assert flex.pnl == pnl
        assert flex.initial_margin == mark * size * Decimal("0.01")
        assert flex.maintenance_margin == mark * size * Decimal("0.005")
        assert flex.portfolio_value == usd + pnl
        assert flex.available_margin == usd + pnl - mark * size * Decimal("0.01")
        (fill,) = await kf.orders.fills()
        assert (fill.size, fill.price, fill.fill_type.value) == (size, ask.price, "taker")


async def test_a_stop_triggers_when_the_mark_crosses_it(twin: Twin) -> None:
    clock = _clock(twin)
    start = clock.time()
    # find a minute in which the mark rises by at least 20 USD, and put a buy stop there
    marks = [_mark(twin, start + s) for s in range(0, 3600)]
    stop = (marks[0] + 20).to_integral_value(ROUND_CEILING)  # on PF_XBTUSD's 1 USD tick
    trigger_second = next(s for s, m in enumerate(marks) if m >= stop)
    async with _session(twin) as kf:
        placed = await kf.orders.send(
            symbol=XBT,
            side="buy",
            size="0.01",
            order_type="stp",
            stop_price=stop,
            trigger_signal="mark",
        )
        assert placed.status is OrderRequestStatus.PLACED
        (resting,) = await kf.orders.open()
        assert resting.order_type in ("stop", "stp")
        assert await kf.account.open_positions() == []
        clock.advance(trigger_second + 1)
        assert await kf.orders.open() == []
        (position,) = await kf.account.open_positions()
        assert (position.side, position.size) == (PositionSide.LONG, Decimal("0.01"))


async def test_reduce_only_cannot_open_a_position(twin: Twin) -> None:
    async with _session(twin) as kf:
        with pytest.raises(OrderRejectedError) as info:
            await kf.orders.send(
                symbol=XBT, side="sell", size="0.01", order_type="mkt", reduce_only=True
            )
        assert info.value.status == "wouldNotReducePosition"
        await kf.orders.send(symbol=XBT, side="buy", size="0.02", order_type="mkt")
        closed = await kf.orders.send(
            symbol=XBT, side="sell", size="0.02", order_type="mkt", reduce_only=True
        )
        assert closed.filled_size == Decimal("0.02")
        assert await kf.account.open_positions() == []


async def test_the_dead_mans_switch_cancels_when_not_refreshed(twin: Twin) -> None:
    async with _session(twin) as kf:
        bid = (await kf.market.orderbook(XBT)).bids[0].price
        await kf.orders.send(symbol=XBT, side="buy", size="0.1", limit_price=bid - 500)
        status = await kf.orders.cancel_all_after(60)
        assert status.trigger_time is not None
        assert status.trigger_time - status.current_time == dt.timedelta(seconds=60)
        _clock(twin).advance(59)
        assert len(await kf.orders.open()) == 1
        _clock(twin).advance(2)
        assert await kf.orders.open() == []
        disarmed = await kf.orders.cancel_all_after(0)
        assert disarmed.trigger_time is None


async def test_a_batch_reports_each_item_and_raises_for_none(twin: Twin) -> None:
    async with _session(twin) as kf:
        bid = (await kf.market.orderbook(XBT)).bids[0].price
        batch = (
            BatchOrder()
            .send(symbol=XBT, side="buy", size="0.1", limit_price=bid - 200, cli_ord_id="b-1")
            .send(symbol=XBT, side="buy", size="0.1", limit_price=bid - 201, cli_ord_id="b-1")
            .cancel(order_id="6e88d923-630d-40aa-af4f-64e5e2b3ad03")
        )
        placed, duplicate, missing = await kf.orders.batch(batch)
        assert placed.ok
        assert placed.status is OrderRequestStatus.PLACED
        assert not duplicate.ok
        assert duplicate.status is OrderRequestStatus.CLIENT_ORDER_ID_ALREADY_EXIST
        assert missing.status is OrderRequestStatus.NOT_FOUND
        (listed,) = await kf.orders.open()
        assert listed.cli_ord_id == "b-1"


async def test_refusals_reach_the_caller_with_their_status(twin: Twin) -> None:
    async with _session(twin) as kf:
        ask = (await kf.market.orderbook(XBT)).asks[0].price
        with pytest.raises(OrderRejectedError) as post:
            await kf.orders.send(
                symbol=XBT, side="buy", size="0.1", order_type="post", limit_price=ask + 10
            )
        assert post.value.status == "postWouldExecute"
        with pytest.raises(InvalidArgumentError, match="off its tick size"):
            await kf.orders.send(symbol=XBT, side="buy", size="0.1", limit_price="100.5")
        with pytest.raises(OrderRejectedError) as funds:
            await kf.orders.send(symbol=XBT, side="buy", size="500", order_type="mkt")
        assert funds.value.status in ("insufficientAvailableFunds", "maxPositionViolation")
        assert await kf.account.open_positions() == []


async def test_the_exchange_refuses_an_off_tick_price_when_local_checks_are_off(
    twin: Twin,
) -> None:
    async with twin.session(rate_limits=RateLimitPolicy.kraken(), check_orders=False) as kf:
        with pytest.raises(OrderRejectedError) as tick:
            await kf.orders.send(symbol=XBT, side="buy", size="0.1", limit_price="100.5")
    assert tick.value.status == "invalidPrice"


async def test_two_accounts_trade_with_each_other(twin: Twin) -> None:
    other = twin.open_account()
    async with _session(twin) as me, _session(twin, other) as them:
        ask = (await me.market.orderbook(XBT)).asks[0].price
        price = ask - 1  # inside the spread: only the other account's order is there
        await them.orders.send(symbol=XBT, side="sell", size="0.3", limit_price=price)
        bought = await me.orders.send(symbol=XBT, side="buy", size="0.3", limit_price=price)
        assert bought.filled_size == Decimal("0.3")
        (mine,) = await me.account.open_positions()
        (theirs,) = await them.account.open_positions()
        assert (mine.side, theirs.side) == (PositionSide.LONG, PositionSide.SHORT)
        assert mine.price == theirs.price == price
        (their_fill,) = await them.orders.fills()
        assert their_fill.fill_type.value == "maker"
