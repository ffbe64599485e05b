"""An asyncio event loop on virtual time, so timer-driven code is tested without waiting.

The loop still polls real I/O (its self-pipe, sockets, executor callbacks), but never sleeps:
when nothing is ready and the loop would block until its next timer, the clock jumps straight
to that timer. ``asyncio.sleep``, ``call_at`` and aiolimiter (which reads ``loop.time()``)
therefore all follow the same virtual clock, and a ten-minute rate-limit window takes
microseconds of real time.
"""

from __future__ import annotations

import asyncio
import collections
import selectors
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import FileDescriptorLike

__all__ = ["VirtualClockLoop", "run_virtual"]

T = TypeVar("T")

#: Real seconds a virtual run may take before it is declared stuck (a spin or a deadlock).
REAL_TIME_GUARD = 90.0


class _JumpingSelector(selectors.BaseSelector):
    """Delegates to a real selector, but turns a timed wait into a jump of the virtual clock."""

    def __init__(self, on_idle: Callable[[float], None], on_busy: Callable[[], None]) -> None:
        self._real = selectors.DefaultSelector()
        self._on_idle = on_idle
        self._on_busy = on_busy
        self._started = time.monotonic()

    def register(
        self, fileobj: FileDescriptorLike, events: int, data: Any = None
    ) -> selectors.SelectorKey:
        return self._real.register(fileobj, events, data)

    def unregister(self, fileobj: FileDescriptorLike) -> selectors.SelectorKey:
        return self._real.unregister(fileobj)

    def modify(
        self, fileobj: FileDescriptorLike, events: int, data: Any = None
    ) -> selectors.SelectorKey:
        return self._real.modify(fileobj, events, data)

    def get_map(self) -> Mapping[FileDescriptorLike, selectors.SelectorKey]:
        return self._real.get_map()

    def close(self) -> None:
        self._real.close()

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if time.monotonic() - self._started > REAL_TIME_GUARD:
            raise RuntimeError("the virtual-time loop ran too long in real time: a spin?")
        if timeout is None:
            # Nothing scheduled: only real I/O (an executor thread) can wake the loop.
            ready = self._real.select(REAL_TIME_GUARD)
            if not ready:
                raise RuntimeError("the virtual-time loop deadlocked: no timers and no I/O")
            return ready
        ready = self._real.select(0)
        if not ready and timeout > 0:
            self._on_idle(timeout)
        elif not ready:
            self._on_busy()
        return ready


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """A selector event loop whose ``time()`` only moves when the loop would otherwise sleep."""

    # BaseEventLoop's heap of pending timers; read to land exactly on the next one.
    _scheduled: list[asyncio.TimerHandle]

    #: Passes at one instant with only due timers to run before time is nudged forward.
    STUCK_PASSES = 100
    #: The nudge: a real clock moves at least this much between two passes of a loop.
    NUDGE = 1e-9

    # BaseEventLoop's queue of callbacks ready to run.
    _ready: collections.deque[asyncio.Handle]

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._busy_at = start
        self._busy_passes = 0
        super().__init__(_JumpingSelector(self._jump, self._busy))

    def time(self) -> float:
        return self._now

    def _busy(self) -> None:
        # A timer re-armed at "now" forever (aiolimiter when float rounding leaves it a
        # hair short of capacity) would spin here, where a real clock moves a little on
        # every pass and ends it. Do the same, but only when stuck, so exact times hold.
        if self._ready or self._now != self._busy_at:
            self._busy_at, self._busy_passes = self._now, 0
            return
        self._busy_passes += 1
        if self._busy_passes >= self.STUCK_PASSES:
            self._now += self.NUDGE
            self._busy_passes = 0

    def _jump(self, timeout: float) -> None:
        # The loop asks to wait ``next_timer - now`` (capped at a day). Landing on the timer's
        # own deadline, not on now + timeout, keeps deadlines exact despite float rounding.
        target = self._now + timeout
        if self._scheduled:
            due = self._scheduled[0].when()
            if abs(due - target) <= 1e-9 * max(1.0, abs(due)):
                target = due
        self._now = max(self._now, target)


def run_virtual(coro_factory: Callable[[], Coroutine[Any, Any, T]]) -> tuple[T, float]:
    """Run a coroutine on a fresh virtual-time loop; return its result and the virtual seconds.

    The loop is closed afterwards (tasks cancelled, async generators and executor shut down).
    """
    with asyncio.Runner(loop_factory=VirtualClockLoop) as runner:
        loop = runner.get_loop()
        start = loop.time()
        result = runner.run(coro_factory())
        return result, loop.time() - start
