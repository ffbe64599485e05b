"""An independent check of Kraken Futures request signing, written from the API reference §2.

It deliberately imports nothing from ``kraken_futures_async``: if the library and this module
agreed only because they shared code, a wrong signature would pass. It works on the bytes as
they arrive (raw query, raw body, raw path), the way Kraken's server does, and keeps nonce
state per API key the way Kraken does (duplicate → ``nonceDuplicate``, not above the highest
accepted → ``nonceBelowThreshold``).
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import httpx

__all__ = [
    "SERVER_TIME",
    "Check",
    "KrakenVerifier",
    "Verdict",
    "authent_for",
    "kraken_handler",
    "signed_message",
    "strip_derivatives",
]

SERVER_TIME = "2026-11-24T12:00:00.000Z"
_PREFIX = b"/derivatives"


class Verdict(enum.Enum):
    """What Kraken answers about a request's authentication (the wire error codes)."""

    ACCEPTED = "accepted"
    AUTHENTICATION_ERROR = "authenticationError"
    NONCE_DUPLICATE = "nonceDuplicate"
    NONCE_BELOW_THRESHOLD = "nonceBelowThreshold"


def _as_bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


def strip_derivatives(path: str | bytes) -> bytes:
    """endpointPath: the URL path minus a leading ``/derivatives``; nothing else is removed."""
    raw = _as_bytes(path)
    if raw.startswith(_PREFIX + b"/"):
        return raw[len(_PREFIX) :]
    return raw


def signed_message(post_data: str | bytes, nonce: str | bytes, endpoint_path: str | bytes) -> bytes:
    """SHA-256 over ``postData + nonce + endpointPath`` (raw 32 bytes)."""
    message = _as_bytes(post_data) + _as_bytes(nonce) + _as_bytes(endpoint_path)
    return hashlib.sha256(message).digest()


def authent_for(
    secret_b64: str, post_data: str | bytes, nonce: str | bytes, endpoint_path: str | bytes
) -> str:
    """base64(HMAC-SHA512(b64decode(secret), SHA256(postData + nonce + endpointPath)))."""
    key = base64.b64decode(secret_b64, validate=True)
    mac = hmac.new(key, signed_message(post_data, nonce, endpoint_path), hashlib.sha512)
    return base64.b64encode(mac.digest()).decode("ascii")


@attrs.frozen
class Check:
    """One request as the verifier saw it, and what it answered."""

    method: str
    path: bytes
    query: bytes
    body: bytes
    api_key: str | None
    nonce: str | None
    verdict: Verdict


@attrs.define
class _KeyNonces:
    highest: int = 0
    seen: set[int] = attrs.field(factory=set)


class KrakenVerifier:
    """Accepts or refuses requests like Kraken's gateway; remembers every check it made.

    ``require_nonce`` refuses requests without a ``Nonce`` header (Kraken accepts them, but
    this library always sends one, so tests that exercise it can insist).
    """

    def __init__(self, secrets: Mapping[str, str], *, require_nonce: bool = False) -> None:
        self._secrets = dict(secrets)
        self._require_nonce = require_nonce
        self._nonces: dict[str, _KeyNonces] = {}
        self.checks: list[Check] = []

    def verify(self, request: httpx.Request) -> Verdict:
        """Check an ``httpx.Request`` whose body has been read (MockTransport reads it)."""
        raw_path = request.url.raw_path
        path, _, query = raw_path.partition(b"?")
        return self.verify_raw(
            request.method, path, query, request.content, dict(request.headers.items())
        )

    def verify_raw(
        self,
        method: str,
        path: bytes,
        query: bytes,
        body: bytes,
        headers: Mapping[str, str],
    ) -> Verdict:
        lowered = {name.lower(): value for name, value in headers.items()}
        api_key = lowered.get("apikey")
        nonce = lowered.get("nonce")
        verdict = self._judge(path, query, body, api_key, nonce, lowered.get("authent"))
        self.checks.append(Check(method, path, query, body, api_key, nonce, verdict))
        return verdict

    def _judge(
        self,
        path: bytes,
        query: bytes,
        body: bytes,
        api_key: str | None,
        nonce: str | None,
        authent: str | None,
    ) -> Verdict:
        if api_key is None or authent is None or api_key not in self._secrets:
            return Verdict.AUTHENTICATION_ERROR
        if nonce is None and self._require_nonce:
            return Verdict.AUTHENTICATION_ERROR
        if nonce is not None and not (nonce.isascii() and nonce.isdigit()):
            return Verdict.AUTHENTICATION_ERROR
        expected = authent_for(
            self._secrets[api_key], query + body, nonce or "", strip_derivatives(path)
        )
        if not authent.isascii() or not hmac.compare_digest(
            expected.encode("ascii"), authent.encode("ascii")
        ):
            return Verdict.AUTHENTICATION_ERROR
        if nonce is None:
            return Verdict.ACCEPTED
        return self._take_nonce(api_key, int(nonce))

    def _take_nonce(self, api_key: str, value: int) -> Verdict:
        state = self._nonces.setdefault(api_key, _KeyNonces())
        if value in state.seen:
            return Verdict.NONCE_DUPLICATE
        if value <= state.highest:
            return Verdict.NONCE_BELOW_THRESHOLD
        state.seen.add(value)
        state.highest = value
        return Verdict.ACCEPTED

    @property
    def accepted(self) -> list[Check]:
        return [c for c in self.checks if c.verdict is Verdict.ACCEPTED]


SuccessBody = Mapping[str, Any] | Callable[[httpx.Request], Mapping[str, Any]]


def kraken_handler(
    verifier: KrakenVerifier, success: SuccessBody
) -> Callable[[httpx.Request], httpx.Response]:
    """A MockTransport handler: Kraken's HTTP-200 error envelope on refusal, else ``success``.

    ``success`` is the answer body (``result``/``serverTime`` are added when missing) or a
    function of the request that returns it.
    """

    def handle(request: httpx.Request) -> httpx.Response:
        verdict = verifier.verify(request)
        if verdict is not Verdict.ACCEPTED:
            error = {"result": "error", "error": verdict.value, "serverTime": SERVER_TIME}
            return httpx.Response(200, json=error)
        body = dict(success(request) if callable(success) else success)
        body.setdefault("result", "success")
        body.setdefault("serverTime", SERVER_TIME)
        return httpx.Response(200, json=body)

    return handle
