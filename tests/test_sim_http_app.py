"""The twin's HTTP layer: routes from the endpoint table, parameters, envelopes, error forms."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest

from kraken_futures_async import InvalidRequestError, RateLimitPolicy, UnavailableError
from kraken_futures_async.rest.endpoints import ENDPOINTS, Endpoint, endpoint
from kraken_futures_async.retry import RetryPolicy
from kraken_futures_async.simulator import ExchangeError, ManualClock, Twin, TwinConfig
from kraken_futures_async.simulator._json import dumps, format_number
from kraken_futures_async.simulator.rest.app import Router, json_pairs, parse_pairs, server_time
from tests.rest_access import rest
from tests.test_sim_http_fake import FakeExchange, fake_twin, raw_client, signed_headers

D = "/derivatives/api/v3"
SERVER_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
BATCH = (
    '{"batchOrder":[{"order":"send","order_tag":"1","orderType":"lmt","symbol":"PF_XBTUSD",'
    '"side":"buy","size":0.0001,"limitPrice":50000,"cliOrdId":"a&b+c%41 d=e"},'
    '{"order":"cancel","order_id":"6e88d923-630d-40aa-af4f-64e5e2b3ad03"}]}'
)


def _concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: f"X{m.group(1)}", path)


# --- routing ------------------------------------------------------------------------------


def test_every_row_and_alias_of_the_endpoint_table_is_routed() -> None:
    router = Router()
    for row in ENDPOINTS:
        for path in (row.path, *row.aliases):
            found = router.match(row.method, _concrete(path))
            assert not isinstance(found, int), (row.name, path)
            matched, params = found
            assert matched is row
            names = re.findall(r"\{(\w+)\}", path)
            assert params == {name: f"X{name}" for name in names}


def test_orders_status_answers_on_get_and_post() -> None:
    router = Router()
    for method in ("GET", "POST"):
        found = router.match(method, f"{D}/orders/status")
        assert not isinstance(found, int)
        assert found[0].name == "order_status"


def test_router_tells_unknown_paths_from_wrong_methods() -> None:
    router = Router()
    assert router.match("GET", f"{D}/nosuchthing") == 404
    assert router.match("GET", "/derivatives/api/v9/tickers") == 404
    assert router.match("DELETE", f"{D}/tickers") == 405
    assert router.match("GET", f"{D}/sendorder") == 405


async def test_unknown_derivatives_path_is_a_json_404() -> None:
    twin, exchange = fake_twin()
    async with raw_client(twin) as client:
        response = await client.get(f"{D}/nosuchthing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == ["status", "result", "errors", "serverTime"]
    assert body["status"] == "NOT_FOUND"
    assert body["result"] == "error"
    assert body["errors"] == [{"code": 0, "message": "404 NOT_FOUND"}]
    assert body["serverTime"] == "2026-11-24T00:00:00.000Z"
    assert exchange.calls == []


async def test_wrong_method_is_a_json_405() -> None:
    twin, exchange = fake_twin()
    async with raw_client(twin) as client:
        response = await client.post(f"{D}/tickers")
    assert response.status_code == 405
    body = response.json()
    assert body["status"] == "METHOD_NOT_ALLOWED"
    assert body["errors"] == [{"code": 0, "message": "405 METHOD_NOT_ALLOWED"}]
    assert exchange.calls == []


async def test_path_parameters_reach_the_engine() -> None:
    twin, exchange = fake_twin()
    async with raw_client(twin) as client:
        ticker = await client.get(f"{D}/tickers/PF_XBTUSD")
        candles = await client.get("/api/charts/v1/trade/PF_ETHUSD/1h", params={"from": "1"})
    assert ticker.json()["ticker"]["symbol"] == "PF_XBTUSD"
    assert candles.json() == {"candles": [], "more_candles": False}
    assert exchange.calls[0] == ("ticker", {"symbol": ["PF_XBTUSD"]}, None)
    assert exchange.calls[1] == (
        "candles",
        {"from": ["1"], "tick_type": ["trade"], "symbol": ["PF_ETHUSD"], "resolution": ["1h"]},
        None,
    )


# --- parameters ---------------------------------------------------------------------------


async def test_query_then_form_body_merged_with_repeated_keys() -> None:
    twin, exchange = fake_twin()
    path = f"{D}/orders/status"
    query = "orderIds=q1&flag=True"
    body = "orderIds=b1&orderIds=b2&cliOrdIds=hello+world&cliOrdIds=a%3Ab&empty="
    headers = signed_headers(twin.key, path, query=query, body=body, nonce="1")
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    async with raw_client(twin) as client:
        response = await client.post(f"{path}?{query}", content=body, headers=headers)
    assert response.json()["result"] == "success"
    operation, params, account = exchange.calls[0]
    assert operation == "order_status"
    assert account == twin.account_uid
    assert params == {
        "orderIds": ["q1", "b1", "b2"],
        "flag": ["True"],  # booleans pass through as sent; the engine reads them
        "cliOrdIds": ["hello world", "a:b"],
        "empty": [""],
    }


async def test_get_without_content_type_and_post_with_empty_body_are_accepted() -> None:
    twin, exchange = fake_twin()
    path = f"{D}/orders/status"
    async with raw_client(twin) as client:
        get = await client.get(
            f"{path}?orderIds=x", headers=signed_headers(twin.key, path, query="orderIds=x")
        )
        post = await client.post(path, headers=signed_headers(twin.key, path))
    assert "content-type" not in get.request.headers
    assert get.json()["result"] == "success"
    assert post.json()["result"] == "success"
    assert [params for _, params, _ in exchange.calls] == [{"orderIds": ["x"]}, {}]


@pytest.mark.parametrize("encoded", [True, False], ids=["url-encoded", "raw"])
async def test_batch_json_arrives_whole_encoded_or_raw(encoded: bool) -> None:
    twin, exchange = fake_twin()
    path = f"{D}/batchorder"
    if encoded:
        body = urlencode({"json": BATCH, "processBefore": "2026-11-24T00:00:10.000Z"})
    else:
        body = f"json={BATCH}&processBefore=2026-11-24T00%3A00%3A10.000Z"
    headers = signed_headers(twin.key, path, body=body, nonce="5")
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    async with raw_client(twin) as client:
        response = await client.post(path, content=body, headers=headers)
    assert [item["order_tag"] for item in response.json()["batchStatus"]] == ["1", "None"]
    _, params, _ = exchange.calls[0]
    assert params == {"json": [BATCH], "processBefore": ["2026-11-24T00:00:10.000Z"]}


def test_parse_pairs_keeps_raw_json_whole_and_decodes_the_rest() -> None:
    assert parse_pairs(b"") == []
    assert parse_pairs(b"a=1&a=2&b=x+y&c=%7B") == [("a", "1"), ("a", "2"), ("b", "x y"), ("c", "{")]
    raw = b'x=1&json={"k":"a&b+c"}&y=%3A'
    assert parse_pairs(raw) == [("x", "1"), ("json", '{"k":"a&b+c"}'), ("y", ":")]
    # not JSON after all: read as an ordinary form value
    assert parse_pairs(b"json={nope&z=1") == [("json", "{nope"), ("z", "1")]
    # JSON followed by junk is not a raw JSON value either
    assert parse_pairs(b'json={"a":1}x&z=1') == [("json", '{"a":1}x'), ("z", "1")]
    assert parse_pairs(b"flag&k=") == [("flag", ""), ("k", "")]


def test_json_bodies_become_pairs() -> None:
    assert json_pairs(b'{"bid": 100.50, "ask": "7", "on": true, "gone": null, "n": [1, 2]}') == [
        ("bid", "100.50"),
        ("ask", "7"),
        ("on", "true"),
        ("n", "[1,2]"),
    ]
    for bad in (b"[1]", b"{nope"):
        with pytest.raises(ExchangeError) as caught:
            json_pairs(bad)
        assert caught.value.code == "Json Parse Error"


# --- envelopes and numbers ----------------------------------------------------------------


async def test_success_envelope_and_exact_numbers_on_the_wire() -> None:
    twin, exchange = fake_twin()
    exchange.clock.advance(1.2345)
    async with raw_client(twin) as client:
        response = await client.get(f"{D}/tickers")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    text = response.text
    assert text.startswith('{"result":"success","tickers":[')
    assert text.endswith(',"serverTime":"2026-11-24T00:00:01.234Z"}')
    assert '"last":64005.7,' in text
    assert '"vol24h":0.00000000000}' in text
    body = json.loads(text, parse_float=Decimal)
    assert body["tickers"][1]["last"] == Decimal("3100.25")


async def test_answers_without_envelope_are_the_payload_itself() -> None:
    twin, _ = fake_twin()
    async with raw_client(twin) as client:
        response = await client.get("/api/charts/v1/mark/PF_XBTUSD/1m")
    assert response.content == b'{"candles":[],"more_candles":false}'


async def test_history_answers_have_no_envelope_and_repeat_the_token_as_a_header() -> None:
    twin, exchange = fake_twin()
    async with raw_client(twin) as client:
        answers = []
        for version in ("v3", "v2"):
            path = f"/api/history/{version}/orders"
            answers.append(await client.get(path, headers=signed_headers(twin.key, path)))
    for response in answers:
        assert response.json() == {
            "accountUid": "acct",
            "len": 0,
            "elements": [],
            "continuationToken": "bmV4dA==",
        }
        assert response.headers["next-continuation-token"] == "bmV4dA=="
    assert exchange.operations() == ["history_orders", "history_orders"]


async def test_text_answers_go_out_as_text() -> None:
    twin, _ = fake_twin()
    path = "/api/history/v3/accountlogcsv"
    async with raw_client(twin) as client:
        response = await client.get(path, headers=signed_headers(twin.key, path))
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.text == "id,date,asset\n1,2026-11-24T00:00:00.000Z,usd\n"


async def test_the_library_reads_history_pages_and_csv_from_the_twin() -> None:
    twin, _ = fake_twin()
    async with twin.session(
        rate_limits=RateLimitPolicy.unlimited(), retry=RetryPolicy.never()
    ) as kf:
        csv = await rest(kf).call(endpoint("account_log_csv"))
        page = await rest(kf).call(endpoint("history_orders"))
    assert csv.startswith("id,date,asset")
    assert page.continuation_token == "bmV4dA=="


def test_server_time_has_milliseconds_and_z() -> None:
    assert server_time(0) == "1970-01-01T00:00:00.000Z"
    assert server_time(1_700_000_000.9999) == "2023-11-14T22:13:20.999Z"
    assert SERVER_TIME.match(server_time(1_800_000_000.5))


def test_decimals_are_written_in_plain_notation_never_through_float() -> None:
    values = [Decimal("6.40057E+4"), Decimal("1E+3"), Decimal("-0.000000012"), Decimal("1.50")]
    assert dumps({"v": values}) == b'{"v":[64005.7,1000,-0.000000012,1.50]}'
    assert format_number(Decimal("123456789012345678901234567890.123456789")) == (
        "123456789012345678901234567890.123456789"
    )
    for bad in ("NaN", "Infinity", "-Infinity", "sNaN"):
        with pytest.raises(ValueError, match="finite"):
            dumps(Decimal(bad))


def test_strings_that_look_like_number_markers_stay_strings() -> None:
    sneaky = ["~0123456789abcdef~1.5~0123456789abcdef~", "~~", '"~', "1.5"]
    assert json.loads(dumps(sneaky)) == sneaky


# --- error forms --------------------------------------------------------------------------


async def test_structured_error_carries_http_status_and_reason() -> None:
    twin, _ = fake_twin()
    async with raw_client(twin) as client:
        response = await client.get(f"{D}/tickers/PF_NOPE")
    assert response.status_code == 400
    assert response.json() == {
        "status": "BAD_REQUEST",
        "result": "error",
        "errors": [{"code": 11, "message": "Argument invalid: symbol"}],
        "serverTime": "2026-11-24T00:00:00.000Z",
    }


async def test_plain_text_error() -> None:
    twin, _ = fake_twin()
    async with raw_client(twin) as client:
        response = await client.get("/api/charts/v1/mark/PF_XBTUSD/7m")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "Invalid resolution"


async def test_classic_error_is_http_200() -> None:
    twin, _ = fake_twin()
    path = f"{D}/openpositions"  # the fake engine does not know it: "Unavailable"
    async with raw_client(twin) as client:
        response = await client.get(path, headers=signed_headers(twin.key, path))
    assert response.status_code == 200
    assert response.json() == {
        "result": "error",
        "error": "Unavailable",
        "serverTime": "2026-11-24T00:00:00.000Z",
    }


async def test_the_client_reads_each_error_form_as_its_exception() -> None:
    twin, _ = fake_twin()
    async with twin.session(
        rate_limits=RateLimitPolicy.unlimited(), retry=RetryPolicy.never()
    ) as kf:
        with pytest.raises(InvalidRequestError) as structured:
            await kf.market.ticker("PF_NOPE")
        with pytest.raises(UnavailableError) as classic:
            await kf.account.open_positions()
    assert structured.value.code == 11
    assert structured.value.http_status == 400
    assert classic.value.code == "Unavailable"


class _BrokenExchange(FakeExchange):
    def _tickers(self, params: dict[str, list[str]]) -> dict[str, Any]:
        raise RuntimeError("engine bug")


async def test_an_engine_crash_is_a_500_server_error_and_is_recorded() -> None:
    clock = ManualClock()
    twin = Twin(TwinConfig(clock=clock), exchange=_BrokenExchange(clock))
    async with raw_client(twin) as client:
        response = await client.get(f"{D}/tickers")
        again = await client.get(f"{D}/tickers/PF_XBTUSD")
    assert response.status_code == 500
    assert response.json()["error"] == "Server Error"
    assert again.status_code == 200  # the server keeps serving
    assert [type(e) for e in twin.app.internal_errors] == [RuntimeError]


async def test_lifespan_startup_and_shutdown_are_acknowledged() -> None:
    twin, _ = fake_twin()
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: Any) -> None:
        sent.append(dict(message))

    await twin.app({"type": "lifespan"}, receive, send)
    assert sent == [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]


# --- determinism --------------------------------------------------------------------------


async def _script(twin: Twin, clock: ManualClock) -> list[bytes]:
    bodies = []
    async with raw_client(twin) as client:
        for step in range(3):
            clock.advance(0.5)
            path = f"{D}/sendorder"
            body = urlencode({"symbol": "PF_XBTUSD", "size": str(step + 1), "cliOrdId": f"c{step}"})
            headers = signed_headers(twin.key, path, body=body, nonce=str(10 + step))
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            bodies.append((await client.post(path, content=body, headers=headers)).content)
            bodies.append((await client.get(f"{D}/nosuch")).content)
    return bodies


async def test_same_seed_and_calls_give_the_same_answers() -> None:
    first, first_exchange = fake_twin(seed=7)
    second, second_exchange = fake_twin(seed=7)
    other, _ = fake_twin(seed=8)
    assert first.key == second.key
    assert first.account_uid == second.account_uid
    assert other.key.public_key != first.key.public_key
    assert other.account_uid != first.account_uid
    first_answers = await _script(first, first_exchange.clock)
    assert first_answers == await _script(second, second_exchange.clock)
    assert b'"serverTime":"2026-11-24T00:00:01.500Z"' in first_answers[-2]


def test_endpoint_rows_are_the_routes_client_and_twin_share() -> None:
    # the client's URL for a templated row is exactly what the twin's router takes apart
    row: Endpoint = endpoint("ticker")
    url = row.url_path({"symbol": "PF_XBT/USD"})
    assert url == f"{D}/tickers/{quote('PF_XBT/USD', safe='')}"
    found = Router().match("GET", httpx.URL(url).path)
    # a decoded '/' inside a segment cannot be matched: Kraken symbols never hold one
    assert found == 404
