"""(b) Every contract's order book at once, with 20 ms added inside the twin per request.

With ``P`` connections and ``N`` books each taking at least 20 ms, no client can beat
``ceil(N / P) * 20 ms``: that is the ideal each contender is held against, for its own pool
size. Pools are warm (one unmeasured fan-out first), except in the row that opens a new
Session each round as the ``snapshot`` command does. Kraken does not meter public calls; the
warm library rows use ``RateLimitPolicy.kraken()`` because the card's extra 500-per-10-s
public bucket would pace the second round onwards (that row is the cold one, with defaults).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import httpx

from kraken_futures_async import RateLimitPolicy
from kraken_futures_async.rest.transports import AiohttpTransport

from .contenders import (
    POOL,
    Ccxt,
    Contender,
    Key,
    KrakenSdk,
    Library,
    Order,
    RawAiohttp,
    RawHttpx,
    aiohttp_transport,
    default_transport,
    peers_installed,
)
from .harness import Control, median, rotated

LATENCY = 0.020
#: Connection limits tried side by side (the default, 128, is the main rows' own).
POOL_SWEEP = (32, 64, 100, 192)
#: ccxt with its limiter fetches this many books, and the whole fan-out is projected.
LIMITED_SAMPLE = 10

Maker = Callable[[str, Key, Order], Contender]


class RawAiohttpPool(RawAiohttp):
    """Raw aiohttp with a connection limit of its own (the pool sweep's reference)."""

    def __init__(self, name: str, url: str, key: Key, order: Order, pool: int) -> None:
        super().__init__(name, url, key, order)
        self.pool = pool

    async def open(self) -> None:
        self.client = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self.pool))


def _library_with_pool(pool: int) -> Maker:
    def make(url: str, key: Key, order: Order) -> Contender:
        limits = httpx.Limits(
            max_connections=pool, max_keepalive_connections=pool, keepalive_expiry=30
        )
        library = Library(
            f"kraken_futures_async, AiohttpTransport, pool {pool}",
            url,
            key,
            order,
            transport=AiohttpTransport(limits=limits),
            rate_limits=RateLimitPolicy.kraken(),
            note="pool sweep",
        )
        library.pool = pool
        return library

    return make


def _raw_with_pool(pool: int) -> Maker:
    def make(url: str, key: Key, order: Order) -> Contender:
        name = f"raw aiohttp + json.loads, pool {pool}"
        return RawAiohttpPool(name, url, key, order, pool)

    return make


def sweep(pools: tuple[int, ...] = POOL_SWEEP) -> list[Maker]:
    """The library and raw aiohttp at each connection limit, to choose the default by."""
    return [make(pool) for pool in pools for make in (_library_with_pool, _raw_with_pool)]


def contenders(*, peers: bool) -> list[Maker]:
    kraken = RateLimitPolicy.kraken
    makers: list[Maker] = [
        lambda url, key, order: Library(
            "kraken_futures_async, AiohttpTransport",
            url,
            key,
            order,
            transport=aiohttp_transport(),
            rate_limits=kraken(),
        ),
        lambda url, key, order: Library(
            "kraken_futures_async, httpx pool",
            url,
            key,
            order,
            transport=default_transport(),
            rate_limits=kraken(),
        ),
        lambda url, key, order: RawHttpx("raw httpx + json.loads", url, key, order),
        lambda url, key, order: RawAiohttp("raw aiohttp + json.loads", url, key, order),
    ]
    if peers:
        makers += [
            lambda url, key, order: KrakenSdk("python-kraken-sdk (async)", url, key, order),
            lambda url, key, order: Ccxt(
                "ccxt krakenfutures, no rate limiter", url, key, order, rate_limited=False
            ),
        ]
    return makers


async def _fan_out(contender: Contender, symbols: list[str]) -> float:
    started = time.perf_counter()
    await asyncio.gather(*(contender.orderbook(s) for s in symbols))
    return time.perf_counter() - started


