"""The OpenAPI loader itself: every operation found, refs followed, validation that can fail."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from kraken_futures_async.converter import decode_json
from tests import openapi_spec as spec
from tests.openapi_spec import SchemaMismatchError


def _all_examples() -> list[tuple[str, str, str]]:
    return [
        (op.operation_id, status, name)
        for op in spec.operations()
        for status in op.responses
        for name in spec.examples(op.operation_id, status)
    ]


def test_all_64_operations_load_by_service() -> None:
    ops = spec.operations()
    assert len(ops) == 64
    assert Counter(op.service for op in ops) == {
        "trading": 47,
        "history": 9,
        "charts": 6,
        "auth": 1,
        "stats": 1,
    }
    assert len({op.operation_id for op in ops}) == 64


@pytest.mark.parametrize(
    ("operation_id", "method", "path"),
    [
        ("getTicker", "GET", "/derivatives/api/v3/tickers/{symbol}"),
        ("sendOrder", "POST", "/derivatives/api/v3/sendorder"),
        ("candles", "GET", "/api/charts/v1/{tick_type}/{symbol}/{resolution}"),
        ("tickTypes", "GET", "/api/charts/v1/"),
        ("getExecutionEvents", "GET", "/api/history/v3/executions"),
        ("checkV3ApiKey", "GET", "/api/auth/v1/api-keys/v3/check"),
        ("rebates::get_self_market_share", "GET", "/api/stats/v1/rebates/self-market-share"),
        ("cancelRfqOffer", "DELETE", "/derivatives/api/v3/rfqs/{rfqUid}/cancel-offer"),
    ],
)
def test_paths_start_at_the_host_root(operation_id: str, method: str, path: str) -> None:
    op = spec.operation(operation_id)
    assert (op.method, op.path) == (method, path)


def test_parameters_follow_refs_into_shared_files() -> None:
    symbol = spec.operation("getTicker").parameter("symbol")
    assert (symbol.location, symbol.required) == ("path", True)
    # ``_parameters.yml#/MarketSymbolPath`` -> ``_schemas.yml#/MarketSymbol``
    assert symbol.schema["pattern"] == "[A-Z0-9_.]+"
    count = spec.operation("getExecutionEvents").parameter("count", "query")
    assert count.required is False


def test_path_level_parameters_are_merged_into_operations() -> None:
    # /tickers/{symbol} declares ``symbol`` on the path item, not on the operation
    names = [p.name for p in spec.operation("getTicker").parameters]
    assert names == ["symbol"]


def test_security_says_public_or_private() -> None:
    assert spec.operation("getTickers").private is False
    assert spec.operation("candles").private is False
    send = spec.operation("sendOrder")
    assert send.private is True
    assert send.security == ({"general-api-key": (), "authent": ()},)
    # the stats call takes either a bearer token or an API key
    assert len(spec.operation("rebates::get_self_market_share").security) == 2


def test_examples_follow_component_refs_and_keep_json_values() -> None:
    ticker = spec.example("getTicker")  # a ``#/components/examples/TickerExample`` ref
    assert ticker["ticker"]["symbol"] == "pi_xbtusd"
    # unquoted YAML timestamps stay strings, as JSON would have them
    assert ticker["serverTime"] == "2022-06-17T11:00:31.335Z"
    assert ticker["ticker"]["suspended"] is False
    assert set(spec.examples("sendOrder")) == {"placed", "rejected", "executed"}
    assert spec.example("sendOrder", name="rejected")["sendStatus"]["status"] == (
        "iocWouldNotExecute"
    )


def test_examples_are_fresh_copies() -> None:
    spec.example("getTickers")["tickers"].clear()
    assert len(spec.example("getTickers")["tickers"]) == 4


def test_missing_examples_and_statuses_are_clear_errors() -> None:
    assert spec.examples("getOrderbook") == {}
    with pytest.raises(KeyError, match="getOrderbook 200 has no application/json example"):
        spec.example("getOrderbook")
    with pytest.raises(KeyError, match="no example 'nope'"):
        spec.example("sendOrder", name="nope")
    with pytest.raises(KeyError, match="no response 404"):
        spec.validate_response("getTickers", 404, {})
    with pytest.raises(KeyError, match="no operation"):
        spec.operation("getNothing")


@pytest.mark.parametrize(("operation_id", "status", "name"), _all_examples())
def test_every_spec_example_is_judged_against_its_schema(
    operation_id: str, status: str, name: str
) -> None:
    body = spec.example(operation_id, status, name)
    fault = spec.KNOWN_EXAMPLE_FAULTS.get((operation_id, name))
    if fault is None:
        spec.validate_response(operation_id, status, body)
    else:
        with pytest.raises(SchemaMismatchError):
            spec.validate_response(operation_id, status, body)


def test_known_example_faults_name_real_examples() -> None:
    named = {(op_id, name) for op_id, _, name in _all_examples()}
    assert set(spec.KNOWN_EXAMPLE_FAULTS) <= named


def test_validate_response_accepts_decimals_from_the_client_decoder() -> None:
    body = decode_json(json.dumps(spec.example("getTickers")))
    assert isinstance(body["tickers"][0]["markPrice"], Decimal)
    spec.validate_response("getTickers", 200, body)
    candles = {
        "candles": [
            {
                "time": Decimal("1620816960000.0"),
                "open": "1",
                "high": "1",
                "low": "1",
                "close": "1",
                "volume": 5,
            }
        ],
        "more_candles": False,
    }
    spec.validate_response("candles", "200", candles)


@pytest.mark.parametrize(
    ("operation_id", "breakage", "where"),
    [
        ("getTickers", lambda b: b.pop("tickers"), "'tickers' is a required property"),
        (
            "getTickers",
            lambda b: b["tickers"][0].update(suspended="no"),
            "$.tickers[0].suspended",
        ),
        ("getAccounts", lambda b: b["accounts"]["flex"].pop("pnl"), "'pnl' is a required"),
        (
            "getFills",
            lambda b: b["fills"][0].update(fillType="lucky"),
            "$.fills[0].fillType: 'lucky' is not one of",
        ),
        (
            "cancelAllOrdersAfter",
            lambda b: b["status"].update(currentTime=None),
            "$.status.currentTime",
        ),
    ],
)
def test_validate_response_rejects_a_broken_example(
    operation_id: str, breakage: Any, where: str
) -> None:
    body = spec.example(operation_id)
    spec.validate_response(operation_id, 200, body)
    breakage(body)
    with pytest.raises(SchemaMismatchError) as info:
        spec.validate_response(operation_id, 200, body)
    assert where in str(info.value)
    assert str(info.value).startswith(f"{operation_id} 200 does not match the spec")


def test_oneof_failures_name_the_closest_branch() -> None:
    body = spec.example("sendOrder", name="executed")
    with pytest.raises(SchemaMismatchError) as info:
        spec.validate_response("sendOrder", 200, body)
    assert "$.sendStatus.orderEvents[0].orderPriorExecution: 'cliOrdId'" in str(info.value)


def test_nullable_and_nullable_enums_become_json_schema() -> None:
    history = spec.response_schema("getExecutionEvents")
    text = json.dumps(history)
    assert '"nullable"' not in text
    normalized = spec._normalize({"type": ["string", "null"], "enum": ["a", "b"]})
    assert normalized["enum"] == ["a", "b", None]
    assert spec._normalize({"$ref": "#/X", "nullable": True}) == {
        "anyOf": [{"$ref": "#/X"}, {"type": "null"}]
    }


def test_request_schema_of_the_batch_form_checks_instructions() -> None:
    batch = spec.request_schema("sendBatchOrder")["properties"]["json"]
    send: dict[str, Any] = {
        "order": "send",
        "order_tag": "1",
        "orderType": "lmt",
        "symbol": "PF_XBTUSD",
        "side": "buy",
        "size": 1,
        "limitPrice": 1,
    }
    cancel = {"order": "cancel", "order_id": "c0c0c0c0-1111-4222-8333-444444444444"}
    spec.validate(batch, {"batchOrder": [send, cancel]})
    send["side"] = "up"
    with pytest.raises(SchemaMismatchError, match="side"):
        spec.validate(batch, {"batchOrder": [send, cancel]}, "batch json")
