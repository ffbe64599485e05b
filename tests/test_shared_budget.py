"""The shared cost window and nonce on a real Redis: admission, priority, order, nonces.

Redis's clock is real time, so these tests use small windows (50 units per second) rather
than virtual time, and never compare Redis's time with the (possibly shifted) wall clock.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from benchmarks.shared_budget import main as benchmark_main
from kraken_futures_async import Credentials, RateLimitPolicy
from kraken_futures_async.ratelimit import Budget, BudgetWindow, RateLimiter, WindowLimit
from kraken_futures_async.shared_budget import (
    SharedBudget,
    SharedBudgetBinding,
    SharedBudgetUnavailableError,
    SharedNonceSource,
    bind,
    key_hash,
)
from kraken_futures_async.shared_budget.nonces import MODULUS
from kraken_futures_async.simulator import Twin, TwinConfig
from tests.shared_redis import RedisServer, free_port, redis_server

__all__ = ["redis_server"]

API_KEY = "shared-budget-test-key"
CREDENTIALS = Credentials(API_KEY, "c2VjcmV0")
SMALL = WindowLimit(50, 1.0)
RESERVE = 5


@pytest.fixture
async def processes(redis_server: RedisServer) -> AsyncIterator[list[SharedBudgetBinding]]:
    """Bindings that stand for separate processes: each has its own Redis link."""
    opened: list[SharedBudgetBinding] = []
    try:
        for _ in range(3):
            binding = bind(SharedBudget(url=redis_server.url), CREDENTIALS)
            await binding.start()
            opened.append(binding)
        yield opened
    finally:
        for binding in opened:
            await binding.aclose()


def window_of(binding: SharedBudgetBinding, limit: WindowLimit = SMALL) -> BudgetWindow:
    return binding.window(Budget.DERIVATIVES, limit, margin=0.0, reserve=RESERVE)


def most_in_any_window(admitted: list[tuple[float, int]], period: float) -> int:
    """The most units admitted within any ``period`` seconds (by local arrival)."""
    admitted = sorted(admitted)
    most = 0
    for i, (start, _) in enumerate(admitted):
        most = max(most, sum(units for at, units in admitted[i:] if at < start + period))
    return most


async def test_processes_together_never_exceed_the_window(
    processes: list[SharedBudgetBinding],
) -> None:
    loop = asyncio.get_running_loop()
    windows = [window_of(binding) for binding in processes]
    admitted: list[tuple[float, int]] = []

    async def hammer(window: BudgetWindow, cost: int) -> None:
        stop = loop.time() + 2.5
        while loop.time() < stop:
            await window.acquire(cost)
            admitted.append((loop.time(), cost))

    async with asyncio.timeout(20):
        await asyncio.gather(*(hammer(w, c) for w, c in zip(windows, (2, 5, 10), strict=True)))
    # a little under the window: local times of admission trail Redis's by a round trip
    assert most_in_any_window(admitted, SMALL.period - 0.02) <= SMALL.capacity - RESERVE
    # and the window was used: 2.5 s hold at least two full windows of ordinary units
    assert sum(units for _, units in admitted) >= 2 * (SMALL.capacity - RESERVE)


async def test_a_cancel_uses_the_reserve_right_after_a_burst(
    processes: list[SharedBudgetBinding],
) -> None:
    loop = asyncio.get_running_loop()
    first, second = (window_of(binding) for binding in processes[:2])
    async with asyncio.timeout(20):
        for _ in range((SMALL.capacity - RESERVE) // 5):
            await first.acquire(5)
        started = loop.time()
        # ordinary calls of another process wait for the window...
        blocked = asyncio.ensure_future(second.acquire(5))
        await asyncio.sleep(0.05)
        assert not blocked.done()
        # ...while a cancel (priority) from that process leaves at once, from the reserve
        await second.acquire(5, priority=True)
        assert loop.time() - started < 0.3
        await blocked
        assert loop.time() - started >= SMALL.period - 0.1


async def test_first_come_first_served_across_processes(
    processes: list[SharedBudgetBinding],
) -> None:
    """A large call is not starved by another process's stream of small ones."""
    loop = asyncio.get_running_loop()
    big, small = (window_of(binding) for binding in processes[:2])
    async with asyncio.timeout(20):
        for _ in range(9):
            await small.acquire(5)  # 45 units: the ordinary part of the window is full
        big_call = asyncio.ensure_future(big.acquire(25))
        await asyncio.sleep(0.05)
        small_done: list[float] = []

        async def stream() -> None:
            while not big_call.done():
                await small.acquire(2)
                small_done.append(loop.time())

        streamer = asyncio.ensure_future(stream())
        await big_call
        big_at = loop.time()
        streamer.cancel()
        await asyncio.gather(streamer, return_exceptions=True)
        # the small calls that queued behind the big one did not pass it
        assert all(at >= big_at - 0.01 for at in small_done)