def ideal(books: int, pool: int, latency: float = LATENCY) -> float:
    return math.ceil(books / pool) * latency


async def run(
    control: Control, *, rounds: int, peers: bool, sweep_pools: tuple[int, ...] = POOL_SWEEP
) -> dict[str, Any]:
    url = control.url
    await control.limits(False)
    order = await control.order()
    symbols = await control.tradeable()
    await control.latency(LATENCY, "orderbook")
    opened: list[Contender] = []
    try:
        for make in [*contenders(peers=peers and peers_installed()), *sweep(sweep_pools)]:
            contender = make(url, await control.new_key(), order)
            await contender.open()
            await _fan_out(contender, symbols)  # warm the pool
            opened.append(contender)
        cold_name = "kraken_futures_async, defaults, new Session each round"
        walls: dict[str, list[float]] = {c.name: [] for c in opened}
        walls[cold_name] = []
        server_cpu: dict[str, list[float]] = {name: [] for name in walls}
        cold_key = await control.new_key()

        async def measure(contender: Contender) -> None:
            before = (await control.meter())["cpu"]
            walls[contender.name].append(await _fan_out(contender, symbols))
            server_cpu[contender.name].append((await control.meter())["cpu"] - before)

        for round_number in range(rounds):
            for contender in rotated(opened, round_number):
                await measure(contender)
            cold = Library(cold_name, url, cold_key, order)
            await cold.open()
            try:
                await measure(cold)
            finally:
                await cold.aclose()
        pools = {c.name: c.pool for c in opened}
        notes = {c.name: c.note for c in opened}
        pools[cold_name] = POOL
        notes[cold_name] = "connects its pool inside the measurement"
        rows = [
            _row(name, wall, len(symbols), pools[name], notes[name]) for name, wall in walls.items()
        ]
        for row in rows:
            row["server_cpu_ms"] = median(server_cpu[row["contender"]]) * 1e3
        _add_throughput(rows)
        if peers and peers_installed():
            rows.append(await _limited_ccxt(url, await control.new_key(), order, symbols))
    finally:
        for contender in opened:
            await contender.aclose()
        await control.latency(0)
    return {"books": len(symbols), "latency_ms": LATENCY * 1e3, "rows": rows}


def _row(name: str, walls: list[float], books: int, pool: int, note: str) -> dict[str, Any]:
    best = ideal(books, pool)
    wall = median(walls)
    return {
        "contender": name,
        "pool": pool,
        "wall_ms": wall * 1e3,
        "wall_ms_min": min(walls) * 1e3,
        "ideal_ms": best * 1e3,
        "x_ideal": wall / best,
        "rounds": len(walls),
        "note": note,
        "projected": False,
    }


async def _limited_ccxt(url: str, key: Key, order: Order, symbols: list[str]) -> dict[str, Any]:
    contender = Ccxt("ccxt krakenfutures, default rate limiter", url, key, order, rate_limited=True)
    await contender.open()
    try:
        sample = symbols[:LIMITED_SAMPLE]
        wall = await _fan_out(contender, sample)
    finally:
        await contender.aclose()
    row = _row(contender.name, [wall * len(symbols) / len(sample)], len(symbols), 100, "")
    row["projected"] = True
    row["note"] = f"{contender.note}; {len(sample)} books measured, {len(symbols)} projected"
    return row


def _add_throughput(rows: list[dict[str, Any]]) -> None:
    """Each row's throughput as a multiple of raw aiohttp's with the same connection limit."""
    raw = {
        int(r["pool"]): float(r["wall_ms"])
        for r in rows
        if str(r["contender"]).startswith("raw aiohttp + json.loads")
    }
    for row in rows:
        reference = raw.get(int(row["pool"]))
        row["x_raw_aiohttp_throughput"] = None if reference is None else reference / row["wall_ms"]
