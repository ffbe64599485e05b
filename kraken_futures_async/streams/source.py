"""The line between the streams users hold and the socket that feeds them.

A :class:`StreamSource` (today :class:`kraken_futures_async.uws.UwsConnection`) owns the
socket: it subscribes, waits for acks, routes each push by ``(channel, symbol)`` to a
:class:`Sink`, reconnects and resubscribes. The sinks (in :mod:`.subscriptions`) turn the
decoded JSON into typed items. Nothing here knows aiohttp or any wire library.

Sinks are called from the source's reader task, so they must not block: each call does
its work (decode, apply to a book) and returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from ..errors import KrakenFuturesError

__all__ = ["Feed", "Sink", "StreamSource"]


class Sink(Protocol):
    """Where a source delivers what it receives for one ``(channel, symbol)``."""

    def deliver(self, kind: str, data: Any) -> None:
        """One push for this key: ``kind`` is ``"snapshot"`` or ``"update"``; ``data`` is the
        element of the push's ``data`` list for this symbol (or the whole ``data`` object
        for channels that send one), decoded with exact Decimals."""
        ...

    def link_lost(self) -> None:
        """The socket dropped; nothing arrives until :meth:`link_restored`."""
        ...

    def link_restored(self) -> None:
        """The subscription was made again on a new socket (its snapshot follows)."""
        ...

    def fail(self, error: KrakenFuturesError) -> None:
        """The subscription is over because of ``error``; the consumer should see it."""
        ...

    def end(self) -> None:
        """The source closed (the Session was closed): the subscription ends cleanly."""
        ...


class Feed(Protocol):
    """One live subscription on a source."""

    def resync(self) -> None:
        """Ask for a fresh snapshot (unsubscribe, then subscribe again), in the background.

        A failure reaches the sink through :meth:`Sink.fail`.
        """
        ...

    async def close(self) -> None:
        """Unsubscribe and stop delivering; calling it again does nothing."""
        ...


class StreamSource(Protocol):
    """What ``kf.stream`` needs from a socket."""

    async def subscribe(
        self, channel: str, symbol: str | None, params: Mapping[str, Any], sink: Sink
    ) -> Feed:
        """Subscribe ``channel`` (for ``symbol``, if it has one) with extra ``params`` and wait
        for Kraken's ack; raise a :class:`~kraken_futures_async.streams.StreamError` if it is
        refused or does not come in time."""
        ...

    async def watch_status(self, sink: Sink) -> Feed:
        """Deliver every ``status`` push to ``sink`` (no subscription: Kraken pushes them)."""
        ...
