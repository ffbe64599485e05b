"""Which exchange the command talks to, and the metered Session it talks through.

By default that is a twin inside the process (no network, no credentials: the twin issues its
own key). ``--base-url`` points at another twin or any Kraken-compatible server, and
``--env production`` at Kraken itself; both take credentials from the environment, if set.

Commands that stream (``watch``, the demo's streaming step) ask :func:`connect` for
``streams=True``: the embedded twin is then also served on a free loopback port, in this
event loop, and the Session's ``kf.stream`` connects to its ``/v2/public`` socket there (a
real websocket; REST calls still go in-process, so the request figures stay the same). A
served twin or Kraken streams from the URL the Session derives from ``--base-url``/``--env``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import attrs
import httpx

from ..auth import API_KEY_ENV, API_SECRET_ENV, Credentials
from ..config import DEFAULT_LIMITS, PRODUCTION
from ..ratelimit import RateLimitPolicy
from ..retry import RetryPolicy
from ..session import Session
from .meter import MeteredTransport, TrafficMeter

if TYPE_CHECKING:
    from ..simulator import Twin

__all__ = ["STREAMS_NEED", "Connection", "Target", "connect", "streams_available"]

TWIN = "twin"
#: What serving the embedded twin's socket needs, and how to install it (one line).
STREAMS_NEED = (
    "streaming from the embedded twin serves its socket with uvicorn and websockets, "
    "which are not installed: pip install 'kraken_futures_async[sim]'"
)
NOT_ASKED = "streams were not asked for"
#: Seconds to wait for the loopback server to start, and then to stop.
_SERVER_START_TIMEOUT = 10.0
_SERVER_STOP_TIMEOUT = 3.0


@attrs.frozen(kw_only=True)
class Target:
    """Where to connect and how patiently, as the command line said."""

    environment: str = TWIN
    base_url: str | None = None
    seed: int = 0
    timeout: float = 10.0
    retries: int = 4

    @property
    def embedded(self) -> bool:
        return self.base_url is None and self.environment == TWIN

    @property
    def production(self) -> bool:
        return self.base_url is None and self.environment == PRODUCTION.name

    def describe(self) -> str:
        if self.embedded:
            return f"embedded twin (seed {self.seed}, in-process)"
        return self.base_url or PRODUCTION.base_url


@attrs.define
class Connection:
    """An open Session, the meter on its transport, and the twin behind it when embedded."""

    session: Session
    meter: TrafficMeter
    target: Target
    twin: Twin | None = None
    #: Where ``kf.stream`` connects when the command asked for streams (else ``None``).
    stream_url: str | None = None
    #: Why there is no ``stream_url`` (streams not asked for, or an extra not installed).
    no_streams: str | None = None
    #: The exchange's base URL on a real socket (the served twin's, or ``--base-url``):
    #: what a ``backend="uws"`` Session connects to. ``None`` for an unserved twin.
    served_url: str | None = None
    #: The keys the Session signs with (the twin's own, or the environment's).
    credentials: Credentials | None = None

    def twin_refusals(self) -> int | None:
        """``apiLimitExceeded`` answers counted by the embedded twin (``None`` if remote)."""
        if self.twin is None:
            return None
        return sum(self.twin.meter.refused.values())


def _credentials_from_env() -> Credentials | None:
    if not (os.environ.get(API_KEY_ENV) or os.environ.get(API_SECRET_ENV)):
        return None
    return Credentials.from_env()


def _pool() -> httpx.AsyncBaseTransport:
    """The transport a Session would pick on its own, built here so it can be metered."""
    from ..rest.transports.aiohttp import AiohttpTransport

    return AiohttpTransport(limits=DEFAULT_LIMITS)


def streams_available() -> bool:
    """Whether the embedded twin's socket can be served here (uvicorn and websockets)."""
    import importlib.util

    return all(importlib.util.find_spec(name) is not None for name in ("uvicorn", "websockets"))


