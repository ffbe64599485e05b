"""Client-side rate limiting: never send what the exchange would refuse, and be fair about it.

Two kinds of bucket, and a request waits on every one that applies:

* the design card's request buckets (aiolimiter): 500 public requests / 10 s and 100 private
  requests / 10 s. aiolimiter is a leaky bucket that starts empty, so it may admit a burst of
  its full capacity and then its steady rate.
* Kraken's documented cost budgets, which the exchange really meters: 500 cost units / 10 s
  on private ``/derivatives`` calls and 100 tokens / 10 min on the history API. These are
  sliding windows: at most ``capacity`` units in any window, the first window included, so a
  burst never exceeds what a fixed-window or token-bucket meter on the exchange accepts. A
  small ``margin`` widens the window to absorb network jitter between sending and arriving.
  Waiters are served first come, first served, so a cost-25 call is not starved by a stream of
  cost-2 calls; after an ``apiLimitExceeded`` the budget cools down before anything is sent.

All waiting uses the running loop's clock, so tests drive it with a virtual-time loop.
"""

from __future__ import annotations

import asyncio
import enum
from collections import deque

import attrs
from aiolimiter import AsyncLimiter

from .errors import InvalidArgumentError

__all__ = [
    "Budget",
    "CostWindow",
    "RateLimitPolicy",
    "RateLimiter",
    "WindowLimit",
]


class Budget(enum.Enum):
    """Kraken's separately metered pools."""

    DERIVATIVES = "derivatives"
    HISTORY = "history"


@attrs.frozen
class WindowLimit:
    """``capacity`` units per ``period`` seconds."""

    capacity: int
    period: float

    def __attrs_post_init__(self) -> None:
        if self.capacity <= 0 or self.period <= 0:
            raise ValueError("a rate limit needs a positive capacity and period")


@attrs.frozen(kw_only=True)
class RateLimitPolicy:
    """Which buckets a Session keeps; ``None`` switches a bucket off.

    Presets: :meth:`card` (the default: the card's request buckets and Kraken's budgets),
    :meth:`kraken` (only what the exchange meters, for the most throughput) and
    :meth:`unlimited` (nothing; for tests and a twin without limits).
    """

    public_requests: WindowLimit | None = WindowLimit(500, 10.0)
    private_requests: WindowLimit | None = WindowLimit(100, 10.0)
    derivatives_budget: WindowLimit | None = WindowLimit(500, 10.0)
    history_budget: WindowLimit | None = WindowLimit(100, 600.0)
    #: Seconds added to each cost window so requests that leave together but arrive apart
    #: still fit the exchange's window.
    margin: float = 0.2
    #: Seconds a budget stays closed after the exchange answered ``apiLimitExceeded``.
    cooldown: float = 10.0

    @classmethod
    def card(cls) -> RateLimitPolicy:
        return cls()

    @classmethod
    def kraken(cls) -> RateLimitPolicy:
        return cls(public_requests=None, private_requests=None)

    @classmethod
    def unlimited(cls) -> RateLimitPolicy:
        return cls(
            public_requests=None,
            private_requests=None,
            derivatives_budget=None,
            history_budget=None,
        )


class CostWindow:
    """At most ``capacity`` cost units in any sliding window of ``period`` seconds, FIFO."""

    def __init__(self, limit: WindowLimit, *, margin: float = 0.0) -> None:
        self.capacity = limit.capacity
        self.period = limit.period + margin
        self._admitted: deque[tuple[float, int]] = deque()
        self._in_window = 0
        self._closed_until = 0.0
        self._turn = asyncio.Lock()
        #: Total units admitted so far, for budget reports.
        self.units_admitted = 0

    def _expire(self, now: float) -> None:
        horizon = now - self.period
        while self._admitted and self._admitted[0][0] <= horizon:
            self._in_window -= self._admitted.popleft()[1]

    def _wait_for(self, cost: int, now: float) -> float:
        """Seconds until ``cost`` more units fit, given what the window holds now."""
        if now < self._closed_until:
            return self._closed_until - now
        excess = self._in_window + cost - self.capacity
        if excess <= 0:
            return 0.0
        for admitted_at, units in self._admitted:
            excess -= units
            if excess <= 0:
                return admitted_at + self.period - now
        raise AssertionError("unreachable: cost was checked against capacity")

    def in_use(self, now: float) -> int:
        self._expire(now)
        return self._in_window

    async def acquire(self, cost: int) -> None:
        if cost > self.capacity:
            raise InvalidArgumentError(
                f"a request costing {cost} can never fit a budget of {self.capacity}"
            )
        loop = asyncio.get_running_loop()
        async with self._turn:  # asyncio.Lock wakes waiters in arrival order
            while True:
                now = loop.time()
                self._expire(now)
                delay = self._wait_for(cost, now)
                if delay <= 0:
                    break
                await asyncio.sleep(delay)
            self._admitted.append((now, cost))
            self._in_window += cost
            self.units_admitted += cost

    def cool_down(self, seconds: float) -> None:
        """Admit nothing for ``seconds`` from now (the exchange said we went too fast)."""
        until = asyncio.get_running_loop().time() + seconds
        self._closed_until = max(self._closed_until, until)


class RateLimiter:
    """The buckets of one Session, built from a :class:`RateLimitPolicy`."""

    def __init__(self, policy: RateLimitPolicy) -> None:
        self.policy = policy
        self._public = self._requests(policy.public_requests)
        self._private = self._requests(policy.private_requests)
        self.budgets: dict[Budget, CostWindow] = {}
        for budget, limit in (
            (Budget.DERIVATIVES, policy.derivatives_budget),
            (Budget.HISTORY, policy.history_budget),
        ):
            if limit is not None:
                self.budgets[budget] = CostWindow(limit, margin=policy.margin)

    @staticmethod
    def _requests(limit: WindowLimit | None) -> AsyncLimiter | None:
        return None if limit is None else AsyncLimiter(limit.capacity, limit.period)

    def check(self, budget: Budget | None, cost: int) -> None:
        """Refuse, before anything is queued, a cost no window could ever admit."""
        if budget is None or budget not in self.budgets:
            return
        capacity = self.budgets[budget].capacity
        if cost > capacity:
            raise InvalidArgumentError(
                f"a request costing {cost} can never fit the {budget.value} budget of {capacity}"
            )

    async def acquire(self, *, private: bool, budget: Budget | None, cost: int) -> None:
        """Wait until every bucket that applies has room, then take it.

        The cost window comes last, right before sending, so the time it records is the
        time the request leaves.
        """
        requests = self._private if private else self._public
        if requests is not None:
            await requests.acquire()
        window = self.budgets.get(budget) if budget is not None else None
        if window is not None:
            await window.acquire(cost)

    def cool_down(self, budget: Budget | None, seconds: float | None = None) -> None:
        window = self.budgets.get(budget) if budget is not None else None
        if window is not None:
            window.cool_down(self.policy.cooldown if seconds is None else seconds)
