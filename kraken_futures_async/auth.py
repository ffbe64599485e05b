"""Credentials and nonces: what signs a private call, whatever the wire.

Two kinds of key can sign. A **Futures** key (futures.kraken.com -> Settings -> API) signs the
REST API v3 with Kraken's ``Authent`` header (``rest/signing.py``). A **Kraken** key (the
Spot/Pro key of kraken.com, with "Access WebSocket API") signs Spot REST's
``GetWebSocketsToken`` with ``API-Sign`` (``uws/token.py``); the token it returns is what the
Unified WebSocket's private socket takes. :class:`Credentials` holds either or both.

Secrets are checked when the credentials are built and never show in a repr, a log line or
an error. Nonces are strictly increasing per key in this process (millisecond scale, so
other clients on the key are not locked out); each kind of key has its own sequences
(:func:`nonce_source_for`, :func:`kraken_nonce_source_for`), so one key never sees two scales.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping

import attrs

from .errors import ConfigurationError, MissingCredentialsError

__all__ = [
    "API_KEY_ENV",
    "API_SECRET_ENV",
    "KRAKEN_API_KEY_ENV",
    "KRAKEN_API_SECRET_ENV",
    "Credentials",
    "KrakenKey",
    "NanosecondNonceSource",
    "NoNonce",
    "NonceSource",
    "kraken_nonce_source_for",
    "nonce_source_for",
]

logger = logging.getLogger("kraken_futures_async.auth")

API_KEY_ENV = "KRAKEN_FUTURES_API_KEY"
API_SECRET_ENV = "KRAKEN_FUTURES_API_SECRET"
#: The Kraken (Spot/Pro) key that fetches Unified WebSocket tokens, and its secret.
KRAKEN_API_KEY_ENV = "KRAKEN_API_KEY"
KRAKEN_API_SECRET_ENV = "KRAKEN_API_SECRET"


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
    if not isinstance(value, str) or not value or value != value.strip():
        raise ConfigurationError("API key must be a non-empty string without surrounding spaces")


def _shown(api_key: str) -> str:
    return f"{api_key[:6]!r}…"


@attrs.frozen(repr=False)
class KrakenKey:
    """A Kraken (Spot/Pro) API key and its base64 secret: what fetches WebSocket tokens.

    Not a Futures key: Kraken issues the two on different sites, and each signs its own way.
    The secret never shows in a repr.
    """

    api_key: str = attrs.field(validator=_check_key)
    secret: bytes = attrs.field(converter=_decode_secret, repr=False, alias="api_secret")

    def __repr__(self) -> str:
        return f"KrakenKey(api_key={_shown(self.api_key)}, api_secret=<hidden>)"


@attrs.frozen(repr=False, init=False)
class Credentials:
    """A Kraken Futures API key and its base64 secret, a Kraken key, or both.

    ``Credentials(api_key, api_secret)`` is a Futures key, as always: it signs the REST API.
    ``kraken_api_key``/``kraken_api_secret`` add a Kraken (Spot/Pro) key, which fetches the
    tokens of the Unified WebSocket's private socket; either kind may come alone. Reading
    ``api_key`` or ``secret`` of credentials without a Futures key raises
    :class:`~kraken_futures_async.MissingCredentialsError`; ``kraken`` is ``None`` without a
    Kraken key. No secret ever shows in a repr.

    The REST backend signs with the Futures key: a REST Session given only a Kraken key
    raises ``MissingCredentialsError`` (naming the Futures variables) when it opens.
    """

    _api_key: str | None
    _secret: bytes | None
    #: The Kraken (Spot/Pro) key, or None.
    kraken: KrakenKey | None

    def __init__(
        self,
        api_key: str | None = None,
        api_secret: str | bytes | None = None,
        *,
        kraken_api_key: str | None = None,
        kraken_api_secret: str | bytes | None = None,
    ) -> None:
        if api_key is None and api_secret is None:
            futures_key, futures_secret = None, None
        elif api_key is None or api_secret is None:
            raise ConfigurationError(
                "a Futures API key needs both api_key and api_secret (or neither)"
            )
        else:
            _check_key(None, None, api_key)
            futures_key, futures_secret = api_key, _decode_secret(api_secret)
        if kraken_api_key is None and kraken_api_secret is None:
            kraken = None
        elif kraken_api_key is None or kraken_api_secret is None:
            raise ConfigurationError(
                "a Kraken API key needs both kraken_api_key and kraken_api_secret (or neither)"
            )
        else:
            kraken = KrakenKey(kraken_api_key, kraken_api_secret)
        if futures_key is None and kraken is None:
            raise ConfigurationError(
                "Credentials need a Futures key (api_key, api_secret), a Kraken key "
                "(kraken_api_key, kraken_api_secret), or both"
            )
        self.__attrs_init__(futures_key, futures_secret, kraken)

    @property
    def has_futures_key(self) -> bool:
        """Whether a Futures key is here (what the REST API v3 signs with)."""
        return self._api_key is not None

    @property
    def has_kraken_key(self) -> bool:
        """Whether a Kraken key is here (what fetches Unified WebSocket tokens)."""
        return self.kraken is not None

    @property
    def api_key(self) -> str:
        """The Futures key's public part."""
        if self._api_key is None:
            raise _no_futures_key()
        return self._api_key

    @property
    def secret(self) -> bytes:
        """The Futures key's secret, decoded."""
        if self._secret is None:
            raise _no_futures_key()
        return self._secret

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Credentials:
        """Read the keys from the environment.

        ``KRAKEN_FUTURES_API_KEY`` and ``KRAKEN_FUTURES_API_SECRET``: the Futures key (REST).
        ``KRAKEN_API_KEY`` and ``KRAKEN_API_SECRET``: the Kraken (Spot/Pro) key that fetches
        Unified WebSocket tokens. Either pair may be set alone, or both. A pair with one half
        missing is an error naming the variable, except a stray half of the Kraken pair beside
        a whole Futures pair: it is left out with a logged warning (names only), so a Futures
        set-up that worked before still does.
        """
        env = os.environ if environ is None else environ
        key, secret = env.get(API_KEY_ENV), env.get(API_SECRET_ENV)
        kraken_key, kraken_secret = env.get(KRAKEN_API_KEY_ENV), env.get(KRAKEN_API_SECRET_ENV)
        futures_missing = _missing((API_KEY_ENV, key), (API_SECRET_ENV, secret))
        kraken_missing = _missing(
            (KRAKEN_API_KEY_ENV, kraken_key), (KRAKEN_API_SECRET_ENV, kraken_secret)
        )
        if len(futures_missing) == 1 or (futures_missing and len(kraken_missing) == 2):
            hint = ""
            if len(futures_missing) == 2:
                hint = f" (or {KRAKEN_API_KEY_ENV} and {KRAKEN_API_SECRET_ENV} for a Kraken key)"
            raise ConfigurationError(
                f"missing environment variable(s): {', '.join(futures_missing)}{hint}"
            )
        if len(kraken_missing) == 1:
            if futures_missing:
                raise ConfigurationError(f"missing environment variable(s): {kraken_missing[0]}")
            present = KRAKEN_API_KEY_ENV if kraken_key else KRAKEN_API_SECRET_ENV
            logger.warning(
                "%s is set but %s is not: using the Futures key alone", present, kraken_missing[0]
            )
        with_futures, with_kraken = not futures_missing, not kraken_missing
        return cls(
            key if with_futures else None,
            secret if with_futures else None,
            kraken_api_key=kraken_key if with_kraken else None,
            kraken_api_secret=kraken_secret if with_kraken else None,
        )

    def __repr__(self) -> str:
        parts = []
        if self._api_key is not None:
            parts.append(f"api_key={_shown(self._api_key)}, api_secret=<hidden>")
        if self.kraken is not None:
            parts.append(
                f"kraken_api_key={_shown(self.kraken.api_key)}, kraken_api_secret=<hidden>"
            )
        return f"Credentials({', '.join(parts)})"


def _missing(*pairs: tuple[str, str | None]) -> list[str]:
    return [name for name, value in pairs if not value]


def _no_futures_key() -> MissingCredentialsError:
    return MissingCredentialsError(
        "these credentials hold no Futures API key: Credentials(api_key, api_secret), "
        f"or set {API_KEY_ENV} and {API_SECRET_ENV}"
    )


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
        """An empty string: the request goes out without a ``Nonce`` header."""
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


_kraken_nonce_sources: dict[str, NonceSource] = {}


def kraken_nonce_source_for(api_key: str) -> NonceSource:
    """One millisecond nonce sequence per Kraken key per process, apart from the Futures keys'
    (Kraken's Spot REST keeps the highest nonce per key: a second sequence would collide)."""
    with _nonce_sources_lock:
        source = _kraken_nonce_sources.get(api_key)
        if source is None:
            source = _kraken_nonce_sources[api_key] = NonceSource()
        return source
