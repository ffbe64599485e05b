"""The Unified WebSocket's token, client side: the Spot ``API-Sign`` signer against the
reference's worked vectors (kraken-uws-api.md §3.4), both kinds of key in ``Credentials``, and
:class:`TokenProvider` against a fake Spot REST endpoint (httpx ``MockTransport``) whose
checks are written here from the reference's text, not with the library's signer.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import traceback
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from kraken_futures_async import Credentials, Session
from kraken_futures_async.auth import (
    API_KEY_ENV,
    API_SECRET_ENV,
    KRAKEN_API_KEY_ENV,
    KRAKEN_API_SECRET_ENV,
    KrakenKey,
    NonceSource,
    kraken_nonce_source_for,
    nonce_source_for,
)
from kraken_futures_async.config import (
    DEMO,
    PRODUCTION,
    Environment,
    resolve_spot_rest_url,
)
from kraken_futures_async.errors import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    ConnectionFailedError,
    KrakenFuturesError,
    MissingCredentialsError,
    NonceError,
    RateLimitError,
    RequestTimeoutError,
    ResponseInvalidError,
    UnavailableError,
    UnknownAPIError,
)
from kraken_futures_async.ratelimit import RateLimitPolicy
from kraken_futures_async.uws import TOKEN_PATH, TokenProvider, WebSocketToken, spot_sign
from kraken_futures_async.uws.token import MAX_ANSWER_BYTES, token_error, token_request_body
from tests.conftest import BASE_URL, TEST_KEY, TEST_SECRET

# --- §3.4, verbatim ------------------------------------------------------------------------

VECTOR_KEY = "kfa-test-public-key-0001"
VECTOR_SECRET = (
    "LcYeJ2UOXXvWEfe990gJTg5Q79Po69ojLGU866mwLoruPuk3YUMtLHO3lScYojOtQynZmkKLvQ4xWltLj+hjTg=="
)
VECTOR_NONCE = "1796083200000"
# (name, body, SHA-256(nonce + body) hex or None, API-Sign)
VECTORS: list[tuple[str, bytes, str | None, str]] = [
    (
        "form",
        b"nonce=1796083200000",
        "d823adc0792ba03cb2f6d563c125fa2a8b18cab4bc4908c5a4b15bf7a720f9c1",
        "zeeVs4POMmE8HY/JialERuWc5YHd8P61XiKvEBOqo1myj7NOvzufqBIlo1m1SAjUPgNAgiYXVyJq1aEgcbBNyg==",
    ),
    (
        "json",
        b'{"nonce":1796083200000}',
        "600b243b79feeae4a25803a5a2ca5808c2821390ecf21bb88c02703654a076df",
        "uovCGIH9yrQXRtHsIOJ+ZBEEl2qVqlj91x46zAzBpMwYueteNVRvYNATlh1FbUZ3e1VrQbkPNFpqPnrckRFUcQ==",
    ),
    (
        "form-otp",
        b"nonce=1796083200000&otp=123456",
        None,
        "7p87Vb5hayQ1jH3sz682/SKghVTeIEBcwPRWPou57gfdGXCS7Vqz4Exu0FXCyHQveg6eVeJKkBV+uLAXGQVVVQ==",
    ),
]
#: Kraken's own published AddOrder example (the reference's cross-check).
ADD_ORDER_SECRET = (
    "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
)
ADD_ORDER_BODY = b"nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
ADD_ORDER_SIGN = (
    "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
)
TOKEN = "tK9-made-up-token-for-docs-000000000000000"


def test_the_secret_is_what_the_reference_says_it_is() -> None:
    made = hashlib.sha512(b"kraken_futures_async test secret").digest()
    assert base64.b64encode(made).decode() == VECTOR_SECRET
    assert VECTOR_NONCE == "1796083200000"


@pytest.mark.parametrize(
    ("name", "body", "digest", "api_sign"), VECTORS, ids=[v[0] for v in VECTORS]
)
def test_spot_sign_matches_the_reference_vector(
    name: str, body: bytes, digest: str | None, api_sign: str
) -> None:
    secret = base64.b64decode(VECTOR_SECRET)
    assert spot_sign(secret, TOKEN_PATH, VECTOR_NONCE, body) == api_sign
    if digest is not None:
        assert hashlib.sha256(VECTOR_NONCE.encode() + body).hexdigest() == digest


@pytest.mark.parametrize(
    ("otp", "as_json", "expected"),
    [(None, False, VECTORS[0][1]), (None, True, VECTORS[1][1]), ("123456", False, VECTORS[2][1])],
    ids=["form", "json", "form-otp"],
)
def test_token_request_body_is_the_reference_body(
    otp: str | None, as_json: bool, expected: bytes
) -> None:
    assert token_request_body(VECTOR_NONCE, otp, as_json=as_json) == expected


def test_spot_sign_reproduces_krakens_add_order_example() -> None:
    secret = base64.b64decode(ADD_ORDER_SECRET)
    assert spot_sign(secret, "/0/private/AddOrder", "1616492376594", ADD_ORDER_BODY) == (
        ADD_ORDER_SIGN
    )


def test_the_path_and_the_nonce_are_signed() -> None:
    secret = base64.b64decode(VECTOR_SECRET)
    body = VECTORS[0][1]
    right = spot_sign(secret, TOKEN_PATH, VECTOR_NONCE, body)
    assert spot_sign(secret, "/0/private/Balance", VECTOR_NONCE, body) != right
    assert spot_sign(secret, TOKEN_PATH, "1796083200001", body) != right


def test_a_nonce_that_is_not_decimal_digits_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        token_request_body("17e12")


# --- an endpoint written from the reference's text ---------------------------------------


def independent_sign(secret_b64: str, path: str, nonce: str, body: bytes) -> str:
    """§3.3, step by step, without the library."""
    inner = hashlib.sha256(nonce.encode() + body).digest()
    message = path.encode() + inner
    return base64.b64encode(
        hmac.new(base64.b64decode(secret_b64), message, hashlib.sha512).digest()
    ).decode()


class FakeSpot:
    """Spot REST's token endpoint: checks key, signature and nonce, answers Spot-shaped."""

    def __init__(self, keys: dict[str, str] | None = None) -> None:
        self.keys = keys if keys is not None else {VECTOR_KEY: VECTOR_SECRET}
        self.highest: dict[str, int] = {}
        self.requests: list[httpx.Request] = []
        self.nonces: list[int] = []
        self.issued = 0
        #: When set, the answer to give instead of a token.
        self.reply: Callable[[httpx.Request], Awaitable[httpx.Response]] | None = None
        #: Seconds each next request waits before it is checked (then none).
        self.delays: list[float] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.delays:
            await asyncio.sleep(self.delays.pop(0))
        if self.reply is not None:
            return await self.reply(request)
        assert request.method == "POST"
        assert request.url.path == TOKEN_PATH
        key = request.headers.get("API-Key")
        if key not in self.keys:
            return spot_error("EAPI:Invalid key")
        body = request.content
        if "json" in request.headers.get("Content-Type", ""):
            nonce = str(json.loads(body)["nonce"])
        else:
            assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
            nonce = dict(parse_qsl(body.decode()))["nonce"]
        expected = independent_sign(self.keys[key], TOKEN_PATH, nonce, body)
        if request.headers.get("API-Sign") != expected:
            return spot_error("EAPI:Invalid signature")
        if int(nonce) <= self.highest.get(key, -1):
            return spot_error("EAPI:Invalid nonce")
        self.highest[key] = int(nonce)
        self.nonces.append(int(nonce))
        self.issued += 1
        token = f"{TOKEN[:-4]}{self.issued:04d}"
        return httpx.Response(200, json={"error": [], "result": {"token": token, "expires": 900}})


