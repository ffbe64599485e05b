"""An httpx transport over aiohttp's connection pool.

httpx stays the interface (base URL, auth, hooks; respx, MockTransport and ASGITransport plug in
at the same place); only the pool under it changes, because httpcore spends several times
aiohttp's CPU per request on a small machine (design §7). For Kraken one rule matters above
the rest: the request goes on the wire byte for byte as httpx built it and the signer signed
it, so the URL is handed to aiohttp already encoded and nothing is added, dropped or resent.
"""

from __future__ import annotations

import asyncio
import ssl as ssl_module
from collections.abc import Mapping
from typing import NamedTuple

import aiohttp
import httpx
import yarl

from ...config import DEFAULT_LIMITS, DEFAULT_MAX_RESPONSE_BYTES
from ..body import MAX_BODY_EXTENSION, BodyTooLargeError

__all__ = ["AiohttpTransport", "Exchanged", "to_httpx_error"]

#: aiohttp fills these in when a request lacks them; httpx already chose (or removed) them.
_NO_AUTO_HEADERS = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")
_HTTP_11 = b"HTTP/1.1"

#: Distinct URLs whose parsed form is kept (cleared when full).
_URLS_KEPT = 512

_TimeoutKey = tuple[float | None, float | None]


class Exchanged(NamedTuple):
    """One answer as it came: status, reason, raw headers in order, raw (undecoded) body."""

    status: int
    reason: str
    raw_headers: tuple[tuple[bytes, bytes], ...]
    content: bytes


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Send httpx requests through one lazily created ``aiohttp.ClientSession``.

    Use it as ``httpx.AsyncClient(transport=AiohttpTransport())`` or
    ``Session(transport=AiohttpTransport())``. Pool limits are given here, not to the client
    (httpx ignores its ``limits`` once a transport is passed). aiohttp has no separate cap on
    idle connections: ``max_keepalive_connections=0`` turns keep-alive off, any other value
    lets every idle connection (at most ``max_connections``) live ``keepalive_expiry``
    seconds. It has no write timeout either; bodies here are a few KB that fit the socket
    buffer. Bodies come back undecoded with their ``Content-Encoding``, as from httpx's own
    transport, so whoever reads the response decodes gzip and deflate.

    A body is read no further than ``max_response_bytes`` raw bytes (or the request's
    ``kraken_futures_async.max_response_bytes`` extension, which a Session sets): past it,
    or with a larger ``Content-Length``, the connection is dropped and
    :class:`~kraken_futures_async.rest.body.BodyTooLargeError` (an ``httpx.TransportError``) raised.
    """

    def __init__(
        self,
        *,
        limits: httpx.Limits = DEFAULT_LIMITS,
        ssl: ssl_module.SSLContext | bool = True,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self._limits = limits
        self._max_body = max_response_bytes
        self._ssl = ssl
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        # Pool waits are counted here so that running out of connections is a PoolTimeout,
        # which aiohttp cannot tell apart from a slow connect.
        max_connections = limits.max_connections
        self._slots = asyncio.Semaphore(max_connections) if max_connections else None
        self._timeouts: dict[_TimeoutKey, aiohttp.ClientTimeout] = {}
        self._urls: dict[str, yarl.URL] = {}

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open" if self._session else "unopened"
        return f"<AiohttpTransport {state} max_connections={self._limits.max_connections}>"

    def _open(self) -> aiohttp.ClientSession:
        """Create the session inside the running loop, on first use."""
        if self._closed:
            raise RuntimeError("this AiohttpTransport is closed; create a new one")
        limits = self._limits
        pool_size = limits.max_connections or 0
        if limits.max_keepalive_connections == 0:
            connector = aiohttp.TCPConnector(limit=pool_size, force_close=True, ssl=self._ssl)
        else:
            connector = aiohttp.TCPConnector(
                limit=pool_size, keepalive_timeout=limits.keepalive_expiry, ssl=self._ssl
            )
        session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),  # httpx keeps the cookies
            skip_auto_headers=_NO_AUTO_HEADERS,
            auto_decompress=False,
            timeout=aiohttp.ClientTimeout(total=None),
            trust_env=False,
        )
        # aiohttp silently resends a GET/PUT/DELETE once when the server drops the connection.
        # A resend reuses the signed Nonce and hides an ambiguous failure from the caller, who
        # decides about retries with a fresh signature; there is no public switch for this.
        if hasattr(session, "_retry_connection"):
            session._retry_connection = False
        self._session = session
        return session

    def _client_timeout(self, timeouts: Mapping[str, float | None]) -> aiohttp.ClientTimeout:
        key = (timeouts.get("connect"), timeouts.get("read"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            connect, read = key
            timeout = aiohttp.ClientTimeout(
                total=None, connect=connect, sock_connect=connect, sock_read=read
            )
            self._timeouts[key] = timeout
        return timeout

    async def _take_slot(self, request: httpx.Request | None, wait: float | None) -> None:
        slots = self._slots
        if slots is None:
            return
        if not slots.locked() or wait is None:
            await slots.acquire()
            return
        try:
            async with asyncio.timeout(wait):
                await slots.acquire()
        except TimeoutError as exc:
            raise httpx.PoolTimeout("no free connection in time", request=request) from exc

    def _url(self, url: str) -> yarl.URL:
        """The URL as aiohttp's already-encoded form, kept per string (bounded)."""
        parsed = self._urls.get(url)
        if parsed is None:
            if len(self._urls) >= _URLS_KEPT:
                self._urls.clear()
            parsed = self._urls[url] = yarl.URL(url, encoded=True)
        return parsed

    async def exchange(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        body: bytes | None,
        timeouts: Mapping[str, float | None],
        limit: int,
        request: httpx.Request | None = None,
    ) -> Exchanged:
        """Send exactly these bytes and read the raw answer, at most ``limit`` bytes of it.

        The one exchange both routes share: :meth:`handle_async_request` for httpx, and the
        pipeline's hot path, which calls it without building httpx objects. Failures are
        httpx's exceptions (``request`` attached when there is one).
        """
        session = self._session or self._open()
        await self._take_slot(request, timeouts.get("pool"))
        try:
            async with session.request(
                method,
                self._url(url),
                headers=headers,
                data=body or None,
                timeout=self._client_timeout(timeouts),
                allow_redirects=False,
            ) as answer:
                content = await _read_capped(answer, limit, request)
        except (aiohttp.ClientError, OSError) as exc:
            raise to_httpx_error(exc, request) from exc
        finally:
            if self._slots is not None:
                self._slots.release()
        return Exchanged(answer.status, answer.reason or "", answer.raw_headers, content)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts: Mapping[str, float | None] = request.extensions.get("timeout") or {}
        limit: int = request.extensions.get(MAX_BODY_EXTENSION, self._max_body)
        body = await request.aread()
        encoding = request.headers.encoding
        headers = [(k.decode(encoding), v.decode(encoding)) for k, v in request.headers.raw]
        answer = await self.exchange(
            request.method, str(request.url), headers, body, timeouts, limit, request
        )
        extensions = {"http_version": _HTTP_11, "reason_phrase": answer.reason.encode()}
        return httpx.Response(
            answer.status,
            headers=list(answer.raw_headers),
            # A stream keeps the headers as received (content= would invent a Content-Length).
            stream=httpx.ByteStream(answer.content),
            request=request,
            extensions=extensions,
        )

    async def aclose(self) -> None:
        """Close the pool and its sockets; calling it again does nothing."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()


async def _read_capped(
    answer: aiohttp.ClientResponse, limit: int, request: httpx.Request | None
) -> bytes:
    """The raw body, refused (connection dropped) as soon as it must pass ``limit`` bytes."""
    declared = answer.content_length
    if declared is not None:
        if declared > limit:
            answer.close()
            raise BodyTooLargeError(limit, request=request, declared=declared)
        return await answer.read()  # aiohttp reads no more than the declared length
    chunks: list[bytes] = []
    size = 0
    async for chunk in answer.content.iter_any():
        size += len(chunk)
        if size > limit:
            answer.close()
            raise BodyTooLargeError(limit, request=request)
        chunks.append(chunk)
    return b"".join(chunks)


def to_httpx_error(exc: BaseException, request: httpx.Request | None) -> httpx.TransportError:
    """The httpx exception that httpx's own transport raises for the same failure."""
    message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    kind: type[httpx.TransportError]
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        kind = httpx.ConnectTimeout
    elif isinstance(exc, aiohttp.ServerTimeoutError | TimeoutError):
        kind = httpx.ReadTimeout
    elif isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ServerFingerprintMismatch):
        kind = httpx.ConnectError
    elif isinstance(exc, aiohttp.InvalidURL | aiohttp.NonHttpUrlClientError):
        kind = httpx.UnsupportedProtocol
    elif isinstance(
        exc,
        aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError | aiohttp.ClientResponseError,
    ):
        kind = httpx.RemoteProtocolError
    elif isinstance(exc, aiohttp.ClientConnectionError | OSError):
        kind = httpx.ReadError
    else:
        kind = httpx.TransportError
    return kind(message, request=request)
