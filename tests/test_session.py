"""The Session's life: open once, close idempotently, configure httpx, share between tasks."""

from __future__ import annotations

import asyncio
import base64
import json
import random
from decimal import Decimal
from typing import Any, ClassVar

import httpx
import pytest

from kraken_futures_async import (
    DEMO,
    ConfigurationError,
    Credentials,
    Environment,
    KrakenFuturesError,
    RateLimitPolicy,
    Session,
    SessionStateError,
)
from kraken_futures_async.config import DEFAULT_LIMITS, DEFAULT_TIMEOUT
from kraken_futures_async.rest.signing import sign
from kraken_futures_async.rest.transports import AiohttpTransport
from tests.conftest import BASE_URL, TEST_KEY, TEST_SECRET
from tests.rest_access import rest

SERVER_TIME = "2024-05-01T12:00:00.000Z"
ACCOUNTS = {
    "result": "success",
    "serverTime": SERVER_TIME,
    "accounts": {"cash": {"type": "cashAccount", "balances": {"usd": 12.5}}},
}


def ticker_answer(request: httpx.Request) -> httpx.Response:
    """``/tickers/{symbol}`` answers that symbol, so mixed-up answers are visible."""
    symbol = request.url.path.rsplit("/", 1)[-1]
    number = symbol.rsplit("_", 1)[-1]
    body = {
        "result": "success",
        "serverTime": SERVER_TIME,
        "ticker": {"symbol": symbol, "last": f"{number}.5"},
    }
    return httpx.Response(200, text=json.dumps(body))


def tickers_answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"result": "success", "serverTime": SERVER_TIME, "tickers": []})


def session(
    handler: Any = tickers_answer, credentials: Credentials | None = None, **kwargs: Any
) -> Session:
    return Session(
        credentials,
        base_url=kwargs.pop("base_url", BASE_URL),
        rate_limits=RateLimitPolicy.unlimited(),
        transport=httpx.MockTransport(handler),
        **kwargs,
    )


async def test_calling_before_async_with_raises() -> None:
    kf = session()
    with pytest.raises(SessionStateError) as info:
        await kf.market.tickers()
    assert "async with" in str(info.value)
    assert "unopened" in str(info.value)
    with pytest.raises(SessionStateError):
        _ = kf.limiter


async def test_calling_after_close_raises() -> None:
    kf = session()
    async with kf:
        assert await kf.market.tickers() == []
    with pytest.raises(SessionStateError) as info:
        await kf.market.tickers()
    assert "closed" in str(info.value)
    assert isinstance(info.value, KrakenFuturesError)


async def test_aclose_is_idempotent() -> None:
    kf = session()
    async with kf:
        await kf.aclose()
        await kf.aclose()
        with pytest.raises(SessionStateError):
            await kf.market.tickers()
    await kf.aclose()
    never_opened = session()
    await never_opened.aclose()
    await never_opened.aclose()
    assert "closed" in repr(never_opened)


async def test_a_session_opens_once() -> None:
    kf = session()
    async with kf:
        with pytest.raises(SessionStateError, match="open"):
            await kf.__aenter__()
        assert await kf.market.tickers() == []
    with pytest.raises(SessionStateError, match="opens once"):
        async with kf:
            pass


async def test_closing_closes_the_http_client() -> None:
    kf = session()
    async with kf:
        client = rest(kf).client
        assert not client.is_closed
    assert client.is_closed


def test_demo_environment_warns_of_its_retirement() -> None:
    with pytest.warns(DeprecationWarning, match="2026-07-14") as record:
        kf = Session(environment=DEMO)
    assert kf.base_url == "https://demo-futures.kraken.com"
    assert "retired" in str(record[0].message)
    assert record[0].filename == __file__  # the warning points at the caller


def test_production_is_the_default() -> None:
    assert Session().base_url == "https://futures.kraken.com"


async def test_custom_base_url_is_used() -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return tickers_answer(request)

    kf = session(handler, base_url="http://127.0.0.1:8765/")
    assert kf.base_url == "http://127.0.0.1:8765"
    async with kf:
        await kf.market.tickers()
    assert str(seen[0]) == "http://127.0.0.1:8765/derivatives/api/v3/tickers"


async def test_custom_environment_is_used() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.host)
        return tickers_answer(request)

    kf = Session(
        environment=Environment("twin", "http://twin.local:9000"),
        rate_limits=RateLimitPolicy.unlimited(),
        transport=httpx.MockTransport(handler),
    )
    async with kf:
        await kf.market.tickers()
    assert seen == ["twin.local"]


@pytest.mark.parametrize(
    "url",
    [
        "futures.kraken.com",
        "ftp://futures.kraken.com",
        "",
        "http://",
        "http://[::1",
        "https://futures.kraken.com/derivatives/api/v3",
        "https://futures.kraken.com/?x=1",
    ],
)
def test_bad_base_url_raises_a_configuration_error(url: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        Session(base_url=url)
    assert isinstance(info.value, ValueError)
    assert "base URL" in str(info.value)


class SpyClient(httpx.AsyncClient):
    """Records the keyword arguments the Session hands to httpx."""

    created: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, **kwargs: Any) -> None:
        SpyClient.created.append(kwargs)
        super().__init__(**kwargs)


