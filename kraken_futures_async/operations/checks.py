"""The argument checks every request is built with: one rule, one message, one place.

Every rule mirrors a refusal the exchange would give, so a bad call never costs a round trip,
a rate-limit unit or, worse, an unintended fill.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import uuid
from collections.abc import Collection
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar, overload

from ..errors import InvalidArgumentError

__all__ = [
    "MAX_CLI_ORD_ID_LENGTH",
    "Number",
    "check_aware",
    "check_bool",
    "check_choice",
    "check_cli_ord_id",
    "check_count",
    "check_enum",
    "check_number",
    "check_one_id",
    "check_symbol",
    "check_text",
    "check_window",
    "new_cli_ord_id",
    "optional_enum",
    "optional_number",
    "optional_symbol",
    "optional_text",
    "required_bool",
]

#: Kraken refuses longer client order ids (``clientOrderIdTooBig``).
MAX_CLI_ORD_ID_LENGTH = 100

Number = Decimal | int | str | float


def new_cli_ord_id() -> str:
    """A fresh client order id, so every order can be found again after a lost answer."""
    return f"kfa-{uuid.uuid4().hex}"


def check_number(name: str, value: Number, *, positive: bool = True) -> Decimal:
    """A finite Decimal from Decimal, int, numeric str or float (floats via their repr)."""
    if isinstance(value, bool):
        raise InvalidArgumentError(f"{name} must be a number, got {value!r}")
    try:
        if isinstance(value, float):
            if not math.isfinite(value):
                raise InvalidArgumentError(f"{name} must be finite, got {value!r}")
            number = Decimal(repr(value))
        elif isinstance(value, Decimal | int | str):
            number = Decimal(value)
        else:
            raise InvalidArgumentError(f"{name} must be a number, got {type(value).__name__}")
    except InvalidOperation:
        raise InvalidArgumentError(f"{name} must be a number, got {value!r}") from None
    if not number.is_finite():
        raise InvalidArgumentError(f"{name} must be finite, got {value!r}")
    if positive and number <= 0:
        raise InvalidArgumentError(f"{name} must be greater than zero, got {value!r}")
    return number


_E = TypeVar("_E", bound=enum.Enum)
_T = TypeVar("_T")


def check_enum(name: str, value: Any, enum_type: type[_E]) -> _E:
    try:
        member = enum_type(value)
    except ValueError:
        member = None
    if member is None or member.name == "UNKNOWN":
        choices = ", ".join(m.value for m in enum_type if m.name != "UNKNOWN")
        raise InvalidArgumentError(f"{name} must be one of {choices}; got {value!r}")
    return member


def optional_number(name: str, value: Number | None, *, positive: bool = True) -> Decimal | None:
    return None if value is None else check_number(name, value, positive=positive)


def optional_enum(name: str, value: Any, enum_type: type[_E]) -> _E | None:
    return None if value is None else check_enum(name, value, enum_type)


@overload
def check_aware(name: str, value: dt.datetime) -> dt.datetime: ...
@overload
def check_aware(name: str, value: dt.datetime | None) -> dt.datetime | None: ...
def check_aware(name: str, value: dt.datetime | None) -> dt.datetime | None:
    """An aware datetime (or None): Kraken's times are UTC, and a naive one is ambiguous."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        raise InvalidArgumentError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None:
        raise InvalidArgumentError(f"{name} must be an aware datetime (UTC)")
    return value


def check_cli_ord_id(value: str | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise InvalidArgumentError("cli_ord_id must be a non-empty string")
    if len(value) > MAX_CLI_ORD_ID_LENGTH:
        raise InvalidArgumentError(
            f"cli_ord_id is {len(value)} characters; Kraken accepts at most {MAX_CLI_ORD_ID_LENGTH}"
        )
    if not value.isprintable():
        raise InvalidArgumentError("cli_ord_id must contain printable characters only")
    return value


def check_one_id(order_id: str | None, cli_ord_id: str | None) -> None:
    """Kraken finds an order by its id or its client id: exactly one must be given."""
    if (order_id is None) == (cli_ord_id is None):
        raise InvalidArgumentError("give exactly one of order_id or cli_ord_id")
    if order_id is not None and (not isinstance(order_id, str) or not order_id):
        raise InvalidArgumentError("order_id must be a non-empty string")
    check_cli_ord_id(cli_ord_id)


def check_symbol(symbol: str) -> str:
    if not isinstance(symbol, str) or not symbol or not symbol.replace("_", "").isalnum():
        raise InvalidArgumentError(f"symbol must look like PF_XBTUSD, got {symbol!r}")
    return symbol


def check_text(name: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(f"{name} must be a non-empty string, got {value!r}")
    return value


def optional_text(name: str, value: str | None) -> str | None:
    return None if value is None else check_text(name, value)


def check_choice(name: str, value: _T, choices: Collection[_T]) -> _T:
    if value not in choices:
        listed = ", ".join(sorted(str(c) for c in choices))
        raise InvalidArgumentError(f"{name} must be one of {listed}; got {value!r}")
    return value


def check_count(name: str, value: int | None, *, minimum: int = 1) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidArgumentError(f"{name} must be an integer of {minimum} or more, got {value!r}")
    return value


def check_bool(name: str, value: bool | None) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise InvalidArgumentError(f"{name} must be True or False, got {value!r}")
    return value


def required_bool(name: str, value: bool) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgumentError(f"{name} must be True or False, got {value!r}")
    return value


def optional_symbol(value: str | None) -> str | None:
    return None if value is None else check_symbol(value)


def check_window(
    since: dt.datetime | None, end: dt.datetime | None, *, end_name: str = "before"
) -> None:
    """``since`` and the window's end are aware and in order. A ``before`` end is exclusive
    (it must come after ``since``); an ``until`` end is inclusive (it may equal it)."""
    check_aware("since", since)
    check_aware(end_name, end)
    if since is None or end is None:
        return
    if end_name == "before" and since >= end:
        raise InvalidArgumentError("since must be earlier than before")
    if since > end:
        raise InvalidArgumentError(f"since must not be after {end_name}")
