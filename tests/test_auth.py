"""Signing: the reference's worked vectors, the signer httpx runs, and an independent verifier.

The verifier in ``tests/kraken_verifier.py`` recomputes every signature from the raw bytes a
request carries, without the library's code, so these tests fail if the library signs bytes
other than the ones it sends.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import itertools
import json
import traceback
from collections.abc import AsyncIterator, Callable, Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from kraken_futures_async import Credentials, Session
from kraken_futures_async import auth as auth_module
from kraken_futures_async.auth import API_KEY_ENV, API_SECRET_ENV, NonceSource
from kraken_futures_async.errors import AuthenticationError, ConfigurationError, NonceError
from kraken_futures_async.ratelimit import RateLimitPolicy
from kraken_futures_async.rest.endpoints import endpoint
from kraken_futures_async.rest.signing import KrakenFuturesAuth, endpoint_path, sign
from kraken_futures_async.retry import RetryPolicy
from tests.conftest import BASE_URL, TEST_KEY, TEST_SECRET
from tests.kraken_verifier import (
    KrakenVerifier,
    Verdict,
    authent_for,
    kraken_handler,
    signed_message,
    strip_derivatives,
)
from tests.rest_access import rest

NONCE = "1700000000000"
SDK_SECRET = "cHl0aG9uLWtyYWtlbi1zZGsgdW5pdC10ZXN0IHNlY3JldCB2YWx1ZQ=="
OTHER_SECRET = base64.b64encode(bytes(range(100, 164))).decode()

SENDORDER_3 = (
    "orderType=lmt&symbol=PF_XBTUSD&side=buy&size=0.0001&limitPrice=50000&cliOrdId=my%20order%201"
)
BATCH_JSON = (
    '{"batchOrder":[{"order":"send","order_tag":"1","orderType":"lmt","symbol":"PF_XBTUSD",'
    '"side":"buy","size":0.0001,"limitPrice":50000,"cliOrdId":"b1"},'
    '{"order":"cancel","order_id":"6e88d923-630d-40aa-af4f-64e5e2b3ad03"}]}'
)

# (name, secret, postData, nonce, URL path, Authent, SHA-256 hex of the message or None)
VECTORS: list[tuple[str, str, str, str, str, str, str | None]] = [
    (
        "1",
        TEST_SECRET,
        "",
        NONCE,
        "/derivatives/api/v3/openpositions",
        "nFe704PQXcHgRenj0qwj4VYK9VU1GJOj+6dJ8HOQWTImZVk19S3EKX/7GvI0kF/oH0uh4K+Ym2p55DiVo3x4HQ==",
        "b01fa74a411c6bc89bc0b45fa0fa612b06875d67d169f12e520cf49b68cb2eed",
    ),
    (
        "2-no-nonce",
        TEST_SECRET,
        "",
        "",
        "/derivatives/api/v3/openpositions",
        "XDWoQ0PvkYMCHm1iNacK9/nezAi38TO+nJpI1suUyVLFp+UkxxQkUjpXd8sKOZchTJTTM55YTdB0vm4fSDIXbQ==",
        "b0d796e72d468c479da531a7fe2993a51ceb32db3bab5db3ff476aa28529c5bc",
    ),
    (
        "3",
        TEST_SECRET,
        SENDORDER_3,
        NONCE,
        "/derivatives/api/v3/sendorder",
        "FJRWZ1fJvCWDpjMBferuOk0ZB+Wuf+/L/MKOfaO5J+eRdD9FE9CwmAU3YdJQ2Z7TVDBn2ZkYGMOhmmepHs2ghA==",
        "e38e0cdc68d387d980074b826cd5f4f0c4ae3bbdbf174fc1a6ddeb7468586026",
    ),
    (
        "3L-legacy-decoded",
        TEST_SECRET,
        SENDORDER_3.replace("%20", " "),
        NONCE,
        "/derivatives/api/v3/sendorder",
        "tuuzBT+ehrxc0TMtit5cHpuTA5I3tAGiaFJf+ClP+abvnUPl5vkFX0LHEXqCi6BmmBWAJNV+xRlsIYlvnKCVZg==",
        None,
    ),
    (
        "4",
        TEST_SECRET,
        "lastFillTime=2024-01-01T00%3A00%3A00.000Z",
        NONCE,
        "/derivatives/api/v3/fills",
        "8cXJEfdkIUEoKeOsBxfvtYsVV0JUSh3B8yydfjBcxi1WESiTj+VGj7/V8aCsmWzLIGEC5H2DJohG/On7JjLZ5g==",
        "91386740dd122c5ba4743e30a064bb538f2b75f78da79e42bbc3383d88ad586b",
    ),
    (
        "5-history",
        TEST_SECRET,
        "count=10&sort=asc",
        NONCE,
        "/api/history/v3/account-log",
        "LWPHR3c/PIH9zvvGe47M1YqtJmcj2QiCky9bF7YFbd5YGqTw0xAQvbbnZ0LTUjjsl7VJM27zPlO4Y4GLhn5KKg==",
        "b08150a93f420f96d0dc86bf9de0de3184f41eeda11939547e145b65054cc283",
    ),
    (
        "batch-urlencoded",
        TEST_SECRET,
        urlencode({"json": BATCH_JSON}),
        NONCE,
        "/derivatives/api/v3/batchorder",
        "abj8Lg7qGfm1bHwaDNIpPV3J/yNPlWitMFMw+8HN15ddzGJob3iU871B0h2MVilKNaYtBFTXHBXSqmJ58yCkoA==",
        None,
    ),
    (
        "batch-raw",
        TEST_SECRET,
        "json=" + BATCH_JSON,
        NONCE,
        "/derivatives/api/v3/batchorder",
        "n523XdpF6GyWW4znksRd59sbta9q+oLMt6dAs2qSLtsRmCmlmQJ5YCNNGSlSlw5iI38J43X3bf20fEPALM1NMg==",
        None,
    ),
    (
        "python-kraken-sdk",
        SDK_SECRET,
        "orderType=lmt&symbol=PI_XBTUSD",
        "1616492376594",
        "/derivatives/api/v3/sendorder",
        "Txi+gJVXe3EN1brXYQ46FuV6UVtEVSKhc6dYMhPb7a/HXZLGvO6m9UUg+KVKqhLxrbllOPI7qRkHYmPfJZZSGA==",
        None,
    ),
]
VECTOR_IDS = [v[0] for v in VECTORS]
AUTHENT = {v[0]: v[5] for v in VECTORS}
#: Vector #6: #1 signed over the path WITH ``/derivatives`` (Kraken refuses it).
WRONG_PREFIX_6 = (
    "6UHChBcBMFeinUYyu4gnO76RCwKeanOK2m3L2zZPXZGxR1UNXrxm9z+lKFCczayUG/gM/tpzwR6K+riFV4vZxg=="
)


def fixed_auth(credentials: Credentials, start: int = int(NONCE)) -> KrakenFuturesAuth:
    """A signer whose first nonce is ``start`` (frozen clock; later nonces count up by one)."""
    return KrakenFuturesAuth(credentials, NonceSource(clock=lambda: start))


def run_flow(auth: httpx.Auth, request: httpx.Request) -> httpx.Request:
    """Drive an httpx auth flow by hand: the first yielded request is the one that is sent."""
    flow = auth.auth_flow(request)
    signed = next(flow)
    with pytest.raises(StopIteration):
        flow.send(httpx.Response(200))
    return signed


def verifier(*, require_nonce: bool = True) -> KrakenVerifier:
    return KrakenVerifier({TEST_KEY: TEST_SECRET}, require_nonce=require_nonce)


# --- the reference's worked vectors ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "secret", "post_data", "nonce", "url_path", "authent", "digest"),
    VECTORS,
    ids=VECTOR_IDS,
)
def test_library_sign_matches_reference_vector(
    name: str,
    secret: str,
    post_data: str,
    nonce: str,
    url_path: str,
    authent: str,
    digest: str | None,
) -> None:
    key = base64.b64decode(secret)
    assert sign(key, post_data, nonce, endpoint_path(url_path)) == authent
    if digest is not None:
        message = (post_data + nonce + endpoint_path(url_path)).encode()
        assert hashlib.sha256(message).hexdigest() == digest


@pytest.mark.parametrize(
    ("name", "secret", "post_data", "nonce", "url_path", "authent", "digest"),
    VECTORS,
    ids=VECTOR_IDS,
)
def test_verifier_math_matches_reference_vector(
    name: str,
    secret: str,
    post_data: str,
    nonce: str,
    url_path: str,
    authent: str,
    digest: str | None,
) -> None:
    path = strip_derivatives(url_path)
    assert authent_for(secret, post_data, nonce, path) == authent
    if digest is not None:
        assert signed_message(post_data, nonce, path).hex() == digest


def test_legacy_decoded_form_differs_from_encoded() -> None:
    assert AUTHENT["3L-legacy-decoded"] != AUTHENT["3"]


def test_batch_raw_and_urlencoded_bodies_sign_differently() -> None:
    assert AUTHENT["batch-raw"] != AUTHENT["batch-urlencoded"]
    assert urlencode({"json": BATCH_JSON}).startswith("json=%7B%22batchOrder%22%3A%5B")


def test_wrong_prefix_vector_is_not_the_right_one() -> None:
    key = base64.b64decode(TEST_SECRET)
    kept = sign(key, "", NONCE, "/derivatives/api/v3/openpositions")
    assert kept == WRONG_PREFIX_6
    assert kept != AUTHENT["1"]
    assert (
        sign(key, "", NONCE, endpoint_path("/derivatives/api/v3/openpositions")) != WRONG_PREFIX_6
    )


@pytest.mark.parametrize(
    ("url_path", "expected"),
    [
        ("/derivatives/api/v3/sendorder", "/api/v3/sendorder"),
        ("/derivatives/api/v3/tickers/PF_XBTUSD", "/api/v3/tickers/PF_XBTUSD"),
        ("/derivatives/api/v4/historicalfundingrates", "/api/v4/historicalfundingrates"),
        ("/api/history/v3/account-log", "/api/history/v3/account-log"),
        ("/api/charts/v1/trade/PF_XBTUSD/1h", "/api/charts/v1/trade/PF_XBTUSD/1h"),
        # Only a whole leading segment is removed, and only once.
        ("/derivativesx/api/v3/fills", "/derivativesx/api/v3/fills"),
        ("/derivatives/derivatives/api", "/derivatives/api"),
    ],
)
def test_endpoint_path_strips_only_a_leading_derivatives(url_path: str, expected: str) -> None:
    assert endpoint_path(url_path) == expected
    assert strip_derivatives(url_path) == expected.encode()


def test_websocket_challenge_vector_uses_the_same_hmac() -> None:
    secret = (
        "7zxMEF5p/Z8l2p2U7Ghv6x14Af+Fx+92tPgUdVQ748FOIrEoT9bgT+bTRfXc5pz8na+hL/QdrCVG7bh9KpT0eMTm"
    )
    expected = (
        "4JEpF3ix66GA2B+ooK128Ift4XQVtc137N9yeg4Kqsn9PI0Kpzbysl9M1IeCEdjg0zl00wkVqcsnG4bmnlMb3A=="
    )
    challenge = "c100b894-1729-464d-ace1-52dbce11db42"
    assert sign(base64.b64decode(secret), challenge, "", "") == expected


# --- the httpx signer, driven by hand ----------------------------------------------------


def test_auth_flow_signs_vector_1(credentials: Credentials) -> None:
    request = httpx.Request("GET", f"{BASE_URL}/derivatives/api/v3/openpositions")
    signed = run_flow(fixed_auth(credentials), request)
    assert signed.headers["APIKey"] == TEST_KEY
    assert signed.headers["Nonce"] == NONCE
    assert signed.headers["Authent"] == AUTHENT["1"]
    assert verifier().verify(signed) is Verdict.ACCEPTED


def test_auth_flow_signs_vector_3(credentials: Credentials) -> None:
    request = httpx.Request(
        "POST",
        f"{BASE_URL}/derivatives/api/v3/sendorder",
        content=SENDORDER_3.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    signed = run_flow(fixed_auth(credentials), request)
    assert signed.headers["APIKey"] == TEST_KEY
    assert signed.headers["Nonce"] == NONCE
    assert signed.headers["Authent"] == AUTHENT["3"]
    assert signed.content == SENDORDER_3.encode()
    assert verifier().verify(signed) is Verdict.ACCEPTED


def test_auth_flow_signs_vector_4_query(credentials: Credentials) -> None:
    url = f"{BASE_URL}/derivatives/api/v3/fills?lastFillTime=2024-01-01T00%3A00%3A00.000Z"
    signed = run_flow(fixed_auth(credentials), httpx.Request("GET", url))
    assert signed.headers["Authent"] == AUTHENT["4"]


def test_auth_flow_gives_every_request_a_fresh_nonce(credentials: Credentials) -> None:
    auth = fixed_auth(credentials)
    url = f"{BASE_URL}/derivatives/api/v3/openpositions"
    first = run_flow(auth, httpx.Request("GET", url))
    second = run_flow(auth, httpx.Request("GET", url))
    assert int(second.headers["Nonce"]) == int(first.headers["Nonce"]) + 1
    assert first.headers["Authent"] != second.headers["Authent"]
    check = verifier()
    assert [check.verify(first), check.verify(second)] == [Verdict.ACCEPTED] * 2


def test_auth_flow_signs_query_before_body(credentials: Credentials) -> None:
    """A request with both: Kraken hashes the raw query, then the raw body."""
    request = httpx.Request(
        "POST",
        f"{BASE_URL}/derivatives/api/v3/sendorder?symbol=PF_XBTUSD",
        content=b"side=buy&size=1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    signed = run_flow(fixed_auth(credentials), request)
    path = "/api/v3/sendorder"
    both = "symbol=PF_XBTUSD" + "side=buy&size=1"
    assert signed.headers["Authent"] == authent_for(TEST_SECRET, both, NONCE, path)
    swapped = "side=buy&size=1" + "symbol=PF_XBTUSD"
    assert signed.headers["Authent"] != authent_for(TEST_SECRET, swapped, NONCE, path)
    assert verifier().verify(signed) is Verdict.ACCEPTED


# --- own vectors: requests built by the library's encoder --------------------------------


@pytest.fixture
async def offline_session(credentials: Credentials) -> AsyncIterator[Session]:
    """An open Session whose transport must never be reached (for building requests)."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"unexpected request {request.url}")

    async with Session(
        credentials,
        base_url=BASE_URL,
        transport=httpx.MockTransport(refuse),
        rate_limits=RateLimitPolicy.unlimited(),
        check_orders=False,
    ) as kf:
        yield kf


