"""The engine's typed events, heard through ``Exchange.subscribe`` with no HTTP in between.

Each test drives the engine on a manual clock and asserts the exact list of events a call
produced, in order; ids the engine draws (order, execution, fill and trade ids) are taken
from its answers, so the events are checked against what a client of the REST face sees.
"""

from __future__ import annotations

from decimal import Decimal
from unittest.mock import ANY

import pytest

from kraken_futures_async.simulator.engine.events import (
    BalanceChanged,
    BookChanged,
    Event,
    Executed,
    ExecutionSide,
    MarkPrice,
    OrderCancelled,
    OrderChanged,
    OrderFilled,
    OrderPlaced,
    OrderRested,
    PositionChanged,
    Settlement,
    Subscribers,
    Trade,
    Transfer,
    TriggerFired,
)

from .test_sim_engine_support import ACCOUNT, OTHER, Twin

XBT = "PF_XBTUSD"
START_USD = Decimal(100_000)
MAKER = Decimal("0.0002")
TAKER = Decimal("0.0005")


@pytest.fixture
def twin() -> Twin:
    return Twin(seed=11)


@pytest.fixture
def heard(twin: Twin) -> list[Event]:
    events: list[Event] = []
    twin.exchange.subscribe(events.append)
    return events


def _now(twin: Twin) -> float:
    return twin.clock.time()


def test_a_resting_order_is_placed_and_added_to_the_book(twin: Twin, heard: list[Event]) -> None:
    price = twin.book(XBT)["bids"][0][0] - 50
    status = twin.send(
        orderType="lmt", symbol=XBT, side="buy", size="0.25", limitPrice=str(price), cliOrdId="a1"
    )
    at, order_id = _now(twin), status["order_id"]
    assert heard == [
        OrderPlaced(
            at, ACCOUNT, order_id, "a1", XBT, "buy", "lmt", Decimal("0.25"), Decimal(0), price,
            None, False,
        ),
        OrderRested(at, order_id, ANY),
        BookChanged(at, XBT, "added", order_id),
    ]  # fmt: skip
    rested = heard[1]
    assert isinstance(rested, OrderRested)
    assert rested.order.resting
    assert rested.order.limit_price == price


def _fills_of(twin: Twin, account: str) -> dict[str, str]:
    """Fill id by execution-independent key (order id, size) of the account's fills."""
    return {f"{f['order_id']}/{f['size']}": f["fill_id"] for f in twin.fills(account)}


def test_a_partial_then_a_full_fill_between_two_accounts(twin: Twin, heard: list[Event]) -> None:
    bid = twin.book(XBT)["bids"][0][0]
    maker = twin.send(orderType="lmt", symbol=XBT, side="buy", size="0.02", limitPrice=str(bid))
    maker_id = maker["order_id"]
    heard.clear()
    at = _now(twin)

    def settled(fee: Decimal, old: str, new: str, old_price: Decimal | None) -> Settlement:
        """A flex settlement of ``old`` -> ``new`` at ``bid`` that realised nothing."""
        balance = START_USD - abs(Decimal(old)) * bid * fee
        return Settlement(
            old_size=Decimal(old),
            old_price=old_price,
            new_size=Decimal(new),
            new_price=bid,
            wallet="flex",
            currency="usd",
            old_balance=balance,
            new_balance=balance - (abs(Decimal(new)) - abs(Decimal(old))) * bid * fee,
            realised=Decimal(0),
            funding=Decimal(0),
            fee=(abs(Decimal(new)) - abs(Decimal(old))) * bid * fee,
            fee_rate=fee,
        )

    def fill(size: str, taker_position: str, maker_position: str) -> list[Event]:
        amount = Decimal(size)
        before = Decimal(maker_position) - amount
        old_price = None if before == 0 else bid
        taker_settled = settled(TAKER, f"-{before}", f"-{taker_position}", old_price)
        maker_settled = settled(MAKER, str(before), maker_position, old_price)
        taker = twin.send(
            account=OTHER, orderType="ioc", symbol=XBT, side="sell", size=size, limitPrice=str(bid)
        )
        (execution,) = [e for e in taker["orderEvents"] if e["type"] == "EXECUTION"]
        taker_id, execution_id = taker["order_id"], execution["executionId"]
        trade = heard[1]
        assert isinstance(trade, Trade)
        taker_fill = _fills_of(twin, OTHER)[f"{taker_id}/{amount}"]
        maker_fill = _fills_of(twin, ACCOUNT)[f"{maker_id}/{amount}"]
        return [
            OrderPlaced(
                at, OTHER, taker_id, None, XBT, "sell", "ioc", amount, Decimal(0), bid, None,
                False,
            ),
            Trade(at, XBT, trade.trade_id, execution_id, bid, amount, "sell"),
            OrderFilled(
                at, OTHER, taker_id, taker_fill, execution_id, XBT, "sell", bid, amount, "taker",
                Decimal(0),
            ),
            PositionChanged(at, OTHER, XBT, -Decimal(taker_position), bid),
            BalanceChanged(
                at, OTHER, "flex", "USD", START_USD - Decimal(taker_position) * bid * TAKER
            ),
            OrderFilled(
                at, ACCOUNT, maker_id, maker_fill, execution_id, XBT, "buy", bid, amount, "maker",
                Decimal("0.02") - Decimal(maker_position),
            ),
            PositionChanged(at, ACCOUNT, XBT, Decimal(maker_position), bid),
            BalanceChanged(
                at, ACCOUNT, "flex", "USD", START_USD - Decimal(maker_position) * bid * MAKER
            ),
            BookChanged(
                at, XBT, "traded" if Decimal(maker_position) < Decimal("0.02") else "removed",
                maker_id,
            ),
            Executed(
                at, XBT, execution_id, bid, amount, twin.mark(XBT), False,
                ExecutionSide("taker", ANY, ANY, taker_settled),
                ExecutionSide("maker", ANY, ANY, maker_settled),
            ),
        ]  # fmt: skip

    partial = fill("0.005", "0.005", "0.005")
    assert heard == partial
    executed = heard[-1]
    assert isinstance(executed, Executed)
    assert executed.maker is not None
    assert executed.maker.before.filled == 0
    assert executed.maker.after.filled == Decimal("0.005")
    assert executed.maker.after.order_id == maker_id
    heard.clear()
    full = fill("0.015", "0.02", "0.02")
    assert heard == full
    assert twin.open_orders() == []


