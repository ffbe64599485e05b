"""The Session: one backend (its pool, limiter and signer), shared by every task, with the
resources, helpers and observers that sit on it."""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import logging
from types import TracebackType
from typing import TYPE_CHECKING, Literal, TypeVar

import cattrs
import httpx

from ._deadline import CallDeadline
from .auth import Credentials, NonceSource
from .backend import Backend, Observer
from .config import (
    DEFAULT_DEADLINE,
    DEFAULT_LIMITS,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT,
    PRODUCTION,
    Bounds,
    Environment,
    resolve_base_url,
    resolve_spot_rest_url,
    resolve_stream_url,
)
from .converter import default_converter
from .errors import ConfigurationError, SessionStateError, UnsupportedOperationError
from .operations import Operation
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
from .rest.backend import RestBackend
from .retry import OrderSafety, RetryPolicy
from .safety import OrderLookup
from .streams.private import private_streams_for
from .streams.subscriptions import Streams
from .uws import UwsConnection, UwsSettings

if TYPE_CHECKING:
    from .deadman import DeadMansSwitch
    from .shared_budget import SharedBudget
    from .tracker import OrderTracker

__all__ = ["Session"]

logger = logging.getLogger("kraken_futures_async")

RequestT = TypeVar("RequestT")
ResultT = TypeVar("ResultT")


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

    ``backend`` replaces the REST backend the Session builds from the arguments above
    (``timeout``, ``limits``, ``transport``, ``rate_limits``, ``retry``, ``nonces`` and
    ``converter`` configure that REST backend); any object that follows
    :class:`~kraken_futures_async.backend.Backend` will do, an in-memory fake included.

    ``kf.stream`` streams public market data over Kraken's Unified WebSocket (no
    credentials needed); its socket opens with the first subscription and closes with the
    Session. ``stream_url`` overrides where it connects (by default the environment's socket,
    or ``ws(s)://<base_url host>/v2/public`` when ``base_url`` is given);
    ``stream_settings`` its timeouts, backoff and message cap (default: the Session's
    ``max_response_bytes``). ``kf.stream.executions()``, ``positions()`` and ``balances()``
    stream the account over the private socket with a Kraken key (the ``uws`` backend's
    socket, or one of their own: :mod:`kraken_futures_async.streams.private`).

    ``shared_budget`` (a Redis URL or a :class:`~kraken_futures_async.shared_budget.SharedBudget`,
    extra ``redis``) keeps the key's rate-limit budget and nonce in Redis, for several
    processes on one key: every Session on the key must use it.
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
        backend: Backend | Literal["rest", "uws"] | None = None,
        stream_url: str | None = None,
        stream_settings: UwsSettings | None = None,
        shared_budget: str | SharedBudget | None = None,
    ) -> None:
        #: The host root every call goes to (no trailing slash).
        self.base_url = resolve_base_url(base_url if base_url is not None else environment)
        self._credentials = credentials
        #: The deadline and size cap every backend of this Session reads.
        self.bounds = Bounds(deadline=deadline, max_response_bytes=max_response_bytes)
        self._call_deadline = CallDeadline(self.bounds.deadline)
        #: How order calls guard against acting twice after a lost answer (deadline, patience).
        self.order_safety = order_safety or OrderSafety()
        if backend is not None and transport is not None:
            raise ConfigurationError(
                "give a transport or a backend, not both: a transport configures the REST "
                "backend the Session builds when none is given"
            )
        if backend == "uws":
            backend = _uws_backend(
                credentials,
                base_url=self.base_url,
                environment=environment if base_url is None else None,
                settings=stream_settings or UwsSettings(max_msg_size=max_response_bytes),
                deadline=self._call_deadline,
                stream_url=stream_url,
            )
        elif backend == "rest":
            backend = None
        elif backend is not None and not hasattr(backend, "execute"):
            raise ConfigurationError(f"backend is 'rest', 'uws' or a Backend, got {backend!r}")
        # shared_budget: the key's budget and nonce in Redis, for many processes on one key
        self._shared = None
        if shared_budget is not None:
            from .shared_budget import bind

            self._shared = bind(shared_budget, credentials, backend)
            rate_limits, nonces = self._shared.configure(rate_limits or RateLimitPolicy(), nonces)
        # the private socket can follow a REST backend built here from a URL, not a transport
        streams_follow = backend is None and transport is None
        self._backend: Backend = backend or RestBackend(
            base_url=self.base_url,
            credentials=credentials,
            nonces=nonces,
            timeout=timeout,
            limits=limits,
            transport=transport,
            converter=converter or default_converter(),
            rate_limits=rate_limits or RateLimitPolicy.card(),
            retry=retry or RetryPolicy(),
            bounds=self.bounds,
            deadline=self._call_deadline,
        )
        #: Where ``kf.stream`` connects (Kraken's Unified WebSocket, public socket).
        self.stream_url = resolve_stream_url(
            stream_url,
            base_url=self.base_url,
            environment=environment if base_url is None else None,
        )
        self._stream_source = UwsConnection(
            self.stream_url,
            settings=stream_settings or UwsSettings(max_msg_size=self.bounds.max_response_bytes),
        )
        self._private_streams = private_streams_for(
            credentials,
            self._backend,
            base_url=self.base_url,
            environment=environment if base_url is None else None,
            settings=stream_settings or UwsSettings(max_msg_size=self.bounds.max_response_bytes),
            converter=converter,
            check_open=self._open_backend,
            preferred=streams_follow,
        )
        #: Subscriptions to Kraken's Unified WebSocket: books, tickers, trades, candles, and the
        #: account's executions, positions and balances.
        self.stream = Streams(
            self._stream_source,
            converter=converter,
            check_open=self._open_backend,
            private=self._private_streams,
        )
        self._helpers: list[DeadMansSwitch | OrderTracker] = []
        self._state = _State.UNOPENED
        #: Public market data (no credentials needed).
        self.market = MarketResource(self)
        #: The account's balances, positions and notices.
        self.account = AccountResource(self)
        #: Orders: send, edit, cancel, the dead man's switch, batches, status, open orders, fills.
        self.orders = OrdersResource(self)
        #: Leverage, PnL-currency and self-trade preferences.
        self.settings = SettingsResource(self)
        #: Moving funds between wallets, subaccounts and the Spot account.
        self.transfers = TransfersResource(self)
        #: Subaccounts and their trading switch.
        self.subaccounts = SubaccountsResource(self)
        #: The history API, one page at a time or every page (``iter_*``).
        self.history = HistoryResource(self)
        #: The charts API: tick types, symbols, resolutions, analytics, the liquidity pool.
        self.charts = ChartsResource(self)
        #: Requests for quote and the account's offers on them.
        self.rfq = RfqResource(self)
        #: Portfolio-margining parameters and simulations.
        self.portfolio = PortfolioResource(self)
        #: Preferences for the assignment program.
        self.assignment = AssignmentResource(self)
        #: The check of the Session's API key.
        self.keys = KeysResource(self)
        #: Self-market-share rebate statistics.
        self.stats = StatsResource(self)
        #: Each contract's tick size and size step, fetched on the first order and kept; orders are
        #: checked against them before they leave.
        self.instrument_rules = InstrumentRules(self.market.instruments, enabled=check_orders)

    def __repr__(self) -> str:
        who = "authenticated" if self._credentials else "public"
        return f"<Session {self.base_url} {who} {self._state.value}>"

    @property
    def has_credentials(self) -> bool:
        """Whether the Session was given Credentials, so it can sign private calls."""
        return self._credentials is not None

    @property
    def limiter(self) -> RateLimiter:
        """The rate limiter of the Session's backend: its budgets and what they hold now."""
        return self._open_backend().limiter

    @property
    def backend(self) -> Backend:
        """The wire this Session's calls travel on (the REST backend today)."""
        return self._backend

    async def __aenter__(self) -> Session:
        if self._state is not _State.UNOPENED:
            raise SessionStateError(f"a Session opens once; this one is {self._state.value}")
        if self._shared is not None:
            await self._shared.start()
        try:
            await self._backend.open()
        except BaseException:
            if self._shared is not None:  # its heartbeat and link must not outlive the failure
                await self._shared.aclose()
            raise
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
                try:
                    await self._stream_source.aclose()
                    await self._private_streams.aclose()
                finally:
                    await self._backend.aclose()
                    if self._shared is not None:
                        await self._shared.aclose()
        self._state = _State.CLOSED

    def deadline(self, seconds: float | None) -> contextlib.AbstractContextManager[None]:
        """``with kf.deadline(5.0):`` gives each call started in the block 5 s, not the
        Session's deadline (``None``: none). Tasks started inside inherit it."""
        return self._call_deadline.override(seconds)

    def add_observer(self, observer: Observer) -> None:
        """Call ``observer(operation_name, request, result)`` after every successful call.

        An observer's failure is logged, never raised: the call itself succeeded.
        """
        self._backend.add_observer(observer)

    async def dead_mans_switch(
        self, *, cancel_after: int = 60, interval: float = 20.0
    ) -> DeadMansSwitch:
        """Arm Kraken's dead man's switch and keep it armed until the Session closes.

        Closing the Session disarms it, so a clean shutdown leaves resting orders alone.
        """
        from .deadman import DeadMansSwitch

        switch = DeadMansSwitch(self.orders, cancel_after=cancel_after, interval=interval)
        self._open_backend()
        await switch.start()
        self._helpers.append(switch)
        return switch

    async def track_orders(
        self, *, interval: float = 5.0, stream: bool | None = None
    ) -> OrderTracker:
        """A local picture of orders, positions and wallets, fed by this Session's calls and
        by the ``executions`` stream when it can stream them (``stream``; None: when the
        Session has a Kraken key), else by polling."""
        from .tracker import OrderTracker

        tracker = OrderTracker(self, interval=interval, stream=stream)
        self._open_backend()
        self.add_observer(tracker.observe)
        await tracker.start()
        self._helpers.append(tracker)
        return tracker

    def server_now(self) -> dt.datetime:
        """The exchange's current time, estimated from what it last said."""
        return self._open_backend().server_now()

    @property
    def order_lookup(self) -> OrderLookup:
        """How the backend finds an order by its client order id after a lost answer (order
        safety uses it)."""
        return self._backend.order_lookup

    def _open_backend(self) -> Backend:
        if self._state is not _State.OPEN:
            hint = (
                "use it inside `async with Session(...) as kf:`"
                if self._state is _State.UNOPENED
                else "it was closed; open a new Session"
            )
            raise SessionStateError(f"the Session is {self._state.value}: {hint}")
        return self._backend

    async def execute(self, operation: Operation[RequestT, ResultT], request: RequestT) -> ResultT:
        """Run one operation on the backend (what every resource method does).

        An operation the backend cannot serve raises :class:`UnsupportedOperationError`
        before anything is sent.
        """
        backend = self._open_backend()
        if not backend.supports(operation):
            raise UnsupportedOperationError(
                backend.why_unsupported(operation), endpoint=operation.name
            )
        return await backend.execute(operation, request)


