"""The production converter's fast structure functions against cattrs' own (issue 6).

The fast functions must give what cattrs' generated functions give: the same models for every
valid payload of every endpoint (the spec's examples and payloads built from its schemas,
compared with the strict converter too), and the same result or the same exception for
payloads broken at random. Decimal and datetime fast paths are held to the general code.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import pickle
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs
import cattrs
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kraken_futures_async import _fast_structure
from kraken_futures_async import converter as converter_module
from kraken_futures_async._values import _parse_datetime_general, parse_datetime, to_decimal
from kraken_futures_async.converter import default_converter, make_converter, strict_converter
from kraken_futures_async.models import OrderBook, PriceLevel, Side, Ticker
from kraken_futures_async.models._base import wire
from kraken_futures_async.rest.endpoints import ENDPOINTS, Endpoint
from kraken_futures_async.rest.envelope import read_payload
from tests import openapi_spec as spec
from tests.schema_samples import sample

UTC = dt.UTC
FAST = default_converter()
#: cattrs' generated functions alone, as lenient as the production converter.
REFERENCE = make_converter(fast=False)
ROWS = {row.operation_id: row for row in ENDPOINTS}


def _answer(body: Any) -> httpx.Response:
    content = json.dumps(body).encode()
    return httpx.Response(200, content=content, headers={"Content-Type": "application/json"})


def _payloads() -> list[tuple[Endpoint, str, Any]]:
    """(row, label, payload as the pipeline hands it over) for every example and sample."""
    found: list[tuple[Endpoint, str, Any]] = []
    for op in spec.operations():
        row = ROWS[op.operation_id]
        if row.raw_text:
            continue
        bodies = {
            f"example {name}": body
            for name, body in spec.examples(op.operation_id, "200").items()
            if not (isinstance(body, dict) and body.get("result") == "error")
        }
        schema = spec.response_schema(op.operation_id, "200")
        for variant in range(3):
            bodies[f"sample {variant}"] = sample(schema, variant)
        for label, body in bodies.items():
            found.append((row, label, read_payload(row, _answer(body))))
    return found


PAYLOADS = _payloads()
IDS = [f"{row.name}-{label}" for row, label, _ in PAYLOADS]


def _outcome(conv: cattrs.Converter, payload: Any, tp: Any) -> tuple[Any, ...]:
    try:
        result = conv.structure(payload, tp)
    except Exception as exc:
        return ("raised", type(exc), str(exc))
    return ("structured", repr(result), result)


def _hash(value: Any) -> int | str:
    try:
        return hash(value)
    except TypeError as exc:  # models holding dicts are not hashable, either way
        return str(exc)


@pytest.mark.parametrize(("row", "label", "payload"), PAYLOADS, ids=IDS)
def test_fast_functions_give_the_strict_converters_models(
    row: Endpoint, label: str, payload: Any
) -> None:
    fast = FAST.structure(payload, row.result)
    strict = strict_converter().structure(payload, row.result)
    # repr shows every Decimal's exponent, every type and every tzinfo, at every depth
    assert repr(fast) == repr(strict)
    assert fast == strict
    assert _hash(fast) == _hash(strict)
    assert _outcome(REFERENCE, payload, row.result) == ("structured", repr(fast), fast)


def test_valid_payloads_never_need_cattrs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every class of every valid payload is built by its fast function alone."""
    built: list[type] = []
    deferred: list[type] = []
    original = _fast_structure.make_fast_structure_fn

    def counting(
        cls: type,
        conv: cattrs.Converter,
        wire_name: Callable[[attrs.Attribute[Any]], str],
        fallback: Callable[[Any, Any], Any],
    ) -> Callable[[Any, Any], Any]:
        def counted(value: Any, tp: Any) -> Any:
            deferred.append(cls)
            return fallback(value, tp)

        fast = original(cls, conv, wire_name, counted)
        if fast is counted:
            return fallback  # generic pages stay with cattrs by design
        built.append(cls)
        return fast

    monkeypatch.setattr(converter_module, "make_fast_structure_fn", counting)
    conv = make_converter()
    for row, _, payload in PAYLOADS:
        conv.structure(payload, row.result)
    assert Ticker in built
    assert len(set(built)) > 60
    assert deferred == []


_ODD_VALUES = st.sampled_from(
    [
        None,
        "",
        "abc",
        "1.50",
        "0E-11",
        "2024-05-01T12:00:00Z",
        "2024-05-01 14:00:00+02:00",
        "sideways",
        "buy",
        0,
        7,
        -1,
        64000,
        10**20,
        1604937694000,
        True,
        False,
        Decimal("2.50"),
        Decimal("NaN"),
        [],
        [1, 2],
        [["1", "2"]],
        {},
        {"a": 1},
    ]
).map(copy.deepcopy)  # fresh lists and dicts, so no change leaks into the next example


