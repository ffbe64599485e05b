"""The twin's HTTP layer: an ASGI 3 app, written by hand, around the exchange engine.

Routes come from the package's endpoint table, so the client and the twin cannot disagree on
a path. A request goes: route (404/405 otherwise), faults before, parameters (query then form
body, repeated keys kept), a private POST's required arguments (:mod:`.arguments`: Kraken
checks them before the key), ``Authent``/nonce/permission for private calls, the key's rate
budget, the engine, faults after, and Kraken's envelope or error format on the way out.
"""

from __future__ import annotations

import asyncio
import http
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from decimal import Decimal
from typing import Any, Protocol

from ...rest.endpoints import ENDPOINTS, Endpoint
from ...rest.retirement import REST_SWITCH_OFF
from .._json import dumps
from ..clock import Clock
from ..config import KEPT_FAILURES, MAX_REQUEST_BYTES, MAX_REQUEST_PARAMS
from ..errors import ExchangeError, Reason
from ..uws import UwsServer
from .arguments import check_required
from .auth import Authenticator, key_check, key_refusal
from .body import RequestTooLargeError, check_fields, read_body
from .errors import HttpRefusalError
from .faults import (
    ConnectionDroppedError,
    FaultInjector,
    FaultKind,
    FaultRule,
    maintenance_page,
    server_error_page,
    truncate,
)
from .form import group, json_pairs, parse_pairs
from .limits import BudgetExceededError, RateMeter
from .spot_token import SPOT_TOKEN_PATH, SpotTokenService

__all__ = [
    "ASGIApp",
    "BackgroundService",
    "ExchangeEngine",
    "Router",
    "TwinApp",
    "json_pairs",
    "parse_pairs",
    "server_time",
]

logger = logging.getLogger("kraken_futures_async.simulator")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class ExchangeEngine(Protocol):
    """The engine's whole interface (see the package docstring)."""

    def open_account(self, account_uid: str, balances: dict[str, Decimal], /) -> object:
        """Create an account holding ``balances`` (currency to amount) under ``account_uid``."""
        ...

    def handle(
        self, operation: str, params: dict[str, list[str]], account_uid: str | None, /
    ) -> Any:
        """Serve one call: ``operation`` is an endpoint-table name, ``params`` each parameter's
        values, ``account_uid`` ``None`` for a public call; returns the answer's payload, or
        raises :class:`~kraken_futures_async.simulator.ExchangeError` for a refusal."""
        ...


# --- time ---------------------------------------------------------------------------------


