"""Outcomes order safety proves by lookup, spelled as the exchange's direct answers spell them.

A refusal found in ``orders/status`` or the order history reads the same as a refusal the
exchange answered at once; an order found open, filled or recorded reads as placed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ..errors import OrderRejectedError
from ..models import OrderRequestStatus, OrderStatus, SendOrderResult
from ..models.history import OrderRejected, OrderUpdated
from ..operations.orders import EditOrder
from .lookup import OrderRecord, OrderTrace

__all__ = ["LATE", "late", "result_from_history", "result_from_trace", "shows_edit"]

#: The refusal of a request that arrived after its ``processBefore``.
LATE = OrderRequestStatus.WOULD_PROCESS_AFTER_SPECIFIED_TIME.value

_EXECUTED = {"FULLY_EXECUTED"}
_REFUSED = {"REJECTED", "TRIGGER_ACTIVATION_FAILURE"}

#: ``orders/status.error`` (OrderError) spelled as ``sendStatus.status`` spells the refusal.
_REFUSAL_STATUS = {
    "MARKET_SUSPENDED": OrderRequestStatus.MARKET_SUSPENDED,
    "MARKET_NOT_FOUND": OrderRequestStatus.MARKET_INACTIVE,
    "INVALID_PRICE": OrderRequestStatus.INVALID_PRICE,
    "INVALID_QUANTITY": OrderRequestStatus.INVALID_SIZE,
    "SMALL_ORDER_LIMIT_EXCEEDED": OrderRequestStatus.TOO_MANY_SMALL_ORDERS,
    "INSUFFICIENT_MARGIN": OrderRequestStatus.INSUFFICIENT_AVAILABLE_FUNDS,
    "WOULD_CAUSE_LIQUIDATION": OrderRequestStatus.WOULD_CAUSE_LIQUIDATION,
    "CLIENT_ORDER_ID_IN_USE": OrderRequestStatus.CLIENT_ORDER_ID_ALREADY_EXIST,
    "CLIENT_ORDER_ID_TOO_LONG": OrderRequestStatus.CLIENT_ORDER_ID_TOO_LONG,
    "MAX_POSITION_EXCEEDED": OrderRequestStatus.MAX_POSITION_VIOLATION,
    "PRICE_COLLAR": OrderRequestStatus.OUTSIDE_PRICE_COLLAR,
    "PRICE_DISLOCATION": OrderRequestStatus.WOULD_INCREASE_PRICE_DISLOCATION,
    "POST_WOULD_EXECUTE": OrderRequestStatus.POST_WOULD_EXECUTE,
    "IOC_WOULD_NOT_EXECUTE": OrderRequestStatus.IOC_WOULD_NOT_EXECUTE,
    "WOULD_EXECUTE_SELF": OrderRequestStatus.SELF_FILL,
    "WOULD_NOT_REDUCE_POSITION": OrderRequestStatus.WOULD_NOT_REDUCE_POSITION,
    "MARKET_IS_POST_ONLY": OrderRequestStatus.MARKET_IS_POST_ONLY,
    "ORDER_LIMIT_EXCEEDED": OrderRequestStatus.TOO_MANY_ORDERS,
    "FIXED_LEVERAGE_TOO_HIGH": OrderRequestStatus.FIXED_LEVERAGE_TOO_HIGH,
}


def late(
    what: str, cli_ord_id: str | None, order_id: str | None, operation: str
) -> OrderRejectedError:
    return OrderRejectedError(
        f"{what} missed its processBefore and was not executed; it is not sent again",
        status=LATE,
        order_id=order_id,
        cli_ord_id=cli_ord_id,
        endpoint=operation,
    )


def _refusal(
    reason: str, order_id: str | None, cli_ord_id: str, received: dt.datetime | None
) -> OrderRejectedError:
    """A refusal found by lookup, spelled as the exchange's direct answer spells it."""
    refusal = _REFUSAL_STATUS.get(reason, OrderRequestStatus.UNKNOWN)
    status = refusal.value if refusal is not OrderRequestStatus.UNKNOWN else reason
    result = SendOrderResult(
        status=refusal, order_id=order_id, cli_ord_id=cli_ord_id, received_time=received
    )
    return OrderRejectedError(
        f"order request refused ({reason})",
        status=status,
        result=result,
        order_id=order_id,
        cli_ord_id=cli_ord_id,
        endpoint="send_order",
    )


def result_from_history(event: OrderRecord, cli_ord_id: str) -> SendOrderResult:
    """The outcome an order-history event proves: placed (open, cancelled or edited since)."""
    if isinstance(event, OrderRejected):
        raise _refusal(
            event.order_error or "REJECTED", event.order.uid, cli_ord_id, event.order.timestamp
        )
    order = event.new_order if isinstance(event, OrderUpdated) else event.order
    return SendOrderResult(
        status=OrderRequestStatus.PLACED,
        order_id=order.uid,
        cli_ord_id=cli_ord_id,
        received_time=order.timestamp,
    )


def shows_edit(found: OrderStatus, edit: EditOrder) -> bool:
    """Whether the order already carries every value the edit asked for."""
    order = found.order
    size, limit_price, stop_price = edit.size, edit.limit_price, edit.stop_price
    if limit_price is not None and order.limit_price != limit_price:
        return False
    if stop_price is not None and (
        order.price_trigger_options is None
        or order.price_trigger_options.trigger_price != stop_price
    ):
        return False
    if size is not None:
        quantity, filled = order.quantity or Decimal(0), order.filled or Decimal(0)
        return size in (quantity, quantity - filled)
    return True


def result_from_trace(trace: OrderTrace, cli_ord_id: str, size: Decimal) -> SendOrderResult:
    found = trace.status
    if found is None:
        executed = sum((fill.size for fill in trace.fills), Decimal(0))
        whole = executed >= size
        first = min(trace.fills, key=lambda fill: fill.fill_time)
        return SendOrderResult(
            status=OrderRequestStatus.FILLED if whole else OrderRequestStatus.PARTIALLY_FILLED,
            order_id=first.order_id,
            cli_ord_id=cli_ord_id,
            received_time=first.fill_time,
        )
    state = found.status
    if state in _REFUSED:
        raise _refusal(
            found.error or state, found.order.order_id, cli_ord_id, found.order.timestamp
        )
    filled = found.order.filled or Decimal(0)
    if state in _EXECUTED:
        status_value = OrderRequestStatus.FILLED
    elif filled > 0:
        status_value = OrderRequestStatus.PARTIALLY_FILLED
    else:
        status_value = OrderRequestStatus.PLACED
    return SendOrderResult(
        status=status_value,
        order_id=found.order.order_id,
        cli_ord_id=cli_ord_id,
        received_time=found.order.timestamp,
    )
