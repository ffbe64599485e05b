"""The Session: one pooled HTTP client, one limiter, one signer, shared by every task."""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import logging
from types import TracebackType
from typing import TYPE_CHECKING, Any

import cattrs
import httpx

from ._deadline import CallDeadline
from .auth import Credentials, NonceSource
from .config import (
    DEFAULT_DEADLINE,
    DEFAULT_LIMITS,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT,
    PRODUCTION,
    Bounds,
    Environment,
    resolve_base_url,
)
from .converter import default_converter
from .errors import SessionStateError
from .ratelimit import RateLimiter, RateLimitPolicy
from .resources import (
    AccountResource,
    AssignmentResource,
    ChartsResource,
    HistoryResource,
    KeysResource,
    MarketResource,
    OrdersResource,
    PortfolioResource,
    RfqResource,
    SettingsResource,
    StatsResource,
    SubaccountsResource,
    TransfersResource,
)
from .resources._instrument_rules import InstrumentRules
from .rest.endpoints import Endpoint, WireParams
from .rest.pipeline import HttpPipeline, Observer
from .rest.signing import KrakenFuturesAuth
from .retry import OrderSafety, RetryPolicy

if TYPE_CHECKING:
    from .deadman import DeadMansSwitch
    from .tracker import OrderTracker

__all__ = ["Session"]

logger = logging.getLogger("kraken_futures_async")

_USER_AGENT = "kraken_futures_async/0.1"
#: Only encodings the pipeline inflates under its size cap (httpx would add br and zstd when
#: their packages are installed, and inflate them without one).
_ACCEPT_ENCODING = "gzip, deflate"


def _default_transport(limits: httpx.Limits) -> httpx.AsyncBaseTransport:
    """aiohttp's pool under httpx: measured cheaper per call and far faster in fan-outs
    (CHANGELOG); ``Session(transport=httpx.AsyncHTTPTransport(...))`` picks httpx's own."""
    from .rest.transports.aiohttp import AiohttpTransport

    return AiohttpTransport(limits=limits)


class _Cookieless(httpx.Cookies):
    """A cookie store that keeps nothing.

    Kraken's REST API authenticates every call by its headers and needs no cookie; reading
    the ones a proxy or CDN sets (http.cookiejar) cost ~20 us per answer, and keeping them
    would only send them back.
    """

    def extract_cookies(self, response: httpx.Response) -> None:
        return None

    def set_cookie_header(self, request: httpx.Request) -> None:
        return None


class _State(enum.Enum):
    UNOPENED = "unopened"
    OPEN = "open"
    CLOSED = "closed"


