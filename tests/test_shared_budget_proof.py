"""The proof of issue 14, shortened for the suite: four OS processes on one key, one Redis.

Each process sends orders and reads as fast as the library lets it, and now and then a
cancel, against a served twin that meters the key's budget and checks its nonces. The
issue's runs last 20 s (Redis stopped 5 s); the suite runs 6 s (Redis stopped 2 s) on a
budget of 250 units per second (five times Kraken's rate, in one-second windows), so many
windows pass in a short run. ``python -m benchmarks.shared_budget`` runs the full 20 s runs
on Kraken's own budget.
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs
import pytest

from benchmarks.shared_budget import RunPlan, run_processes, serve_twin
from kraken_futures_async.simulator import RunningTwin
from tests.shared_redis import RedisServer, redis_server

__all__ = ["redis_server"]

# a 0.05 s margin on the window: loopback's jitter is far below it
PLAN = RunPlan(
    processes=4,
    seconds=6.0,
    capacity=250,
    period=1.0,
    margin=0.05,
    cancel_interval=2.4,
    loops=4,
)


@pytest.fixture
def twin() -> Iterator[RunningTwin]:
    running = serve_twin(PLAN)
    try:
        yield running
    finally:
        running.stop()


def test_four_processes_share_one_budget(redis_server: RedisServer, twin: RunningTwin) -> None:
    result = run_processes(PLAN, twin, redis_server)
    assert (result.refusals, result.nonce_errors, result.other_errors) == (0, 0, {}), result
    assert result.used >= 0.85, f"{100 * result.used:.1f} % of the budget used"
    assert result.cancels >= PLAN.processes
    assert result.cancel_max < 1.0, f"a cancel took {result.cancel_max:.3f} s"
    assert result.switch_logged == result.return_logged == 0


def test_four_processes_through_a_redis_outage(
    redis_server: RedisServer, twin: RunningTwin
) -> None:
    plan = attrs.evolve(PLAN, redis_pause=(2.0, 2.0))
    result = run_processes(plan, twin, redis_server)
    assert (result.refusals, result.nonce_errors, result.other_errors) == (0, 0, {}), result
    # every process noticed, said so, and said so again when Redis came back
    assert result.switch_logged == PLAN.processes
    assert result.return_logged == PLAN.processes
