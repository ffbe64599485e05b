"""The msgspec JSON decoders against Python's own, the reference they replace (issue 13).

``decode_json`` and ``decode_json_numbers_as_text`` read JSON with msgspec and fall back to
``json`` for whatever msgspec refuses. They must give exactly what ``json.JSONDecoder`` with
``parse_float=Decimal`` (or ``NumberText``) gives: the same values of the same types, every
Decimal with the same digits and exponent, every number's text as sent; and for input
``json`` refuses, the same exception with the same message.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kraken_futures_async.converter import NumberText, decode_json, decode_json_numbers_as_text
from kraken_futures_async.errors import ResponseInvalidError
from kraken_futures_async.rest.endpoints import ENDPOINTS, endpoint
from kraken_futures_async.rest.envelope import read_payload
from tests import openapi_spec as spec
from tests.schema_samples import sample


def _refuse(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _text(data: str | bytes) -> str:
    if isinstance(data, bytes):
        return data.decode(json.detect_encoding(data), "surrogatepass")
    return data


_DECIMALS = json.JSONDecoder(parse_float=Decimal, parse_constant=_refuse)
_TEXTS = json.JSONDecoder(parse_float=NumberText, parse_constant=_refuse)


def reference(data: str | bytes) -> Any:
    """The decoder as it was: Python's json with exact Decimals."""
    return _DECIMALS.decode(_text(data))


def reference_text(data: str | bytes) -> Any:
    return _TEXTS.decode(_text(data))


def typed(value: Any) -> Any:
    """``value`` with every leaf's type and (for numbers) exact digits made visible."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    if isinstance(value, Decimal):
        return ("Decimal", value.as_tuple())
    return (type(value).__name__, str.__str__(value) if isinstance(value, str) else value)


def outcome(decode: Any, data: str | bytes) -> tuple[Any, ...]:
    try:
        value = decode(data)
    except (ValueError, RecursionError) as exc:
        return ("raised", type(exc), str(exc))
    # From Python 3.12 json and msgspec decode 5000 nested lists (3.11's json refuses): typed's
    # recursion then needs room beyond the default limit of 1000 frames.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20_000))
    try:
        return ("decoded", typed(value))
    finally:
        sys.setrecursionlimit(limit)


# --- numbers ---------------------------------------------------------------------------------

_DIGITS = st.text("0123456789", min_size=1, max_size=25)


@st.composite
def number_texts(draw: st.DrawFn) -> str:
    """A JSON number's text: sign, integer part, fraction and exponent in every form."""
    sign = draw(st.sampled_from(["", "-"]))
    whole = draw(st.one_of(st.just("0"), _DIGITS.filter(lambda d: d[0] != "0")))
    fraction = draw(st.one_of(st.just(""), _DIGITS.map(lambda d: "." + d)))
    exponent = draw(
        st.one_of(
            st.just(""),
            st.tuples(
                st.sampled_from(["e", "E"]),
                st.sampled_from(["", "+", "-"]),
                st.text("0123456789", min_size=1, max_size=4),
            ).map("".join),
        )
    )
    return sign + whole + fraction + exponent


@settings(max_examples=400)
@given(number_texts())
def test_number_text_decodes_as_with_json(text: str) -> None:
    data = f'{{"x": {text}, "y": [{text}]}}'
    for form in (data, data.encode()):
        assert outcome(decode_json, form) == outcome(reference, form)
        assert outcome(decode_json_numbers_as_text, form) == outcome(reference_text, form)
    value = decode_json_numbers_as_text(data)["x"]
    if value.__class__ is NumberText:
        assert str.__str__(value) == text  # the exact text the server sent
        assert decode_json(data)["x"].as_tuple() == Decimal(text).as_tuple()


@pytest.mark.parametrize(
    "text", ["0E-11", "67261.000", "9.288451412e-7", "1E+3", "-0.0", "1e400", "0.1500"]
)
def test_exact_digits_survive(text: str) -> None:
    decimal = decode_json(f"[{text}]".encode())[0]
    assert decimal.__class__ is Decimal
    assert decimal.as_tuple() == Decimal(text).as_tuple()
    kept = decode_json_numbers_as_text(f"[{text}]".encode())[0]
    assert kept.__class__ is NumberText
    assert str.__str__(kept) == text


