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

Risk-reducing calls (cancels, cancel-all, the dead man's switch, reduce-only orders) do not
queue behind sends and reads. They have their own first-come-first-served line, and a
*reserve* of the derivatives budget (10 % by default) that only they may use: sends and reads
are admitted while the window holds at most ``capacity - reserve`` units, risk-reducing calls
while it holds at most ``capacity``. So even right after a burst that used everything sends
may use, a cancel leaves at once, and the exchange still never sees more than its budget.
They never wait on the card's request bucket either (the exchange meters cost, not requests):
they are charged to it when it has room and pass when it has none.

The rule that keeps a stream of cancels from starving sends: while sends or reads are
waiting, risk-reducing calls may hold at most half of the unreserved budget (225 of 500 units
by default), so the calls that wait always get the other half. A single risk-reducing call
larger than that share still goes once the window holds none of theirs.

A request waits its turn in its cost window first and takes its request-bucket slot only once
the window has room, so every bucket is charged at the moment the request leaves.

All waiting uses the running loop's clock, so tests drive it with a virtual-time loop.
"""

from __future__ import annotations

import asyncio
import enum
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Protocol

import attrs
from aiolimiter import AsyncLimiter

from .errors import InvalidArgumentError

__all__ = [
    "Budget",
    "BudgetUsage",
    "BudgetWindow",
    "CostWindow",
    "RateLimitPolicy",
    "RateLimiter",
    "SharedWindows",
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
    #: Share of the derivatives budget only risk-reducing calls may use (0 switches it off).
    reserve: float = attrs.field(default=0.1)

    @reserve.validator
    def _check_reserve(self, _attribute: object, value: float) -> None:
        if not 0.0 <= value < 1.0:
            raise InvalidArgumentError(f"reserve is a share of the budget in [0, 1), got {value}")

    def shared_windows(self) -> SharedWindows | None:
        """Where the cost windows live when several processes share one key (``None``: in
        this process). ``Session(shared_budget=...)`` gives a policy that says where
        (:mod:`.shared_budget`)."""
        return None

    @classmethod
    def card(cls) -> RateLimitPolicy:
        """The default: the card's request buckets and Kraken's cost budgets."""
        return cls()

    @classmethod
    def kraken(cls) -> RateLimitPolicy:
        """Only the cost budgets Kraken meters, for the most throughput."""
        return cls(public_requests=None, private_requests=None)

    @classmethod
    def unlimited(cls) -> RateLimitPolicy:
        """No metering at all: for tests, or a twin run without limits."""
        return cls(
            public_requests=None,
            private_requests=None,
            derivatives_budget=None,
            history_budget=None,
        )


@attrs.frozen
class BudgetUsage:
    """One budget at one moment, for reports: what the window holds and who waits."""

    capacity: int
    #: The sliding window in seconds, margin included.
    period: float
    in_window: int
    units_admitted: int
    waiting: int
    #: Seconds left of a cool-down after ``apiLimitExceeded`` (0 when open).
    closed_for: float


class BudgetWindow(Protocol):
    """What a :class:`RateLimiter` needs of a cost window: the in-process :class:`CostWindow`,
    or one kept in Redis for several processes on one key."""

    capacity: int
    reserve: int
    units_admitted: int

    async def acquire(
        self,
        cost: int,
        *,
        priority: bool = False,
        then: Callable[[], Awaitable[object]] | None = None,
    ) -> None: ...

    def usage(self, now: float | None = None) -> BudgetUsage: ...

    def cool_down(self, seconds: float) -> None: ...


class SharedWindows(Protocol):
    """Builds the cost windows of a budget shared by several processes (see ``shared``)."""

    def window(
        self, budget: Budget, limit: WindowLimit, *, margin: float, reserve: int
    ) -> BudgetWindow: ...

    async def unmetered_private(self) -> None:
        """Called before a private call no cost window admits (it still needs a nonce)."""


#: asyncio runs a timer once the clock is within its resolution of the deadline; a deadline
#: that close counts as reached here too, or a waiter woken a hair early would spin.
_CLOCK_SLACK = time.get_clock_info("monotonic").resolution


class CostWindow:
    """At most ``capacity`` cost units in any sliding window of ``period`` seconds.

    Two first-come-first-served lines: ordinary calls, which may fill the window up to
    ``capacity - reserve``, and risk-reducing (``priority``) calls, which may fill all of it
    and never queue behind ordinary ones (the module docstring has the fairness rule).
    """

    def __init__(self, limit: WindowLimit, *, margin: float = 0.0, reserve: int = 0) -> None:
        if not 0 <= reserve < limit.capacity:
            raise InvalidArgumentError(
                f"a reserve of {reserve} units does not fit a budget of {limit.capacity}"
            )
        self.capacity = limit.capacity
        self.period = limit.period + margin
        self.reserve = reserve
        #: Most units risk-reducing calls may hold while ordinary calls wait.
        self.priority_share = (limit.capacity - reserve) // 2
        #: (time the units leave the window, units, risk-reducing), oldest first.
        self._admitted: deque[tuple[float, int, bool]] = deque()
        self._in_window = 0
        self._priority_in_window = 0
        self._closed_until = -math.inf
        self._turns = {False: asyncio.Lock(), True: asyncio.Lock()}
        self._waiting = 0
        self._ordinary_waiting = 0
        #: Woken when no ordinary call waits any more (the priority share no longer binds).
        self._wake: asyncio.Future[None] | None = None
        #: Total units admitted so far, for budget reports.
        self.units_admitted = 0

    def _expire(self, now: float) -> None:
        admitted = self._admitted
        while admitted and admitted[0][0] <= now + _CLOCK_SLACK:
            _, units, priority = admitted.popleft()
            self._in_window -= units
            if priority:
                self._priority_in_window -= units

    def _ready_at(self, cost: int, now: float, priority: bool = False) -> float:
        """The time ``cost`` more units fit (``now`` if they fit already)."""
        self._expire(now)
        ready = self._closed_until if self._closed_until > now + _CLOCK_SLACK else now
        limit = self.capacity if priority else self.capacity - self.reserve
        excess = self._in_window + cost - limit
        for leaves_at, units, _ in self._admitted:
            if excess <= 0:
                break
            excess -= units
            ready = max(ready, leaves_at)
        if priority and self._ordinary_waiting and self._priority_in_window:
            own = self._priority_in_window + cost - self.priority_share
            for leaves_at, units, is_priority in self._admitted:
                if own <= 0:
                    break
                if is_priority:
                    own -= units
                    ready = max(ready, leaves_at)
        return ready

    def _check(self, cost: int) -> None:
        if not 0 <= cost <= self.capacity:
            raise InvalidArgumentError(
                f"a request costing {cost} can never fit a budget of {self.capacity}"
            )

    def in_use(self, now: float) -> int:
        self._expire(now)
        return self._in_window

    def usage(self, now: float | None = None) -> BudgetUsage:
        """A read-only snapshot; ``now`` defaults to the running loop's clock."""
        if now is None:
            now = asyncio.get_running_loop().time()
        return BudgetUsage(
            capacity=self.capacity,
            period=self.period,
            in_window=self.in_use(now),
            units_admitted=self.units_admitted,
            waiting=self._waiting,
            closed_for=max(0.0, self._closed_until - now),
        )

    async def _until_fits(self, loop: asyncio.AbstractEventLoop, cost: int, priority: bool) -> None:
        while True:
            now = loop.time()
            ready = self._ready_at(cost, now, priority)
            if ready <= now:
                return
            if priority and self._ordinary_waiting:
                # The share may stop binding before ``ready``: wake when ordinary calls leave.
                if self._wake is None:
                    self._wake = loop.create_future()
                await asyncio.wait((self._wake,), timeout=ready - now)
            else:
                await asyncio.sleep(ready - now)

    async def acquire(
        self,
        cost: int,
        *,
        priority: bool = False,
        then: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        """Wait for this request's turn and room for ``cost`` units, then take them.

        ``then`` (another bucket's acquire) is awaited once the units fit and before they are
        taken, so every bucket is taken at the moment the request leaves and the window
        records the true sending time. The room is checked again afterwards: a cool-down or
        a risk-reducing call may have taken it meanwhile.
        """
        self._check(cost)
        loop = asyncio.get_running_loop()
        self._waiting += 1
        if not priority:
            self._ordinary_waiting += 1
        try:
            async with self._turns[priority]:  # asyncio.Lock wakes waiters in arrival order
                await self._until_fits(loop, cost, priority)
                if then is not None:
                    await then()
                    await self._until_fits(loop, cost, priority)
                now = loop.time()
                self._admitted.append((now + self.period, cost, priority))
                self._in_window += cost
                if priority:
                    self._priority_in_window += cost
                self.units_admitted += cost
        finally:
            self._waiting -= 1
            if not priority:
                self._ordinary_waiting -= 1
                if not self._ordinary_waiting and self._wake is not None:
                    self._wake.set_result(None)
                    self._wake = None

    def cool_down(self, seconds: float) -> None:
        """Admit nothing for ``seconds`` from now (the exchange said we went too fast).

        At most one window: a longer wait (a hostile or garbled ``rate-limit-reset``) would
        close the budget for every later call, and a full window always frees the budget.
        """
        seconds = min(max(seconds, 0.0), self.period)
        self.close_until(asyncio.get_running_loop().time() + seconds)

    def close_until(self, when: float) -> None:
        """Admit nothing before ``when`` (the loop's clock): a cool-down, or a shared budget's
        fallback that must first let everything the other processes sent leave the window."""
        self._closed_until = max(self._closed_until, when)

    def entries(self, now: float) -> list[tuple[float, int, bool]]:
        """(seconds left in the window, units, risk-reducing) of each admission still in it."""
        self._expire(now)
        return [(leaves_at - now, units, priority) for leaves_at, units, priority in self._admitted]


def _take_if_free(bucket: AsyncLimiter) -> Callable[[], Awaitable[object]]:
    """A request-bucket take that never waits: the slot is taken only when it is free."""

    async def take() -> None:
        if bucket.has_capacity():
            await bucket.acquire()

    return take


class RateLimiter:
    """The buckets of one Session, built from a :class:`RateLimitPolicy`."""

    def __init__(self, policy: RateLimitPolicy) -> None:
        self.policy = policy
        self._public = self._requests(policy.public_requests)
        self._private = self._requests(policy.private_requests)
        self.budgets: dict[Budget, BudgetWindow] = {}
        self._shared = policy.shared_windows()
        for budget, limit in (
            (Budget.DERIVATIVES, policy.derivatives_budget),
            (Budget.HISTORY, policy.history_budget),
        ):
            if limit is not None:
                # Only the derivatives budget has risk-reducing calls to keep room for.
                share = policy.reserve if budget is Budget.DERIVATIVES else 0.0
                reserve = math.floor(limit.capacity * share)
                if self._shared is not None:
                    self.budgets[budget] = self._shared.window(
                        budget, limit, margin=policy.margin, reserve=reserve
                    )
                else:
                    self.budgets[budget] = CostWindow(limit, margin=policy.margin, reserve=reserve)

    @staticmethod
    def _requests(limit: WindowLimit | None) -> AsyncLimiter | None:
        return None if limit is None else AsyncLimiter(limit.capacity, limit.period)

    def check(self, budget: Budget | None, cost: int) -> None:
        """Refuse, before anything is queued, a cost no window could ever admit."""
        if budget is None or budget not in self.budgets:
            return
        capacity = self.budgets[budget].capacity
        if not 0 <= cost <= capacity:
            raise InvalidArgumentError(
                f"a request costing {cost} can never fit the {budget.value} budget of {capacity}"
            )

    async def acquire(
        self, *, private: bool, budget: Budget | None, cost: int, priority: bool = False
    ) -> None:
        """Wait until every bucket that applies has room, then take them all at once.

        The request first waits its turn in its cost window; the request bucket is taken
        only when the window has room, so neither is taken long before the request leaves.
        (Taking the bucket first let a backlog that had queued in the window go out in one
        burst when the window reopened, past the request bucket's rate.) A risk-reducing
        (``priority``) call is charged to the request bucket only when it has room.
        """
        requests = self._private if private else self._public
        take: Callable[[], Awaitable[object]] | None = None
        if requests is not None:
            take = _take_if_free(requests) if priority else requests.acquire
        window = self.budgets.get(budget) if budget is not None else None
        if window is not None:
            await window.acquire(cost, priority=priority, then=take)
            return
        if take is not None:
            await take()
        if private and self._shared is not None:
            await self._shared.unmetered_private()

    def usage(self) -> dict[Budget, BudgetUsage]:
        """A snapshot of every budget kept, for reports (call it on the Session's loop)."""
        now = asyncio.get_running_loop().time()
        return {budget: window.usage(now) for budget, window in self.budgets.items()}

    def cool_down(self, budget: Budget | None, seconds: float | None = None) -> None:
        window = self.budgets.get(budget) if budget is not None else None
        if window is not None:
            window.cool_down(self.policy.cooldown if seconds is None else seconds)
