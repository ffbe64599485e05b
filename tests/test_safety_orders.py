"""Proofs against the twin: under a fifth of requests failing, no order is doubled or lost.

Everything runs on virtual time (the twin's clock is the loop's), so minutes of exchange time
with timeouts, backoff, rate-limit waits and reconciliation take seconds. The twin's engine
is wrapped in a :class:`Ledger` that records every order request it assessed: the truth the
caller's outcomes are compared with.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import time
from collections import Counter
from decimal import Decimal

import attrs
import pytest

from kraken_futures_async import (
    KrakenFuturesError,
    OrderRejectedError,
    OrderStatusUnknownError,
    RateLimitPolicy,
    Session,
)
from kraken_futures_async.models import OrderRequestStatus, SendOrderResult
from kraken_futures_async.retry import OrderSafety, RetryPolicy
from kraken_futures_async.safety import LATE
from kraken_futures_async.simulator import FaultKind, Twin

from .test_safety_support import (
    Ledger,
    Outcome,
    client_timeout,
    faulty_twin,
    order_arguments,
    quiet_twin,
)
from .virtual_clock import run_virtual

SEED = 20261124
SUBMISSIONS = 1000
WORKERS = 16
#: The library's default window; a deadline long enough to outlast several ambiguous
#: attempts in a row, each behind rate-limit cool-downs (10 s after every apiLimitExceeded).
SAFETY = OrderSafety(process_before=10.0, patience=300.0, poll_interval=1.0)


def retry_policy(seed: int = SEED) -> RetryPolicy:
    """8 attempts: at a 20 % fault rate a read fails for good about once in 400,000."""
    return RetryPolicy(max_attempts=8, base_delay=0.1, max_delay=2.0, seed=seed)


def safe_session(twin: Twin, seed: int = SEED) -> Session:
    return twin.session(retry=retry_policy(seed), order_safety=SAFETY, timeout=client_timeout(5.0))


async def submit_all(
    kf: Session, ledger: Ledger, count: int, workers: int, seed: int
) -> list[Outcome]:
    rng = random.Random(seed)
    pending = list(range(count))
    outcomes: list[Outcome] = []

    async def worker() -> None:
        while pending:
            args = order_arguments(rng, ledger, pending.pop(0))
            try:
                result = await kf.orders.send(**args)
            except Exception as exc:  # every kind is recorded; the test judges them
                outcomes.append(Outcome(args["cli_ord_id"], error=exc))
            else:
                outcomes.append(Outcome(args["cli_ord_id"], result=result))

    await asyncio.gather(*(worker() for _ in range(workers)))
    return outcomes


@attrs.frozen
class StressReport:
    outcomes: list[Outcome]
    ledger: Ledger
    twin: Twin
    real_seconds: float
    virtual_seconds: float

    @property
    def errors(self) -> list[BaseException]:
        return [o.error for o in self.outcomes if o.error is not None]

    def summary(self) -> str:
        placements = self.ledger.placements()
        send_faults = Counter(
            e.kind.value for e in self.twin.faults.events if e.operation == "send_order"
        )
        unknown = sum(isinstance(e, OrderStatusUnknownError) for e in self.errors)
        return (
            f"submissions={len(self.outcomes)} real={self.real_seconds:.1f}s "
            f"virtual={self.virtual_seconds:.0f}s "
            f"sends_at_engine={len(self.ledger.of('send_order'))} "
            f"placed={sum(placements.values())} "
            f"rejected={sum(isinstance(e, OrderRejectedError) for e in self.errors)} "
            f"duplicates={sum(n > 1 for n in placements.values())} unknown={unknown}\n"
            f"send faults: {dict(send_faults)}\n"
            f"all faults: { {k.value: n for k, n in self.twin.faults.counts.items()} }"
        )


def run_stress(
    seed: int = SEED, submissions: int = SUBMISSIONS, workers: int = WORKERS
) -> StressReport:
    twin, ledger = faulty_twin(seed=seed)

    async def scenario() -> list[Outcome]:
        async with safe_session(twin, seed) as kf:
            await kf.account.accounts()  # learn the exchange's clock
            return await submit_all(kf, ledger, submissions, workers, seed)

    started = time.perf_counter()
    outcomes, virtual = run_virtual(scenario)
    return StressReport(outcomes, ledger, twin, time.perf_counter() - started, virtual)


def test_a_thousand_orders_under_faults_none_doubled_none_lost() -> None:
    report = run_stress()
    print("\n" + report.summary())
    outcomes, ledger, twin = report.outcomes, report.ledger, report.twin
    assert len(outcomes) == SUBMISSIONS
    errors = report.errors
    foreign = [e for e in errors if not isinstance(e, KrakenFuturesError)]
    unknown = [e for e in errors if isinstance(e, OrderStatusUnknownError)]
    other = [e for e in errors if not isinstance(e, OrderRejectedError | OrderStatusUnknownError)]
    placements = ledger.placements()
    duplicates = {cli: n for cli, n in placements.items() if n > 1}
    resent_while_open = [
        r for r in ledger.of("send_order") if r.status == "clientOrderIdAlreadyExist"
    ]
    send_faults = Counter(e.kind for e in twin.faults.events if e.operation == "send_order")
    assert foreign == []
    assert unknown == []
    assert other == []
    # the library's own processBefore never cost the caller an order: it starts when the
    # request leaves, and a miss is re-sent under a new one
    assert not [e for e in errors if isinstance(e, OrderRejectedError) and e.status == LATE]
    assert duplicates == {}
    assert resent_while_open == []
    # the caller's belief matches the exchange's book, order by order
    for outcome in outcomes:
        if outcome.result is not None:
            assert placements[outcome.cli_ord_id] == 1, outcome
            placed = [
                r
                for r in ledger.of("send_order")
                if r.cli_ord_id == outcome.cli_ord_id and r.status == "placed"
            ]
            assert outcome.result.order_id == placed[0].order_id
            assert outcome.result.cli_ord_id == outcome.cli_ord_id
        else:
            assert placements[outcome.cli_ord_id] == 0, outcome
    # and the faults really were mixed in, every kind many times over, on orders themselves
    fault_rate = sum(send_faults.values()) / len(ledger.of("send_order"))
    assert 0.1 < fault_rate < 0.3
    for kind in (
        FaultKind.DROP_BEFORE,
        FaultKind.DROP_AFTER,
        FaultKind.SERVER_ERROR,
        FaultKind.SLOW_RESPONSE,
        FaultKind.MALFORMED,
    ):
        assert send_faults[kind] >= 15, kind


def bury_an_order(spacing: float) -> tuple[SendOrderResult | BaseException, Ledger]:
    """Send an order whose answer times out while 150 other fills bury its own fill.

    By the time it is looked up, ``orders/status`` has forgotten it (closed orders show for a
    few seconds) and the latest page of fills no longer holds it. The other fills come
    ``spacing`` seconds apart.
    """
    twin, ledger = quiet_twin(SEED)
    flooder = twin.issue_key()

    async def scenario() -> SendOrderResult | BaseException:
        async with (
            twin.session(
                retry=retry_policy(),
                order_safety=OrderSafety(process_before=10.0, patience=30.0),
                timeout=client_timeout(5.0),
            ) as kf,
            twin.session(flooder, rate_limits=RateLimitPolicy.unlimited()) as other,
        ):
            await kf.account.accounts()
            ask = ledger.inner.mark_price("PF_XBTUSD") * Decimal("1.005")
            twin.faults.add(FaultKind.SLOW_RESPONSE, "send_order", times=1, delay=60.0)
            twin.faults.add(FaultKind.LATENCY, "order_status", delay=0.5)

            async def flood() -> None:
                await asyncio.sleep(1.0)
                for i in range(150):
                    await asyncio.sleep(spacing)
                    await other.orders.send(
                        symbol="PF_XBTUSD",
                        side="sell" if i % 2 else "buy",
                        size=Decimal("0.0001"),
                        order_type="mkt",
                    )

            flooding = asyncio.create_task(flood())
            try:
                return await kf.orders.send(
                    symbol="PF_XBTUSD",
                    side="buy",
                    size=Decimal("0.0002"),
                    order_type="ioc",
                    limit_price=ask.quantize(Decimal(1)),
                    cli_ord_id="buried",
                )
            except KrakenFuturesError as exc:
                return exc
            finally:
                await flooding
                latest = await kf.orders.fills()
                assert "buried" not in {fill.cli_ord_id for fill in latest}

    outcome, _ = run_virtual(scenario)
    return outcome, ledger


def test_an_executed_order_pushed_off_the_latest_fills_page_is_found_not_resent() -> None:
    """Paging back through the fills to the moment it was sent proves it executed."""
    result, ledger = bury_an_order(spacing=0.02)
    assert isinstance(result, SendOrderResult)
    assert result.status is OrderRequestStatus.FILLED
    assert ledger.placements()["buried"] == 1
    assert len([r for r in ledger.of("send_order") if r.cli_ord_id == "buried"]) == 1
    assert result.order_id == ledger.of("send_order")[0].order_id


def test_fills_that_cannot_be_paged_past_leave_the_order_unknown_never_resent() -> None:
    """150 fills in one millisecond: no page boundary gets past them, so absence is unproven."""
    error, ledger = bury_an_order(spacing=0.0)
    assert isinstance(error, OrderStatusUnknownError)
    assert error.cli_ord_id == "buried"
    assert "buried" in str(error)
    assert len([r for r in ledger.of("send_order") if r.cli_ord_id == "buried"]) == 1


@pytest.mark.parametrize("kind", [FaultKind.DROP_BEFORE, FaultKind.SERVER_ERROR])
def test_a_callers_own_deadline_is_kept_an_unsent_order_is_refused_not_resent(
    kind: FaultKind,
) -> None:
    """The caller said "not after P": once the order provably missed P, it stays unsent."""
    twin, ledger = quiet_twin(SEED)

    async def scenario() -> BaseException | None:
        async with safe_session(twin) as kf:
            await kf.account.accounts()
            twin.faults.add(kind, "send_order", times=1)
            deadline = kf.server_now() + dt.timedelta(seconds=3)
            try:
                await kf.orders.send(
                    symbol="PF_XBTUSD",
                    side="buy",
                    size=Decimal("0.0001"),
                    limit_price=Decimal(1000),
                    cli_ord_id="with-deadline",
                    process_before=deadline,
                )
            except KrakenFuturesError as exc:
                return exc
            return None

    error, elapsed = run_virtual(scenario)
    assert isinstance(error, OrderRejectedError)
    assert error.status == "wouldProcessAfterSpecifiedTime"
    assert error.cli_ord_id == "with-deadline"
    assert ledger.of("send_order") == []  # the engine never saw it
    assert 3 <= elapsed < 10