def server_time(timestamp: float) -> str:
    """Kraken's ``serverTime``: ``YYYY-MM-DDTHH:MM:SS.mmmZ``."""
    seconds = int(timestamp // 1)
    millis = min(999, int((timestamp - seconds) * 1000))
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


# --- routing ------------------------------------------------------------------------------

#: Methods each operation answers on besides its own (ccxt reads orders/status with GET).
_EXTRA_METHODS: dict[str, tuple[str, ...]] = {"order_status": ("GET",)}
_PARAM = re.compile(r"\{(\w+)\}")

NOT_FOUND = 404
METHOD_NOT_ALLOWED = 405
#: The auth service's key check, answered from the key registry by this layer.
_KEY_CHECK = "check_api_key"


class Router:
    """Method and path to endpoint row and path parameters; 404 or 405 otherwise."""

    def __init__(self, endpoints: Iterable[Endpoint] = ENDPOINTS) -> None:
        self._exact: dict[str, dict[str, Endpoint]] = {}
        self._templates: list[tuple[re.Pattern[str], dict[str, Endpoint]]] = []
        templates: dict[str, dict[str, Endpoint]] = {}
        for endpoint in endpoints:
            methods = (endpoint.method, *_EXTRA_METHODS.get(endpoint.name, ()))
            for path in (endpoint.path, *endpoint.aliases):
                table = templates if "{" in path else self._exact
                by_method = table.setdefault(path, {})
                for method in methods:
                    by_method[method] = endpoint
        # A literal segment beats a parameter (``analytics/{symbol}/{type}`` before
        # ``{tick_type}/{symbol}/{resolution}``), as in any router.
        for path in sorted(templates, key=_generality):
            self._templates.append((re.compile(_template_regex(path)), templates[path]))

    def match(self, method: str, path: str) -> tuple[Endpoint, dict[str, str]] | int:
        by_method = self._exact.get(path)
        params: dict[str, str] = {}
        if by_method is None:
            for regex, candidate in self._templates:
                found = regex.fullmatch(path)
                if found is not None:
                    by_method, params = candidate, found.groupdict()
                    break
            else:
                return NOT_FOUND
        endpoint = by_method.get(method)
        if endpoint is None:
            return METHOD_NOT_ALLOWED
        return endpoint, params


def _generality(path: str) -> tuple[int, int]:
    segments = path.split("/")
    return (sum(1 for s in segments if "{" in s), -len(segments))


def _template_regex(path: str) -> str:
    parts = _PARAM.split(path)
    # split keeps captured names at odd positions: literal, name, literal, name, ...
    return "".join(
        f"(?P<{part}>[^/]+)" if i % 2 else re.escape(part) for i, part in enumerate(parts)
    )


# --- responses ----------------------------------------------------------------------------

_JSON = b"application/json"
_TEXT = b"text/plain; charset=utf-8"
_HTML = b"text/html; charset=utf-8"
_CSV = b"text/csv; charset=utf-8"


def _header_fields(endpoint: Endpoint, payload: Any) -> Headers | None:
    """Payload keys the exchange also sends as headers (``Next-Continuation-Token``)."""
    fields = endpoint.header_fields
    if not fields or not isinstance(payload, dict):
        return None
    headers: Headers = []
    for header, key in fields:
        value = payload.get(key)
        if value is not None:
            headers.append((header.lower().encode(), str(value).encode()))
    return headers


class Reply:
    """A response about to be sent: status, content type, body, extra headers."""

    __slots__ = ("body", "content_type", "headers", "status")

    def __init__(
        self, status: int, body: bytes, content_type: bytes = _JSON, headers: Headers | None = None
    ) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or []

    def head(self) -> Message:
        headers = [
            (b"content-type", self.content_type),
            (b"content-length", str(len(self.body)).encode()),
            *self.headers,
        ]
        return {"type": "http.response.start", "status": self.status, "headers": headers}


#: Reasons spelled as Kraken's Spring services spell them where Python's differ.
_REASONS = {413: "PAYLOAD_TOO_LARGE"}


def _reason(status: int) -> str:
    if status in _REASONS:
        return _REASONS[status]
    try:
        return http.HTTPStatus(status).name
    except ValueError:
        return "ERROR"


def _structured(status: int, code: str | int, message: str, now: str) -> Reply:
    body = {
        "status": _reason(status),
        "result": "error",
        "errors": [{"code": code, "message": message}],
        "serverTime": now,
    }
    return Reply(status, dumps(body))


def _classic(status: int, code: str | int, now: str) -> Reply:
    return Reply(status, dumps({"result": "error", "error": code, "serverTime": now}))


#: The HTTP status Kraken answers each engine refusal with.
_STATUS = {
    Reason.REFUSED: 200,
    Reason.INVALID_ARGUMENT: 400,
    Reason.NOT_FOUND: 404,
    Reason.VALIDATION: 400,
    Reason.NO_SUCH_ROUTE: 404,
    Reason.FAILED: 500,
}
#: Refusals Kraken words in its newer structured form (``errors: [{code, message}]``).
_STRUCTURED = frozenset({Reason.VALIDATION, Reason.FAILED})
#: Operations whose service refuses bad arguments in plain text (the charts API's candles).
_PLAIN_TEXT_OPERATIONS = frozenset({"candles"})


def render_error(error: ExchangeError, now: str, operation: str | None = None) -> Reply:
    """A refusal as Kraken sends it: the status and form its reason and operation call for.

    The engine names no status or envelope; this is where each is chosen. Refusals the HTTP
    face makes itself (:class:`HttpRefusalError`) carry their own.
    """
    if isinstance(error, HttpRefusalError):
        reply = _render_http_refusal(error, now)
    else:
        status = _STATUS[error.reason]
        if error.issues is not None:  # the analytics service's JSON refusal
            empty = {"timestamp": [], "more": False, "data": []}
            reply = Reply(status, dumps({"result": empty, "errors": list(error.issues)}))
        elif error.reason is Reason.INVALID_ARGUMENT and operation in _PLAIN_TEXT_OPERATIONS:
            reply = Reply(status, error.message.encode(), _TEXT)
        elif error.reason is Reason.NO_SUCH_ROUTE:  # as for a path the router does not know
            reply = _routing_error(status, now)
        elif error.reason in _STRUCTURED:
            reply = _structured(status, error.code, error.message, now)
        else:
            reply = _classic(status, error.code, now)
    return reply


def _render_http_refusal(error: HttpRefusalError, now: str) -> Reply:
    if error.body is not None:
        reply = Reply(error.http_status, dumps(error.body))
    elif error.plain_text:
        reply = Reply(error.http_status, error.message.encode(), _TEXT)
    else:
        reply = _classic(error.http_status, error.code, now)
    if isinstance(error, BudgetExceededError) and error.headers:
        reply.headers.extend(error.headers)
    return reply


def _routing_error(status: int, now: str) -> Reply:
    return _structured(status, 0, f"{status} {_reason(status)}", now)


def _too_large(error: RequestTooLargeError, now: str) -> Reply:
    """413 in the structured form, answered at once; the app reads no more of the body.

    Served, uvicorn discards whatever else arrives (closing at once would reset a client still
    sending, which then never sees the 413), and the read deadline closes a dragging sender.
    """
    return _structured(413, 0, f"413 {_reason(413)}: {error}", now)


# --- the app ------------------------------------------------------------------------------


class BackgroundService(Protocol):
    """Work a served twin runs beside its requests, on the same event loop."""

    async def start(self) -> None: ...

    async def aclose(self) -> None: ...


class TwinApp:
    """The ASGI application; every piece it uses is passed in (see :class:`~.twin.Twin`)."""

    def __init__(
        self,
        exchange: ExchangeEngine,
        *,
        authenticator: Authenticator,
        meter: RateMeter,
        faults: FaultInjector,
        clock: Clock,
        router: Router | None = None,
        max_request_bytes: int = MAX_REQUEST_BYTES,
        max_request_params: int = MAX_REQUEST_PARAMS,
        kept_failures: int = KEPT_FAILURES,
        spot_tokens: SpotTokenService | None = None,
    ) -> None:
        self.exchange = exchange
        self.authenticator = authenticator
        self.meter = meter
        self.faults = faults
        self.clock = clock
        self.router = router or Router()
        #: Most bytes of query string plus body a request may carry (413 beyond).
        self.max_request_bytes = max_request_bytes
        #: Most parameters (query and body) a request may carry (413 beyond).
        self.max_request_params = max_request_params
        #: Unexpected exceptions from the engine, answered as HTTP 500 ``Server Error``: the
        #: latest ``kept_failures``, without their tracebacks (whose frames held the request).
        self.internal_errors: list[BaseException] = []
        self._kept_failures = kept_failures
        #: Requests handed to the engine.
        self.handled = 0
        self._stamp: tuple[int, str] = (-1, "")
        #: The Unified WebSocket face (``/v2/public``): every ``websocket`` scope goes to it.
        self.uws = UwsServer(exchange, clock=clock)
        #: Spot REST's ``GetWebSocketsToken`` (the private socket's tokens) and its Kraken keys.
        self.spot_tokens = spot_tokens if spot_tokens is not None else SpotTokenService(clock=clock)
        self.uws.tokens = self.spot_tokens  # ``/v2/private`` redeems the tokens issued here
        #: Started when a server starts serving the app, closed when it stops (a mirror's
        #: source socket): they run on the serving loop.
        self.services: list[BackgroundService] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            if scope.get("path") == RETIRED_WS_PATH:
                await _refuse_retired_socket(scope, receive, send)
            else:
                await self.uws(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                for service in self.services:
                    await service.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for service in self.services:
                    await service.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.max_request_bytes
        query: bytes = scope.get("query_string", b"")
        try:
            body = await read_body(receive, scope["headers"], limit - len(query), limit)
            check_fields(query, body, self.max_request_params)
        except RequestTooLargeError as error:
            await _send(send, _too_large(error, self._now()))
            return
        if scope["path"] == SPOT_TOKEN_PATH:  # Spot REST's token endpoint, not a Futures route
            await _send(send, self._spot_token(scope["method"], scope["headers"], body))
            return
        found = self.router.match(scope["method"], scope["path"])
        if isinstance(found, int):
            await _send(send, _routing_error(found, self._now()))
            return
        endpoint, path_params = found
        operation = endpoint.name
        plan = self.faults.before(operation)
        if plan.delay:
            await asyncio.sleep(plan.delay)
        if plan.fault is not None:
            await self._fault_before(plan.fault, send)
            return
        reply = self.handle(endpoint, scope, path_params, body)
        plan = self.faults.after(operation)
        if plan.delay:
            await asyncio.sleep(plan.delay)
        if plan.fault is not None:
            if plan.fault.kind is FaultKind.DROP_AFTER:
                await _drop(send, reply.body, after_processing=True)
            reply = Reply(reply.status, truncate(reply.body), reply.content_type, reply.headers)
        await _send(send, reply)

    def handle(
        self, endpoint: Endpoint, scope: Scope, path_params: dict[str, str], body: bytes
    ) -> Reply:
        """Everything between the wire and the engine, synchronously: one request's answer."""
        query: bytes = scope.get("query_string", b"")
        try:
            api_key = authent = nonce = None
            form = True
            for name, value in scope["headers"]:
                name = name.lower()
                if name == b"apikey":
                    api_key = value
                elif name == b"authent":
                    authent = value
                elif name == b"nonce":
                    nonce = value
                elif name == b"content-type":
                    form = b"json" not in value.lower()
            pairs = parse_pairs(query)
            if body:
                pairs.extend(parse_pairs(body) if form else json_pairs(body))
            key = None
            if endpoint.private:
                if endpoint.method == "POST":  # Kraken validates arguments before the key
                    check_required(endpoint.name, pairs)
                key = self.authenticator.authenticate(
                    endpoint,
                    api_key=api_key,
                    authent_header=authent,
                    nonce=nonce,
                    path=scope["path"],
                    query=query,
                    body=body,
                )
            if key is not None:
                self.meter.charge(key.public_key, endpoint, pairs)
            params = group(pairs, path_params)
            self.handled += 1
            if endpoint.name == _KEY_CHECK and key is not None:
                payload = key_check(key, self.clock.time())  # keys live here, not in the engine
            else:
                payload = self.exchange.handle(
                    endpoint.name, params, None if key is None else key.account_uid
                )
        except ExchangeError as error:
            if endpoint.name == _KEY_CHECK and error.code == "authenticationError":
                error = HttpRefusalError(error.code, http_status=401, body=key_refusal())
            return render_error(error, self._now(), endpoint.name)
        except Exception as exc:  # an engine bug must not take the server down
            logger.exception("the exchange engine failed on %s", endpoint.name)
            self._remember_failure(exc)
            return _classic(500, "Server Error", self._now())
        return self._success(endpoint, payload)

    def _spot_token(self, method: str, headers: Headers, body: bytes) -> Reply:
        if method != "POST":
            return Reply(METHOD_NOT_ALLOWED, dumps({"error": ["EGeneral:Unknown method"]}))
        status, answer = self.spot_tokens.answer(headers, body)
        return Reply(status, answer)

    def _remember_failure(self, exc: BaseException) -> None:
        """Keep the exception for tests and tools, not the request its frames still hold."""
        exc.__traceback__ = None
        exc.__context__ = exc.__cause__ = None
        failures = self.internal_errors
        failures.append(exc)
        if len(failures) > self._kept_failures:
            del failures[: len(failures) - self._kept_failures]

    def _success(self, endpoint: Endpoint, payload: Any) -> Reply:
        if payload is None:  # nothing to report yet (the stats service's 204)
            return Reply(204, b"")
        if isinstance(payload, str):  # a text answer (the account log as CSV)
            return Reply(200, payload.encode(), _CSV if endpoint.raw_text else _TEXT)
        headers = _header_fields(endpoint, payload)
        if not endpoint.envelope:
            return Reply(200, dumps(payload), headers=headers)
        body = dumps({"result": "success", **payload, "serverTime": self._now()})
        return Reply(200, body, headers=headers)

    async def _fault_before(self, fault: FaultRule, send: Send) -> None:
        kind = fault.kind
        if kind is FaultKind.DROP_BEFORE:
            await _drop(send, b"", after_processing=False)
        if kind is FaultKind.SERVER_ERROR:
            status = fault.status or 502
            if fault.html:
                reply = Reply(status, server_error_page(status), _HTML)
            else:
                code = "Unavailable" if status == 503 else "Server Error"
                reply = _classic(status, code, self._now())
        elif kind is FaultKind.MAINTENANCE:
            reply = Reply(fault.status or 503, maintenance_page(), _HTML)
        else:  # RATE_LIMITED: a storm of refusals the client did not earn
            reply = _classic(200, "apiLimitExceeded", self._now())
        await _send(send, reply)

    def refusal_body(self, status: int) -> bytes:
        """The structured JSON refusal for ``status`` (the served twin's 400 for non-HTTP)."""
        return _routing_error(status, self._now()).body

    def _now(self) -> str:
        now = self.clock.time()
        millis = int(now * 1000)
        if millis != self._stamp[0]:  # one strftime per millisecond, not per response
            self._stamp = (millis, server_time(now))
        return self._stamp[1]


#: Kraken Futures' WebSocket v1, which Kraken retires with its REST API.
RETIRED_WS_PATH = "/ws/v1"
RETIRED_WS_TEXT = (
    f"no websocket at {RETIRED_WS_PATH}: Kraken retires the Futures WebSocket v1 together with "
    f"the Futures REST API on {REST_SWITCH_OFF.isoformat()}; use the Unified WebSocket at "
    f"/v2/public (public) and /v2/private (private)"
)


async def _refuse_retired_socket(scope: Scope, receive: Receive, send: Send) -> None:
    """A clean HTTP 404 for ``/ws/v1`` that says why, where the server can send one.

    Other servers only get a refusal of the handshake (close code 1008, seen as 403).
    """
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    if "websocket.http.response" in (scope.get("extensions") or {}):
        body = RETIRED_WS_TEXT.encode()
        start = {
            "type": "websocket.http.response.start",
            "status": NOT_FOUND,
            "headers": [(b"content-type", _TEXT), (b"content-length", str(len(body)).encode())],
        }
        await send(start)
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1008, "reason": RETIRED_WS_TEXT[:120]})


async def _send(send: Send, reply: Reply) -> None:
    await send(reply.head())
    await send({"type": "http.response.body", "body": reply.body})


async def _drop(send: Send, body: bytes, *, after_processing: bool) -> None:
    """Promise a body, then abort: a real server closes the socket mid-response."""
    length = str(max(len(body), 1) + 1).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", _JSON), (b"content-length", length)],
        }
    )
    raise ConnectionDroppedError(after_processing=after_processing)