async def test_nonces_increase_across_processes(processes: list[SharedBudgetBinding]) -> None:
    sources = [binding.nonces for binding in processes]
    assert all(isinstance(source, SharedNonceSource) for source in sources)
    windows = [window_of(binding) for binding in processes]
    seen: list[list[int]] = [[], [], []]

    async def draw(index: int) -> None:
        source = sources[index]
        assert source is not None
        for _ in range(20):
            await windows[index].acquire(1)
            seen[index].append(int(source.next()))
            await processes[index].unmetered_private()
            seen[index].append(int(source.next()))

    async with asyncio.timeout(20):
        await asyncio.gather(*(draw(i) for i in range(3)))
    everything = [n for own in seen for n in own]
    # every shared nonce is unique, clear of the processes' fallback residues; each
    # process's increase
    slots = {binding.link.slot for binding in processes}
    assert all(n % MODULUS not in slots for n in everything)
    assert len(set(everything)) == len(everything)
    assert all(own == sorted(own) for own in seen)


async def test_a_burst_of_shared_nonces_stays_near_the_clock(
    processes: list[SharedBudgetBinding],
) -> None:
    """The scale rule of the in-process source holds across processes: 300 nonces drawn in
    turn by three processes, as fast as Redis answers, increase in the order drawn and lead
    Redis's millisecond clock by far less than a second (a client with plain millisecond
    nonces a second later is accepted)."""
    sources = [binding.nonces for binding in processes]
    drawn: list[int] = []
    async with asyncio.timeout(20):
        for _ in range(100):
            for binding, source in zip(processes, sources, strict=True):
                assert source is not None
                await binding.unmetered_private()
                drawn.append(int(source.next()))
    # Redis's clock now, as the last draw showed it to its process
    clock_ms = time.time_ns() // 1_000_000 + processes[-1].link.clock_offset_ms
    assert drawn == sorted(set(drawn))  # strictly increasing across the processes
    assert len(str(drawn[-1])) == 13
    slots = {binding.link.slot for binding in processes}
    assert len(slots) == 3
    # each step skips at most the three held residues: 300 draws lead by < 400 ms
    assert drawn[-1] - clock_ms < 400


async def test_fallback_nonces_have_their_own_residue(
    processes: list[SharedBudgetBinding],
) -> None:
    slots = {binding.link.slot for binding in processes}
    assert len(slots) == 3
    assert all(1 <= slot < MODULUS for slot in slots)
    source = processes[0].nonces
    assert source is not None
    drawn = [int(source.next()) for _ in range(50)]  # nothing handed: drawn locally
    assert all(n % MODULUS == processes[0].link.slot for n in drawn)
    assert drawn == sorted(set(drawn))
    # the next shared nonce is above every local one (the floor travels with each draw)
    await processes[0].unmetered_private()
    assert int(source.next()) > drawn[-1]


async def test_redis_keys_name_a_hash_of_the_key(
    redis_server: RedisServer, processes: list[SharedBudgetBinding]
) -> None:
    from redis.asyncio import Redis

    await window_of(processes[0]).acquire(3)
    client = Redis.from_url(redis_server.url)
    try:
        keys = [key.decode() if isinstance(key, bytes) else key for key in await client.keys("*")]
    finally:
        await client.aclose()
    assert keys
    assert all(key_hash(API_KEY) in key and API_KEY not in key for key in keys)
    assert API_KEY not in repr(processes[0])


@pytest.mark.parametrize("share", [None, 0.25])
async def test_unreachable_at_start_is_a_clear_error(share: float | None) -> None:
    url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    binding = bind(SharedBudget(url=url, fallback_share=share), CREDENTIALS)
    with pytest.raises(SharedBudgetUnavailableError, match="does not answer") as caught:
        await binding.start()
    assert "hunter2" not in str(caught.value)
    assert "fallback_at_start" in str(caught.value)


async def test_unreachable_at_start_starts_on_the_fallback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    config = SharedBudget(url=url, fallback_share=0.5, fallback_at_start=True, probe_interval=0.05)
    binding = bind(config, CREDENTIALS)
    loop = asyncio.get_running_loop()
    with caplog.at_level(logging.WARNING, "kraken_futures_async.shared_budget"):
        await binding.start()
    try:
        assert "does not answer at start" in caplog.text
        window = window_of(binding)
        started = loop.time()
        async with asyncio.timeout(10):
            # nothing is known of what others sent: the local window opens one window later
            await window.acquire(5)
        assert loop.time() - started >= SMALL.period - 0.05
        assert window.usage().capacity == SMALL.capacity // 2
    finally:
        await binding.aclose()


