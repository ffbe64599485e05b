"""Kraken's error answers become the right exception (reference §5.1, §5.2).

Every case goes through a real Session over ``httpx.MockTransport``, so the envelope reader,
the code table and the pipeline are tested together.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

import kraken_futures_async as kfa
from kraken_futures_async import (
    AccountInactiveError,
    APIError,
    AuthenticationError,
    Credentials,
    InsufficientFundsError,
    InvalidRequestError,
    KrakenFuturesError,
    NonceError,
    NotFoundError,
    RateLimitError,
    RateLimitPolicy,
    ResponseInvalidError,
    Session,
    UnavailableError,
    UnknownAPIError,
)
from kraken_futures_async import errors as errors_module
from kraken_futures_async.rest.endpoints import endpoint
from kraken_futures_async.retry import RetryPolicy
from tests.conftest import BASE_URL, TEST_SECRET
from tests.rest_access import rest

SERVER_TIME = "2024-01-01T00:00:00.000Z"

Handler = Callable[[httpx.Request], httpx.Response]
Call = Callable[[Session], Awaitable[Any]]


def make_session(handler: Handler, credentials: Credentials | None = None) -> Session:
    return Session(
        credentials,
        base_url=BASE_URL,
        rate_limits=RateLimitPolicy.unlimited(),
        retry=RetryPolicy.never(),
        transport=httpx.MockTransport(handler),
    )


def answer(http: int, body: dict[str, Any]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(http, json=body)

    return handler


def text_answer(status: int, text: str, headers: dict[str, str] | None = None) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, text=text, headers=headers)

    return handler


def structured(reason: str, code: int | None, message: str) -> dict[str, Any]:
    """Reference §5.1: the newer ``errors[{code,message}]`` envelope with ``status``."""
    return {
        "status": reason,
        "result": "error",
        "errors": [{"code": code, "message": message}],
        "serverTime": SERVER_TIME,
    }


def classic(code: str) -> Handler:
    """Reference §5.1: ``{"result":"error","error":"<code>"}`` with HTTP 200."""
    return answer(200, {"result": "error", "error": code, "serverTime": SERVER_TIME})


async def call_accounts(kf: Session) -> Any:
    return await kf.account.accounts()


async def call_send_order(kf: Session) -> Any:
    """The bare request path: ``orders.send`` would go on to reconcile an unclear answer."""
    params = [("orderType", "lmt"), ("symbol", "PF_XBTUSD"), ("side", "buy"), ("size", "1")]
    return await rest(kf).call(endpoint("send_order"), [*params, ("limitPrice", "1000")])


async def call_tickers(kf: Session) -> Any:
    return await kf.market.tickers()


async def failure(handler: Handler, call: Call, credentials: Credentials) -> KrakenFuturesError:
    async with make_session(handler, credentials) as kf:
        with pytest.raises(KrakenFuturesError) as info:
            await call(kf)
    return info.value


# (code, class, retry_safe on a GET, retry_safe on sendorder)
CLASSIC_CODES: list[tuple[str, type[APIError], bool, bool]] = [
    ("accountInactive", AccountInactiveError, False, False),
    ("apiLimitExceeded", RateLimitError, True, True),
    ("authenticationError", AuthenticationError, False, False),
    ("insufficientFunds", InsufficientFundsError, False, False),
    ("invalidAccount", InvalidRequestError, False, False),
    ("invalidAmount", InvalidRequestError, False, False),
    ("invalidArgument", InvalidRequestError, False, False),
    ("invalidUnit", InvalidRequestError, False, False),
    ("Json Parse Error", InvalidRequestError, False, False),
    ("marketUnavailable", UnavailableError, True, False),
    ("nonceBelowThreshold", NonceError, True, True),
    ("nonceDuplicate", NonceError, True, True),
    ("notFound", NotFoundError, False, False),
    ("requiredArgumentMissing", InvalidRequestError, False, False),
    ("Server Error", UnavailableError, True, False),
    ("Unavailable", UnavailableError, True, False),
    ("unknownError", UnavailableError, True, False),
    ("contractNotFound", NotFoundError, False, False),
    ("Bad Request", InvalidRequestError, False, False),
    ("invalidArgument: limitPrice", InvalidRequestError, False, False),
    ("insufficientAvailableFunds", InsufficientFundsError, False, False),
    ("invalidSize", InvalidRequestError, False, False),
]


@pytest.mark.parametrize(("code", "cls", "safe_on_get", "safe_on_send"), CLASSIC_CODES)
@pytest.mark.parametrize("operation", ["accounts", "send_order"])
async def test_classic_error_code_maps_to_its_class(
    credentials: Credentials,
    code: str,
    cls: type[APIError],
    safe_on_get: bool,
    safe_on_send: bool,
    operation: str,
) -> None:
    call = call_accounts if operation == "accounts" else call_send_order
    exc = await failure(classic(code), call, credentials)
    assert type(exc) is cls
    assert isinstance(exc, APIError)
    assert exc.code == code  # verbatim, prefix and field included
    assert exc.endpoint == operation
    assert operation in str(exc)
    assert code in str(exc)
    assert exc.http_status == 200
    assert exc.retry_safe is (safe_on_get if operation == "accounts" else safe_on_send)


async def test_unknown_classic_code_is_kept_verbatim(credentials: Credentials) -> None:
    exc = await failure(classic("someBrandNewCode"), call_accounts, credentials)
    assert type(exc) is UnknownAPIError
    assert exc.code == "someBrandNewCode"
    assert exc.endpoint == "accounts"
    assert exc.retry_safe is False


async def test_error_string_wins_over_errors_array(credentials: Credentials) -> None:
    handler = answer(
        200,
        {
            "result": "error",
            "error": "apiLimitExceeded",
            "errors": ["invalidArgument"],
            "serverTime": SERVER_TIME,
        },
    )
    exc = await failure(handler, call_accounts, credentials)
    assert type(exc) is RateLimitError
    assert exc.code == "apiLimitExceeded"


async def test_errors_string_array_form(credentials: Credentials) -> None:
    handler = answer(
        200, {"result": "error", "errors": ["nonceDuplicate"], "serverTime": SERVER_TIME}
    )
    exc = await failure(handler, call_send_order, credentials)
    assert type(exc) is NonceError
    assert exc.code == "nonceDuplicate"
    assert exc.retry_safe is True


# (HTTP status, reason, code, message, class, retry_safe on a GET)
STRUCTURED: list[tuple[int, str, int, str, type[APIError], bool]] = [
    (400, "BAD_REQUEST", 11, "Argument invalid: symbol", InvalidRequestError, False),
    (404, "NOT_FOUND", 0, "404 NOT_FOUND", NotFoundError, False),
    (500, "INTERNAL_SERVER_ERROR", 92, "INSUFFICIENT_MARGIN", InsufficientFundsError, False),
    (429, "TOO_MANY_REQUESTS", 10, "rate limited", RateLimitError, True),
    (401, "UNAUTHORIZED", 18, "missing or invalid authentication", AuthenticationError, False),
]


@pytest.mark.parametrize(("http", "reason", "code", "message", "cls", "safe"), STRUCTURED)
async def test_structured_errors(
    credentials: Credentials,
    http: int,
    reason: str,
    code: int,
    message: str,
    cls: type[APIError],
    safe: bool,
) -> None:
    handler = answer(http, structured(reason, code, message))
    exc = await failure(handler, call_accounts, credentials)
    assert type(exc) is cls
    assert isinstance(exc, APIError)
    assert exc.code == code
    assert exc.http_status == http
    assert exc.endpoint == "accounts"
    assert message in str(exc)
    assert exc.retry_safe is safe


async def test_structured_404_on_unknown_path_of_a_public_call() -> None:
    handler = answer(404, structured("NOT_FOUND", 0, "404 NOT_FOUND"))
    async with make_session(handler) as kf:
        with pytest.raises(NotFoundError) as info:
            await kf.market.tickers()
    assert info.value.code == 0
    assert info.value.endpoint == "tickers"


async def test_structured_code_null_falls_back_to_http_status(credentials: Credentials) -> None:
    handler = answer(400, structured("BAD_REQUEST", None, "BAD_REQUEST: UUID string too large"))
    exc = await failure(handler, call_accounts, credentials)
    assert type(exc) is InvalidRequestError
    assert "UUID string too large" in str(exc)


@pytest.mark.parametrize(
    ("call", "endpoint", "safe"),
    [(call_tickers, "tickers", True), (call_send_order, "send_order", False)],
)
async def test_html_maintenance_page_503(
    credentials: Credentials, call: Call, endpoint: str, safe: bool
) -> None:
    page = (
        "<html><head><title>503 Service Unavailable</title></head><body>maintenance</body></html>"
    )
    exc = await failure(text_answer(503, page, {"content-type": "text/html"}), call, credentials)
    assert type(exc) is UnavailableError
    assert exc.http_status == 503
    assert exc.endpoint == endpoint
    assert exc.retry_safe is safe
    assert "503" in str(exc)


async def test_html_page_with_http_200_is_unavailable(credentials: Credentials) -> None:
    page = "<!DOCTYPE html>\n<html><body><h1>We'll be back soon</h1></body></html>"
    exc = await failure(
        text_answer(200, page, {"content-type": "text/html"}), call_tickers, credentials
    )
    assert type(exc) is UnavailableError
    assert exc.endpoint == "tickers"
    assert exc.retry_safe is True


async def test_text_429_reads_rate_limit_reset(credentials: Credentials) -> None:
    handler = text_answer(
        429, "Too many requests", {"content-type": "text/plain", "rate-limit-reset": "7"}
    )
    exc = await failure(handler, call_accounts, credentials)
    assert type(exc) is RateLimitError
    assert exc.retry_after == 7.0
    assert exc.retry_safe is True
    assert exc.http_status == 429


async def test_429_with_retry_after_header(credentials: Credentials) -> None:
    handler = text_answer(429, "slow down", {"retry-after": "2.5"})
    exc = await failure(handler, call_accounts, credentials)
    assert isinstance(exc, RateLimitError)
    assert exc.retry_after == 2.5


async def test_classic_rate_limit_without_header_has_no_retry_after(
    credentials: Credentials,
) -> None:
    exc = await failure(classic("apiLimitExceeded"), call_accounts, credentials)
    assert isinstance(exc, RateLimitError)
    assert exc.retry_after is None


async def test_charts_plain_text_invalid_resolution() -> None:
    handler = text_answer(400, "Invalid resolution", {"content-type": "text/plain"})
    async with make_session(handler) as kf:
        with pytest.raises(InvalidRequestError) as info:
            await kf.market.candles("PF_XBTUSD", "1m")
    assert info.value.endpoint == "candles"
    assert info.value.http_status == 400
    assert "Invalid resolution" in str(info.value)


async def test_empty_body_with_200_is_an_invalid_response() -> None:
    async with make_session(text_answer(200, "")) as kf:
        with pytest.raises(ResponseInvalidError) as info:
            await kf.market.tickers()
    assert info.value.endpoint == "tickers"
    assert "empty" in str(info.value)


async def test_empty_body_with_502_is_unavailable() -> None:
    async with make_session(text_answer(502, "")) as kf:
        with pytest.raises(UnavailableError) as info:
            await kf.market.tickers()
    assert info.value.http_status == 502
    assert info.value.retry_safe is True


async def test_json_without_error_but_http_error_status(credentials: Credentials) -> None:
    exc = await failure(answer(503, {"result": "success"}), call_send_order, credentials)
    assert type(exc) is UnavailableError
    assert exc.retry_safe is False


@pytest.mark.parametrize(
    "body",
    [
        {"result": "error", "error": {"nested": "object"}},
        {"result": "error", "error": ["a", "list"]},
        {"result": "error", "errors": [{"code": ["x"], "message": "odd"}]},
        {"result": "error", "errors": {"code": 11}},
        {"result": "error", "errors": [None]},
        {"result": "error"},
    ],
)
async def test_malformed_error_envelopes_still_raise_api_errors(
    credentials: Credentials, body: dict[str, Any]
) -> None:
    exc = await failure(answer(200, body), call_accounts, credentials)
    assert isinstance(exc, APIError)
    assert exc.endpoint == "accounts"


def test_every_exception_derives_from_the_root() -> None:
    classes = [
        obj
        for obj in vars(errors_module).values()
        if inspect.isclass(obj) and issubclass(obj, BaseException)
    ]
    assert len(classes) >= 20
    for cls in classes:
        assert issubclass(cls, KrakenFuturesError), cls
    exported = {name for name in kfa.__all__ if name.endswith("Error")}
    assert exported == {cls.__name__ for cls in classes}


async def test_errors_never_show_the_secret_or_the_signature(credentials: Credentials) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(
            200, json={"result": "error", "error": "authenticationError", "serverTime": SERVER_TIME}
        )

    exc = await failure(handler, call_send_order, credentials)
    authent = sent[0].headers["Authent"]
    assert authent
    shown = " ".join([str(exc), repr(exc), json.dumps(exc.args), exc.message])
    for secret in (TEST_SECRET, authent, credentials.secret.hex()):
        assert secret not in shown
    # the secret's base64 also contains no fragment long enough to matter
    assert TEST_SECRET[:16] not in shown
    assert authent[:16] not in shown
