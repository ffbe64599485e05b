"""What :class:`~.connection.UwsConnection` keeps per subscription and per request.

:class:`_Registration` is one subscription kept alive across sockets (its request, its sink,
the socket generation it is live on); :class:`_Pending` a request waiting for its ack, failed
with :class:`_LinkLostError` when the socket goes; :func:`_succeeded` and :func:`_refusal`
read an ack. :class:`_Feed`, :class:`_SharedFeed` and :class:`_StatusFeed` are the handles
subscribers hold (the :class:`~kraken_futures_async.streams.source.Feed` protocol).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..streams.errors import SubscriptionRejectedError
from ..streams.source import Sink
from .fanout import Fanout
from .protocol import ASSET_CLASS

if TYPE_CHECKING:
    from .connection import UwsConnection

Key = tuple[str, str | None]
Message = dict[str, Any]


class _LinkLostError(Exception):
    """The socket went away while a request waited for its ack (internal)."""


class _Pending:
    __slots__ = ("future", "on_ack")

    def __init__(
        self, future: asyncio.Future[Message], on_ack: Callable[[Message], None] | None
    ) -> None:
        self.future = future
        self.on_ack = on_ack


class _Registration:
    """One subscription the connection keeps alive across sockets."""

    __slots__ = ("busy", "closed", "generation", "key", "lost", "ready", "request", "sink")

    def __init__(
        self, channel: str, symbol: str | None, params: Mapping[str, Any], sink: Sink
    ) -> None:
        self.key: Key = (channel, symbol)
        request: dict[str, Any] = {"channel": channel}
        if symbol is not None:
            request["symbol"] = [symbol]
        request.update(params)
        # a channel that takes no asset_class (private ``balances``) passes it as None
        if request.setdefault("asset_class", ASSET_CLASS) is None:
            del request["asset_class"]
        self.request = request
        self.sink = sink
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        #: The socket generation this subscription is live on (0: none).
        self.generation = 0
        self.lost = False
        self.closed = False
        self.busy = asyncio.Lock()

    def describe(self) -> str:
        channel, symbol = self.key
        return f"{channel} {symbol}" if symbol else channel


def _succeeded(ack: Message) -> bool:
    return ack.get("success") is True  # [?] choice 9: missing or not a boolean is a refusal


def _refusal(ack: Message, what: str) -> SubscriptionRejectedError:
    error = ack.get("error")
    text = error if isinstance(error, str) else "refused without an error string"
    return SubscriptionRejectedError(
        f"Kraken refused {what}: {text}", code=text, endpoint="uws", payload=ack
    )


class _Feed:
    """The handle a subscriber holds (the :class:`~kraken_futures_async.streams.source.Feed`)."""

    __slots__ = ("_connection", "_registration")

    def __init__(self, connection: UwsConnection, registration: _Registration) -> None:
        self._connection = connection
        self._registration = registration

    def resync(self) -> None:
        self._connection._spawn(self._connection._resync(self._registration))

    async def close(self) -> None:
        await self._connection._unsubscribe(self._registration)


class _SharedFeed:
    """One subscriber's handle on a shared private subscription: leaving unsubscribes
    only when nobody else listens."""

    __slots__ = ("_connection", "_registration", "_sink")

    def __init__(self, connection: UwsConnection, registration: _Registration, sink: Sink) -> None:
        self._connection = connection
        self._registration = registration
        self._sink = sink

    def resync(self) -> None:
        self._connection._spawn(self._connection._resync(self._registration))

    async def close(self) -> None:
        fanout = self._registration.sink
        assert isinstance(fanout, Fanout)
        fanout.remove(self._sink)
        if not fanout.sinks:
            await self._connection._unsubscribe(self._registration)


class _StatusFeed:
    __slots__ = ("_connection", "_sink")

    def __init__(self, connection: UwsConnection, sink: Sink) -> None:
        self._connection = connection
        self._sink = sink

    def resync(self) -> None:
        """Status pushes need no snapshot."""

    async def close(self) -> None:
        with contextlib.suppress(ValueError):
            self._connection._status_sinks.remove(self._sink)
