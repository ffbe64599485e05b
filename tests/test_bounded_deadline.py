"""Issue 17: every call has one deadline, and a broken server cannot hold a call past it.

A server that trickles one byte every 0.1 s restarts httpx's read timeout forever; the call's
deadline covers the whole call (rate-limit wait, connect, send, read, every retry and
backoff). On real loopback sockets for the trickle; on virtual time against the twin for the
timer logic: what a deadline does to an order that already left (reconciled, never dropped
or blindly re-sent) and to one still queued in the rate limiter (nothing was sent).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from kraken_futures_async import (
    ConfigurationError,
    RateLimitPolicy,
    RequestTimeoutError,
    RetryPolicy,
    Session,
    UnavailableError,
    WindowLimit,
)
from kraken_futures_async.config import DEFAULT_DEADLINE, DEFAULT_MAX_RESPONSE_BYTES, Bounds
from kraken_futures_async.models import OrderRequestStatus
from kraken_futures_async.rest.transports import AiohttpTransport
from kraken_futures_async.simulator import FaultKind

from .test_bounded_support import HostileServer, trickle
from .test_safety_support import RecordingTransport, client_timeout, quiet_twin
from .virtual_clock import run_virtual

#: Real seconds a loopback test may take before it counts as hung (the old behaviour).
GUARD = 5.0
DEADLINE = 0.5
#: Generous: the deadline plus scheduling on a loaded machine.
SLACK = 1.5

TRANSPORTS = {
    "aiohttp": AiohttpTransport,
    "httpx": httpx.AsyncHTTPTransport,
}


def loopback_session(server: HostileServer, transport: str = "aiohttp", **kwargs: Any) -> Session:
    kwargs.setdefault("deadline", DEADLINE)
    kwargs.setdefault("timeout", httpx.Timeout(5.0))
    kwargs.setdefault("rate_limits", RateLimitPolicy.unlimited())
    return Session(base_url=server.url, transport=TRANSPORTS[transport](), **kwargs)


@pytest.fixture
async def trickling() -> AsyncIterator[HostileServer]:
    async with HostileServer(trickle(0.1)) as server:
        yield server


# --- on loopback sockets -------------------------------------------------------------------


@pytest.mark.parametrize("transport", sorted(TRANSPORTS))
async def test_a_trickling_answer_ends_at_the_deadline(
    trickling: HostileServer, transport: str
) -> None:
    async with asyncio.timeout(GUARD), loopback_session(trickling, transport) as kf:
        started = time.monotonic()
        with pytest.raises(RequestTimeoutError) as caught:
            await kf.market.orderbook("PF_XBTUSD")
        elapsed = time.monotonic() - started
    print(f"\n{transport}: RequestTimeoutError after {elapsed:.3f} s (deadline {DEADLINE} s)")
    assert DEADLINE <= elapsed < DEADLINE + SLACK
    error = caught.value
    assert "0.5 s deadline" in str(error)
    assert error.sent  # it left: a read may be asked again, an order would be looked up
    assert error.retry_safe  # the order book is a read
    assert error.endpoint == "orderbook"
    assert trickling.paths() == ["orderbook"]  # the deadline left no time for a retry


async def test_a_block_can_give_its_calls_another_deadline(trickling: HostileServer) -> None:
    async with asyncio.timeout(GUARD), loopback_session(trickling, deadline=30.0) as kf:
        started = time.monotonic()
        with kf.deadline(0.3), pytest.raises(RequestTimeoutError, match=r"0\.3 s deadline"):
            # tasks started inside the block inherit its deadline
            await asyncio.gather(kf.market.orderbook("PF_XBTUSD"), kf.market.tickers())
        assert time.monotonic() - started < 0.3 + SLACK
        assert kf._call_deadline.seconds() == 30.0  # only for that block
        with kf.deadline(None):
            assert kf._call_deadline.seconds() is None
            with kf.deadline(1.0):
                assert kf._call_deadline.seconds() == 1.0
            assert kf._call_deadline.seconds() is None
        assert kf._call_deadline.seconds() == 30.0
        with pytest.raises(ConfigurationError), kf.deadline(-1.0):
            pass


# --- on virtual time, against the twin -------------------------------------------------------


def test_a_server_that_never_answers_costs_the_deadline_not_four_timeouts() -> None:
    twin, _ = quiet_twin()
    twin.faults.add(FaultKind.SLOW_RESPONSE, "tickers", delay=3600.0)

    async def scenario() -> RequestTimeoutError:
        async with twin.session() as kf:  # the defaults: 10 s read timeout, 4 attempts
            with pytest.raises(RequestTimeoutError) as caught:
                await kf.market.tickers()
            return caught.value

    error, elapsed = run_virtual(scenario)
    assert elapsed == pytest.approx(DEFAULT_DEADLINE)  # not 4 x 10 s plus backoff
    assert "deadline" in str(error)
    assert twin.faults.fired("slow_response", "tickers") == 3  # at 0, ~10.2 and ~20.6 s


def test_an_order_whose_deadline_passed_after_sending_is_reconciled() -> None:
    twin, ledger = quiet_twin()
    transport = RecordingTransport(twin)
    twin.faults.add(FaultKind.SLOW_RESPONSE, "send_order", times=1, delay=60.0)
    price = (ledger.inner.mark_price("PF_XBTUSD") * Decimal("0.9")).quantize(Decimal(1))

    async def scenario() -> Any:
        # a read timeout longer than the deadline: the deadline is what ends the wait
        async with twin.session(
            deadline=2.0, timeout=client_timeout(100.0), transport=transport
        ) as kf:
            return await kf.orders.send(
                symbol="PF_XBTUSD",
                side="buy",
                size=Decimal("0.0001"),
                limit_price=price,
                cli_ord_id="late-answer",
            )

    result, elapsed = run_virtual(scenario)
    assert result.status is OrderRequestStatus.PLACED
    assert result.cli_ord_id == "late-answer"
    # placed once: looked up by its client order id, not sent again
    assert ledger.placements()["late-answer"] == 1
    assert len(ledger.of("send_order")) == 1
    assert "/derivatives/api/v3/orders/status" in transport.paths
    assert elapsed < 60.0  # it did not wait for the slow answer


def _one_order_budget() -> RateLimitPolicy:
    """Room for one order (cost 10) per minute, nothing else metered."""
    return RateLimitPolicy(
        public_requests=None,
        private_requests=None,
        derivatives_budget=WindowLimit(10, 60.0),
        history_budget=None,
        reserve=0.0,
    )


def test_an_order_still_queued_at_its_deadline_was_never_sent() -> None:
    twin, ledger = quiet_twin()
    transport = RecordingTransport(twin)
    price = (ledger.inner.mark_price("PF_XBTUSD") * Decimal("0.9")).quantize(Decimal(1))

    async def scenario() -> RequestTimeoutError:
        async with twin.session(
            deadline=5.0, rate_limits=_one_order_budget(), transport=transport
        ) as kf:
            size = Decimal("0.0001")
            await kf.orders.send(
                symbol="PF_XBTUSD", side="buy", size=size, limit_price=price, cli_ord_id="first"
            )
            sent_before = len(transport.paths)
            with pytest.raises(RequestTimeoutError) as caught:
                await kf.orders.send(
                    symbol="PF_XBTUSD",
                    side="buy",
                    size=size,
                    limit_price=price,
                    cli_ord_id="queued",
                )
            # not ambiguous: no lookups were made for it
            assert len(transport.paths) == sent_before
            return caught.value

    error, elapsed = run_virtual(scenario)
    assert elapsed == pytest.approx(5.0)
    assert not error.sent
    assert error.retry_safe
    assert "nothing was sent" in str(error)
    assert [r.cli_ord_id for r in ledger.of("send_order")] == ["first"]


def test_no_retry_starts_that_the_deadline_would_cut_short() -> None:
    calls: list[float] = []

    async def scenario() -> UnavailableError:
        loop = asyncio.get_running_loop()

        def unavailable(request: httpx.Request) -> httpx.Response:
            calls.append(loop.time())
            return httpx.Response(503, text="Service Unavailable")

        async with Session(
            base_url="http://twin.test",
            transport=httpx.MockTransport(unavailable),
            rate_limits=RateLimitPolicy.unlimited(),
            retry=RetryPolicy(max_attempts=10, base_delay=1.0, jitter=0.0, max_delay=60.0),
            deadline=2.5,
        ) as kf:
            with pytest.raises(UnavailableError) as caught:
                await kf.market.tickers()
            return caught.value

    error, elapsed = run_virtual(scenario)
    # retries at 1 s; the next would start at 3 s, past the deadline: the 503 is raised at once
    assert calls == [0.0, 1.0]
    assert elapsed == pytest.approx(1.0)
    assert "503" in str(error)


# --- the settings ---------------------------------------------------------------------------


def test_the_bounds_are_session_settings_with_sane_defaults() -> None:
    assert Session().bounds == Bounds()
    assert Bounds() == Bounds(deadline=30.0, max_response_bytes=32 * 1024 * 1024)
    assert (DEFAULT_DEADLINE, DEFAULT_MAX_RESPONSE_BYTES) == (30.0, 33_554_432)
    kf = Session(deadline=2, max_response_bytes=1024)
    assert kf.bounds == Bounds(deadline=2.0, max_response_bytes=1024)
    assert Session(deadline=None).bounds.deadline is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"deadline": 0},
        {"deadline": -1.0},
        {"deadline": float("nan")},
        {"deadline": float("inf")},
        {"deadline": "30"},
        {"deadline": True},
        {"max_response_bytes": 0},
        {"max_response_bytes": 1.5},
    ],
)
def test_bad_bounds_are_configuration_errors(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        Session(**kwargs)
