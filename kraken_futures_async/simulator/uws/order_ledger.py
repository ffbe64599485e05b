"""Per-order bookkeeping of the twin's ``executions`` channel: :class:`OrderLedger`.

Events carry the engine's order kinds (``lmt``, ``post``, ``stp``...); what a UWS request
asked for (``order_type``, ``time_in_force``, ``post_only``, trigger reference) is remembered
per order id while the order is open (:meth:`OrderLedger.expect` before the engine call), so
an order placed over UWS reads back in UWS terms, and one placed over REST in the closest
ones (:func:`terms_of`). The ledger also keeps each open order's fills so far (``cum_qty``,
``cum_cost``) and the public trade id of recent fills, and turns the engine's order events
into ``executions`` rows; who hears them is :class:`~.private_channels.PrivateHub`'s job.
"""

from __future__ import annotations

import collections
import contextlib
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from ..engine._text import parse_iso
from ..engine.accounts import MAKER_FEE, TAKER_FEE
from ..engine.events import OrderCancelled, OrderChanged, OrderFilled, OrderPlaced, Trade
from .wire import rfc3339

__all__ = ["OrderLedger", "OrderTerms", "snapshot_fill", "terms_of"]

_ZERO = Decimal(0)
#: Execution ids whose public trade id is remembered (for ``trade_id`` on fills).
_TRADE_IDS = 256
#: Engine order kinds -> UWS ``order_type`` (and the limit flavour of trigger kinds).
_KINDS = {
    "lmt": "limit",
    "post": "limit",
    "ioc": "limit",
    "fok": "limit",
    "mkt": "market",
    "stp": "stop-loss",
    "take_profit": "take-profit",
    "trailing_stop": "trailing-stop",
}
_TIF = {"ioc": "ioc", "fok": "fok"}


class OrderTerms:
    """What a UWS request asked for, kept per open order id."""

    __slots__ = (
        "order_type",
        "post_only",
        "reduce_only",
        "time_in_force",
        "trigger_price_type",
        "trigger_ref",
    )

    def __init__(
        self,
        order_type: str,
        time_in_force: str = "gtc",
        post_only: bool = False,
        trigger_ref: str | None = None,
        trigger_price_type: str | None = None,
        reduce_only: bool = False,
    ) -> None:
        self.order_type = order_type
        self.reduce_only = reduce_only
        self.time_in_force = time_in_force
        self.post_only = post_only
        self.trigger_ref = trigger_ref
        self.trigger_price_type = trigger_price_type


class _Order:
    """An open order as ``executions`` tells it (terms, and fills so far)."""

    __slots__ = (
        "account",
        "cl_ord_id",
        "cost",
        "filled",
        "limit_price",
        "order_id",
        "qty",
        "reduce_only",
        "side",
        "stop_price",
        "symbol",
        "terms",
    )

    def __init__(self, event: OrderPlaced, terms: OrderTerms) -> None:
        self.account = event.account
        self.order_id = event.order_id
        self.cl_ord_id = event.cli_ord_id
        self.symbol = event.symbol
        self.side = event.side
        self.qty = event.quantity
        self.filled = event.filled
        self.cost = _ZERO
        self.limit_price = event.limit_price
        self.stop_price = event.stop_price
        self.reduce_only = terms.reduce_only
        self.terms = terms


def terms_of(kind: str, limit_price: Decimal | None) -> OrderTerms:
    """The closest UWS terms of an order the socket did not place (REST, say)."""
    order_type = _KINDS.get(kind, "limit")
    if kind in ("stp", "take_profit") and limit_price is not None:
        order_type += "-limit"
    return OrderTerms(order_type, _TIF.get(kind, "gtc"), kind == "post")


