"""API keys, the Authent check, nonces and permissions, the way Kraken's server applies them.

The signature is checked strictly: postData is the raw query string (without ``?``) followed
by the raw body bytes, exactly as received; endpointPath is the request path minus a leading
``/derivatives``. Anything wrong with the key or the signature is ``authenticationError``, as
on Kraken, which tells a client no more than that.

Nonces are optional. A nonce, when sent, must be digits; per key the highest accepted one and
the recent ones are kept: a repeat is ``nonceDuplicate``, one further below the highest than
the tolerance is ``nonceBelowThreshold``. Clients use different units (milliseconds, 1e-8 s,
nanoseconds), so the tolerance is given in seconds and scaled by the nonce's digit count:
a 13-digit nonce counts milliseconds, a 19-digit one nanoseconds. Nonces shorter than an
epoch in seconds (a plain counter) get no tolerance: they must rise strictly. A validly signed
request whose nonce has more than ``max_nonce_digits`` digits (19 hold nanoseconds) is
``invalidArgument``: Python would refuse to read one of over 4,300 digits, and thousands of
huge remembered nonces would cost the twin gigabytes (issue 17).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import enum
import hashlib
import heapq
import hmac
import random
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import attrs

from ...rest.endpoints import Access, Endpoint
from ..config import MAX_NONCE_DIGITS
from ..errors import ExchangeError

__all__ = [
    "ApiKey",
    "Authenticator",
    "KeyRegistry",
    "NonceBook",
    "Permissions",
    "authent",
    "key_check",
    "key_refusal",
]

_DERIVATIVES = "/derivatives/"
#: Digits of a Unix time in seconds (until the year 2286).
_EPOCH_SECONDS_DIGITS = 10
#: Operations a read-only key may call although the table lists them as trading.
_READ_ONLY_ALLOWED = frozenset({"order_status"})


class Permissions(enum.Flag):
    """What a key may do; Kraken's settings are presets of these."""

    NONE = 0
    READ = enum.auto()
    TRADE = enum.auto()
    WITHDRAW = enum.auto()

    @classmethod
    def read_only(cls) -> Permissions:
        return cls.READ

    @classmethod
    def full_access(cls) -> Permissions:
        return cls.READ | cls.TRADE

    @classmethod
    def withdrawal(cls) -> Permissions:
        """Full access plus the Withdrawal API."""
        return cls.READ | cls.TRADE | cls.WITHDRAW


def required_permission(endpoint: Endpoint) -> Permissions:
    if endpoint.access is Access.READ or endpoint.name in _READ_ONLY_ALLOWED:
        return Permissions.READ
    if endpoint.access is Access.WITHDRAWAL:
        return Permissions.WITHDRAW
    if endpoint.access is Access.FULL:
        return Permissions.TRADE
    return Permissions.NONE


def _secret_bytes(value: str) -> bytes:
    try:
        decoded = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("an API secret must be valid base64") from None
    if len(decoded) < 64:
        raise ValueError("an API secret must decode to at least 64 bytes")
    return decoded


@attrs.frozen(repr=False)
class ApiKey:
    """One API key: its public part, its secret (never shown), its account and permissions."""

    public_key: str
    secret: str = attrs.field(repr=False)
    account_uid: str
    permissions: Permissions = Permissions.READ | Permissions.TRADE
    #: When the key was issued (epoch seconds), for the auth service's key check; None if the
    #: clock could not be read then (a loop-bound clock before its loop runs).
    created_at: float | None = None
    secret_bytes: bytes = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "secret_bytes", _secret_bytes(self.secret))

    def __repr__(self) -> str:
        return (
            f"ApiKey({self.public_key[:6]}…, account={self.account_uid}, "
            f"permissions={self.permissions.name}, secret=<hidden>)"
        )

    def allows(self, needed: Permissions) -> bool:
        """Whether the key holds every permission in ``needed``."""
        return needed in self.permissions


def _level(granted: bool, full: bool) -> str:
    return "NO_ACCESS" if not granted else "FULL_ACCESS" if full else "READ_ONLY"


def key_check(key: ApiKey, now: float) -> dict[str, Any]:
    """The auth service's answer about the key that signed the request (no iIBAN here).

    A key whose issue time is unknown says it was created ``now``.
    """
    general = _level(Permissions.READ in key.permissions, Permissions.TRADE in key.permissions)
    transfer = _level(Permissions.WITHDRAW in key.permissions, True)
    issued = now if key.created_at is None else key.created_at
    created = dt.datetime.fromtimestamp(issued, dt.UTC)
    return {
        "apiKey": key.public_key,
        "accountUid": key.account_uid,
        "iiban": None,
        "createdAt": created.strftime("%Y-%m-%dT%H:%M:%S.") + f"{created.microsecond // 1000:03d}Z",
        "permissions": {"general": general, "transfer": transfer},
    }


def key_refusal() -> dict[str, Any]:
    """The auth service's 401 body for a key or signature it does not accept."""
    return {"error": "Unauthorized", "message": "invalid API key", "suberror": None}


def authent(secret: bytes, post_data: bytes, nonce: bytes, endpoint_path: bytes) -> bytes:
    """base64(HMAC-SHA512(secret, SHA256(postData + nonce + endpointPath))), over raw bytes."""
    digest = hashlib.sha256(post_data + nonce + endpoint_path).digest()
    return base64.b64encode(hmac.new(secret, digest, hashlib.sha512).digest())


