"""``kf.stream.executions()``, ``positions()`` and ``balances()``: your account, live.

::

    async with Session(Credentials.from_env()) as kf:      # with KRAKEN_API_KEY/SECRET
        async with kf.stream.executions() as events:
            async for event in events:                    # ExecutionUpdate or StreamReconnected
                print(event.exec_type, event.order_id, event.last_qty, event.last_price)

These are the private channels of Kraken's Unified WebSocket (kraken-uws-api.md §5): they
run on ``/v2/private`` and every request carries a token that a **Kraken** (Spot/Pro) key
fetches from Spot REST (:class:`~kraken_futures_async.uws.token.TokenProvider`; the Futures
key cannot). Without a Kraken key the call raises
:class:`~kraken_futures_async.MissingCredentialsError` at once, before anything is sent.

Which socket: a Session on ``backend="uws"`` already keeps the private socket, with these
three channels subscribed for its order lookup; the streams join those subscriptions (a
channel is subscribed once per socket: :mod:`kraken_futures_async.uws.fanout`). Any other
Session opens its own private socket on first use and closes it with the Session. Whoever
joins a live channel (a second iterator, the order tracker) gets a fresh snapshot, which
Kraken sends only to a new subscription: the channel is subscribed again, and the iterators
already on it see a :class:`StreamReconnected` marker and that snapshot too.

Each item is one element of a push (:class:`ExecutionUpdate`, :class:`PositionUpdate`,
:class:`BalanceUpdate`), ``snapshot`` True for those of the snapshot a subscription starts
with. The executions snapshot holds the open orders and the last fills (``snap_orders`` and
``snap_trades``, as the UWS backend subscribes them). A token Kraken refuses
(``EAPI:Invalid token``) is fetched again once and the subscription retried; a dropped
socket reconnects with a fresh token, resubscribes, and the iterator yields a
:class:`StreamReconnected` marker, then the new snapshot. Slow consumers are treated as on
the public item streams: nothing is dropped silently (``StreamOverflowError``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import cattrs

from ..auth import KRAKEN_API_KEY_ENV, KRAKEN_API_SECRET_ENV, Credentials
from ..errors import MissingCredentialsError, SessionStateError
from ..models.streams import BalanceUpdate, ExecutionUpdate, PositionUpdate, StreamReconnected
from .sinks import _Buffer, _ItemSink
from .source import Feed, Sink, StreamSource
from .subscriptions import DEFAULT_BUFFER, ItemSubscription, _Target

if TYPE_CHECKING:
    from ..config import Environment
    from ..uws.connection import UwsConnection, UwsSettings

__all__ = ["PRIVATE_PARAMS", "PrivateStreams", "private_streams_for"]

T = TypeVar("T")

#: What each channel is subscribed with: the UWS backend's own choice, so all share one.
PRIVATE_PARAMS: Mapping[str, Mapping[str, Any]] = {
    "executions": {"snap_orders": True, "snap_trades": True},
    "positions": {"snapshot": True},
    "balances": {"snapshot": True, "asset_class": None},  # §5.2: no asset_class
}


def _missing_key(what: str) -> MissingCredentialsError:
    return MissingCredentialsError(
        f"kf.stream.{what}() streams over the Unified WebSocket's private socket, which takes "
        "a Kraken (Spot/Pro) API key with WebSocket access, not the Futures key: "
        "Credentials(..., kraken_api_key=..., kraken_api_secret=...), or "
        f"{KRAKEN_API_KEY_ENV} and {KRAKEN_API_SECRET_ENV} with Credentials.from_env()"
    )


class _PrivateSource:
    """The private socket as a :class:`StreamSource`, found (or opened) on first use."""

    def __init__(self, connect: Callable[[], Awaitable[StreamSource]]) -> None:
        self._connect = connect

    async def subscribe(
        self, channel: str, symbol: str | None, params: Mapping[str, Any], sink: Sink
    ) -> Feed:
        source = await self._connect()
        return await source.subscribe(channel, symbol, params, sink)

    async def watch_status(self, sink: Sink) -> Feed:
        return await (await self._connect()).watch_status(sink)


class PrivateStreams:
    """The private channels of one Session (``kf.stream.executions()`` and the others).

    ``connect`` returns the private socket (None: the Session has no Kraken key).
    ``preferred``: whether helpers such as the order tracker should use these streams
    unasked (not when the Session's HTTP goes through a custom transport or backend the
    socket cannot follow). ``close`` closes a socket opened for these streams alone.
    """

    def __init__(
        self,
        connect: Callable[[], Awaitable[StreamSource]] | None,
        *,
        converter: cattrs.Converter | None = None,
        check_open: Callable[[], object] | None = None,
        buffer: int = DEFAULT_BUFFER,
        preferred: bool = True,
        close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        if converter is None:
            from ..converter import default_converter

            converter = default_converter()
        self._connect = connect
        self._converter = converter
        self._check_open = check_open or (lambda: None)
        self._buffer = buffer
        self.preferred = preferred and connect is not None
        self._close = close

    def __repr__(self) -> str:
        state = "available" if self.available else "no Kraken key"
        return f"<PrivateStreams {state}>"

    @property
    def available(self) -> bool:
        """Whether this Session can stream its account (it has a Kraken key)."""
        return self._connect is not None

    async def attach(self, channel: str, sink: Sink) -> Feed:
        """Subscribe ``sink`` to a private channel (``executions``, ``positions`` or
        ``balances``) and wait for the ack: what the order tracker listens with."""
        if self._connect is None:
            raise _missing_key(channel)
        self._check_open()
        source = await self._connect()
        return await source.subscribe(channel, None, PRIVATE_PARAMS[channel], sink)

    async def aclose(self) -> None:
        """Close the socket these streams opened for themselves (the Session does)."""
        if self._close is not None:
            await self._close()

    def executions(self) -> ItemSubscription[ExecutionUpdate | StreamReconnected]:
        """Your orders' events and fills (UWS ``executions``), as Kraken sends them."""
        converter = self._converter

        def decode(kind: str, data: Any) -> Iterable[ExecutionUpdate]:
            if not isinstance(data, list):
                raise TypeError(f"executions data is a list, got {type(data).__name__}")
            snapshot = kind == "snapshot"
            return [
                converter.structure({**element, "snapshot": snapshot}, ExecutionUpdate)
                for element in data
            ]

        return self._items("executions", decode)

    def positions(self) -> ItemSubscription[PositionUpdate | StreamReconnected]:
        """Your futures positions (UWS ``positions``): a snapshot, then each change (the
        channel's ``options`` list is not read: the library trades futures)."""
        converter = self._converter

        def decode(kind: str, data: Any) -> Iterable[PositionUpdate]:
            if not isinstance(data, dict):
                raise TypeError(f"positions data is an object, got {type(data).__name__}")
            snapshot = kind == "snapshot"
            return [
                converter.structure({**element, "snapshot": snapshot}, PositionUpdate)
                for element in data.get("futures") or []
            ]

        return self._items("positions", decode)

    def balances(self) -> ItemSubscription[BalanceUpdate | StreamReconnected]:
        """Your asset balances (UWS ``balances``): totals by asset, then ledger entries."""
        converter = self._converter

        def decode(kind: str, data: Any) -> Iterable[BalanceUpdate]:
            if not isinstance(data, list):
                raise TypeError(f"balances data is a list, got {type(data).__name__}")
            snapshot = kind == "snapshot"
            return [
                converter.structure({**element, "snapshot": snapshot}, BalanceUpdate)
                for element in data
            ]

        return self._items("balances", decode)

    def _items(
        self, channel: str, decode: Callable[[str, Any], Iterable[T]]
    ) -> ItemSubscription[T | StreamReconnected]:
        if self._connect is None:
            raise _missing_key(channel)
        buffer: _Buffer[T | StreamReconnected] = _Buffer(self._buffer, channel)
        sink = _ItemSink(channel, None, decode, buffer)
        target = _Target(channel, None, dict(PRIVATE_PARAMS[channel]), sink)
        return ItemSubscription(_PrivateSource(self._connect), self._check_open, [target], buffer)


