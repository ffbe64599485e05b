"""What every suite shares: the twin's process, its control panel, timing and medians."""

from __future__ import annotations

import gc
import json
import math
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, TypeVar

import attrs
import httpx

from .contenders import SYMBOL, Contender, D, Key, Order

T = TypeVar("T")


@attrs.frozen
class Served:
    url: str
    loop: str


@contextmanager
def twin_process() -> Iterator[Served]:
    """``python -m benchmarks.server`` in a child process, stopped by closing its stdin."""
    server = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.server"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        if not line:
            raise RuntimeError("the twin's process did not start")
        hello = json.loads(line)
        yield Served(hello["url"], hello["loop"])
    finally:
        assert server.stdin is not None
        server.stdin.close()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stdout is not None:
            server.stdout.close()


class Control:
    """The twin's ``/_bench`` panel."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._client = httpx.AsyncClient(base_url=url, timeout=30)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _call(self, method: str, path: str, **params: object) -> Any:
        answer = await self._client.request(method, f"/_bench/{path}", params=params)
        answer.raise_for_status()
        return answer.json()

    async def new_key(self) -> Key:
        body = await self._call("POST", "key")
        return Key(body["key"], body["secret"])

    async def latency(self, seconds: float, route: str = "*") -> None:
        await self._call("POST", "latency", seconds=seconds, route=route)

    async def limits(self, on: bool) -> None:
        await self._call("POST", "limits", on=int(on))

    async def meter(self) -> dict[str, float]:
        return dict(await self._call("GET", "meter"))

    async def order(self) -> Order:
        """A buy 20 % under the market: it rests, and costs little margin."""
        answer = await self._client.get(f"{D}/orderbook", params={"symbol": SYMBOL})
        bid = Decimal(str(answer.json()["orderBook"]["bids"][0][0]))
        return Order(price=(bid * Decimal("0.8")).quantize(Decimal(1)), size=Decimal("0.0001"))

    async def tickers_body(self) -> bytes:
        return (await self._client.get(f"{D}/tickers")).content

    async def tradeable(self) -> list[str]:
        answer = await self._client.get(f"{D}/instruments")
        return [i["symbol"] for i in answer.json()["instruments"] if i.get("tradeable")]


async def cancel_everything(url: str, key: Key) -> None:
    """Clear the twin's book of our resting orders (all keys share one account)."""
    from kraken_futures_async import Credentials, RateLimitPolicy, Session

    async with Session(
        Credentials(key.key, key.secret), base_url=url, rate_limits=RateLimitPolicy.unlimited()
    ) as kf:
        await kf.orders.cancel_all()


@attrs.define
class Batch:
    """One batch of sequential calls: client CPU per call and each call's wall time."""

    cpu_per_call: float
    latencies: list[float]


async def sequential(call: Callable[[], Awaitable[object]], calls: int) -> Batch:
    gc.collect()
    latencies: list[float] = []
    cpu = time.process_time()
    for _ in range(calls):
        started = time.perf_counter()
        await call()
        latencies.append(time.perf_counter() - started)
    return Batch((time.process_time() - cpu) / calls, latencies)


def rotated(items: Sequence[T], round_number: int) -> list[T]:
    shift = round_number % len(items)
    return [*items[shift:], *items[:shift]]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def pct(values: Sequence[float], fraction: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, math.ceil(fraction * len(ordered)))) - 1]


async def opened(contender: Contender) -> Contender:
    await contender.open()
    return contender