def spot_error(*codes: str) -> httpx.Response:
    return httpx.Response(200, json={"error": list(codes)})


def kraken_credentials(key: str = VECTOR_KEY, secret: str = VECTOR_SECRET) -> Credentials:
    return Credentials(kraken_api_key=key, kraken_api_secret=secret)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def provider(
    fake: FakeSpot,
    *,
    credentials: Credentials | KrakenKey | None = None,
    clock: Callable[[], float] | None = None,
    start: int = int(VECTOR_NONCE),
    **kwargs: Any,
) -> TokenProvider:
    kwargs.setdefault("nonces", NonceSource(clock=lambda: start))
    return TokenProvider(
        credentials or kraken_credentials(),
        url="https://api.kraken.test",
        transport=httpx.MockTransport(fake),
        clock=clock or FakeClock(),
        **kwargs,
    )


async def test_the_first_fetch_sends_the_reference_request() -> None:
    fake = FakeSpot()
    tokens = provider(fake)
    assert await tokens.token() == TOKEN[:-4] + "0001"
    (sent,) = fake.requests
    assert str(sent.url) == "https://api.kraken.test/0/private/GetWebSocketsToken"
    assert sent.content == VECTORS[0][1]
    assert sent.headers["API-Key"] == VECTOR_KEY
    assert sent.headers["API-Sign"] == VECTORS[0][3]
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert sent.headers["User-Agent"].startswith("kraken_futures_async/")


