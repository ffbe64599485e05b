"""JSON in and out: Decimals written as exact JSON numbers, as Kraken's BigDecimals are, and
texts from clients read as Decimals, any failure to read them being Kraken's ``Json Parse Error``.

The stdlib encoder (C-accelerated) does the work; a Decimal it cannot encode is handed to
``default``, which returns the number's plain text wrapped in a marker. Two plain string
replacements afterwards strip the quoted markers, leaving bare numbers. The marker is a random
per-process token, so no string a client sends can pass for one. Floats never take part.
"""

from __future__ import annotations

import json
import secrets
from decimal import Decimal
from typing import Any

from .errors import ExchangeError

__all__ = ["dumps", "format_number", "loads"]

_TOKEN = "~" + secrets.token_hex(8) + "~"
_OPEN = '"' + _TOKEN
_CLOSE = _TOKEN + '"'


def format_number(value: Decimal) -> str:
    """Plain notation, never an exponent: ``Decimal("6.40057E+4")`` is ``64005.7``."""
    text = str(value)
    if "E" in text or "N" in text or "n" in text:  # exponent, NaN, sNaN or Infinity
        if not value.is_finite():
            raise ValueError(f"JSON has no {value}: a payload must hold finite numbers only")
        text = format(value, "f")
    return text


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _TOKEN + format_number(value) + _TOKEN
    if isinstance(value, tuple | frozenset | set):
        return list(value)
    raise TypeError(f"cannot write a {type(value).__name__} as JSON")


_encoder = json.JSONEncoder(separators=(",", ":"), default=_default, allow_nan=False)


def dumps(value: Any) -> bytes:
    """Compact JSON bytes; Decimals become numbers with exactly their digits."""
    text = _encoder.encode(value)
    if _TOKEN in text:
        text = text.replace(_OPEN, "").replace(_CLOSE, "")
    return text.encode()


def loads(text: str | bytes) -> Any:
    """A client's JSON text, floats as Decimals; unreadable or nested too deep: Kraken's error.

    The parser recurses once per nesting level, so ``[[[[...`` raises RecursionError, not
    ValueError: both are the client's mistake, never the twin's (no 500, no traceback).
    """
    try:
        return json.loads(text, parse_float=Decimal)
    except (ValueError, RecursionError):
        raise ExchangeError("Json Parse Error") from None