def test_integers_of_any_size_stay_ints() -> None:
    for big in (2**63, -(2**63) - 1, 2**64, 10**4299):
        data = f"[{big}]".encode()
        assert decode_json(data) == [big]
        assert decode_json(data)[0].__class__ is int
    too_long = b"[" + b"9" * 4301 + b"]"
    assert outcome(decode_json, too_long) == outcome(reference, too_long)
    assert outcome(decode_json, too_long)[0] == "raised"


# --- whole documents -------------------------------------------------------------------------

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.text(),
)
_DOCUMENTS = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


def _dumps(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return "[" + ",".join(_dumps(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_dumps(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


@settings(max_examples=300)
@given(_DOCUMENTS, st.booleans())
def test_documents_decode_as_with_json(document: Any, ascii_only: bool) -> None:
    text = _dumps(document)
    if not ascii_only:
        text = json.dumps(json.loads(text, parse_float=Decimal), ensure_ascii=False, default=str)
    for form in (text, text.encode("utf-8", "surrogatepass")):
        assert outcome(decode_json, form) == outcome(reference, form)
        assert outcome(decode_json_numbers_as_text, form) == outcome(reference_text, form)


@settings(max_examples=300)
@given(st.one_of(st.binary(max_size=40), st.text(max_size=40)))
def test_any_input_decodes_or_fails_as_with_json(data: str | bytes) -> None:
    assert outcome(decode_json, data) == outcome(reference, data)
    assert outcome(decode_json_numbers_as_text, data) == outcome(reference_text, data)


@pytest.mark.parametrize(
    "data",
    [
        b"\xef\xbb\xbf[1.5]",  # a UTF-8 byte-order mark: json reads it
        "[1.5]".encode("utf-16"),
        "[1.5]".encode("utf-32"),
        b'["\\ud800"]',  # a lone surrogate escape: json keeps it
        '["\ud800"]',
        b'["\xff"]',
        b"[NaN]",
        b"[-Infinity]",
        b"[1.]",
        b"[01]",
        b"[1,]",
        b"",
        b"[1] x",
        b'{"a": 1, "a": 2.50}',
        b'"\\u0000"',
        b'"a\x01"',
        b"[" * 5000 + b"]" * 5000,
    ],
)
def test_edge_inputs_decode_or_fail_as_with_json(data: str | bytes) -> None:
    assert outcome(decode_json, data) == outcome(reference, data)
    assert outcome(decode_json_numbers_as_text, data) == outcome(reference_text, data)


def test_deep_nesting_is_still_the_librarys_error() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(RecursionError):
        decode_json(deep)
    response = httpx.Response(200, content=deep, headers={"Content-Type": "application/json"})
    with pytest.raises(ResponseInvalidError, match="nested too deeply"):
        read_payload(endpoint("tickers"), response)


def test_malformed_json_is_still_the_librarys_error() -> None:
    response = httpx.Response(200, content=b'{"result": "success", "tickers": [1,]}')
    with pytest.raises(ResponseInvalidError, match="expected JSON"):
        read_payload(endpoint("tickers"), response)


def _spec_bodies() -> list[tuple[str, Any]]:
    """Every documented example answer and a few schema samples, as JSON data."""
    found: list[tuple[str, Any]] = []
    raw_text = {row.operation_id for row in ENDPOINTS if row.raw_text}
    for op in spec.operations():
        if op.operation_id in raw_text:
            continue
        for name, body in spec.examples(op.operation_id, "200").items():
            found.append((f"{op.operation_id}-example-{name}", body))
        schema = spec.response_schema(op.operation_id, "200")
        for variant in range(2):
            found.append((f"{op.operation_id}-sample-{variant}", sample(schema, variant)))
    return found


SPEC_BODIES = _spec_bodies()


@pytest.mark.parametrize(("label", "body"), SPEC_BODIES, ids=[label for label, _ in SPEC_BODIES])
def test_every_documented_payload_decodes_as_with_json(label: str, body: Any) -> None:
    data = json.dumps(body, default=str).encode()
    assert outcome(decode_json, data) == outcome(reference, data)
    assert outcome(decode_json_numbers_as_text, data) == outcome(reference_text, data)
