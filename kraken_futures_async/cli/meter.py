"""What the command measures about its own traffic: requests, latencies, rate-limit refusals.

The meter is an ``httpx`` transport wrapped around whichever transport the Session would use,
so it sees every request that goes out (retries included) without the library knowing: the
command stays an ordinary client of ``Session(transport=...)``.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Sequence

import attrs
import httpx

__all__ = ["LatencySummary", "MeteredTransport", "TrafficMeter", "percentile"]

#: Kraken's refusal for going over a budget, as it appears in an answer body.
_LIMIT_CODE = b"apiLimitExceeded"


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of already sorted values (``nan`` when there are none)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@attrs.frozen
class LatencySummary:
    """Request round trips in milliseconds."""

    count: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> LatencySummary:
        ordered = sorted(seconds)
        return cls(
            count=len(ordered),
            p50_ms=percentile(ordered, 0.50) * 1e3,
            p90_ms=percentile(ordered, 0.90) * 1e3,
            p99_ms=percentile(ordered, 0.99) * 1e3,
            max_ms=(ordered[-1] if ordered else math.nan) * 1e3,
        )


class TrafficMeter:
    """Counts and times the requests one Session sends."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        #: Requests by ``"METHOD /path"`` (query left out).
        self.requests: Counter[str] = Counter()
        #: Answers that were Kraken's ``apiLimitExceeded`` (or an HTTP 429).
        self.limit_refusals = 0
        self.failures = 0

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    def latency(self) -> LatencySummary:
        return LatencySummary.of(self.latencies)


class MeteredTransport(httpx.AsyncBaseTransport):
    """Pass requests to ``inner`` and record each one on ``meter``."""

    def __init__(self, inner: httpx.AsyncBaseTransport, meter: TrafficMeter) -> None:
        self._inner = inner
        self.meter = meter

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        meter = self.meter
        meter.requests[f"{request.method} {request.url.path}"] += 1
        started = time.perf_counter()
        try:
            response = await self._inner.handle_async_request(request)
            if response.is_stream_consumed:  # built from content: already in memory
                raw = response.content
            else:
                try:
                    raw = b"".join([chunk async for chunk in response.aiter_raw()])
                finally:
                    await response.aclose()
                response = httpx.Response(
                    response.status_code,
                    headers=response.headers.raw,
                    stream=httpx.ByteStream(raw),
                    request=request,
                    extensions=response.extensions,
                )
        except BaseException:
            meter.failures += 1
            raise
        meter.latencies.append(time.perf_counter() - started)
        # A compressed body is not searched: the count is then a floor (the twin never
        # compresses, and counts refusals on its side as well).
        if response.status_code == 429 or _LIMIT_CODE in raw:
            meter.limit_refusals += 1
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()