def _rest_a_bid(twin: Twin) -> tuple[Decimal, str]:
    """A 0.02 buy resting 50 below the best bid: its price and id."""
    price: Decimal = twin.book(XBT)["bids"][0][0] - 50
    order_id: str = twin.send(
        orderType="lmt", symbol=XBT, side="buy", size="0.02", limitPrice=str(price)
    )["order_id"]
    return price, order_id


def test_edits_change_the_order_and_its_place_in_the_book(twin: Twin, heard: list[Event]) -> None:
    price, order_id = _rest_a_bid(twin)
    heard.clear()
    at = _now(twin)
    twin.checked("edit_order", ACCOUNT, orderId=order_id, size="0.01")
    assert heard == [
        OrderChanged(
            at,
            ACCOUNT,
            order_id,
            XBT,
            "edited_by_user",
            Decimal("0.01"),
            Decimal(0),
            price,
            None,
            before=ANY,
            order=ANY,
        ),
        BookChanged(at, XBT, "changed", order_id),
    ]
    heard.clear()
    moved = price - 10
    twin.checked("edit_order", ACCOUNT, orderId=order_id, limitPrice=str(moved))
    assert heard == [
        OrderChanged(
            at,
            ACCOUNT,
            order_id,
            XBT,
            "edited_by_user",
            Decimal("0.01"),
            Decimal(0),
            moved,
            None,
            before=ANY,
            order=ANY,
        ),
        BookChanged(at, XBT, "removed", order_id),
        OrderRested(at, order_id, ANY),
        BookChanged(at, XBT, "added", order_id),
    ]
    moved_event = heard[0]
    assert isinstance(moved_event, OrderChanged)
    assert (moved_event.before.limit_price, moved_event.order.limit_price) == (price, moved)


def test_a_cancel_closes_the_order_and_takes_it_off_the_book(
    twin: Twin, heard: list[Event]
) -> None:
    _, order_id = _rest_a_bid(twin)
    heard.clear()
    at = _now(twin)
    assert twin.checked("cancel_order", ACCOUNT, order_id=order_id)["cancelStatus"]["status"] == (
        "cancelled"
    )
    assert heard == [
        OrderCancelled(
            at, ACCOUNT, order_id, XBT, "CANCELLED", "CANCELLED_BY_USER", Decimal(0), order=ANY
        ),
        BookChanged(at, XBT, "removed", order_id),
    ]
    cancelled = heard[0]
    assert isinstance(cancelled, OrderCancelled)
    assert cancelled.order.status == "CANCELLED"
    assert not cancelled.order.resting


