"""Issue 17: every failure is a library error, and no helper dies of one.

JSON nested 100,000 deep made ``json`` raise a bare RecursionError: it escaped every call,
killed the order tracker's and the dead man's switch's tasks without a word, and
``Session.aclose()`` raised it again and left the pool open. Redirects read as "expected
JSON" (a 302) or as success (a 307 with a JSON body); Kraken never redirects its API.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import httpx
import pytest

from kraken_futures_async import (
    InvalidRequestError,
    RateLimitPolicy,
    ResponseInvalidError,
    RetryPolicy,
    Session,
)
from kraken_futures_async.rest.endpoints import endpoint
from kraken_futures_async.rest.envelope import read_payload
from kraken_futures_async.safety import is_ambiguous
from kraken_futures_async.simulator import InProcessTransport, Twin

from .test_bounded_deadline import TRANSPORTS
from .test_bounded_support import HostileServer, Seen, kraken_json, plain
from .test_safety_support import quiet_twin
from .virtual_clock import run_virtual

DEEP = b"[" * 100_000 + b"]" * 100_000
TICKERS = endpoint("tickers")


def answer(status: int, body: bytes = b"", **headers: str) -> httpx.Response:
    request = httpx.Request("GET", "http://twin.test/derivatives/api/v3/tickers")
    return httpx.Response(status, content=body, headers=headers, request=request)


# --- deep nesting ---------------------------------------------------------------------------


def test_json_nested_too_deeply_is_a_response_invalid_error() -> None:
    with pytest.raises(ResponseInvalidError, match="nested too deeply") as caught:
        read_payload(TICKERS, answer(200, DEEP))
    assert caught.value.endpoint == "tickers"


@pytest.mark.parametrize("transport", sorted(TRANSPORTS))
async def test_deep_nesting_through_a_session(transport: str) -> None:
    async with (
        HostileServer(plain(DEEP)) as server,
        Session(
            base_url=server.url,
            transport=TRANSPORTS[transport](),
            rate_limits=RateLimitPolicy.unlimited(),
            retry=RetryPolicy.never(),
        ) as kf,
    ):
        with pytest.raises(ResponseInvalidError, match="nested too deeply"):
            await kf.market.tickers()


async def test_a_failing_observer_does_not_fail_the_call(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def observer(operation: str, params: dict[str, str], result: Any) -> None:
        raise ValueError("observer bug")

    async with (
        HostileServer(kraken_json({"tickers": []})) as server,
        Session(base_url=server.url, rate_limits=RateLimitPolicy.unlimited()) as kf,
    ):
        kf.add_observer(observer)
        assert await kf.market.tickers() == []
    assert "an observer failed" in caplog.text


# --- redirects ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_any_redirect_is_an_error_naming_status_and_location(status: int) -> None:
    body = b'{"result":"success","tickers":[]}'
    response = answer(status, body, location="https://elsewhere.example/derivatives/api/v3/x")
    with pytest.raises(InvalidRequestError) as caught:
        read_payload(TICKERS, response)
    error = caught.value
    assert f"HTTP {status} redirect to 'https://elsewhere.example/derivatives/api/v3/x'" in str(
        error
    )
    assert "Kraken never redirects" in str(error)
    assert error.http_status == status
    assert not error.retry_safe
    assert not is_ambiguous(error)


def test_a_redirect_shows_no_credentials_and_no_endless_location() -> None:
    location = "https://user:hunter2@proxy.example/" + "a" * 500
    with pytest.raises(InvalidRequestError) as caught:
        read_payload(TICKERS, answer(302, location=location))
    message = str(caught.value)
    assert "hunter2" not in message
    assert "user" not in message
    assert "https://proxy.example/aaa" in message
    assert len(message) < 400
    with pytest.raises(InvalidRequestError, match="without a Location"):
        read_payload(TICKERS, answer(302))


@pytest.mark.parametrize("transport", sorted(TRANSPORTS))
async def test_redirects_on_the_wire_are_not_followed_nor_retried(transport: str) -> None:
    async def to_elsewhere(seen: Seen, writer: asyncio.StreamWriter) -> None:
        await plain(b"", status="302 Found", headers={"Location": "http://elsewhere.example/"})(
            seen, writer
        )

    routes = {
        "tickers": to_elsewhere,
        "orderbook": plain(
            b'{"result":"success","orderBook":{"bids":[],"asks":[]}}',
            status="307 Temporary Redirect",
            headers={"Location": "/derivatives/api/v3/orderbook2"},
        ),
    }
    async with (
        HostileServer(plain(b"{}"), routes) as server,
        Session(
            base_url=server.url,
            transport=TRANSPORTS[transport](),
            rate_limits=RateLimitPolicy.unlimited(),
        ) as kf,
    ):
        with pytest.raises(InvalidRequestError, match=r"HTTP 302 redirect to 'http://elsewhere"):
            await kf.market.tickers()
        with pytest.raises(InvalidRequestError, match=r"HTTP 307 redirect to '/derivatives"):
            await kf.market.orderbook("PF_XBTUSD")
    assert server.paths() == ["tickers", "orderbook"]  # once each, nothing followed


class _RedirectOrders(InProcessTransport):
    """The twin, except that ``sendorder`` is answered by a 307 before the engine sees it."""

    def __init__(self, twin: Twin) -> None:
        super().__init__(twin.app)
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        if request.url.path.endswith("/sendorder"):
            return httpx.Response(307, headers={"Location": "https://proxy.example/"})
        return await super().handle_async_request(request)


def test_an_order_answered_by_a_redirect_is_refused_without_lookups() -> None:
    twin, ledger = quiet_twin()
    transport = _RedirectOrders(twin)

    async def scenario() -> InvalidRequestError:
        async with twin.session(transport=transport) as kf:
            with pytest.raises(InvalidRequestError) as caught:
                await kf.orders.send(
                    symbol="PF_XBTUSD", side="buy", size=Decimal("0.0001"), order_type="mkt"
                )
            return caught.value

    error, _ = run_virtual(scenario)
    assert error.http_status == 307
    assert ledger.of("send_order") == []
    sends = [path for path in transport.paths if path.endswith("/sendorder")]
    assert len(sends) == 1  # not retried
    assert not any(path.endswith("/orders/status") for path in transport.paths)
