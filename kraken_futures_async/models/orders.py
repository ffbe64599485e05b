"""Order requests' results, order events and open orders."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs

from ._base import wire
from .enums import FillType, OrderRequestStatus, Side

__all__ = [
    "FILLS_PAGE_SIZE",
    "OPEN_ORDER_STATES",
    "BatchItemResult",
    "CachedOrder",
    "CancelAllResult",
    "CancelEvent",
    "CancelOrderResult",
    "CancelledOrderId",
    "DeadManSwitchStatus",
    "EditEvent",
    "EditOrderResult",
    "ExecutionEvent",
    "Fill",
    "OpenOrder",
    "OrderEvent",
    "OrderSnapshot",
    "OrderStatus",
    "OrderTrigger",
    "PlaceEvent",
    "PriceTriggerOptions",
    "RejectEvent",
    "SendOrderResult",
    "UnknownOrderEvent",
]


@attrs.frozen(kw_only=True)
class OrderSnapshot:
    """An order as the matching engine saw it at one moment (Kraken's ``OrderJson``)."""

    order_id: str
    type: str
    symbol: str
    side: Side
    quantity: Decimal | None
    filled: Decimal | None
    limit_price: Decimal | None
    reduce_only: bool
    timestamp: dt.datetime
    cli_ord_id: str | None = None
    last_update_timestamp: dt.datetime | None = None
    stop_price: Decimal | None = None


@attrs.frozen(kw_only=True)
class OrderTrigger:
    """A resting stop / take-profit / trailing order (Kraken's ``OrderTriggerJson``)."""

    uid: str
    client_id: str | None
    type: str
    symbol: str
    side: Side
    quantity: Decimal | None
    limit_price: Decimal | None
    trigger_price: Decimal | None
    trigger_side: str | None
    trigger_signal: str | None
    reduce_only: bool
    timestamp: dt.datetime
    last_update_timestamp: dt.datetime | None = None
    start_time: dt.datetime | None = None


@attrs.frozen(kw_only=True)
class PlaceEvent:
    """An order or trigger entered the book (exactly one of ``order``/``order_trigger``)."""

    type: str
    order: OrderSnapshot | None = None
    order_trigger: OrderTrigger | None = None
    reduced_quantity: Decimal | None = None


@attrs.frozen(kw_only=True)
class CancelEvent:
    """An order event: the order was cancelled."""

    type: str
    uid: str
    order: OrderSnapshot | None = None
    order_trigger: OrderTrigger | None = None


@attrs.frozen(kw_only=True)
class EditEvent:
    """An order event: the order was edited, with its terms before and after."""

    type: str
    old: OrderSnapshot
    new: OrderSnapshot
    reduced_quantity: Decimal | None = None


@attrs.frozen(kw_only=True)
class RejectEvent:
    """An order event: the order was rejected, with Kraken's reason."""

    type: str
    uid: str
    reason: str
    order: OrderSnapshot | None = None
    order_trigger: OrderTrigger | None = None


@attrs.frozen(kw_only=True)
class ExecutionEvent:
    """One fill of the order: ``amount`` at ``price``."""

    type: str
    execution_id: str
    price: Decimal
    amount: Decimal
    order_prior_execution: OrderSnapshot
    order_prior_edit: OrderSnapshot | None = None
    taker_reduced_quantity: Decimal | None = None


@attrs.frozen(kw_only=True)
class UnknownOrderEvent:
    """An event type this library does not know yet; ``raw`` keeps it whole."""

    type: str
    raw: dict[str, Any]


#: An event in an order result's ``order_events``; one this version does not know arrives as
#: ``UnknownOrderEvent``.
OrderEvent = PlaceEvent | CancelEvent | EditEvent | RejectEvent | ExecutionEvent | UnknownOrderEvent


@attrs.frozen(kw_only=True)
class SendOrderResult:
    """``sendStatus``: only ``placed``/``partiallyFilled``/``filled`` reach the caller."""

    status: OrderRequestStatus
    order_id: str | None = attrs.field(default=None, metadata=wire("order_id"))
    cli_ord_id: str | None = None
    received_time: dt.datetime | None = None
    order_events: tuple[OrderEvent, ...] = ()

    @property
    def executions(self) -> tuple[ExecutionEvent, ...]:
        """The fills among the order's events (empty over UWS, where fills arrive on
        ``kf.stream.executions()``)."""
        return tuple(e for e in self.order_events if isinstance(e, ExecutionEvent))

    @property
    def filled_size(self) -> Decimal:
        """How much of the order filled at once: the sum of its executions."""
        return sum((e.amount for e in self.executions), Decimal(0))


@attrs.frozen(kw_only=True)
class EditOrderResult:
    """What ``kf.orders.edit()`` did: the request's status and the order's events."""

    status: OrderRequestStatus
    order_events: tuple[OrderEvent, ...] = ()
    order_id: str | None = None
    cli_ord_id: str | None = None
    received_time: dt.datetime | None = None


@attrs.frozen(kw_only=True)
class CancelOrderResult:
    """What ``kf.orders.cancel()`` did: the request's status and the order's events."""

    status: OrderRequestStatus
    order_id: str | None = attrs.field(default=None, metadata=wire("order_id"))
    cli_ord_id: str | None = None
    received_time: dt.datetime | None = None
    order_events: tuple[OrderEvent, ...] = ()


@attrs.frozen(kw_only=True)
class CancelledOrderId:
    """One order a cancel-all took off the book."""

    order_id: str = attrs.field(metadata=wire("order_id"))
    cli_ord_id: str | None = None


@attrs.frozen(kw_only=True)
class CancelAllResult:
    """What ``kf.orders.cancel_all()`` did: the ids of the orders it cancelled."""

    status: OrderRequestStatus
    cancel_only: str
    cancelled_orders: tuple[CancelledOrderId, ...]
    received_time: dt.datetime
    order_events: tuple[OrderEvent, ...] = ()


@attrs.frozen(kw_only=True)
class DeadManSwitchStatus:
    """``triggerTime`` is ``None`` when the switch is off (Kraken sends the string ``"0"``)."""

    current_time: dt.datetime
    trigger_time: dt.datetime | None


@attrs.frozen(kw_only=True)
class OpenOrder:
    """A resting order from ``/openorders`` (``order_type``: lmt, stop or take_profit)."""

    order_id: str = attrs.field(metadata=wire("order_id"))
    status: str
    side: Side
    order_type: str
    symbol: str
    filled_size: Decimal
    reduce_only: bool
    received_time: dt.datetime
    last_update_time: dt.datetime
    cli_ord_id: str | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    unfilled_size: Decimal | None = None
    trigger_signal: str | None = None


@attrs.frozen(kw_only=True)
class Fill:
    """One of the account's fills: order, contract, side, size, price, time, and maker or
    taker."""

    fill_id: str = attrs.field(metadata=wire("fill_id"))
    order_id: str = attrs.field(metadata=wire("order_id"))
    symbol: str
    side: Side
    size: Decimal
    price: Decimal
    fill_time: dt.datetime
    fill_type: FillType
    cli_ord_id: str | None = None


@attrs.frozen(kw_only=True)
class BatchItemResult:
    """The outcome of one batch instruction; a rejected item does not fail the batch."""

    status: OrderRequestStatus
    order_events: tuple[OrderEvent, ...] = ()
    order_tag: str | None = attrs.field(default=None, metadata=wire("order_tag"))
    order_id: str | None = attrs.field(default=None, metadata=wire("order_id"))
    cli_ord_id: str | None = None
    date_time_received: dt.datetime | None = None

    @property
    def ok(self) -> bool:
        """Whether the exchange accepted this instruction of the batch."""
        return self.status in _BATCH_SUCCESS


_BATCH_SUCCESS = frozenset(
    {
        OrderRequestStatus.PLACED,
        OrderRequestStatus.PARTIALLY_FILLED,
        OrderRequestStatus.FILLED,
        OrderRequestStatus.EDITED,
        OrderRequestStatus.CANCELLED,
    }
)


@attrs.frozen(kw_only=True)
class PriceTriggerOptions:
    """The trigger of a conditional order as its status reports it: price, side and signal."""

    trigger_price: Decimal
    trigger_side: str
    trigger_signal: str


@attrs.frozen(kw_only=True)
class CachedOrder:
    """An order or trigger as ``orders/status`` reports it."""

    type: str
    order_id: str
    symbol: str
    side: Side
    reduce_only: bool
    timestamp: dt.datetime
    cli_ord_id: str | None = None
    quantity: Decimal | None = None
    filled: Decimal | None = None
    limit_price: Decimal | None = None
    last_update_timestamp: dt.datetime | None = None
    algo_id: str | None = None
    price_trigger_options: PriceTriggerOptions | None = None
    trigger_time: dt.datetime | None = None


#: ``orders/status`` states of an order still on the book (resting or waiting to trigger).
OPEN_ORDER_STATES = frozenset({"ENTERED_BOOK", "TRIGGER_PLACED"})
#: Kraken answers fills 100 to a page; a shorter page is the last.
FILLS_PAGE_SIZE = 100


@attrs.frozen(kw_only=True)
class OrderStatus:
    """One order's state: ``status`` is ENTERED_BOOK, FULLY_EXECUTED, CANCELLED, ..."""

    order: CachedOrder
    status: str
    update_reason: str | None = None
    error: str | None = None

    @property
    def is_open(self) -> bool:
        """Whether the order is still working: on the book, or waiting for its trigger."""
        return self.status in OPEN_ORDER_STATES