def _independent_authent(request: httpx.Request) -> str:
    path, _, query = request.url.raw_path.partition(b"?")
    return authent_for(TEST_SECRET, query + request.content, NONCE, strip_derivatives(path))


OWN_VECTORS: list[tuple[str, list[tuple[str, str]], bytes, bytes]] = [
    # (endpoint name, wire params, expected raw query, expected raw body)
    (
        "fills",
        [("lastFillTime", "2026-11-24T00:00:00.000Z")],
        b"lastFillTime=2026-11-24T00%3A00%3A00.000Z",
        b"",
    ),
    (
        "send_order",
        [
            ("orderType", "lmt"),
            ("symbol", "PF_XBTUSD"),
            ("side", "buy"),
            ("size", "0.0001"),
            ("limitPrice", "50000"),
            ("cliOrdId", "my order/1"),
        ],
        b"",
        b"orderType=lmt&symbol=PF_XBTUSD&side=buy&size=0.0001&limitPrice=50000"
        b"&cliOrdId=my+order%2F1",
    ),
    (
        "batch_order",
        [("json", BATCH_JSON)],
        b"",
        urlencode({"json": BATCH_JSON}).encode(),
    ),
]


@pytest.mark.parametrize(
    ("name", "params", "query", "body"), OWN_VECTORS, ids=[v[0] for v in OWN_VECTORS]
)
async def test_own_vectors_sign_the_encoded_wire_bytes(
    offline_session: Session,
    credentials: Credentials,
    name: str,
    params: list[tuple[str, str]],
    query: bytes,
    body: bytes,
) -> None:
    request = rest(offline_session).pipeline.build_request(endpoint(name), params, None)
    assert request.url.query == query
    assert request.content == body
    assert b":" not in request.url.query
    signed = run_flow(fixed_auth(credentials), request)
    assert signed.headers["Authent"] == _independent_authent(signed)
    assert verifier().verify(signed) is Verdict.ACCEPTED
    # The decoded (pre-2024) form would be a different signature.
    if query or b"%" in body:
        decoded = (query + body).replace(b"%3A", b":").replace(b"+", b" ")
        path = strip_derivatives(request.url.path)
        assert authent_for(TEST_SECRET, decoded, NONCE, path) != signed.headers["Authent"]


