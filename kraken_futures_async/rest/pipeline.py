"""The one way a REST request travels: check, wait for the budget, send signed, read,
structure.

The REST backend hands over an endpoint row and wire parameters (``request_encoding`` made
them from a typed request); nothing here is endpoint-specific.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import sys
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import cattrs
import httpx

from .._deadline import CallDeadline
from .._values import parse_datetime
from ..auth import API_KEY_ENV, API_SECRET_ENV
from ..config import Bounds
from ..converter import MISS, answer_decoder
from ..errors import (
    ConnectionFailedError,
    KrakenFuturesError,
    MissingCredentialsError,
    RateLimitError,
    RequestTimeoutError,
    ResponseInvalidError,
    TransportError,
)
from ..ratelimit import RateLimiter
from ..retry import RetryPolicy
from .body import MAX_BODY_EXTENSION, BodyTooLargeError, decode_body, read_body
from .endpoints import Endpoint, ParamsIn, WireParams
from .envelope import Answer, check_order_status, read_payload
from .hot_path import HotAnswer, HotPath, log_like_httpx
from .retirement import gone_error
from .signing import KrakenFuturesAuth
from .wire import json_object, urlencode_pairs

if TYPE_CHECKING:
    from .transports.aiohttp import AiohttpTransport

__all__ = ["HttpPipeline", "Stamp"]

logger = logging.getLogger("kraken_futures_async")
_PACKAGE = __name__.partition(".")[0]

_FORM = {"Content-Type": "application/x-www-form-urlencoded"}
_JSON = {"Content-Type": "application/json"}
#: Distinct relative URLs whose merged absolute URL is kept (cleared when full).
_URLS_KEPT = 512


#: Gives the parameters as they must leave now (an order's own ``processBefore`` is written
#: at the moment the request leaves the rate limiter).
Stamp = Callable[[], WireParams]


class HttpPipeline:
    """Kraken's REST API over a pooled ``httpx.AsyncClient``.

    ``bounds`` caps each answer's size; ``deadline`` gives each call its time (by default
    ``bounds.deadline``; a Session passes its own so ``with kf.deadline(...)`` reaches here).
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        auth: httpx.Auth | None,
        limiter: RateLimiter,
        converter: cattrs.Converter,
        retry: RetryPolicy | None = None,
        rng: random.Random | None = None,
        bounds: Bounds | None = None,
        deadline: CallDeadline | None = None,
        judge_gone: bool = False,
    ) -> None:
        self.bounds = bounds or Bounds()
        #: Whether an answer may mean the REST API is gone (the production host only).
        self._judge_gone = judge_gone
        self.deadline = deadline or CallDeadline(self.bounds.deadline)
        self._client = client
        self._auth = auth
        self.limiter = limiter
        self._converter = converter
        self.retry = retry or RetryPolicy()
        self._rng = rng or self.retry.new_rng()
        self._hooks: dict[str, Any] = {}
        #: Absolute URL per relative one, and the client's headers merged per Content-Type.
        self._urls: dict[str, httpx.URL] = {}
        self._headers: dict[str | None, httpx.Headers] = {}
        #: Per endpoint, the converter's straight-to-models decoder for a plain success
        #: (None: the general path only).
        self._answer_decoders: dict[str, Callable[..., Any] | None] = {}
        #: The short route over the library's own transport (:mod:`.hot_path`).
        self._hot = HotPath(client, self._request)
        #: Exchange epoch seconds minus the loop's monotonic clock, from the latest
        #: ``serverTime``; None until the exchange has answered once.
        self._clock_offset: float | None = None
        #: Requests sent and retries made, for reports.
        self.requests_sent = 0
        self.retries = 0

    def _hook(self, endpoint: Endpoint) -> Any:
        hook = self._hooks.get(endpoint.name)
        if hook is None:
            hook = self._hooks[endpoint.name] = self._converter.get_structure_hook(endpoint.result)
        return hook

    def build_request(
        self, endpoint: Endpoint, params: WireParams, path_params: dict[str, str] | None
    ) -> httpx.Request:
        path = endpoint.url_path(path_params)
        encoded = urlencode_pairs(list(params))
        if endpoint.params_in is ParamsIn.FORM:
            return self._request(endpoint.method, path, encoded.encode(), _FORM)
        if endpoint.params_in is ParamsIn.JSON:
            body = json_object(params)
            return self._request(endpoint.method, path, body.encode(), _JSON)
        url = f"{path}?{encoded}" if encoded else path
        return self._request(endpoint.method, url, None, None)

    def _request(
        self, method: str, url: str, content: bytes | None, headers: dict[str, str] | None
    ) -> httpx.Request:
        """``client.build_request(method, url, content=content, headers=headers)``, cheaper.

        httpx parses and merges the base URL and copies the client's headers on every build
        (~55 us of an order-book call); here each relative URL is merged once and the merged
        headers are kept, so a call only builds the Request itself. A client with cookies or
        default query parameters (never a Session's) gets httpx's own build.
        """
        client = self._client
        if client.cookies or client.params:
            request = client.build_request(method, url, content=content, headers=headers)
            request.extensions[MAX_BODY_EXTENSION] = self.bounds.max_response_bytes
            return request
        absolute = self._urls.get(url)
        if absolute is None:
            if len(self._urls) >= _URLS_KEPT:
                self._urls.clear()
            absolute = self._urls[url] = client.build_request(method, url).url
        kind = None if headers is None else headers["Content-Type"]
        merged = self._headers.get(kind)
        if merged is None:
            merged = self._headers[kind] = httpx.Headers(client.headers)
            merged.update(headers)
        extensions = {
            "timeout": client.timeout.as_dict(),
            MAX_BODY_EXTENSION: self.bounds.max_response_bytes,
        }
        return httpx.Request(
            method, absolute, content=content, headers=merged, extensions=extensions
        )

    async def call(
        self,
        endpoint: Endpoint,
        params: WireParams = (),
        *,
        path_params: dict[str, str] | None = None,
        stamp: Stamp | None = None,
    ) -> Any:
        """Run one operation, retrying only what the retry policy proves harmless.

        ``stamp``, when given, makes each attempt's parameters once it is admitted.

        The call's deadline covers the wait for the rate-limit budget, every attempt and every
        backoff; past it, :class:`RequestTimeoutError` (``sent=False`` when the request never
        left the limiter). A retry that could not start before the deadline is not made: the
        latest error is raised instead.
        """
        if endpoint.deprecated:
            warn_deprecated(endpoint)
        if endpoint.private and self._auth is None:
            raise MissingCredentialsError(
                "this endpoint needs Futures API credentials: "
                f"Session(Credentials(key, secret)), or {API_KEY_ENV} and {API_SECRET_ENV} "
                "with Credentials.from_env()",
                endpoint=endpoint.name,
            )
        cost = endpoint.cost_of(params)
        self.limiter.check(endpoint.budget, cost)
        seconds = self.deadline.seconds()
        loop = asyncio.get_running_loop()
        give_up_at = None if seconds is None else loop.time() + seconds
        timer = asyncio.timeout_at(give_up_at)
        # Whether the attempt under way has left the limiter, and whether an earlier one may
        # have been executed: what a deadline passing now leaves unknown.
        in_flight = unknown = False
        attempt = 1
        try:
            async with timer:
                while True:
                    try:
                        await self._admit(endpoint, params, cost)
                        in_flight = True
                        sent = params if stamp is None else stamp()
                        result = await self._attempt(endpoint, sent, path_params)
                        break
                    except KrakenFuturesError as exc:
                        delay = self._retry_delay(endpoint, exc, attempt, give_up_at, loop)
                        unknown = unknown or not _nothing_ran(endpoint, exc)
                    in_flight = False
                    self.retries += 1
                    attempt += 1
                    await asyncio.sleep(delay)
        except TimeoutError:
            if not timer.expired():
                raise
            raise _past_deadline(endpoint, seconds, sent=in_flight or unknown) from None
        return result

    def _retry_delay(
        self,
        endpoint: Endpoint,
        exc: KrakenFuturesError,
        attempt: int,
        give_up_at: float | None,
        loop: asyncio.AbstractEventLoop,
    ) -> float:
        """Seconds to wait before retrying after ``exc``; re-raises it when no retry is made."""
        if not self.retry.should_retry(exc, idempotent=endpoint.idempotent, attempt=attempt):
            if attempt > 1:
                logger.info(
                    "%s: failed after %d attempts (%s: %s)",
                    endpoint.name,
                    attempt,
                    type(exc).__name__,
                    exc.message,
                )
            raise exc
        retry_after = exc.retry_after if isinstance(exc, RateLimitError) else None
        delay = self.retry.delay(attempt, rng=self._rng, retry_after=retry_after)
        if give_up_at is not None and loop.time() + self._earliest(endpoint, delay) >= give_up_at:
            logger.info(
                "%s: attempt %d failed (%s: %s); no time left for another before the deadline",
                endpoint.name,
                attempt,
                type(exc).__name__,
                exc.message,
            )
            raise exc
        logger.info(
            "%s: attempt %d failed (%s: %s); retrying in %.3f s",
            endpoint.name,
            attempt,
            type(exc).__name__,
            exc.message,
            delay,
        )
        return delay

    def _earliest(self, endpoint: Endpoint, delay: float) -> float:
        """Seconds until a retry could leave: the backoff, or a cool-down still running."""
        if endpoint.budget is None or endpoint.budget not in self.limiter.budgets:
            return delay
        return max(delay, self.limiter.budgets[endpoint.budget].usage().closed_for)

    async def _admit(self, endpoint: Endpoint, params: WireParams, cost: int) -> None:
        await self.limiter.acquire(
            private=endpoint.private,
            budget=endpoint.budget,
            cost=cost,
            priority=endpoint.reduces_risk(params),
        )

    async def _attempt(
        self, endpoint: Endpoint, params: WireParams, path_params: dict[str, str] | None
    ) -> Any:
        auth = self._auth if endpoint.private else None
        transport = self._hot.transport(auth)
        response: Answer | None = None
        if transport is not None:
            response = await self._send_hot(
                transport, endpoint, params, path_params, cast(KrakenFuturesAuth | None, auth)
            )
        if response is None:
            request = self.build_request(endpoint, params, path_params)
            response = await self._send(endpoint, request)
        if self._judge_gone:
            gone = gone_error(endpoint.name, response)
            if gone is not None:
                raise gone
        if response.status_code == 200:
            decode = self._answer_decoder(endpoint)
            if decode is not None:
                result = decode(response.content, self._note_server_time)
                if result is not MISS:
                    return result
        try:
            payload = read_payload(endpoint, response, self._note_server_time)
        except RateLimitError as exc:
            self.limiter.cool_down(endpoint.budget, exc.retry_after)
            raise
        if endpoint.header_fields:
            payload = with_header_fields(endpoint, response, payload)
        result = self._structure(endpoint, payload)
        check_order_status(endpoint, payload, result)
        return result

    def _answer_decoder(self, endpoint: Endpoint) -> Callable[..., Any] | None:
        """The converter's decoder straight to models, for rows that read nothing else: no
        response headers, no order status, no plain text, Kraken's envelope. Whatever it
        does not read exactly (MISS) takes the general path below, as before."""
        try:
            return self._answer_decoders[endpoint.name]
        except KeyError:
            pass
        decode = None
        if (
            endpoint.envelope
            and not endpoint.header_fields
            and endpoint.order_status is None
            and not endpoint.raw_text
        ):
            decode = answer_decoder(self._converter, endpoint.result, endpoint.result_key)
        self._answer_decoders[endpoint.name] = decode
        return decode

    def _note_server_time(self, text: str) -> None:
        try:
            server = parse_datetime(text).timestamp()
        except ValueError:
            return
        self._clock_offset = server - asyncio.get_running_loop().time()

    def server_now(self) -> dt.datetime:
        """The exchange's time: its latest ``serverTime`` advanced by the monotonic clock."""
        if self._clock_offset is None:
            return dt.datetime.now(dt.UTC)
        now = asyncio.get_running_loop().time() + self._clock_offset
        return dt.datetime.fromtimestamp(now, dt.UTC)

    async def _send(self, endpoint: Endpoint, request: httpx.Request) -> httpx.Response:
        auth = self._auth if endpoint.private else None
        self.requests_sent += 1
        try:
            response = await self._client.send(
                request, auth=auth or httpx.USE_CLIENT_DEFAULT, stream=True
            )
            await read_body(response, self.bounds.max_response_bytes)
        except httpx.HTTPError as exc:
            logger.debug("%s %s -> %s", request.method, request.url.path, type(exc).__name__)
            raise _transport_error(endpoint, exc) from exc
        logger.debug("%s %s -> %s", request.method, request.url.path, response.status_code)
        return response

    async def _send_hot(
        self,
        transport: AiohttpTransport,
        endpoint: Endpoint,
        params: WireParams,
        path_params: dict[str, str] | None,
        auth: KrakenFuturesAuth | None,
    ) -> HotAnswer | None:
        """:meth:`_send` without httpx's objects (:mod:`.hot_path`): the same bytes sent, the
        same cap, errors and log lines; None when the route needs httpx after all."""
        prepared = self._hot.prepare(endpoint, params, path_params, auth)
        if prepared is None:
            return None
        url, headers, content = prepared
        method = endpoint.method
        limit = self.bounds.max_response_bytes
        self.requests_sent += 1
        try:
            exchanged = await transport.exchange(
                method, url, headers, content, self._hot.timeouts(), limit
            )
            encoding = None
            for name, _ in exchanged.raw_headers:
                if name.lower() == b"content-encoding":
                    encoding = httpx.Headers(list(exchanged.raw_headers)).get("content-encoding")
                    break
            body = decode_body(exchanged.content, encoding, limit)
        except httpx.HTTPError as exc:
            logger.debug("%s %s -> %s", method, httpx.URL(url).path, type(exc).__name__)
            raise _transport_error(endpoint, exc) from exc
        answer = HotAnswer(exchanged.status, exchanged.reason, exchanged.raw_headers, body)
        log_like_httpx(method, url, answer)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s %s -> %s", method, httpx.URL(url).path, answer.status_code)
        return answer

    def _structure(self, endpoint: Endpoint, payload: Any) -> Any:
        try:
            return self._hook(endpoint)(payload, endpoint.result)
        except KrakenFuturesError:
            raise
        except Exception as exc:  # cattrs and hooks raise many kinds; all mean "bad shape"
            raise ResponseInvalidError(
                f"the answer does not have the documented shape: {_describe(exc)}",
                endpoint=endpoint.name,
                payload=payload,
            ) from exc


