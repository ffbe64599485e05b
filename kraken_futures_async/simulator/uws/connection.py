"""One client on ``/v2/public``: its requests, its acks, its subscriptions and its queue.

Every frame for the client (acks, pushes, heartbeats) goes through one bounded queue and one
sender task, so frames leave in the order they were made: an ack before its snapshot, a
snapshot before the updates that follow it. Pushes never wait: when the queue is full the
connection is closed with :data:`.config.CLOSE_SLOW_CONSUMER` and the queue emptied, so a
client that does not read costs at most ``queue_size`` frames of memory.

A stalled connection (:meth:`Connection.stall`, the server's ``stall_connections`` fault)
stays open and reads what the client sends, but sends nothing at all (no answers, pushes
or heartbeats) until it is closed: a client's heartbeat watchdog has to notice.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from ...streams.book import BOOK_DEPTHS
from .candles import INTERVALS, TICK_TYPES
from .config import CLOSE_MESSAGE_TOO_BIG, CLOSE_SLOW_CONSUMER
from .wire import INVALID, Request, encode, error_ack, read_request, success_ack

if TYPE_CHECKING:
    from .server import UwsServer

__all__ = ["Connection", "RequestError"]

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

HEARTBEAT = encode({"channel": "heartbeat"})
#: Channels served on the public socket, and the parameters each accepts.
_PARAMS: dict[str, frozenset[str]] = {
    "book": frozenset({"channel", "asset_class", "symbol", "depth", "snapshot"}),
    "ticker": frozenset({"channel", "asset_class", "symbol", "snapshot"}),
    "trade": frozenset({"channel", "asset_class", "symbol", "snapshot"}),
    "instrument": frozenset({"channel", "asset_class", "snapshot"}),
    "ohlc": frozenset({"channel", "asset_class", "symbol", "interval", "tick_type", "snapshot"}),
}
#: ``snapshot`` when the request does not say (reference §4: trades default to none).
_SNAPSHOT_DEFAULT = {
    "book": True,
    "ticker": True,
    "trade": False,
    "instrument": True,
    "ohlc": True,
}
#: ``ohlc`` when the request does not say (reference §4.5 gives no default interval: Spot
#: v1's is 1 minute); ``tick_type`` defaults to ``trade`` (§4.5).
OHLC_DEFAULT_INTERVAL = 1
OHLC_DEFAULT_TICK_TYPE = "trade"
ASSET_CLASS = "derivatives"

# Error strings (reference §2.2, §7; Spot v2's where UWS shows none).
BAD_CHANNEL = "Subscription name invalid"
ALREADY = "Already subscribed"
NOT_FOUND = "Subscription Not Found"
TOO_MANY = "EGeneral:Too many subscriptions"


def unsupported_symbol(symbol: str) -> str:
    return f"Currency pair not supported {symbol}"


class RequestError(Exception):
    """A request refused as a whole: one error ack, no ``symbol``."""


_Key = tuple[str, str | None]  # (channel, symbol); symbol None for ``instrument``


class _Options:
    """What a subscription asked for beyond its channel and symbol."""

    __slots__ = ("depth", "interval", "snapshot", "tick_type")

    def __init__(self, depth: int, interval: int, tick_type: str, snapshot: bool) -> None:
        self.depth = depth
        self.interval = interval
        self.tick_type = tick_type
        self.snapshot = snapshot


class Connection:
    __slots__ = (
        "close_code",
        "close_reason",
        "connection_id",
        "heartbeats",
        "queue",
        "server",
        "stalled",
        "subscriptions",
    )

    def __init__(self, server: UwsServer, connection_id: int) -> None:
        self.server = server
        self.connection_id = connection_id
        config = server.config
        #: Frames waiting for the sender; None asks it to close.
        self.queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=config.queue_size + 1)
        #: Live subscriptions and what each asked for (one per channel and symbol).
        self.subscriptions: dict[_Key, _Options] = {}
        self.heartbeats = False
        #: Set by :meth:`stall`: nothing is sent any more, the socket stays open.
        self.stalled = False
        self.close_code: int | None = None
        self.close_reason = ""

    # output ---------------------------------------------------------------------------------

    def push(self, text: str) -> None:
        """Queue a frame without waiting; a full queue closes the connection (slow consumer)."""
        if self.close_code is not None or self.stalled:
            return
        if self.queue.qsize() >= self.server.config.queue_size:
            self.close(CLOSE_SLOW_CONSUMER, "slow consumer: outbound queue full")
            return
        self.queue.put_nowait(text)

    def close(self, code: int, reason: str = "") -> None:
        """Drop what is queued and close with ``code`` as soon as the socket takes it."""
        if self.close_code is not None:
            return
        self.close_code, self.close_reason = code, reason
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)  # the one slot kept free for it

    def stall(self) -> None:
        """Send nothing from now on (frames queued are dropped), but keep the socket open.

        Only a close (:meth:`close`, the client leaving) ends it.
        """
        if self.close_code is not None:
            return
        self.stalled = True
        while not self.queue.empty():
            self.queue.get_nowait()

    async def _sender(self, send: Send) -> None:
        config = self.server.config
        queue = self.queue
        while True:
            timeout = config.heartbeat_interval if self.heartbeats else None
            try:
                item = await asyncio.wait_for(queue.get(), timeout)
            except TimeoutError:
                item = HEARTBEAT
            if self.stalled and item is not None:
                continue
            if item is None:
                await send(
                    {
                        "type": "websocket.close",
                        "code": self.close_code,
                        "reason": self.close_reason,
                    }
                )
                return
            await send({"type": "websocket.send", "text": item})

    # the connection's life ------------------------------------------------------------------

    async def run(self, receive: Receive, send: Send) -> None:
        """Serve one accepted socket until either side closes it."""
        server = self.server
        feed = server.feed
        feed.attach(self)
        sender = asyncio.get_running_loop().create_task(self._sender(send))
        try:
            self.push(server.status_frame(self.connection_id))
            while True:
                message = await receive()
                kind = message["type"]
                if kind == "websocket.disconnect":
                    break
                if kind != "websocket.receive" or self.close_code is not None:
                    continue
                text = message.get("text")
                if text is None:
                    raw = message.get("bytes") or b""
                    size = len(raw)
                    text = raw.decode("utf-8", "replace")
                else:
                    limit = server.config.max_message_bytes
                    size = len(text) if len(text) > limit else len(text.encode("utf-8"))
                if size > server.config.max_message_bytes:
                    self.close(CLOSE_MESSAGE_TOO_BIG, "message too big")
                    continue
                self.handle(text)
                if sender.done():
                    break
        finally:
            feed.detach(self)
            server.connections.pop(self, None)
            if not sender.done():
                sender.cancel()
            with contextlib.suppress(BaseException):
                await sender

    # requests -------------------------------------------------------------------------------

    def handle(self, text: str) -> None:
        """Answer one client frame (synchronously: its acks and snapshots queue in order)."""
        clock = self.server.clock
        time_in = clock.time()
        read = read_request(text, time_in, clock.time)
        if not isinstance(read, Request):
            self.push(read)
            return
        request, method, req_id = read.body, read.method, read.req_id
        if method not in ("subscribe", "unsubscribe"):
            self.push(error_ack(method, req_id, f"{INVALID}:method", time_in, clock.time()))
            return
        try:
            channel, symbols, options = self._params(request.get("params"))
        except RequestError as error:
            self.push(error_ack(method, req_id, str(error), time_in, clock.time()))
            return
        for symbol in symbols:
            if method == "subscribe":
                self._subscribe(req_id, channel, symbol, options, time_in)
            else:
                self._unsubscribe(req_id, channel, symbol, time_in)

    def _params(self, params: Any) -> tuple[str, list[str | None], _Options]:
        """(channel, symbols, options) of a subscribe or unsubscribe, or refuse it."""
        if not isinstance(params, dict):
            raise RequestError(f"{INVALID}:params")
        channel = params.get("channel")
        allowed = _PARAMS.get(channel) if isinstance(channel, str) else None
        if channel is None or allowed is None:
            raise RequestError(BAD_CHANNEL)
        for name in params:
            if name not in allowed:
                raise RequestError(f"Unsupported field: '{name}'")
        if params.get("asset_class") != ASSET_CLASS:
            raise RequestError(f"{INVALID}:asset_class")
        symbols: list[str | None]
        if channel == "instrument":
            symbols = [None]
        else:
            raw = params.get("symbol")
            if (
                not isinstance(raw, list)
                or not raw
                or not all(isinstance(s, str) for s in raw)
                or len(raw) != len(set(raw))
            ):
                raise RequestError(f"{INVALID}:symbol")
            symbols = list(raw)
        depth = params.get("depth", 10) if channel == "book" else 0
        if channel == "book" and (type(depth) is not int or depth not in BOOK_DEPTHS):
            raise RequestError(f"{INVALID}:depth")
        interval = params.get("interval", OHLC_DEFAULT_INTERVAL) if channel == "ohlc" else 0
        if channel == "ohlc" and (type(interval) is not int or interval not in INTERVALS):
            raise RequestError(f"{INVALID}:interval")
        tick_type = params.get("tick_type", OHLC_DEFAULT_TICK_TYPE) if channel == "ohlc" else ""
        if channel == "ohlc" and tick_type not in TICK_TYPES:
            raise RequestError(f"{INVALID}:tick_type")
        snapshot = params.get("snapshot", _SNAPSHOT_DEFAULT[channel])
        if not isinstance(snapshot, bool):
            raise RequestError(f"{INVALID}:snapshot")
        return channel, symbols, _Options(depth, interval, tick_type, snapshot)

    def _result(
        self, channel: str, symbol: str | None, options: _Options, snapshot: bool
    ) -> dict[str, Any]:
        result: dict[str, Any] = {"channel": channel}
        if symbol is not None:
            result["symbol"] = symbol
        if channel == "book":
            result["depth"] = options.depth
        if channel == "ohlc":
            result["interval"] = options.interval
            result["tick_type"] = options.tick_type
        if snapshot:
            result["snapshot"] = options.snapshot
        result["warnings"] = []
        return result

    def _subscribe(
        self,
        req_id: int | None,
        channel: str,
        symbol: str | None,
        options: _Options,
        time_in: float,
    ) -> None:
        server = self.server
        clock = server.clock
        feed = server.feed
        if symbol is not None and symbol not in feed.contracts:
            refusal = unsupported_symbol(symbol)
            self.push(error_ack("subscribe", req_id, refusal, time_in, clock.time(), symbol=symbol))
            return
        key = (channel, symbol)
        error: str | None = None
        if key in self.subscriptions:
            error = ALREADY
        elif len(self.subscriptions) >= server.config.max_subscriptions:
            error = TOO_MANY
        if error is not None:
            self.push(error_ack("subscribe", req_id, error, time_in, clock.time(), symbol=symbol))
            return
        self.subscriptions[key] = options
        result = self._result(channel, symbol, options, True)
        self.push(success_ack("subscribe", req_id, result, time_in, clock.time()))
        self.heartbeats = True
        snapshot = options.snapshot
        if channel == "instrument":
            if snapshot:
                self.push(server.instrument_snapshot())
        else:
            assert symbol is not None
            if channel == "book":
                feed.subscribe_book(self, symbol, options.depth, snapshot)
            elif channel == "ticker":
                feed.subscribe_ticker(self, symbol, snapshot)
            elif channel == "ohlc":
                feed.subscribe_ohlc(self, symbol, options.interval, options.tick_type, snapshot)
            else:
                feed.subscribe_trades(self, symbol, snapshot)

    def _unsubscribe(
        self, req_id: int | None, channel: str, symbol: str | None, time_in: float
    ) -> None:
        clock = self.server.clock
        feed = self.server.feed
        options = self.subscriptions.pop((channel, symbol), None)
        if options is None:
            error = NOT_FOUND
            if symbol is not None and symbol not in feed.contracts:
                error = unsupported_symbol(symbol)
            self.push(error_ack("unsubscribe", req_id, error, time_in, clock.time(), symbol=symbol))
            return
        if symbol is not None:
            if channel == "book":
                feed.unsubscribe_book(self, symbol, options.depth)
            elif channel == "ticker":
                feed.unsubscribe_ticker(self, symbol)
            elif channel == "ohlc":
                feed.unsubscribe_ohlc(self, symbol, options.interval, options.tick_type)
            elif channel == "trade":
                feed.unsubscribe_trades(self, symbol)
        result = self._result(channel, symbol, options, False)
        self.push(success_ack("unsubscribe", req_id, result, time_in, clock.time()))


def _text(method: Any) -> str | None:
    return method if isinstance(method, str) else None