# --- end to end through a Session --------------------------------------------------------


def _fills_body(request: httpx.Request) -> dict[str, Any]:
    return {"fills": []}


def _send_body(request: httpx.Request) -> dict[str, Any]:
    cli = dict(httpx.QueryParams(request.content.decode()))["cliOrdId"]
    return {
        "sendStatus": {
            "order_id": "5b1d3c1e-7c0a-4f4e-9d59-2a6f0c3b9e11",
            "cliOrdId": cli,
            "status": "placed",
            "receivedTime": "2026-11-24T12:00:00.000Z",
            "orderEvents": [],
        }
    }


def _batch_body(request: httpx.Request) -> dict[str, Any]:
    return {
        "batchStatus": [
            {
                "status": "placed",
                "order_tag": "1",
                "order_id": "5b1d3c1e-7c0a-4f4e-9d59-2a6f0c3b9e11",
                "dateTimeReceived": "2026-11-24T12:00:00.000Z",
                "orderEvents": [],
            },
            {
                "status": "cancelled",
                "order_id": "6e88d923-630d-40aa-af4f-64e5e2b3ad03",
                "orderEvents": [],
            },
        ]
    }


def _route(request: httpx.Request) -> dict[str, Any]:
    name = request.url.path.rsplit("/", 1)[-1]
    answers: dict[str, Callable[[httpx.Request], dict[str, Any]]] = {
        "fills": _fills_body,
        "sendorder": _send_body,
        "batchorder": _batch_body,
        "openpositions": lambda _: {"openPositions": []},
    }
    return answers[name](request)


