"""The hot path sends what the httpx route sends, byte for byte, and reads answers alike.

A loopback server records each request as it arrives (request line, headers in order,
body). Every kind of call is made twice, by identical Sessions with the same nonces: once on
the hot path (the default ``AiohttpTransport``, nothing configured) and once on httpx's full
route (forced by a request hook that changes nothing), and the recorded bytes must be equal.
The answers read back, models or errors, must be equal too.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from kraken_futures_async import Credentials, Session
from kraken_futures_async.auth import NonceSource
from kraken_futures_async.errors import KrakenFuturesError
from kraken_futures_async.ratelimit import RateLimitPolicy
from kraken_futures_async.rest.endpoints import WireParams, endpoint
from kraken_futures_async.rest.transports import AiohttpTransport
from kraken_futures_async.retry import RetryPolicy
from tests.loopback import LoopbackTcpServer
from tests.rest_access import rest

BOUND = 10.0
SERVER_TIME = "2026-12-07T00:00:00.000Z"
#: Exact digits that must survive both routes (``67262.000``, ``0E-11``).
BOOK = (
    b'{"result":"success","serverTime":"2026-12-07T00:00:00.000Z","orderBook":'
    b'{"bids":[[67261.0,0.5],[67260.5,1.25]],"asks":[[67262.000,2],[67263.5,0E-11]]}}'
)
ERROR = {"result": "error", "error": "invalidArgument: nope", "serverTime": SERVER_TIME}


def http_answer(
    body: bytes,
    *,
    status: str = "200 OK",
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),),
) -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers)]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Recorder(LoopbackTcpServer):
    """Keeps every request's raw bytes; answers by path suffix, else with ``default``."""

    def __init__(self, default: bytes, routes: dict[str, bytes] | None = None) -> None:
        super().__init__()
        self.default = default
        self.routes = routes or {}
        self.requests: list[bytes] = []

    def _answer(self, target: bytes) -> bytes:
        path = target.split(b"?", 1)[0].decode()
        for suffix, answer in self.routes.items():
            if path.endswith(suffix):
                return answer
        return self.default

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            async with asyncio.timeout(BOUND):
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    length = 0
                    for line in head.split(b"\r\n")[1:]:
                        name, _, value = line.partition(b":")
                        if name.strip().lower() == b"content-length":
                            length = int(value)
                    body = await reader.readexactly(length) if length else b""
                    self.requests.append(head + body)
                    writer.write(self._answer(head.split(b" ", 2)[1]))
                    await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.CancelledError, TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError, asyncio.CancelledError):
                await writer.wait_closed()
            self._handlers.discard(task)


def session(url: str, credentials: Credentials) -> Session:
    """A Session whose nonces are the same sequence every time (a frozen clock)."""
    return Session(
        credentials,
        base_url=url,
        nonces=NonceSource(clock=lambda: 1_765_000_000_000),
        rate_limits=RateLimitPolicy.unlimited(),
        retry=RetryPolicy.never(),
        check_orders=False,
    )


async def _nothing(request: httpx.Request) -> None:
    return None


Call = Callable[[Session], Awaitable[Any]]


def raw(name: str, params: WireParams = (), path: dict[str, str] | None = None) -> Call:
    return lambda kf: rest(kf).call(endpoint(name), params, path_params=path)


CALLS: dict[str, Call] = {
    "public GET": lambda kf: kf.market.orderbook("PF_XBTUSD"),
    "public GET, no query": raw("tickers"),
    "signed GET": raw("open_orders"),
    "signed GET with query": raw(
        "fills", [("lastFillTime", "2026-12-06T23:59:59.123Z"), ("odd", "a b/c:d&é+~")]
    ),
    "signed POST, form body": raw(
        "send_order",
        [
            ("orderType", "lmt"),
            ("symbol", "PF_XBTUSD"),
            ("side", "buy"),
            ("size", "0.0001"),
            ("limitPrice", "50000"),
            ("cliOrdId", "kfa-fixed"),
            ("processBefore", "2026-12-07T00:00:05.000Z"),
        ],
    ),
    "signed POST, JSON batch in the form": raw(
        "batch_order",
        [("json", json.dumps({"batchOrder": [{"order": "cancel", "order_id": "x y"}]}))],
    ),
    "signed POST, empty form": raw("cancel_all_orders"),
    "path parameters": raw("ticker", path={"symbol": "PF_XBT/USD é"}),
    "signed PUT, query and path": raw(
        "set_subaccount_trading", [("tradingEnabled", "true")], {"subaccountUid": "u-1"}
    ),
    "signed PUT, JSON body and path": raw("replace_rfq_offer", [("bid", "1.5")], {"rfqUid": "r/2"}),
    "signed DELETE, path": raw("cancel_rfq_offer", path={"rfqUid": "r3"}),
    "path parameters, history": raw(
        "market_executions", [("since", "1")], {"tradeable": "PF_XBTUSD"}
    ),
    "signed POST, JSON body and path": raw(
        "place_rfq_offer", [("bid", "67261.000"), ("ask", '"0E-11"')], {"rfqUid": "r 1"}
    ),
}


