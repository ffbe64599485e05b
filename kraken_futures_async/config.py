"""Where a Session connects, and how patiently.

Environments name a host root; every Kraken Futures surface (derivatives, history, charts,
auth, stats) hangs off the same host, so one base URL is all a Session needs.
"""

from __future__ import annotations

import datetime as dt
import warnings

import attrs
import httpx

from .errors import ConfigurationError

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_TIMEOUT",
    "DEMO",
    "PRODUCTION",
    "Environment",
    "resolve_base_url",
]


@attrs.frozen
class Environment:
    """A named Kraken Futures host; ``retired_on`` marks hosts that no longer answer."""

    name: str
    base_url: str
    retired_on: dt.date | None = None


PRODUCTION = Environment("production", "https://futures.kraken.com")
#: Kraken switched the Futures demo host off on 2026-07-14; use the exchange twin instead.
DEMO = Environment("demo", "https://demo-futures.kraken.com", retired_on=dt.date(2026, 7, 14))

#: Connect fast, but give a loaded matching engine time to answer.
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0, pool=10.0)
#: One pool for the whole process: fan-outs of a few hundred order books reuse these sockets.
DEFAULT_LIMITS = httpx.Limits(max_connections=64, max_keepalive_connections=64, keepalive_expiry=30)


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
