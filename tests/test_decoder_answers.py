"""Answers decoded straight into models (``_typed_answers``) against the general path.

The general path is what every answer went through before: ``read_payload`` (json with exact
Decimals, Kraken's envelope) and the production converter. For every answer the fast decoder
either gives :data:`MISS` (the general path then decides) or exactly the general path's
models: same types, same Decimal digits, same times. Whenever the general path raises, the
fast one misses, so every error stays the general path's own.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kraken_futures_async._typed_answers import MISS, AnswerDecoder, answer_decoder
from kraken_futures_async.converter import default_converter, wire_name
from kraken_futures_async.models import Ticker
from kraken_futures_async.rest.endpoints import ENDPOINTS, Endpoint, endpoint
from kraken_futures_async.rest.envelope import read_payload
from tests import openapi_spec as spec
from tests.schema_samples import sample

CONV = default_converter()
ROWS = {row.operation_id: row for row in ENDPOINTS}
DECODERS: dict[str, AnswerDecoder] = {}
for _row in ENDPOINTS:
    _decoder = answer_decoder(CONV, wire_name, _row.result, _row.result_key)
    if _decoder is not None:
        DECODERS[_row.name] = _decoder


def general(row: Endpoint, body: bytes) -> tuple[Any, ...]:
    """The general path's outcome and the server times it reported."""
    times: list[str] = []
    response = httpx.Response(200, content=body, headers={"Content-Type": "application/json"})
    try:
        result = CONV.structure(read_payload(row, response, times.append), row.result)
    except Exception as exc:
        return ("raised", type(exc).__name__, times)
    return ("ok", repr(result), times)


def fast(row: Endpoint, body: bytes) -> tuple[Any, ...] | None:
    """The fast path's outcome, or None when it leaves the answer to the general path."""
    times: list[str] = []
    result = DECODERS[row.name](body, times.append)
    if result is MISS:
        assert times == []
        return None
    return ("ok", repr(result), times)


def check(row: Endpoint, body: bytes) -> tuple[Any, ...] | None:
    expected = general(row, body)
    got = fast(row, body)
    if got is not None:
        assert got == expected
    return got


def test_the_market_reads_have_a_fast_decoder() -> None:
    assert {"tickers", "ticker", "orderbook", "trades", "fills", "open_orders"} <= set(DECODERS)
    # an answer with a model the mirrors cannot hold exactly keeps the general path
    assert answer_decoder(CONV, wire_name, endpoint("instruments").result, "instruments") is None
    assert answer_decoder(CONV, wire_name, endpoint("accounts").result, "accounts") is None


def _bodies() -> list[tuple[str, str, Any]]:
    found: list[tuple[str, str, Any]] = []
    for op in spec.operations():
        row = ROWS.get(op.operation_id)
        if row is None or row.name not in DECODERS:
            continue
        for name, body in spec.examples(op.operation_id, "200").items():
            found.append((row.name, f"example {name}", body))
        schema = spec.response_schema(op.operation_id, "200")
        for variant in range(3):
            found.append((row.name, f"sample {variant}", sample(schema, variant)))
    return found


BODIES = _bodies()


@pytest.mark.parametrize(
    ("name", "label", "body"), BODIES, ids=[f"{n}-{label}" for n, label, _ in BODIES]
)
def test_documented_answers_decode_as_on_the_general_path(name: str, label: str, body: Any) -> None:
    check(endpoint(name), json.dumps(body, default=str).encode())


def test_a_ticker_list_is_served_by_the_fast_path() -> None:
    body = (
        b'{"result":"success","serverTime":"2025-10-21T08:42:03.057Z","tickers":['
        b'{"symbol":"PF_XBTUSD","last":67261.000,"lastTime":"2025-10-21T08:42:03.057503Z",'
        b'"openInterest":0E-11,"fundingRate":9.288451412e-7,"suspended":false,"tag":"perpetual",'
        b'"greeks":{"iv":0.5,"delta":1E+3},"unknownKey":[1,{"x":2}]},{"symbol":"in_xbtusd","last":1}]}'
    )
    row = endpoint("tickers")
    got = check(row, body)
    assert got is not None
    assert got[2] == ["2025-10-21T08:42:03.057Z"]
    tickers = DECODERS["tickers"](body)
    assert type(tickers) is list
    assert type(tickers[0]) is Ticker
    last, open_interest = tickers[0].last, tickers[0].open_interest
    assert last is not None
    assert open_interest is not None
    assert last.as_tuple() == Decimal("67261.000").as_tuple()
    assert open_interest.as_tuple() == Decimal("0E-11").as_tuple()


