"""Order requests: placing, changing and cancelling orders, checked when they are built.

Each class takes loose Python arguments (numbers as Decimal, int, str or float; enums or
their wire names) and keeps exact values (Decimals, enum members). Building one is the whole
check: a request that exists is one the exchange would not refuse for its form.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

import attrs

from ..errors import InvalidArgumentError
from ..models.enums import OrderType, Side, TrailingStopDeviationUnit, TriggerSignal
from .checks import (
    Number,
    check_aware,
    check_cli_ord_id,
    check_enum,
    check_number,
    check_one_id,
    check_symbol,
    new_cli_ord_id,
    optional_enum,
    optional_number,
    optional_symbol,
)

__all__ = [
    "MAX_BATCH_SIZE",
    "BatchInstruction",
    "BatchRequest",
    "BatchSend",
    "CancelAll",
    "CancelAllAfter",
    "CancelOrder",
    "EditOrder",
    "FillsQuery",
    "OrderStatusQuery",
    "OwnDeadline",
    "ProcessBefore",
    "SendOrder",
]

_NEEDS_LIMIT = {
    OrderType.LIMIT,
    OrderType.POST_ONLY,
    OrderType.IMMEDIATE_OR_CANCEL,
    OrderType.FILL_OR_KILL,
}
_TRIGGERED = {OrderType.STOP, OrderType.TAKE_PROFIT}
_OFFSET_TYPES = _TRIGGERED | {OrderType.TRAILING_STOP}

#: Kraken's dead man's switch takes a uint32 number of seconds.
MAX_CANCEL_AFTER = 2**32 - 1
#: Kraken documents no limit; larger batches cost more than separate requests gain.
MAX_BATCH_SIZE = 100


class OwnDeadline:
    """The library's own ``processBefore``: ``window`` seconds from the moment a request
    leaves (after any wait for the rate-limit budget), on the exchange's clock.

    A backend stamps it on every attempt (:meth:`stamp`); order safety reads ``latest``, the
    deadline of the latest attempt, to know when a lost attempt can no longer execute. It is
    the one mutable part of a request, and only backends write it.
    """

    __slots__ = ("latest", "window")

    def __init__(self, window: float) -> None:
        if window <= 0:
            raise InvalidArgumentError("a processBefore window must be a positive number")
        self.window = window
        self.latest: dt.datetime | None = None

    def stamp(self, now: dt.datetime) -> dt.datetime:
        """The deadline of an attempt leaving at ``now`` (exchange time), remembered."""
        self.latest = now + dt.timedelta(seconds=self.window)
        return self.latest

    def __repr__(self) -> str:
        return f"OwnDeadline(window={self.window:g}, latest={self.latest!r})"


#: A caller's own ``processBefore`` (never moved), the library's, or none.
ProcessBefore = dt.datetime | OwnDeadline | None


def _process_before(value: ProcessBefore) -> ProcessBefore:
    return value if isinstance(value, OwnDeadline) else check_aware("process_before", value)


@attrs.frozen(init=False)
class SendOrder:
    """A new order. Without ``cli_ord_id`` one is generated, so it can always be found."""

    order_type: OrderType
    symbol: str
    side: Side
    size: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    trigger_signal: TriggerSignal | None
    cli_ord_id: str
    reduce_only: bool | None
    trailing_stop_max_deviation: Decimal | None
    trailing_stop_deviation_unit: TrailingStopDeviationUnit | None
    limit_price_offset_value: Decimal | None
    limit_price_offset_unit: TrailingStopDeviationUnit | None
    process_before: ProcessBefore

    def __init__(
        self,
        *,
        symbol: str,
        side: Side | str,
        size: Number,
        order_type: OrderType | str = OrderType.LIMIT,
        limit_price: Number | None = None,
        stop_price: Number | None = None,
        trigger_signal: TriggerSignal | str | None = None,
        reduce_only: bool | None = None,
        cli_ord_id: str | None = None,
        trailing_stop_max_deviation: Number | None = None,
        trailing_stop_deviation_unit: TrailingStopDeviationUnit | str | None = None,
        limit_price_offset_value: Number | None = None,
        limit_price_offset_unit: TrailingStopDeviationUnit | str | None = None,
        process_before: ProcessBefore = None,
    ) -> None:
        kind = check_enum("order_type", order_type, OrderType)
        _check_prices(kind, limit_price, stop_price)
        _check_trailing(
            kind, limit_price, trailing_stop_max_deviation, trailing_stop_deviation_unit
        )
        if (limit_price_offset_value is None) != (limit_price_offset_unit is None):
            raise InvalidArgumentError(
                "limit_price_offset_value and limit_price_offset_unit go together"
            )
        if limit_price_offset_value is not None and kind not in _OFFSET_TYPES:
            raise InvalidArgumentError("a limit price offset only applies to trigger orders")
        if limit_price_offset_value is not None and limit_price is not None:
            raise InvalidArgumentError("give either limit_price or a limit price offset, not both")
        if trigger_signal is not None and kind not in _OFFSET_TYPES:
            raise InvalidArgumentError(
                "trigger_signal only applies to stp, take_profit and trailing_stop"
            )
        if reduce_only is not None and not isinstance(reduce_only, bool):
            raise InvalidArgumentError(f"reduce_only must be True or False, got {reduce_only!r}")
        unit = TrailingStopDeviationUnit
        self.__attrs_init__(
            order_type=kind,
            symbol=check_symbol(symbol),
            side=check_enum("side", side, Side),
            size=check_number("size", size),
            limit_price=optional_number("limit_price", limit_price),
            stop_price=optional_number("stop_price", stop_price),
            trigger_signal=optional_enum("trigger_signal", trigger_signal, TriggerSignal),
            cli_ord_id=check_cli_ord_id(cli_ord_id) or new_cli_ord_id(),
            reduce_only=reduce_only,
            trailing_stop_max_deviation=optional_number(
                "trailing_stop_max_deviation", trailing_stop_max_deviation
            ),
            trailing_stop_deviation_unit=optional_enum(
                "trailing_stop_deviation_unit", trailing_stop_deviation_unit, unit
            ),
            limit_price_offset_value=optional_number(
                "limit_price_offset_value", limit_price_offset_value, positive=False
            ),
            limit_price_offset_unit=optional_enum(
                "limit_price_offset_unit", limit_price_offset_unit, unit
            ),
            process_before=_process_before(process_before),
        )


def _check_prices(kind: OrderType, limit_price: object, stop_price: object) -> None:
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


def _check_trailing(
    kind: OrderType, limit_price: object, max_deviation: object, deviation_unit: object
) -> None:
    if kind is OrderType.TRAILING_STOP:
        if limit_price is not None:
            raise InvalidArgumentError("a trailing_stop order takes no limit_price")
        if max_deviation is None or deviation_unit is None:
            raise InvalidArgumentError(
                "a trailing_stop order needs trailing_stop_max_deviation and "
                "trailing_stop_deviation_unit"
            )
    elif max_deviation is not None or deviation_unit is not None:
        raise InvalidArgumentError("trailing_stop_* arguments only apply to trailing_stop orders")


@attrs.frozen(init=False)
class EditOrder:
    """New size or prices for a resting order, found by its id or its client order id."""

    order_id: str | None
    cli_ord_id: str | None
    size: Decimal | None
    limit_price: Decimal | None
    stop_price: Decimal | None
    trailing_stop_max_deviation: Decimal | None
    trailing_stop_deviation_unit: TrailingStopDeviationUnit | None
    process_before: ProcessBefore

    def __init__(
        self,
        *,
        order_id: str | None = None,
        cli_ord_id: str | None = None,
        size: Number | None = None,
        limit_price: Number | None = None,
        stop_price: Number | None = None,
        trailing_stop_max_deviation: Number | None = None,
        trailing_stop_deviation_unit: TrailingStopDeviationUnit | str | None = None,
        process_before: ProcessBefore = None,
    ) -> None:
        check_one_id(order_id, cli_ord_id)
        changes = (size, limit_price, stop_price, trailing_stop_max_deviation)
        if all(value is None for value in changes) and trailing_stop_deviation_unit is None:
            raise InvalidArgumentError(
                "an edit needs at least one of size, limit_price, stop_price"
            )
        self.__attrs_init__(
            order_id=order_id,
            cli_ord_id=cli_ord_id,
            size=optional_number("size", size),
            limit_price=optional_number("limit_price", limit_price),
            stop_price=optional_number("stop_price", stop_price),
            trailing_stop_max_deviation=optional_number(
                "trailing_stop_max_deviation", trailing_stop_max_deviation
            ),
            trailing_stop_deviation_unit=optional_enum(
                "trailing_stop_deviation_unit",
                trailing_stop_deviation_unit,
                TrailingStopDeviationUnit,
            ),
            process_before=_process_before(process_before),
        )


@attrs.frozen(init=False)
class CancelOrder:
    """One order to cancel, by its id or its client order id."""

    order_id: str | None
    cli_ord_id: str | None
    process_before: dt.datetime | None

    def __init__(
        self,
        *,
        order_id: str | None = None,
        cli_ord_id: str | None = None,
        process_before: dt.datetime | None = None,
    ) -> None:
        check_one_id(order_id, cli_ord_id)
        self.__attrs_init__(
            order_id=order_id,
            cli_ord_id=cli_ord_id,
            process_before=check_aware("process_before", process_before),
        )


@attrs.frozen(init=False)
class CancelAll:
    """Every open order, or those of one contract."""

    symbol: str | None

    def __init__(self, symbol: str | None = None) -> None:
        self.__attrs_init__(symbol=optional_symbol(symbol))


@attrs.frozen(init=False)
class CancelAllAfter:
    """Arm (or with 0, disarm) the dead man's switch: cancel everything after ``timeout`` s."""

    timeout: int

    def __init__(self, timeout: int | dt.timedelta) -> None:
        seconds = int(timeout.total_seconds()) if isinstance(timeout, dt.timedelta) else timeout
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int)
            or not (0 <= seconds <= MAX_CANCEL_AFTER)
        ):
            raise InvalidArgumentError(f"delay must be 0 to {MAX_CANCEL_AFTER} seconds")
        self.__attrs_init__(timeout=seconds)


