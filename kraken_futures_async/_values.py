"""Exact values between Python and Kraken's wire: Decimals, UTC datetimes, plain strings.

Both directions live here so that parsing a response and encoding a request agree.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["format_datetime", "format_decimal", "parse_datetime", "to_decimal"]

_UTC = dt.UTC


def to_decimal(value: Any) -> Decimal:
    """Exact Decimal from a JSON number or a decimal string; floats go through their repr."""
    kind = value.__class__
    if kind is Decimal:  # what the JSON decoder hands over for every non-integer number
        return value  # type: ignore[no-any-return]
    if kind is int:
        return Decimal(value)
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise TypeError(f"expected a number, got {value!r}")
    elif isinstance(value, int | str):
        try:
            result = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"not a decimal number: {value!r}") from None
    elif isinstance(value, float):
        result = Decimal(repr(value))
    else:
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return result


_SPACE_SEPARATED = re.compile(r"^(\d{4}-\d\d-\d\d) (\d)")
_FROM_ISO = dt.datetime.fromisoformat


def parse_datetime(value: Any) -> dt.datetime:
    """An aware UTC datetime from ISO 8601 text (0 to 9 fraction digits) or epoch milliseconds."""
    if value.__class__ is str:
        # Kraken's own form (``...Z``) parses as it is, already in UTC; anything else (spaces
        # around it, another offset, no offset, not a date) takes the general path below
        try:
            parsed = _FROM_ISO(value)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is _UTC:
                return parsed
    return _parse_datetime_general(value)


def _parse_datetime_general(value: Any) -> dt.datetime:
    if isinstance(value, str):
        text = _SPACE_SEPARATED.sub(r"\1T\2", value.strip())
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"not an ISO 8601 date-time: {value!r}") from None
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=_UTC)
        return parsed.astimezone(_UTC)
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(0, _UTC) + dt.timedelta(milliseconds=int(value))
    raise TypeError(f"expected an ISO date-time or epoch milliseconds, got {value!r}")


def format_datetime(value: dt.datetime) -> str:
    """Kraken's request form: ``YYYY-MM-DDTHH:MM:SS.mmmZ`` in UTC."""
    if value.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware datetime (UTC)")
    utc = value.astimezone(_UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def format_decimal(value: Decimal) -> str:
    """Plain notation without exponent (``1E+3`` becomes ``1000``, ``1.50`` stays ``1.50``)."""
    return format(value, "f")
