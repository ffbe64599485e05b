"""``Session(shared_budget=...)`` on a served twin: the card's request bucket taken once the
shared window has room, nonces from Redis in the signatures, budgets and nonce per key."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from kraken_futures_async import RateLimitPolicy, Session
from kraken_futures_async.ratelimit import Budget
from kraken_futures_async.shared_budget import SharedBudget, SharedNonceSource
from kraken_futures_async.shared_budget.nonces import MODULUS
from kraken_futures_async.simulator import RunningTwin, Twin, TwinConfig, run_in_thread
from tests.shared_redis import RedisServer, redis_server

__all__ = ["redis_server"]


@pytest.fixture
def served() -> Iterator[RunningTwin]:
    running = run_in_thread(Twin(TwinConfig()), port=0)
    try:
        yield running
    finally:
        running.stop()


async def test_two_sessions_on_one_key_share_budget_and_nonce(
    redis_server: RedisServer, served: RunningTwin
) -> None:
    credentials = served.twin.credentials()

    def session() -> Session:
        # the card's policy: its private request bucket is taken once the window has room
        return Session(
            credentials,
            base_url=served.url,
            rate_limits=RateLimitPolicy.card(),
            shared_budget=SharedBudget(url=redis_server.url),
        )

    async with asyncio.timeout(60), session() as first, session() as second:
        await asyncio.gather(
            *(kf.account.open_positions() for kf in (first, second) for _ in range(10)),
            *(kf.orders.open() for kf in (first, second) for _ in range(5)),
        )
        sources = [kf.backend._nonces for kf in (first, second)]  # type: ignore[attr-defined]
        slots = {source._link.slot for source in sources}
        assert len(slots) == 2
        for kf, nonces in zip((first, second), sources, strict=True):
            usage = kf.limiter.usage()[Budget.DERIVATIVES]
            assert usage.units_admitted == 30
            # what this process last learnt of the shared window: both processes' units
            assert usage.in_window >= 30
            assert isinstance(nonces, SharedNonceSource)
            assert nonces.floor() % MODULUS not in slots  # drawn by Redis, not locally
    assert sum(served.twin.meter.refused.values()) == 0
