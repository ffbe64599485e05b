"""Time for the twin: the wall clock when serving, a manual clock in tests.

Everything in the twin that depends on time (prices, triggers, the dead man's switch, rate
limits, timestamps) reads one Clock, so a test can move time forward without waiting.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Protocol

__all__ = ["DEFAULT_START", "Clock", "ManualClock", "SystemClock"]

#: Where a ManualClock starts unless told otherwise: 2026-11-24T00:00:00Z.
DEFAULT_START = dt.datetime(2026, 11, 24, tzinfo=dt.UTC).timestamp()


class Clock(Protocol):
    """Where the twin reads the time: ``SystemClock`` for real time, ``ManualClock`` for
    tests that move time themselves."""

    def time(self) -> float:
        """Seconds since the Unix epoch."""
        ...


class SystemClock:
    """The machine's wall clock."""

    def time(self) -> float:
        """Seconds since the Unix epoch, from the machine's clock."""
        return time.time()


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start: float = DEFAULT_START) -> None:
        self._now = start

    def time(self) -> float:
        """The time last set or advanced to."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``; it never runs backwards."""
        if seconds < 0:
            raise ValueError("time does not run backwards")
        self._now += seconds

    def set(self, timestamp: float) -> None:
        """Jump to ``timestamp`` (seconds since the epoch); it never runs backwards."""
        if timestamp < self._now:
            raise ValueError("time does not run backwards")
        self._now = timestamp
