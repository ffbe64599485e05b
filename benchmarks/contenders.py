"""The clients under test, behind one shape: tickers, order book, signed GET, order.

Every contender makes the same four calls against the same twin and ends with a parsed
answer: the library with structured models, raw clients with ``json.loads`` (what code
written by hand would do), peers with whatever they return. Raw clients sign private calls
with the few lines below, as Kraken documents (reference section 2).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import aiohttp
import attrs
import httpx

from kraken_futures_async import Credentials, RateLimitPolicy, Session
from kraken_futures_async.config import DEFAULT_LIMITS
from kraken_futures_async.rest.transports import AiohttpTransport
from kraken_futures_async.retry import OrderSafety

D = "/derivatives/api/v3"
SYMBOL = "PF_XBTUSD"
CCXT_SYMBOL = "BTC/USD:USD"
#: Connections per client, as the library's default pool (httpx.Limits(max_connections=64)).
POOL = DEFAULT_LIMITS.max_connections or 64

Call = Callable[[], Awaitable[object]]


@attrs.frozen
class Key:
    key: str
    secret: str


@attrs.frozen
class Order:
    """A resting buy far below the market: it never fills, and is cancelled between rounds."""

    price: Decimal
    size: Decimal


class Contender:
    """A client under test. ``pool`` is its connection limit (for the fan-out's ideal)."""

    name: str = ""
    pool: int = POOL
    note: str = ""

    async def open(self) -> None:
        """Connect and warm up whatever is built lazily (not measured)."""

    async def tickers(self) -> object:
        raise NotImplementedError

    async def orderbook(self, symbol: str) -> object:
        raise NotImplementedError

    async def signed_get(self) -> object:
        raise NotImplementedError

    async def order(self) -> object:
        raise NotImplementedError

    async def aclose(self) -> None:
        raise NotImplementedError

    def calls(self) -> dict[str, Call]:
        return {
            "tickers": self.tickers,
            "order book": lambda: self.orderbook(SYMBOL),
            "signed GET": self.signed_get,
            "order": self.order,
        }


# --- the library ----------------------------------------------------------------------------


class Library(Contender):
    def __init__(
        self,
        name: str,
        url: str,
        key: Key,
        order: Order,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        rate_limits: RateLimitPolicy | None = None,
        order_safety: OrderSafety | None = None,
        note: str = "",
    ) -> None:
        self.name = name
        self.note = note
        self._order = order
        self.session = Session(
            Credentials(key.key, key.secret),
            base_url=url,
            transport=transport,
            rate_limits=rate_limits,
            order_safety=order_safety,
        )

    async def open(self) -> None:
        await self.session.__aenter__()

    async def tickers(self) -> object:
        return await self.session.market.tickers()

    async def orderbook(self, symbol: str) -> object:
        return await self.session.market.orderbook(symbol)

    async def signed_get(self) -> object:
        return await self.session.orders.open()

    async def order(self) -> object:
        return await self.session.orders.send(
            symbol=SYMBOL, side="buy", size=self._order.size, limit_price=self._order.price
        )

    async def aclose(self) -> None:
        await self.session.aclose()


# --- raw clients ----------------------------------------------------------------------------


class Signer:
    """Kraken's ``Authent``: HMAC-SHA512 (base64 secret) of SHA-256(postData + nonce + path)."""

    def __init__(self, key: Key) -> None:
        self.key = key.key
        self._secret = base64.b64decode(key.secret)
        self._last = 0

    def headers(self, path: str, post_data: str) -> dict[str, str]:
        self._last = nonce = max(self._last + 1, time.time_ns())
        digest = hashlib.sha256(f"{post_data}{nonce}{path.removeprefix('/derivatives')}".encode())
        authent = hmac.new(self._secret, digest.digest(), hashlib.sha512).digest()
        return {
            "APIKey": self.key,
            "Nonce": str(nonce),
            "Authent": base64.b64encode(authent).decode(),
        }


def _order_form(order: Order) -> str:
    return urlencode(
        {
            "orderType": "lmt",
            "symbol": SYMBOL,
            "side": "buy",
            "size": str(order.size),
            "limitPrice": str(order.price),
        }
    )


_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class RawHttpx(Contender):
    """httpx.AsyncClient by hand: build, sign, send, ``json.loads``."""

    def __init__(
        self,
        name: str,
        url: str,
        key: Key,
        order: Order,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        note: str = "",
    ) -> None:
        self.name = name
        self.note = note
        self._signer = Signer(key)
        self._form = _order_form(order)
        self.client = httpx.AsyncClient(base_url=url, limits=DEFAULT_LIMITS, transport=transport)

    async def tickers(self) -> object:
        return json.loads((await self.client.get(f"{D}/tickers")).content)

    async def orderbook(self, symbol: str) -> object:
        answer = await self.client.get(f"{D}/orderbook", params={"symbol": symbol})
        return json.loads(answer.content)

    async def signed_get(self) -> object:
        path = f"{D}/openorders"
        answer = await self.client.get(path, headers=self._signer.headers(path, ""))
        return json.loads(answer.content)

    async def order(self) -> object:
        path = f"{D}/sendorder"
        headers = {**self._signer.headers(path, self._form), **_FORM}
        answer = await self.client.post(path, content=self._form, headers=headers)
        return json.loads(answer.content)

    async def aclose(self) -> None:
        await self.client.aclose()


class RawAiohttp(Contender):
    """aiohttp.ClientSession by hand, the floor every aiohttp-based client stands on."""

    def __init__(self, name: str, url: str, key: Key, order: Order) -> None:
        self.name = name
        self._url = url
        self._signer = Signer(key)
        self._form = _order_form(order)
        self.client: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        self.client = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=POOL))

    async def _get(self, path: str, headers: dict[str, str] | None = None) -> object:
        assert self.client is not None
        async with self.client.get(self._url + path, headers=headers) as answer:
            return json.loads(await answer.read())

    async def tickers(self) -> object:
        return await self._get(f"{D}/tickers")

    async def orderbook(self, symbol: str) -> object:
        return await self._get(f"{D}/orderbook?symbol={symbol}")

    async def signed_get(self) -> object:
        path = f"{D}/openorders"
        return await self._get(path, self._signer.headers(path, ""))

    async def order(self) -> object:
        assert self.client is not None
        path = f"{D}/sendorder"
        headers = {**self._signer.headers(path, self._form), **_FORM}
        async with self.client.post(self._url + path, data=self._form, headers=headers) as answer:
            return json.loads(await answer.read())

    async def aclose(self) -> None:
        if self.client is not None:
            await self.client.close()


