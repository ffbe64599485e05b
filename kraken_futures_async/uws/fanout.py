"""One private subscription shared by every subscriber on a socket.

Kraken binds a private channel to the socket and refuses a second ``positions`` or
``margin`` subscription on it (kraken-uws-api.md §5.4, §5.5), so ``kf.stream.executions()``,
the order tracker and the UWS backend's own order lookup all hear the same subscription.
:class:`Fanout` is its sink: it hands every push to each subscriber. A subscriber that joins
a live subscription has seen no snapshot yet; the connection asks Kraken for a fresh one
(unsubscribe, subscribe again) and, until it arrives, the joiner gets no updates and no
``link_restored`` of its own, so what it sees always starts with a snapshot.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ..errors import KrakenFuturesError
from ..streams.source import Sink

__all__ = ["SHARED_CHANNELS", "Fanout"]

logger = logging.getLogger("kraken_futures_async.uws")

#: Channels subscribed once per socket, whoever asks (the private ones, without a symbol).
SHARED_CHANNELS = frozenset(
    {"executions", "positions", "balances", "ledgers", "margin", "preferences"}
)


class Fanout:
    """The sink of a shared subscription: a :class:`~..streams.source.Sink` for many."""

    __slots__ = ("error", "joining", "sinks")

    def __init__(self, first: Sink) -> None:
        self.sinks: list[Sink] = [first]
        #: Subscribers still waiting for their first snapshot (by identity).
        self.joining: set[int] = set()
        #: Why the subscription ended, once it has.
        self.error: KrakenFuturesError | None = None

    def add(self, sink: Sink, *, joining: bool) -> None:
        self.sinks.append(sink)
        if joining:
            self.joining.add(id(sink))

    def remove(self, sink: Sink) -> None:
        self.joining.discard(id(sink))
        self.sinks = [s for s in self.sinks if s is not sink]

    def _each(self, what: str, call: Callable[[Sink], None], *, settled: bool) -> None:
        for sink in list(self.sinks):
            if settled and id(sink) in self.joining:
                continue
            try:
                call(sink)
            except Exception:  # one subscriber's bug must not starve the others
                logger.exception("uws: a subscriber failed on %s", what)

    def deliver(self, kind: str, data: Any) -> None:
        if kind == "snapshot":
            self.joining.clear()
            self._each("a snapshot", lambda s: s.deliver(kind, data), settled=False)
        else:
            self._each("a push", lambda s: s.deliver(kind, data), settled=True)

    def link_lost(self) -> None:
        self._each("link_lost", lambda s: s.link_lost(), settled=True)

    def link_restored(self) -> None:
        self._each("link_restored", lambda s: s.link_restored(), settled=True)

    def fail(self, error: KrakenFuturesError) -> None:
        self.error = error
        self._each("fail", lambda s: s.fail(error), settled=False)

    def end(self) -> None:
        self._each("end", lambda s: s.end(), settled=False)