@pytest.fixture
def spy_client(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    SpyClient.created = []
    monkeypatch.setattr(httpx, "AsyncClient", SpyClient)
    return SpyClient.created


async def test_timeout_and_pool_limits_reach_httpx(spy_client: list[dict[str, Any]]) -> None:
    timeout = httpx.Timeout(3.0, connect=1.0)
    limits = httpx.Limits(max_connections=7, max_keepalive_connections=3, keepalive_expiry=5)
    kf = Session(base_url=BASE_URL, timeout=timeout, limits=limits)
    async with kf:
        assert rest(kf).client.timeout == timeout
        assert rest(kf).client.base_url.host == "twin.test"
    (kwargs,) = spy_client
    assert kwargs["limits"] is limits
    assert kwargs["timeout"] is timeout
    # the default pool is aiohttp's under httpx, and it gets the Session's limits
    assert isinstance(kwargs["transport"], AiohttpTransport)
    assert "max_connections=7" in repr(kwargs["transport"])


async def test_httpx_own_pool_stays_selectable(spy_client: list[dict[str, Any]]) -> None:
    transport = httpx.AsyncHTTPTransport()
    async with Session(base_url=BASE_URL, transport=transport):
        pass
    (kwargs,) = spy_client
    assert kwargs["transport"] is transport


async def test_defaults_and_float_timeout(spy_client: list[dict[str, Any]]) -> None:
    async with Session(base_url=BASE_URL) as kf:
        assert rest(kf).client.timeout == DEFAULT_TIMEOUT
    async with Session(base_url=BASE_URL, timeout=2.5) as kf:
        assert rest(kf).client.timeout == httpx.Timeout(2.5)
    assert [kwargs["limits"] for kwargs in spy_client] == [DEFAULT_LIMITS, DEFAULT_LIMITS]


async def test_an_injected_transport_carries_the_requests() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return tickers_answer(request)

    transport = httpx.MockTransport(handler)
    kf = Session(base_url=BASE_URL, rate_limits=RateLimitPolicy.unlimited(), transport=transport)
    async with kf:
        assert rest(kf).client._transport is transport
        await kf.market.tickers()
        await kf.market.tickers()
    assert calls == ["/derivatives/api/v3/tickers"] * 2


async def test_many_concurrent_public_calls_get_their_own_answers() -> None:
    rng = random.Random(7)
    in_flight = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        for _ in range(rng.randrange(5)):
            await asyncio.sleep(0)
        in_flight -= 1
        return ticker_answer(request)

    symbols = [f"PF_SYM_{i}" for i in range(200)]
    async with session(handler) as kf:
        tickers = await asyncio.gather(*(kf.market.ticker(s) for s in symbols))
    assert [t.symbol for t in tickers] == symbols
    assert [t.last for t in tickers] == [Decimal(f"{i}.5") for i in range(200)]
    assert peak > 1  # the calls really overlapped


async def test_concurrent_orderbook_fan_out() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        symbol = request.url.params["symbol"]
        price = int(symbol.rsplit("_", 1)[-1])
        body = {
            "result": "success",
            "serverTime": SERVER_TIME,
            "orderBook": {"bids": [[price, 1]], "asks": [[price + 1, 2]]},
        }
        return httpx.Response(200, text=json.dumps(body))

    symbols = [f"PF_B_{i}" for i in range(100)]
    async with session(handler) as kf:
        books = await kf.market.orderbooks(symbols + symbols[:10])
    assert list(books) == symbols
    for i, symbol in enumerate(symbols):
        bid = books[symbol].best_bid
        assert bid is not None
        assert bid.price == Decimal(i)


def assert_unsigned(request: httpx.Request) -> None:
    for header in ("APIKey", "Authent", "Nonce"):
        assert header not in request.headers


async def test_public_calls_need_no_credentials_and_send_no_auth_headers() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return tickers_answer(request)

    async with session(handler) as kf:
        assert not kf.has_credentials
        await kf.market.tickers()
    assert_unsigned(sent[0])


async def test_public_calls_stay_unsigned_on_an_authenticated_session(
    credentials: Credentials,
) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.url.path.endswith("/accounts"):
            return httpx.Response(200, text=json.dumps(ACCOUNTS))
        return tickers_answer(request)

    async with session(handler, credentials) as kf:
        await kf.market.tickers()
        accounts = await kf.account.accounts()
    assert accounts.cash is not None
    assert accounts.cash.balances == {"usd": Decimal("12.5")}
    public, private = sent
    assert_unsigned(public)
    assert private.headers["APIKey"] == TEST_KEY
    assert private.headers["Nonce"].isdigit()
    assert private.headers["Authent"]


async def test_concurrent_private_calls_are_each_signed_with_a_fresh_nonce(
    credentials: Credentials,
) -> None:
    sent: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        await asyncio.sleep(0)
        return httpx.Response(200, text=json.dumps(ACCOUNTS))

    async with session(handler, credentials) as kf:
        results = await asyncio.gather(*(kf.account.accounts() for _ in range(100)))
    assert len(results) == 100
    nonces = [r.headers["Nonce"] for r in sent]
    assert len(set(nonces)) == 100
    secret = base64.b64decode(TEST_SECRET)
    for request in sent:
        assert request.headers["APIKey"] == TEST_KEY
        expected = sign(secret, "", request.headers["Nonce"], "/api/v3/accounts")
        assert request.headers["Authent"] == expected


def test_repr_shows_no_secret(credentials: Credentials) -> None:
    kf = session(credentials=credentials)
    text = repr(kf)
    assert "authenticated" in text
    assert TEST_SECRET not in text
    assert TEST_SECRET[:12] not in text