class KeyRegistry:
    """The twin's API keys, generated deterministically from its seed."""

    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(f"keys:{seed}")
        self._keys: dict[str, ApiKey] = {}
        self._lock = threading.Lock()

    def new_account_uid(self) -> str:
        """A fresh account uid from the registry's seeded random source: same seed, same
        uids."""
        with self._lock:
            return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def issue(
        self,
        account_uid: str,
        permissions: Permissions | None = None,
        created_at: float | None = None,
    ) -> ApiKey:
        """A new key for ``account_uid``: 56-char public key, 88-char (66-byte) secret."""
        with self._lock:
            public = base64.b64encode(self._rng.randbytes(42)).decode()
            secret = base64.b64encode(self._rng.randbytes(66)).decode()
            chosen = permissions or Permissions.full_access()
            key = ApiKey(public, secret, account_uid, chosen, created_at)
            self._keys[public] = key
        return key

    def add(self, key: ApiKey) -> ApiKey:
        """Register a key made elsewhere (a fixed test key, say)."""
        with self._lock:
            self._keys[key.public_key] = key
        return key

    def get(self, public_key: str) -> ApiKey | None:
        """The key whose public half is ``public_key``, or ``None``."""
        return self._keys.get(public_key)

    def __iter__(self) -> Iterator[ApiKey]:
        return iter(list(self._keys.values()))

    def __len__(self) -> int:
        return len(self._keys)


def _tolerance_units(nonce: int, tolerance_seconds: float) -> int:
    digits = len(str(nonce))
    if digits < _EPOCH_SECONDS_DIGITS:
        return 0
    return int(tolerance_seconds * 10 ** (digits - _EPOCH_SECONDS_DIGITS))


class NonceBook:
    """One key's nonce state: the highest accepted nonce and the recent ones."""

    __slots__ = ("_heap", "_memory", "_recent", "floor", "highest")

    def __init__(self, memory: int) -> None:
        self._memory = memory
        self._recent: set[int] = set()
        self._heap: list[int] = []
        self.highest = -1
        #: Nonces at or below this were forgotten and are refused as too low.
        self.floor = -1

    def admit(self, nonce: int, tolerance_seconds: float) -> str | None:
        """Record ``nonce``; return Kraken's error code if it must be refused."""
        if nonce in self._recent:
            return "nonceDuplicate"
        tolerance = _tolerance_units(nonce, tolerance_seconds)
        if nonce <= self.floor or (self.highest >= 0 and nonce < self.highest - tolerance):
            return "nonceBelowThreshold"
        self._recent.add(nonce)
        heapq.heappush(self._heap, nonce)
        self.highest = max(self.highest, nonce)
        horizon = self.highest - tolerance
        heap = self._heap
        while heap and (heap[0] < horizon or len(heap) > self._memory):
            forgotten = heapq.heappop(heap)
            self._recent.discard(forgotten)
            self.floor = max(self.floor, forgotten)
        return None


class Authenticator:
    """Checks a private request's key, signature, nonce and permission, or refuses it."""

    def __init__(
        self,
        keys: KeyRegistry,
        *,
        nonce_tolerance: float = 10.0,
        nonce_memory: int = 65_536,
        max_nonce_digits: int = MAX_NONCE_DIGITS,
    ) -> None:
        self.keys = keys
        self.nonce_tolerance = nonce_tolerance
        self._nonce_memory = nonce_memory
        self._max_nonce_digits = max_nonce_digits
        self._books: dict[str, NonceBook] = {}
        self._lock = threading.Lock()

    def authenticate(
        self,
        endpoint: Endpoint,
        *,
        api_key: bytes | None,
        authent_header: bytes | None,
        nonce: bytes | None,
        path: str,
        query: bytes,
        body: bytes,
    ) -> ApiKey:
        """The key that signed this request; raises :class:`ExchangeError` otherwise."""
        if api_key is None or authent_header is None:
            raise ExchangeError("authenticationError")
        key = self.keys.get(api_key.decode("latin-1"))
        if key is None:
            raise ExchangeError("authenticationError")
        nonce_text = nonce if nonce is not None else b""
        if nonce is not None and not nonce.isdigit():
            raise ExchangeError("authenticationError")
        signed_path = path[len("/derivatives") :] if path.startswith(_DERIVATIVES) else path
        expected = authent(key.secret_bytes, query + body, nonce_text, signed_path.encode())
        if not hmac.compare_digest(expected, authent_header.strip()):
            raise ExchangeError("authenticationError")
        if nonce is not None:
            if len(nonce) > self._max_nonce_digits:
                raise ExchangeError("invalidArgument")
            self._admit_nonce(key.public_key, int(nonce))
        if not key.allows(required_permission(endpoint)):
            raise ExchangeError("authenticationError")
        return key

    def _admit_nonce(self, public_key: str, nonce: int) -> None:
        with self._lock:
            book = self._books.get(public_key)
            if book is None:
                book = self._books[public_key] = NonceBook(self._nonce_memory)
            refusal = book.admit(nonce, self.nonce_tolerance)
        if refusal is not None:
            raise ExchangeError(refusal)
