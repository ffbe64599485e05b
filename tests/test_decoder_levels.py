"""Order-book levels as ``PriceLevel`` named tuples, built in C (issue 13, item 3).

The production converter structures a whole side of a book with one msgspec call and falls
back to the per-level hook for anything msgspec refuses; both must give the same levels (same
Decimals, same exponents, same type) or the same failure as the reference converter, which
structures each level on its own.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kraken_futures_async.cli.json_output import plain
from kraken_futures_async.converter import decode_json, default_converter, make_converter
from kraken_futures_async.models import OrderBook, PriceLevel

FAST = default_converter()
REFERENCE = make_converter(fast=False)


def outcome(conv: Any, value: Any, tp: Any) -> tuple[Any, ...]:
    try:
        result = conv.structure(value, tp)
    except Exception as exc:
        return ("raised", type(exc))
    return ("ok", repr(result), _types(result))


def _types(value: Any) -> Any:
    if isinstance(value, tuple):
        return (type(value).__name__, [_types(v) for v in value])
    if attrs.has(type(value)):
        return (
            type(value).__name__,
            [_types(getattr(value, f.name)) for f in attrs.fields(type(value))],
        )
    if isinstance(value, Decimal):
        return value.as_tuple()
    return type(value).__name__


def test_a_level_reads_as_fields_and_unpacks() -> None:
    book = FAST.structure(decode_json(b'{"bids": [[67261.000, 0E-11]], "asks": []}'), OrderBook)
    level = book.bids[0]
    assert type(level) is PriceLevel
    assert level.price.as_tuple() == Decimal("67261.000").as_tuple()
    assert level.size.as_tuple() == Decimal("0E-11").as_tuple()
    price, size = level
    assert (price, size) == (level.price, level.size)
    assert level == (Decimal("67261.000"), Decimal(0))
    assert level == PriceLevel(price=Decimal(67261), size=Decimal(0))
    assert book.best_bid is level
    assert book.best_ask is None
    assert hash(level) == hash((level.price, level.size))
    assert level._replace(size=Decimal(1)).size == Decimal(1)


def test_a_level_unstructures_as_before() -> None:
    book = FAST.structure({"bids": [[1, "2.50"]], "asks": []}, OrderBook)
    expected = {"bids": [{"price": Decimal(1), "size": Decimal("2.50")}], "asks": []}
    assert FAST.unstructure(book) == expected
    assert REFERENCE.unstructure(book) == expected


def test_cli_json_shows_a_level_by_its_field_names() -> None:
    book = FAST.structure({"bids": [[1, "2.50"]], "asks": []}, OrderBook)
    assert plain(book) == {"bids": [{"price": "1", "size": "2.50"}], "asks": []}


_NUMBERS = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False),
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.sampled_from(["1.50", "abc", "", " 2", "NaN", "1_0", "0E-11"]),
)
_LEVELS = st.one_of(
    st.lists(_NUMBERS, min_size=2, max_size=2),
    st.lists(_NUMBERS, max_size=3),
    st.tuples(_NUMBERS, _NUMBERS),
    _NUMBERS,
    st.dictionaries(st.sampled_from(["price", "size"]), _NUMBERS, max_size=2),
)


@settings(max_examples=400)
@given(st.lists(_LEVELS, max_size=5), st.lists(st.lists(_NUMBERS, min_size=2, max_size=2)))
def test_a_side_structures_as_level_by_level(bids: list[Any], asks: list[Any]) -> None:
    book = {"bids": bids, "asks": asks}
    assert outcome(FAST, book, OrderBook) == outcome(REFERENCE, book, OrderBook)
    for side in (bids, asks, tuple(bids)):
        tp = tuple[PriceLevel, ...]
        assert outcome(FAST, side, tp) == outcome(REFERENCE, side, tp)


@st.composite
def _wire_books(draw: st.DrawFn) -> bytes:
    def level() -> str:
        price = draw(st.decimals(min_value=0, max_value=10**7, places=draw(st.integers(0, 6))))
        size = draw(st.decimals(min_value=0, max_value=10**5, places=draw(st.integers(0, 11))))
        return f"[{price},{size}]"

    bids = ",".join(level() for _ in range(draw(st.integers(0, 6))))
    asks = ",".join(level() for _ in range(draw(st.integers(0, 6))))
    return f'{{"bids":[{bids}],"asks":[{asks}]}}'.encode()


@settings(max_examples=200)
@given(_wire_books())
def test_wire_books_keep_every_digit(body: bytes) -> None:
    payload = decode_json(body)
    book = FAST.structure(payload, OrderBook)
    assert outcome(FAST, payload, OrderBook) == outcome(REFERENCE, payload, OrderBook)
    reference = json.loads(body, parse_float=Decimal)
    for levels, wire in ((book.bids, reference["bids"]), (book.asks, reference["asks"])):
        assert [(p.as_tuple(), s.as_tuple()) for p, s in levels] == [
            (Decimal(p).as_tuple(), Decimal(s).as_tuple()) for p, s in wire
        ]


@pytest.mark.parametrize(
    "bids",
    [[[1, 2, 3]], [[1]], [{"price": 1, "size": 2}], [None], ["12"], 5, [[True, 1]], [[1, None]]],
)
def test_a_bad_level_fails_as_before(bids: Any) -> None:
    book = {"bids": bids, "asks": []}
    assert outcome(FAST, book, OrderBook) == outcome(REFERENCE, book, OrderBook)
    assert outcome(FAST, book, OrderBook)[0] == "raised"