class Session:
    """An asyncio client for Kraken Futures. Use it as ``async with Session(...) as kf``.

    Every coroutine on it may be awaited from many tasks at once: they share one connection
    pool, one set of rate-limit buckets and one nonce sequence per key. Public calls need no
    credentials; a private call without them raises before anything is sent.

    What bounds a call: ``timeout`` (httpx's) each phase of one attempt, namely connecting,
    waiting for a pooled connection and each read (a server that trickles bytes restarts
    the read timeout with every one); ``deadline`` the whole call, from the wait for the
    rate-limit budget through every attempt and backoff (``None``: no deadline);
    ``max_response_bytes`` an answer's decoded size. ``with kf.deadline(seconds):`` gives the
    calls made inside the block another deadline. An order call whose answer is lost keeps
    looking for the truth up to ``OrderSafety.deadline`` more, each lookup a call of its own.

    ``nonces`` overrides the key's shared millisecond sequence: a
    :class:`~kraken_futures_async.NanosecondNonceSource` for a key that already saw nanosecond
    nonces, :class:`~kraken_futures_async.NoNonce` to send none. ``check_orders=False`` sends
    orders without checking them against the contract's tick size and size step (the
    instrument list, fetched once per Session: ``instrument_rules``).
    """

    def __init__(
        self,
        credentials: Credentials | None = None,
        *,
        environment: Environment = PRODUCTION,
        base_url: str | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        deadline: float | None = DEFAULT_DEADLINE,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        limits: httpx.Limits = DEFAULT_LIMITS,
        rate_limits: RateLimitPolicy | None = None,
        retry: RetryPolicy | None = None,
        order_safety: OrderSafety | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        converter: cattrs.Converter | None = None,
        nonces: NonceSource | None = None,
        check_orders: bool = True,
    ) -> None:
        self.base_url = resolve_base_url(base_url if base_url is not None else environment)
        self._credentials = credentials
        self._nonces = nonces
        self._timeout = timeout
        #: The deadline and size cap every backend of this Session reads.
        self.bounds = Bounds(deadline=deadline, max_response_bytes=max_response_bytes)
        self._call_deadline = CallDeadline(self.bounds.deadline)
        self._limits = limits
        self._transport = transport
        self._converter = converter or default_converter()
        self._policy = rate_limits or RateLimitPolicy.card()
        self._retry = retry or RetryPolicy()
        self.order_safety = order_safety or OrderSafety()
        self._observers: list[Observer] = []
        self._helpers: list[DeadMansSwitch | OrderTracker] = []
        self._state = _State.UNOPENED
        self._pipeline: HttpPipeline | None = None
        self.market = MarketResource(self)
        self.account = AccountResource(self)
        self.orders = OrdersResource(self)
        self.settings = SettingsResource(self)
        self.transfers = TransfersResource(self)
        self.subaccounts = SubaccountsResource(self)
        self.history = HistoryResource(self)
        self.charts = ChartsResource(self)
        self.rfq = RfqResource(self)
        self.portfolio = PortfolioResource(self)
        self.assignment = AssignmentResource(self)
        self.keys = KeysResource(self)
        self.stats = StatsResource(self)
        self.instrument_rules = InstrumentRules(self.market.instruments, enabled=check_orders)

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
            transport=(
                self._transport if self._transport is not None else _default_transport(self._limits)
            ),
            headers={
                "User-Agent": _USER_AGENT,
                "Accept": "application/json",
                "Accept-Encoding": _ACCEPT_ENCODING,
            },
        )
        # httpx keeps its store in ``_cookies`` (its ``cookies`` setter would copy ours away)
        client._cookies = _Cookieless()
        auth = KrakenFuturesAuth(self._credentials, self._nonces) if self._credentials else None
        self._pipeline = HttpPipeline(
            client,
            auth=auth,
            limiter=RateLimiter(self._policy),
            converter=self._converter,
            retry=self._retry,
            bounds=self.bounds,
            deadline=self._call_deadline,
        )
        self._pipeline.observers.extend(self._observers)
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
        """Stop the background helpers, then close the pool; calling it again does nothing.

        A helper that fails to stop is logged and the pool is closed all the same.
        """
        if self._state is _State.OPEN:
            helpers, self._helpers = self._helpers, []
            try:
                for helper in reversed(helpers):
                    try:
                        await helper.stop()
                    except Exception:
                        logger.exception("%s did not stop cleanly", type(helper).__name__)
            finally:
                self._state = _State.CLOSED
                await self._client.aclose()
        self._state = _State.CLOSED

    def deadline(self, seconds: float | None) -> contextlib.AbstractContextManager[None]:
        """``with kf.deadline(5.0):`` gives each call started in the block 5 s, not the
        Session's deadline (``None``: none). Tasks started inside inherit it."""
        return self._call_deadline.override(seconds)

    def add_observer(self, observer: Observer) -> None:
        """Call ``observer(operation, params, result)`` after every successful call."""
        self._observers.append(observer)
        if self._pipeline is not None:
            self._pipeline.observers.append(observer)

    async def dead_mans_switch(
        self, *, cancel_after: int = 60, interval: float = 20.0
    ) -> DeadMansSwitch:
        """Arm Kraken's dead man's switch and keep it armed until the Session closes.

        Closing the Session disarms it, so a clean shutdown leaves resting orders alone.
        """
        from .deadman import DeadMansSwitch

        switch = DeadMansSwitch(self.orders, cancel_after=cancel_after, interval=interval)
        self._open_pipeline()
        await switch.start()
        self._helpers.append(switch)
        return switch

    async def track_orders(self, *, interval: float = 5.0) -> OrderTracker:
        """A local picture of orders, positions and wallets, polled and fed by this Session."""
        from .tracker import OrderTracker

        tracker = OrderTracker(self, interval=interval)
        self._open_pipeline()
        self.add_observer(tracker.observe)
        await tracker.start()
        self._helpers.append(tracker)
        return tracker

    def server_now(self) -> dt.datetime:
        """The exchange's current time, estimated from the latest ``serverTime`` it sent."""
        return self._open_pipeline().server_now()

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
