"""What makes a call take httpx's full route, and that it then does what httpx does.

Event hooks, client auth, cookies and redirects are honoured exactly as before the hot path
existed; the hot path itself logs what httpx logs, and never a secret.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Generator

import httpx
import pytest

from kraken_futures_async import Credentials, Session
from kraken_futures_async.rest.transports import AiohttpTransport
from tests.conftest import TEST_SECRET
from tests.rest_access import rest
from tests.test_hot_path_wire import BOOK, Recorder, http_answer, session

BOOK_ANSWER = http_answer(BOOK)


def _count_httpx_route(kf: Session) -> list[httpx.Request]:
    """The requests that go through ``AiohttpTransport.handle_async_request`` (httpx's route)."""
    transport = rest(kf).client._transport
    assert type(transport) is AiohttpTransport
    handle = transport.handle_async_request
    seen: list[httpx.Request] = []

    async def counting(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return await handle(request)

    transport.handle_async_request = counting  # type: ignore[method-assign]
    return seen


async def test_nothing_configured_takes_the_hot_path(credentials: Credentials) -> None:
    async with Recorder(BOOK_ANSWER) as server, session(server.url, credentials) as kf:
        seen = _count_httpx_route(kf)
        book = await kf.market.orderbook("PF_XBTUSD")
        await kf.market.orderbook("PF_XBTUSD")
    assert seen == []
    assert len(server.requests) == 2
    assert str(book.asks[0].price) == "67262.000"
    assert str(book.asks[1].size) == "0E-11"


async def test_event_hooks_are_called(credentials: Credentials) -> None:
    called: list[str] = []

    async def on_request(request: httpx.Request) -> None:
        called.append(f"request {request.url.path}")

    async def on_response(response: httpx.Response) -> None:
        called.append(f"response {response.status_code}")

    async with Recorder(BOOK_ANSWER) as server, session(server.url, credentials) as kf:
        seen = _count_httpx_route(kf)
        hooks = rest(kf).client.event_hooks
        hooks["request"].append(on_request)
        hooks["response"].append(on_response)
        await kf.market.orderbook("PF_XBTUSD")
        del hooks["request"][:], hooks["response"][:]
        await kf.market.orderbook("PF_XBTUSD")  # hooks gone: the hot path again
    assert called == ["request /derivatives/api/v3/orderbook", "response 200"]
    assert len(seen) == 1


class _Stamp(httpx.Auth):
    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["X-Stamp"] = "yes"
        yield request


async def test_client_auth_is_applied(credentials: Credentials) -> None:
    async with Recorder(BOOK_ANSWER) as server, session(server.url, credentials) as kf:
        seen = _count_httpx_route(kf)
        rest(kf).client.auth = _Stamp()
        await kf.market.orderbook("PF_XBTUSD")
    assert len(seen) == 1
    assert b"\r\nX-Stamp: yes\r\n" in server.requests[0]


async def test_cookies_are_sent(credentials: Credentials) -> None:
    async with Recorder(BOOK_ANSWER) as server, session(server.url, credentials) as kf:
        seen = _count_httpx_route(kf)
        client = rest(kf).client
        client.cookies = httpx.Cookies()
        client.cookies.set("session", "abc")
        await kf.market.orderbook("PF_XBTUSD")
    assert len(seen) == 1
    assert b"\r\nCookie: session=abc\r\n" in server.requests[0]


async def test_redirects_are_followed_when_the_client_says_so(credentials: Credentials) -> None:
    moved = http_answer(b"", status="302 Found", headers=(("Location", "/elsewhere/orderbook"),))
    routes = {"/elsewhere/orderbook": BOOK_ANSWER}
    async with Recorder(moved, routes) as server, session(server.url, credentials) as kf:
        seen = _count_httpx_route(kf)
        rest(kf).client.follow_redirects = True
        book = await kf.market.orderbook("PF_XBTUSD")
    assert len(seen) == 2
    assert server.requests[1].startswith(b"GET /elsewhere/orderbook HTTP/1.1\r\n")
    assert str(book.bids[0].price) == "67261.0"


async def test_an_injected_aiohttp_subclass_takes_httpx_route(credentials: Credentials) -> None:
    class Mine(AiohttpTransport):
        pass

    async with Recorder(BOOK_ANSWER) as server:
        transport = Mine()
        kf = Session(credentials, base_url=server.url, transport=transport)
        async with kf:
            handle = transport.handle_async_request
            seen: list[httpx.Request] = []

            async def counting(request: httpx.Request) -> httpx.Response:
                seen.append(request)
                return await handle(request)

            transport.handle_async_request = counting  # type: ignore[method-assign]
            await kf.market.orderbook("PF_XBTUSD")
    assert len(seen) == 1


def _log_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    return [(record.name, record.getMessage()) for record in caplog.records]


async def test_both_routes_log_the_same_lines_without_secrets(
    credentials: Credentials, caplog: pytest.LogCaptureFixture
) -> None:
    async def nothing(request: httpx.Request) -> None:
        return None

    lines: list[list[tuple[str, str]]] = []
    no_orders = {"result": "success", "openOrders": [], "serverTime": "2026-12-07T00:00:00.000Z"}
    routes = {"/openorders": http_answer(json.dumps(no_orders).encode())}
    async with Recorder(BOOK_ANSWER, routes) as server:
        for hot in (True, False):
            caplog.clear()
            with caplog.at_level(logging.DEBUG):
                async with session(server.url, credentials) as kf:
                    if not hot:
                        rest(kf).client.event_hooks["request"].append(nothing)
                    await kf.market.orderbook("PF_XBTUSD")
                    await kf.orders.open()
            lines.append(
                [
                    line
                    for line in _log_lines(caplog)
                    if line[0] in ("httpx", "kraken_futures_async")
                ]
            )
    hot_lines, full_lines = lines
    assert hot_lines == full_lines
    assert any(name == "httpx" and "HTTP Request: GET" in text for name, text in hot_lines)
    text = "\n".join(message for _, message in hot_lines)
    for secret in (TEST_SECRET, "Authent", "Nonce"):
        assert secret not in text