@pytest.mark.parametrize(
    ("options", "vector"),
    [
        ({"as_json": True}, VECTORS[1]),
        ({"otp": "123456"}, VECTORS[2]),
        ({"otp": lambda: "123456"}, VECTORS[2]),
    ],
    ids=["json", "otp", "otp-callable"],
)
async def test_json_and_otp_requests_are_the_reference_requests(
    options: dict[str, Any], vector: tuple[str, bytes, str | None, str]
) -> None:
    fake = FakeSpot()
    await provider(fake, **options).token()
    (sent,) = fake.requests
    assert sent.content == vector[1]
    assert sent.headers["API-Sign"] == vector[3]


async def test_a_token_is_reused_while_it_can_be_first_used_then_fetched_again() -> None:
    fake, clock = FakeSpot(), FakeClock()
    tokens = provider(fake, clock=clock)  # margin 60 s of the 900
    first = await tokens.token()
    clock.now += 839.9
    assert await tokens.token() == first
    assert fake.issued == 1
    clock.now += 0.1
    second = await tokens.token()
    assert second != first
    assert fake.issued == 2
    assert tokens.current is not None
    assert tokens.current.value == second


async def test_fresh_always_fetches_and_becomes_the_current_token() -> None:
    fake = FakeSpot()
    tokens = provider(fake)
    first = await tokens.token()
    again = await tokens.fresh()
    assert again != first
    assert await tokens.token() == again
    assert fake.issued == 2
    tokens.invalidate()
    assert await tokens.token() not in (first, again)


async def test_nonces_strictly_increase_and_concurrent_callers_share_one_fetch() -> None:
    fake = FakeSpot()
    tokens = provider(fake)  # frozen clock: the source counts up from the vector's nonce
    results = await asyncio.gather(*(tokens.token() for _ in range(20)))
    assert len(set(results)) == 1
    assert fake.issued == 1
    for _ in range(5):
        await tokens.fresh()
    assert fake.nonces == [int(VECTOR_NONCE) + i for i in range(6)]


async def test_two_providers_on_one_key_keep_the_nonces_in_order() -> None:
    """Both draw from the key's one sequence and fetches on a key are serialised, so the
    endpoint sees rising nonces even when the first request is the slower one."""
    fake = FakeSpot()
    fake.delays = [0.05, 0.0]
    shared = NonceSource(clock=lambda: int(VECTOR_NONCE))
    one, two = (provider(fake, nonces=shared) for _ in range(2))
    await asyncio.gather(one.fresh(), two.fresh())
    assert fake.issued == 2
    assert fake.nonces == [int(VECTOR_NONCE), int(VECTOR_NONCE) + 1]


