"""The background helpers against the twin, on virtual time.

The order tracker: its snapshot follows the Session's own sends, edits and cancels at once
(lost answers included, through the reconciler's lookups), converges by polling with what it
cannot see (another key's orders, fills, positions, balances), and survives failing polls.
The dead man's switch: refreshes keep orders alive, closing the Session disarms it, and when
refreshes stop (a dead service, or refreshes that keep failing) the twin cancels everything.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from kraken_futures_async import Session
from kraken_futures_async.models import OrderRequestStatus
from kraken_futures_async.retry import OrderSafety
from kraken_futures_async.simulator import FaultKind, Twin
from kraken_futures_async.tracker import AccountSnapshot

from .test_safety_orders import retry_policy
from .test_safety_support import Ledger, client_timeout, fault_rules, quiet_twin
from .virtual_clock import run_virtual

SEED = 5
XBT_STEP = Decimal("0.0001")


def session(twin: Twin, **kwargs: Any) -> Session:
    kwargs.setdefault("retry", retry_policy(SEED))
    kwargs.setdefault("order_safety", OrderSafety(process_before=10.0, patience=120.0))
    kwargs.setdefault("timeout", client_timeout(5.0))
    return twin.session(**kwargs)


def far_bid(ledger: Ledger, symbol: str = "PF_XBTUSD") -> Decimal:
    """A buy price that rests for a long while: 10 % under the market."""
    return (ledger.inner.mark_price(symbol) * Decimal("0.9")).quantize(Decimal(1))


async def truth(kf: Session) -> dict[str, tuple[Decimal | None, Decimal | None]]:
    return {o.order_id: (o.limit_price, o.unfilled_size) for o in await kf.orders.open()}


def picture(snapshot: AccountSnapshot) -> dict[str, tuple[Decimal | None, Decimal | None]]:
    return {o.order_id: (o.limit_price, o.unfilled_size) for o in snapshot.open_orders.values()}


# --- the order tracker --------------------------------------------------------------------


def test_the_snapshot_follows_the_sessions_own_calls_before_any_poll() -> None:
    twin, ledger = quiet_twin(SEED)

    async def scenario() -> None:
        async with session(twin) as kf:
            tracker = await kf.track_orders(interval=5.0)
            polls = tracker.snapshot().polls
            price = far_bid(ledger)
            placed = [
                await kf.orders.send(
                    symbol="PF_XBTUSD", side="buy", size=XBT_STEP * n, limit_price=price
                )
                for n in (1, 2, 3)
            ]
            ids = [p.order_id for p in placed if p.order_id is not None]
            assert set(tracker.snapshot().open_orders) == set(ids)
            await kf.orders.edit(order_id=ids[0], limit_price=price - 5)
            assert tracker.snapshot().open_orders[ids[0]].limit_price == price - 5
            await kf.orders.cancel(order_id=ids[1])
            assert set(tracker.snapshot().open_orders) == {ids[0], ids[2]}
            assert picture(tracker.snapshot()) == await truth(kf)
            await kf.orders.cancel_all()
            assert tracker.snapshot().open_orders == {}
            # all of it happened in no time: nothing was polled
            assert tracker.snapshot().polls == polls

    run_virtual(scenario)


def test_an_order_whose_answer_was_lost_shows_as_soon_as_it_is_found() -> None:
    twin, ledger = quiet_twin(SEED)

    async def scenario() -> None:
        async with session(twin) as kf:
            tracker = await kf.track_orders(interval=10.0)
            polls = tracker.snapshot().polls
            twin.faults.add(FaultKind.DROP_AFTER, "send_order", times=1)
            result = await kf.orders.send(
                symbol="PF_XBTUSD",
                side="buy",
                size=XBT_STEP,
                limit_price=far_bid(ledger),
                cli_ord_id="lost-then-found",
            )
            assert result.status is OrderRequestStatus.PLACED
            assert twin.faults.fired("drop_after", "send_order") == 1
            shown = tracker.snapshot().by_cli_ord_id("lost-then-found")
            assert shown is not None
            assert shown.order_id == result.order_id
            assert tracker.snapshot().polls == polls

    run_virtual(scenario)


def test_the_snapshot_converges_by_polling_with_what_the_session_cannot_see() -> None:
    twin, ledger = quiet_twin(SEED)
    other_key = twin.issue_key()

    async def scenario() -> None:
        async with session(twin) as kf, session(twin, key=other_key) as other:
            tracker = await kf.track_orders(interval=5.0)
            start = tracker.snapshot()
            assert start.accounts is not None
            assert start.positions == {}
            # another process on the same account rests an order and takes a position
            resting = await other.orders.send(
                symbol="PF_XBTUSD", side="buy", size=XBT_STEP, limit_price=far_bid(ledger)
            )
            await other.orders.send(
                symbol="PF_ETHUSD", side="buy", size=Decimal("0.01"), order_type="mkt"
            )
            assert resting.order_id not in tracker.snapshot().open_orders
            await asyncio.sleep(5.5)
            after = tracker.snapshot()
            assert after.polls == start.polls + 1
            assert resting.order_id in after.open_orders
            assert after.positions["PF_ETHUSD"].size == Decimal("0.01")
            assert after.accounts is not None
            assert after.accounts != start.accounts
            assert picture(after) == await truth(kf)
            await asyncio.sleep(50.0)
            assert tracker.snapshot().polls == start.polls + 11  # every 5 s, no more

    run_virtual(scenario)


def test_the_tracker_survives_failing_polls_and_converges_once_they_pass() -> None:
    twin, ledger = quiet_twin(SEED)

    async def scenario() -> None:
        async with session(twin) as kf:
            tracker = await kf.track_orders(interval=5.0)
            for rule in fault_rules(scale=2.0):  # about 40 % of everything fails
                twin.faults.add(rule)
            price = far_bid(ledger)
            for n in range(1, 31):
                await kf.orders.send(
                    symbol="PF_XBTUSD", side="buy", size=XBT_STEP * n, limit_price=price
                )
                if n % 3 == 0:
                    open_now = sorted(tracker.snapshot().open_orders)
                    if open_now:
                        await kf.orders.cancel(order_id=open_now[0])
                await asyncio.sleep(1.0)
            assert twin.faults.fired("drop_after") + twin.faults.fired("drop_before") > 10
            twin.faults.clear()
            polls = tracker.snapshot().polls
            assert polls >= 6  # it kept polling through 30 s of failures
            await asyncio.sleep(5.5)
            # the poll due next, and possibly one still retrying when the faults stopped
            assert polls + 1 <= tracker.snapshot().polls <= polls + 2
            assert picture(tracker.snapshot()) == await truth(kf)
            assert len(tracker.snapshot().open_orders) == 20

    run_virtual(scenario)


# --- the dead man's switch ----------------------------------------------------------------


async def _rest_orders(kf: Session, ledger: Ledger, count: int) -> set[str]:
    price = far_bid(ledger)
    results = [
        await kf.orders.send(symbol="PF_XBTUSD", side="buy", size=XBT_STEP, limit_price=price)
        for _ in range(count)
    ]
    return {r.order_id for r in results if r.order_id is not None}


def test_refreshes_keep_orders_alive_and_closing_the_session_disarms_the_switch() -> None:
    twin, ledger = quiet_twin(SEED)

    async def scenario() -> None:
        async with session(twin) as kf:
            ids = await _rest_orders(kf, ledger, 5)
            switch = await kf.dead_mans_switch(cancel_after=60, interval=20.0)
            await asyncio.sleep(610.0)  # ten times the timeout
            assert set(await truth(kf)) == ids
            assert switch.refreshes == 1 + 30  # armed at 0, refreshed at 20, 40, ... 600
            assert switch.failures == 0
        assert not switch.running
        assert switch.last_status is not None
        # disarmed on close: long after its timeout the orders are still there
        await asyncio.sleep(300.0)
        async with session(twin) as kf:
            assert set(await truth(kf)) == ids

    run_virtual(scenario)


def test_when_refreshes_stop_the_twin_cancels_every_order() -> None:
    twin, ledger = quiet_twin(SEED)

    async def scenario() -> None:
        async with session(twin) as kf:
            await _rest_orders(kf, ledger, 5)
            switch = await kf.dead_mans_switch(cancel_after=60, interval=20.0)
            await asyncio.sleep(30.0)
            await switch.stop(disarm=False)  # the service dies without a word
            await asyncio.sleep(49.0)
            assert len(await truth(kf)) == 5  # 59 s after the last refresh (at 20 s)
            await asyncio.sleep(2.0)
            assert await truth(kf) == {}

    run_virtual(scenario)


def test_refreshes_that_keep_failing_let_the_switch_fire() -> None:
    twin, ledger = quiet_twin(SEED)

    async def scenario() -> None:
        async with session(twin) as kf:
            await _rest_orders(kf, ledger, 3)
            switch = await kf.dead_mans_switch(cancel_after=60, interval=20.0)
            twin.faults.add(FaultKind.DROP_BEFORE, "cancel_all_orders_after")
            await asyncio.sleep(59.0)
            assert len(await truth(kf)) == 3
            await asyncio.sleep(2.0)
            assert await truth(kf) == {}
            # failed refreshes are retried every quarter interval, not left to the next tick
            assert switch.failures >= 7
            assert switch.refreshes == 1

    run_virtual(scenario)


def test_refreshes_under_faults_keep_orders_alive() -> None:
    """A fifth of the refreshes fail; quick retries keep the switch armed all the same."""
    twin, ledger = quiet_twin(SEED)

    async def scenario() -> None:
        async with session(twin) as kf:
            ids = await _rest_orders(kf, ledger, 3)
            switch = await kf.dead_mans_switch(cancel_after=60, interval=20.0)
            for rule in fault_rules("cancel_all_orders_after"):
                twin.faults.add(rule)
            await asyncio.sleep(1800.0)
            assert switch.failures >= 5
            twin.faults.clear()
            assert set(await truth(kf)) == ids

    run_virtual(scenario)