async def _run(url: str, credentials: Credentials, call: Call, *, hot: bool) -> tuple[Any, int]:
    """The call's outcome (result or error) and how many requests went through httpx."""
    async with session(url, credentials) as kf:
        client = rest(kf).client
        if not hot:
            client.event_hooks["request"].append(_nothing)
        transport = client._transport
        assert type(transport) is AiohttpTransport
        through_httpx = 0
        handle = transport.handle_async_request

        async def counting(request: httpx.Request) -> httpx.Response:
            nonlocal through_httpx
            through_httpx += 1
            return await handle(request)

        transport.handle_async_request = counting  # type: ignore[method-assign]
        try:
            outcome: Any = await call(kf)
        except KrakenFuturesError as exc:
            outcome = (type(exc), str(exc))
        return outcome, through_httpx


def _rows() -> list[str]:
    return list(CALLS)


@pytest.mark.parametrize("kind", _rows())
async def test_every_kind_of_call_leaves_byte_for_byte_as_before(
    kind: str, credentials: Credentials
) -> None:
    answers = {"/orderbook": http_answer(BOOK)}
    async with Recorder(http_answer(json.dumps(ERROR).encode()), answers) as server:
        hot, hot_via_httpx = await _run(server.url, credentials, CALLS[kind], hot=True)
        hot_bytes = list(server.requests)
        server.requests.clear()
        full, full_via_httpx = await _run(server.url, credentials, CALLS[kind], hot=False)
        full_bytes = list(server.requests)
    assert (hot_via_httpx, full_via_httpx) == (0, 1)
    assert len(hot_bytes) == 1
    assert hot_bytes == full_bytes
    assert hot == full


ANSWERS: dict[str, bytes] = {
    "book": http_answer(BOOK),
    "gzip book": http_answer(
        gzip.compress(BOOK),
        headers=(("Content-Type", "application/json"), ("Content-Encoding", "gzip")),
    ),
    "corrupt gzip": http_answer(
        b"not gzip at all",
        headers=(("Content-Type", "application/json"), ("Content-Encoding", "gzip")),
    ),
    "unasked encoding": http_answer(
        b"{}", headers=(("Content-Type", "application/json"), ("Content-Encoding", "br"))
    ),
    "gzip bomb": http_answer(
        gzip.compress(b" " * 3_000_000 + b"{}"),
        headers=(("Content-Type", "application/json"), ("Content-Encoding", "gzip")),
    ),
    "too large": http_answer(b" " * 3_000_000 + b"{}"),
    "error envelope": http_answer(json.dumps(ERROR).encode(), status="400 Bad Request"),
    "rate limited": http_answer(
        json.dumps({"result": "error", "error": "apiLimitExceeded"}).encode(),
        status="429 Too Many Requests",
        headers=(("Content-Type", "application/json"), ("Retry-After", "0")),
    ),
    "html page": http_answer(
        b"<html><body>maintenance \xe9</body></html>",
        status="503 Service Unavailable",
        headers=(("Content-Type", "text/html; charset=latin-1"),),
    ),
    "redirect": http_answer(
        b"", status="302 Found", headers=(("Location", "http://user:pw@elsewhere.test/x"),)
    ),
    "not JSON": http_answer(b"hello", headers=(("Content-Type", "text/plain"),)),
    "wrong shape": http_answer(b'{"result": "success", "orderBook": {"bids": 7}}'),
}


@pytest.mark.parametrize("answer", list(ANSWERS))
async def test_answers_read_the_same_on_both_routes(answer: str, credentials: Credentials) -> None:
    async with Recorder(ANSWERS[answer]) as server:
        call = CALLS["public GET"]
        hot, hot_via_httpx = await _run(server.url, credentials, call, hot=True)
        full, full_via_httpx = await _run(server.url, credentials, call, hot=False)
    assert (hot_via_httpx, full_via_httpx) == (0, 1)
    assert hot == full
    if answer in ("book", "gzip book"):
        assert not isinstance(hot, tuple)
    else:
        assert isinstance(hot, tuple)
        assert issubclass(hot[0], KrakenFuturesError)