def test_a_stop_fires_on_the_mark_and_trades(twin: Twin, heard: list[Event]) -> None:
    start = _now(twin)
    stop = (twin.mark(XBT) - 25).to_integral_value()
    offset = next(s for s in range(1, 3600) if twin.mark(XBT, start + s) <= stop)
    order_id = twin.send(
        orderType="stp", symbol=XBT, side="sell", size="0.01", stopPrice=str(stop)
    )["order_id"]
    assert heard == [
        OrderPlaced(
            start, ACCOUNT, order_id, None, XBT, "sell", "stp", Decimal("0.01"), Decimal(0), None,
            stop, True,
        ),
        OrderRested(start, order_id, ANY),
    ]  # fmt: skip
    heard.clear()
    twin.clock.advance(offset)
    (fill,) = twin.fills()
    marks = [MarkPrice(start + s, XBT, twin.mark(XBT, start + s)) for s in range(1, offset + 1)]
    assert heard[:offset] == marks
    at = start + offset
    assert heard[offset] == TriggerFired(at, order_id, ANY)
    fired = heard[offset + 1]
    assert isinstance(fired, OrderChanged)
    assert fired == OrderChanged(
        at, ACCOUNT, order_id, XBT, "triggered", Decimal("0.01"), Decimal(0),
        fired.limit_price, stop, before=ANY, order=ANY,
    )  # fmt: skip
    assert fired.limit_price is not None
    assert fired.limit_price < stop
    assert fired.before.is_trigger
    assert not fired.order.is_trigger
    trade = heard[offset + 2]
    assert isinstance(trade, Trade)
    price, size = fill["price"], Decimal("0.01")
    executed = heard[-1]
    assert isinstance(executed, Executed)
    assert (executed.taker is not None, executed.maker) == (True, None)
    assert heard[offset + 2 :] == [
        Trade(at, XBT, trade.trade_id, trade.execution_id, price, size, "sell"),
        OrderFilled(
            at, ACCOUNT, order_id, fill["fill_id"], trade.execution_id, XBT, "sell", price, size,
            "taker", Decimal(0),
        ),
        PositionChanged(at, ACCOUNT, XBT, -size, price),
        BalanceChanged(at, ACCOUNT, "flex", "USD", START_USD - size * price * TAKER),
        executed,
    ]  # fmt: skip


def test_a_transfer_changes_two_balances(twin: Twin, heard: list[Event]) -> None:
    twin.checked(
        "transfer", ACCOUNT, fromAccount="flex", toAccount="cash", unit="USD", amount="250"
    )
    at = _now(twin)
    assert heard == [
        BalanceChanged(at, ACCOUNT, "flex", "USD", START_USD - 250),
        Transfer(at, ACCOUNT, "usd", "flex", START_USD, START_USD - 250, "transfer"),
        BalanceChanged(at, ACCOUNT, "cash", "usd", Decimal(250)),
        Transfer(at, ACCOUNT, "usd", "cash", Decimal(0), Decimal(250), "transfer"),
    ]


def test_unsubscribing_stops_the_events(twin: Twin) -> None:
    kept: list[Event] = []
    dropped: list[Event] = []
    twin.exchange.subscribe(kept.append)
    unsubscribe = twin.exchange.subscribe(dropped.append)
    price = twin.book(XBT)["bids"][0][0] - 50
    twin.send(orderType="lmt", symbol=XBT, side="buy", size="0.01", limitPrice=str(price))
    assert dropped == kept
    assert len(kept) == 3
    unsubscribe()
    unsubscribe()
    twin.send(orderType="lmt", symbol=XBT, side="buy", size="0.01", limitPrice=str(price))
    assert len(kept) == 6
    assert len(dropped) == 3


def test_a_subscriber_hears_only_the_kinds_it_asked_for() -> None:
    subscribers = Subscribers()
    assert not subscribers.wants(MarkPrice)
    marks: list[Event] = []
    stop_marks = subscribers.subscribe(marks.append, [MarkPrice])
    assert subscribers.wants(MarkPrice)
    assert not subscribers.wants(Trade)
    subscribers.emit(MarkPrice(1.0, XBT, Decimal(1)))
    subscribers.emit(Trade(1.0, XBT, 1, "e", Decimal(1), Decimal(1), "buy"))
    assert marks == [MarkPrice(1.0, XBT, Decimal(1))]
    everything: list[Event] = []
    stop_everything = subscribers.subscribe(everything.append)
    assert subscribers.wants(Trade)
    stop_marks()
    stop_marks()
    assert subscribers.wants(MarkPrice)
    stop_everything()
    assert not subscribers.wants(MarkPrice)
    assert not subscribers.wants(Trade)
