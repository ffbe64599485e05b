"""Kraken's rate limits, metered per API key as the exchange meters them (reference §6).

Each budget is a token bucket on the twin's clock: it starts full and refills evenly, so the
``/derivatives`` budget (500 units, 50 per second) admits 50 orders at once and then one
more every 0.2 s. A token bucket admits everything a 500-per-10-s sliding window admits, so
a client that keeps to that window is never refused. Public calls cost nothing and are not
metered; a refused call takes nothing from the bucket.

Over budget, ``/derivatives`` answers ``apiLimitExceeded`` (HTTP 200, classic form) and the
history API answers HTTP 429 with a plain-text body and a ``rate-limit-reset`` header.
"""

from __future__ import annotations

import math
from collections import Counter

from ...ratelimit import Budget
from ...rest.endpoints import Endpoint, WireParams
from ..clock import Clock
from ..config import BucketLimit
from .errors import HttpRefusalError

__all__ = ["BudgetExceededError", "RateMeter", "TokenBucket"]


class BudgetExceededError(HttpRefusalError):
    """A refusal for going over a budget, with the headers Kraken adds to it."""

    def __init__(
        self,
        code: str,
        *,
        retry_after: float,
        http_status: int = 200,
        plain_text: bool = False,
        message: str | None = None,
    ) -> None:
        super().__init__(code, http_status=http_status, plain_text=plain_text, message=message)
        self.retry_after = retry_after
        self.headers: list[tuple[bytes, bytes]] = []
        if plain_text:
            reset = str(math.ceil(retry_after)).encode()
            self.headers.append((b"rate-limit-reset", reset))


class TokenBucket:
    """``capacity`` units that refill at ``capacity / period`` per second, never above full."""

    __slots__ = ("_rate", "_updated", "capacity", "tokens")

    def __init__(self, limit: BucketLimit, now: float) -> None:
        self.capacity = float(limit.capacity)
        self._rate = limit.refill_per_second
        self.tokens = self.capacity
        self._updated = now

    def _refill(self, now: float) -> None:
        if now > self._updated:
            self.tokens = min(self.capacity, self.tokens + (now - self._updated) * self._rate)
            self._updated = now

    def take(self, cost: int, now: float) -> float:
        """Take ``cost`` units and return 0, or take nothing and return seconds until they fit."""
        self._refill(now)
        # A hair of slack so that refills summed in floating point do not refuse an exact fit.
        if cost <= self.tokens + 1e-9:
            self.tokens = max(0.0, self.tokens - cost)
            return 0.0
        if cost > self.capacity:
            return math.inf
        return (cost - self.tokens) / self._rate


class RateMeter:
    """The buckets of every API key, by budget; switched off, it admits everything."""

    def __init__(
        self,
        clock: Clock,
        limits: dict[Budget, BucketLimit],
        *,
        enabled: bool = True,
    ) -> None:
        self._clock = clock
        self._limits = limits
        self.enabled = enabled
        self._buckets: dict[tuple[str, Budget], TokenBucket] = {}
        #: Units admitted per budget, and refusals per budget, for reports and tests.
        self.admitted: Counter[Budget] = Counter()
        self.refused: Counter[Budget] = Counter()

    def charge(self, api_key: str, endpoint: Endpoint, params: WireParams) -> None:
        """Take the call's cost from the key's bucket or raise Kraken's refusal."""
        budget = endpoint.budget
        if not self.enabled or budget is None or budget not in self._limits:
            return
        cost = endpoint.cost_of(params)
        if cost <= 0:
            return
        now = self._clock.time()
        bucket = self._buckets.get((api_key, budget))
        if bucket is None:
            bucket = self._buckets[(api_key, budget)] = TokenBucket(self._limits[budget], now)
        wait = bucket.take(cost, now)
        if wait == 0.0:
            self.admitted[budget] += cost
            return
        self.refused[budget] += 1
        if budget is Budget.HISTORY:
            raise BudgetExceededError(
                "apiLimitExceeded",
                retry_after=wait,
                http_status=429,
                plain_text=True,
                message="Too many requests: history API rate limit exceeded",
            )
        raise BudgetExceededError("apiLimitExceeded", retry_after=wait)

    def available(self, api_key: str, budget: Budget) -> float:
        """Units the key could spend right now (full if it never called)."""
        limit = self._limits.get(budget)
        if limit is None:
            return math.inf
        bucket = self._buckets.get((api_key, budget))
        if bucket is None:
            return float(limit.capacity)
        bucket.take(0, self._clock.time())
        return bucket.tokens