def test_a_session_needs_a_futures_key_and_the_rest_backend() -> None:
    from kraken_futures_async import ConfigurationError, Session

    with pytest.raises(ConfigurationError, match="Futures API key"):
        Session(shared_budget="redis://127.0.0.1:1/0")
    both = Credentials("key", "c2VjcmV0", kraken_api_key="k", kraken_api_secret="c2VjcmV0")
    with pytest.raises(ConfigurationError, match="backend"):
        Session(both, backend="uws", shared_budget="redis://127.0.0.1:1/0")


def test_the_shared_policy_keeps_the_limits() -> None:
    binding = bind("redis://127.0.0.1:1/0", CREDENTIALS)
    policy, nonces = binding.configure(RateLimitPolicy.kraken(), None)
    assert nonces is binding.nonces
    assert policy.derivatives_budget == RateLimitPolicy.kraken().derivatives_budget
    assert policy.shared_windows() is binding
    assert RateLimitPolicy().shared_windows() is None
    limiter = RateLimiter(policy)
    assert limiter.budgets[Budget.DERIVATIVES].reserve == 50


async def test_a_deadline_gives_the_ticket_back(
    redis_server: RedisServer, processes: list[SharedBudgetBinding]
) -> None:
    from redis.asyncio import Redis

    first, second = (window_of(binding) for binding in processes[:2])
    await first.acquire(SMALL.capacity - RESERVE)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await second.acquire(5)
    client = Redis.from_url(redis_server.url)
    try:
        line = processes[1].link.key(Budget.DERIVATIVES.value, "line:0")
        for _ in range(100):
            if not await client.zcard(line):
                break
            await asyncio.sleep(0.01)
        assert await client.zcard(line) == 0
    finally:
        await client.aclose()


async def test_a_session_without_redis_does_not_open() -> None:
    from kraken_futures_async import Session

    url = f"redis://127.0.0.1:{free_port()}/0"
    session = Session(
        CREDENTIALS,
        base_url="http://127.0.0.1:1",
        shared_budget=SharedBudget(url=url, fallback_share=None),
    )
    with pytest.raises(SharedBudgetUnavailableError, match="fallback_at_start"):
        async with session:
            pass


async def test_a_cool_down_closes_the_window_for_every_process(
    processes: list[SharedBudgetBinding],
) -> None:
    loop = asyncio.get_running_loop()
    refused, other = (window_of(binding) for binding in processes[:2])
    await other.acquire(1)
    refused.cool_down(0.5)  # the exchange answered apiLimitExceeded to this process
    assert refused.usage().closed_for > 0.4
    await asyncio.sleep(0.05)  # the cool-down travels to Redis in the background
    started = loop.time()
    async with asyncio.timeout(10):
        await other.acquire(1)
    assert loop.time() - started >= 0.35


async def test_a_session_that_fails_to_open_leaves_no_redis_task_behind(
    redis_server: RedisServer,
) -> None:
    from kraken_futures_async import Session

    session = Session(
        CREDENTIALS,
        base_url="http://127.0.0.1:1",
        shared_budget=SharedBudget(url=redis_server.url),
    )
    before = asyncio.all_tasks()

    async def refuse() -> None:
        raise RuntimeError("the backend could not open")

    session._backend.open = refuse  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="could not open"):
        async with session:
            pass
    await asyncio.sleep(0)
    assert asyncio.all_tasks() - before == set()


class _Recording(httpx.AsyncBaseTransport):
    """The twin's in-process transport, noting each request that reaches it."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.sent: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return await self.inner.handle_async_request(request)


async def test_without_redis_py_a_session_names_the_extra_and_sends_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The core install has no redis-py (the ``redis`` extra brings it): a clear error."""
    from kraken_futures_async import ConfigurationError

    for name in [name for name in sys.modules if name.startswith("redis.")]:
        monkeypatch.setitem(sys.modules, name, None)
    for name in ("redis", "redis.asyncio", "redis.exceptions"):
        monkeypatch.setitem(sys.modules, name, None)  # None: importing it fails
    twin = Twin(TwinConfig())
    recording = _Recording(twin.transport())
    session = twin.session(transport=recording, shared_budget="redis://127.0.0.1:1/0")
    before = asyncio.all_tasks()
    with pytest.raises(ConfigurationError) as caught:
        async with session:
            await session.account.open_positions()
    assert str(caught.value) == (
        "shared_budget needs redis-py: pip install 'kraken_futures_async[redis]'"
    )
    assert recording.sent == []
    await asyncio.sleep(0)
    assert asyncio.all_tasks() - before == set()


def test_the_benchmark_prints_its_help_without_running(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        benchmark_main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m benchmarks.shared_budget")
    assert "Many processes, one key" in out
    assert "--seconds" in out
