"""Credentials and nonces: what signs a private call, whatever the wire.

The secret is checked when the credentials are built and never shows in a repr, a log line
or an error. Nonces are strictly increasing per key in this process (millisecond scale, so
other clients on the key are not locked out); ``rest/signing.py`` turns both into Kraken's
``Authent`` header.
"""

from __future__ import annotations

import base64
import binascii
import os
import threading
import time
from collections.abc import Callable

import attrs

from .errors import ConfigurationError

__all__ = [
    "API_KEY_ENV",
    "API_SECRET_ENV",
    "Credentials",
    "NanosecondNonceSource",
    "NoNonce",
    "NonceSource",
]

API_KEY_ENV = "KRAKEN_FUTURES_API_KEY"
API_SECRET_ENV = "KRAKEN_FUTURES_API_SECRET"


def _decode_secret(value: str | bytes) -> bytes:
    if isinstance(value, bytes):
        value = value.decode("ascii", errors="replace")
    try:
        decoded = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        # The message must not echo the secret, not even a part of it.
        raise ConfigurationError(
            "API secret is not valid base64; copy the private key exactly as Kraken shows it"
        ) from None
    if not decoded:
        raise ConfigurationError("API secret is empty")
    return decoded


def _check_key(_instance: object, _attribute: object, value: str) -> None:
    if not value or value != value.strip():
        raise ConfigurationError("API key must be a non-empty string without surrounding spaces")


@attrs.frozen(repr=False)
class Credentials:
    """A Kraken Futures API key and its base64 secret; the secret never shows in a repr."""

    api_key: str = attrs.field(validator=_check_key)
    secret: bytes = attrs.field(converter=_decode_secret, repr=False, alias="api_secret")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Credentials:
        """Read ``KRAKEN_FUTURES_API_KEY`` and ``KRAKEN_FUTURES_API_SECRET``."""
        env = os.environ if environ is None else environ
        key, secret = env.get(API_KEY_ENV), env.get(API_SECRET_ENV)
        missing = [name for name, v in ((API_KEY_ENV, key), (API_SECRET_ENV, secret)) if not v]
        if missing:
            raise ConfigurationError(f"missing environment variable(s): {', '.join(missing)}")
        assert key is not None
        assert secret is not None
        return cls(api_key=key, api_secret=secret)

    def __repr__(self) -> str:
        return f"Credentials(api_key={self.api_key[:6]!r}…, api_secret=<hidden>)"


class NonceSource:
    """Strictly increasing nonces on the millisecond scale, safe across tasks and threads.

    Each nonce is the larger of the clock in milliseconds and the last nonce + 1. Kraken keeps
    the highest nonce per key, so milliseconds (what python-kraken-sdk, Kraken's examples and
    most bots send) keep the key usable by those clients too. Under a burst the counter runs
    ahead of the clock by at most the nonces drawn minus the milliseconds the burst lasted
    (5,000 signed calls in 0.5 s end about 4.5 s ahead), and it is back on the clock once
    calls come slower than one per millisecond. ``clock`` returns the current time in the
    source's unit (for tests, or a source of your own).
    """

    #: Clock ticks per second: the nonce's scale.
    ticks_per_second = 1_000

    def __init__(self, clock: Callable[[], int] | None = None) -> None:
        self._clock = clock if clock is not None else self._wall_clock
        self._last = 0
        self._lock = threading.Lock()

    def _wall_clock(self) -> int:
        return time.time_ns() // (1_000_000_000 // self.ticks_per_second)

    def next(self) -> str:
        """The next nonce, or ``""`` to send none."""
        with self._lock:
            self._last = max(self._last + 1, int(self._clock()))
            return str(self._last)


class NanosecondNonceSource(NonceSource):
    """19-digit nanosecond nonces, what this library sent until December 2026: for a key that has
    already seen them (Kraken refuses a lower nonce on that key for good), or make a new key."""

    ticks_per_second = 1_000_000_000


class NoNonce(NonceSource):
    """Send no ``Nonce`` header at all (Kraken allows it; the signature then covers none)."""

    def next(self) -> str:
        return ""


_nonce_sources: dict[str, NonceSource] = {}
_nonce_sources_lock = threading.Lock()


def nonce_source_for(api_key: str) -> NonceSource:
    """One nonce sequence per key per process: two Sessions on one key must not collide."""
    with _nonce_sources_lock:
        source = _nonce_sources.get(api_key)
        if source is None:
            source = _nonce_sources[api_key] = NonceSource()
        return source