@attrs.frozen(init=False)
class OrderStatusQuery:
    """Orders by id or client order id: open ones, and those closed a few seconds ago."""

    order_ids: tuple[str, ...]
    cli_ord_ids: tuple[str, ...]

    def __init__(self, *, order_ids: Iterable[str] = (), cli_ord_ids: Iterable[str] = ()) -> None:
        ids, cli_ids = tuple(order_ids), tuple(cli_ord_ids)
        if not ids and not cli_ids:
            raise InvalidArgumentError("give at least one order id or client order id")
        for cli in cli_ids:
            check_cli_ord_id(cli)
        if any(not isinstance(i, str) or not i for i in ids):
            raise InvalidArgumentError("order ids must be non-empty strings")
        self.__attrs_init__(order_ids=ids, cli_ord_ids=cli_ids)


@attrs.frozen(init=False)
class FillsQuery:
    """The latest page of fills, or the page before ``before``."""

    before: dt.datetime | None

    def __init__(self, before: dt.datetime | None = None) -> None:
        self.__attrs_init__(before=check_aware("before", before))


@attrs.frozen
class BatchSend:
    """A batch's new order, with the tag that matches its result back."""

    tag: str
    order: SendOrder


#: One instruction of a batch.
BatchInstruction = BatchSend | EditOrder | CancelOrder

