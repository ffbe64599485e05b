"""A fake Unified WebSocket server for the stream client's tests, written from the reference
(kraken-uws-api.md §1-§4), not from the library: aiohttp.web on 127.0.0.1, a free port.

It sends ``status`` on connect, ``heartbeat`` while something is subscribed, answers
``ping`` with ``pong`` and ``subscribe``/``unsubscribe`` with one ack per symbol, and lets a
test push raw JSON text (so that ``0.1500`` stays ``0.1500`` on the wire), drop sockets,
withhold acks, or refuse subscriptions. :class:`FakeBook` keeps a reference book as wire
text and prices its checksum with :mod:`kraken_futures_async.streams.checksum`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from types import TracebackType
from typing import Any, Self

from aiohttp import WSMsgType, web

from kraken_futures_async.streams.checksum import book_checksum, level_digits
from kraken_futures_async.uws import UwsSettings

from .test_stream_checksum import SNAPSHOT_ASKS, SNAPSHOT_BIDS

#: Short bounds, so a test that fails does so in about a second.
FAST = UwsSettings(
    ack_timeout=1.0,
    connect_timeout=1.0,
    ping_interval=0.3,
    heartbeat_timeout=1.0,
    backoff_initial=0.02,
    backoff_max=0.1,
)

STATUS = (
    '{"channel":"status","type":"update","data":[{"system":"online","api_version":"v2",'
    '"connection_id":8628615390848610000,"version":"2.0.10"}]}'
)

Level = tuple[str, str]
OnSubscribe = Callable[["FakeSocket", dict[str, Any]], Awaitable[None]]


def test_the_fake_book_reproduces_the_reference_vectors() -> None:
    book = FakeBook("PF_XBTUSD", depth=10)
    book.apply(REFERENCE_BIDS, REFERENCE_ASKS)
    assert book.checksum() == 2622372199
    book.apply(REFERENCE_UPDATE_BIDS, REFERENCE_UPDATE_ASKS)
    assert book.checksum() == 2338580217


class FakeBook:
    """A reference book as wire text: levels set or deleted (qty 0), truncated to depth."""

    def __init__(self, symbol: str, depth: int = 10) -> None:
        self.symbol = symbol
        self.depth = depth
        self.bids: dict[str, str] = {}
        self.asks: dict[str, str] = {}

    def apply(self, bids: list[Level], asks: list[Level]) -> None:
        for side, levels in ((self.bids, bids), (self.asks, asks)):
            for price, qty in levels:
                for known in [p for p in side if Decimal(p) == Decimal(price)]:
                    del side[known]
                if Decimal(qty):
                    side[price] = qty
        for side, best in ((self.bids, self.top_bids), (self.asks, self.top_asks)):
            keep = dict(best(self.depth))
            for price in list(side):
                if price not in keep:
                    del side[price]

    def top_bids(self, n: int = 10) -> list[Level]:
        return sorted(self.bids.items(), key=lambda level: -Decimal(level[0]))[:n]

    def top_asks(self, n: int = 10) -> list[Level]:
        return sorted(self.asks.items(), key=lambda level: Decimal(level[0]))[:n]

    def checksum(self) -> int:
        return book_checksum(
            [level_digits(p, q) for p, q in self.top_asks()],
            [level_digits(p, q) for p, q in self.top_bids()],
        )

    def message(
        self,
        kind: str,
        bids: list[Level],
        asks: list[Level],
        *,
        timestamp: str = "2026-12-01T12:00:00.000000Z",
        checksum: int | None = None,
    ) -> str:
        """Apply ``bids``/``asks`` and render the push as JSON text with the wire digits."""
        self.apply(bids, asks)
        return book_push(
            kind,
            self.symbol,
            bids,
            asks,
            self.checksum() if checksum is None else checksum,
            timestamp,
        )

    def snapshot(self, **kwargs: Any) -> str:
        bids, asks = self.top_bids(self.depth), self.top_asks(self.depth)
        return book_push(
            "snapshot",
            self.symbol,
            bids,
            asks,
            kwargs.get("checksum", self.checksum()),
            kwargs.get("timestamp", "2026-12-01T12:00:00.000000Z"),
        )


def book_push(
    kind: str, symbol: str, bids: list[Level], asks: list[Level], checksum: int, timestamp: str
) -> str:
    def side(levels: list[Level]) -> str:
        return "[" + ",".join(f'{{"price":{p},"qty":{q}}}' for p, q in levels) + "]"

    return (
        f'{{"channel":"book","type":"{kind}","data":[{{"symbol":"{symbol}",'
        f'"bids":{side(bids)},"asks":{side(asks)},"checksum":{checksum},'
        f'"timestamp":"{timestamp}"}}]}}'
    )


# the worked example of the reference, §4.2
REFERENCE_ASKS: list[Level] = SNAPSHOT_ASKS
REFERENCE_BIDS: list[Level] = SNAPSHOT_BIDS
REFERENCE_UPDATE_ASKS: list[Level] = [
    ("96250.5", "0"),
    ("96251.0", "0.8000"),
    ("96260.0", "9.9999"),
]
REFERENCE_UPDATE_BIDS: list[Level] = [
    ("96250.0", "0.4500"),
    ("96246.0", "0"),
    ("96241.0", "0.9000"),
]


class FakeSocket:
    """One client connection as the server sees it."""

    def __init__(self, server: FakeUws, ws: web.WebSocketResponse, request: web.Request) -> None:
        self.server = server
        self.ws = ws
        self.request = request
        self.subscribed = False
        #: True: the socket stays open but the server says nothing more (a stalled link).
        self.stalled = False

    async def send(self, text: str) -> None:
        await self.ws.send_str(text)

    async def ack(self, message: dict[str, Any], *, success: bool = True, error: str = "") -> None:
        params = message.get("params") or {}
        symbols = params.get("symbol") or [None]
        for symbol in symbols:
            reply: dict[str, Any] = {"method": message["method"], "req_id": message.get("req_id")}
            if success:
                result = {"channel": params.get("channel"), "snapshot": params.get("snapshot")}
                if symbol is not None:
                    result["symbol"] = symbol
                reply.update(success=True, result=result)
            else:
                reply.update(success=False, error=error)
            reply.update(time_in="2026-12-01T12:00:00.000000Z", time_out="2026-12-01T12:00:00.0Z")
            await self.send(json.dumps(reply))

    def abort(self) -> None:
        """Drop the TCP connection without a close frame (what a network failure does)."""
        transport = self.request.transport
        assert transport is not None
        transport.abort()


class FakeUws:
    """The fake server; ``async with FakeUws() as server: server.url ...``."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.sockets: list[FakeSocket] = []
        self.closed_sockets = 0
        #: Called for each subscribe after its ack (send a snapshot here).
        self.on_subscribe: OnSubscribe | None = None
        #: False: subscribe requests get no ack at all.
        self.ack_subscribes = True
        #: channel -> error string for a refusal.
        self.refuse: dict[str, str] = {}
        self.heartbeat_interval = 0.2
        self.send_status = True
        self.heartbeats = True
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.port = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v2/public"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def methods(self, method: str, channel: str | None = None) -> list[dict[str, Any]]:
        return [
            r
            for r in self.requests
            if r.get("method") == method
            and (channel is None or (r.get("params") or {}).get("channel") == channel)
        ]

    async def wait_until(self, condition: Callable[[], bool], seconds: float = 3.0) -> None:
        async with asyncio.timeout(seconds):
            while not condition():  # noqa: ASYNC110 (a test's poll of recorded frames)
                await asyncio.sleep(0.01)

    async def push(self, text: str) -> None:
        for socket in list(self.sockets):
            with contextlib.suppress(ConnectionError, RuntimeError):
                await socket.send(text)

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_get("/v2/public", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        assert self._runner is not None
        async with asyncio.timeout(5):
            await self._runner.cleanup()

    async def _heartbeat(self, socket: FakeSocket) -> None:
        while not socket.ws.closed:
            await asyncio.sleep(self.heartbeat_interval)
            if socket.subscribed and self.heartbeats and not socket.stalled:
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await socket.send('{"channel":"heartbeat"}')

    async def _handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        socket = FakeSocket(self, ws, request)
        self.sockets.append(socket)
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        beat = asyncio.create_task(self._heartbeat(socket))
        self._tasks.add(beat)
        try:
            if self.send_status:
                await socket.send(STATUS)
            async for frame in ws:
                if frame.type is not WSMsgType.TEXT:
                    continue
                message = json.loads(frame.data)
                self.requests.append(message)
                await self._answer(socket, message)
        finally:
            beat.cancel()
            self.sockets.remove(socket)
            self.closed_sockets += 1
            self._tasks.discard(task)
        return ws

    async def _answer(self, socket: FakeSocket, message: dict[str, Any]) -> None:
        method = message.get("method")
        if socket.stalled:
            return
        if method == "ping":
            await socket.send(
                json.dumps(
                    {
                        "method": "pong",
                        "req_id": message.get("req_id"),
                        "time_in": "2026-12-01T12:00:00.000001Z",
                        "time_out": "2026-12-01T12:00:00.000050Z",
                    }
                )
            )
        elif method == "subscribe":
            channel = (message.get("params") or {}).get("channel")
            if channel in self.refuse:
                await socket.ack(message, success=False, error=self.refuse[channel])
                return
            if not self.ack_subscribes:
                return
            await socket.ack(message)
            socket.subscribed = True
            if self.on_subscribe is not None:
                await self.on_subscribe(socket, message)
        elif method == "unsubscribe":
            await socket.ack(message)