def test_kraken_keys_have_their_own_nonce_sequences() -> None:
    assert kraken_nonce_source_for("same-key") is kraken_nonce_source_for("same-key")
    assert kraken_nonce_source_for("same-key") is not nonce_source_for("same-key")
    assert kraken_nonce_source_for("same-key").ticks_per_second == 1_000


async def test_a_cancelled_caller_does_not_cancel_the_fetch_others_wait_for() -> None:
    fake = FakeSpot()
    gate = asyncio.Event()

    async def held(request: httpx.Request) -> httpx.Response:
        await gate.wait()
        fake.reply = None
        return await fake(request)

    fake.reply = held
    tokens = provider(fake)
    first = asyncio.ensure_future(tokens.token())
    second = asyncio.ensure_future(tokens.token())
    await asyncio.sleep(0.01)
    first.cancel()
    gate.set()
    assert await second == TOKEN[:-4] + "0001"
    assert first.cancelled()
    assert fake.issued == 1


# --- errors --------------------------------------------------------------------------------

ERRORS: list[tuple[str, type[APIError], bool]] = [
    ("EAPI:Invalid key", AuthenticationError, False),
    ("EAPI:Invalid signature", AuthenticationError, False),
    ("EGeneral:Permission denied", AuthenticationError, False),
    ("EAPI:Invalid nonce", NonceError, True),
    ("EAPI:Rate limit exceeded", RateLimitError, True),
    ("EService:Throttled: 1796083260", RateLimitError, True),
    ("EGeneral:Temporary lockout", RateLimitError, False),
    ("EService:Unavailable", UnavailableError, True),
    ("EGeneral:Invalid arguments", UnknownAPIError, False),
    ("EWhatever:Something new", UnknownAPIError, False),
]


@pytest.mark.parametrize(("code", "kind", "retry_safe"), ERRORS, ids=[e[0] for e in ERRORS])
async def test_each_spot_error_maps_to_the_librarys_error(
    code: str, kind: type[APIError], retry_safe: bool
) -> None:
    fake = FakeSpot()

    async def refuse(request: httpx.Request) -> httpx.Response:
        return spot_error(code)

    fake.reply = refuse
    tokens = provider(fake)
    with pytest.raises(kind) as info:
        await tokens.token()
    error = info.value
    assert type(error) is kind
    assert error.code == code
    assert error.endpoint == "GetWebSocketsToken"
    assert error.retry_safe is retry_safe
    assert tokens.current is None
    assert token_error(code).__class__ is kind


def test_the_lockout_says_how_long_and_is_not_retried() -> None:
    error = token_error("EGeneral:Temporary lockout")
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 900
    assert not error.retry_safe
    assert "15 minutes" in str(error)


async def test_the_fake_endpoints_own_refusals_reach_the_caller() -> None:
    """Unknown key, wrong secret, replayed nonce: the endpoint decides, the mapping follows."""
    fake = FakeSpot()
    with pytest.raises(AuthenticationError, match="EAPI:Invalid key"):
        await provider(fake, credentials=kraken_credentials("nobody")).token()
    other = base64.b64encode(bytes(range(64))).decode()
    with pytest.raises(AuthenticationError, match="EAPI:Invalid signature"):
        await provider(fake, credentials=kraken_credentials(VECTOR_KEY, other)).token()
    await provider(fake, start=int(VECTOR_NONCE) + 10).token()
    with pytest.raises(NonceError, match="EAPI:Invalid nonce"):
        await provider(fake).token()


ODD_ANSWERS: list[tuple[str, httpx.Response, type[KrakenFuturesError]]] = [
    ("html-502", httpx.Response(502, text="<html>bad gateway</html>"), UnavailableError),
    ("429", httpx.Response(429, text="slow down"), RateLimitError),
    ("not-json", httpx.Response(200, text="hello"), ResponseInvalidError),
    ("no-token", httpx.Response(200, json={"error": [], "result": {}}), ResponseInvalidError),
    (
        "bad-expires",
        httpx.Response(200, json={"error": [], "result": {"token": TOKEN, "expires": -1}}),
        ResponseInvalidError,
    ),
    ("a-list", httpx.Response(200, json=[TOKEN]), ResponseInvalidError),
]