# What a batch ``send`` accepts (Kraken's batch schema has no offsets, broker or mkt orders).
BATCH_SEND_TYPES = frozenset(
    {
        OrderType.LIMIT,
        OrderType.POST_ONLY,
        OrderType.IMMEDIATE_OR_CANCEL,
        OrderType.STOP,
        OrderType.TAKE_PROFIT,
        OrderType.TRAILING_STOP,
        OrderType.FILL_OR_KILL,
    }
)


@attrs.frozen(init=False)
class BatchRequest:
    """Sends, edits and cancels that travel together (at most :data:`MAX_BATCH_SIZE`)."""

    instructions: tuple[BatchInstruction, ...]
    process_before: dt.datetime | None

    def __init__(
        self,
        instructions: Iterable[BatchInstruction],
        *,
        process_before: dt.datetime | None = None,
    ) -> None:
        items = tuple(instructions)
        if not items:
            raise InvalidArgumentError("the batch is empty")
        if len(items) > MAX_BATCH_SIZE:
            raise InvalidArgumentError(f"a batch holds at most {MAX_BATCH_SIZE} instructions")
        for item in items:
            check_batch_instruction(item)
        self.__attrs_init__(
            instructions=items, process_before=check_aware("process_before", process_before)
        )


def check_batch_instruction(item: BatchInstruction) -> None:
    """What a batch refuses that the single calls accept."""
    if isinstance(item, BatchSend):
        if item.order.order_type not in BATCH_SEND_TYPES:
            raise InvalidArgumentError(
                f"a batch cannot send a {item.order.order_type.value} order; use orders.send"
            )
        if item.order.limit_price_offset_value is not None:
            raise InvalidArgumentError("a batch cannot send a limit price offset; use orders.send")
    elif isinstance(item, EditOrder):
        if item.trailing_stop_max_deviation is not None or item.trailing_stop_deviation_unit:
            raise InvalidArgumentError("a batch edit changes size and prices only")
        if item.process_before is not None:
            raise InvalidArgumentError("a batch's deadline is the batch's own process_before")
    elif not isinstance(item, CancelOrder):
        raise InvalidArgumentError(f"not a batch instruction: {type(item).__name__}")
