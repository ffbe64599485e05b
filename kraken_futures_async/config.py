"""Where a Session connects, and how patiently.

Environments name a host root; every Kraken Futures surface (derivatives, history, charts,
auth, stats) hangs off the same host, so one base URL is all a Session needs.

Three bounds keep a broken or hostile server from holding a call: httpx's ``timeout`` (each
phase of one attempt: connect, waiting for a pooled connection, and the gap between two
reads, which restarts with every byte), the :class:`Bounds` ``deadline`` (the whole call:
rate-limit wait, every attempt and every backoff) and ``max_response_bytes`` (an answer's
decoded size). They are Session settings, not transport ones, so any backend reads them.
"""

from __future__ import annotations

import datetime as dt
import warnings

import attrs
import httpx

from .errors import ConfigurationError

__all__ = [
    "DEFAULT_DEADLINE",
    "DEFAULT_LIMITS",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_TIMEOUT",
    "DEMO",
    "PRODUCTION",
    "Bounds",
    "Environment",
    "check_deadline",
    "resolve_base_url",
    "resolve_spot_rest_url",
    "resolve_stream_url",
]


@attrs.frozen
class Environment:
    """A named Kraken Futures host; ``retired_on`` marks hosts that no longer answer.

    ``stream_url`` is the public socket of Kraken's Unified WebSocket when it is not the
    base URL's ``/v2/public`` (Kraken's own lives on another host). ``spot_rest_url`` is the
    Spot REST host that issues the Unified WebSocket's tokens (``GetWebSocketsToken``) when
    it is not the base URL itself (Kraken's is ``https://api.kraken.com``).
    """

    name: str
    base_url: str
    retired_on: dt.date | None = None
    stream_url: str | None = None
    spot_rest_url: str | None = None


#: Kraken's production Futures host, with the Unified WebSocket and Spot REST hosts it uses.
PRODUCTION = Environment(
    "production",
    "https://futures.kraken.com",
    stream_url="wss://uws.kraken.com/v2/public",
    spot_rest_url="https://api.kraken.com",
)
#: Kraken switched the Futures demo host off on 2026-07-14; use the exchange twin instead.
DEMO = Environment("demo", "https://demo-futures.kraken.com", retired_on=dt.date(2026, 7, 14))

#: Connect fast, but give a loaded matching engine time to answer.
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0, pool=10.0)
#: One pool for the whole process: fan-outs of a few hundred order books reuse these sockets.
#: 128 by measurement: a 287-book fan-out ties raw aiohttp at 128 and is ahead of both peers
#: (100 connections each); at 64 it was behind python-kraken-sdk (benchmarks/fanout.py sweep).
DEFAULT_LIMITS = httpx.Limits(
    max_connections=128, max_keepalive_connections=128, keepalive_expiry=30
)
#: Seconds one call may take in all. Three times the read timeout: room for a slow answer and
#: a retry or two, and well past the 10 s ``processBefore`` the library gives its own orders.
DEFAULT_DEADLINE = 30.0
#: Bytes of an answer, decoded. Kraken's largest (every ticker, every instrument) are a few
#: hundred KB; a hundred times that still fits a small machine's memory.
DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024


def check_deadline(seconds: float | None) -> float | None:
    """``seconds`` if it is a usable deadline (positive and finite, or None for none)."""
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise ConfigurationError(f"a deadline is a number of seconds or None, got {seconds!r}")
    if not 0 < seconds < float("inf"):
        raise ConfigurationError(f"a deadline must be positive and finite, got {seconds!r}")
    return float(seconds)