@pytest.mark.parametrize(("name", "answer", "kind"), ODD_ANSWERS, ids=[a[0] for a in ODD_ANSWERS])
async def test_answers_outside_the_documented_shape(
    name: str, answer: httpx.Response, kind: type[KrakenFuturesError]
) -> None:
    fake = FakeSpot()

    async def odd(request: httpx.Request) -> httpx.Response:
        return answer

    fake.reply = odd
    with pytest.raises(kind) as info:
        await provider(fake).token()
    assert TOKEN not in str(info.value)
    assert getattr(info.value, "payload", None) is None


async def test_an_answer_larger_than_the_cap_is_not_read_further() -> None:
    fake = FakeSpot()

    async def huge(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b" " * (MAX_ANSWER_BYTES + 1))

    fake.reply = huge
    with pytest.raises(ResponseInvalidError) as info:
        await provider(fake).token()
    assert info.value.max_bytes == MAX_ANSWER_BYTES


async def test_the_deadline_bounds_a_fetch_that_never_answers() -> None:
    fake = FakeSpot()

    async def never(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    fake.reply = never
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(RequestTimeoutError) as info:
        await provider(fake, deadline=0.05).token()
    assert loop.time() - started < 1.0
    assert info.value.retry_safe
    assert info.value.endpoint == "GetWebSocketsToken"


async def test_a_refused_connection_is_connection_failed() -> None:
    fake = FakeSpot()

    async def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    fake.reply = refuse
    with pytest.raises(ConnectionFailedError) as info:
        await provider(fake).token()
    assert info.value.retry_safe


def test_a_provider_needs_a_kraken_key() -> None:
    with pytest.raises(MissingCredentialsError) as info:
        TokenProvider(Credentials(TEST_KEY, TEST_SECRET))
    assert KRAKEN_API_KEY_ENV in str(info.value)
    assert KRAKEN_API_SECRET_ENV in str(info.value)


def test_a_provider_takes_a_kraken_key_alone_and_defaults_to_krakens_host() -> None:
    tokens = TokenProvider(KrakenKey(VECTOR_KEY, VECTOR_SECRET))
    assert tokens.url == "https://api.kraken.com/0/private/GetWebSocketsToken"


@pytest.mark.parametrize("url", ["ftp://api.kraken.com", "https://api.kraken.com/0", "nope"])
def test_a_provider_refuses_a_url_that_is_not_a_host_root(url: str) -> None:
    with pytest.raises(ConfigurationError):
        TokenProvider(kraken_credentials(), url=url)


# --- the Spot REST host in config ---------------------------------------------------------


def test_the_spot_rest_host_comes_from_the_environment_or_the_base_url() -> None:
    assert PRODUCTION.spot_rest_url == "https://api.kraken.com"
    assert resolve_spot_rest_url(None, base_url=PRODUCTION.base_url, environment=PRODUCTION) == (
        "https://api.kraken.com"
    )
    twin = "http://127.0.0.1:8080"
    assert resolve_spot_rest_url(None, base_url=twin) == twin
    assert resolve_spot_rest_url(None, base_url=twin, environment=DEMO) == twin
    plain = Environment("twin", "http://twin.local:9000")
    assert resolve_spot_rest_url(None, base_url=plain.base_url, environment=plain) == (
        "http://twin.local:9000"
    )
    assert resolve_spot_rest_url("https://spot.example/", base_url=twin) == "https://spot.example"


# --- credentials: both kinds of key -------------------------------------------------------

OTHER_SECRET = base64.b64encode(bytes(range(100, 164))).decode()


def test_a_futures_key_alone_is_what_it_always_was() -> None:
    creds = Credentials(TEST_KEY, TEST_SECRET)
    assert creds.api_key == TEST_KEY
    assert creds.secret == base64.b64decode(TEST_SECRET)
    assert creds.has_futures_key
    assert not creds.has_kraken_key
    assert creds.kraken is None
    assert creds == Credentials(api_key=TEST_KEY, api_secret=TEST_SECRET)
    assert repr(creds) == "Credentials(api_key='test-p'…, api_secret=<hidden>)"


def test_both_keys_and_a_kraken_key_alone() -> None:
    both = Credentials(
        TEST_KEY, TEST_SECRET, kraken_api_key=VECTOR_KEY, kraken_api_secret=VECTOR_SECRET
    )
    assert both.api_key == TEST_KEY
    assert both.kraken == KrakenKey(VECTOR_KEY, VECTOR_SECRET)
    assert both.kraken is not None
    assert both.kraken.secret == base64.b64decode(VECTOR_SECRET)
    alone = kraken_credentials()
    assert alone.has_kraken_key
    assert not alone.has_futures_key
    with pytest.raises(MissingCredentialsError) as info:
        _ = alone.api_key
    assert API_KEY_ENV in str(info.value)
    with pytest.raises(MissingCredentialsError):
        _ = alone.secret


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"api_key": TEST_KEY},
        {"api_secret": TEST_SECRET},
        {"kraken_api_key": VECTOR_KEY},
        {"kraken_api_secret": VECTOR_SECRET},
        {"api_key": TEST_KEY, "api_secret": TEST_SECRET, "kraken_api_key": VECTOR_KEY},
    ],
    ids=["nothing", "futures-key", "futures-secret", "kraken-key", "kraken-secret", "half-kraken"],
)
def test_half_a_key_is_refused(kwargs: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError) as info:
        Credentials(**kwargs)
    assert TEST_SECRET not in str(info.value)
    assert VECTOR_SECRET not in str(info.value)


