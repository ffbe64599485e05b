"""Reading an answer: JSON or not, Kraken's two error envelopes, and order statuses.

``result: "success"`` with a rejected ``sendStatus`` is a rejection, not a success. A
redirect is an error whatever its body says: Kraken never redirects its API, so a 3xx comes
from a wrong base URL or something in front of the exchange, and following it would send a
signed request somewhere else.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Protocol

import httpx

from ..converter import decode_json
from ..errors import (
    APIError,
    InvalidRequestError,
    OrderRejectedError,
    RateLimitError,
    ResponseInvalidError,
    UnavailableError,
    error_class_for_code,
)
from .endpoints import Endpoint

__all__ = ["Answer", "check_order_status", "read_payload"]

_SNIPPET = 120
#: Characters of a redirect's Location shown in its error.
_LOCATION = 200
#: Bytes of a body a non-JSON answer's message is made from.
_HEAD = 4 * _SNIPPET
_VISIBLE = re.compile(rb"\S")
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#@]*@")


class Answer(Protocol):
    """What reading an answer needs: an ``httpx.Response``, or the hot path's lighter one."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> httpx.Headers: ...

    @property
    def content(self) -> bytes: ...

    @property
    def text(self) -> str: ...

    @property
    def encoding(self) -> str | None: ...


def _retry_after(response: Answer) -> float | None:
    for header in ("rate-limit-reset", "retry-after"):
        value = response.headers.get(header)
        if value is not None:
            try:
                return max(0.0, float(value))
            except ValueError:
                return None
    return None


def _code(value: Any) -> str | int | None:
    """Kraken's code when it is a string or a number; any other shape is no usable code."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return value


def _api_error(
    endpoint: Endpoint,
    response: Answer,
    code: str | int | None,
    message: str,
    body: Any,
    cls: type[APIError] | None = None,
) -> APIError:
    if cls is None:
        cls = error_class_for_code(code, response.status_code)
    kwargs: dict[str, Any] = {
        "code": code,
        "endpoint": endpoint.name,
        "http_status": response.status_code,
        "payload": body,
    }
    if cls is UnavailableError:
        kwargs["retry_safe"] = endpoint.idempotent
    if issubclass(cls, RateLimitError):
        return cls(message, retry_after=_retry_after(response), **kwargs)
    return cls(message, **kwargs)


def _non_json(endpoint: Endpoint, response: Answer) -> APIError | ResponseInvalidError:
    # The message needs the start of the body only: decoding and splitting megabytes of a
    # garbled answer for a 120-character snippet cost several copies of it.
    content = response.content
    start = _VISIBLE.search(content)
    head_bytes = b"" if start is None else content[start.start() : start.start() + _HEAD]
    head = head_bytes.decode(response.encoding or "utf-8", errors="replace")
    snippet = " ".join(head.split())[:_SNIPPET] or "(empty body)"
    status = response.status_code
    if status >= 400:
        text = response.text.strip()
        return _api_error(endpoint, response, None, f"HTTP {status}: {snippet}", text)
    if "<html" in head[:200].lower():
        text = response.text.strip()
        # a proxy or maintenance page served with a success status: the exchange is not there
        message = f"HTTP {status} with an HTML page: {snippet}"
        return _api_error(endpoint, response, None, message, text, UnavailableError)
    return ResponseInvalidError(f"expected JSON, got: {snippet}", endpoint=endpoint.name)


def _redirect(endpoint: Endpoint, response: Answer) -> InvalidRequestError:
    """A redirect as a refusal naming where it pointed (any user:password@ left out)."""
    location = response.headers.get("location")
    if location is None:
        where = "without a Location"
    else:
        shown = _USERINFO.sub(r"\1", location.strip())
        if len(shown) > _LOCATION:
            shown = shown[:_LOCATION] + "..."
        where = f"to {shown!r}"
    status = response.status_code
    return InvalidRequestError(
        f"HTTP {status} redirect {where}, not followed: Kraken never redirects its API, so "
        "check the base URL and any proxy in front of it",
        endpoint=endpoint.name,
        http_status=status,
    )


def _decode(endpoint: Endpoint, response: Answer) -> Any:
    try:
        return decode_json(response.content)
    except ValueError:
        pass  # raised below, once json's error (holding a decoded copy of the body) is gone
    except RecursionError:
        # json's C scanner recurses per level: 100,000 nested arrays exhaust the stack
        raise ResponseInvalidError(
            "the answer's JSON is nested too deeply to read", endpoint=endpoint.name
        ) from None
    raise _non_json(endpoint, response)


def _is_json(response: Answer) -> bool:
    return "json" in response.headers.get("content-type", "")


def read_payload(
    endpoint: Endpoint,
    response: Answer,
    on_server_time: Callable[[str], None] | None = None,
) -> Any:
    """The answer's payload (``result_key`` or the whole body), or the error it carries.

    ``on_server_time`` receives the envelope's ``serverTime``, errors included.
    """
    status = response.status_code
    if 300 <= status < 400:
        raise _redirect(endpoint, response)
    if status == 204:
        return None  # no content: the row's result type says whether that is an answer
    if endpoint.raw_text and status < 400 and not _is_json(response):
        return response.text
    body = _decode(endpoint, response)
    if isinstance(body, dict):
        server_time = body.get("serverTime")
        if on_server_time is not None and isinstance(server_time, str):
            on_server_time(server_time)
        error = body.get("error")
        errors = body.get("errors")
        if body.get("result") == "error" or error or (errors and endpoint.envelope):
            if error:
                raise _api_error(endpoint, response, _code(error), str(error), body)
            first = errors[0] if isinstance(errors, list) and errors else None
            if isinstance(first, dict):
                code = _code(first.get("code"))
                message = str(first.get("message") or body.get("status") or "error")
                raise _api_error(endpoint, response, code, message, body)
            if first is not None:
                raise _api_error(endpoint, response, _code(first), str(first), body)
            raise _api_error(endpoint, response, None, "the exchange reported an error", body)
    if response.status_code >= 400:
        raise _api_error(endpoint, response, None, f"HTTP {response.status_code}", body)
    if endpoint.result_key is None:
        if isinstance(body, dict) and endpoint.envelope:
            return {k: v for k, v in body.items() if k not in ("result", "serverTime")}
        return body
    if not isinstance(body, dict) or endpoint.result_key not in body:
        raise ResponseInvalidError(
            f"the answer has no {endpoint.result_key!r}", endpoint=endpoint.name, payload=body
        )
    return body[endpoint.result_key]


def check_order_status(endpoint: Endpoint, payload: Any, result: Any) -> None:
    """Raise :class:`OrderRejectedError` when an order request was assessed and refused."""
    check = endpoint.order_status
    if check is None or not isinstance(payload, dict):
        return
    status = payload.get("status")
    if not isinstance(status, str):
        # without a readable status the order's fate is not known: never report a success
        raise ResponseInvalidError(
            f"{check.key}.status is not a string: {status!r}",
            endpoint=endpoint.name,
            payload=payload,
        )
    if status in check.success:
        return
    order_id = payload.get("order_id") or payload.get("orderId")
    cli_ord_id = payload.get("cliOrdId")
    raise OrderRejectedError(
        f"order request {status!s}",
        status=str(status),
        result=result,
        order_id=order_id if isinstance(order_id, str) else None,
        cli_ord_id=cli_ord_id if isinstance(cli_ord_id, str) else None,
        endpoint=endpoint.name,
    )
