"""The twin as one object, and the two ways to run it: in-process or on a loopback socket.

``Twin`` bundles the engine, the key registry, the rate meter, the fault injector and the
ASGI app, all built from one :class:`TwinConfig`. It opens an account and issues a full-access
key for it, so ``twin.session()`` is a ready, signed :class:`~kraken_futures_async.Session`
that talks to the app in-process; it also issues the account a Kraken (Spot/Pro) key
(``twin.kraken_key``), which fetches the Unified WebSocket's tokens from the twin's
``/0/private/GetWebSocketsToken``. ``run_in_thread`` serves the same twin with uvicorn on
``127.0.0.1`` (never another interface) for other clients and benchmarks; a served twin
closes connections that take over ``TwinConfig.request_read_timeout`` to deliver a request.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ..auth import Credentials
from ..ratelimit import Budget
from ..session import Session
from .clock import Clock
from .config import TwinConfig
from .engine import Exchange
from .rest.app import ExchangeEngine, TwinApp
from .rest.auth import ApiKey, Authenticator, KeyRegistry, Permissions
from .rest.faults import ConnectionDroppedError, FaultInjector
from .rest.limits import RateMeter
from .rest.spot_token import KrakenApiKey, SpotTokenService
from .rest.transport import InProcessTransport

if TYPE_CHECKING:
    import uvicorn

__all__ = ["LOOPBACK", "RunningTwin", "Twin", "run_in_thread", "serve"]

LOOPBACK = "127.0.0.1"
#: The in-process transport ignores the host; this one only names the twin in URLs.
IN_PROCESS_URL = f"http://{LOOPBACK}"
#: Seconds an idle client connection stays open on a served twin: longer than any client's
#: idle-pool expiry (this library keeps 30 s), as on Kraken's edge. A server that closes an
#: idle connection first races the client's next request on it, and an order sent into that
#: race is ambiguous: safe, but it costs the order's deadline to resolve.
KEEP_ALIVE = 75


class Twin:
    """Kraken Futures in a box: engine, keys, limits, faults and the ASGI app."""

    def __init__(
        self, config: TwinConfig | None = None, *, exchange: ExchangeEngine | None = None
    ) -> None:
        self.config = config = config or TwinConfig()
        self.clock: Clock = config.clock
        self.exchange: ExchangeEngine = (
            exchange
            if exchange is not None
            else Exchange(seed=config.seed, clock=config.clock, retention=config.retention)
        )
        self.keys = KeyRegistry(config.seed)
        self.faults = FaultInjector(
            config.seed, config.faults, kept_events=config.kept_fault_events
        )
        self.meter = RateMeter(
            config.clock,
            {Budget.DERIVATIVES: config.derivatives_budget, Budget.HISTORY: config.history_budget},
            enabled=config.rate_limits,
        )
        self.authenticator = Authenticator(
            self.keys,
            nonce_tolerance=config.nonce_tolerance,
            nonce_memory=config.nonce_memory,
            max_nonce_digits=config.max_nonce_digits,
        )
        #: Kraken keys and the WebSocket tokens they fetch (Spot REST's token endpoint).
        self.spot_tokens = SpotTokenService(
            config.seed, clock=config.clock, rate_limits=config.rate_limits
        )
        self.app = TwinApp(
            self.exchange,
            authenticator=self.authenticator,
            meter=self.meter,
            faults=self.faults,
            clock=config.clock,
            max_request_bytes=config.max_request_bytes,
            max_request_params=config.max_request_params,
            kept_failures=config.kept_failures,
            spot_tokens=self.spot_tokens,
        )
        #: The account the twin opened at start, and its full-access key.
        self.account_uid = self.open_account(config.balances)
        self.key = self.issue_key(self.account_uid)
        #: The same account's Kraken (Spot/Pro) key, for the Unified WebSocket's tokens.
        self.kraken_key = self.issue_kraken_key(self.account_uid)

    def __repr__(self) -> str:
        return f"<Twin seed={self.config.seed} account={self.account_uid} keys={len(self.keys)}>"

    def open_account(self, balances: Mapping[str, Decimal] | None = None) -> str:
        """Open an account on the engine and return its uid (deterministic from the seed)."""
        account_uid = self.keys.new_account_uid()
        chosen = self.config.balances if balances is None else balances
        self.exchange.open_account(account_uid, {k: Decimal(v) for k, v in chosen.items()})
        return account_uid

    def issue_key(
        self, account_uid: str | None = None, permissions: Permissions | None = None
    ) -> ApiKey:
        """A new API key (full access unless told) for an account (the twin's own by default)."""
        return self.keys.issue(
            account_uid or self.account_uid, permissions, _time_or_none(self.clock)
        )

    def issue_kraken_key(
        self, account_uid: str | None = None, *, websocket: bool = True, otp: str | None = None
    ) -> KrakenApiKey:
        """A new Kraken (Spot/Pro) key for an account (the twin's own by default), with
        "Access WebSocket API" unless ``websocket=False``, and API 2FA if ``otp`` is given."""
        return self.spot_tokens.issue_key(
            account_uid or self.account_uid, websocket=websocket, otp=otp
        )

    def credentials(
        self, key: ApiKey | None = None, *, kraken_key: KrakenApiKey | None = None
    ) -> Credentials:
        """Credentials for ``key`` (the twin's own Futures key by default) and ``kraken_key``
        (by default the twin's own Kraken key when ``key`` is the twin's own too)."""
        if kraken_key is None and (key is None or key is self.key):
            kraken_key = self.kraken_key
        key = key or self.key
        if kraken_key is None:
            return Credentials(key.public_key, key.secret)
        return Credentials(
            key.public_key,
            key.secret,
            kraken_api_key=kraken_key.public_key,
            kraken_api_secret=kraken_key.secret,
        )

    def transport(self) -> InProcessTransport:
        """A new in-process transport onto this twin."""
        return InProcessTransport(self.app)

    def session(self, key: ApiKey | None = None, **kwargs: Any) -> Session:
        """A Session signed with ``key`` (the twin's own by default) talking to it in-process."""
        kwargs.setdefault("base_url", IN_PROCESS_URL)
        kwargs.setdefault("transport", self.transport())
        return Session(self.credentials(key), **kwargs)

    def run_in_thread(self, port: int = 0) -> RunningTwin:
        """Serve this twin on 127.0.0.1 in a background thread (``port=0`` picks a free
        port)."""
        return run_in_thread(self, port=port)


def _time_or_none(clock: Clock) -> float | None:
    try:
        return clock.time()
    except RuntimeError:  # a clock bound to an event loop, read before the loop runs
        return None


# --- serving on a socket ------------------------------------------------------------------


class _HideDroppedConnections(logging.Filter):
    """Dropped connections are faults the twin was asked for, not server errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, ConnectionDroppedError)


_FILTER = _HideDroppedConnections()


def _bind(port: int) -> socket.socket:
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that name it, and without
    # it every keep-alive answer (head and body written apart) waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((LOOPBACK, port))
        sock.listen(1024)
    except OSError:
        sock.close()
        raise
    return sock


def _server(twin: Twin, *, log_config: bool) -> uvicorn.Server:
    try:
        import uvicorn
    except ImportError:
        raise RuntimeError(
            "serving the twin on a socket needs uvicorn: pip install 'kraken_futures_async[sim]'"
        ) from None
    from .rest.protocol import http_protocol

    app = twin.app
    config = uvicorn.Config(
        app,
        http=http_protocol(twin.config.request_read_timeout, lambda: app.refusal_body(400)),
        lifespan="on",
        timeout_keep_alive=KEEP_ALIVE,
        access_log=False,
        log_level="info" if log_config else "warning",
        log_config=uvicorn.config.LOGGING_CONFIG if log_config else None,
        timeout_graceful_shutdown=1,
    )
    logging.getLogger("uvicorn.error").addFilter(_FILTER)
    return uvicorn.Server(config)


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"


async def serve(
    twin: Twin,
    *,
    port: int = 0,
    on_ready: Callable[[str], None] | None = None,
    configure_logging: bool = False,
) -> None:
    """Serve ``twin`` on ``127.0.0.1:port`` until cancelled; ``on_ready`` gets the base URL.

    The socket listens before uvicorn starts, so connections made from ``on_ready`` on wait
    in the backlog instead of failing.
    """
    sock = _bind(port)
    server = _server(twin, log_config=configure_logging)
    try:
        if on_ready is not None:
            on_ready(_url(sock))
        await server.serve(sockets=[sock])
    finally:
        sock.close()


class RunningTwin:
    """A twin served by uvicorn in a background thread; ``stop()`` (or ``with``) ends it."""

    def __init__(self, twin: Twin, url: str, server: uvicorn.Server, thread: threading.Thread):
        self.twin = twin
        self.url = url
        self._server = server
        self._thread = thread

    def __repr__(self) -> str:
        state = "running" if self._thread.is_alive() else "stopped"
        return f"<RunningTwin {self.url} {state}>"

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop serving the twin: another thread that touches the engine does it
        there (``loop.call_soon_threadsafe``), so the engine serves one caller at a time."""
        return self._server.servers[0].get_loop()

    def session(self, key: ApiKey | None = None, **kwargs: Any) -> Session:
        """A Session signed with ``key`` talking to this server over the socket."""
        kwargs.setdefault("base_url", self.url)
        return Session(self.twin.credentials(key), **kwargs)

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the server to exit and wait up to ``timeout`` seconds for its thread."""
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise RuntimeError(f"the twin at {self.url} did not stop within {timeout} s")

    def __enter__(self) -> RunningTwin:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def run_in_thread(
    twin: Twin | None = None, *, port: int = 0, startup_timeout: float = 10.0
) -> RunningTwin:
    """Start uvicorn on ``127.0.0.1:port`` (0 = a free port) in a daemon thread.

    Returns once the server accepts connections; the bound URL is ``.url``.
    """
    twin = twin if twin is not None else Twin()
    sock = _bind(port)
    url = _url(sock)
    server = _server(twin, log_config=False)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(server.serve(sockets=[sock]))
        except BaseException as exc:  # reported to the starting thread below
            failure.append(exc)
        finally:
            sock.close()

    thread = threading.Thread(target=run, name=f"kraken-twin {url}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if failure or not thread.is_alive():
            raise RuntimeError(f"the twin failed to start on {url}") from (
                failure[0] if failure else None
            )
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the twin did not start on {url} within {startup_timeout} s")
        time.sleep(0.002)
    return RunningTwin(twin, url, server, thread)
