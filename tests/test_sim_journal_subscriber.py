"""The journal is a subscriber of the engine's events and nothing else.

It is fed here first by hand, with no venue at all, then by a venue, where its memory of open
orders must empty as orders end.
"""

from __future__ import annotations

from decimal import Decimal

from kraken_futures_async.simulator.engine.events import (
    MarkPrice,
    OrderCancelled,
    OrderRested,
    Transfer,
)
from kraken_futures_async.simulator.engine.journal import Journal
from kraken_futures_async.simulator.engine.orders import Order, snapshot

from .test_sim_engine_support import ACCOUNT, OTHER, Twin

XBT = "PF_XBTUSD"


def _order(**changes: object) -> Order:
    order = Order(
        "o-1", ACCOUNT, XBT, "buy", "lmt", Decimal("0.5"), Decimal(100), False, "c-1", 10.0, 10.0, 1
    )
    for name, value in changes.items():
        setattr(order, name, value)
    return order


def test_events_alone_write_the_history_and_the_account_log() -> None:
    journal = Journal(seed=1)
    resting = _order(resting=True)
    journal.hear(OrderRested(10.0, "o-1", snapshot(resting)))
    journal.hear(OrderRested(11.0, "o-1", snapshot(resting)))  # back in the book after an edit
    cancelled = _order(status="CANCELLED", update_reason="CANCELLED_BY_USER", updated=12.0)
    journal.hear(
        OrderCancelled(12.0, ACCOUNT, "o-1", XBT, "CANCELLED", "x", Decimal(0), order=cancelled)
    )
    journal.hear(Transfer(13.0, ACCOUNT, "usd", "flex", Decimal(10), Decimal(4), "transfer"))
    journal.hear(MarkPrice(14.0, XBT, Decimal(1)))  # not one of its kinds: ignored
    records = journal.of(ACCOUNT).orders
    assert [r.kind for r in records] == ["OrderPlaced", "OrderCancelled"]
    placed = records[0].element["event"]["OrderPlaced"]
    assert placed["order"]["clientId"] == "c-1"
    assert placed["order"]["limitPrice"] == "100"
    assert records[1].element["event"]["OrderCancelled"]["reason"] == "cancelled_by_user"
    ((_, row),) = journal.of(ACCOUNT).log
    assert (row["old_balance"], row["new_balance"], row["info"]) == (10, 4, "transfer")
    assert journal.orders_remembered == 0


def test_a_cancel_of_an_order_never_written_places_it_first() -> None:
    journal = Journal(seed=1)
    order = _order(kind="ioc", status="CANCELLED", update_reason="IOC_WOULD_NOT_EXECUTE_REASON")
    journal.hear(
        OrderCancelled(10.0, ACCOUNT, "o-1", XBT, "CANCELLED", None, Decimal(0), order=order)
    )
    assert [r.kind for r in journal.of(ACCOUNT).orders] == ["OrderPlaced", "OrderCancelled"]


def test_the_venue_builds_no_event_the_journal_does_not_want() -> None:
    twin = Twin(seed=2)
    events = twin.exchange._venue.events
    assert not events.wants(MarkPrice)
    assert events.wants(OrderRested)
    assert events.wants(Transfer)


def test_the_journal_forgets_orders_that_ended() -> None:
    twin = Twin(seed=4)
    journal = twin.exchange._venue.journal
    bid = twin.book(XBT)["bids"][0][0]
    kept = []
    for i in range(40):
        order = twin.send(
            orderType="lmt", symbol=XBT, side="buy", size="0.01", limitPrice=str(bid - 200 - i)
        )
        if i % 4 == 0:
            kept.append(order["order_id"])
        else:
            twin.checked("cancel_order", ACCOUNT, order_id=order["order_id"])
    filled = twin.send(orderType="lmt", symbol=XBT, side="buy", size="0.02", limitPrice=str(bid))
    twin.send(
        account=OTHER, orderType="ioc", symbol=XBT, side="sell", size="0.02", limitPrice=str(bid)
    )
    twin.send(orderType="mkt", symbol=XBT, side="buy", size="0.01")
    assert filled["order_id"] not in {o["order_id"] for o in twin.open_orders()}
    assert journal.orders_remembered == len(kept) == len(twin.open_orders())
    kinds = [r.kind for r in journal.of(ACCOUNT).orders]
    assert kinds.count("OrderCancelled") == 30
    assert kinds.count("OrderPlaced") == 42