def _locations(value: Any, found: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """Every (container, key or index) in a payload, depth first."""
    if isinstance(value, dict):
        for key, item in value.items():
            found.append((value, key))
            _locations(item, found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.append((value, index))
            _locations(item, found)
    return found


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_broken_payloads_fail_or_pass_exactly_as_with_cattrs(data: st.DataObject) -> None:
    row, _, original = data.draw(st.sampled_from(PAYLOADS), label="payload")
    payload = copy.deepcopy(original)
    for _ in range(data.draw(st.integers(1, 3), label="changes")):
        spots = _locations(payload, [])
        if not spots:
            payload = data.draw(_ODD_VALUES, label="whole payload")
            continue
        container, key = data.draw(st.sampled_from(spots), label="where")
        action = data.draw(st.sampled_from(["drop", "replace", "extra"]), label="how")
        if action == "drop" and isinstance(container, dict):
            del container[key]
        elif action == "extra" and isinstance(container, dict):
            container["addedLater"] = data.draw(_ODD_VALUES)
        else:
            container[key] = data.draw(_ODD_VALUES, label="value")
    fast = _outcome(FAST, payload, row.result)
    reference = _outcome(REFERENCE, payload, row.result)
    assert fast[:2] == reference[:2]


def test_a_failure_is_cattrs_own_exception_without_context() -> None:
    with pytest.raises(KeyError) as info:
        FAST.structure({"last": 1}, Ticker)
    assert info.value.args == ("symbol",)
    assert info.value.__context__ is None
    with pytest.raises(TypeError, match="price, size"):
        FAST.structure({"bids": [[1, 2, 3]], "asks": []}, OrderBook)


def test_fast_models_are_whole_models() -> None:
    ticker = FAST.structure(
        {"symbol": "PF_XBTUSD", "last": 64000, "lastTime": "2024-05-01T12:00:00.5Z", "bid": 1.5},
        Ticker,
    )
    assert type(ticker) is Ticker
    assert ticker.last == Decimal(64000)
    assert isinstance(ticker.last, Decimal)
    assert ticker.last_time == dt.datetime(2024, 5, 1, 12, 0, 0, 500000, tzinfo=UTC)
    assert ticker.mark_price is None
    assert pickle.loads(pickle.dumps(ticker)) == ticker
    assert attrs.evolve(ticker, bid=Decimal(2)).bid == Decimal(2)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        ticker.last = Decimal(1)  # type: ignore[misc]
    book = FAST.structure({"bids": [[1, "2.0"]], "asks": []}, OrderBook)
    assert book.bids == (PriceLevel(Decimal(1), Decimal("2.0")),)


# Classes whose __init__ does more than store values: the fast function must call it.

_POST_INIT_CALLS: list[str] = []


def _positive(_: object, __: attrs.Attribute[Any], value: Decimal) -> None:
    if value <= 0:
        raise ValueError(f"must be positive, got {value}")


@attrs.frozen(kw_only=True)
class _Validated:
    size: Decimal = attrs.field(validator=_positive)
    note: str | None = None


def _upper(value: str) -> str:
    return value.upper()


@attrs.frozen(kw_only=True)
class _Converted:
    name: str = attrs.field(converter=_upper)
    tags: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class _PostInit:
    name: str

    def __attrs_post_init__(self) -> None:
        _POST_INIT_CALLS.append(self.name)


@attrs.frozen(kw_only=True, slots=False)
class _NotSlotted:
    price: Decimal
    side: Side = Side.BUY


@attrs.define(kw_only=True)
class _Mutable:
    price: Decimal
    seen: dict[str, int] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True, cache_hash=True)
class _CachedHash:
    price: Decimal


@attrs.frozen(kw_only=True)
class _Aliased:
    private: str = attrs.field(alias="public", metadata=wire("w"))
    later: int = attrs.field(init=False, default=3)


@attrs.frozen(kw_only=True)
class _TakesSelf:
    price: Decimal
    double: Decimal = attrs.field(default=attrs.Factory(lambda s: s.price * 2, takes_self=True))


@pytest.mark.parametrize(
    ("cls", "payload"),
    [
        (_Validated, {"size": "2.5"}),
        (_Validated, {"size": "-1"}),
        (_Validated, {"size": 3, "note": None}),
        (_Converted, {"name": "abc", "tags": ["x"]}),
        (_NotSlotted, {"price": 1, "side": "sell"}),
        (_NotSlotted, {"price": 1}),
        (_Mutable, {"price": "1.0"}),
        (_CachedHash, {"price": "1.0"}),
        (_Aliased, {"w": "x"}),
        (_TakesSelf, {"price": "1.5"}),
        (_TakesSelf, {"price": "1.5", "double": 7}),
    ],
    ids=repr,
)
def test_classes_with_more_in_init_structure_as_with_cattrs(
    cls: type, payload: dict[str, Any]
) -> None:
    fast = _outcome(FAST, payload, cls)
    assert fast[:2] == _outcome(REFERENCE, payload, cls)[:2]
    if fast[0] == "structured":
        assert type(fast[2]) is cls
        assert _hash(fast[2]) == _hash(_outcome(REFERENCE, payload, cls)[2])


def test_validators_and_post_init_still_run() -> None:
    with pytest.raises(ValueError, match="positive"):
        FAST.structure({"size": 0}, _Validated)
    assert FAST.structure({"name": "abc"}, _Converted).name == "ABC"
    _POST_INIT_CALLS.clear()
    FAST.structure({"name": "x"}, _PostInit)
    assert _POST_INIT_CALLS == ["x"]
    assert FAST.structure({"price": "1.5"}, _TakesSelf).double == Decimal("3.0")
    assert FAST.structure({"price": 1}, _Mutable).seen == {}


# The Decimal and datetime fast paths, against the general code.


def _reference_to_decimal(value: Any) -> Decimal:
    """to_decimal as it was before its fast paths."""
    from decimal import InvalidOperation

    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError(f"expected a number, got {value!r}")
    if isinstance(value, int | str):
        try:
            return Decimal(value)
        except InvalidOperation:
            raise ValueError(f"not a decimal number: {value!r}") from None
    if isinstance(value, float):
        return Decimal(repr(value))
    raise TypeError(f"expected a number, got {type(value).__name__}")


class _MyDecimal(Decimal):
    pass


def _result(function: Callable[[Any], Any], value: Any) -> tuple[Any, ...]:
    try:
        result = function(value)
    except Exception as exc:
        return ("raised", type(exc), str(exc))
    return ("ok", type(result), repr(result), getattr(result, "tzinfo", None) is UTC)


@given(
    st.one_of(
        st.decimals(allow_nan=True, allow_infinity=True),
        st.decimals(allow_nan=False).map(_MyDecimal),
        st.integers(),
        st.floats(),
        st.booleans(),
        st.none(),
        st.text(max_size=12),
        st.from_regex(r"\A-?\d{1,20}(\.\d{0,12})?([eE][+-]?\d{1,3})?\Z"),
        st.lists(st.integers(), max_size=2),
    )
)
def test_to_decimal_is_what_it_was(value: Any) -> None:
    assert _result(to_decimal, value) == _result(_reference_to_decimal, value)
    if isinstance(value, Decimal):
        assert to_decimal(value) is value


_OFFSETS = st.sampled_from(
    [
        None,
        UTC,
        dt.timezone(dt.timedelta(hours=2)),
        dt.timezone(dt.timedelta(hours=-5, minutes=-30)),
    ]
)


@st.composite
def _iso_texts(draw: st.DrawFn) -> str:
    moment = draw(st.datetimes(timezones=_OFFSETS))
    sep = draw(st.sampled_from(["T", " ", "t"]))
    digits = draw(st.integers(0, 9))
    text = moment.replace(tzinfo=None).isoformat(sep=sep, timespec="seconds")
    if digits:
        fraction = f"{moment.microsecond:06d}{draw(st.integers(0, 999)):03d}"
        text += "." + fraction[:digits]
    if moment.tzinfo is not None:
        offset = moment.strftime("%z")
        zulu = draw(st.booleans()) and moment.utcoffset() == dt.timedelta(0)
        text += "Z" if zulu else f"{offset[:3]}:{offset[3:]}"
    pad = draw(st.sampled_from(["", " ", "\n", "\t "]))
    return draw(st.sampled_from([text, pad + text, text + pad]))


@given(
    st.one_of(
        _iso_texts(),
        st.text(max_size=30),
        st.integers(min_value=-(10**12), max_value=10**13),
        st.decimals(min_value=-(10**12), max_value=10**13, allow_nan=False),
        st.booleans(),
        st.none(),
        st.floats(),
    )
)
def test_parse_datetime_is_what_it_was(value: Any) -> None:
    assert _result(parse_datetime, value) == _result(_parse_datetime_general, value)


def _reference_level(value: Any) -> PriceLevel:
    """The order-book level hook as it was before its fast path."""
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise TypeError(f"an order-book level is [price, size], got {value!r}")
    return PriceLevel(_reference_to_decimal(value[0]), _reference_to_decimal(value[1]))


_NUMBERS = st.one_of(
    st.decimals(allow_nan=False),
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.sampled_from(["1.50", "abc", ""]),
)


@given(
    st.one_of(
        st.lists(_NUMBERS, min_size=0, max_size=3),
        st.tuples(_NUMBERS, _NUMBERS),
        _NUMBERS,
        st.dictionaries(st.text(max_size=2), _NUMBERS, max_size=2),
    )
)
def test_order_book_levels_are_what_they_were(value: Any) -> None:
    hook = FAST.get_structure_hook(PriceLevel)
    assert _result(lambda v: hook(v, PriceLevel), value) == _result(_reference_level, value)
