"""Every answer the twin gives in a test, held to Kraken's OpenAPI files (issue 3).

A :class:`ResponseChecker` sits between the twin's ASGI app and whoever calls it (the in-process
transport, uvicorn on loopback, a raw httpx client) and validates each JSON answer of a known
operation against that operation's response schema for the status it was sent with, through
``tests/openapi_spec.validate_response``. Answers the spec has no JSON schema for (CSV, 204,
plain-text refusals, HTML fault pages, a status the operation does not list) are left alone, and
so are bodies that are not JSON at all (a fault truncated them on purpose).

``conftest.py`` installs one checker around every ``TwinApp`` for the length of each test and
fails the test that caused a mismatch; :func:`checking` does the same for code outside pytest.
Where the twin departs from the schema on purpose, the departure is listed once, in
:data:`DEPARTURES`, with its reason; nothing else is tolerated. A test engine that answers
made-up payloads on purpose (to test the HTTP layer alone) says so with a class attribute
``TWIN_SCHEMA_EXEMPT = "why"`` and is not checked.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kraken_futures_async.rest.endpoints import endpoint
from kraken_futures_async.simulator.rest.app import Router, TwinApp

from .openapi_spec import SchemaMismatchError, validate_response

__all__ = ["DEPARTURES", "Departure", "ResponseChecker", "check_engine_payload", "checking"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True)
class Departure:
    """Values the twin sends at ``path`` that the schema does not allow there, and why.

    ``path`` is dotted, ``*`` standing for every element of a list or value of an object;
    ``stands_for`` is a value the schema accepts there, put in place of the departing one
    before validating again.
    """

    operation_id: str
    path: str
    values: frozenset[str | None]
    stands_for: Any
    reason: str


_EDIT_ONLY_IN_SEND_ENUM = frozenset(
    {
        "wouldProcessAfterSpecifiedTime",
        "cannotEditTriggerPriceOfTrailingStop",
        "cannotEditLimitPriceOfTrailingStop",
    }
)

#: The twin's deliberate departures from Kraken's response schemas: ONE list, each with its
#: reason. Everything else the twin answers must validate as it is.
DEPARTURES: tuple[Departure, ...] = (
    Departure(
        "sendBatchOrder",
        "batchStatus.*.status",
        frozenset(
            {
                "notFound",
                "filled",
                "requiredArgumentMissing",
                "invalidArgument",
                "maxPositionViolation",
                "wouldNotReducePosition",
                "orderForEditNotFound",
                "orderForEditNotAStop",
                "tooManyOrders",
                *_EDIT_ONLY_IN_SEND_ENUM,
            }
        ),
        "placed",
        "an item carries its own instruction's send/edit/cancel status (Kraken answers notFound"
        " and requiredArgumentMissing there too, reference 5.5); the batch enum lists a few only"
        " (tooManyOrders: the twin's cap on open orders, Retention.open_orders)",
    ),
    Departure(
        "editOrderSpring",
        "editStatus.status",
        _EDIT_ONLY_IN_SEND_ENUM,
        "edited",
        "edit refusals Kraken lists only in the shared sendStatus enum (reference 5.4)",
    ),
    Departure(
        "cancelOrder",
        "cancelStatus.status",
        frozenset({"wouldProcessAfterSpecifiedTime"}),
        "cancelled",
        "processBefore applies to cancels too; the status is in the sendStatus enum only",
    ),
    *(
        Departure(
            "getTriggerEvents",
            f"elements.*.event.*.*.triggerOptions.{name}",
            frozenset({None}),
            {**example, "unit": "Percent"},
            "the spec requires these objects on every trigger; one without them gets null",
        )
        for name, example in (
            ("trailingStopOptions", {"maxDeviation": "0"}),
            ("limitPriceOffset", {"priceOffset": "0"}),
        )
    ),
)


def _substitute(node: Any, keys: list[str], departure: Departure) -> Any:
    if not keys:
        if (node is None or isinstance(node, str)) and node in departure.values:
            return departure.stands_for
        return node
    key, rest = keys[0], keys[1:]
    if key == "*":
        if isinstance(node, list):
            return [_substitute(item, rest, departure) for item in node]
        if isinstance(node, dict):
            return {k: _substitute(v, rest, departure) for k, v in node.items()}
        return node
    if isinstance(node, dict) and key in node:
        return {**node, key: _substitute(node[key], rest, departure)}
    return node


def _without_departures(operation_id: str, body: Any) -> Any:
    for departure in DEPARTURES:
        if departure.operation_id == operation_id:
            body = _substitute(body, departure.path.split("."), departure)
    return body


def validate_with_departures(operation_id: str, status: int, document: Any) -> None:
    """``validate_response``, tolerating only what :data:`DEPARTURES` lists."""
    try:
        validate_response(operation_id, status, document)
    except SchemaMismatchError:
        validate_response(operation_id, status, _without_departures(operation_id, document))


def check_engine_payload(operation: str, payload: Any) -> None:
    """Validate what the engine returns (before the HTTP layer) as the 200 answer it becomes."""
    row = endpoint(operation)
    if row.raw_text or payload is None:
        return  # CSV text and 204 have no JSON schema
    body = payload
    if row.envelope:
        body = {"result": "success", **payload, "serverTime": "2026-11-24T00:00:00.000Z"}
    validate_with_departures(row.operation_id, 200, body)


def _content_type(start: Message) -> str:
    for name, value in start.get("headers", ()):
        if name.lower() == b"content-type":
            return str(value.decode("latin-1")).split(";", 1)[0].strip().lower()
    return ""


class ResponseChecker:
    """Validates the twin's answers and keeps every mismatch (thread-safe: uvicorn runs apart)."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        #: Answers validated against a schema (the tests of this module check it grows).
        self.checked = 0
        #: Successful (2xx) answers by operationId, JSON or not, and those validated by schema.
        self.answered: Counter[str] = Counter()
        self.validated: Counter[str] = Counter()
        self._lock = threading.Lock()

    def check(
        self, router: Router, method: str, path: str, status: int, body: bytes, *, json_body: bool
    ) -> None:
        """Validate one answer if it is JSON; other bodies are not the schema's business."""
        found = router.match(method, path)
        if isinstance(found, int):
            return  # a routing refusal, not an operation's answer
        endpoint, _ = found
        if status < 300:
            with self._lock:
                self.answered[endpoint.operation_id] += 1
        if not json_body:
            return
        try:
            document = json.loads(body, parse_float=Decimal)
        except ValueError:
            return
        try:
            validate_with_departures(endpoint.operation_id, status, document)
        except KeyError:
            return  # the spec gives no JSON schema for this status
        except SchemaMismatchError as mismatch:
            shown = body[:600].decode("utf-8", errors="replace")
            with self._lock:
                self.problems.append(f"{method} {path} -> {status}: {mismatch}\n  body: {shown}")
            return
        with self._lock:
            self.checked += 1
            self.validated[endpoint.operation_id] += 1

    def wrap(self, call: Callable[[TwinApp, Scope, Receive, Send], Awaitable[None]]) -> Any:
        """``TwinApp.__call__`` with every HTTP answer captured and checked on its way out."""
        checker = self

        async def checked_call(app: TwinApp, scope: Scope, receive: Receive, send: Send) -> None:
            if scope.get("type") != "http":
                await call(app, scope, receive, send)
                return
            status: list[int] = []
            chunks: list[bytes] = []
            json_answer: list[bool] = []

            async def capture(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status.append(int(message["status"]))
                    json_answer.append(_content_type(message) == "application/json")
                elif message["type"] == "http.response.body":
                    chunks.append(bytes(message.get("body", b"")))
                await send(message)

            await call(app, scope, receive, capture)
            if getattr(app.exchange, "TWIN_SCHEMA_EXEMPT", None):
                return  # a fake engine testing the HTTP layer with made-up answers
            if status:
                body = b"".join(chunks)
                path, method = scope["path"], scope["method"]
                checker.check(app.router, method, path, status[0], body, json_body=json_answer[0])

        return checked_call

    def report(self) -> str | None:
        """All mismatches as one message, or None; clears them."""
        with self._lock:
            problems, self.problems = self.problems, []
        if not problems:
            return None
        head = f"the twin answered {len(problems)} time(s) outside Kraken's OpenAPI schema:"
        return "\n".join([head, *problems[:10]])


@contextlib.contextmanager
def checking(checker: ResponseChecker | None = None) -> Iterator[ResponseChecker]:
    """Check every twin's answers while the block runs (what the pytest fixture does)."""
    checker = checker or ResponseChecker()
    original = TwinApp.__call__
    TwinApp.__call__ = checker.wrap(original)  # type: ignore[method-assign]
    try:
        yield checker
    finally:
        TwinApp.__call__ = original  # type: ignore[method-assign]
