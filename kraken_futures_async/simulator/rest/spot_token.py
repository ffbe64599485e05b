"""Spot REST's ``POST /0/private/GetWebSocketsToken``, on the twin's REST port.

The Unified WebSocket's private socket takes a token that Kraken's Spot REST issues to a
**Kraken** (Spot/Pro) key, not a Futures key (kraken-uws-api.md §3). The twin keeps its own
Kraken keys (:class:`KrakenApiKey`, made from the seed apart from the Futures keys, so those
stay what they were), checks each request the way §3.3 says, and answers in Spot's shape:
``{"error":[],"result":{"token":"...","expires":900}}``, or HTTP 200 with
``{"error":["EAPI:Invalid signature"]}`` and the like.

Checks, in order:

1. ``API-Key`` names a Kraken key the twin knows, else ``EAPI:Invalid key``.
2. The body (form, or JSON when ``Content-Type`` says so) carries ``nonce``: an unsigned
   64-bit integer in decimal, else ``EAPI:Invalid nonce``.
3. ``API-Sign`` = base64(HMAC-SHA512(base64decode(secret), path || SHA-256(nonce || body)))
   over the exact bytes received, else ``EAPI:Invalid signature``.
4. The nonce is above the highest one this key has used (strictly increasing, no window),
   else ``EAPI:Invalid nonce``. Only a correctly signed request moves the key's nonce.
5. API 2FA: a key made with ``otp`` needs that ``otp`` in the body (missing or wrong:
   ``EGeneral:Permission denied``); an ``otp`` sent for a key without 2FA is
   ``EAPI:Invalid key`` (what clients report from Kraken: npm-kraken-api issue 64).
6. The key has "Access WebSocket API", else ``EGeneral:Permission denied``.
7. Spot's call counter (starter tier: 15 deep, 0.33 per second back; each call costs 1),
   full: ``EAPI:Rate limit exceeded``; off with ``TwinConfig(rate_limits=False)``, or
   deeper with ``twin.spot_tokens.counter_depth`` (a fault run that reconnects often
   fetches a token per reconnect).

Tokens are valid for :data:`TOKEN_LIFETIME` seconds until their first use; once used (a
private subscription is live) they stay valid (§3.2). They live in a bounded store mapped to
the account (:meth:`SpotTokenService.redeem` is what the private socket calls): unused
expired tokens are dropped first, then the oldest beyond :data:`MAX_TOKENS`. The twin's
socket binds a connection to the account on the first use, so a live connection does not
depend on its token staying in the store.
"""

from __future__ import annotations

import base64
import binascii
import collections
import hashlib
import hmac
import json
import random
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

import attrs

from .._json import dumps
from ..clock import Clock, SystemClock

__all__ = [
    "MAX_TOKENS",
    "SPOT_TOKEN_PATH",
    "TOKEN_LIFETIME",
    "KrakenApiKey",
    "SpotTokenService",
    "api_sign",
]

#: The path the token is served and signed on.
SPOT_TOKEN_PATH = "/0/private/GetWebSocketsToken"
#: Seconds a token may wait for its first use (Kraken's ``expires``).
TOKEN_LIFETIME = 900
#: Most tokens kept at once (each a few hundred bytes).
MAX_TOKENS = 10_000
#: Spot's starter-tier call counter: its depth and how much of it comes back per second.
COUNTER_DEPTH = 15.0
COUNTER_DECAY = 0.33
_MAX_NONCE = 2**64 - 1


def api_sign(secret: bytes, path: bytes, nonce: bytes, body: bytes) -> bytes:
    """base64(HMAC-SHA512(secret, path || SHA-256(nonce || body))), over raw bytes."""
    inner = hashlib.sha256(nonce + body).digest()
    return base64.b64encode(hmac.new(secret, path + inner, hashlib.sha512).digest())


def _secret_bytes(value: str) -> bytes:
    try:
        decoded = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a Kraken API secret must be valid base64") from None
    if len(decoded) < 32:
        raise ValueError("a Kraken API secret must decode to at least 32 bytes")
    return decoded


