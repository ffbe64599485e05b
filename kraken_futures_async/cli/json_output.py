"""``--json`` output: models and reports as plain JSON, with numbers kept exact.

Decimals become strings (``"0.0010"`` stays ``"0.0010"``: a float would not), datetimes ISO
8601 strings, enums their wire value. Field names are the library's snake_case names.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

__all__ = ["dumps", "dumps_line", "plain"]


def plain(value: Any) -> Any:
    """``value`` as JSON-ready dicts, lists, strings, numbers and ``None``."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else round(value, 6)
    if attrs.has(type(value)):
        return {f.name: plain(getattr(value, f.name)) for f in attrs.fields(type(value))}
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a NamedTuple: PriceLevel
        return {name: plain(v) for name, v in zip(value._fields, value, strict=True)}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return value


def dumps(value: Any) -> str:
    return json.dumps(plain(value), indent=2, ensure_ascii=False)


def dumps_line(value: Any) -> str:
    """``value`` as JSON on one line (for one line per update)."""
    return json.dumps(plain(value), ensure_ascii=False, separators=(",", ":"))
