"""Order arguments checked and turned into wire parameters before anything is queued.

Every rule here mirrors a refusal the exchange would give, so a bad order never costs a
round trip, a rate-limit unit or, worse, an unintended fill.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar, overload

from ..errors import InvalidArgumentError
from ..models.enums import OrderType, Side, TrailingStopDeviationUnit, TriggerSignal

__all__ = [
    "MAX_CLI_ORD_ID_LENGTH",
    "Number",
    "check_aware",
    "check_cli_ord_id",
    "check_enum",
    "check_number",
    "check_one_id",
    "check_symbol",
    "edit_changes",
    "new_cli_ord_id",
    "optional_enum",
    "optional_number",
    "send_order_params",
]

#: Kraken refuses longer client order ids (``clientOrderIdTooBig``).
MAX_CLI_ORD_ID_LENGTH = 100

Number = Decimal | int | str | float

_NEEDS_LIMIT = {
    OrderType.LIMIT,
    OrderType.POST_ONLY,
    OrderType.IMMEDIATE_OR_CANCEL,
    OrderType.FILL_OR_KILL,
}
_TRIGGERED = {OrderType.STOP, OrderType.TAKE_PROFIT}


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


_E = TypeVar("_E", OrderType, Side, TriggerSignal, TrailingStopDeviationUnit)


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


def edit_changes(
    *,
    size: Number | None,
    limit_price: Number | None,
    stop_price: Number | None,
    trailing_stop_max_deviation: Number | None = None,
    trailing_stop_deviation_unit: TrailingStopDeviationUnit | str | None = None,
) -> dict[str, Any]:
    """An edit's changes in wire names, checked; at least one of them must be given."""
    changes = {
        "size": optional_number("size", size),
        "limitPrice": optional_number("limit_price", limit_price),
        "stopPrice": optional_number("stop_price", stop_price),
        "trailingStopMaxDeviation": optional_number(
            "trailing_stop_max_deviation", trailing_stop_max_deviation
        ),
        "trailingStopDeviationUnit": optional_enum(
            "trailing_stop_deviation_unit", trailing_stop_deviation_unit, TrailingStopDeviationUnit
        ),
    }
    if all(v is None for v in changes.values()):
        raise InvalidArgumentError("an edit needs at least one of size, limit_price, stop_price")
    return changes


def send_order_params(
    *,
    symbol: str,
    side: Side | str,
    size: Number,
    order_type: OrderType | str,
    limit_price: Number | None,
    stop_price: Number | None,
    trigger_signal: TriggerSignal | str | None,
    reduce_only: bool | None,
    cli_ord_id: str | None,
    trailing_stop_max_deviation: Number | None,
    trailing_stop_deviation_unit: TrailingStopDeviationUnit | str | None,
    limit_price_offset_value: Number | None = None,
    limit_price_offset_unit: TrailingStopDeviationUnit | str | None = None,
    process_before: dt.datetime | None = None,
) -> dict[str, Any]:
    """Validate a ``sendorder`` and return its wire parameters (Python values, wire names).

    Every order leaves with a client order id (a fresh one unless given), so that it can be
    found again after a lost answer.
    """
    kind = check_enum("order_type", order_type, OrderType)
    params: dict[str, Any] = {
        "orderType": kind,
        "symbol": check_symbol(symbol),
        "side": check_enum("side", side, Side),
        "size": check_number("size", size),
    }
    if kind in _NEEDS_LIMIT and limit_price is None:
        raise InvalidArgumentError(f"a {kind.value} order needs a limit_price")
    if kind is OrderType.MARKET and limit_price is not None:
        raise InvalidArgumentError(
            "a mkt order takes no limit_price (Kraken adds its own price protection); "
            "use order_type='ioc' for a limit-protected taker order"
        )
    if kind in _TRIGGERED and stop_price is None:
        raise InvalidArgumentError(f"a {kind.value} order needs a stop_price (its trigger)")
    if kind not in _TRIGGERED and stop_price is not None:
        raise InvalidArgumentError(f"a {kind.value} order takes no stop_price")
    if kind is OrderType.TRAILING_STOP:
        if limit_price is not None:
            raise InvalidArgumentError("a trailing_stop order takes no limit_price")
        if trailing_stop_max_deviation is None or trailing_stop_deviation_unit is None:
            raise InvalidArgumentError(
                "a trailing_stop order needs trailing_stop_max_deviation and "
                "trailing_stop_deviation_unit"
            )
    elif trailing_stop_max_deviation is not None or trailing_stop_deviation_unit is not None:
        raise InvalidArgumentError("trailing_stop_* arguments only apply to trailing_stop orders")
    if (limit_price_offset_value is None) != (limit_price_offset_unit is None):
        raise InvalidArgumentError(
            "limit_price_offset_value and limit_price_offset_unit go together"
        )
    if limit_price_offset_value is not None and kind not in _TRIGGERED | {OrderType.TRAILING_STOP}:
        raise InvalidArgumentError("a limit price offset only applies to trigger orders")
    if limit_price_offset_value is not None and limit_price is not None:
        raise InvalidArgumentError("give either limit_price or a limit price offset, not both")
    if trigger_signal is not None and kind not in _TRIGGERED | {OrderType.TRAILING_STOP}:
        raise InvalidArgumentError(
            "trigger_signal only applies to stp, take_profit and trailing_stop"
        )
    check_aware("process_before", process_before)
    if reduce_only is not None and not isinstance(reduce_only, bool):
        raise InvalidArgumentError(f"reduce_only must be True or False, got {reduce_only!r}")
    params.update(
        {
            "limitPrice": optional_number("limit_price", limit_price),
            "stopPrice": optional_number("stop_price", stop_price),
            "triggerSignal": optional_enum("trigger_signal", trigger_signal, TriggerSignal),
            "cliOrdId": new_cli_ord_id() if cli_ord_id is None else check_cli_ord_id(cli_ord_id),
            "reduceOnly": reduce_only,
            "trailingStopMaxDeviation": optional_number(
                "trailing_stop_max_deviation", trailing_stop_max_deviation
            ),
            "trailingStopDeviationUnit": optional_enum(
                "trailing_stop_deviation_unit",
                trailing_stop_deviation_unit,
                TrailingStopDeviationUnit,
            ),
            "limitPriceOffsetValue": optional_number(
                "limit_price_offset_value", limit_price_offset_value, positive=False
            ),
            "limitPriceOffsetUnit": optional_enum(
                "limit_price_offset_unit", limit_price_offset_unit, TrailingStopDeviationUnit
            ),
            "processBefore": process_before,
        }
    )
    return params