def test_an_order_book_is_served_by_the_fast_path() -> None:
    body = b'{"result":"success","orderBook":{"bids":[[67261.000,0E-11],[1,"2.5"]],"asks":[]}}'
    assert check(endpoint("orderbook"), body) is not None


@pytest.mark.parametrize(
    "body",
    [
        b'{"result":"error","error":"apiLimitExceeded","serverTime":"2025-10-21T08:42:03Z"}',
        b'{"result":"success","error":"","tickers":[]}',
        b'{"result":"success","errors":[{"code":1}],"tickers":[]}',
        b'{"result":"success","tickers":[{"symbol":"X","lastTime":"2025-10-21T08:42:03+01:00"}]}',
        b'{"result":"success","tickers":[{"symbol":"X","lastTime":"2025-10-21T08:42:03"}]}',
        b'{"result":"success","tickers":[{"symbol":"X","lastTime":"2025-10-21T08:42:03.1234567Z"}]}',
        b'{"result":"success","tickers":[{"symbol":"X","lastTime":"2025-10-21t08:42:03z"}]}',
        b'{"result":"success","tickers":[{"symbol":"X","lastTime":1729500123000}]}',
        '{"result":"success","tickers":[{"symbol":"X","lastTime":"\u0662025-10-21T08:42:03Z"}]}'.encode(),
        b'{"result":"success","tickers":[{"symbol":"X","lastTime":"2025-10-21T08:42:03Z\\n"}]}',
        b'{"result":"success","tickers":[{"symbol":"X","last":"abc"}]}',
        b'{"result":"success","tickers":[{"symbol":5}]}',
        b'{"result":"success","tickers":[{"symbol":"X","suspended":1}]}',
        b'{"result":"success","tickers":[{"last":1}]}',
        b'{"result":"success","tickers":{}}',
        b'{"result":"success"}',
        b'{"result":"success","tickers":[1,]}',
        b"[" * 100_000 + b"]" * 100_000,
        b"\xef\xbb\xbf" + b'{"result":"success","tickers":[]}',
        b'{"result":"success","tickers":[{"symbol":"\\ud800"}]}',
    ],
)
def test_everything_else_is_left_to_the_general_path(body: bytes) -> None:
    assert fast(endpoint("tickers"), body) is None


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.decimals(allow_nan=False, allow_infinity=False).map(lambda d: _Raw(str(d))),
    st.sampled_from(["", "abc", "1.50", " 2", "NaN", "1_0", "perpetual", "0E-11"]),
    st.sampled_from(
        [
            "2025-10-21T08:42:03Z",
            "2025-10-21T08:42:03.5Z",
            "2025-10-21T08:42:03.057503Z",
            "2025-10-21T08:42:03.0575039Z",
            "2025-10-21 08:42:03Z",
            "2025-10-21T08:42:03+00:00",
            "2025-10-21T08:42:03z",
        ]
    ),
    st.lists(st.integers(), max_size=2),
)


class _Raw(str):
    """A number's text, written into the JSON as a number."""


def _dumps(value: Any) -> str:
    if isinstance(value, _Raw):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_dumps(v) for v in value) + "]"
    return json.dumps(value)


_TICKER_KEYS = ["symbol", "last", "lastTime", "markPrice", "vol24h", "suspended", "tag", "greeks"]


@settings(max_examples=400)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(_TICKER_KEYS),
            st.one_of(_VALUES, st.fixed_dictionaries({"iv": _VALUES, "delta": _VALUES})),
            max_size=6,
        ).map(lambda d: {"symbol": "PF_XBTUSD", **d} if "symbol" not in d else d),
        max_size=3,
    ),
    st.sampled_from(["success", "error", None]),
)
def test_random_tickers_decode_as_on_the_general_path(tickers: list[Any], result: Any) -> None:
    body = {"result": result, "serverTime": "2025-10-21T08:42:03Z", "tickers": tickers}
    check(endpoint("tickers"), _dumps(body).encode())


@settings(max_examples=300)
@given(st.lists(st.lists(_VALUES, max_size=3), max_size=4))
def test_random_book_levels_decode_as_on_the_general_path(bids: list[Any]) -> None:
    body = {"result": "success", "orderBook": {"bids": bids, "asks": [[_Raw("1.0"), 2]]}}
    check(endpoint("orderbook"), _dumps(body).encode())