@pytest.mark.parametrize("secret", ["not base64 at all: s3cr3t-value!", "QUJDRA", "QUJD*RA=="])
def test_a_bad_kraken_secret_is_refused_without_echoing_it(secret: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        Credentials(kraken_api_key=VECTOR_KEY, kraken_api_secret=secret)
    rendered = "".join(traceback.format_exception(info.value))
    assert secret not in rendered
    assert "base64" in str(info.value)


@pytest.mark.parametrize("key", ["", " padded", "padded\n"])
def test_a_bad_kraken_key_is_refused(key: str) -> None:
    with pytest.raises(ConfigurationError):
        Credentials(kraken_api_key=key, kraken_api_secret=VECTOR_SECRET)


FUTURES_ENV = {API_KEY_ENV: TEST_KEY, API_SECRET_ENV: TEST_SECRET}
KRAKEN_ENV = {KRAKEN_API_KEY_ENV: VECTOR_KEY, KRAKEN_API_SECRET_ENV: VECTOR_SECRET}


def test_from_env_reads_either_pair_or_both() -> None:
    futures = Credentials.from_env(environ=FUTURES_ENV)
    assert futures == Credentials(TEST_KEY, TEST_SECRET)
    kraken = Credentials.from_env(environ=KRAKEN_ENV)
    assert kraken == kraken_credentials()
    both = Credentials.from_env(environ={**FUTURES_ENV, **KRAKEN_ENV})
    assert both.api_key == TEST_KEY
    assert both.kraken == KrakenKey(VECTOR_KEY, VECTOR_SECRET)


def test_from_env_leaves_a_stray_half_kraken_pair_out_beside_a_futures_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A Futures set-up that worked before still does; the log names the variables only."""
    caplog.set_level(logging.WARNING, logger="kraken_futures_async.auth")
    creds = Credentials.from_env(environ={**FUTURES_ENV, KRAKEN_API_SECRET_ENV: VECTOR_SECRET})
    assert creds == Credentials(TEST_KEY, TEST_SECRET)
    assert KRAKEN_API_KEY_ENV in caplog.text
    assert VECTOR_SECRET not in caplog.text
    assert VECTOR_SECRET[:16] not in caplog.text


@pytest.mark.parametrize(
    ("environ", "missing", "present"),
    [
        ({KRAKEN_API_KEY_ENV: VECTOR_KEY}, [KRAKEN_API_SECRET_ENV], [KRAKEN_API_KEY_ENV]),
        ({KRAKEN_API_SECRET_ENV: VECTOR_SECRET}, [KRAKEN_API_KEY_ENV], [KRAKEN_API_SECRET_ENV]),
        ({**KRAKEN_ENV, API_KEY_ENV: TEST_KEY}, [API_SECRET_ENV], [API_KEY_ENV]),
        ({}, [API_KEY_ENV, API_SECRET_ENV, KRAKEN_API_KEY_ENV, KRAKEN_API_SECRET_ENV], []),
    ],
    ids=["kraken-key-only", "kraken-secret-only", "half-futures-beside-kraken", "nothing"],
)
def test_from_env_names_what_is_missing(
    environ: dict[str, str], missing: list[str], present: list[str]
) -> None:
    with pytest.raises(ConfigurationError) as info:
        Credentials.from_env(environ=environ)
    message = str(info.value)
    assert all(name in message for name in missing), message
    assert not any(f"{name}," in message or message.endswith(name) for name in present), message
    assert VECTOR_SECRET not in message


async def test_a_rest_session_with_only_a_kraken_key_says_what_is_missing() -> None:
    """The REST backend signs with the Futures key: without one, public calls work and a
    private call names the Futures variables, sending nothing."""
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(
            200, json={"result": "success", "serverTime": "2026-12-01T00:00:00.000Z", "tickers": []}
        )

    session = Session(
        kraken_credentials(),
        base_url=BASE_URL,
        transport=httpx.MockTransport(record),
        rate_limits=RateLimitPolicy.unlimited(),
    )
    async with session as kf:
        assert await kf.market.tickers() == []
        with pytest.raises(MissingCredentialsError) as info:
            await kf.account.accounts()
    assert API_KEY_ENV in str(info.value)
    assert [request.url.path for request in sent] == ["/derivatives/api/v3/tickers"]


# --- no secret, no token, anywhere ---------------------------------------------------------


def _leaks(text: str, token: str) -> bool:
    raw = base64.b64decode(VECTOR_SECRET)
    needles = (VECTOR_SECRET, VECTOR_SECRET[:16], repr(raw), repr(raw)[:24], token, token[:12])
    return any(needle in text for needle in needles)


def test_the_leak_check_would_notice_a_leak() -> None:
    assert _leaks(f"x={VECTOR_SECRET}", TOKEN)
    assert _leaks(f"token={TOKEN}", TOKEN)
    assert _leaks(repr(base64.b64decode(VECTOR_SECRET)), TOKEN)
    assert not _leaks(repr(kraken_credentials()), TOKEN)


async def test_no_secret_or_token_in_reprs_logs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake = FakeSpot()
    creds = Credentials(
        TEST_KEY, TEST_SECRET, kraken_api_key=VECTOR_KEY, kraken_api_secret=VECTOR_SECRET
    )
    tokens = provider(fake, credentials=creds)
    token = await tokens.token()
    shown = [
        repr(creds),
        str(creds),
        repr(creds.kraken),
        repr(tokens),
        str(tokens),
        repr(tokens.current),
        repr(WebSocketToken(token, 900, 0.0)),
    ]
    errors: list[BaseException] = []
    for code, _kind, _safe in ERRORS:

        async def refuse(request: httpx.Request, code: str = code) -> httpx.Response:
            return httpx.Response(200, json={"error": [code], "result": {"token": token}})

        fake.reply = refuse
        with pytest.raises(KrakenFuturesError) as info:
            await tokens.fresh()
        errors.append(info.value)

    async def garbled(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"error": [], "result": {"token": token, "expires": "x"}})

    fake.reply = garbled
    with pytest.raises(ResponseInvalidError) as info:
        await tokens.fresh()
    errors.append(info.value)
    for error in errors:
        shown += [str(error), repr(error), "".join(traceback.format_exception(error))]
        shown.append(repr(getattr(error, "payload", None)))
    shown.append(caplog.text)
    for text in shown:
        assert not _leaks(text, token), text
    assert "fetched a WebSocket token" in caplog.text