def _uws_backend(
    credentials: Credentials | None,
    *,
    base_url: str,
    environment: Environment | None,
    settings: UwsSettings,
    deadline: CallDeadline,
    stream_url: str | None,
) -> Backend:
    """``Session(backend="uws")``: trading over the Unified WebSocket's private socket, with a
    token fetched by the Kraken key from the environment's Spot REST host (a served twin: its
    base URL); market reads on the public socket ``kf.stream`` would use."""
    from .auth import KRAKEN_API_KEY_ENV, KRAKEN_API_SECRET_ENV
    from .uws.backend import UwsBackend
    from .uws.token import TokenProvider

    if credentials is None or not credentials.has_kraken_key:
        raise ConfigurationError(
            "backend='uws' trades with a Kraken API key (with WebSocket access): "
            "Credentials(kraken_api_key=..., kraken_api_secret=...), or "
            f"{KRAKEN_API_KEY_ENV} and {KRAKEN_API_SECRET_ENV} with Credentials.from_env()"
        )
    tokens = TokenProvider(
        credentials,
        url=resolve_spot_rest_url(None, base_url=base_url, environment=environment),
    )
    production = environment is not None and environment.stream_url is not None
    return UwsBackend(
        token_provider=tokens,
        url=None if production else base_url,
        settings=settings,
        deadline=deadline,
        public_url=resolve_stream_url(stream_url, base_url=base_url, environment=environment),
    )
