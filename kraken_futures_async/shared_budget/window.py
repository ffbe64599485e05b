"""A cost window kept in Redis for every process on one key, with a local fallback.

Inside a process, calls keep the in-process limiter's order: one first-come-first-served
line per kind (ordinary, risk-reducing), and only the head of each line talks to Redis. In
Redis the heads of all processes queue again in a line per kind (tickets), so across
processes it is first come, first served too, and risk-reducing calls never queue behind
ordinary ones. The admission script (:mod:`._lua`) applies the in-process rules: the
reserve, the risk-reducing share while ordinary calls wait, the cool-down, on Redis's clock.

A waiter is told how long to wait (until the window has room) or, behind another process's
head, polls; it never waits longer than ``SharedBudget.max_poll`` between two looks, and the
Session's deadline cancels the wait as in-process (the ticket is then given back).

**The fallback.** When Redis fails, each process admits from a local window of
``fallback_share`` of the budget (so ``1 / fallback_share`` processes together stay under the
exchange's limit). What the processes sent through Redis just before is still in the
exchange's window and nobody can read it now, so the local window opens one window after
the failure: a pause (cancels included), never an over-spend. When Redis answers again, the
fallback's admissions still in the window are written into the shared window before
anything else is admitted through it. A process cut off from Redis alone, while the others
still reach it, stops beating its heartbeat; the others then leave it its share (see the
``members`` key in :mod:`._lua`).
"""

from __future__ import annotations

import asyncio
import math
import secrets
from collections import deque
from collections.abc import Awaitable, Callable

from ..errors import InvalidArgumentError
from ..ratelimit import BudgetUsage, CostWindow, WindowLimit
from .link import RedisDownError, RedisLink
from .nonces import SharedNonceSource

__all__ = ["SharedCostWindow"]


