"""The ASGI websocket application behind ``/v2/public`` and ``/v2/private``, and the switches
tests pull.

:class:`UwsServer` is called by the twin's ASGI app for every ``websocket`` scope. The public
path gets a :class:`.connection.Connection`; any other path is refused before the handshake
completes (HTTP 404 where the server supports ASGI's denial response, else a plain refusal),
never a 500.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, MutableMapping
from decimal import Decimal
from typing import Any, Protocol

from ..clock import Clock
from .config import UwsConfig
from .connection import Connection
from .faults import SocketFaults
from .feed import Engine, Feed
from .private import PrivateConnection, PrivateFaults
from .private_channels import PrivateHub
from .trading import Trader
from .wire import encode, push

__all__ = ["PRIVATE_PATH", "PUBLIC_PATH", "SYSTEM_STATES", "UwsServer", "private_url", "public_url"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

PUBLIC_PATH = "/v2/public"
PRIVATE_PATH = "/v2/private"
#: ``status.system`` values (reference §1.2).
SYSTEM_STATES = frozenset({"online", "cancel_only", "post_only", "maintenance"})
#: What ``status`` says as ``api_version`` and ``version`` (Kraken's example values).
API_VERSION = "v2"
VERSION = "2.0.10"
#: Connection ids start here and count up, so that a run is repeatable.
_FIRST_CONNECTION_ID = 8_628_615_390_848_610_000


def public_url(base_url: str) -> str:
    """The public socket of a twin served at ``base_url`` (``http://127.0.0.1:8080`` ->
    ``ws://127.0.0.1:8080/v2/public``): the same host and port as REST."""
    scheme, sep, rest = base_url.partition("://")
    if not sep:
        raise ValueError(f"a base URL has a scheme, got {base_url!r}")
    ws = {"http": "ws", "https": "wss"}.get(scheme.lower(), scheme)
    return f"{ws}://{rest.rstrip('/')}{PUBLIC_PATH}"


def private_url(base_url: str) -> str:
    """The private socket of a twin served at ``base_url`` (same host and port)."""
    return public_url(base_url)[: -len(PUBLIC_PATH)] + PRIVATE_PATH


class TokenRedeemer(Protocol):
    """The twin's token service as the private socket uses it (``SpotTokenService``)."""

    def redeem(self, token: str) -> str | None: ...


class UwsServer:
    """The twin's Unified WebSocket face (public socket only); see the package docstring."""

    def __init__(self, exchange: Engine, *, clock: Clock, config: UwsConfig | None = None) -> None:
        self.clock = clock
        self.feed = Feed(exchange, clock, config or UwsConfig())
        #: Open connections, oldest first.
        self.connections: dict[Connection, None] = {}
        #: ``status.system`` now; :meth:`set_status` changes it and tells every connection.
        self.system = "online"
        self._ids = itertools.count(_FIRST_CONNECTION_ID)
        self._instruments: str | None = None
        #: The tokens ``/v2/private`` accepts (the twin's ``GetWebSocketsToken`` service);
        #: without one every private request is ``EAPI:Invalid token``.
        self.tokens: TokenRedeemer | None = None
        self.private_hub = PrivateHub(exchange, clock, lambda: self.config)
        self.trader = Trader(exchange, self.private_hub, clock, lambda: self.feed.contracts)
        self.private_faults = PrivateFaults()
        #: The seeded faults of the private socket's trading requests (``config.socket_faults``).
        self.socket_faults = SocketFaults(self.config.socket_faults, self.config.fault_seed)

    @property
    def config(self) -> UwsConfig:
        return self.feed.config

    @config.setter
    def config(self, config: UwsConfig) -> None:
        """New connections use it at once; open ones for what they read from it later.

        New fault rules (or a new seed) start new dice and a new record of faults.
        """
        old = self.feed.config
        self.feed.config = config
        if (config.socket_faults, config.fault_seed) != (old.socket_faults, old.fault_seed):
            self.socket_faults = SocketFaults(config.socket_faults, config.fault_seed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        path = scope.get("path")
        if path not in (PUBLIC_PATH, PRIVATE_PATH):
            await _refuse(scope, send)
            return
        await send({"type": "websocket.accept"})
        kind = PrivateConnection if path == PRIVATE_PATH else Connection
        connection = kind(self, next(self._ids))
        self.connections[connection] = None
        await connection.run(receive, send)

    # frames made here -----------------------------------------------------------------------

    def status_frame(self, connection_id: int) -> str:
        data = {
            "system": self.system,
            "api_version": API_VERSION,
            "connection_id": connection_id,
            "version": VERSION,
        }
        return push("status", "update", [data])

    def instrument_snapshot(self) -> str:
        """``{assets, pairs}`` of every listed contract (built once: the listing is fixed)."""
        if self._instruments is None:
            pairs = [
                {
                    "symbol": c.symbol,
                    "base": c.base,
                    "quote": "USD",
                    "status": "online" if c.tradeable else "delisted",
                    "qty_precision": c.qty_precision,
                    "qty_increment": c.qty_increment,
                    "qty_min": c.qty_increment,
                    "price_precision": c.price_precision,
                    "price_increment": c.price_increment,
                    "cost_precision": c.price_precision,
                    "marginable": False,
                    "has_index": True,
                }
                for c in self.feed.contracts.values()
            ]
            usd = {
                "id": "USD",
                "status": "enabled",
                "precision": 4,
                "precision_display": 2,
                "borrowable": False,
                "collateral_value": Decimal("1.0"),
                "margin_rate": Decimal("0.0"),
            }
            self._instruments = push("instrument", "snapshot", {"assets": [usd], "pairs": pairs})
        return self._instruments

    # switches (tests, tools) ----------------------------------------------------------------

    # Safe from any thread: the change runs on the serving loop.

    def set_status(self, system: str) -> None:
        """Change ``status.system`` and push a ``status`` update to every connection."""
        if system not in SYSTEM_STATES:
            raise ValueError(f"system must be one of {sorted(SYSTEM_STATES)}, got {system!r}")

        def change() -> None:
            self.system = system
            for connection in tuple(self.connections):
                connection.push(self.status_frame(connection.connection_id))

        self.feed.call(change)

    def drop_next_book_update(self, symbol: str, times: int = 1) -> None:
        """Skip the next ``times`` book updates of ``symbol`` (state moves on as if sent)."""
        self.feed.call(lambda: _add(self.feed.drop_updates, symbol, times))

    def corrupt_next_checksum(self, symbol: str, times: int = 1) -> None:
        """Send the next ``times`` book updates of ``symbol`` with a wrong checksum."""
        self.feed.call(lambda: _add(self.feed.corrupt_checksums, symbol, times))

    def stall_connections(self) -> None:
        """Every open connection stops sending (heartbeats, pongs, acks, pushes) but stays
        open, as a half-dead link does; connections opened later are served normally."""

        def stall() -> None:
            for connection in tuple(self.connections):
                connection.stall()

        self.feed.call(stall)

    def disconnect_all(self, code: int = 1001, reason: str = "going away") -> None:
        """Close every open connection with ``code`` (1001: the server is going away)."""

        def close() -> None:
            for connection in tuple(self.connections):
                connection.close(code, reason)

        self.feed.call(close)

    def drop_next_acks(self, times: int = 1) -> None:
        """Apply the next ``times`` private trading requests but send no ack for them."""

        def drop() -> None:
            self.private_faults.drop_acks += times

        self.private_hub.call(drop)

    def reject_next_tokens(self, times: int = 1) -> None:
        """Answer the next ``times`` private requests ``EAPI:Invalid token`` (mid-session)."""

        def reject() -> None:
            self.private_faults.invalid_tokens += times

        self.private_hub.call(reject)

    def abort_private(self) -> None:
        """Drop every private connection without a close frame (the client sees 1006)."""

        def abort() -> None:
            for connection in tuple(self.connections):
                if isinstance(connection, PrivateConnection):
                    connection.abort()

        self.private_hub.call(abort)


def _add(switch: dict[str, int], symbol: str, times: int) -> None:
    switch[symbol] = switch.get(symbol, 0) + times


async def _refuse(scope: Scope, send: Send) -> None:
    extensions = scope.get("extensions") or {}
    if "websocket.http.response" in extensions:
        body = encode({"error": f"no websocket at {scope.get('path')!r}; try {PUBLIC_PATH}"})
        await send(
            {
                "type": "websocket.http.response.start",
                "status": 404,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "websocket.http.response.body", "body": body.encode()})
    else:
        await send({"type": "websocket.close", "code": 1008})
