"""The twin checks keys, Authent, nonces and permissions exactly as Kraken does."""

from __future__ import annotations

import asyncio
import base64

import attrs
import pytest

from kraken_futures_async import (
    AuthenticationError,
    Credentials,
    NonceError,
    RateLimitPolicy,
    Session,
)
from kraken_futures_async.auth import NonceSource
from kraken_futures_async.rest.endpoints import Access, endpoint
from kraken_futures_async.rest.signing import sign
from kraken_futures_async.retry import RetryPolicy
from kraken_futures_async.simulator import ApiKey, ExchangeError, Permissions, Twin
from kraken_futures_async.simulator.rest.auth import Authenticator, KeyRegistry, NonceBook, authent
from tests.conftest import TEST_SECRET
from tests.test_sim_http_fake import fake_twin, raw_client, signed_headers

D = "/derivatives/api/v3"
NONCE = "1700000000000"
SENDORDER_3 = (
    "orderType=lmt&symbol=PF_XBTUSD&side=buy&size=0.0001&limitPrice=50000&cliOrdId=my%20order%201"
)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
NS = 1_000_000_000  # nonce units per second for a 19-digit (nanosecond) nonce


def _reference_key(twin: Twin) -> ApiKey:
    """Reference §2.4's secret under a fixed public key, so its vectors apply."""
    return twin.keys.add(ApiKey("reference-key", TEST_SECRET, twin.account_uid))


def quiet(twin: Twin, key: ApiKey | None = None) -> Session:
    """A Session that neither throttles nor retries, so each refusal reaches the test."""
    return twin.session(key, rate_limits=RateLimitPolicy.unlimited(), retry=RetryPolicy.never())


# --- keys ---------------------------------------------------------------------------------


def test_keys_have_krakens_shape_and_come_from_the_seed() -> None:
    registry = KeyRegistry(seed=3)
    key = registry.issue("acct")
    assert len(key.public_key) == 56
    assert len(key.secret) == 88
    assert len(base64.b64decode(key.secret, validate=True)) == 66
    assert KeyRegistry(seed=3).issue("acct") == key
    assert KeyRegistry(seed=4).issue("acct").public_key != key.public_key
    assert registry.get(key.public_key) is key


def test_secrets_never_show_in_a_repr() -> None:
    twin, _ = fake_twin()
    for text in (repr(twin.key), repr(twin), str(twin.key), repr(twin.credentials())):
        assert twin.key.secret not in text
        assert twin.key.secret[:12] not in text


def test_short_or_invalid_secrets_are_refused() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        ApiKey("k", base64.b64encode(b"x" * 32).decode(), "acct")
    with pytest.raises(ValueError, match="base64"):
        ApiKey("k", "not base64!", "acct")


def test_authent_matches_the_library_signer_and_reference_vector_3() -> None:
    secret = base64.b64decode(TEST_SECRET)
    ours = authent(secret, SENDORDER_3.encode(), NONCE.encode(), b"/api/v3/sendorder")
    assert ours == sign(secret, SENDORDER_3, NONCE, "/api/v3/sendorder").encode()
    assert ours == (
        b"FJRWZ1fJvCWDpjMBferuOk0ZB+Wuf+/L/MKOfaO5J+eRdD9FE9CwmAU3YdJQ2Z7TVDBn2ZkYGMOhmmepHs2ghA=="
    )


# --- signatures ---------------------------------------------------------------------------


