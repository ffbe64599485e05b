"""When Redis fails: the logged switch to the local fallback, the way back, and no over-spend.

A real Redis is paused (SIGSTOP: commands hang, the hardest failure to notice) or killed and
started again on its port without its data. Windows are small (50 units per second).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import attrs
import pytest

from kraken_futures_async import Credentials
from kraken_futures_async.ratelimit import Budget, BudgetWindow, WindowLimit
from kraken_futures_async.shared_budget import (
    SharedBudget,
    SharedBudgetBinding,
    SharedBudgetUnavailableError,
    bind,
)
from kraken_futures_async.shared_budget.nonces import MODULUS
from tests.shared_redis import RedisServer, free_port, redis_server
from tests.test_shared_budget import most_in_any_window

__all__ = ["redis_server"]

API_KEY = "shared-fallback-test-key"
SECRET = "c2hhcmVkLWZhbGxiYWNrLXRlc3Qtc2VjcmV0"  # base64 of b"shared-fallback-test-secret"
CREDENTIALS = Credentials(API_KEY, SECRET)
SMALL = WindowLimit(50, 1.0)
RESERVE = 4
LOGGER = "kraken_futures_async.shared_budget"


def config(url: str, share: float | None = 0.5) -> SharedBudget:
    return SharedBudget(url=url, fallback_share=share, timeout=0.1, probe_interval=0.05)


@pytest.fixture
async def pair(redis_server: RedisServer) -> AsyncIterator[list[SharedBudgetBinding]]:
    opened: list[SharedBudgetBinding] = []
    try:
        for _ in range(2):
            binding = bind(config(redis_server.url), CREDENTIALS)
            await binding.start()
            opened.append(binding)
        yield opened
    finally:
        for binding in opened:
            await binding.aclose()


def window_of(binding: SharedBudgetBinding) -> BudgetWindow:
    return binding.window(Budget.DERIVATIVES, SMALL, margin=0.0, reserve=RESERVE)


async def hammer_through(
    windows: list[BudgetWindow], seconds: float, admitted: list[tuple[float, int]]
) -> None:
    loop = asyncio.get_running_loop()
    stop = loop.time() + seconds

    async def one(window: BudgetWindow) -> None:
        while loop.time() < stop:
            await window.acquire(3)
            admitted.append((loop.time(), 3))

    await asyncio.gather(*(one(window) for window in windows))


async def test_a_paused_redis_switches_to_the_fallback_and_back(
    redis_server: RedisServer,
    pair: list[SharedBudgetBinding],
    caplog: pytest.LogCaptureFixture,
) -> None:
    windows = [window_of(binding) for binding in pair]
    admitted: list[tuple[float, int]] = []
    with caplog.at_level(logging.INFO, LOGGER):
        async with asyncio.timeout(30):
            run = asyncio.ensure_future(hammer_through(windows, 4.5, admitted))
            await asyncio.sleep(1.2)
            redis_server.pause()
            await asyncio.sleep(1.6)
            assert not any(binding.link.up for binding in pair)
            redis_server.resume()
            await run
    assert all(binding.link.up for binding in pair)
    assert caplog.text.count("switching to the local fallback") == 2
    assert caplog.text.count("answers again") == 2
    # never more than the window holds, across the switch and the return
    assert most_in_any_window(admitted, SMALL.period - 0.02) <= SMALL.capacity
    # the key and its secret reach neither the log nor Redis (keys or values)
    secrets = (API_KEY, SECRET, "shared-fallback-test-secret")
    assert not [secret for secret in secrets if secret in caplog.text]
    stored = await everything_in(redis_server)
    assert len(stored) > 1
    assert not [item for item in stored for secret in secrets if secret in item]


async def everything_in(redis_server: RedisServer) -> list[str]:
    """Every key stored in Redis, and every value, field and member under it."""
    from redis.asyncio import Redis

    def text(item: object) -> str:
        return item.decode(errors="replace") if isinstance(item, bytes) else str(item)

    client = Redis.from_url(redis_server.url)
    stored: list[object] = []
    try:
        for key in await client.keys("*"):
            stored.append(key)
            kind = text(await client.type(key))
            if kind == "string":
                stored.append(await client.get(key))
            elif kind == "hash":
                for field, value in (await client.hgetall(key)).items():
                    stored += [field, value]
            elif kind == "zset":
                stored += await client.zrange(key, 0, -1)
            elif kind == "list":
                stored += await client.lrange(key, 0, -1)
            elif kind == "set":
                stored += await client.smembers(key)
            else:
                raise AssertionError(f"no reader for {kind} key {key!r}")
    finally:
        await client.aclose()
    return [text(item) for item in stored]


async def test_the_fallback_spends_its_share_after_one_window(
    redis_server: RedisServer, pair: list[SharedBudgetBinding]
) -> None:
    loop = asyncio.get_running_loop()
    windows = [window_of(binding) for binding in pair]
    admitted: list[tuple[float, int]] = []
    async with asyncio.timeout(30):
        redis_server.pause()
        paused_at = loop.time()
        try:
            await hammer_through(windows, 2.6, admitted)
        finally:
            redis_server.resume()
    # the first window after the failure stays closed: what was sent through Redis is unknown
    first = min(at for at, _ in admitted)
    assert first - paused_at >= SMALL.period
    # then each process spends at most its share (half), so together at most the budget
    assert most_in_any_window(admitted, SMALL.period - 0.02) <= SMALL.capacity
    assert sum(units for _, units in admitted) >= SMALL.capacity // 2


async def test_a_restarted_redis_counts_its_lost_window_as_full(
    redis_server: RedisServer, pair: list[SharedBudgetBinding]
) -> None:
    loop = asyncio.get_running_loop()
    window = window_of(pair[0])
    async with asyncio.timeout(30):
        await window.acquire(10)
        redis_server.stop()
        redis_server.start()  # same port, no data
        # the first call after the restart may still see the old socket fail: either way
        # it waits one window (the lost state, or the fallback's closed window)
        started = loop.time()
        await window.acquire(10)
        assert loop.time() - started >= SMALL.period - 0.05


async def test_fallback_nonces_stay_clear_of_shared_ones(
    redis_server: RedisServer, pair: list[SharedBudgetBinding]
) -> None:
    sources = [binding.nonces for binding in pair]
    drawn: list[int] = []
    for binding, source in zip(pair, sources, strict=True):
        assert source is not None
        await binding.unmetered_private()
        drawn.append(int(source.next()))
    redis_server.pause()
    try:
        for binding, source in zip(pair, sources, strict=True):
            assert source is not None
            for _ in range(5):
                await binding.unmetered_private()  # fails over: drawn locally
                drawn.append(int(source.next()))
    finally:
        redis_server.resume()
    assert len(set(drawn)) == len(drawn)
    slots = [binding.link.slot for binding in pair]
    shared, local = drawn[:2], drawn[2:]
    # Redis's nonces skip the residues the processes hold; each local one is in its own
    assert all(n % MODULUS not in slots for n in shared)
    assert [n % MODULUS for n in local] == [slots[0]] * 5 + [slots[1]] * 5
    assert min(local) > max(shared) - 1000  # still on the millisecond scale


async def test_without_fallback_a_call_fails_clearly(redis_server: RedisServer) -> None:
    binding = bind(config(redis_server.url, share=None), CREDENTIALS)
    await binding.start()
    try:
        window = window_of(binding)
        await window.acquire(1)
        redis_server.pause()
        try:
            with pytest.raises(SharedBudgetUnavailableError, match="nothing was sent"):
                await window.acquire(1)
        finally:
            redis_server.resume()
        await window.acquire(1)
    finally:
        await binding.aclose()


async def test_a_process_cut_off_alone_gets_its_share_left(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """One process loses Redis while the others still reach it: they leave it its share."""
    from redis.asyncio import Redis

    quick = attrs.evolve(
        config(redis_server.url), heartbeat=0.1, absent_after=0.3, forget_after=30.0
    )
    cut, other = bind(quick, CREDENTIALS), bind(quick, CREDENTIALS)
    await cut.start()
    await other.start()
    reaching = cut.link._client
    loop = asyncio.get_running_loop()
    try:
        windows = [window_of(cut), window_of(other)]
        admitted: list[tuple[float, int]] = []
        with caplog.at_level(logging.WARNING, LOGGER):
            async with asyncio.timeout(30):
                run = asyncio.ensure_future(hammer_through(windows, 3.5, admitted))
                await asyncio.sleep(0.8)
                # from now on only this process's Redis does not answer
                cut.link._client = Redis.from_url(
                    f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.1
                )
                cut_at = loop.time()
                await run
        assert not cut.link.up
        assert other.link.up
        assert "switching to the local fallback" in caplog.text
        assert most_in_any_window(admitted, SMALL.period - 0.02) <= SMALL.capacity
        # the cut-off process spent its share after its window, the other one the rest
        assert any(at > cut_at + SMALL.period for at, _ in admitted)
    finally:
        await cut.aclose()
        await other.aclose()
        if reaching is not None:
            await reaching.aclose()
