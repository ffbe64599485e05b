"""Request parameters as the HTTP layer hands them over: every value a string, keys repeatable.

Kraken refuses a missing argument with ``requiredArgumentMissing`` and an unreadable one with
``invalidArgument`` (classic error envelope); the helpers here raise exactly those. A number
with more than ``MAX_DIGITS`` digits or a magnitude beyond ``10**±MAX_DIGITS`` is unreadable:
no price, size, time or count comes near, and ``int(Decimal("1e999999999"))`` alone would take
the twin minutes and gigabytes (issue 17).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation

from ..errors import ExchangeError
from ._text import parse_iso

__all__ = ["MAX_DIGITS", "Params", "parse_decimal"]

MAX_DIGITS = 64


def parse_decimal(text: str) -> Decimal | None:
    """A finite Decimal of sane size from a numeric string, or None."""
    text = text.strip()
    if len(text) > 2 * MAX_DIGITS:
        return None
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    if not value.is_finite():
        return None
    if value and abs(value.adjusted()) > MAX_DIGITS:
        return None
    return value


class Params:
    """Read-only access to one request's parameters."""

    __slots__ = ("_raw",)

    def __init__(self, raw: Mapping[str, Sequence[str]]) -> None:
        self._raw = raw

    def text(self, name: str) -> str | None:
        """The parameter's value (the first one if repeated); blank counts as absent."""
        values = self._raw.get(name)
        if not values:
            return None
        value = values[0] if not isinstance(values, str) else values
        return value if value.strip() != "" else None

    def texts(self, name: str) -> list[str]:
        values = self._raw.get(name)
        if not values:
            return []
        if isinstance(values, str):
            return [values]
        return [v for v in values if v.strip() != ""]

    def required(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            raise ExchangeError("requiredArgumentMissing")
        return value

    def decimal(self, name: str) -> Decimal | None:
        value = self.text(name)
        if value is None:
            return None
        number = parse_decimal(value)
        if number is None:
            raise ExchangeError("invalidArgument")
        return number

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.text(name)
        if value is None:
            return default
        lowered = value.strip().lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
        raise ExchangeError("invalidArgument")

    def time(self, name: str) -> float | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            return parse_iso(value)
        except ValueError:
            raise ExchangeError("invalidArgument") from None