class SharedCostWindow:
    """At most ``capacity`` units in any window of ``period`` seconds, over all processes."""

    def __init__(
        self,
        link: RedisLink,
        name: str,
        limit: WindowLimit,
        *,
        margin: float,
        reserve: int,
        nonces: SharedNonceSource | None,
    ) -> None:
        if not 0 <= reserve < limit.capacity:
            raise InvalidArgumentError(
                f"a reserve of {reserve} units does not fit a budget of {limit.capacity}"
            )
        self._link = link
        self._nonces = nonces
        self.name = name
        self.capacity = limit.capacity
        self.period = limit.period + margin
        self.reserve = reserve
        self.priority_share = (limit.capacity - reserve) // 2
        self.keys = [link.key(name, part) for part in ("window", "state", "line:0", "line:1")]
        self.keys += [link.key(name, "lease"), link.key("nonce"), link.key("members")]
        self.keys += [link.key("slot_of")]
        share = link.config.fallback_share
        #: What a process cut off from Redis may spend on its fallback: the others leave it.
        self._absent_units = 0 if share is None else max(1, math.floor(limit.capacity * share))
        self._fallback: CostWindow | None = None
        if share is not None:
            local = max(1, math.floor(limit.capacity * share))
            local_reserve = min(math.floor(reserve * share), local - 1)
            self._fallback = CostWindow(
                WindowLimit(local, limit.period), margin=margin, reserve=local_reserve
            )
        self._turns = {False: asyncio.Lock(), True: asyncio.Lock()}
        self._waiting = 0
        #: This process's admissions through Redis (loop time they leave, units, priority),
        #: written back if Redis comes back without its data.
        self._own: deque[tuple[float, int, bool]] = deque()
        self._in_window = 0
        self._closed_until = -math.inf
        self._epoch: str | None = None
        self.units_admitted = 0
        link.follow(self)
        if not link.up and link.down_since is not None:
            self.to_fallback(link.down_since)

    @property
    def state_key(self) -> str:
        """The Redis key that holds this window's state."""
        return self.keys[1]

    def _static_args(self) -> list[object]:
        return [
            self.capacity,
            round(self.period * 1_000_000),
            self.reserve,
            self.priority_share,
        ]

    async def acquire(
        self,
        cost: int,
        *,
        priority: bool = False,
        then: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        """Wait for this call's turn and room for ``cost`` units in the shared window, then
        take them (``then``, another bucket, is taken once they fit, as in-process)."""
        if not 0 <= cost <= self.capacity:
            raise InvalidArgumentError(
                f"a request costing {cost} can never fit a budget of {self.capacity}"
            )
        self._waiting += 1
        try:
            async with self._turns[priority]:
                while True:
                    if self._link.up:
                        try:
                            await self._shared(cost, priority, then)
                            return
                        except RedisDownError as reason:
                            self._link.failed(reason)
                            continue
                    await self._local(cost, priority, then)
                    return
        finally:
            self._waiting -= 1

    async def _shared(
        self, cost: int, priority: bool, then: Callable[[], Awaitable[object]] | None
    ) -> None:
        link, config = self._link, self._link.config
        loop = asyncio.get_running_loop()
        nonces = self._nonces
        ticket = ""
        admitted = False
        try:
            while True:
                mode = "peek" if then is not None else "admit"
                reply = await link.run(
                    "ADMIT",
                    self.keys,
                    [
                        mode,
                        cost,
                        int(priority),
                        *self._static_args(),
                        ticket,
                        round(config.lease * 1_000_000),
                        int(nonces is not None),
                        nonces.floor() if nonces is not None else 0,
                        link.epoch,
                        round(config.min_poll * 1_000_000),
                        *link.member_args(),
                        self._absent_units,
                    ],
                )
                status, wait_us, ticket_no, total, closed_us, epoch, nonce, now_us = reply
                ticket = str(ticket_no)
                now = loop.time()
                self._in_window = int(total)
                self._closed_until = now + int(closed_us) / 1_000_000
                await self._check_epoch(epoch.decode() if isinstance(epoch, bytes) else epoch)
                if status == 1:
                    admitted = True
                    link.note_time(int(now_us))
                    if nonces is not None:
                        nonces.hand(int(nonce))
                    self._own.append((now + self.period, cost, priority))
                    while self._own and self._own[0][0] <= now:
                        self._own.popleft()
                    self.units_admitted += cost
                    return
                if status == 2 and then is not None:
                    await then()
                    then = None  # taken once; the window is checked again, as in-process
                    continue
                await asyncio.sleep(min(max(int(wait_us) / 1_000_000, 0.0), config.max_poll))
        finally:
            if ticket and not admitted:
                line = self.keys[3] if priority else self.keys[2]
                link.in_background("RELEASE", [line, self.keys[4]], [ticket, int(priority)])

    async def _check_epoch(self, epoch: str) -> None:
        """A Redis that lost its data gets this process's admissions still in the window."""
        if self._epoch is None:
            self._epoch = epoch
        elif epoch != self._epoch:
            self._epoch = epoch
            now = asyncio.get_running_loop().time()
            await self._replay([(at - now, units, prio) for at, units, prio in self._own])

    async def _local(
        self, cost: int, priority: bool, then: Callable[[], Awaitable[object]] | None
    ) -> None:
        if self._fallback is None:
            raise AssertionError("the link raises before a window without fallback gets here")
        if self._nonces is not None:
            self._nonces.hand(None)
        await self._fallback.acquire(cost, priority=priority, then=then)
        self.units_admitted += cost
        if self._link.up:
            # Redis came back while this call waited: the shared window must count it too.
            try:
                await self._replay([(self.period, cost, priority)])
            except RedisDownError as reason:
                self._link.failed(reason)

    def to_fallback(self, failed_at: float) -> None:
        """Redis failed: the local window opens once the shared window's units have left."""
        if self._fallback is not None:
            self._fallback.close_until(failed_at + self.period)

    async def back_to_redis(self) -> None:
        """Redis answers again: the fallback's admissions go into the shared window."""
        if self._fallback is None:
            return
        entries = self._fallback.entries(asyncio.get_running_loop().time())
        await self._replay(entries)

    async def _replay(self, entries: list[tuple[float, int, bool]]) -> None:
        args: list[object] = [
            self._link.epoch,
            self.capacity,
            round(self.period * 1_000_000),
            secrets.token_hex(4),
        ]
        for left, units, priority in entries:
            if left > 0:
                args += [round(left * 1_000_000), units, int(priority)]
        epoch = await self._link.run("REPLAY", self.keys[:2], args)
        self._epoch = epoch.decode() if isinstance(epoch, bytes) else str(epoch)

    def usage(self, now: float | None = None) -> BudgetUsage:
        """What this process last learnt of the shared window (or its fallback's state)."""
        loop_now = asyncio.get_running_loop().time() if now is None else now
        if not self._link.up and self._fallback is not None:
            local = self._fallback.usage(loop_now)
            return BudgetUsage(
                capacity=local.capacity,
                period=local.period,
                in_window=local.in_window,
                units_admitted=self.units_admitted,
                waiting=self._waiting,
                closed_for=local.closed_for,
            )
        return BudgetUsage(
            capacity=self.capacity,
            period=self.period,
            in_window=self._in_window,
            units_admitted=self.units_admitted,
            waiting=self._waiting,
            closed_for=max(0.0, self._closed_until - loop_now),
        )

    def cool_down(self, seconds: float) -> None:
        """Close the shared window for every process (and this process's fallback)."""
        seconds = min(max(seconds, 0.0), self.period)
        now = asyncio.get_running_loop().time()
        self._closed_until = max(self._closed_until, now + seconds)
        if self._fallback is not None:
            self._fallback.cool_down(seconds)
        if self._link.up:
            self._link.in_background("COOL_DOWN", self.keys[:2], [round(seconds * 1_000_000)])