def _check_max_bytes(_instance: object, _attribute: object, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(f"max_response_bytes must be a positive int, got {value!r}")


@attrs.frozen(kw_only=True)
class Bounds:
    """How long a call may take and how much of an answer is read, for every backend.

    ``deadline``: seconds from the call until its result, covering the wait for the
    rate-limit budget, connecting, sending, reading, every retry and every backoff; past it
    the call raises :class:`~kraken_futures_async.RequestTimeoutError`. ``None`` means no
    deadline (then a server that trickles one byte at a time holds a call forever).
    ``max_response_bytes``: an answer (after gzip or deflate decoding) larger than this is
    not read further and raises :class:`~kraken_futures_async.ResponseInvalidError`.
    """

    deadline: float | None = attrs.field(default=DEFAULT_DEADLINE, converter=check_deadline)
    max_response_bytes: int = attrs.field(
        default=DEFAULT_MAX_RESPONSE_BYTES, validator=_check_max_bytes
    )


def resolve_base_url(target: Environment | str) -> str:
    """Turn an environment or a URL into a host root without a trailing slash."""
    if isinstance(target, Environment):
        if target.retired_on is not None:
            warnings.warn(
                f"the Kraken Futures {target.name} environment was retired on "
                f"{target.retired_on.isoformat()}; run kraken_futures_async.simulator instead",
                DeprecationWarning,
                stacklevel=3,
            )
        url = target.base_url
    else:
        url = target
    if not isinstance(url, str):
        raise ConfigurationError(f"base URL must be a string, got {type(url).__name__}")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ConfigurationError(f"base URL {url!r} is not a valid URL: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigurationError(
            f"base URL must be an absolute http(s) URL such as {PRODUCTION.base_url!r}, got {url!r}"
        )
    if parsed.path not in ("", "/") or parsed.query or parsed.fragment:
        # Kraken signs the request path, so a prefix in front of /derivatives breaks signatures
        raise ConfigurationError(
            f"base URL must be a host root without path, query or fragment, got {url!r}"
        )
    return url.rstrip("/")


#: The public socket's path on a host that serves REST and streams on one port (the twin).
STREAM_PATH = "/v2/public"


def resolve_stream_url(
    stream_url: str | None, *, base_url: str, environment: Environment | None = None
) -> str:
    """Where ``kf.stream`` connects: ``stream_url`` if given; else the ``environment``'s
    socket if it names one; else the host of ``base_url`` (a resolved host root) with
    ``ws(s)://`` and ``/v2/public``: ``http://127.0.0.1:8080`` streams from
    ``ws://127.0.0.1:8080/v2/public``.
    """
    if stream_url is None:
        if environment is not None and environment.stream_url is not None:
            return environment.stream_url
        scheme, rest = base_url.split("://", 1)
        return f"{'wss' if scheme == 'https' else 'ws'}://{rest.rstrip('/')}{STREAM_PATH}"
    if not isinstance(stream_url, str):
        raise ConfigurationError(f"stream URL must be a string, got {type(stream_url).__name__}")
    try:
        parsed = httpx.URL(stream_url)
    except httpx.InvalidURL as exc:
        raise ConfigurationError(f"stream URL {stream_url!r} is not a valid URL: {exc}") from None
    if parsed.scheme not in ("ws", "wss") or not parsed.host:
        raise ConfigurationError(
            f"stream URL must be an absolute ws(s) URL such as {PRODUCTION.stream_url!r}, "
            f"got {stream_url!r}"
        )
    return stream_url


def resolve_spot_rest_url(
    spot_rest_url: str | None, *, base_url: str, environment: Environment | None = None
) -> str:
    """Where Unified WebSocket tokens are fetched: ``spot_rest_url`` if given; else the
    ``environment``'s Spot REST host if it names one; else ``base_url`` (a resolved host
    root) itself: a served twin answers ``GetWebSocketsToken`` on its REST port.
    """
    if spot_rest_url is None:
        if environment is not None and environment.spot_rest_url is not None:
            return environment.spot_rest_url
        return base_url.rstrip("/")
    if not isinstance(spot_rest_url, str):
        raise ConfigurationError(
            f"Spot REST URL must be a string, got {type(spot_rest_url).__name__}"
        )
    try:
        parsed = httpx.URL(spot_rest_url)
    except httpx.InvalidURL as exc:
        raise ConfigurationError(
            f"Spot REST URL {spot_rest_url!r} is not a valid URL: {exc}"
        ) from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigurationError(
            f"Spot REST URL must be an absolute http(s) URL such as "
            f"{PRODUCTION.spot_rest_url!r}, got {spot_rest_url!r}"
        )
    if parsed.path not in ("", "/") or parsed.query or parsed.fragment:
        # Kraken signs the URI path, so a prefix in front of /0/private breaks signatures
        raise ConfigurationError(
            f"Spot REST URL must be a host root without path, query or fragment, "
            f"got {spot_rest_url!r}"
        )
    return spot_rest_url.rstrip("/")
