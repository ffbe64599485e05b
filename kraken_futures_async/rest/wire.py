"""Python values to Kraken's request form, in one place.

Decimals as plain strings, booleans as ``true``/``false``, datetimes as ``...SS.mmmZ``, enums
by value, sequences as repeated keys; ``None`` means "leave the parameter out".
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import quote_plus, urlencode

from .._values import format_datetime, format_decimal

__all__ = ["encode_params", "json_object", "json_value", "urlencode_pairs", "wire_value"]

#: Text that ``quote_plus`` leaves as it is (its always-safe characters).
_UNQUOTED = re.compile(r"[A-Za-z0-9_.~-]*").fullmatch


def wire_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, dt.datetime):
        return format_datetime(value)
    if isinstance(value, int | str):
        return str(value)
    raise TypeError(f"cannot send a {type(value).__name__} as a request parameter")


def json_value(value: Any) -> str:
    """One value as JSON text, numbers exactly as their Decimal text (never via a float)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, enum.Enum):
        value = str(value.value)
    return json.dumps(value)


def json_object(fields: Iterable[tuple[str, str]]) -> str:
    """A compact JSON object from (key, value already as JSON text) pairs."""
    return "{" + ",".join(f"{json.dumps(key)}:{value}" for key, value in fields) + "}"


def encode_params(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Wire pairs in the mapping's order, dropping ``None`` and expanding sequences."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            pairs.extend((key, wire_value(item)) for item in value)
        else:
            pairs.append((key, wire_value(value)))
    return pairs


def urlencode_pairs(pairs: list[tuple[str, str]] | tuple[tuple[str, str], ...]) -> str:
    """``application/x-www-form-urlencoded``: what is signed is exactly what is sent.

    The same text as ``urllib.parse.urlencode(pairs)``; symbols, sizes and ids, which need no
    quoting, skip ``quote_plus`` (most of an order's encoding cost).
    """
    parts = []
    for key, value in pairs:
        if type(key) is not str or type(value) is not str:
            parts.append(urlencode([(key, value)]))
            continue
        key = key if _UNQUOTED(key) else quote_plus(key, safe="")
        value = value if _UNQUOTED(value) else quote_plus(value, safe="")
        parts.append(f"{key}={value}")
    return "&".join(parts)
