"""Orders and trigger orders, and the shapes Kraken shows them in.

One Order object lives from placement to its end; a stop or take-profit is a trigger until it
fires and then the same object (same id) becomes a regular order. Kraken shows an order in
several shapes, one per surface, and this module renders all of them: ``OrderJson`` and
``OrderTriggerJson`` in order events, the ``openorders`` element and the ``orders/status``
element.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from ._text import ZERO, iso_ms, iso_us

__all__ = [
    "TRIGGER_KINDS",
    "Order",
    "cached_order_json",
    "open_order_json",
    "order_json",
    "snapshot",
    "trigger_json",
]

TRIGGER_KINDS = frozenset({"stp", "take_profit", "trailing_stop"})

_EVENT_TYPE = {"lmt": "lmt", "post": "post", "ioc": "ioc", "mkt": "ioc", "fok": "fok"}
_SIGNAL_EVENT = {"mark": "mark_price", "index": "spot_price", "last": "last_price"}
_SIGNAL_OPEN = {"mark": "mark", "index": "spot", "last": "last"}
_SIGNAL_STATUS = {"mark": "MARK_PRICE", "index": "SPOT_PRICE", "last": "LAST_PRICE"}


@dataclass(slots=True, eq=False)
class Order:
    order_id: str
    account: str
    symbol: str
    side: str
    kind: str
    quantity: Decimal
    limit_price: Decimal | None
    reduce_only: bool
    cli_ord_id: str | None
    received: float
    updated: float
    seq: int
    filled: Decimal = ZERO
    #: executes at once and never rests (ioc, mkt, fok, a fired stop-market)
    immediate: bool = False
    #: sits in the book
    resting: bool = False
    # trigger orders
    stop_price: Decimal | None = None
    trigger_signal: str | None = None
    trigger_above: bool = False
    trail_deviation: Decimal | None = None
    trail_unit: str | None = None
    offset_value: Decimal | None = None
    offset_unit: str | None = None
    triggered: bool = False
    # lifecycle, as orders/status reports it
    status: str = "ENTERED_BOOK"
    update_reason: str | None = "NEW_USER_ORDER"
    error: str | None = None
    closed_at: float | None = None

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled

    @property
    def is_trigger(self) -> bool:
        """Still waiting for its trigger (a fired stop is a regular order)."""
        return self.kind in TRIGGER_KINDS and not self.triggered

    @property
    def is_buy(self) -> bool:
        return self.side == "buy"

    @property
    def event_type(self) -> str:
        """The ``type`` of this order in ``OrderJson`` (``mkt`` shows as ``ioc``)."""
        if self.kind in TRIGGER_KINDS:
            if not self.triggered:
                return "stp"
            return "ioc" if self.immediate else "lmt"
        return _EVENT_TYPE[self.kind]


_EVERY_FIELD = operator.attrgetter(*(item.name for item in fields(Order)))


def snapshot(order: Order) -> Order:
    """A copy of the order as it stands, for an event (the venue goes on changing the original).

    Built from its fields in order (a quarter of ``copy.copy``'s cost on this slotted class).
    """
    return Order(*_EVERY_FIELD(order))


def order_json(order: Order) -> dict[str, Any]:
    """``OrderJson``; a trigger shown this way has type ``stp`` and its stop as the price."""
    price = order.limit_price if order.limit_price is not None else order.stop_price
    return {
        "orderId": order.order_id,
        "cliOrdId": order.cli_ord_id,
        "type": order.event_type,
        "symbol": order.symbol,
        "side": order.side,
        "quantity": order.quantity,
        "filled": order.filled,
        "limitPrice": price if price is not None else ZERO,
        "reduceOnly": order.reduce_only,
        "timestamp": iso_ms(order.received),
        "lastUpdateTimestamp": iso_ms(order.updated),
    }


def trigger_json(order: Order) -> dict[str, Any]:
    """``OrderTriggerJson``: ``type`` is ``lmt`` for stop-limit, ``ioc`` for stop-market."""
    limited = order.limit_price is not None or order.offset_value is not None
    return {
        "uid": order.order_id,
        "clientId": order.cli_ord_id,
        "type": "lmt" if limited else "ioc",
        "symbol": order.symbol,
        "side": order.side,
        "quantity": order.quantity,
        "limitPrice": order.limit_price,
        "triggerPrice": order.stop_price,
        "triggerSide": "trigger_above" if order.trigger_above else "trigger_below",
        "triggerSignal": _SIGNAL_EVENT[order.trigger_signal or "mark"],
        "reduceOnly": order.reduce_only,
        "timestamp": iso_ms(order.received),
        "lastUpdateTimestamp": iso_ms(order.updated),
        "startTime": None,
    }


def open_order_json(order: Order) -> dict[str, Any]:
    """One ``openorders`` element."""
    item: dict[str, Any] = {"order_id": order.order_id}
    if order.cli_ord_id is not None:
        item["cliOrdId"] = order.cli_ord_id
    if order.is_trigger:
        order_type = "take_profit" if order.kind == "take_profit" else "stop"
    else:
        order_type = "lmt"
    item.update(
        {
            "status": "partiallyFilled" if order.filled > 0 else "untouched",
            "side": order.side,
            "orderType": order_type,
            "symbol": order.symbol,
        }
    )
    if order.limit_price is not None:
        item["limitPrice"] = order.limit_price
    if order.is_trigger:
        item["stopPrice"] = order.stop_price
    item["filledSize"] = order.filled
    item["unfilledSize"] = order.remaining
    item["reduceOnly"] = order.reduce_only
    if order.is_trigger:
        item["triggerSignal"] = _SIGNAL_OPEN[order.trigger_signal or "mark"]
    item["receivedTime"] = iso_us(order.received)
    item["lastUpdateTime"] = iso_us(order.updated)
    return item


def cached_order_json(order: Order) -> dict[str, Any]:
    """One ``orders/status`` element: the order, its status, why it changed, what failed."""
    trigger = order.kind in TRIGGER_KINDS and (order.is_trigger or order.status.startswith("TRIG"))
    options: dict[str, Any] | None = None
    if trigger and order.stop_price is not None:
        options = {
            "triggerPrice": order.stop_price,
            "triggerSide": "TRIGGER_ABOVE" if order.trigger_above else "TRIGGER_BELOW",
            "triggerSignal": _SIGNAL_STATUS[order.trigger_signal or "mark"],
        }
    return {
        "order": {
            "type": "TRIGGER_ORDER" if trigger else "ORDER",
            "orderId": order.order_id,
            "cliOrdId": order.cli_ord_id,
            "symbol": order.symbol,
            "side": order.side,
            "quantity": order.quantity,
            "filled": order.filled,
            "limitPrice": order.limit_price,
            "reduceOnly": order.reduce_only,
            "timestamp": iso_ms(order.received),
            "lastUpdateTimestamp": iso_ms(order.updated),
            "algoId": None,
            "priceTriggerOptions": options,
            "triggerTime": None,
        },
        "status": order.status,
        "updateReason": order.update_reason,
        "error": order.error,
    }