def session_on(
    check: KrakenVerifier, credentials: Credentials, retry: RetryPolicy | None = None
) -> Session:
    return Session(
        credentials,
        base_url=BASE_URL,
        transport=httpx.MockTransport(kraken_handler(check, _route)),
        rate_limits=RateLimitPolicy.unlimited(),
        retry=retry or RetryPolicy.never(),
        check_orders=False,
    )


async def test_session_signed_get_with_colon_in_query_is_accepted(
    credentials: Credentials,
) -> None:
    check = verifier()
    before = dt.datetime(2026, 11, 24, 8, 30, 15, 250000, tzinfo=dt.UTC)
    async with session_on(check, credentials) as kf:
        assert await kf.orders.fills(before=before) == []
    [seen] = check.checks
    assert seen.verdict is Verdict.ACCEPTED
    assert seen.method == "GET"
    assert seen.path == b"/derivatives/api/v3/fills"
    assert seen.query == b"lastFillTime=2026-11-24T08%3A30%3A15.250Z"
    assert b":" not in seen.query
    assert seen.nonce is not None
    assert seen.nonce.isdigit()


async def test_session_form_post_with_space_and_slash_is_accepted(
    credentials: Credentials,
) -> None:
    check = verifier()
    async with session_on(check, credentials) as kf:
        result = await kf.orders.send(
            symbol="PF_XBTUSD",
            side="buy",
            size=Decimal("0.0001"),
            limit_price=Decimal("50000"),
            cli_ord_id="my order/1",
        )
    assert result.cli_ord_id == "my order/1"
    [seen] = check.checks
    assert seen.verdict is Verdict.ACCEPTED
    assert seen.query == b""
    assert b"cliOrdId=my+order%2F1" in seen.body
    assert b" " not in seen.body
    assert b"/" not in seen.body


