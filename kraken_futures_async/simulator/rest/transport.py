"""Talking to the twin in-process, with the failures a socket would have.

httpx's ``ASGITransport`` calls the app directly, but it ignores timeouts and re-raises
whatever the app raises. This wrapper enforces the request's read timeout (``ReadTimeout``,
as over a socket) and turns the twin's dropped connections into the errors httpx raises
when a server goes away: before any answer ``RemoteProtocolError``, mid-answer ``ReadError``.
"""

from __future__ import annotations

import asyncio

import httpx

from .app import ASGIApp
from .faults import ConnectionDroppedError

__all__ = ["InProcessTransport"]


class InProcessTransport(httpx.AsyncBaseTransport):
    """An httpx transport that hands requests to the twin's ASGI app in this process: a
    Session on the twin without a socket."""

    def __init__(self, app: ASGIApp, *, client: tuple[str, int] = ("127.0.0.1", 50000)) -> None:
        self._inner = httpx.ASGITransport(app=app, client=client)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Serve one request through the app, within the request's read timeout."""
        timeout = request.extensions.get("timeout", {}).get("read")
        try:
            if timeout is None:
                return await self._inner.handle_async_request(request)
            async with asyncio.timeout(timeout):
                response = await self._inner.handle_async_request(request)
            # The app answers without waiting on anything, so a caller that never sleeps
            # never lets the loop run: each request's cancelled timer would stay in the
            # loop's heap for good (one per call, ~0.4 KB). A turn of the loop sweeps them.
            await asyncio.sleep(0)
            return response
        except TimeoutError:
            raise httpx.ReadTimeout("the twin did not answer in time", request=request) from None
        except ConnectionDroppedError as exc:
            if exc.after_processing:
                raise httpx.ReadError(
                    "connection reset while reading the response", request=request
                ) from None
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from None

    async def aclose(self) -> None:
        """Close the inner ASGI transport."""
        await self._inner.aclose()