# --- peers ----------------------------------------------------------------------------------


class KrakenSdk(Contender):
    """python-kraken-sdk's async client (``kraken.futures.FuturesAsyncClient.request``)."""

    note = "its aiohttp pool: 100 connections"
    pool = 100

    def __init__(self, name: str, url: str, key: Key, order: Order) -> None:
        from kraken.futures import FuturesAsyncClient

        self.name = name
        self.client = FuturesAsyncClient(key=key.key, secret=key.secret, url=url)
        self._form = {
            "orderType": "lmt",
            "symbol": SYMBOL,
            "side": "buy",
            "size": str(order.size),
            "limitPrice": str(order.price),
        }

    async def tickers(self) -> object:
        return await self.client.request("GET", f"{D}/tickers", auth=False)

    async def orderbook(self, symbol: str) -> object:
        return await self.client.request(
            "GET", f"{D}/orderbook", query_params={"symbol": symbol}, auth=False
        )

    async def signed_get(self) -> object:
        return await self.client.request("GET", f"{D}/openorders", auth=True)

    async def order(self) -> object:
        return await self.client.request(
            "POST", f"{D}/sendorder", post_params=self._form, auth=True
        )

    async def aclose(self) -> None:
        await self.client.close()


class Ccxt(Contender):
    """ccxt's ``krakenfutures`` (async), with its own rate limiter on or off."""

    pool = 100

    def __init__(self, name: str, url: str, key: Key, order: Order, *, rate_limited: bool) -> None:
        import ccxt.async_support as ccxt

        self.name = name
        self.rate_limited = rate_limited
        self.note = (
            "default limiter: one call per 600 ms" if rate_limited else "enableRateLimit=False"
        )
        self.client: Any = ccxt.krakenfutures(
            {"apiKey": key.key, "secret": key.secret, "enableRateLimit": rate_limited}
        )
        self.client.urls["api"] = {
            "public": f"{url}/derivatives/api/",
            "private": f"{url}/derivatives/api/",
            "charts": f"{url}/api/charts/",
            "history": f"{url}/api/history/",
            "feeschedules": f"{url}/api/feeschedules/",
        }
        self._order = order
        self._by_id: dict[str, str] = {}

    async def open(self) -> None:
        await self.client.load_markets()  # instruments and tickers, once, as ccxt needs
        self._by_id = {m["id"]: m["symbol"] for m in self.client.markets.values()}

    def symbol_of(self, kraken_symbol: str) -> str:
        return self._by_id.get(kraken_symbol, kraken_symbol)

    async def tickers(self) -> object:
        return await self.client.fetch_tickers()

    async def orderbook(self, symbol: str) -> object:
        return await self.client.fetch_order_book(self.symbol_of(symbol))

    async def signed_get(self) -> object:
        return await self.client.fetch_open_orders()

    async def order(self) -> object:
        return await self.client.create_order(
            CCXT_SYMBOL, "limit", "buy", float(self._order.size), float(self._order.price)
        )

    async def aclose(self) -> None:
        await self.client.close()


def peers_installed() -> bool:
    try:
        import ccxt  # noqa: F401
        import kraken.futures  # noqa: F401
    except ImportError:
        return False
    return True


def default_transport() -> httpx.AsyncBaseTransport:
    """httpx's own pool, the alternative to AiohttpTransport."""
    return httpx.AsyncHTTPTransport(limits=DEFAULT_LIMITS)


def aiohttp_transport() -> httpx.AsyncBaseTransport:
    return AiohttpTransport(limits=DEFAULT_LIMITS)