class OrderLedger:
    """The open orders ``executions`` tells about, and the rows their events make."""

    def __init__(self) -> None:
        self.orders: dict[str, _Order] = {}
        self._trade_ids: collections.OrderedDict[str, int] = collections.OrderedDict()
        self._expected: OrderTerms | None = None

    @contextlib.contextmanager
    def expect(self, terms: OrderTerms) -> Iterator[None]:
        """The next order placed (inside this block) was asked for with ``terms``."""
        self._expected = terms
        try:
            yield
        finally:
            self._expected = None

    def trade(self, event: Trade) -> None:
        self._trade_ids[event.execution_id] = event.trade_id
        while len(self._trade_ids) > _TRADE_IDS:
            self._trade_ids.popitem(last=False)

    def placed(self, event: OrderPlaced) -> dict[str, Any] | None:
        """The ``new`` row of an order placed (None: a trigger that fired, told already)."""
        known = self.orders.get(event.order_id)
        if known is not None:  # a trigger that fired is the same order
            return None
        terms = self._expected or terms_of(event.kind, event.limit_price)
        self._expected = None
        order = self.orders[event.order_id] = _Order(event, terms)
        item = _order_item(order, event.at)
        item.update(exec_type="new", order_status="new")
        return item

    def changed(self, event: OrderChanged) -> dict[str, Any] | None:
        """The ``amended`` or ``restated`` row (None: an order never told)."""
        order = self.orders.get(event.order_id)
        if order is None:
            return None
        order.qty = event.quantity
        order.limit_price = event.limit_price
        order.stop_price = event.stop_price
        item = _order_item(order, event.at)
        if event.reason == "edited_by_user":
            item.update(exec_type="amended", amended=True)
        else:
            item.update(exec_type="restated", reason=event.reason)
        item["order_status"] = "partially_filled" if order.filled > 0 else "new"
        return item

    def filled(self, event: OrderFilled) -> list[dict[str, Any]]:
        """The ``trade`` row of a fill, then the ``filled`` row if it completed the order."""
        order = self.orders.get(event.order_id)
        cost = event.price * event.size
        rate = MAKER_FEE if event.fill_type == "maker" else TAKER_FEE
        fee = cost * rate
        if order is not None:
            order.filled += event.size
            order.cost += cost
            cum, total = order.filled, order.cost
        else:
            cum, total = event.size, cost
        done = event.remaining <= 0
        item: dict[str, Any] = {"order_id": event.order_id}
        if order is not None and order.cl_ord_id is not None:
            item["cl_ord_id"] = order.cl_ord_id
        item.update(
            symbol=event.symbol,
            side=event.side,
            exec_type="trade",
            exec_id=event.execution_id,
        )
        trade_id = self._trade_ids.get(event.execution_id)
        if trade_id is not None:
            item["trade_id"] = trade_id
        item.update(
            last_qty=event.size,
            last_price=event.price,
            cum_qty=cum,
            cum_cost=total,
            avg_price=_avg(total, cum),
            cost=cost,
            liquidity_ind="m" if event.fill_type == "maker" else "t",
            fees=[{"asset": "USD", "qty": _fee(fee)}],
            order_status="filled" if done else "partially_filled",
            timestamp=rfc3339(event.at),
        )
        if not done:
            return [item]
        closing: dict[str, Any] = {"order_id": event.order_id}
        if order is not None and order.cl_ord_id is not None:
            closing["cl_ord_id"] = order.cl_ord_id
        closing.update(
            symbol=event.symbol,
            side=event.side,
            exec_type="filled",
            order_status="filled",
            cum_qty=cum,
            cum_cost=total,
            avg_price=_avg(total, cum),
            timestamp=rfc3339(event.at),
        )
        self.orders.pop(event.order_id, None)
        return [item, closing]

    def cancelled(self, event: OrderCancelled) -> dict[str, Any] | None:
        """The ``canceled`` or ``expired`` row (None: an order never told)."""
        order = self.orders.pop(event.order_id, None)
        if order is None:  # never announced (a post-only refused before it rested)
            return None
        item = _order_item(order, event.at)
        kind = "expired" if event.status == "EXPIRED" else "canceled"
        item.update(exec_type=kind, order_status=kind)
        if event.reason is not None:
            item["cancel_reason"] = event.reason
        return item

    def snapshot_order(self, row: dict[str, Any], account: str, now: float) -> dict[str, Any]:
        """The snapshot row of an open order as REST's ``open_orders`` reads it."""
        order_id = str(row["order_id"])
        order = self.orders.get(order_id)
        if order is None:  # placed before the hub listened: the REST view's terms
            kind = {"stop": "stp", "take_profit": "take_profit"}.get(row["orderType"], "lmt")
            placed = OrderPlaced(
                now,
                account,
                order_id,
                row.get("cliOrdId"),
                row["symbol"],
                row["side"],
                kind,
                Decimal(row["filledSize"]) + Decimal(row["unfilledSize"]),
                Decimal(row["filledSize"]),
                row.get("limitPrice"),
                row.get("stopPrice"),
                kind != "lmt",
            )
            order = self.orders[order_id] = _Order(placed, terms_of(kind, row.get("limitPrice")))
        order.reduce_only = bool(row.get("reduceOnly", False))
        item = _order_item(order, parse_iso(str(row["receivedTime"])))
        item.update(
            exec_type="new",
            order_status="partially_filled" if order.filled > 0 else "new",
        )
        return item


def _order_item(order: _Order, at: float) -> dict[str, Any]:
    terms = order.terms
    item: dict[str, Any] = {"order_id": order.order_id}
    if order.cl_ord_id is not None:
        item["cl_ord_id"] = order.cl_ord_id
    item.update(
        symbol=order.symbol,
        side=order.side,
        order_type=terms.order_type,
        order_qty=order.qty,
    )
    if order.limit_price is not None and terms.order_type != "market":
        item["limit_price"] = order.limit_price
    if order.stop_price is not None:
        item["triggers"] = {
            "reference": terms.trigger_ref or "last",
            "price": order.stop_price,
            "price_type": terms.trigger_price_type or "static",
        }
    item.update(
        time_in_force=terms.time_in_force,
        post_only=terms.post_only,
        reduce_only=order.reduce_only,
        cum_qty=order.filled,
        timestamp=rfc3339(at),
    )
    return item


def snapshot_fill(fill: dict[str, Any]) -> dict[str, Any]:
    """The snapshot row of a past fill as REST's ``fills`` reads it."""
    size, price = Decimal(fill["size"]), Decimal(fill["price"])
    maker = fill.get("fillType") == "maker"
    fee = price * size * (MAKER_FEE if maker else TAKER_FEE)
    item: dict[str, Any] = {"order_id": fill["order_id"]}
    if fill.get("cliOrdId") is not None:
        item["cl_ord_id"] = fill["cliOrdId"]
    item.update(
        symbol=fill["symbol"],
        side=fill["side"],
        exec_type="trade",
        exec_id=fill["fill_id"],
        last_qty=size,
        last_price=price,
        cost=price * size,
        liquidity_ind="m" if maker else "t",
        fees=[{"asset": "USD", "qty": _fee(fee)}],
        timestamp=rfc3339(parse_iso(str(fill["fillTime"]))),
    )
    return item


def _avg(cost: Decimal, qty: Decimal) -> Decimal:
    return _ZERO if qty == 0 else (cost / qty).quantize(Decimal("1e-8")).normalize()


def _fee(value: Decimal) -> Decimal:
    return value.quantize(Decimal("1e-8")).normalize()
