"""Times and numbers the way Kraken writes and reads them.

Times inside the engine are float epoch seconds from the Clock; on the wire they are ISO 8601
UTC strings with 0, 3 or 6 fraction digits depending on the field (reference §3.2).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation

__all__ = [
    "ONE",
    "ZERO",
    "is_multiple",
    "iso_ms",
    "iso_s",
    "iso_us",
    "parse_iso",
    "quantize_down",
    "quantize_up",
    "round_to_step",
]

ZERO = Decimal(0)
ONE = Decimal(1)

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _parts(t: float) -> tuple[dt.datetime, int]:
    micros = round(t * 1_000_000)
    moment = _EPOCH + dt.timedelta(microseconds=micros)
    return moment, micros % 1_000_000


def iso_ms(t: float) -> str:
    """``YYYY-MM-DDTHH:MM:SS.mmmZ`` (serverTime, order timestamps, fills)."""
    moment, micros = _parts(t)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{micros // 1000:03d}Z"


def iso_us(t: float) -> str:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (open orders, ticker ``lastTime``)."""
    moment, micros = _parts(t)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{micros:06d}Z"


def iso_s(t: float) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` (instrument dates)."""
    moment, _ = _parts(t)
    return f"{moment:%Y-%m-%dT%H:%M:%S}Z"


_SPACE_SEPARATED = re.compile(r"^(\d{4}-\d\d-\d\d) (\d)")
_LONG_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_iso(text: str) -> float:
    """Epoch seconds from ISO 8601 (``T`` or space, ``Z`` or offset, 0-9 fraction digits)."""
    cleaned = _SPACE_SEPARATED.sub(r"\1T\2", text.strip())
    cleaned = _LONG_FRACTION.sub(r"\1", cleaned)
    if cleaned.endswith(("Z", "z")):
        cleaned = cleaned[:-1] + "+00:00"
    moment = dt.datetime.fromisoformat(cleaned)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def quantize_down(value: Decimal, step: Decimal) -> Decimal:
    """The largest multiple of ``step`` not above ``value``."""
    return (value / step).to_integral_value(rounding=ROUND_FLOOR) * step


def quantize_up(value: Decimal, step: Decimal) -> Decimal:
    """The smallest multiple of ``step`` not below ``value``."""
    return (value / step).to_integral_value(rounding=ROUND_CEILING) * step


def round_to_step(value: float, step: Decimal) -> Decimal:
    """The multiple of ``step`` nearest to a float (how synthetic prices become exact)."""
    return Decimal(round(value / float(step))) * step


_TIDY = Decimal("1E-12")


def tidy(value: Decimal) -> Decimal:
    """A computed amount for display: 12 decimals at most, no trailing zeros, no exponent."""
    rounded = value.quantize(_TIDY)
    if rounded == 0:
        return ZERO
    normal = rounded.normalize()
    exponent = normal.as_tuple().exponent
    return normal if isinstance(exponent, int) and exponent <= 0 else rounded.quantize(ONE)


def is_multiple(value: Decimal, step: Decimal) -> bool:
    try:
        return value % step == 0
    except InvalidOperation:  # more digits than the context holds: no real size or price
        return False
