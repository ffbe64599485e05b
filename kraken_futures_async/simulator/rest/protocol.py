"""The served twin's HTTP protocol: uvicorn's own, with a deadline for delivering a request.

uvicorn closes a keep-alive connection that sits idle between requests, but waits without
end for a request that was begun and never finished: 2,000 half-sent requests held 2,007
files open (issue 17), and uvicorn has no setting for it. Here every connection has
``read_timeout`` seconds to deliver each whole request, head and body, counted from the
request's first byte (or from the connection's opening, for one that never sends a byte);
then it is closed. An answer being computed or sent is not timed, nor is a connection that
upgraded to a WebSocket.

uvicorn's answer to bytes that are not HTTP at all, a plain-text 400, becomes the JSON the
rest of the twin answers in. This module imports uvicorn: only the served twin loads it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, cast

from uvicorn.protocols.http.auto import AutoHTTPProtocol

__all__ = ["http_protocol"]


class _Deadline(asyncio.Protocol):
    """Put in front of uvicorn's protocol class (h11 or httptools, whichever it picked)."""

    read_timeout: float
    bad_request_body: Callable[[], bytes]
    # set by uvicorn's protocol
    transport: asyncio.Transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._timer: asyncio.TimerHandle | None = None
        self._reading = False
        self._settled: object = None
        super().connection_made(transport)
        self._arm()  # a connection that never sends a byte is timed too

    def data_received(self, data: bytes) -> None:
        if not self._reading:  # a new request begins: its own full deadline
            self._reading = True
            self._arm()
        super().data_received(data)
        cycle = getattr(self, "cycle", None)
        if cycle is not None and cycle is not self._settled and not cycle.more_body:
            self._settled = cycle  # this request arrived whole: the app's time is not timed
            self._reading = False
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def handle_websocket_upgrade(self, *args: Any) -> None:
        """A WebSocket owns the connection from here: no request deadline any more."""
        self._disarm()
        self._reading = False
        super().handle_websocket_upgrade(*args)  # type: ignore[misc]

    def send_400_response(self, msg: str) -> None:
        """Bytes that are not HTTP: Kraken's structured 400 in JSON, and the connection closes."""
        body = self.bad_request_body()
        head = (
            b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n"
        )
        self.transport.write(head + body)
        self.transport.close()

    def _arm(self) -> None:
        self._disarm()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self.read_timeout, self._expire)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        self._timer = None
        if not self.transport.is_closing():
            self.transport.close()


def http_protocol(read_timeout: float, bad_request_body: Callable[[], bytes]) -> type[Any]:
    """uvicorn's HTTP protocol class with the deadline and the JSON 400 (``Config(http=...)``)."""
    attributes = {"read_timeout": read_timeout, "bad_request_body": staticmethod(bad_request_body)}
    return cast(type[Any], type("TwinHTTPProtocol", (_Deadline, AutoHTTPProtocol), attributes))