async def test_session_batch_json_form_field_is_accepted(credentials: Credentials) -> None:
    check = verifier()
    async with session_on(check, credentials) as kf:
        results = await rest(kf).call(endpoint("batch_order"), [("json", BATCH_JSON)])
    assert [item.status.value for item in results] == ["placed", "cancelled"]
    [seen] = check.checks
    assert seen.verdict is Verdict.ACCEPTED
    assert seen.path == b"/derivatives/api/v3/batchorder"
    assert seen.body == urlencode({"json": BATCH_JSON}).encode()
    assert seen.body.startswith(b"json=%7B%22batchOrder%22%3A%5B")


async def test_session_with_wrong_secret_gets_authentication_error() -> None:
    check = verifier()
    async with session_on(check, Credentials(TEST_KEY, OTHER_SECRET)) as kf:
        with pytest.raises(AuthenticationError) as info:
            await kf.account.open_positions()
    assert not isinstance(info.value, NonceError)
    assert [c.verdict for c in check.checks] == [Verdict.AUTHENTICATION_ERROR]


async def test_session_nonce_refusal_raises_nonce_error(credentials: Credentials) -> None:
    """A verifier that already saw a far-future nonce refuses the next one as too low."""
    check = verifier()
    check._take_nonce(TEST_KEY, 10**30)
    async with session_on(check, credentials) as kf:
        with pytest.raises(NonceError):
            await kf.orders.fills()
    assert [c.verdict for c in check.checks] == [Verdict.NONCE_BELOW_THRESHOLD]


async def test_nonce_refusal_is_retried_with_a_fresh_nonce(credentials: Credentials) -> None:
    """A refused nonce was not executed: the retry signs again with a new, higher nonce."""
    check = verifier()
    check._take_nonce(TEST_KEY, 10**30)
    policy = RetryPolicy(max_attempts=3, base_delay=0.0)
    async with session_on(check, credentials, retry=policy) as kf:
        with pytest.raises(NonceError):
            await kf.orders.fills()
    assert [c.verdict for c in check.checks] == [Verdict.NONCE_BELOW_THRESHOLD] * 3
    nonces = [int(c.nonce) for c in check.checks if c.nonce is not None]
    assert len(nonces) == 3
    assert nonces == sorted(set(nonces))


# --- the verifier refuses what Kraken refuses --------------------------------------------