def _nothing_ran(endpoint: Endpoint, exc: KrakenFuturesError) -> bool:
    """Whether a failed attempt is proven not executed (refused connect, rate limit, nonce).

    Those errors are retry-safe by their class; a non-idempotent request is only ever retried
    after one of them, so for it every retried attempt is proven.
    """
    return not endpoint.idempotent or type(exc).retry_safe


def _past_deadline(endpoint: Endpoint, seconds: float | None, *, sent: bool) -> RequestTimeoutError:
    if not sent:
        return RequestTimeoutError(
            f"the call's {seconds:g} s deadline passed while it waited for the rate-limit "
            "budget; nothing was sent",
            endpoint=endpoint.name,
            retry_safe=True,
            sent=False,
        )
    return RequestTimeoutError(
        f"no complete answer within the call's {seconds:g} s deadline; "
        "the request may have been executed",
        endpoint=endpoint.name,
        retry_safe=endpoint.idempotent,
    )


def _transport_error(
    endpoint: Endpoint, exc: httpx.HTTPError
) -> TransportError | ResponseInvalidError:
    """httpx's failure as the library's: only a failed connect proves nothing was sent."""
    if isinstance(exc, BodyTooLargeError):
        return ResponseInvalidError(
            f"{exc}; raise Session(max_response_bytes=...) if such answers are expected",
            endpoint=endpoint.name,
            max_bytes=exc.limit,
        )
    if isinstance(exc, httpx.DecodingError):
        return ResponseInvalidError(
            f"the answer could not be decoded: {exc}", endpoint=endpoint.name
        )
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return ConnectionFailedError(
            f"could not connect: {type(exc).__name__}", endpoint=endpoint.name
        )
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimeoutError(
            f"no answer in time ({type(exc).__name__})",
            endpoint=endpoint.name,
            retry_safe=endpoint.idempotent,
        )
    return TransportError(
        f"the exchange dropped the request: {type(exc).__name__}",
        endpoint=endpoint.name,
        retry_safe=endpoint.idempotent,
    )


def warn_deprecated(endpoint: Endpoint) -> None:
    """A DeprecationWarning that points at the caller's line, outside this package."""
    frame, level = sys._getframe(1), 2
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    message = f"{endpoint.name} ({endpoint.operation_id}) is deprecated: {endpoint.deprecated}"
    warnings.warn(message, DeprecationWarning, stacklevel=level)


def with_header_fields(endpoint: Endpoint, response: Answer, payload: Any) -> Any:
    """``payload`` with the row's response headers added under keys the body does not have."""
    if not isinstance(payload, dict):
        return payload
    extra = {
        key: response.headers[header]
        for header, key in endpoint.header_fields
        if key not in payload and header in response.headers
    }
    return {**payload, **extra} if extra else payload


def _describe(exc: Exception) -> str:
    if isinstance(exc, cattrs.BaseValidationError):
        notes = cattrs.transform_error(exc)
        return "; ".join(notes[:3])
    return f"{type(exc).__name__}: {exc}"