@asynccontextmanager
async def serve_on_loopback(twin: Twin) -> AsyncIterator[str]:
    """Serve ``twin`` on a free 127.0.0.1 port in this event loop; yields its base URL.

    The server leaves signals alone (uvicorn would otherwise take Ctrl-C for itself), so
    Ctrl-C reaches the command as it does without a server. Leaving the block stops it.
    """
    import uvicorn

    class _LoopbackServer(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    from ..simulator.twin import KEEP_ALIVE, LOOPBACK

    # IPPROTO_TCP so that asyncio sets TCP_NODELAY on the accepted sockets (as the twin does).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.bind((LOOPBACK, 0))
        sock.listen(128)
        host, port = sock.getsockname()[:2]
        config = uvicorn.Config(
            twin.app,
            lifespan="on",
            timeout_keep_alive=KEEP_ALIVE,
            access_log=False,
            log_level="warning",
            log_config=None,
            timeout_graceful_shutdown=1,
        )
        server = _LoopbackServer(config)
        task = asyncio.create_task(server.serve(sockets=[sock]), name=f"twin {host}:{port}")
        try:
            async with asyncio.timeout(_SERVER_START_TIMEOUT):
                while not server.started:
                    if task.done():
                        task.result()  # its failure, if it failed
                        raise RuntimeError("the twin's loopback server stopped at start")
                    await asyncio.sleep(0.005)
            yield f"http://{host}:{port}"
        finally:
            server.should_exit = True
            done, _ = await asyncio.wait({task}, timeout=_SERVER_STOP_TIMEOUT)
            if not done:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
    finally:
        sock.close()


def _ws(base_url: str) -> str:
    from ..config import resolve_stream_url

    return resolve_stream_url(None, base_url=base_url)


@asynccontextmanager
async def connect(
    target: Target, *, rate_limits: RateLimitPolicy | None = None, streams: bool = False
) -> AsyncIterator[Connection]:
    """Open a metered Session on ``target`` (and the embedded twin it needs, if any).

    ``streams=True`` serves the embedded twin's socket on a loopback port for ``kf.stream``
    (see the module docstring); it changes nothing for a ``--base-url`` or production.
    """
    meter = TrafficMeter()
    retry = RetryPolicy(max_attempts=max(1, target.retries))
    twin: Twin | None = None
    if target.embedded:
        from ..simulator import Twin, TwinConfig

        twin = Twin(TwinConfig(seed=target.seed))
        async with contextlib.AsyncExitStack() as stack:
            stream_url: str | None = None
            served_url: str | None = None
            no_streams: str | None = NOT_ASKED
            if streams and not streams_available():
                no_streams = STREAMS_NEED
            elif streams:
                served_url = await stack.enter_async_context(serve_on_loopback(twin))
                stream_url = _ws(served_url)
                no_streams = None
            session = twin.session(
                transport=MeteredTransport(twin.transport(), meter),
                timeout=target.timeout,
                retry=retry,
                rate_limits=rate_limits,
                stream_url=stream_url,
            )
            async with session:
                yield Connection(
                    session=session,
                    meter=meter,
                    target=target,
                    twin=twin,
                    stream_url=stream_url,
                    no_streams=no_streams,
                    served_url=served_url,
                    credentials=twin.credentials(),
                )
        return
    else:
        credentials = _credentials_from_env()
        session = Session(
            credentials,
            environment=PRODUCTION,
            base_url=target.base_url,
            transport=MeteredTransport(_pool(), meter),
            timeout=target.timeout,
            retry=retry,
            rate_limits=rate_limits,
        )
    async with session:
        yield Connection(
            session=session,
            meter=meter,
            target=target,
            stream_url=session.stream_url if streams else None,
            no_streams=None if streams else NOT_ASKED,
            served_url=None if target.production else session.base_url,
            credentials=credentials,
        )
