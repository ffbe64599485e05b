"""The order tracker and the dead man's switch over an in-memory backend, on virtual time."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

from kraken_futures_async import Session
from kraken_futures_async.models import PositionSide
from kraken_futures_async.operations import CancelAllAfter, SendOrder
from kraken_futures_async.operations import catalog as ops
from kraken_futures_async.retry import OrderSafety
from kraken_futures_async.tracker import AccountSnapshot

from .fake_backend import FakeBackend
from .virtual_clock import run_virtual


def session(fake: FakeBackend) -> Session:
    safety = OrderSafety(process_before=2.0, patience=30.0, poll_interval=0.5)
    return Session(backend=fake, order_safety=safety)


async def rest_order(kf: Session, cli: str, price: int = 40_000) -> str:
    placed = await kf.orders.send(
        symbol="PF_XBTUSD", side="buy", size=1, limit_price=price, cli_ord_id=cli
    )
    assert placed.order_id is not None
    return placed.order_id


# --- the tracker --------------------------------------------------------------------------


def test_the_tracker_shows_orders_placed_through_the_session_without_a_poll() -> None:
    fake = FakeBackend(latency=0.05)

    async def scenario() -> list[AccountSnapshot]:
        async with session(fake) as kf:
            tracker = await kf.track_orders(interval=60)
            shots = [tracker.snapshot()]
            first = await rest_order(kf, "t1")
            await rest_order(kf, "t2", 39_000)
            shots.append(tracker.snapshot())
            await kf.orders.cancel(order_id=first)
            shots.append(tracker.snapshot())
            await kf.orders.edit(cli_ord_id="t2", limit_price=39_500)
            shots.append(tracker.snapshot())
            await kf.orders.cancel_all()
            shots.append(tracker.snapshot())
            return shots

    (before, placed, cancelled, edited, emptied), _ = run_virtual(scenario)
    assert before.polls == placed.polls == emptied.polls == 1
    assert before.open_orders == {}
    assert {o.cli_ord_id for o in placed.open_orders.values()} == {"t1", "t2"}
    assert [o.cli_ord_id for o in cancelled.open_orders.values()] == ["t2"]
    t2 = edited.by_cli_ord_id("t2")
    assert t2 is not None
    assert t2.limit_price == Decimal(39_500)
    assert emptied.open_orders == {}
    assert fake.calls["open_orders"] == 1


def test_the_tracker_learns_a_reconciled_order_from_the_lookup() -> None:
    fake = FakeBackend(latency=0.05)

    async def scenario() -> AccountSnapshot:
        async with session(fake) as kf:
            tracker = await kf.track_orders(interval=60)
            fake.lose_answers(ops.SEND_ORDER, applied=True)
            await rest_order(kf, "lost")
            return tracker.snapshot()

    snapshot, _ = run_virtual(scenario)
    assert snapshot.polls == 1
    found = snapshot.by_cli_ord_id("lost")
    assert found is not None
    assert found.order_id == fake.exchange.placements[0].order_id
    assert fake.lookups["status"] == 1


def test_the_tracker_polls_orders_positions_and_wallets_placed_elsewhere() -> None:
    fake = FakeBackend()

    async def scenario() -> tuple[AccountSnapshot, AccountSnapshot, int]:
        async with session(fake) as kf:
            tracker = await kf.track_orders(interval=5)
            other = SendOrder(
                symbol="PF_ETHUSD", side="sell", size=3, limit_price=3_200, cli_ord_id="web"
            )
            fake.exchange.place(other, None, fake.now())  # another client's order
            fake.exchange.place(
                SendOrder(symbol="PF_XBTUSD", side="buy", size=2, order_type="mkt"),
                None,
                fake.now(),
            )
            fake.lose_answers(ops.OPEN_ORDERS, applied=True)  # the next poll fails
            unseen = tracker.snapshot()
            await asyncio.sleep(10.5)
            return unseen, tracker.snapshot(), tracker.failures

    unseen, seen, failures = run_virtual(scenario)[0]
    assert unseen.open_orders == {}
    assert unseen.positions == {}
    assert failures == 1
    assert seen.polls == 2  # the first poll, then the one after the failed one
    assert [o.cli_ord_id for o in seen.open_orders.values()] == ["web"]
    position = seen.positions["PF_XBTUSD"]
    assert (position.side, position.size) == (PositionSide.LONG, Decimal(2))
    assert seen.accounts is not None
    assert seen.accounts.flex is not None
    assert seen.accounts.flex.balance_value == Decimal(10_000)


# --- the dead man's switch ----------------------------------------------------------------


def _arms(fake: FakeBackend) -> list[int]:
    return [
        c.request.timeout
        for c in fake.log
        if isinstance(c.request, CancelAllAfter) and c.outcome == "answered"
    ]


def test_the_switch_keeps_re_arming_the_timer_and_disarms_on_close() -> None:
    fake = FakeBackend(latency=0.05)

    async def scenario() -> tuple[dt.datetime | None, dt.datetime]:
        async with session(fake) as kf:
            await rest_order(kf, "keep")
            switch = await kf.dead_mans_switch(cancel_after=15, interval=5)
            await asyncio.sleep(62)
            assert switch.running
            assert switch.refreshes == 13
            return fake.exchange.dms_trigger, fake.now()

    (armed_until, then), _ = run_virtual(scenario)
    assert _arms(fake) == [15] * 13 + [0]
    assert armed_until is not None
    assert then < armed_until <= then + dt.timedelta(seconds=15)
    assert fake.exchange.dms_trigger is None  # disarmed on close
    fake.clock.advance(3600)
    fake.now()  # an hour later, on the exchange
    assert fake.exchange.dms_fired == []
    assert [o.cli_ord_id for o in fake.exchange.open_orders()] == ["keep"]


def test_when_the_session_stops_refreshing_the_timer_cancels_every_order() -> None:
    fake = FakeBackend(latency=0.05)

    async def scenario() -> tuple[int, int, dt.datetime]:
        async with session(fake) as kf:
            await rest_order(kf, "a")
            await rest_order(kf, "b", 39_000)
            switch = await kf.dead_mans_switch(cancel_after=15, interval=5)
            armed_at = fake.log[-1].arrived_at
            assert armed_at is not None
            await switch.stop(disarm=False)  # the service hangs: nobody refreshes
            await asyncio.sleep(14.5)
            open_before = len(fake.exchange.open_orders())
            await asyncio.sleep(1)
            return open_before, len(fake.exchange.open_orders()), armed_at

    open_before, open_after, armed_at = run_virtual(scenario)[0]
    assert (open_before, open_after) == (2, 0)
    [(fired_at, cancelled)] = fake.exchange.dms_fired
    assert fired_at == armed_at + dt.timedelta(seconds=15)
    assert sorted(cancelled) == sorted(o.order_id for o in fake.exchange.placements)
    assert {o.state for o in fake.exchange.placements} == {"CANCELLED"}


def test_refreshes_that_never_arrive_let_the_timer_fire_then_the_switch_re_arms() -> None:
    fake = FakeBackend(latency=0.05)

    async def scenario() -> tuple[int, int]:
        async with session(fake) as kf:
            await rest_order(kf, "a")
            switch = await kf.dead_mans_switch(cancel_after=15, interval=5)
            fake.lose_answers(ops.CANCEL_ALL_ORDERS_AFTER, 10, applied=False)
            await asyncio.sleep(20)
            return switch.failures, len(fake.exchange.open_orders())

    (failures, still_open), _ = run_virtual(scenario)
    assert failures == 10
    assert still_open == 0
    assert len(fake.exchange.dms_fired) == 1
    assert _arms(fake)[-1] == 0  # disarmed on close after re-arming
    assert _arms(fake).count(15) >= 2