async def test_reference_vectors_are_accepted_and_their_wrong_variants_refused() -> None:
    twin, exchange = fake_twin()
    _reference_key(twin)
    good = (
        "FJRWZ1fJvCWDpjMBferuOk0ZB+Wuf+/L/MKOfaO5J+eRdD9FE9CwmAU3YdJQ2Z7TVDBn2ZkYGMOhmmepHs2ghA=="
    )
    # 3L: the same order signed over the decoded body (rejected since 2025-10-01)
    legacy = (
        "tuuzBT+ehrxc0TMtit5cHpuTA5I3tAGiaFJf+ClP+abvnUPl5vkFX0LHEXqCi6BmmBWAJNV+xRlsIYlvnKCVZg=="
    )
    # 6: signed with /derivatives kept in the path
    prefixed = (
        "6UHChBcBMFeinUYyu4gnO76RCwKeanOK2m3L2zZPXZGxR1UNXrxm9z+lKFCczayUG/gM/tpzwR6K+riFV4vZxg=="
    )
    vector_1 = (
        "nFe704PQXcHgRenj0qwj4VYK9VU1GJOj+6dJ8HOQWTImZVk19S3EKX/7GvI0kF/oH0uh4K+Ym2p55DiVo3x4HQ=="
    )
    async with raw_client(twin) as client:
        refused = []
        for signature, nonce in ((legacy, NONCE), (good, "1700000000001")):
            response = await client.post(
                f"{D}/sendorder",
                content=SENDORDER_3,
                headers={"APIKey": "reference-key", "Nonce": nonce, "Authent": signature, **FORM},
            )
            refused.append(response.json()["error"])
        accepted = await client.post(
            f"{D}/sendorder",
            content=SENDORDER_3,
            headers={"APIKey": "reference-key", "Nonce": NONCE, "Authent": good, **FORM},
        )
        wrong_path = await client.get(
            f"{D}/openpositions",
            headers={"apikey": "reference-key", "nonce": "1700000000002", "authent": prefixed},
        )
        # vector 1 carries nonce 1700000000000, now taken: signature fine, nonce refused
        reused = await client.get(
            f"{D}/openpositions",
            headers={"APIKEY": "reference-key", "NONCE": NONCE, "AUTHENT": vector_1},
        )
    assert refused == ["authenticationError", "authenticationError"]
    assert accepted.json()["result"] == "success"
    assert wrong_path.json()["error"] == "authenticationError"
    assert reused.json()["error"] == "nonceDuplicate"
    assert exchange.operations() == ["send_order"]
    _, params, account = exchange.calls[0]
    assert params["cliOrdId"] == ["my order 1"]
    assert account == twin.account_uid


async def test_a_tampered_body_is_refused_before_the_engine() -> None:
    twin, exchange = fake_twin()
    path = f"{D}/sendorder"
    signed = "orderType=mkt&side=buy&symbol=PF_XBTUSD&size=1"
    headers = signed_headers(twin.key, path, body=signed, nonce="1") | FORM
    async with raw_client(twin) as client:
        # every required argument is there: Kraken checks those before the key
        sent = signed.replace("size=1", "size=9")
        response = await client.post(path, content=sent, headers=headers)
    assert response.status_code == 200
    assert response.json() == {
        "result": "error",
        "error": "authenticationError",
        "serverTime": "2026-11-24T00:00:00.000Z",
    }
    assert exchange.calls == []


async def test_the_query_string_is_signed_as_received() -> None:
    twin, exchange = fake_twin()
    path = f"{D}/fills"
    query = "lastFillTime=2024-01-01T00%3A00%3A00.000Z"
    async with raw_client(twin) as client:
        good = await client.get(
            f"{path}?{query}", headers=signed_headers(twin.key, path, query=query, nonce="1")
        )
        decoded = await client.get(
            f"{path}?{query}",
            headers=signed_headers(
                twin.key, path, query="lastFillTime=2024-01-01T00:00:00.000Z", nonce="2"
            ),
        )
    assert good.json()["result"] == "success"
    assert decoded.json()["error"] == "authenticationError"
    assert exchange.calls[0][1] == {"lastFillTime": ["2024-01-01T00:00:00.000Z"]}


async def test_params_in_the_query_of_a_post_without_nonce_are_accepted() -> None:
    # ccxt: every parameter in the query string, an empty body, no Nonce header
    twin, exchange = fake_twin()
    path = f"{D}/sendorder"
    query = "orderType=mkt&symbol=PF_XBTUSD&side=buy&size=1"
    async with raw_client(twin) as client:
        response = await client.post(
            f"{path}?{query}", headers=signed_headers(twin.key, path, query=query) | FORM
        )
    assert response.json()["sendStatus"]["status"] == "placed"
    expected = {"orderType": ["mkt"], "symbol": ["PF_XBTUSD"], "side": ["buy"], "size": ["1"]}
    assert exchange.calls[0][1] == expected


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-headers"),
        pytest.param({"APIKey": "nobody"}, id="no-authent"),
        pytest.param({"Authent": "AAAA"}, id="no-key"),
        pytest.param({"APIKey": "nobody", "Authent": "AAAA"}, id="unknown-key"),
    ],
)
async def test_missing_or_unknown_keys_are_an_authentication_error(
    headers: dict[str, str],
) -> None:
    twin, exchange = fake_twin()
    async with raw_client(twin) as client:
        response = await client.get(f"{D}/openorders", headers=headers)
    assert response.json()["error"] == "authenticationError"
    assert exchange.calls == []


