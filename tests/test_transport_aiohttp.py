"""AiohttpTransport against a real loopback server that records the bytes it receives.

The server is a few lines of asyncio so that nothing between the socket and the assertion
parses, normalises or re-encodes the request.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import gzip
import hashlib
import hmac
import json
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import attrs
import httpx
import pytest

from kraken_futures_async import Credentials, RateLimitPolicy, Session
from kraken_futures_async.rest.transports import AiohttpTransport
from kraken_futures_async.rest.transports.aiohttp import to_httpx_error

from .conftest import TEST_KEY, TEST_SECRET
from .loopback import LoopbackTcpServer

#: No test waits longer than this on the loopback server, whatever goes wrong.
_BOUND = 5.0


@attrs.frozen
class Received:
    """One request exactly as its bytes arrived."""

    request_line: bytes
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes

    def header(self, name: bytes) -> bytes | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    @property
    def target(self) -> bytes:
        return self.request_line.split(b" ")[1]


Reply = Callable[[Received, asyncio.StreamWriter], Awaitable[None]]


def http_answer(
    body: bytes,
    *,
    status: bytes = b"200 OK",
    headers: tuple[tuple[bytes, bytes], ...] = ((b"Content-Type", b"application/json"),),
) -> bytes:
    lines = [b"HTTP/1.1 " + status, b"Content-Length: " + str(len(body)).encode()]
    lines += [key + b": " + value for key, value in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


async def answer_ok(received: Received, writer: asyncio.StreamWriter) -> None:
    writer.write(http_answer(b'{"result":"success"}'))
    await writer.drain()


class LoopbackServer(LoopbackTcpServer):
    """An HTTP/1.1 server on 127.0.0.1 that records requests and answers with ``reply``.

    Connections are kept alive until the client closes them or the reply closes the writer;
    leaving the ``async with`` block cancels whatever is still running.
    """

    def __init__(self, reply: Reply = answer_ok) -> None:
        self.reply = reply
        self.received: list[Received] = []
        self.connections = 0
        self.closed_connections = 0
        self.request_arrived = asyncio.Event()
        self._all_closed = asyncio.Event()
        super().__init__()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self.connections += 1
        self._all_closed.clear()
        try:
            async with asyncio.timeout(_BOUND):
                while not writer.is_closing():
                    received = await _read_request(reader)
                    if received is None:
                        break
                    self.received.append(received)
                    self.request_arrived.set()
                    await self.reply(received, writer)
        except asyncio.CancelledError:
            pass  # the test is over; ending quietly keeps asyncio from logging the cancel
        finally:
            self.closed_connections += 1
            if self.closed_connections == self.connections:
                self._all_closed.set()
            writer.close()
            with contextlib.suppress(OSError, asyncio.CancelledError):
                await writer.wait_closed()
            self._handlers.discard(task)

    async def all_connections_closed(self) -> None:
        async with asyncio.timeout(_BOUND):
            await self._all_closed.wait()


async def _read_request(reader: asyncio.StreamReader) -> Received | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    request_line, *lines = head[:-4].split(b"\r\n")
    headers = tuple(
        (name, value.strip()) for name, _, value in (line.partition(b":") for line in lines)
    )
    received = Received(request_line, headers, b"")
    length = int(received.header(b"Content-Length") or 0)
    return attrs.evolve(received, body=await reader.readexactly(length))


@contextlib.asynccontextmanager
async def client_for(
    server: LoopbackServer, transport: AiohttpTransport | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=transport or AiohttpTransport(), base_url=server.url
    ) as client:
        yield client


# --- what goes on the wire ---------------------------------------------------------------

SIGNED_QUERY = (
    "lastFillTime=2026-11-24T00%3A00%3A00.000Z&cliOrdId=my+order+1"
    "&symbol=PF_XBTUSD&symbol=PF_ETHUSD&note=a%2Bb%26c"
)


async def test_the_query_arrives_byte_for_byte_as_built() -> None:
    async with LoopbackServer() as server, client_for(server) as client:
        request = client.build_request("GET", f"/derivatives/api/v3/fills?{SIGNED_QUERY}")
        response = await client.send(request)

    assert response.status_code == 200
    (received,) = server.received
    assert received.request_line == (
        b"GET /derivatives/api/v3/fills?" + SIGNED_QUERY.encode() + b" HTTP/1.1"
    )
    assert received.target == request.url.raw_path
    assert b"%3A" in received.target
    assert b":" not in received.target


async def test_the_body_and_headers_arrive_as_built() -> None:
    body = b"orderType=lmt&symbol=PF_XBTUSD&cliOrdId=my%20order%201&when=00%3A00&x=a+b"
    async with LoopbackServer() as server, client_for(server) as client:
        request = client.build_request(
            "POST",
            "/derivatives/api/v3/sendorder",
            content=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "APIKey": TEST_KEY,
                "Nonce": "1700000000000",
                "Authent": "c2lnbmF0dXJlKy89",
            },
        )
        await client.send(request)

    (received,) = server.received
    assert received.body == body
    # Same names, same spelling, same values, same order: aiohttp added and dropped nothing.
    assert list(received.headers) == request.headers.raw
    assert received.header(b"APIKey") == TEST_KEY.encode()
    assert received.header(b"Authent") == b"c2lnbmF0dXJlKy89"


async def test_aiohttp_adds_no_headers_httpx_left_out() -> None:
    async with LoopbackServer() as server, client_for(server) as client:
        request = client.build_request("POST", "/raw", content=b"\x00\x01")
        for name in ("User-Agent", "Accept", "Accept-Encoding"):
            del request.headers[name]
        await client.send(request)

    (received,) = server.received
    names = {name.lower() for name, _ in received.headers}
    assert names == {b"host", b"connection", b"content-length"}
    assert received.body == b"\x00\x01"


async def test_gzip_answers_are_decoded_by_httpx() -> None:
    payload = {"result": "success", "orderBook": {"bids": [[64005, 0.512]], "asks": []}}
    packed = gzip.compress(json.dumps(payload).encode())

    async def answer_gzip(received: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(http_answer(packed, headers=((b"Content-Encoding", b"gzip"),)))
        await writer.drain()

    async with LoopbackServer(answer_gzip) as server, client_for(server) as client:
        response = await client.get("/derivatives/api/v3/orderbook?symbol=PF_XBTUSD")

    assert response.json() == payload
    # Headers stay as received, like httpx's own transport leaves them.
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Content-Length"] == str(len(packed))
    assert response.num_bytes_downloaded == len(packed)


async def test_chunked_answers_keep_their_headers() -> None:
    async def answer_chunked(received: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(
            b"HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: text/html\r\n\r\n5\r\n<html\r\n1\r\n>\r\n0\r\n\r\n"
        )
        await writer.drain()

    async with LoopbackServer(answer_chunked) as server, client_for(server) as client:
        response = await client.get("/derivatives/api/v3/tickers")

    assert response.status_code == 503
    assert response.reason_phrase == "Service Unavailable"
    assert response.http_version == "HTTP/1.1"
    assert response.text == "<html>"
    assert "Content-Length" not in response.headers
    assert response.request.url.path == "/derivatives/api/v3/tickers"


# --- the pool -----------------------------------------------------------------------------


async def test_connections_are_reused() -> None:
    async with LoopbackServer() as server, client_for(server) as client:
        for _ in range(3):
            await client.get("/derivatives/api/v3/tickers")
        assert server.connections == 1


async def test_no_keepalive_means_one_connection_per_request() -> None:
    transport = AiohttpTransport(limits=httpx.Limits(max_keepalive_connections=0))
    async with LoopbackServer() as server, client_for(server, transport) as client:
        for _ in range(2):
            await client.get("/derivatives/api/v3/tickers")
        assert server.connections == 2


async def test_aclose_closes_the_sockets_and_the_transport() -> None:
    transport = AiohttpTransport()
    async with LoopbackServer() as server:
        async with client_for(server, transport) as client:
            await client.get("/derivatives/api/v3/tickers")
        await server.all_connections_closed()
        assert server.closed_connections == 1
        request = httpx.Request("GET", f"{server.url}/derivatives/api/v3/tickers")
        with pytest.raises(RuntimeError, match="closed"):
            await transport.handle_async_request(request)
        await transport.aclose()  # a second close does nothing
    assert "closed" in repr(transport)


def test_the_transport_is_created_outside_any_event_loop() -> None:
    # aiohttp refuses (with a warning, an error here) to make a session outside a loop.
    transport = AiohttpTransport(limits=httpx.Limits(max_connections=4))
    assert repr(transport) == "<AiohttpTransport unopened max_connections=4>"


# --- failures become httpx exceptions -----------------------------------------------------


async def answer_never(received: Received, writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(_BOUND)


async def test_a_slow_answer_is_a_read_timeout() -> None:
    async with LoopbackServer(answer_never) as server, client_for(server) as client:
        with pytest.raises(httpx.ReadTimeout) as caught:
            await client.get("/derivatives/api/v3/tickers", timeout=httpx.Timeout(1.0, read=0.05))
    assert caught.value.request.url.path == "/derivatives/api/v3/tickers"


async def test_a_full_pool_is_a_pool_timeout() -> None:
    transport = AiohttpTransport(limits=httpx.Limits(max_connections=1))
    async with LoopbackServer(answer_never) as server, client_for(server, transport) as client:
        first = asyncio.create_task(client.get("/first"))
        async with asyncio.timeout(_BOUND):
            await server.request_arrived.wait()
        with pytest.raises(httpx.PoolTimeout):
            await client.get("/second", timeout=httpx.Timeout(1.0, pool=0.05))
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
    assert [r.target for r in server.received] == [b"/first"]


async def test_a_refused_connection_is_a_connect_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with httpx.AsyncClient(transport=AiohttpTransport()) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{port}/derivatives/api/v3/tickers")


async def test_a_server_closing_mid_answer_is_a_protocol_error() -> None:
    async def answer_half(received: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b'{"result":')
        await writer.drain()
        writer.close()

    async with LoopbackServer(answer_half) as server, client_for(server) as client:
        with pytest.raises(httpx.RemoteProtocolError) as caught:
            await client.get("/derivatives/api/v3/tickers")
    assert isinstance(caught.value, httpx.TransportError)


async def test_a_dropped_request_is_not_resent_behind_the_callers_back() -> None:
    async def answer_drop(received: Received, writer: asyncio.StreamWriter) -> None:
        writer.close()

    async with LoopbackServer(answer_drop) as server, client_for(server) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/derivatives/api/v3/openpositions", headers={"Nonce": "1"})
    # A resend would reuse the signed Nonce; retries are the caller's, with a new one.
    assert len(server.received) == 1


def _request() -> httpx.Request:
    return httpx.Request("GET", "http://127.0.0.1:1/derivatives/api/v3/tickers")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (aiohttp.ConnectionTimeoutError("Connection timeout to host"), httpx.ConnectTimeout),
        (aiohttp.SocketTimeoutError("Timeout on reading data from socket"), httpx.ReadTimeout),
        (aiohttp.ServerTimeoutError(), httpx.ReadTimeout),
        (TimeoutError(), httpx.ReadTimeout),
        (aiohttp.ServerDisconnectedError(), httpx.RemoteProtocolError),
        (
            aiohttp.ClientPayloadError("Response payload is not completed"),
            httpx.RemoteProtocolError,
        ),
        (aiohttp.ClientOSError(104, "Connection reset by peer"), httpx.ReadError),
        (ConnectionResetError(104, "Connection reset by peer"), httpx.ReadError),
        (aiohttp.InvalidURL("not a url"), httpx.UnsupportedProtocol),
        (aiohttp.ClientError("something else"), httpx.TransportError),
    ],
)
def test_aiohttp_failures_map_to_httpx_exceptions(
    error: BaseException, expected: type[httpx.TransportError]
) -> None:
    mapped = to_httpx_error(error, _request())
    assert type(mapped) is expected
    assert mapped.request.url.path == "/derivatives/api/v3/tickers"
    assert type(error).__name__ in str(mapped)


# --- through the library ------------------------------------------------------------------


def kraken_authent(post_data: bytes, nonce: bytes, endpoint_path: bytes) -> bytes:
    """Reference §2.2, written out here on purpose instead of importing the signer."""
    digest = hashlib.sha256(post_data + nonce + endpoint_path).digest()
    mac = hmac.new(base64.b64decode(TEST_SECRET), digest, hashlib.sha512).digest()
    return base64.b64encode(mac)


def signature_is_valid(received: Received) -> bool:
    path, _, query = received.target.partition(b"?")
    endpoint_path = path.removeprefix(b"/derivatives")
    expected = kraken_authent(
        query + received.body, received.header(b"Nonce") or b"", endpoint_path
    )
    return (
        received.header(b"Authent") == expected and received.header(b"APIKey") == TEST_KEY.encode()
    )


FILL = {
    "fill_id": "f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0f9",
    "order_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
    "symbol": "PF_XBTUSD",
    "side": "buy",
    "size": 0.0006,
    "price": 64010,
    "fillTime": "2026-11-23T23:59:01.008Z",
    "fillType": "taker",
}


async def answer_like_kraken(received: Received, writer: asyncio.StreamWriter) -> None:
    if signature_is_valid(received):
        payload: dict[str, object] = {"result": "success", "fills": [FILL]}
    else:
        payload = {"result": "error", "error": "authenticationError"}
    payload["serverTime"] = "2026-11-24T00:00:01.000Z"
    writer.write(http_answer(json.dumps(payload).encode()))
    await writer.drain()


def test_the_servers_check_rejects_a_re_encoded_query() -> None:
    nonce = b"1700000000000"
    signed = b"lastFillTime=2026-11-24T00%3A00%3A00.000Z"
    authent = kraken_authent(signed, nonce, b"/api/v3/fills")
    headers = ((b"APIKey", TEST_KEY.encode()), (b"Nonce", nonce), (b"Authent", authent))

    def sent(target: bytes) -> Received:
        return Received(b"GET " + target + b" HTTP/1.1", headers, b"")

    assert signature_is_valid(sent(b"/derivatives/api/v3/fills?" + signed))
    decoded = b"/derivatives/api/v3/fills?lastFillTime=2026-11-24T00:00:00.000Z"
    assert not signature_is_valid(sent(decoded))


async def test_a_signed_get_with_colons_is_accepted_through_a_session(
    credentials: Credentials,
) -> None:
    before = dt.datetime(2026, 11, 24, tzinfo=dt.UTC)
    async with (
        LoopbackServer(answer_like_kraken) as server,
        Session(
            credentials,
            base_url=server.url,
            transport=AiohttpTransport(),
            rate_limits=RateLimitPolicy.unlimited(),
        ) as kf,
    ):
        fills = await kf.orders.fills(before=before)

    assert [fill.fill_id for fill in fills] == [FILL["fill_id"]]
    (received,) = server.received
    assert received.target == (
        b"/derivatives/api/v3/fills?lastFillTime=2026-11-24T00%3A00%3A00.000Z"
    )
    assert signature_is_valid(received)


def test_the_core_package_imports_without_aiohttp() -> None:
    script = (
        "import sys; sys.modules['aiohttp'] = None\n"
        "import kraken_futures_async, kraken_futures_async.rest.transports as t\n"
        "try:\n"
        "    t.AiohttpTransport\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert "pip install 'kraken_futures_async[aiohttp]'" in done.stdout
