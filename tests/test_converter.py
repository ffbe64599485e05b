"""Exact numbers, aware UTC times, tolerant enums and a lenient-vs-strict converter (item 7)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import cattrs
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kraken_futures_async import (
    Credentials,
    KrakenFuturesError,
    RateLimitPolicy,
    ResponseInvalidError,
    Session,
)
from kraken_futures_async._values import format_datetime, format_decimal
from kraken_futures_async.converter import (
    decode_json,
    default_converter,
    parse_datetime,
    strict_converter,
    to_decimal,
)
from kraken_futures_async.models import (
    Candle,
    Fill,
    FillType,
    OpenPosition,
    OrderRequestStatus,
    PositionSide,
    Side,
    Ticker,
)
from kraken_futures_async.retry import RetryPolicy
from tests.conftest import BASE_URL

UTC = dt.UTC


def leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for item in value.values():
            yield from leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from leaves(item)
    else:
        yield value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0E-11", "0E-11"),
        ("67261.000", "67261.000"),
        ("9.288451412e-7", "9.288451412E-7"),
        ("1950.596600000000000", "1950.596600000000000"),
        ("-0.0000123", "-0.0000123"),
        ("1E+3", "1E+3"),
        ("0.1", "0.1"),
    ],
)
def test_json_numbers_become_exact_decimals(text: str, expected: str) -> None:
    value = decode_json(f'{{"x": {text}}}')["x"]
    assert isinstance(value, Decimal)
    assert str(value) == expected
    assert value.as_tuple() == Decimal(expected).as_tuple()


def test_trailing_zeros_keep_their_exponent() -> None:
    value = decode_json("[67261.000]")[0]
    assert value.as_tuple().exponent == -3
    assert format_decimal(value) == "67261.000"


def test_big_integers_stay_exact() -> None:
    big = 123456789012345678901234567890123
    value = decode_json(f"[{big}]")[0]
    assert to_decimal(value) == Decimal(big)
    assert str(to_decimal(value)) == str(big)


def test_no_float_anywhere_in_a_decoded_payload() -> None:
    text = (
        '{"tickers":[{"last":64006.5,"vol24h":4821.3,"fundingRate":9.288451412e-7,'
        '"nested":{"a":[0.1,0.2,1E-9]},"size":0E-11}]}'
    )
    numbers = [v for v in leaves(decode_json(text)) if isinstance(v, int | float | Decimal)]
    assert len(numbers) == 7
    assert not any(isinstance(v, float) for v in numbers)


@pytest.mark.parametrize("text", ["[NaN]", "[Infinity]", '{"x": -Infinity}'])
def test_non_standard_json_constants_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="JSON"):
        decode_json(text)


def test_model_fields_are_exact() -> None:
    payload = decode_json(
        '{"symbol":"PF_XBTUSD","last":67261.000,"fundingRate":9.288451412e-7,'
        '"openInterest":0E-11,"lastTime":"2025-10-21T08:42:03.057503Z"}'
    )
    ticker = strict_converter().structure(payload, Ticker)
    assert str(ticker.last) == "67261.000"
    assert ticker.funding_rate == Decimal("9.288451412E-7")
    assert str(ticker.open_interest) == "0E-11"
    assert ticker.last_time == dt.datetime(2025, 10, 21, 8, 42, 3, 57503, tzinfo=UTC)


def test_charts_string_prices_and_numeric_volume() -> None:
    candle = strict_converter().structure(
        {
            "time": 1700000000000,
            "open": "309.15000000000",
            "high": "310",
            "low": "300.5",
            "close": "305",
            "volume": 0,
        },
        Candle,
    )
    assert str(candle.open) == "309.15000000000"
    assert candle.volume == Decimal(0)
    assert candle.time == dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.1, "0.1"),
        (1e-7, "1E-7"),
        ("309.15000000000", "309.15000000000"),
        (7, "7"),
        (Decimal("1.50"), "1.50"),
    ],
)
def test_to_decimal_accepts_numbers_and_strings(value: Any, expected: str) -> None:
    assert str(to_decimal(value)) == expected


@pytest.mark.parametrize("value", [True, None, "abc", "", [1], {"a": 1}], ids=repr)
def test_to_decimal_refuses_non_numbers(value: Any) -> None:
    with pytest.raises((TypeError, ValueError)):
        to_decimal(value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-09-24T08:00:00Z", dt.datetime(2025, 9, 24, 8, 0, tzinfo=UTC)),
        ("2024-05-01T12:00:00.123Z", dt.datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=UTC)),
        ("2025-10-21T08:42:03.057503Z", dt.datetime(2025, 10, 21, 8, 42, 3, 57503, tzinfo=UTC)),
        ("2025-10-21T08:42:03.0575039Z", dt.datetime(2025, 10, 21, 8, 42, 3, 57503, tzinfo=UTC)),
        ("2024-05-01T12:00:00.123+00:00", dt.datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=UTC)),
        ("2024-05-01 12:00:00+00:00", dt.datetime(2024, 5, 1, 12, 0, tzinfo=UTC)),
        ("2024-05-01 12:00:00.5Z", dt.datetime(2024, 5, 1, 12, 0, 0, 500000, tzinfo=UTC)),
        ("2024-05-01T14:00:00+02:00", dt.datetime(2024, 5, 1, 12, 0, tzinfo=UTC)),
        ("2024-05-01T12:00:00", dt.datetime(2024, 5, 1, 12, 0, tzinfo=UTC)),
        (1700000000123, dt.datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)),
        (0, dt.datetime(1970, 1, 1, tzinfo=UTC)),
    ],
)
def test_datetimes_are_aware_utc(text: str | int, expected: dt.datetime) -> None:
    parsed = parse_datetime(text)
    assert parsed == expected
    assert parsed.tzinfo is not None
    assert parsed.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize("value", ["yesterday", "", "2024-13-01T00:00:00Z", None, True, 1.5])
def test_bad_datetimes_are_refused(value: Any) -> None:
    with pytest.raises((TypeError, ValueError)):
        parse_datetime(value)


def test_format_datetime_is_millisecond_utc() -> None:
    paris = dt.timezone(dt.timedelta(hours=2))
    value = dt.datetime(2024, 5, 1, 14, 0, 0, 987654, tzinfo=paris)
    assert format_datetime(value) == "2024-05-01T12:00:00.987Z"
    with pytest.raises(ValueError, match="naive"):
        format_datetime(dt.datetime(2024, 5, 1))


def test_enums_map_unknown_values_to_unknown() -> None:
    assert Side("long") is Side.UNKNOWN
    assert PositionSide("flat") is PositionSide.UNKNOWN
    assert OrderRequestStatus("someFutureStatus") is OrderRequestStatus.UNKNOWN
    assert FillType("takerAfterEdit") is FillType.TAKER_AFTER_EDIT
    fill = strict_converter().structure(
        {
            "fill_id": "f-1",
            "order_id": "o-1",
            "symbol": "PF_XBTUSD",
            "side": "sideways",
            "size": 0.0006,
            "price": 64010,
            "fillTime": "2024-05-01T12:00:01.008Z",
            "fillType": "brandNewFillType",
        },
        Fill,
    )
    assert fill.side is Side.UNKNOWN
    assert fill.fill_type is FillType.UNKNOWN


POSITION = {"side": "long", "symbol": "PF_XBTUSD", "price": 64010.4, "size": 0.001}


def test_production_converter_ignores_unknown_fields() -> None:
    position = default_converter().structure({**POSITION, "addedIn2027": 1}, OpenPosition)
    assert position.symbol == "PF_XBTUSD"
    assert position.side is PositionSide.LONG


def test_strict_converter_forbids_unknown_fields() -> None:
    with pytest.raises(cattrs.ClassValidationError) as info:
        strict_converter().structure({**POSITION, "addedIn2027": 1}, OpenPosition)
    extra = [e for e in info.value.exceptions if isinstance(e, cattrs.ForbiddenExtraKeysError)]
    assert extra
    assert extra[0].extra_fields == {"addedIn2027"}
    assert strict_converter().structure(POSITION, OpenPosition).size == Decimal("0.001")


def decimals() -> st.SearchStrategy[Decimal]:
    return st.builds(
        lambda sign, digits, exponent: Decimal(
            (sign, tuple(int(c) for c in str(digits)), exponent)
        ),
        st.sampled_from([0, 1]),
        st.integers(min_value=0, max_value=10**30),
        st.integers(min_value=-30, max_value=30),
    )


@given(decimals())
def test_json_number_text_structures_to_an_equal_decimal(value: Decimal) -> None:
    raw = str(value)
    text = json.dumps({"x": "PLACEHOLDER"}).replace('"PLACEHOLDER"', raw)
    decoded = decode_json(text)["x"]
    assert not isinstance(decoded, float)
    structured = default_converter().structure(decoded, Decimal)
    assert structured == value
    if any(c in raw for c in ".eE"):
        assert structured.as_tuple() == value.as_tuple()


@given(decimals())
def test_format_decimal_never_emits_an_exponent(value: Decimal) -> None:
    text = format_decimal(value)
    assert "e" not in text.lower()
    assert Decimal(text) == value
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    if exponent < 0:
        assert Decimal(text).as_tuple().exponent == exponent


WRONG_SHAPES: list[tuple[str, str, Any]] = [
    ("tickers", "/derivatives/api/v3/tickers", {"tickers": {"not": "a list"}}),
    ("tickers", "/derivatives/api/v3/tickers", {"tickers": ["a string"]}),
    ("tickers", "/derivatives/api/v3/tickers", {"tickers": [{"last": 1}]}),
    ("tickers", "/derivatives/api/v3/tickers", {"tickers": [{"symbol": "X", "last": "abc"}]}),
    ("tickers", "/derivatives/api/v3/tickers", {"tickers": [{"symbol": "X", "last": True}]}),
    ("tickers", "/derivatives/api/v3/tickers", {"tickers": [{"symbol": "X", "lastTime": "?"}]}),
    ("tickers", "/derivatives/api/v3/tickers", {"tickers": None}),
    ("tickers", "/derivatives/api/v3/tickers", {"result": "success"}),
    ("tickers", "/derivatives/api/v3/tickers", [1, 2, 3]),
    ("tickers", "/derivatives/api/v3/tickers", "just a string"),
    ("tickers", "/derivatives/api/v3/tickers", None),
    ("orderbook", "/derivatives/api/v3/orderbook", {"orderBook": {"bids": [[1]], "asks": []}}),
    ("orderbook", "/derivatives/api/v3/orderbook", {"orderBook": {"bids": 5, "asks": []}}),
    ("orderbook", "/derivatives/api/v3/orderbook", {"orderBook": []}),
    ("accounts", "/derivatives/api/v3/accounts", {"accounts": []}),
    ("accounts", "/derivatives/api/v3/accounts", {"accounts": {"cash": 5}}),
    ("accounts", "/derivatives/api/v3/accounts", {"accounts": {"cash": {"type": "cashAccount"}}}),
    ("open_positions", "/derivatives/api/v3/openpositions", {"result": "success"}),
    ("open_positions", "/derivatives/api/v3/openpositions", {"openPositions": [{"side": 1}]}),
    ("candles", "/api/charts/v1/trade/PF_XBTUSD/1h", {"candles": "none"}),
    ("candles", "/api/charts/v1/trade/PF_XBTUSD/1h", [{"time": 1}]),
    ("candles", "/api/charts/v1/trade/PF_XBTUSD/1h", {"candles": [{"time": 10**30}]}),
    ("cancel_all_orders_after", "/derivatives/api/v3/cancelallordersafter", {"status": "x"}),
]


async def call_operation(kf: Session, operation: str) -> Any:
    if operation == "tickers":
        return await kf.market.tickers()
    if operation == "orderbook":
        return await kf.market.orderbook("PF_XBTUSD")
    if operation == "accounts":
        return await kf.account.accounts()
    if operation == "open_positions":
        return await kf.account.open_positions()
    if operation == "candles":
        return await kf.market.candles("PF_XBTUSD", "1h")
    return await kf.orders.cancel_all_after(60)


@pytest.mark.parametrize(("operation", "path", "body"), WRONG_SHAPES)
async def test_wrong_shape_through_a_session_is_response_invalid(
    credentials: Credentials, operation: str, path: str, body: Any
) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, text=json.dumps(body))

    async with Session(
        credentials,
        base_url=BASE_URL,
        rate_limits=RateLimitPolicy.unlimited(),
        retry=RetryPolicy.never(),  # a garbled read is otherwise asked for again
        transport=httpx.MockTransport(handler),
    ) as kf:
        try:
            await call_operation(kf, operation)
        except KrakenFuturesError as exc:
            error: KrakenFuturesError = exc
        else:
            pytest.fail(f"{operation} accepted {body!r}")
    assert seen == [path]
    assert type(error) is ResponseInvalidError
    assert error.endpoint == operation
    assert str(error)


async def test_json_with_nan_through_a_session_is_response_invalid() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, text='{"result":"success","tickers":[{"symbol":"X","last":NaN}]}'
        )

    async with Session(
        base_url=BASE_URL,
        rate_limits=RateLimitPolicy.unlimited(),
        transport=httpx.MockTransport(handler),
    ) as kf:
        with pytest.raises(ResponseInvalidError):
            await kf.market.tickers()