async def test_wrong_secret_and_non_digit_nonce_are_refused() -> None:
    twin, exchange = fake_twin()
    impostor = ApiKey(twin.key.public_key, base64.b64encode(bytes(66)).decode(), "x")
    path = f"{D}/openorders"
    async with raw_client(twin) as client:
        wrong = await client.get(path, headers=signed_headers(impostor, path, nonce="1"))
        letters = await client.get(path, headers=signed_headers(twin.key, path, nonce="12a"))
        right = await client.get(path, headers=signed_headers(twin.key, path, nonce="13"))
    assert wrong.json()["error"] == "authenticationError"
    assert letters.json()["error"] == "authenticationError"
    assert right.json()["result"] == "success"
    assert exchange.operations() == ["open_orders"]


async def test_a_session_signed_with_the_wrong_secret_raises_authentication_error() -> None:
    twin, exchange = fake_twin()
    forged = Credentials(twin.key.public_key, base64.b64encode(bytes(range(66))).decode())
    async with Session(
        forged,
        base_url="http://127.0.0.1",
        transport=twin.transport(),
        rate_limits=RateLimitPolicy.unlimited(),
        retry=RetryPolicy.never(),
    ) as kf:
        with pytest.raises(AuthenticationError) as caught:
            await kf.orders.open()
    assert caught.value.code == "authenticationError"
    assert exchange.calls == []


async def test_public_calls_ignore_auth_headers() -> None:
    twin, exchange = fake_twin()
    async with raw_client(twin) as client:
        response = await client.get(f"{D}/tickers", headers={"APIKey": "x", "Authent": "y"})
    assert response.json()["result"] == "success"
    assert exchange.calls == [("tickers", {}, None)]


# --- permissions --------------------------------------------------------------------------


async def test_read_only_keys_read_but_cannot_trade() -> None:
    twin, exchange = fake_twin(rate_limits=False)
    reader = twin.issue_key(permissions=Permissions.read_only())
    async with quiet(twin, reader) as kf:
        assert await kf.orders.open() == []
        assert await kf.orders.fills() == []
        assert await kf.orders.status(order_ids=["x"]) == []
        with pytest.raises(AuthenticationError) as caught:
            await kf.orders.send(symbol="PF_XBTUSD", side="buy", size=1, limit_price=1)
    assert caught.value.code == "authenticationError"
    # the public instrument list (for the order's local checks) needs no permission
    assert exchange.operations() == ["open_orders", "fills", "order_status", "instruments"]
    assert {account for op, _, account in exchange.calls if op != "instruments"} == {
        twin.account_uid
    }


def test_withdrawals_need_a_withdrawal_key() -> None:
    registry = KeyRegistry()
    checker = Authenticator(registry)
    row = attrs.evolve(endpoint("send_order"), name="withdraw", access=Access.WITHDRAWAL)
    signed_path = row.path.removeprefix("/derivatives").encode()
    verdicts = {}
    for permissions in (Permissions.full_access(), Permissions.withdrawal()):
        key = registry.issue("acct", permissions)
        try:
            checker.authenticate(
                row,
                api_key=key.public_key.encode(),
                authent_header=authent(key.secret_bytes, b"", b"", signed_path),
                nonce=None,
                path=row.path,
                query=b"",
                body=b"",
            )
            verdicts[permissions] = "ok"
        except ExchangeError as error:
            verdicts[permissions] = str(error.code)
    assert verdicts == {
        Permissions.full_access(): "authenticationError",
        Permissions.withdrawal(): "ok",
    }


