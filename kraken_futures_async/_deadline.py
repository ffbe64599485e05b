"""One deadline per call: the Session's, or another for the calls made inside a ``with`` block.

A context variable carries the override, so it reaches every call the block makes, those of
tasks it starts (``asyncio.gather``) and those a call makes itself (an order's lookups after
a lost answer), without a keyword on every resource method.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

from .config import check_deadline

__all__ = ["CallDeadline"]


class CallDeadline:
    """Seconds each call of one Session may take; ``None`` means no deadline."""

    __slots__ = ("_override", "default")

    def __init__(self, default: float | None) -> None:
        self.default = check_deadline(default)
        # One variable per Session, so a block that overrides one Session leaves others alone.
        self._override: ContextVar[float | None] = ContextVar("kraken_futures_async.deadline")

    def seconds(self) -> float | None:
        """The deadline a call starting now gets."""
        return self._override.get(self.default)

    @contextlib.contextmanager
    def override(self, seconds: float | None) -> Iterator[None]:
        """Give every call started inside the block ``seconds`` instead of the default."""
        token = self._override.set(check_deadline(seconds))
        try:
            yield
        finally:
            self._override.reset(token)
