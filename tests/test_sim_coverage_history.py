"""The history API against the twin, through the library: the account's own executions, order
and trigger events, position updates and account log come from what the engine really did, and
listings page with continuation tokens (every answer checked against the OpenAPI by conftest)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

import httpx
import pytest

from kraken_futures_async import OrderRejectedError, RateLimitPolicy, Session
from kraken_futures_async.models import AccountLogInfo
from kraken_futures_async.models.history import (
    HistoricalOrderType,
    OrderCancelled,
    OrderPlaced,
    OrderRejected,
    OrderUpdated,
    PositionChange,
    PositionUpdateReason,
    TriggerActivated,
    TriggerPlaced,
)
from kraken_futures_async.simulator import ManualClock, Twin, TwinConfig

from .test_sim_http_fake import signed_headers

XBT = "PF_XBTUSD"
MAKERS = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def twin() -> Twin:
    return Twin(TwinConfig(seed=12, clock=ManualClock(), rate_limits=False))


def _session(twin: Twin, account: str | None = None) -> Session:
    key = twin.issue_key(account) if account is not None else None
    return twin.session(key, rate_limits=RateLimitPolicy.unlimited())


def _clock(twin: Twin) -> ManualClock:
    assert isinstance(twin.clock, ManualClock)
    return twin.clock


async def _best_bid(kf: Session, symbol: str = XBT) -> Decimal:
    book = await kf.market.orderbook(symbol)
    assert book.best_bid is not None
    return book.best_bid.price


# --- orders and triggers -------------------------------------------------------------------


async def test_order_events_follow_each_order_through_its_life(twin: Twin) -> None:
    async with _session(twin) as kf:
        bid = await _best_bid(kf)
        rest = await kf.orders.send(
            symbol=XBT, side="buy", size="0.2", limit_price=bid - 300, cli_ord_id="o-1"
        )
        _clock(twin).advance(1)
        await kf.orders.edit(cli_ord_id="o-1", size="0.5")
        await kf.orders.cancel(cli_ord_id="o-1")
        await kf.orders.send(symbol=XBT, side="buy", size="0.01", order_type="mkt")
        with pytest.raises(OrderRejectedError):  # a post-only order that would execute
            await kf.orders.send(
                symbol=XBT, side="sell", size="0.1", order_type="post", limit_price=bid - 1000
            )
        page = await kf.history.orders(sort="asc")
    assert page.account_uid == twin.account_uid
    assert page.continuation_token is None
    events = [entry.event for entry in page.elements]
    placed, edited, cancelled, taker, filled, rejected = events
    assert isinstance(placed, OrderPlaced)
    assert (placed.order.uid, placed.order.client_id) == (rest.order_id, "o-1")
    assert placed.order.order_type is HistoricalOrderType.LIMIT
    assert placed.reason == "new_placed_order_by_user"
    assert isinstance(edited, OrderUpdated)
    assert (edited.old_order.quantity, edited.new_order.quantity) == (
        Decimal("0.2"),
        Decimal("0.5"),
    )
    assert edited.reason == "edited_by_user"
    assert isinstance(cancelled, OrderCancelled)
    assert cancelled.reason == "cancelled_by_user"
    assert isinstance(taker, OrderPlaced)
    assert taker.order.order_type is HistoricalOrderType.MARKET
    assert isinstance(filled, OrderUpdated)
    assert (filled.reason, filled.new_order.filled) == ("full_fill", Decimal("0.01"))
    assert isinstance(rejected, OrderRejected)
    assert rejected.order_error == "POST_WOULD_EXECUTE"
    # opened=false leaves out placements, closed=false cancels, rejections and full fills
    async with _session(twin) as kf:
        no_opened = await kf.history.orders(opened=False, sort="asc")
        no_closed = await kf.history.orders(closed=False, sort="asc")
    assert [type(e.event) for e in no_opened.elements] == [
        OrderUpdated,
        OrderCancelled,
        OrderUpdated,
        OrderRejected,
    ]
    assert [type(e.event) for e in no_closed.elements] == [OrderPlaced, OrderUpdated, OrderPlaced]


async def test_a_stop_writes_trigger_events_and_then_order_events(twin: Twin) -> None:
    async with _session(twin) as kf:
        bid = await _best_bid(kf)
        stop = await kf.orders.send(
            symbol=XBT, side="buy", size="0.05", order_type="stp", stop_price=bid
        )  # a buy stop below the mark fires on the next look
        _clock(twin).advance(1)
        assert await kf.orders.open() == []
        triggers = (await kf.history.triggers(sort="asc")).elements
        orders = (await kf.history.orders(sort="asc")).elements
    first, second = (entry.event for entry in triggers)
    assert isinstance(first, TriggerPlaced)
    assert isinstance(second, TriggerActivated)
    assert first.order.uid == second.order.uid == stop.order_id
    assert first.order.trigger_options.trigger_price == bid
    assert first.order.trigger_options.trailing_stop_options is None
    placed, filled = (entry.event for entry in orders)
    assert isinstance(placed, OrderPlaced)
    assert (placed.order.uid, placed.reason) == (stop.order_id, "stop_order_triggered")
    assert isinstance(filled, OrderUpdated)
    assert filled.reason == "full_fill"


# --- executions, positions, the account log ---------------------------------------------------


async def test_executions_carry_each_sides_own_fee_and_position(twin: Twin) -> None:
    other = twin.open_account()
    async with _session(twin) as maker, _session(twin, other) as taker:
        price = await _best_bid(maker) + 1  # inside the spread
        resting = await maker.orders.send(symbol=XBT, side="buy", size="0.4", limit_price=price)
        taken = await taker.orders.send(
            symbol=XBT, side="sell", size="0.4", order_type="ioc", limit_price=price
        )
        (own,) = (await maker.history.executions()).elements
        (theirs,) = (await taker.history.executions()).elements
    assert own.uid == theirs.uid
    mine = own.execution
    assert (mine.price, mine.quantity, mine.usd_value) == (
        price,
        Decimal("0.4"),
        price * Decimal("0.4"),
    )
    assert mine.maker_order.uid == resting.order_id
    assert mine.limit_filled is True
    assert mine.maker_order_data is not None
    assert mine.maker_order_data.fee == price * Decimal("0.4") * Decimal("0.0002")
    assert mine.maker_order_data.position_size == Decimal("0.4")
    assert mine.maker_order_data.fee_calculation_info[0].percentage_fee == Decimal("0.02")
    assert mine.taker_order_data is None
    assert mine.taker_order.account_uid == MAKERS  # the other user stays anonymous
    seen = theirs.execution
    assert seen.taker_order.uid == taken.order_id
    assert seen.taker_order_data is not None
    assert seen.taker_order_data.fee == price * Decimal("0.4") * Decimal("0.0005")
    assert seen.taker_order_data.position_size == Decimal("-0.4")
    assert (seen.maker_order.account_uid, seen.maker_order_data) == (MAKERS, None)


async def test_position_updates_and_the_account_log_follow_each_trade(twin: Twin) -> None:
    async with _session(twin) as kf:
        await kf.orders.send(symbol=XBT, side="buy", size="0.3", order_type="mkt")
        _clock(twin).advance(3 * 3600)  # funding accrues on the hour boundaries
        await kf.orders.send(symbol=XBT, side="sell", size="0.5", order_type="mkt")
        updates = (await kf.history.positions(sort="asc")).elements
        funding = (await kf.history.positions(funding_realization=True)).elements
        reversals = (await kf.history.positions(reversed=True, trades=True)).elements
        log = (await kf.history.account_log(sort="asc")).logs
        fills = await kf.orders.fills()
    trades = [u for u in updates if u.update_reason is PositionUpdateReason.TRADE]
    assert trades[0].position_change is PositionChange.OPEN
    (reversal,) = [u for u in trades if u.position_change is PositionChange.REVERSE]
    assert reversal.old_position > 0 > reversal.new_position
    assert trades[-1].new_position == Decimal("-0.2")
    assert sum((u.execution_size or 0) for u in trades) == Decimal("0.8")
    (realised,) = funding
    assert realised.position_change is PositionChange.NO_CHANGE
    assert realised.realized_funding not in (None, 0)
    assert [u.uid for u in reversals] == [reversal.uid]
    # each fill books the wallet and the position: two rows per fill
    assert len(log) == 2 * len(fills)
    wallet_rows = [e for e in log if e.asset == "usd"]
    assert all(e.info is AccountLogInfo.FUTURES_TRADE for e in log)
    assert wallet_rows[0].old_balance == Decimal(100_000)
    for earlier, later in itertools.pairwise(wallet_rows):
        assert later.old_balance == earlier.new_balance
    position_rows = [e for e in log if e.asset == XBT.lower()]
    assert position_rows[-1].new_balance == Decimal("-0.2")
    assert sum(e.fee or 0 for e in wallet_rows) == sum((u.fee or 0) for u in trades)


async def test_account_log_filters_and_its_csv(twin: Twin) -> None:
    async with _session(twin) as kf:
        for amount in (1, 2, 3):
            await kf.transfers.between_wallets(
                from_account="flex", to_account="cash", unit="usd", amount=amount
            )
            _clock(twin).advance(10)
        await kf.orders.send(symbol=XBT, side="buy", size="0.01", order_type="mkt")
        everything = (await kf.history.account_log()).logs
        by_id = (await kf.history.account_log(from_id=2, to_id=4, sort="asc")).logs
        transfers = (await kf.history.account_log(info="transfer", count=2)).logs
        start = everything[-1].date + dt.timedelta(seconds=5)
        late = (await kf.history.account_log(since=start, sort="asc")).logs
        walked = [entry.id async for entry in kf.history.iter_account_log(count=3)]
        text = await kf.history.account_log_csv()
    ids = [entry.id for entry in everything]
    assert ids == sorted(ids, reverse=True)
    assert [e.id for e in by_id] == [2, 3, 4]
    assert [(e.info, e.new_balance) for e in transfers] == [
        (AccountLogInfo.TRANSFER, Decimal(6)),
        (AccountLogInfo.TRANSFER, Decimal(99_994)),
    ]
    assert [e.id for e in late] == [3, 4, 5, 6, *(i for i in sorted(ids) if i > 6)]
    assert walked == ids
    lines = text.splitlines()
    assert lines[0].startswith("id,date,asset,info,")
    assert len(lines) == len(ids) + 1
    assert lines[1].split(",")[0] == str(ids[0])


# --- paging ---------------------------------------------------------------------------------


async def _many_orders(kf: Session, count: int) -> None:
    bid = await _best_bid(kf)
    for n in range(count):
        await kf.orders.send(symbol=XBT, side="buy", size="0.01", limit_price=bid - 100 - n)


async def test_iterators_follow_continuation_tokens_in_either_direction(twin: Twin) -> None:
    async with _session(twin) as kf:
        await _many_orders(kf, 7)
        await kf.orders.cancel_all()
        whole = (await kf.history.orders(count=100)).elements
        first = await kf.history.orders(count=5)
        assert first.continuation_token is not None
        second = await kf.history.orders(count=5, continuation_token=first.continuation_token)
        descending = [e.uid async for e in kf.history.iter_orders(count=5)]
        ascending = [e.uid async for e in kf.history.iter_orders(count=4, sort="asc")]
        capped = [e.uid async for e in kf.history.iter_orders(count=3, max_pages=2)]
    assert len(whole) == 14  # seven placed, seven cancelled
    assert [e.uid for e in first.elements + second.elements] == [e.uid for e in whole[:10]]
    assert descending == [e.uid for e in whole]
    assert ascending == descending[::-1]
    assert capped == descending[:6]


async def test_v2_paths_answer_like_v3_and_the_token_is_also_a_header(twin: Twin) -> None:
    async with _session(twin) as kf:
        await _many_orders(kf, 3)
    path, query = "/api/history/{}/orders", "count=2&sort=asc"
    async with httpx.AsyncClient(transport=twin.transport(), base_url="http://127.0.0.1") as raw:
        bodies: list[dict[str, Any]] = []
        for version in ("v3", "v2"):
            url = path.format(version)
            response = await raw.get(
                f"{url}?{query}", headers=signed_headers(twin.key, url, query=query)
            )
            assert response.status_code == 200
            body = response.json()
            assert response.headers["next-continuation-token"] == body["continuationToken"]
            bodies.append(body)
    v3, v2 = bodies
    assert [e["event"] for e in v3["elements"]] == [e["event"] for e in v2["elements"]]
    assert v3["len"] == 2


async def test_a_time_window_bounds_every_listing(twin: Twin) -> None:
    clock = _clock(twin)
    async with _session(twin) as kf:
        await _many_orders(kf, 2)
        middle = dt.datetime.fromtimestamp(clock.time() + 30, dt.UTC)
        clock.advance(60)
        await _many_orders(kf, 3)
        before = (await kf.history.orders(before=middle)).elements
        since = (await kf.history.orders(since=middle)).elements
        other = (await kf.history.orders(tradeable="PF_ETHUSD")).elements
    assert (len(before), len(since), other) == (2, 3, ())