# --- nonces -------------------------------------------------------------------------------


async def test_a_repeated_nonce_is_a_duplicate() -> None:
    twin, exchange = fake_twin()
    path = f"{D}/openorders"
    async with raw_client(twin) as client:
        first = await client.get(path, headers=signed_headers(twin.key, path, nonce=NONCE))
        again = await client.get(path, headers=signed_headers(twin.key, path, nonce=NONCE))
    assert first.json()["result"] == "success"
    assert again.json() == {
        "result": "error",
        "error": "nonceDuplicate",
        "serverTime": "2026-11-24T00:00:00.000Z",
    }
    assert len(exchange.calls) == 1


async def test_a_nonce_far_below_the_highest_is_below_threshold() -> None:
    twin, exchange = fake_twin(nonce_tolerance=10.0)
    path = f"{D}/openorders"
    top = 1_790_000_000 * NS
    verdicts = []
    async with raw_client(twin) as client:
        for nonce in (top, top - 9 * NS, top - 11 * NS, top + 1):
            headers = signed_headers(twin.key, path, nonce=str(nonce))
            body = (await client.get(path, headers=headers)).json()
            verdicts.append(body.get("error", body["result"]))
    assert verdicts == ["success", "success", "nonceBelowThreshold", "success"]
    assert len(exchange.calls) == 3


def test_the_tolerance_scales_with_the_nonce_unit() -> None:
    book = NonceBook(memory=100)
    ms = 1_790_000_000_000  # 13 digits: milliseconds
    assert book.admit(ms, 10.0) is None
    assert book.admit(ms - 9_000, 10.0) is None
    assert book.admit(ms - 11_000, 10.0) == "nonceBelowThreshold"
    counter = NonceBook(memory=100)  # a plain counter gets no tolerance
    assert counter.admit(5, 10.0) is None
    assert counter.admit(4, 10.0) == "nonceBelowThreshold"
    assert counter.admit(5, 10.0) == "nonceDuplicate"
    assert counter.admit(6, 10.0) is None


def test_forgotten_nonces_become_the_floor() -> None:
    book = NonceBook(memory=3)
    base = 1_790_000_000 * NS
    for offset in (0, 1, 2, 3):
        assert book.admit(base + offset, 10.0) is None
    assert book.floor == base  # the oldest of four was dropped from memory of three
    assert book.admit(base, 10.0) == "nonceBelowThreshold"
    assert book.admit(base + 1, 10.0) == "nonceDuplicate"


async def test_nonces_are_per_key() -> None:
    twin, _ = fake_twin()
    other = twin.issue_key()
    path = f"{D}/openorders"
    async with raw_client(twin) as client:
        answers = [
            (await client.get(path, headers=signed_headers(key, path, nonce=NONCE))).json()
            for key in (twin.key, other)
        ]
    assert [a["result"] for a in answers] == ["success", "success"]


async def test_five_thousand_concurrent_signed_calls_from_one_session() -> None:
    twin, exchange = fake_twin(rate_limits=False)
    async with quiet(twin) as kf:
        results = await asyncio.gather(
            *(kf.orders.status(order_ids=[f"id-{i}"]) for i in range(5000)),
            return_exceptions=True,
        )
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []
    assert not any(isinstance(r, NonceError) for r in results)
    assert len(exchange.calls) == 5000
    assert {params["orderIds"][0] for _, params, _ in exchange.calls} == {
        f"id-{i}" for i in range(5000)
    }


async def test_a_fresh_nonce_source_below_an_old_one_is_refused() -> None:
    # a second process on the same key whose clock lags far behind: Kraken refuses it
    twin, _ = fake_twin()
    lagging = NonceSource(clock=lambda: 1_700_000_000 * NS)
    path = f"{D}/openorders"
    async with raw_client(twin) as client:
        ahead = str(1_790_000_000 * NS)
        first = await client.get(path, headers=signed_headers(twin.key, path, nonce=ahead))
        stale = await client.get(path, headers=signed_headers(twin.key, path, nonce=lagging.next()))
    assert first.json()["result"] == "success"
    assert stale.json()["error"] == "nonceBelowThreshold"
