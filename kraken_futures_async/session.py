"""The Session: one pooled HTTP client, one limiter, one signer, shared by every task."""

from __future__ import annotations

import enum
from types import TracebackType
from typing import Any

import cattrs
import httpx

from ._pipeline import HttpPipeline
from .auth import Credentials, KrakenFuturesAuth
from .config import DEFAULT_LIMITS, DEFAULT_TIMEOUT, PRODUCTION, Environment, resolve_base_url
from .converter import default_converter
from .endpoints import Endpoint, WireParams
from .errors import SessionStateError
from .ratelimit import RateLimiter, RateLimitPolicy
from .resources import AccountResource, MarketResource, OrdersResource

__all__ = ["Session"]

_USER_AGENT = "kraken_futures_async/0.1"


class _State(enum.Enum):
    UNOPENED = "unopened"
    OPEN = "open"
    CLOSED = "closed"


class Session:
    """An asyncio client for Kraken Futures. Use it as ``async with Session(...) as kf``.

    Every coroutine on it may be awaited from many tasks at once: they share one connection
    pool, one set of rate-limit buckets and one nonce sequence per key. Public calls need no
    credentials; a private call without them raises before anything is sent.
    """

    def __init__(
        self,
        credentials: Credentials | None = None,
        *,
        environment: Environment = PRODUCTION,
        base_url: str | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        limits: httpx.Limits = DEFAULT_LIMITS,
        rate_limits: RateLimitPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        converter: cattrs.Converter | None = None,
    ) -> None:
        self.base_url = resolve_base_url(base_url if base_url is not None else environment)
        self._credentials = credentials
        self._timeout = timeout
        self._limits = limits
        self._transport = transport
        self._converter = converter or default_converter()
        self._policy = rate_limits or RateLimitPolicy.card()
        self._state = _State.UNOPENED
        self._pipeline: HttpPipeline | None = None
        self.market = MarketResource(self)
        self.account = AccountResource(self)
        self.orders = OrdersResource(self)

    def __repr__(self) -> str:
        who = "authenticated" if self._credentials else "public"
        return f"<Session {self.base_url} {who} {self._state.value}>"

    @property
    def has_credentials(self) -> bool:
        return self._credentials is not None

    @property
    def limiter(self) -> RateLimiter:
        return self._open_pipeline().limiter

    async def __aenter__(self) -> Session:
        if self._state is not _State.UNOPENED:
            raise SessionStateError(f"a Session opens once; this one is {self._state.value}")
        client = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=self._timeout,
            limits=self._limits,
            transport=self._transport,
            headers={"User-Agent": _USER_AGENT, "Accept": "application/json"},
        )
        auth = KrakenFuturesAuth(self._credentials) if self._credentials else None
        self._pipeline = HttpPipeline(
            client, auth=auth, limiter=RateLimiter(self._policy), converter=self._converter
        )
        self._client = client
        self._state = _State.OPEN
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the pool; calling it again does nothing."""
        if self._state is _State.OPEN:
            self._state = _State.CLOSED
            await self._client.aclose()
        self._state = _State.CLOSED

    def _open_pipeline(self) -> HttpPipeline:
        if self._state is not _State.OPEN or self._pipeline is None:
            hint = (
                "use it inside `async with Session(...) as kf:`"
                if self._state is _State.UNOPENED
                else "it was closed; open a new Session"
            )
            raise SessionStateError(f"the Session is {self._state.value}: {hint}")
        return self._pipeline

    async def call(
        self,
        endpoint: Endpoint,
        params: WireParams = (),
        *,
        path_params: dict[str, str] | None = None,
    ) -> Any:
        """Run one operation of the endpoint table (what every resource method does)."""
        return await self._open_pipeline().call(endpoint, params, path_params=path_params)