def private_streams_for(
    credentials: Credentials | None,
    backend: object,
    *,
    base_url: str,
    environment: Environment | None,
    settings: UwsSettings,
    converter: cattrs.Converter | None,
    check_open: Callable[[], object],
    preferred: bool,
) -> PrivateStreams:
    """A Session's private streams: on its UWS backend's socket if it has one, else on a
    socket of their own opened on first use (with the Kraken key's tokens), else none."""
    from ..uws.backend import UwsBackend

    if isinstance(backend, UwsBackend):
        return PrivateStreams(
            backend.private_connection, converter=converter, check_open=check_open
        )
    if credentials is None or not credentials.has_kraken_key:
        return PrivateStreams(None, converter=converter, check_open=check_open)
    own = _OwnSocket(credentials, base_url=base_url, environment=environment, settings=settings)
    return PrivateStreams(
        own.connect,
        converter=converter,
        check_open=check_open,
        preferred=preferred,
        close=own.aclose,
    )


class _OwnSocket:
    """A private socket for the streams of a Session whose backend is not UWS."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        base_url: str,
        environment: Environment | None,
        settings: UwsSettings,
    ) -> None:
        self._credentials = credentials
        self._base_url = base_url
        self._environment = environment
        self._settings = settings
        self._connection: UwsConnection | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"<private socket {'open' if self._connection else 'unopened'}>"

    async def connect(self) -> StreamSource:
        if self._closed:
            raise SessionStateError("the Session is closed: open a new one to stream")
        if self._connection is None:
            from ..config import resolve_spot_rest_url
            from ..uws.backend import private_url
            from ..uws.connection import UwsConnection
            from ..uws.token import TokenProvider

            environment = self._environment
            tokens = TokenProvider(
                self._credentials,
                url=resolve_spot_rest_url(None, base_url=self._base_url, environment=environment),
            )

            async def prepare(reconnected: bool) -> Mapping[str, Any]:
                # a new socket after a drop never reuses a token (§1.5)
                return {"token": await (tokens.fresh() if reconnected else tokens.token())}

            production = environment is not None and environment.stream_url is not None
            url = private_url(None if production else self._base_url)
            self._connection = UwsConnection(url, settings=self._settings, prepare=prepare)
        return self._connection

    async def aclose(self) -> None:
        self._closed = True
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.aclose()