def _signed_fills(credentials: Credentials, start: int = int(NONCE)) -> httpx.Request:
    url = f"{BASE_URL}/derivatives/api/v3/fills?lastFillTime=2026-11-24T00%3A00%3A00.000Z"
    return run_flow(fixed_auth(credentials, start), httpx.Request("GET", url))


def _copy(
    request: httpx.Request,
    *,
    url: str | None = None,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Request:
    merged = dict(request.headers.items())
    merged.pop("content-length", None)
    merged.update({name.lower(): value for name, value in (headers or {}).items()})
    return httpx.Request(
        request.method,
        url or str(request.url),
        content=request.content if content is None else content,
        headers=merged,
    )


def test_verifier_refuses_a_tampered_body(credentials: Credentials) -> None:
    request = httpx.Request(
        "POST",
        f"{BASE_URL}/derivatives/api/v3/sendorder",
        content=SENDORDER_3.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    signed = run_flow(fixed_auth(credentials), request)
    tampered = _copy(signed, content=SENDORDER_3.replace("size=0.0001", "size=1000").encode())
    check = verifier()
    assert check.verify(tampered) is Verdict.AUTHENTICATION_ERROR
    # The untouched request (same nonce, not consumed by the refusal) still passes.
    assert check.verify(signed) is Verdict.ACCEPTED


def test_verifier_refuses_a_tampered_query(credentials: Credentials) -> None:
    signed = _signed_fills(credentials)
    other = str(signed.url).replace("2026-11-24", "2026-11-23")
    assert verifier().verify(_copy(signed, url=other)) is Verdict.AUTHENTICATION_ERROR


def test_verifier_refuses_a_decoded_query(credentials: Credentials) -> None:
    """Signed bytes must equal sent bytes: re-encoding after signing breaks the signature."""
    signed = _signed_fills(credentials)
    decoded = str(signed.url).replace("%3A", ":")
    assert verifier().verify(_copy(signed, url=decoded)) is Verdict.AUTHENTICATION_ERROR


def test_verifier_refuses_the_wrong_secret() -> None:
    signed = _signed_fills(Credentials(TEST_KEY, OTHER_SECRET))
    assert verifier().verify(signed) is Verdict.AUTHENTICATION_ERROR


def test_verifier_refuses_an_unknown_key() -> None:
    signed = _signed_fills(Credentials("someone-else", TEST_SECRET))
    assert verifier().verify(signed) is Verdict.AUTHENTICATION_ERROR


def test_verifier_refuses_a_signature_over_the_derivatives_path() -> None:
    path = "/derivatives/api/v3/openpositions"
    request = httpx.Request(
        "GET",
        BASE_URL + path,
        headers={"APIKey": TEST_KEY, "Nonce": NONCE, "Authent": WRONG_PREFIX_6},
    )
    assert authent_for(TEST_SECRET, "", NONCE, path) == WRONG_PREFIX_6
    assert verifier().verify(request) is Verdict.AUTHENTICATION_ERROR
    right = _copy(request, headers={"Authent": AUTHENT["1"]})
    assert verifier().verify(right) is Verdict.ACCEPTED


def test_verifier_refuses_a_reused_nonce(credentials: Credentials) -> None:
    check = verifier()
    signed = _signed_fills(credentials)
    assert check.verify(signed) is Verdict.ACCEPTED
    assert check.verify(signed) is Verdict.NONCE_DUPLICATE


def test_verifier_refuses_a_lower_nonce(credentials: Credentials) -> None:
    check = verifier()
    assert check.verify(_signed_fills(credentials, int(NONCE))) is Verdict.ACCEPTED
    assert check.verify(_signed_fills(credentials, int(NONCE) - 1)) is (
        Verdict.NONCE_BELOW_THRESHOLD
    )
    assert check.verify(_signed_fills(credentials, int(NONCE) + 1)) is Verdict.ACCEPTED


def test_verifier_refuses_a_non_digit_nonce_and_missing_headers() -> None:
    path = "/derivatives/api/v3/openpositions"
    bad_nonce = "17e12"
    signature = authent_for(TEST_SECRET, "", bad_nonce, strip_derivatives(path))
    check = KrakenVerifier({TEST_KEY: TEST_SECRET})
    headers = {"APIKey": TEST_KEY, "Nonce": bad_nonce, "Authent": signature}
    request = httpx.Request("GET", BASE_URL + path, headers=headers)
    assert check.verify(request) is Verdict.AUTHENTICATION_ERROR
    bare = httpx.Request("GET", BASE_URL + path, headers={"APIKey": TEST_KEY})
    assert check.verify(bare) is Verdict.AUTHENTICATION_ERROR


def test_verifier_accepts_reference_requests_as_other_clients_send_them() -> None:
    """Kraken hashes what it receives: no Nonce header, raw batch JSON, lower-case names."""
    check = KrakenVerifier({TEST_KEY: TEST_SECRET})
    no_nonce = httpx.Request(
        "GET",
        BASE_URL + "/derivatives/api/v3/openpositions",
        headers={"APIKey": TEST_KEY, "Authent": AUTHENT["2-no-nonce"]},
    )
    assert check.verify(no_nonce) is Verdict.ACCEPTED
    assert verifier(require_nonce=True).verify(no_nonce) is Verdict.AUTHENTICATION_ERROR
    raw_batch = check.verify_raw(
        "POST",
        b"/derivatives/api/v3/batchorder",
        b"",
        ("json=" + BATCH_JSON).encode(),
        {"apikey": TEST_KEY, "nonce": NONCE, "authent": AUTHENT["batch-raw"]},
    )
    assert raw_batch is Verdict.ACCEPTED
    history = check.verify_raw(
        "GET",
        b"/api/history/v3/account-log",
        b"count=10&sort=asc",
        b"",
        {"APIKey": TEST_KEY, "Nonce": str(int(NONCE) + 1), "Authent": "x"},
    )
    assert history is Verdict.AUTHENTICATION_ERROR


async def test_handler_answers_like_kraken(credentials: Credentials) -> None:
    check = verifier()
    transport = httpx.MockTransport(kraken_handler(check, {"openPositions": []}))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        unsigned = await client.get("/derivatives/api/v3/openpositions")
        signed = await client.get("/derivatives/api/v3/openpositions", auth=fixed_auth(credentials))
    assert unsigned.status_code == 200
    assert unsigned.json()["result"] == "error"
    assert unsigned.json()["error"] == "authenticationError"
    assert "serverTime" in unsigned.json()
    assert signed.json()["result"] == "success"
    assert signed.json()["openPositions"] == []


# --- nonces ------------------------------------------------------------------------------


async def _sign_concurrently(auth: KrakenFuturesAuth, count: int) -> list[httpx.Request]:
    url = f"{BASE_URL}/derivatives/api/v3/openpositions"
    issued: list[httpx.Request] = []

    async def one() -> None:
        await asyncio.sleep(0)
        flow = auth.async_auth_flow(httpx.Request("GET", url))
        signed = await anext(flow)
        issued.append(signed)
        await asyncio.sleep(0)
        await flow.aclose()

    await asyncio.gather(*(one() for _ in range(count)))
    return issued


@pytest.mark.parametrize(
    "clock",
    [None, lambda: int(NONCE), lambda: 0],
    ids=["real-clock", "frozen-clock", "clock-at-zero"],
)
async def test_nonces_strictly_increase_under_5000_concurrent_signings(
    credentials: Credentials, clock: Callable[[], int] | None
) -> None:
    nonces = NonceSource() if clock is None else NonceSource(clock=clock)
    auth = KrakenFuturesAuth(credentials, nonces)
    issued = await _sign_concurrently(auth, 5000)
    values = [r.headers["Nonce"] for r in issued]
    assert all(v.isdigit() for v in values)
    numbers = [int(v) for v in values]
    assert all(a < b for a, b in itertools.pairwise(numbers))
    assert len(set(numbers)) == 5000
    check = verifier()
    assert all(check.verify(r) is Verdict.ACCEPTED for r in issued)


def test_nonce_source_survives_a_clock_that_goes_back() -> None:
    ticks: Iterator[int] = iter([500, 400, 400, 900, 100])
    source = NonceSource(clock=lambda: next(ticks))
    assert [source.next() for _ in range(5)] == ["500", "501", "502", "900", "901"]


async def test_two_sessions_on_one_key_share_one_nonce_sequence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both Sessions draw from the key's one source: seeded with a frozen clock, the nonces
    they send are exactly 1..200, with no duplicate and none missing."""
    key = "shared-key-two-sessions"
    monkeypatch.setitem(auth_module._nonce_sources, key, NonceSource(clock=lambda: 1))
    check = KrakenVerifier({key: TEST_SECRET}, require_nonce=True)
    first = session_on(check, Credentials(key, TEST_SECRET))
    second = session_on(check, Credentials(key, TEST_SECRET))
    async with first as a, second as b:
        calls = [(a if i % 2 else b).account.open_positions() for i in range(200)]
        results = await asyncio.gather(*calls)
    assert results == [[]] * 200
    assert [c.verdict for c in check.checks] == [Verdict.ACCEPTED] * 200
    assert sorted(int(c.nonce or "x") for c in check.checks) == list(range(1, 201))


def test_auths_for_one_key_share_a_nonce_source_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = "shared-key-two-signers"
    monkeypatch.setitem(auth_module._nonce_sources, key, NonceSource(clock=lambda: 1))
    one = KrakenFuturesAuth(Credentials(key, TEST_SECRET))
    two = KrakenFuturesAuth(Credentials(key, TEST_SECRET))
    url = f"{BASE_URL}/derivatives/api/v3/openpositions"
    check = KrakenVerifier({key: TEST_SECRET}, require_nonce=True)
    sent = [run_flow(auth, httpx.Request("GET", url)) for auth in [one, two, one, two, two, one]]
    assert [r.headers["Nonce"] for r in sent] == ["1", "2", "3", "4", "5", "6"]
    assert all(check.verify(r) is Verdict.ACCEPTED for r in sent)


# --- credentials -------------------------------------------------------------------------


@pytest.mark.parametrize("secret", ["not base64 at all: s3cr3t-value!", "QUJDRA", "QUJD*RA=="])
def test_bad_base64_secret_raises_without_echoing_it(secret: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        Credentials(TEST_KEY, secret)
    rendered = "".join(traceback.format_exception(info.value))
    assert secret not in str(info.value)
    assert secret not in repr(info.value)
    assert secret not in rendered
    assert "base64" in str(info.value)


def test_empty_secret_raises() -> None:
    with pytest.raises(ConfigurationError):
        Credentials(TEST_KEY, "")


@pytest.mark.parametrize("key", ["", " padded-key", "padded-key\n"])
def test_bad_api_key_raises(key: str) -> None:
    with pytest.raises(ConfigurationError):
        Credentials(key, TEST_SECRET)


def test_secret_is_decoded_once() -> None:
    assert Credentials(TEST_KEY, TEST_SECRET).secret == bytes(range(0x42))
    assert Credentials(TEST_KEY, f" {TEST_SECRET}\n").secret == bytes(range(0x42))


def test_from_env_reads_both_variables() -> None:
    creds = Credentials.from_env(environ={API_KEY_ENV: TEST_KEY, API_SECRET_ENV: TEST_SECRET})
    assert creds.api_key == TEST_KEY
    assert creds.secret == base64.b64decode(TEST_SECRET)


@pytest.mark.parametrize(
    ("environ", "missing", "present"),
    [
        ({}, [API_KEY_ENV, API_SECRET_ENV], []),
        ({API_KEY_ENV: TEST_KEY}, [API_SECRET_ENV], [API_KEY_ENV]),
        ({API_SECRET_ENV: TEST_SECRET}, [API_KEY_ENV], [API_SECRET_ENV]),
        ({API_KEY_ENV: TEST_KEY, API_SECRET_ENV: ""}, [API_SECRET_ENV], [API_KEY_ENV]),
    ],
)
def test_from_env_names_missing_variables(
    environ: dict[str, str], missing: list[str], present: list[str]
) -> None:
    with pytest.raises(ConfigurationError) as info:
        Credentials.from_env(environ=environ)
    message = str(info.value)
    assert all(name in message for name in missing)
    assert not any(name in message for name in present)
    assert TEST_SECRET not in message


def _leaks(text: str) -> bool:
    decoded = base64.b64decode(TEST_SECRET)
    return any(
        needle in text
        for needle in (
            TEST_SECRET,
            TEST_SECRET[:16],
            repr(decoded),
            repr(decoded)[:24],
            str(decoded),
        )
    )


async def test_reprs_never_show_the_secret(credentials: Credentials) -> None:
    auth = KrakenFuturesAuth(credentials)
    session = Session(credentials, base_url=BASE_URL, rate_limits=RateLimitPolicy.unlimited())
    shown = [repr(credentials), str(credentials), repr(auth), str(auth), repr(session)]
    async with session:
        shown += [repr(session), str(session)]
    shown.append(repr(session))
    for text in shown:
        assert not _leaks(text), text
    assert "<hidden>" in repr(credentials)


def test_leak_check_would_notice_a_leak() -> None:
    """Guard for the test above: the check must catch both the base64 and the raw bytes."""
    decoded = base64.b64decode(TEST_SECRET)
    assert _leaks(f"Credentials(secret={decoded!r})")
    assert _leaks(f"secret={TEST_SECRET}")
    assert not _leaks(repr(Credentials(TEST_KEY, TEST_SECRET)))


def test_batch_json_constant_is_real_json() -> None:
    parsed = json.loads(BATCH_JSON)
    assert [item["order"] for item in parsed["batchOrder"]] == ["send", "cancel"]