@attrs.frozen(repr=False)
class KrakenApiKey:
    """A Kraken (Spot/Pro) key on the twin: public part, secret (never shown), account.

    ``websocket``: the key has "Access WebSocket API". ``otp``: the key's API 2FA password
    (a static one, as Kraken allows), or ``None`` for no 2FA.
    """

    public_key: str
    secret: str = attrs.field(repr=False)
    account_uid: str
    websocket: bool = True
    otp: str | None = attrs.field(default=None, repr=False)
    secret_bytes: bytes = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "secret_bytes", _secret_bytes(self.secret))

    def __repr__(self) -> str:
        return (
            f"KrakenApiKey({self.public_key[:6]}…, account={self.account_uid}, "
            f"websocket={self.websocket}, secret=<hidden>)"
        )


class _Grant:
    __slots__ = ("account_uid", "issued_at", "public_key", "used_at")

    def __init__(self, account_uid: str, public_key: str, issued_at: float) -> None:
        self.account_uid = account_uid
        self.public_key = public_key
        self.issued_at = issued_at
        self.used_at: float | None = None


class _RefusedError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class SpotTokenService:
    """The twin's Kraken keys, their nonces and call counters, and the tokens they were given."""

    def __init__(
        self,
        seed: int = 0,
        *,
        clock: Clock | None = None,
        rate_limits: bool = True,
        lifetime: int = TOKEN_LIFETIME,
        max_tokens: int = MAX_TOKENS,
        counter_depth: float = COUNTER_DEPTH,
        counter_decay: float = COUNTER_DECAY,
    ) -> None:
        if max_tokens < 1 or not lifetime > 0:
            raise ValueError("max_tokens must be at least 1 and lifetime positive")
        if not counter_depth >= 1 or not counter_decay > 0:
            raise ValueError("counter_depth must be at least 1 and counter_decay positive")
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.rate_limits = rate_limits
        self.lifetime = lifetime
        self.max_tokens = max_tokens
        #: Spot's call counter: how deep it is and how much comes back per second.
        self.counter_depth = counter_depth
        self.counter_decay = counter_decay
        self._key_rng = random.Random(f"kraken-keys:{seed}")
        self._token_rng = random.Random(f"kraken-tokens:{seed}")
        self._keys: dict[str, KrakenApiKey] = {}
        self._nonces: dict[str, int] = {}
        self._counters: dict[str, tuple[float, float]] = {}
        self._tokens: collections.OrderedDict[str, _Grant] = collections.OrderedDict()
        self._lock = threading.Lock()
        #: Tokens issued, and requests refused by error string.
        self.issued = 0
        self.refused: collections.Counter[str] = collections.Counter()

    def __repr__(self) -> str:
        return f"<SpotTokenService keys={len(self._keys)} tokens={len(self._tokens)}>"

    # --- keys -------------------------------------------------------------------------

    def issue_key(
        self, account_uid: str, *, websocket: bool = True, otp: str | None = None
    ) -> KrakenApiKey:
        """A new Kraken key for ``account_uid``: 56-char public key, 88-char (64-byte) secret."""
        with self._lock:
            public = base64.b64encode(self._key_rng.randbytes(42)).decode()
            secret = base64.b64encode(self._key_rng.randbytes(64)).decode()
            key = KrakenApiKey(public, secret, account_uid, websocket, otp)
            self._keys[public] = key
        return key

    def add_key(self, key: KrakenApiKey) -> KrakenApiKey:
        """Register a key made elsewhere (a fixed test key, say)."""
        with self._lock:
            self._keys[key.public_key] = key
        return key

    def key(self, public_key: str) -> KrakenApiKey | None:
        return self._keys.get(public_key)

    def keys(self) -> list[KrakenApiKey]:
        return list(self._keys.values())

    # --- tokens -----------------------------------------------------------------------

    def redeem(self, token: str) -> str | None:
        """The account ``token`` was issued to, marking its first use; ``None`` if unknown
        or expired unused. A used token stays valid (the socket keeps it)."""
        now = self.clock.time()
        with self._lock:
            grant = self._tokens.get(token)
            if grant is None:
                return None
            if grant.used_at is None:
                if now >= grant.issued_at + self.lifetime:
                    del self._tokens[token]
                    return None
                grant.used_at = now
            return grant.account_uid

    def account_for(self, token: str) -> str | None:
        """Like :meth:`redeem` without using the token."""
        now = self.clock.time()
        with self._lock:
            grant = self._tokens.get(token)
            if grant is None:
                return None
            if grant.used_at is None and now >= grant.issued_at + self.lifetime:
                return None
            return grant.account_uid

    def revoke(self, token: str) -> bool:
        """Forget ``token`` (a fault: ``EAPI:Invalid token`` on its next use)."""
        with self._lock:
            return self._tokens.pop(token, None) is not None

    def __len__(self) -> int:
        return len(self._tokens)

    # --- the endpoint -----------------------------------------------------------------

    def answer(self, headers: Iterable[tuple[bytes, bytes]], body: bytes) -> tuple[int, bytes]:
        """The HTTP status and JSON body answering one ``POST`` to the token path."""
        try:
            token = self._issue(headers, body)
        except _RefusedError as refusal:
            with self._lock:
                self.refused[refusal.code] += 1
            return 200, dumps({"error": [refusal.code]})
        return 200, dumps({"error": [], "result": {"token": token, "expires": self.lifetime}})

    def _issue(self, headers: Iterable[tuple[bytes, bytes]], body: bytes) -> str:
        api_key = api_sign_header = None
        as_json = False
        for name, value in headers:
            name = name.lower()
            if name == b"api-key":
                api_key = value
            elif name == b"api-sign":
                api_sign_header = value
            elif name == b"content-type":
                as_json = b"json" in value.lower()
        key = None if api_key is None else self._keys.get(api_key.decode("latin-1"))
        if key is None:
            raise _RefusedError("EAPI:Invalid key")
        fields = _fields(body, as_json)
        nonce = _nonce(fields)
        expected = api_sign(key.secret_bytes, SPOT_TOKEN_PATH.encode(), nonce, body)
        if api_sign_header is None or not hmac.compare_digest(expected, api_sign_header.strip()):
            raise _RefusedError("EAPI:Invalid signature")
        now = self.clock.time()
        with self._lock:
            if int(nonce) <= self._nonces.get(key.public_key, -1):
                raise _RefusedError("EAPI:Invalid nonce")
            self._nonces[key.public_key] = int(nonce)
        otp = fields.get("otp")
        if key.otp is None and otp is not None:
            raise _RefusedError("EAPI:Invalid key")
        if key.otp is not None and (otp is None or not hmac.compare_digest(otp, key.otp)):
            raise _RefusedError("EGeneral:Permission denied")
        if not key.websocket:
            raise _RefusedError("EGeneral:Permission denied")
        with self._lock:
            if self.rate_limits:
                self._charge(key.public_key, now)
            return self._grant(key, now)

    def _charge(self, public_key: str, now: float) -> None:
        level, then = self._counters.get(public_key, (0.0, now))
        level = max(0.0, level - (now - then) * self.counter_decay)
        if level + 1 > self.counter_depth:
            self._counters[public_key] = (level, now)
            raise _RefusedError("EAPI:Rate limit exceeded")
        self._counters[public_key] = (level + 1, now)

    def _grant(self, key: KrakenApiKey, now: float) -> str:
        tokens = self._tokens
        while tokens:  # unused tokens past their lifetime go first (they sit at the front)
            oldest = next(iter(tokens.values()))
            if oldest.used_at is not None or now < oldest.issued_at + self.lifetime:
                break
            tokens.popitem(last=False)
        while len(tokens) >= self.max_tokens:
            tokens.popitem(last=False)
        token = base64.b64encode(self._token_rng.randbytes(30)).decode()
        tokens[token] = _Grant(key.account_uid, key.public_key, now)
        self.issued += 1
        return token


def _fields(body: bytes, as_json: bool) -> dict[str, str]:
    """The body's fields as text (``nonce`` as its decimal text); bad bodies: no fields."""
    if as_json:
        try:
            document: Any = json.loads(body)
        except (ValueError, RecursionError):
            return {}
        if not isinstance(document, dict):
            return {}
        fields: dict[str, str] = {}
        for name, value in document.items():
            if isinstance(value, bool) or value is None:
                continue
            if isinstance(value, int | str):
                fields[name] = str(value)
        return fields
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        return {}
    return dict(parse_qsl(text, keep_blank_values=True))


def _nonce(fields: dict[str, str]) -> bytes:
    nonce = fields.get("nonce", "")
    if not (nonce.isascii() and nonce.isdigit()) or len(nonce) > 20 or int(nonce) > _MAX_NONCE:
        raise _RefusedError("EAPI:Invalid nonce")
    return nonce.encode("ascii")
