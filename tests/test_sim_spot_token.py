"""The twin's ``POST /0/private/GetWebSocketsToken``: Spot REST's token endpoint, on the REST port.

Requests here are signed by :func:`doc_sign`, written from kraken-uws-api.md §3.3's text (not
the library's signer), and checked against the reference's worked vectors (§3.4); the
library's :class:`TokenProvider` is then run against the twin in-process and served.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
from typing import Any

import httpx
import pytest

from kraken_futures_async import Credentials, Session
from kraken_futures_async.auth import NonceSource
from kraken_futures_async.errors import AuthenticationError, NonceError, RateLimitError
from kraken_futures_async.simulator import ManualClock, Twin, TwinConfig, run_in_thread
from kraken_futures_async.simulator.__main__ import _banner
from kraken_futures_async.simulator.rest.auth import KeyRegistry
from kraken_futures_async.simulator.rest.spot_token import (
    TOKEN_LIFETIME,
    KrakenApiKey,
    SpotTokenService,
)
from kraken_futures_async.simulator.twin import IN_PROCESS_URL
from kraken_futures_async.uws import TokenProvider

PATH = "/0/private/GetWebSocketsToken"
VECTOR_KEY = "kfa-test-public-key-0001"
VECTOR_SECRET = (
    "LcYeJ2UOXXvWEfe990gJTg5Q79Po69ojLGU866mwLoruPuk3YUMtLHO3lScYojOtQynZmkKLvQ4xWltLj+hjTg=="
)
NONCE = 1796083200000
FORM = "application/x-www-form-urlencoded"
# (name, body, content type, API-Sign): §3.4 verbatim
VECTORS = [
    (
        "form",
        b"nonce=1796083200000",
        FORM,
        "zeeVs4POMmE8HY/JialERuWc5YHd8P61XiKvEBOqo1myj7NOvzufqBIlo1m1SAjUPgNAgiYXVyJq1aEgcbBNyg==",
    ),
    (
        "json",
        b'{"nonce":1796083200000}',
        "application/json",
        "uovCGIH9yrQXRtHsIOJ+ZBEEl2qVqlj91x46zAzBpMwYueteNVRvYNATlh1FbUZ3e1VrQbkPNFpqPnrckRFUcQ==",
    ),
    (
        "form-otp",
        b"nonce=1796083200000&otp=123456",
        FORM,
        "7p87Vb5hayQ1jH3sz682/SKghVTeIEBcwPRWPou57gfdGXCS7Vqz4Exu0FXCyHQveg6eVeJKkBV+uLAXGQVVVQ==",
    ),
]


def doc_sign(secret_b64: str, path: str, nonce: str, body: bytes) -> str:
    """§3.3: body = exact bytes; inner = SHA-256(nonce || body); msg = path || inner;
    API-Sign = base64(HMAC-SHA512(base64decode(secret), msg))."""
    inner = hashlib.sha256(nonce.encode() + body).digest()
    mac = hmac.new(base64.b64decode(secret_b64), path.encode() + inner, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()


@pytest.mark.parametrize(("name", "body", "kind", "sign"), VECTORS, ids=[v[0] for v in VECTORS])
def test_the_doc_signer_gives_the_reference_vectors(
    name: str, body: bytes, kind: str, sign: str
) -> None:
    assert doc_sign(VECTOR_SECRET, PATH, str(NONCE), body) == sign


def twin_with_vector_key(*, otp: str | None = None, **config: Any) -> Twin:
    config.setdefault("clock", ManualClock(NONCE / 1000))
    twin = Twin(TwinConfig(**config))
    key = KrakenApiKey(VECTOR_KEY, VECTOR_SECRET, twin.account_uid, otp=otp)
    twin.spot_tokens.add_key(key)
    return twin


async def post(
    twin: Twin,
    body: bytes,
    *,
    key: str | None = VECTOR_KEY,
    sign: str | None = None,
    content_type: str = FORM,
    method: str = "POST",
) -> httpx.Response:
    headers = {"Content-Type": content_type}
    if key is not None:
        headers["API-Key"] = key
    if sign is not None:
        headers["API-Sign"] = sign
    async with httpx.AsyncClient(transport=twin.transport(), base_url=IN_PROCESS_URL) as client:
        return await client.request(method, PATH, content=body, headers=headers)


async def signed(
    twin: Twin,
    nonce: int,
    *,
    key: str = VECTOR_KEY,
    secret: str = VECTOR_SECRET,
    extra: str = "",
) -> httpx.Response:
    body = f"nonce={nonce}{extra}".encode()
    return await post(twin, body, key=key, sign=doc_sign(secret, PATH, str(nonce), body))


def token_of(response: httpx.Response) -> str:
    assert response.status_code == 200
    document = response.json()
    assert set(document) == {"error", "result"}
    assert document["error"] == []
    assert set(document["result"]) == {"token", "expires"}
    assert document["result"]["expires"] == 900
    token = document["result"]["token"]
    assert isinstance(token, str)
    assert token
    return token


def refusal(response: httpx.Response) -> str:
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document = response.json()
    assert set(document) == {"error"}
    (code,) = document["error"]
    assert isinstance(code, str)
    return code


# --- the reference's vectors, as requests --------------------------------------------------


@pytest.mark.parametrize(("name", "body", "kind", "sign"), VECTORS, ids=[v[0] for v in VECTORS])
async def test_the_twin_accepts_each_reference_request(
    name: str, body: bytes, kind: str, sign: str
) -> None:
    twin = twin_with_vector_key(otp="123456" if name == "form-otp" else None)
    token = token_of(await post(twin, body, sign=sign, content_type=kind))
    assert twin.spot_tokens.account_for(token) == twin.account_uid


async def test_a_reference_signature_does_not_pass_for_another_body() -> None:
    twin = twin_with_vector_key()
    form, json_sign = VECTORS[0][1], VECTORS[1][3]
    assert refusal(await post(twin, form, sign=json_sign)) == "EAPI:Invalid signature"


# --- refusals ------------------------------------------------------------------------------


async def test_key_signature_and_nonce_refusals_in_spot_shape() -> None:
    twin = twin_with_vector_key()
    body = b"nonce=1796083200000"
    good = doc_sign(VECTOR_SECRET, PATH, str(NONCE), body)
    assert refusal(await post(twin, body, key=None, sign=good)) == "EAPI:Invalid key"
    assert refusal(await post(twin, body, key="nobody", sign=good)) == "EAPI:Invalid key"
    assert refusal(await post(twin, body, sign=None)) == "EAPI:Invalid signature"
    tampered = doc_sign(VECTOR_SECRET, PATH, str(NONCE), b"nonce=1796083200001")
    assert refusal(await post(twin, body, sign=tampered)) == "EAPI:Invalid signature"
    other_path = doc_sign(VECTOR_SECRET, "/0/private/Balance", str(NONCE), body)
    assert refusal(await post(twin, body, sign=other_path)) == "EAPI:Invalid signature"
    for bad in (b"", b"nonce=", b"nonce=17e12", b"nonce=-5", b"nonce=18446744073709551616"):
        nonce = bad.partition(b"=")[2].decode()
        assert refusal(await post(twin, bad, sign=doc_sign(VECTOR_SECRET, PATH, nonce, bad))) == (
            "EAPI:Invalid nonce"
        )
    # None of the refusals above moved the key's nonce: the vector is still accepted.
    token_of(await post(twin, body, sign=good))
    assert twin.spot_tokens.refused["EAPI:Invalid key"] == 2


async def test_nonces_must_rise_strictly_per_key() -> None:
    twin = twin_with_vector_key()
    token_of(await signed(twin, NONCE))
    assert refusal(await signed(twin, NONCE)) == "EAPI:Invalid nonce"
    assert refusal(await signed(twin, NONCE - 1)) == "EAPI:Invalid nonce"
    token_of(await signed(twin, NONCE + 1))
    # Another key has its own sequence.
    own = twin.kraken_key
    token_of(await signed(twin, 1, key=own.public_key, secret=own.secret))
    token_of(await signed(twin, 2, key=own.public_key, secret=own.secret))
    assert refusal(await signed(twin, 2, key=own.public_key, secret=own.secret)) == (
        "EAPI:Invalid nonce"
    )


async def test_the_largest_unsigned_64_bit_nonce_is_accepted() -> None:
    twin = twin_with_vector_key()
    token_of(await signed(twin, 2**64 - 1))


async def test_a_json_body_carries_the_nonce_as_a_number_or_its_text() -> None:
    twin = twin_with_vector_key()
    for document in ({"nonce": NONCE}, {"nonce": str(NONCE + 1)}):
        body = json.dumps(document, separators=(",", ":")).encode()
        nonce = str(document["nonce"])
        sign = doc_sign(VECTOR_SECRET, PATH, nonce, body)
        token_of(await post(twin, body, sign=sign, content_type="application/json"))
    for bad in (b'{"nonce":1.5e12}', b"[1]", b"{", b'{"nonce":true}', b"[" * 5000):
        sign = doc_sign(VECTOR_SECRET, PATH, "1", bad)
        assert refusal(await post(twin, bad, sign=sign, content_type="application/json")) == (
            "EAPI:Invalid nonce"
        )


async def test_api_2fa() -> None:
    with_otp = twin_with_vector_key(otp="123456")
    assert refusal(await signed(with_otp, NONCE)) == "EGeneral:Permission denied"
    assert refusal(await signed(with_otp, NONCE + 1, extra="&otp=654321")) == (
        "EGeneral:Permission denied"
    )
    token_of(await signed(with_otp, NONCE + 2, extra="&otp=123456"))
    without = twin_with_vector_key()
    assert refusal(await signed(without, NONCE, extra="&otp=123456")) == "EAPI:Invalid key"


async def test_a_key_without_websocket_access_and_a_futures_key_are_refused() -> None:
    twin = Twin(TwinConfig(seed=5))
    closed = twin.issue_kraken_key(websocket=False)
    assert refusal(await signed(twin, 1, key=closed.public_key, secret=closed.secret)) == (
        "EGeneral:Permission denied"
    )
    futures = twin.key
    assert refusal(await signed(twin, 1, key=futures.public_key, secret=futures.secret)) == (
        "EAPI:Invalid key"
    )


async def test_a_kraken_key_does_not_sign_futures_rest() -> None:
    twin = Twin(TwinConfig(seed=5))
    spot = twin.kraken_key
    as_futures = Credentials(spot.public_key, spot.secret)
    async with Session(as_futures, base_url=IN_PROCESS_URL, transport=twin.transport()) as kf:
        with pytest.raises(AuthenticationError):
            await kf.account.open_positions()


async def test_spots_call_counter_refuses_the_sixteenth_burst_call_and_refills() -> None:
    clock = ManualClock(NONCE / 1000)
    twin = twin_with_vector_key(clock=clock)
    for i in range(15):
        token_of(await signed(twin, NONCE + i))
    assert refusal(await signed(twin, NONCE + 15)) == "EAPI:Rate limit exceeded"
    clock.advance(4)  # 0.33 per second back: one call's worth after ~3 s
    token_of(await signed(twin, NONCE + 16))
    unlimited = twin_with_vector_key(rate_limits=False)
    for i in range(40):
        token_of(await signed(unlimited, NONCE + i))


async def test_other_methods_are_refused() -> None:
    twin = twin_with_vector_key()
    response = await post(twin, b"", method="GET")
    assert response.status_code == 405
    assert response.json() == {"error": ["EGeneral:Unknown method"]}


# --- tokens --------------------------------------------------------------------------------


async def test_a_token_is_valid_for_900_seconds_until_its_first_use_then_stays() -> None:
    clock = ManualClock(NONCE / 1000)
    twin = twin_with_vector_key(clock=clock)
    tokens = twin.spot_tokens
    used = token_of(await signed(twin, NONCE))
    late = token_of(await signed(twin, NONCE + 1))
    clock.advance(TOKEN_LIFETIME - 0.001)
    assert tokens.redeem(used) == twin.account_uid
    clock.advance(0.001)
    assert tokens.account_for(late) is None
    assert tokens.redeem(late) is None
    assert tokens.redeem(used) == twin.account_uid  # in use: a live subscription keeps it
    clock.advance(10 * TOKEN_LIFETIME)
    assert tokens.redeem(used) == twin.account_uid
    assert tokens.redeem("not-a-token") is None
    assert tokens.revoke(used)
    assert tokens.redeem(used) is None


async def test_the_token_store_is_bounded() -> None:
    clock = ManualClock(1_000_000.0)
    service = SpotTokenService(3, clock=clock, rate_limits=False, max_tokens=5)
    key = service.issue_key("acct")

    def fetch(nonce: int) -> str:
        body = f"nonce={nonce}".encode()
        headers = [
            (b"API-Key", key.public_key.encode()),
            (b"API-Sign", doc_sign(key.secret, PATH, str(nonce), body).encode()),
        ]
        status, answer = service.answer(headers, body)
        assert status == 200
        token = json.loads(answer)["result"]["token"]
        assert isinstance(token, str)
        return token

    first = [fetch(n) for n in range(1, 6)]
    assert len(service) == 5
    sixth = fetch(6)
    assert len(service) == 5
    assert service.account_for(first[0]) is None  # the oldest made room
    assert service.account_for(sixth) == "acct"
    clock.advance(TOKEN_LIFETIME + 1)
    fetch(7)
    assert len(service) == 1  # every unused token past its lifetime went first


def test_keys_and_tokens_come_from_the_seed_and_leave_the_futures_keys_alone() -> None:
    one, two = Twin(TwinConfig(seed=11)), Twin(TwinConfig(seed=11))
    assert one.kraken_key.public_key == two.kraken_key.public_key
    assert one.kraken_key.secret == two.kraken_key.secret
    assert Twin(TwinConfig(seed=12)).kraken_key.public_key != one.kraken_key.public_key
    registry = KeyRegistry(11)
    assert registry.new_account_uid() == one.account_uid
    assert registry.issue(one.account_uid).public_key == one.key.public_key
    assert one.kraken_key.account_uid == one.account_uid
    assert len(base64.b64decode(one.kraken_key.secret)) == 64
    assert one.kraken_key.public_key != one.key.public_key


def test_twin_credentials_carry_both_keys_of_the_twins_own_account() -> None:
    twin = Twin(TwinConfig(seed=2))
    creds = twin.credentials()
    assert creds.api_key == twin.key.public_key
    assert creds.kraken is not None
    assert creds.kraken.api_key == twin.kraken_key.public_key
    other = twin.issue_key()
    assert twin.credentials(other).kraken is None
    extra = twin.issue_kraken_key()
    with_extra = twin.credentials(other, kraken_key=extra)
    assert with_extra.kraken is not None
    assert with_extra.kraken.api_key == extra.public_key


def test_no_kraken_secret_in_reprs() -> None:
    twin = Twin(TwinConfig(seed=2))
    secret = twin.kraken_key.secret
    for text in (repr(twin.kraken_key), repr(twin.spot_tokens), repr(twin.credentials())):
        assert secret not in text
        assert secret[:16] not in text
        assert "<hidden>" in text or "SpotTokenService" in text


def test_the_banner_prints_the_kraken_key_beside_the_futures_key() -> None:
    twin = Twin(TwinConfig(seed=4))
    banner = _banner(twin, "http://127.0.0.1:8080")
    assert twin.key.public_key in banner
    assert twin.kraken_key.public_key in banner
    assert twin.kraken_key.secret in banner
    assert f"export KRAKEN_API_KEY='{twin.kraken_key.public_key}'" in banner
    assert f"export KRAKEN_API_SECRET='{twin.kraken_key.secret}'" in banner


# --- the library's TokenProvider against the twin -----------------------------------------


async def test_the_librarys_provider_fetches_from_the_in_process_twin(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    twin = Twin(TwinConfig(seed=8))
    provider = TokenProvider(twin.credentials(), url=IN_PROCESS_URL, transport=twin.transport())
    token = await provider.token()
    assert twin.spot_tokens.account_for(token) == twin.account_uid
    assert await provider.token() == token
    fresh = await provider.fresh()
    assert fresh != token
    assert twin.spot_tokens.redeem(fresh) == twin.account_uid
    for text in (repr(provider), caplog.text):
        assert token not in text
        assert fresh not in text
        assert twin.kraken_key.secret not in text


async def test_the_librarys_errors_from_the_twins_refusals() -> None:
    twin = Twin(TwinConfig(seed=8))
    wrong = Credentials(
        kraken_api_key=twin.kraken_key.public_key,
        kraken_api_secret=base64.b64encode(bytes(range(64))).decode(),
    )
    with pytest.raises(AuthenticationError, match="EAPI:Invalid signature"):
        await TokenProvider(wrong, url=IN_PROCESS_URL, transport=twin.transport()).token()
    high = TokenProvider(
        twin.credentials(),
        url=IN_PROCESS_URL,
        transport=twin.transport(),
        nonces=NonceSource(clock=lambda: 10**15),
    )
    await high.token()
    low = TokenProvider(
        twin.credentials(),
        url=IN_PROCESS_URL,
        transport=twin.transport(),
        nonces=NonceSource(clock=lambda: 1),
    )
    with pytest.raises(NonceError) as info:
        await low.token()
    assert info.value.retry_safe
    limited = Twin(TwinConfig(seed=9))
    burst = TokenProvider(limited.credentials(), url=IN_PROCESS_URL, transport=limited.transport())
    for _ in range(15):
        await burst.fresh()
    with pytest.raises(RateLimitError) as limit:
        await burst.fresh()
    assert limit.value.code == "EAPI:Rate limit exceeded"


def test_the_librarys_provider_fetches_from_the_served_twin() -> None:
    twin = Twin(TwinConfig(seed=6))
    with run_in_thread(twin) as running:

        async def fetch() -> tuple[str, str]:
            provider = TokenProvider(twin.credentials(), url=running.url)
            return await provider.token(), await provider.fresh()

        first, second = asyncio.run(fetch())
    assert first != second
    assert twin.spot_tokens.account_for(first) == twin.account_uid
    assert twin.spot_tokens.account_for(second) == twin.account_uid
