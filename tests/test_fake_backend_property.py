"""A property over an in-memory backend: whatever answers are lost, no order is placed twice,
and every send ends with the truth or with OrderStatusUnknownError naming the order."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Literal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kraken_futures_async import OrderRejectedError, OrderStatusUnknownError, Session
from kraken_futures_async.models import OrderRequestStatus, SendOrderResult
from kraken_futures_async.operations import catalog as ops
from kraken_futures_async.retry import OrderSafety
from kraken_futures_async.safety import LATE

from .fake_backend import FakeBackend
from .virtual_clock import run_virtual

WINDOW = 1.0
PATIENCE = 8.0

Fault = Literal["lost-after", "lost-before", "late", "stalled-short", "stalled-long"]
FAULTS: tuple[Fault, ...] = ("lost-after", "lost-before", "late", "stalled-short", "stalled-long")
Outcome = SendOrderResult | OrderStatusUnknownError | OrderRejectedError


def _inject(fake: FakeBackend, faults: list[Fault]) -> None:
    for fault in faults:
        if fault == "late":
            fake.delay_next(ops.SEND_ORDER, WINDOW + 0.5)
        elif fault == "stalled-short":
            fake.stall(ops.SEND_ORDER, arrives_after=WINDOW * 0.6)
        elif fault == "stalled-long":
            fake.stall(ops.SEND_ORDER, arrives_after=WINDOW * 1.5)
        else:
            fake.lose_answers(ops.SEND_ORDER, applied=fault == "lost-after")


def run_sends(
    faults: list[Fault], takers: list[bool], lookup_failures: int, latency: float
) -> tuple[FakeBackend, list[Outcome]]:
    """Send one order per entry of ``takers`` at once (a taker crosses the mark and fills at
    once, so no open order keeps its client order id in use against a duplicate)."""
    fake = FakeBackend(latency=latency)
    _inject(fake, faults)
    fake.fail_lookups(lookup_failures)
    safety = OrderSafety(process_before=WINDOW, patience=PATIENCE, poll_interval=0.25)

    async def send(kf: Session, i: int) -> Outcome:
        price = 60_000 + i if takers[i] else 40_000 + i
        try:
            return await kf.orders.send(
                symbol="PF_XBTUSD", side="buy", size=1, limit_price=price, cli_ord_id=f"p{i}"
            )
        except (OrderStatusUnknownError, OrderRejectedError) as exc:
            return exc

    async def scenario() -> list[Outcome]:
        async with Session(backend=fake, order_safety=safety) as kf:
            await kf.instrument_rules.load()
            outcomes = await asyncio.gather(*(send(kf, i) for i in range(len(takers))))
            await asyncio.sleep(WINDOW * 2)  # every stalled attempt lands (or is refused)
            return list(outcomes)

    outcomes, _ = run_virtual(scenario)
    return fake, outcomes


@settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    faults=st.lists(st.sampled_from(FAULTS), max_size=6),
    takers=st.lists(st.booleans(), min_size=1, max_size=4),
    lookup_failures=st.integers(0, 40),
    latency=st.sampled_from([0.0, 0.05, 0.3]),
)
def test_lost_answers_never_place_an_order_twice_and_every_send_ends_truthfully(
    faults: list[Fault], takers: list[bool], lookup_failures: int, latency: float
) -> None:
    fake, outcomes = run_sends(faults, takers, lookup_failures, latency)
    placed = Counter(o.cli_ord_id for o in fake.exchange.placements)
    assert max(placed.values(), default=0) <= 1, placed
    for i, outcome in enumerate(outcomes):
        cli = f"p{i}"
        mine = fake.exchange.by_cli(cli)
        if isinstance(outcome, SendOrderResult):
            # the truth: the order the exchange holds, reported as placed
            [order] = mine
            assert (outcome.order_id, outcome.cli_ord_id) == (order.order_id, cli)
            filled = order.state == "FULLY_EXECUTED"
            assert filled == takers[i]
            assert outcome.status is (
                OrderRequestStatus.FILLED if filled else OrderRequestStatus.PLACED
            )
        elif isinstance(outcome, OrderStatusUnknownError):
            assert outcome.cli_ord_id == cli
        else:
            # only a truthful refusal: the library's own deadline missed every time, nothing placed
            assert outcome.status == LATE
            assert mine == []


def test_the_property_sees_the_faults_it_injects() -> None:
    """The property is not vacuous: its faults make lost answers, re-sends and unknowns."""
    fake, outcomes = run_sends(["stalled-long", "stalled-short"], [False, True], 0, 0.05)
    assert sorted(c.outcome for c in fake.log if c.operation == "send_order") == [
        "answered",
        "lost",
        "lost-refused",
    ]
    assert all(isinstance(o, SendOrderResult) for o in outcomes)
    fake, outcomes = run_sends(["lost-before", "lost-after"], [False, False], 0, 0.05)
    assert [c.outcome for c in fake.log if c.operation == "send_order"].count("dropped") == 1
    assert [c.outcome for c in fake.log if c.operation == "send_order"].count("lost") == 1
    assert fake.calls["send_order"] == 3
    assert all(isinstance(o, SendOrderResult) for o in outcomes)
    fake, outcomes = run_sends(["lost-after"], [False], 1000, 0.0)
    assert isinstance(outcomes[0], OrderStatusUnknownError)
    assert len(fake.exchange.placements) == 1
    fake, outcomes = run_sends(["late"] * 3, [True], 0, 0.0)
    assert isinstance(outcomes[0], OrderRejectedError)
    assert fake.exchange.placements == []
