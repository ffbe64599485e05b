"""Issue 17: the order tracker and the dead man's switch outlive any failure of a call.

Before, a trickling server held their calls (and so the helpers) forever, and JSON nested
100,000 deep raised a bare RecursionError that ended their tasks without a word;
``Session.aclose()`` then raised it again and left the pool open. Now each failure is
counted in ``failures``, kept in ``last_error`` and logged, the task keeps running, and
closing the Session always closes the pool.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kraken_futures_async import (
    Credentials,
    RateLimitPolicy,
    RequestTimeoutError,
    ResponseInvalidError,
    RetryPolicy,
    Session,
)
from kraken_futures_async.deadman import DeadMansSwitch
from kraken_futures_async.tracker import OrderTracker
from tests.rest_access import rest

from .test_bounded_deadline import GUARD, loopback_session
from .test_bounded_support import HostileServer, kraken_json, plain, trickle, until

DEEP = b"[" * 100_000 + b"]" * 100_000

HEALTHY = {
    "openorders": kraken_json({"openOrders": []}),
    "openpositions": kraken_json({"openPositions": []}),
    "accounts": kraken_json({"accounts": {}}),
    "cancelallordersafter": kraken_json(
        {"status": {"currentTime": "2024-05-01T12:00:00Z", "triggerTime": "0"}}
    ),
}


async def test_the_helpers_survive_deep_nesting_and_the_session_closes_cleanly(
    credentials: Credentials,
) -> None:
    async with (
        asyncio.timeout(GUARD * 2),
        HostileServer(plain(DEEP), HEALTHY) as server,
        Session(
            credentials,
            base_url=server.url,
            rate_limits=RateLimitPolicy.unlimited(),
            retry=RetryPolicy(max_attempts=2, base_delay=0.01),
        ) as kf,
    ):
        tracker = await kf.track_orders(interval=0.05)
        switch = await kf.dead_mans_switch(cancel_after=60, interval=0.2)
        server.routes = {}  # every answer is nested 100,000 deep from now on
        await until(lambda: bool(tracker.failures and switch.failures))
        assert isinstance(tracker.last_error, ResponseInvalidError)
        assert isinstance(switch.last_error, ResponseInvalidError)
        assert tracker.running
        assert switch.running
        polls, refreshes = tracker.snapshot().polls, switch.refreshes
        server.routes = HEALTHY
        await until(lambda: tracker.snapshot().polls > polls and switch.refreshes > refreshes)
        client = rest(kf).client
    # leaving the block closed the Session without raising: helpers stopped, pool closed
    assert client.is_closed
    assert server.paths()[-1] == "cancelallordersafter"  # disarmed on the way out


class _Stubborn:
    """A helper whose stop fails."""

    async def stop(self) -> None:
        raise RuntimeError("cannot stop")


async def test_aclose_closes_the_pool_even_if_a_helper_fails_to_stop(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with HostileServer(kraken_json({"tickers": []})) as server:
        kf = Session(base_url=server.url, rate_limits=RateLimitPolicy.unlimited())
        async with kf:
            await kf.market.tickers()
            kf._helpers.append(_Stubborn())  # type: ignore[arg-type]
            client = rest(kf).client
        assert client.is_closed
    assert "did not stop cleanly" in caplog.text
    assert "cannot stop" in caplog.text


async def test_the_helpers_keep_going_when_a_server_trickles(credentials: Credentials) -> None:
    async with (
        asyncio.timeout(GUARD * 2),
        HostileServer(trickle(0.1), HEALTHY) as server,
        loopback_session(server, credentials=credentials, deadline=0.3) as kf,
    ):
        tracker = await kf.track_orders(interval=0.05)
        switch = await kf.dead_mans_switch(cancel_after=60, interval=0.2)
        server.routes = {}  # from now on every answer trickles
        await until(lambda: bool(tracker.failures and switch.failures))
        assert isinstance(tracker.last_error, RequestTimeoutError)
        assert isinstance(switch.last_error, RequestTimeoutError)
        assert tracker.running
        assert switch.running
        polls, refreshes = tracker.snapshot().polls, switch.refreshes
        server.routes = HEALTHY
        await until(lambda: tracker.snapshot().polls > polls and switch.refreshes > refreshes)
    assert rest(kf).client.is_closed


class _Flaky:
    """Stand-in resources whose calls fail with a bug, not a library error, after the first."""

    def __init__(self) -> None:
        self.calls = 0
        self.orders = self
        self.account = self

    async def _answer(self, value: Any) -> Any:
        self.calls += 1
        if self.calls > 3:
            raise ZeroDivisionError("a bug somewhere below")
        return value

    async def cancel_all_after(self, seconds: int) -> Any:
        return await self._answer(None)

    async def open(self) -> Any:
        return await self._answer([])

    async def open_positions(self) -> Any:
        return await self._answer([])

    async def accounts(self) -> Any:
        return await self._answer(None)


async def test_an_unexpected_exception_is_recorded_and_the_helpers_go_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tracker_resources, switch_resources = _Flaky(), _Flaky()
    tracker = OrderTracker(tracker_resources, interval=0.01)
    switch = DeadMansSwitch(switch_resources, cancel_after=60, interval=0.04)  # type: ignore[arg-type]
    async with asyncio.timeout(GUARD):
        await tracker.start()
        await switch.start()
        await until(lambda: tracker.failures >= 2 and switch.failures >= 2)
        assert isinstance(tracker.last_error, ZeroDivisionError)
        assert isinstance(switch.last_error, ZeroDivisionError)
        assert tracker.running
        assert switch.running
        await tracker.stop()
        await switch.stop(disarm=False)
    assert "order tracker poll failed unexpectedly" in caplog.text
    assert "ZeroDivisionError" in caplog.text
