"""Nonces strictly increasing per key across every process that shares it.

Through Redis, each private call's nonce is drawn in the same script that admits it into
the cost window (no extra round trip): one more than the larger of the key's last nonce and
Redis's clock in milliseconds (the scale of :class:`~kraken_futures_async.NonceSource`, so
the key stays usable by other clients), skipping the residues modulo 16 that processes on
the key hold for their fallback. The signer takes it from a context variable set by the
admission, in the same task.

While Redis is away, a process draws locally: the larger of its own last nonce and the
millisecond clock (set to Redis's by the offset last seen), in its own residue modulo 16
(``1..15``, handed out by Redis at start, the lowest free). So fallback nonces never repeat
a shared one or another process's (up to 15 processes; past that two share a residue), and
the floor each process sends with every draw keeps Redis above its fallback nonces once it
returns. Shared nonces step by about 16 / (16 - processes): a burst of 100 calls among 4
processes leads the clock by at most about 133 ms, like the in-process source's 100 ms.
"""

from __future__ import annotations

import threading
import time
from contextvars import ContextVar

from ..auth import NonceSource
from .link import RedisDownError, RedisLink

__all__ = ["MODULUS", "SharedNonceSource"]

#: Shared nonces are multiples of it; each process's fallback nonces have their own residue.
MODULUS = 16


class SharedNonceSource(NonceSource):
    """The key's nonce sequence in Redis, with a local fallback that never collides with it."""

    def __init__(self, link: RedisLink) -> None:
        super().__init__()
        self._link = link
        self._pending: ContextVar[int | None] = ContextVar(
            "kraken_futures_async.shared_nonce", default=None
        )
        self._floor_lock = threading.Lock()

    def hand(self, nonce: int | None) -> None:
        """The nonce the next signature in this task uses (None: draw locally)."""
        self._pending.set(nonce)

    def floor(self) -> int:
        """The highest nonce this process used: Redis hands out only higher ones."""
        return self._last

    def next(self) -> str:
        """The next nonce: the one the admission drew in Redis for this call, or, while Redis
        is away, a local one in this process's own residue."""
        pending = self._pending.get()
        with self._lock:
            if pending is not None and pending > self._last:
                self._pending.set(None)
                self._last = pending
                return str(pending)
            clock = time.time_ns() // 1_000_000 + self._link.clock_offset_ms
            start = max(self._last, clock)
            nonce = start - start % MODULUS + self._link.slot
            if nonce <= start:
                nonce += MODULUS
            self._last = nonce
            return str(nonce)

    async def draw(self) -> None:
        """Draw a shared nonce for the next signed call of this task (no window admits it)."""
        if not self._link.up:
            self.hand(None)
            return
        try:
            keys = [self._link.key("nonce"), self._link.key("slot_of")]
            nonce, now_us = await self._link.run("NONCE", keys, [self.floor()])
        except RedisDownError as reason:
            self._link.failed(reason)
            self.hand(None)
            return
        self._link.note_time(int(now_us))
        self.hand(int(nonce))
