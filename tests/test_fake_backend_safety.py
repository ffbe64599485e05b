"""Order safety over an in-memory backend: lost answers are reconciled through the backend's
order lookup, never by sending twice, on the fake exchange's virtual clock."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

import pytest

from kraken_futures_async import (
    OrderRejectedError,
    OrderStatusUnknownError,
    RequestTimeoutError,
    Session,
    TransportError,
)
from kraken_futures_async.models import (
    CancelOrderResult,
    EditOrderResult,
    OrderRequestStatus,
    SendOrderResult,
)
from kraken_futures_async.operations import catalog as ops
from kraken_futures_async.retry import OrderSafety
from kraken_futures_async.safety import LATE

from .fake_backend import START, Call, FakeBackend
from .virtual_clock import run_virtual

WINDOW = 2.0
PATIENCE = 30.0
POLL = 0.5


def session(fake: FakeBackend, *, window: float | None = WINDOW) -> Session:
    safety = OrderSafety(process_before=window, patience=PATIENCE, poll_interval=POLL)
    return Session(backend=fake, order_safety=safety)


async def buy(
    kf: Session, cli: str = "c1", process_before: dt.datetime | None = None
) -> SendOrderResult:
    return await kf.orders.send(
        symbol="PF_XBTUSD",
        side="buy",
        size=1,
        limit_price=40_000,
        cli_ord_id=cli,
        process_before=process_before,
    )


def sends(fake: FakeBackend) -> list[Call]:
    return [c for c in fake.log if c.operation == "send_order"]


def test_a_send_whose_answer_is_lost_after_placing_resolves_to_the_placed_order() -> None:
    fake = FakeBackend(latency=0.05)
    fake.lose_answers(ops.SEND_ORDER, applied=True)

    async def scenario() -> SendOrderResult:
        async with session(fake) as kf:
            return await buy(kf)

    result, elapsed = run_virtual(scenario)
    [placed] = fake.exchange.placements
    assert result.status is OrderRequestStatus.PLACED
    assert (result.order_id, result.cli_ord_id) == (placed.order_id, "c1")
    assert fake.calls["send_order"] == 1
    assert [c.outcome for c in sends(fake)] == ["lost"]
    assert fake.lookups["status"] == 1
    assert elapsed < 1  # found at once: nothing to wait for


@pytest.mark.parametrize("error", [RequestTimeoutError, TransportError])
def test_a_send_lost_before_placing_is_sent_again_only_after_its_deadline(
    error: type[TransportError],
) -> None:
    fake = FakeBackend(latency=0.05)
    fake.lose_answers(ops.SEND_ORDER, applied=False, error=error)

    async def scenario() -> SendOrderResult:
        async with session(fake) as kf:
            return await buy(kf)

    result, _ = run_virtual(scenario)
    first, second = sends(fake)
    assert (first.outcome, second.outcome) == ("dropped", "answered")
    assert first.deadline is not None
    assert second.deadline is not None
    assert first.deadline == first.sent_at + dt.timedelta(seconds=WINDOW)
    # re-sent only once the first attempt could no longer land, re-stamped for itself
    assert second.sent_at > first.deadline
    assert second.deadline == second.sent_at + dt.timedelta(seconds=WINDOW)
    # ... and only after a lookup that began past that deadline found nothing
    assert any(
        kind == "status" and first.deadline < when <= second.sent_at
        for kind, when in fake.lookup_times
    )
    [placed] = fake.exchange.placements
    assert result.order_id == placed.order_id
    assert result.status is OrderRequestStatus.PLACED
    assert fake.exchange.late_refusals == []


def test_a_stalled_send_landing_before_its_deadline_is_found_and_not_sent_again() -> None:
    fake = FakeBackend(latency=0.05)
    fake.stall(ops.SEND_ORDER, arrives_after=WINDOW * 0.75)

    async def scenario() -> SendOrderResult:
        async with session(fake) as kf:
            return await buy(kf)

    result, elapsed = run_virtual(scenario)
    [attempt] = sends(fake)
    [placed] = fake.exchange.placements
    assert attempt.outcome == "lost"
    assert attempt.arrived_at == attempt.sent_at + dt.timedelta(seconds=WINDOW * 0.75)
    assert result.order_id == placed.order_id
    assert elapsed >= WINDOW * 0.75  # it kept looking until the order showed


def test_a_stalled_send_landing_after_its_deadline_is_refused_there_and_placed_once() -> None:
    fake = FakeBackend(latency=0.05)
    fake.stall(ops.SEND_ORDER, arrives_after=WINDOW + 3)

    async def scenario() -> SendOrderResult:
        async with session(fake) as kf:
            result = await buy(kf)
            await asyncio.sleep(WINDOW + 3)  # until the stalled attempt has landed
            return result

    result, _ = run_virtual(scenario)
    resend, stalled = sorted(sends(fake), key=lambda c: c.arrived_at or START)
    assert stalled.outcome == "lost-refused"
    assert stalled.deadline is not None
    assert stalled.arrived_at is not None
    assert stalled.arrived_at > stalled.deadline
    assert [when for _, when in fake.exchange.late_refusals] == [stalled.arrived_at]
    assert resend.outcome == "answered"
    assert resend.sent_at > stalled.deadline
    [placed] = fake.exchange.placements
    assert result.order_id == placed.order_id


def test_a_callers_process_before_is_never_moved_and_a_miss_is_a_late_refusal() -> None:
    fake = FakeBackend(latency=0.05)
    fake.lose_answers(ops.SEND_ORDER, applied=False)
    deadline = START + dt.timedelta(seconds=3)

    async def scenario() -> OrderRejectedError:
        async with session(fake) as kf:
            with pytest.raises(OrderRejectedError) as refused:
                await buy(kf, process_before=deadline)
            return refused.value

    refusal, elapsed = run_virtual(scenario)
    assert refusal.status == LATE
    assert refusal.cli_ord_id == "c1"
    assert [c.deadline for c in sends(fake)] == [deadline]
    assert fake.exchange.placements == []
    assert elapsed > 3  # decided by a lookup after the deadline, not before


def test_a_callers_deadline_missed_on_arrival_is_refused_and_not_sent_again() -> None:
    fake = FakeBackend(latency=0.05)
    fake.delay_next(ops.SEND_ORDER, 5.0)

    async def scenario() -> OrderRejectedError:
        async with session(fake) as kf:
            with pytest.raises(OrderRejectedError) as refused:
                await buy(kf, process_before=kf.server_now() + dt.timedelta(seconds=1))
            return refused.value

    refusal, _ = run_virtual(scenario)
    assert refusal.status == OrderRequestStatus.WOULD_PROCESS_AFTER_SPECIFIED_TIME.value
    assert fake.calls["send_order"] == 1
    assert [op for op, _ in fake.exchange.late_refusals] == ["send_order"]
    assert fake.exchange.placements == []


def test_the_librarys_own_deadline_missed_in_transit_is_stamped_afresh_and_sent_again() -> None:
    fake = FakeBackend(latency=0.05)
    fake.delay_next(ops.SEND_ORDER, WINDOW + 1)

    async def scenario() -> SendOrderResult:
        async with session(fake) as kf:
            return await buy(kf)

    result, _ = run_virtual(scenario)
    first, second = sends(fake)
    assert (first.outcome, second.outcome) == ("refused", "answered")
    assert first.deadline is not None
    assert second.deadline is not None
    assert first.arrived_at is not None
    assert first.arrived_at > first.deadline
    assert second.deadline > first.deadline
    assert result.order_id == fake.exchange.placements[0].order_id
    assert len(fake.exchange.placements) == 1


def test_a_clock_estimate_too_far_behind_gives_up_after_three_late_refusals() -> None:
    fake = FakeBackend(latency=0.05, clock_lag=WINDOW + 1)

    async def scenario() -> OrderRejectedError:
        async with session(fake) as kf:
            with pytest.raises(OrderRejectedError) as refused:
                await buy(kf)
            return refused.value

    refusal, _ = run_virtual(scenario)
    assert refusal.status == LATE
    assert fake.calls["send_order"] == 3
    assert len(fake.exchange.late_refusals) == 3
    assert fake.exchange.placements == []


def test_an_edit_whose_answer_is_lost_after_applying_is_found_applied() -> None:
    fake = FakeBackend(latency=0.05)

    async def scenario() -> EditOrderResult:
        async with session(fake) as kf:
            await buy(kf)
            fake.lose_answers(ops.EDIT_ORDER, applied=True)
            return await kf.orders.edit(cli_ord_id="c1", limit_price=41_000, size=2)

    result, _ = run_virtual(scenario)
    [order] = fake.exchange.placements
    assert result.status is OrderRequestStatus.EDITED
    assert result.order_id == order.order_id
    assert (order.limit_price, order.size) == (Decimal(41_000), Decimal(2))
    assert fake.calls["edit_order"] == 1


def test_an_edit_lost_before_arriving_is_sent_again_after_its_deadline() -> None:
    fake = FakeBackend(latency=0.05)

    async def scenario() -> EditOrderResult:
        async with session(fake) as kf:
            await buy(kf)
            fake.lose_answers(ops.EDIT_ORDER, applied=False)
            return await kf.orders.edit(cli_ord_id="c1", limit_price=41_000)

    result, _ = run_virtual(scenario)
    first, second = [c for c in fake.log if c.operation == "edit_order"]
    assert (first.outcome, second.outcome) == ("dropped", "answered")
    assert first.deadline is not None
    assert second.sent_at > first.deadline
    assert result.status is OrderRequestStatus.EDITED
    assert fake.exchange.placements[0].limit_price == Decimal(41_000)


def test_an_edit_of_an_order_filled_meanwhile_is_refused_not_applied() -> None:
    fake = FakeBackend(latency=0.05)

    async def scenario() -> OrderRejectedError:
        async with session(fake) as kf:
            await buy(kf)
            fake.lose_answers(ops.EDIT_ORDER, applied=False)
            fake.fill("c1", 1, 40_000)
            with pytest.raises(OrderRejectedError) as refused:
                await kf.orders.edit(cli_ord_id="c1", limit_price=41_000)
            return refused.value

    refusal, _ = run_virtual(scenario)
    assert refusal.status == OrderRequestStatus.ORDER_FOR_EDIT_NOT_FOUND.value
    assert fake.calls["edit_order"] == 1
    assert fake.exchange.placements[0].limit_price == Decimal(40_000)


@pytest.mark.parametrize("applied", [True, False], ids=["after", "before"])
def test_a_cancel_whose_answer_is_lost_is_confirmed(applied: bool) -> None:
    fake = FakeBackend(latency=0.05)

    async def scenario() -> CancelOrderResult:
        async with session(fake) as kf:
            placed = await buy(kf)
            fake.lose_answers(ops.CANCEL_ORDER, applied=applied)
            return await kf.orders.cancel(order_id=placed.order_id)

    result, _ = run_virtual(scenario)
    [order] = fake.exchange.placements
    assert result.status is OrderRequestStatus.CANCELLED
    assert result.order_id == order.order_id
    assert order.state == "CANCELLED"
    cancels = [c.outcome for c in fake.log if c.operation == "cancel_order"]
    assert cancels == (["lost", "refused"] if applied else ["dropped", "answered"])


def test_a_cancel_whose_repeats_miss_the_callers_deadline_is_still_confirmed() -> None:
    """The first attempt cancelled the order; the repeats' answers are lost until the status
    forgets the closed order and a repeat is refused as late: still cancelled."""
    fake = FakeBackend(latency=0.05)

    async def scenario() -> CancelOrderResult:
        async with session(fake) as kf:
            placed = await buy(kf)
            fake.lose_answers(ops.CANCEL_ORDER, 14, applied=True)
            deadline = kf.server_now() + dt.timedelta(seconds=3)
            return await kf.orders.cancel(order_id=placed.order_id, process_before=deadline)

    result, _ = run_virtual(scenario)
    [order] = fake.exchange.placements
    assert order.state == "CANCELLED"
    assert result.status is OrderRequestStatus.CANCELLED
    assert result.order_id == order.order_id


@pytest.mark.parametrize("applied", [True, False], ids=["placed", "never-arrived"])
def test_lookups_failing_until_patience_runs_out_raise_status_unknown(applied: bool) -> None:
    fake = FakeBackend(latency=0.05)
    fake.lose_answers(ops.SEND_ORDER, applied=applied)
    fake.fail_lookups()

    async def scenario() -> OrderStatusUnknownError:
        async with session(fake) as kf:
            with pytest.raises(OrderStatusUnknownError) as unknown:
                await buy(kf, cli="lost-1")
            return unknown.value

    error, elapsed = run_virtual(scenario)
    assert error.cli_ord_id == "lost-1"
    assert error.endpoint == "send_order"
    assert PATIENCE <= elapsed < PATIENCE + 2
    assert fake.calls["send_order"] == 1  # never sent again without proof
    assert len(fake.exchange.placements) == (1 if applied else 0)
    assert fake.lookups["status"] >= PATIENCE / (POLL + 0.05) - 2  # it kept looking


def test_an_order_gone_from_the_status_is_found_in_the_exchanges_record() -> None:
    """Placed, cancelled by someone else, forgotten by the status: not sent again."""
    fake = FakeBackend(latency=0.05)
    fake.lose_answers(ops.SEND_ORDER, applied=True)
    fake.fail_lookups(20)  # ten seconds of failing lookups: the status forgets the order

    async def scenario() -> SendOrderResult:
        async with session(fake) as kf:

            async def someone_cancels() -> None:
                await asyncio.sleep(0.5)
                fake.exchange.cancel_all(None, fake.now(), "cancelled_by_admin")

            other = asyncio.create_task(someone_cancels())
            result = await buy(kf)
            await other
            return result

    result, _ = run_virtual(scenario)
    [order] = fake.exchange.placements
    assert order.state == "CANCELLED"
    assert result.status is OrderRequestStatus.PLACED
    assert result.order_id == order.order_id
    assert fake.lookups["recorded"] == 1
    assert fake.calls["send_order"] == 1


def test_an_order_part_filled_then_forgotten_by_the_status_is_found_by_its_fills() -> None:
    fake = FakeBackend(latency=0.05)
    fake.lose_answers(ops.SEND_ORDER, applied=True)
    fake.fail_lookups(20)

    async def scenario() -> SendOrderResult:
        async with session(fake) as kf:

            async def counterparty() -> None:
                await asyncio.sleep(0.5)
                fake.fill("c1", Decimal("0.4"), 40_000)
                fake.exchange.cancel_all(None, fake.now(), "cancelled_by_user")

            other = asyncio.create_task(counterparty())
            result = await buy(kf)
            await other
            return result

    result, _ = run_virtual(scenario)
    [order] = fake.exchange.placements
    assert order.state == "CANCELLED"
    assert result.status is OrderRequestStatus.PARTIALLY_FILLED
    assert result.order_id == order.order_id
    assert fake.lookups["fills"] >= 1
    assert fake.lookups["recorded"] == 0
    assert fake.calls["send_order"] == 1
