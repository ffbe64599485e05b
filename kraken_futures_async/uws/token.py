"""The private socket's token: Spot REST ``GetWebSocketsToken``, signed the Spot way.

Kraken's Unified WebSocket takes, in ``params.token`` of every private request, a token that
Spot REST issues to a **Kraken** (Spot/Pro) key with "Access WebSocket API"
(kraken-uws-api.md §3). The request is ``POST /0/private/GetWebSocketsToken`` on
``https://api.kraken.com`` (a served twin answers it on its REST port: see
:func:`~kraken_futures_async.config.resolve_spot_rest_url`), form body ``nonce=<n>`` (plus
``otp=<code>`` for a key with API 2FA), headers ``API-Key`` and ``API-Sign``:

    API-Sign = base64(HMAC-SHA512(base64decode(secret), path || SHA-256(nonce || body)))

(:func:`spot_sign`, §3.3; the Futures ``Authent`` scheme is another one). Nonces are
milliseconds, strictly increasing per Kraken key, from the key's own sequence
(:func:`~kraken_futures_async.auth.kraken_nonce_source_for`), and fetches on one key are
serialised in a process so they reach Kraken in nonce order.

The answer is ``{"error":[],"result":{"token":"...","expires":900}}``. Refusals come as
strings in ``error[]`` and map to the library's errors (:func:`token_error`):
``EAPI:Invalid key``, ``EAPI:Invalid signature``, ``EGeneral:Permission denied`` ->
:class:`AuthenticationError`; ``EAPI:Invalid nonce`` -> :class:`NonceError` (retry-safe);
``EAPI:Rate limit exceeded``, ``EService:Throttled: <ts>`` -> :class:`RateLimitError`;
``EGeneral:Temporary lockout`` -> :class:`RateLimitError` with ``retry_safe=False`` and
``retry_after=900`` (Kraken locks the key out for about 15 minutes; retrying extends it);
``EService:Unavailable``/``EService:Busy`` -> :class:`UnavailableError`; anything else ->
:class:`UnknownAPIError` with the string verbatim in ``code``.

Reuse (§3.2): a token must be *first used* within ``expires`` seconds (900) of being issued;
once a private subscription is live on a socket, that socket keeps using the same token for
as long as it lives. So :class:`TokenProvider` hands the same token to whoever asks within
``expires`` less a margin of it being fetched (:meth:`TokenProvider.token`), a socket keeps
the token it subscribed with for its whole life, and a new socket after a reconnect, or one
told ``EAPI:Invalid token``/``ESession:Invalid session``, asks for a new one
(:meth:`TokenProvider.fresh`). The token and the secret never show in a repr, a log line or
an error.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import json
import logging
import math
import ssl
import time
import weakref
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

from ..auth import Credentials, KrakenKey, NonceSource, kraken_nonce_source_for
from ..config import PRODUCTION, check_deadline, resolve_spot_rest_url
from ..errors import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    ConnectionFailedError,
    MissingCredentialsError,
    NonceError,
    RateLimitError,
    RequestTimeoutError,
    ResponseInvalidError,
    TransportError,
    UnavailableError,
    UnknownAPIError,
)

__all__ = [
    "TOKEN_ENDPOINT",
    "TOKEN_PATH",
    "TokenProvider",
    "WebSocketToken",
    "spot_sign",
    "token_error",
    "token_request_body",
]

logger = logging.getLogger("kraken_futures_async.uws.token")

#: The URI path Kraken signs and serves the token on (§3.2).
TOKEN_PATH = "/0/private/GetWebSocketsToken"
#: The operation's name in errors.
TOKEN_ENDPOINT = "GetWebSocketsToken"
#: Seconds a token lasts unused when the answer does not say (§3.2).
DEFAULT_EXPIRES = 900.0
#: Seconds before a token's ``expires`` at which the provider stops handing it out.
DEFAULT_MARGIN = 60.0
#: Seconds a fetch may take in all (waiting for the key's turn, connecting, the answer).
DEFAULT_DEADLINE = 10.0
#: Bytes of an answer read at most (a token answer is about a hundred).
MAX_ANSWER_BYTES = 64 * 1024
#: Seconds Kraken's temporary lockout lasts (about 15 minutes, §3.2).
LOCKOUT_SECONDS = 900.0

_USER_AGENT = "kraken_futures_async/0.1"
_FORM = "application/x-www-form-urlencoded"


# --- signing -------------------------------------------------------------------------------


def spot_sign(secret: bytes, path: str, nonce: str, body: bytes) -> str:
    """``API-Sign`` (§3.3): base64(HMAC-SHA512(secret, path || SHA-256(nonce || body))).

    ``secret`` is the decoded secret, ``body`` the exact bytes sent (form or JSON text) and
    ``nonce`` the decimal text of the nonce that body carries.
    """
    inner = hashlib.sha256(nonce.encode("ascii") + body).digest()
    mac = hmac.new(secret, path.encode("ascii") + inner, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode("ascii")


def token_request_body(nonce: str, otp: str | None = None, *, as_json: bool = False) -> bytes:
    """The body to sign and send: ``nonce=<n>[&otp=<code>]``, or ``{"nonce":<n>[,...]}``."""
    if not nonce.isdigit():
        raise ConfigurationError("a Spot REST nonce is an unsigned integer in decimal")
    if as_json:
        fields: dict[str, Any] = {"nonce": int(nonce)}
        if otp is not None:
            fields["otp"] = otp
        return json.dumps(fields, separators=(",", ":")).encode()
    form = f"nonce={nonce}"
    if otp is not None:
        form += "&otp=" + _form_value(otp)
    return form.encode("ascii")


def _form_value(text: str) -> str:
    return quote(text, safe="")


# --- errors --------------------------------------------------------------------------------

_AUTH = ("EAPI:Invalid key", "EAPI:Invalid signature", "EGeneral:Permission denied")
_RATE = ("EAPI:Rate limit exceeded", "EService:Throttled")
_UNAVAILABLE = ("EService:Unavailable", "EService:Busy")


def token_error(code: str, *, http_status: int | None = None) -> APIError:
    """The library's error for one of Spot REST's ``error[]`` strings (see the module doc)."""
    if code.startswith(_AUTH):
        return AuthenticationError(
            "the Kraken key or its signature was refused (a Kraken Spot/Pro key with "
            "'Access WebSocket API' is needed, not a Futures key)",
            code=code,
            endpoint=TOKEN_ENDPOINT,
            http_status=http_status,
        )
    if code.startswith("EAPI:Invalid nonce"):
        return NonceError(
            "the nonce was refused (another client on this Kraken key sent a higher one, or "
            "the key's nonce window is too small); a new fetch signs a new nonce",
            code=code,
            endpoint=TOKEN_ENDPOINT,
            http_status=http_status,
        )
    if code.startswith("EGeneral:Temporary lockout"):
        return RateLimitError(
            f"the Kraken key is locked out for about {LOCKOUT_SECONDS / 60:.0f} minutes; "
            "every call before then extends the lockout",
            retry_after=LOCKOUT_SECONDS,
            code=code,
            endpoint=TOKEN_ENDPOINT,
            http_status=http_status,
            retry_safe=False,
        )
    if code.startswith(_RATE):
        return RateLimitError(
            "Spot REST's call counter for this key is full",
            code=code,
            endpoint=TOKEN_ENDPOINT,
            http_status=http_status,
        )
    if code.startswith(_UNAVAILABLE):
        return UnavailableError(
            "Spot REST is unavailable",
            code=code,
            endpoint=TOKEN_ENDPOINT,
            http_status=http_status,
            retry_safe=True,
        )
    return UnknownAPIError(
        "Spot REST refused the token request",
        code=code,
        endpoint=TOKEN_ENDPOINT,
        http_status=http_status,
    )


# --- the token -----------------------------------------------------------------------------


class WebSocketToken:
    """One token, the seconds it lasts unused, and when it was asked for (monotonic clock).

    ``value`` goes in ``params.token``; it never shows in a repr.
    """

    __slots__ = ("expires", "requested_at", "value")

    def __init__(self, value: str, expires: float, requested_at: float) -> None:
        self.value = value
        self.expires = expires
        self.requested_at = requested_at

    def __repr__(self) -> str:
        return f"WebSocketToken(expires={self.expires:g}, value=<hidden>)"

    def usable_at(self, now: float, margin: float = 0.0) -> bool:
        """Whether a first use at ``now`` still falls inside ``expires`` less ``margin``."""
        return now < self.requested_at + self.expires - min(margin, self.expires / 2)


def _parse(raw: bytes, status: int, requested_at: float) -> WebSocketToken:
    try:
        document = json.loads(raw)
    except ValueError:
        document = None
    if isinstance(document, dict) and isinstance(document.get("error"), list):
        errors = [e for e in document["error"] if isinstance(e, str)]
        if errors:
            raise token_error(errors[0], http_status=status)
        result = document.get("result")
        if status < 300 and isinstance(result, dict):
            token, expires = result.get("token"), result.get("expires", DEFAULT_EXPIRES)
            if (
                isinstance(token, str)
                and token
                and isinstance(expires, int | float)
                and not isinstance(expires, bool)
                and math.isfinite(expires)
                and expires > 0
            ):
                return WebSocketToken(token, float(expires), requested_at)
    # Not the documented shape. Nothing of the answer goes in the error: it may hold a token.
    if status == 429:
        raise RateLimitError(
            "Spot REST answered HTTP 429", endpoint=TOKEN_ENDPOINT, http_status=429
        )
    if status >= 500:
        raise UnavailableError(
            f"Spot REST answered HTTP {status}",
            endpoint=TOKEN_ENDPOINT,
            http_status=status,
            retry_safe=True,
        )
    raise ResponseInvalidError(
        f"the token answer (HTTP {status}) is not Spot REST's error/result object",
        endpoint=TOKEN_ENDPOINT,
    )


# --- fetching ------------------------------------------------------------------------------

#: One lock per Kraken key per event loop: fetches on a key reach Kraken in nonce order.
_key_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def _key_lock(api_key: str) -> asyncio.Lock:
    locks = _key_locks.setdefault(asyncio.get_running_loop(), {})
    lock = locks.get(api_key)
    if lock is None:
        lock = locks[api_key] = asyncio.Lock()
    return lock


def _kraken_key(credentials: Credentials | KrakenKey) -> KrakenKey:
    if isinstance(credentials, KrakenKey):
        return credentials
    if credentials.kraken is None:
        raise MissingCredentialsError(
            "the Unified WebSocket's private socket needs a Kraken (Spot/Pro) API key with "
            "'Access WebSocket API': Credentials(kraken_api_key=..., kraken_api_secret=...), "
            "or set KRAKEN_API_KEY and KRAKEN_API_SECRET",
            endpoint=TOKEN_ENDPOINT,
        )
    return credentials.kraken


class TokenProvider:
    """Fetches ``GetWebSocketsToken`` tokens for one Kraken key and hands them out.

    ``credentials``: :class:`Credentials` with a Kraken key (or the :class:`KrakenKey`).
    ``url``: the Spot REST host root (default Kraken's; a twin's base URL for a twin).
    ``transport``: an httpx transport (a twin in-process, a mock), else a pooled one per
    fetch. ``deadline``: seconds one fetch may take in all, waiting for the key's turn
    included (:class:`RequestTimeoutError` past it). ``margin``: seconds before a token's
    ``expires`` at which :meth:`token` stops handing it out (at most half of ``expires``).
    ``otp``: the key's API 2FA code, or a function giving the current one. ``nonces``: the
    key's nonce source (default: the process's sequence for the key). ``as_json``: send the
    body as JSON instead of a form. ``clock``: monotonic seconds (tests).

    :meth:`token` returns the current token while it can still be first used and fetches
    one otherwise; :meth:`fresh` always fetches (after a reconnect, or when the socket says
    ``EAPI:Invalid token``). Concurrent callers share one fetch.
    """

    def __init__(
        self,
        credentials: Credentials | KrakenKey,
        *,
        url: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        deadline: float | None = DEFAULT_DEADLINE,
        margin: float = DEFAULT_MARGIN,
        otp: str | Callable[[], str] | None = None,
        nonces: NonceSource | None = None,
        as_json: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._key = _kraken_key(credentials)
        base = PRODUCTION.spot_rest_url if url is None else url
        assert base is not None
        self.url = resolve_spot_rest_url(base, base_url=base) + TOKEN_PATH
        self._transport = transport
        self.deadline = check_deadline(deadline)
        if isinstance(margin, bool) or not isinstance(margin, int | float) or not margin >= 0:
            raise ConfigurationError(f"margin must be a number of seconds >= 0, got {margin!r}")
        self.margin = float(margin)
        self._otp = otp
        self._nonces = nonces if nonces is not None else kraken_nonce_source_for(self._key.api_key)
        self._as_json = as_json
        self._clock = clock
        self._current: WebSocketToken | None = None
        self._inflight: asyncio.Task[WebSocketToken] | None = None
        #: Tokens fetched so far (for tests and metrics).
        self.fetches = 0

    def __repr__(self) -> str:
        state = "none" if self._current is None else repr(self._current)
        return f"<TokenProvider {self._key!r} {self.url} token={state}>"

    @property
    def current(self) -> WebSocketToken | None:
        """The last token fetched, usable or not (``None`` before the first fetch)."""
        return self._current

    async def token(self) -> str:
        """A token that can still be first used: the current one, or a new one."""
        current = self._current
        if current is not None and current.usable_at(self._clock(), self.margin):
            return current.value
        return (await self._shared_fetch()).value

    async def fresh(self) -> str:
        """A newly fetched token (for a new socket after a reconnect, or a refused token).

        A fetch already under way when this is called is that new token.
        """
        return (await self._shared_fetch()).value

    def invalidate(self) -> None:
        """Forget the current token, so the next :meth:`token` fetches."""
        self._current = None

    async def _shared_fetch(self) -> WebSocketToken:
        # The fetch runs in a task of its own, so a caller cancelled while waiting cancels
        # only its own wait, never the fetch the others share.
        task = self._inflight
        if task is None or task.done():
            task = asyncio.get_running_loop().create_task(self._fetch())
            task.add_done_callback(self._fetch_done)
            self._inflight = task
        return await asyncio.shield(task)

    def _fetch_done(self, task: asyncio.Task[WebSocketToken]) -> None:
        if self._inflight is task:
            self._inflight = None
        if not task.cancelled():
            task.exception()  # retrieved here: no "never retrieved" log if every waiter left

    async def _fetch(self) -> WebSocketToken:
        try:
            async with asyncio.timeout(self.deadline):
                async with _key_lock(self._key.api_key):
                    token = await self._signed_post()
        except TimeoutError:
            raise RequestTimeoutError(
                f"no token within the deadline of {self.deadline:g} s",
                endpoint=TOKEN_ENDPOINT,
                retry_safe=True,
            ) from None
        self._current = token
        return token

    def _otp_now(self) -> str | None:
        otp = self._otp
        return otp() if callable(otp) else otp

    async def _signed_post(self) -> WebSocketToken:
        nonce = self._nonces.next()
        body = token_request_body(nonce, self._otp_now(), as_json=self._as_json)
        headers = {
            "API-Key": self._key.api_key,
            "API-Sign": spot_sign(self._key.secret, TOKEN_PATH, nonce, body),
            "Content-Type": "application/json" if self._as_json else _FORM,
            "Accept": "application/json",
            "User-Agent": _USER_AGENT,
        }
        requested_at = self._clock()
        verify: ssl.SSLContext | bool = True if self._transport is not None else _tls_context()
        try:
            async with httpx.AsyncClient(
                transport=self._transport, timeout=None, verify=verify
            ) as client:
                request = client.build_request("POST", self.url, content=body, headers=headers)
                response = await client.send(request, stream=True)
                try:
                    raw = await _read_capped(response)
                finally:
                    await response.aclose()
        except httpx.ConnectError as error:
            raise ConnectionFailedError(
                f"could not connect to {self.url}", endpoint=TOKEN_ENDPOINT
            ) from error
        except httpx.TimeoutException as error:
            raise RequestTimeoutError(
                f"{self.url} did not answer in time", endpoint=TOKEN_ENDPOINT, retry_safe=True
            ) from error
        except httpx.HTTPError as error:
            raise TransportError(
                f"the token request failed: {type(error).__name__}",
                endpoint=TOKEN_ENDPOINT,
                retry_safe=True,  # a token request changes nothing on the account
            ) from error
        token = _parse(raw, response.status_code, requested_at)
        self.fetches += 1
        logger.debug("fetched a WebSocket token (expires in %g s)", token.expires)
        return token


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every token fetch of the process: loading the CA bundle costs
    about 85 ms of CPU, once per new client, i.e. on every reconnect."""
    return httpx.create_ssl_context()


async def _read_capped(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise ResponseInvalidError(
                f"the token answer is larger than {MAX_ANSWER_BYTES} bytes",
                endpoint=TOKEN_ENDPOINT,
                max_bytes=MAX_ANSWER_BYTES,
            )
        chunks.append(chunk)
    return b"".join(chunks)
