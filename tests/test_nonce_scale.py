"""Millisecond nonces: the library must not lock other clients out of a shared key.

Kraken keeps the highest nonce per key. A 19-digit nanosecond nonce from this library made
every millisecond-nonce client (python-kraken-sdk, Kraken's own examples) fail with
``nonceBelowThreshold`` on that key; the default is now a millisecond counter.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import itertools

import httpx
import pytest
import time_machine

from kraken_futures_async import (
    NanosecondNonceSource,
    NonceError,
    NonceSource,
    NoNonce,
    RateLimitPolicy,
    Session,
)
from kraken_futures_async.auth import nonce_source_for
from kraken_futures_async.rest.signing import KrakenFuturesAuth
from kraken_futures_async.retry import RetryPolicy
from kraken_futures_async.simulator import Twin

from .test_sim_http_fake import fake_twin, raw_client, signed_headers
from .virtual_clock import run_virtual

MOMENT = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
MOMENT_MS = int(MOMENT.timestamp() * 1000)
PATH = "/derivatives/api/v3/openorders"


def quiet(twin: Twin, nonces: NonceSource | None = None) -> Session:
    return twin.session(
        rate_limits=RateLimitPolicy.unlimited(), retry=RetryPolicy.never(), nonces=nonces
    )


def test_the_default_nonce_is_the_clock_in_milliseconds_then_counts_up() -> None:
    with time_machine.travel(MOMENT, tick=False):
        source = NonceSource()
        drawn = [int(source.next()) for _ in range(3)]
    assert drawn == [MOMENT_MS, MOMENT_MS + 1, MOMENT_MS + 2]
    assert len(str(drawn[0])) == 13


def test_a_burst_runs_ahead_of_the_clock_by_what_the_docstring_says() -> None:
    """5,000 nonces in a frozen millisecond end 4,999 ms ahead; once the clock passes the
    counter, nonces are the clock again."""
    with time_machine.travel(MOMENT, tick=False) as traveller:
        source = NonceSource()
        burst = [int(source.next()) for _ in range(5000)]
        assert burst[-1] - MOMENT_MS == 4999
        traveller.shift(dt.timedelta(seconds=6))
        assert int(source.next()) == MOMENT_MS + 6000


def test_the_nanosecond_source_and_no_nonce_at_all() -> None:
    with time_machine.travel(MOMENT, tick=False):
        assert int(NanosecondNonceSource().next()) == MOMENT_MS * 1_000_000
    assert NoNonce().next() == ""


def test_no_nonce_sends_no_header_and_signs_without_one() -> None:
    twin, _ = fake_twin()
    auth = KrakenFuturesAuth(twin.credentials(), NoNonce())
    request = httpx.Request("GET", f"http://twin.test{PATH}")
    signed = next(auth.auth_flow(request))
    assert "Nonce" not in signed.headers
    assert signed.headers["APIKey"] == twin.key.public_key


async def test_a_session_without_nonces_is_accepted_by_the_twin() -> None:
    twin, _ = fake_twin(rate_limits=False)
    async with quiet(twin, NoNonce()) as kf:
        assert await kf.orders.open() == []


async def test_5000_concurrent_calls_on_one_session_get_no_nonce_error() -> None:
    twin, _ = fake_twin(rate_limits=False)
    async with quiet(twin) as kf:
        results = await asyncio.gather(
            *(kf.orders.status(order_ids=[f"id-{i}"]) for i in range(5000)),
            return_exceptions=True,
        )
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert len(str(nonce_source_for(twin.key.public_key).next())) == 13


def test_a_millisecond_client_is_accepted_one_second_after_the_librarys_burst() -> None:
    """5,000 calls at once through the default rate limits, on virtual time: the wall clock
    the nonces read moves with the loop, as it would while the limiter spaces the calls, so
    the counter never runs far ahead; another client one second later is accepted."""
    twin, _ = fake_twin(rate_limits=False)

    async def scenario() -> tuple[int, dict[str, str]]:
        loop = asyncio.get_running_loop()
        offset = MOMENT.timestamp() - loop.time()
        nonces = NonceSource(clock=lambda: int((loop.time() + offset) * 1000))
        # 5,000 calls queued at once wait minutes for the budget: no deadline (it counts that)
        session = twin.session(nonces=nonces, retry=RetryPolicy.never(), deadline=None)
        async with session as kf:
            results = await asyncio.gather(
                *(kf.orders.status(order_ids=[f"id-{i}"]) for i in range(5000)),
                return_exceptions=True,
            )
        assert [r for r in results if isinstance(r, BaseException)] == []
        lead = int(nonces.next()) - int((loop.time() + offset) * 1000)
        await asyncio.sleep(1.0)
        theirs = str(int((loop.time() + offset) * 1000))
        async with raw_client(twin) as client:
            answer = await client.get(PATH, headers=signed_headers(twin.key, PATH, nonce=theirs))
        return lead, answer.json()

    (lead, answer), _ = run_virtual(scenario)
    assert lead < 1000  # the limiter's bursts are far smaller than a second of milliseconds
    assert answer["result"] == "success", answer


async def test_after_nanosecond_nonces_a_millisecond_client_is_locked_out() -> None:
    """What the old default did to a key, and why a key that saw it needs the nanosecond
    source (or a new key)."""
    twin, _ = fake_twin(rate_limits=False)
    async with quiet(twin, NanosecondNonceSource()) as kf:
        assert await kf.orders.open() == []
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    theirs = str(int(later.timestamp() * 1000))
    async with raw_client(twin) as client:
        answer = await client.get(PATH, headers=signed_headers(twin.key, PATH, nonce=theirs))
    assert answer.json()["error"] == "nonceBelowThreshold"
    # ...while the nanosecond source goes on working on that key.
    async with quiet(twin, NanosecondNonceSource()) as kf:
        assert await kf.orders.open() == []
    async with quiet(twin) as kf:
        with pytest.raises(NonceError):
            await kf.orders.open()


def test_nonces_strictly_increase_across_threads() -> None:
    source = NonceSource(clock=lambda: 7)
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        drawn = list(pool.map(lambda _: int(source.next()), range(4000)))
    assert sorted(drawn) == list(range(7, 4007))
    assert all(a != b for a, b in itertools.pairwise(sorted(drawn)))
