"""The cattrs converter that turns Kraken's JSON into frozen attrs models (and back).

Numbers arrive as exact Decimals (the JSON decoder never makes floats), times as aware UTC
datetimes. Field names are snake_case; the wire name is the camelCase form unless a field
says otherwise with :func:`kraken_futures_async.models._base.wire`. The production converter
ignores keys it does not know; the strict one, used by the tests, refuses them.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from decimal import Decimal
from typing import Any

import attrs
import cattrs
import msgspec
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ._fast_structure import make_fast_structure_fn, structure_datetime, structure_decimal
from ._typed_answers import MISS, AnswerDecoder
from ._typed_answers import answer_decoder as _answer_decoder
from ._values import format_datetime, parse_datetime, to_decimal
from .models._base import WIRE_NAME

__all__ = [
    "MISS",
    "NumberText",
    "answer_decoder",
    "decode_json",
    "decode_json_numbers_as_text",
    "default_converter",
    "format_datetime",
    "make_converter",
    "parse_datetime",
    "strict_converter",
    "to_decimal",
    "wire_name",
]


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _text(data: Any) -> str:
    """Bytes as ``json.loads`` reads them (it detects UTF-8, -16 or -32)."""
    if isinstance(data, bytes | bytearray):
        return data.decode(json.detect_encoding(data), "surrogatepass")
    return str(data)


#: The reference decoders, built once (``json.loads`` with keyword arguments builds one per
#: call). They decide every input the fast decoders refuse, so errors stay json's own.
_DECIMAL_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_refuse_constant)


class NumberText(str):
    """A JSON number's exact text (``0.1500``), from :func:`decode_json_numbers_as_text`.

    The converter structures it into a Decimal like any decimal string; a stream's order book
    reads its digits as they are, for Kraken's checksum, without a Decimal round trip.
    """

    __slots__ = ()


_TEXT_DECODER = json.JSONDecoder(parse_float=NumberText, parse_constant=_refuse_constant)

#: The fast decoders (msgspec, in C): ``float_hook`` receives each non-integer number's text
#: exactly as sent, so ``0E-11`` and ``67261.000`` keep their digits; integers of any size
#: stay ints, as with json. NaN and Infinity are not JSON to msgspec either.
_FAST_DECIMAL = msgspec.json.Decoder(float_hook=Decimal)
_FAST_TEXT = msgspec.json.Decoder(float_hook=NumberText)


def decode_json(text: str | bytes) -> Any:
    """Parse JSON with every non-integer number as an exact Decimal (``0E-11``, ``67261.000``).

    msgspec reads UTF-8 JSON; whatever it refuses (malformed JSON, a byte-order mark, UTF-16,
    lone surrogates, integers past 4300 digits, nesting past the recursion limit) is read
    again by Python's own parser, which accepts it or raises exactly as it always did
    (a ``ValueError``, or ``RecursionError`` for deep nesting). ``NaN`` and ``Infinity``
    are refused, not turned into floats.
    """
    try:
        return _FAST_DECIMAL.decode(text)
    except (ValueError, RecursionError):
        pass  # decided below, outside this handler, so no msgspec error rides along
    return _DECIMAL_DECODER.decode(text if text.__class__ is str else _text(text))


def decode_json_numbers_as_text(text: str | bytes) -> Any:
    """Parse JSON keeping every non-integer number as its text (:class:`NumberText`).

    Cheaper than :func:`decode_json` on a book message (no Decimal is built), and as exact:
    the one converter turns the text into the same Decimal. Refusals as :func:`decode_json`.
    """
    try:
        return _FAST_TEXT.decode(text)
    except (ValueError, RecursionError):
        pass
    return _TEXT_DECODER.decode(text if text.__class__ is str else _text(text))


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def wire_name(field: attrs.Attribute[Any]) -> str:
    """The JSON key of a model field."""
    explicit = field.metadata.get(WIRE_NAME)
    return explicit if explicit is not None else _camel(field.name)


def _renames(cls: type) -> dict[str, Any]:
    return {
        f.name: override(rename=wire_name(f)) for f in attrs.fields(cls) if wire_name(f) != f.name
    }


def make_converter(*, strict: bool = False, fast: bool = True) -> cattrs.Converter:
    """Build a converter; ``strict=True`` forbids unknown keys and reports every problem.

    A lenient converter structures models with the faster functions of ``_fast_structure``
    (same results, and cattrs' own function decides every failure); ``fast=False`` keeps
    cattrs' generated functions alone, the reference the tests hold the fast ones to.
    """
    conv = cattrs.Converter(forbid_extra_keys=strict, detailed_validation=strict)
    conv.register_structure_hook(Decimal, structure_decimal)
    conv.register_structure_hook(dt.datetime, structure_datetime)
    conv.register_unstructure_hook(Decimal, lambda d: d)
    conv.register_unstructure_hook(dt.datetime, lambda d: d.isoformat().replace("+00:00", "Z"))

    def structure_factory(cls: type) -> Any:
        generated: Any = make_dict_structure_fn(
            cls, conv, _cattrs_forbid_extra_keys=strict, **_renames(cls)
        )
        if strict or not fast:
            return generated
        # production: a faster function that leaves every failure to cattrs' own
        return make_fast_structure_fn(cls, conv, wire_name, generated)

    def unstructure_factory(cls: type) -> Any:
        return make_dict_unstructure_fn(cls, conv, **_renames(cls))

    conv.register_structure_hook_factory(attrs.has, structure_factory)
    conv.register_unstructure_hook_factory(attrs.has, unstructure_factory)
    from .models import register_hooks

    register_hooks(conv, fast=fast and not strict)
    return conv


@functools.cache
def default_converter() -> cattrs.Converter:
    """The production converter: lenient about keys Kraken adds later."""
    return make_converter()


@functools.cache
def strict_converter() -> cattrs.Converter:
    """The converter the tests use: every key of a payload must be modelled."""
    return make_converter(strict=True)


def answer_decoder(conv: cattrs.Converter, result: Any, key: str | None) -> AnswerDecoder | None:
    """A decoder from an answer's bytes straight to ``result`` models, where that is exact.

    For an endpoint whose answer holds ``result`` (a model, or a list or tuple of one) under
    ``key``, built from ``conv`` (it checks each model is structured by the fast functions);
    None when some type needs the general path. Calling it with the bytes of a 200 answer
    (and the serverTime callback) gives the models, or :data:`MISS`: then the general path
    (``read_payload`` and ``conv``) decides, answering or raising exactly as before. Not for
    endpoints that read headers, check an order's status, or may answer with plain text.
    """
    return _answer_decoder(conv, wire_name, result, key)
