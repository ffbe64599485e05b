"""Order requests: a new order's checks and placing, edits and cancels."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ._text import ZERO, is_multiple
from .accounts import Account
from .book import Market
from .instruments import InstrumentSpec
from .orders import TRIGGER_KINDS, Order, order_json, trigger_json
from .triggers import Triggers

__all__ = ["EditRequest", "OrderDesk", "OrderRequest", "Outcome"]


@dataclass(frozen=True, slots=True)
class OrderRequest:
    kind: str
    symbol: str
    side: str
    size: Decimal
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trigger_signal: str = "mark"
    cli_ord_id: str | None = None
    reduce_only: bool = False
    trail_deviation: Decimal | None = None
    trail_unit: str | None = None
    offset_value: Decimal | None = None
    offset_unit: str | None = None


@dataclass(frozen=True, slots=True)
class EditRequest:
    size: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_deviation: Decimal | None = None
    trail_unit: str | None = None
    absolute: bool = False


@dataclass(slots=True)
class Outcome:
    """An order request's status, the order it concerns and the events it produced."""

    status: str
    order: Order | None = None
    events: list[dict[str, Any]] = field(default_factory=list)


class OrderDesk(Triggers):
    # order requests ---------------------------------------------------------------------

    def validate(self, account: Account, spec: InstrumentSpec, req: OrderRequest) -> str | None:
        """The refusal status of a new order's static checks, or None."""
        if spec.expiry is not None and self.now >= spec.expiry:
            return "marketInactive"
        if req.cli_ord_id is not None:
            if len(req.cli_ord_id) > 100:
                return "clientOrderIdTooBig"
            if req.cli_ord_id in account.by_cli:
                return "clientOrderIdAlreadyExist"
        if req.size <= 0 or not is_multiple(req.size, spec.size_step):
            return "invalidSize"
        for price in (req.limit_price, req.stop_price):
            if price is not None and (price <= 0 or not is_multiple(price, spec.tick)):
                return "invalidPrice"
        if req.kind == "trailing_stop":
            deviation = req.trail_deviation
            if deviation is None or deviation <= 0:
                return "invalidPrice"
            if req.trail_unit == "PERCENT" and not Decimal("0.1") <= deviation <= 50:
                return "invalidPrice"
            if req.trail_unit == "QUOTE_CURRENCY" and not is_multiple(deviation, spec.tick):
                return "invalidPrice"
        if req.offset_value is not None and req.limit_price is not None:
            return "invalidPrice"
        return None

    def place(self, account: Account, req: OrderRequest) -> Outcome:
        spec = self.specs[req.symbol]
        market = self.market(req.symbol)
        at = self.now
        second = self.second
        refusal = self.validate(account, spec, req)
        if refusal is not None:
            return Outcome(refusal)
        buy = req.side == "buy"
        size = req.size
        reduced: Decimal | None = None
        if req.reduce_only:
            position = self._position_size(account, spec.symbol)
            if not ((position > 0 and not buy) or (position < 0 and buy)):
                return Outcome("wouldNotReducePosition")
            reduced = max(ZERO, size - abs(position))
            size -= reduced
        elif self._violates_max_position(account, spec, buy, size):
            return Outcome("maxPositionViolation")
        trigger = req.kind in TRIGGER_KINDS
        may_rest = trigger or req.kind in ("lmt", "post")
        if may_rest and len(account.open_orders) >= self.retention.open_orders:
            return Outcome("tooManyOrders")
        if not trigger and not req.reduce_only and not self._margin_ok(account, spec, buy, size):
            return Outcome("insufficientAvailableFunds")
        order = Order(
            order_id=self.new_id(),
            account=account.uid,
            symbol=spec.symbol,
            side=req.side,
            kind=req.kind,
            quantity=size,
            limit_price=req.limit_price,
            reduce_only=req.reduce_only,
            cli_ord_id=req.cli_ord_id,
            received=at,
            updated=at,
            seq=self.next_seq(),
            immediate=req.kind in ("ioc", "mkt", "fok"),
        )
        if trigger:
            return self._place_trigger(account, market, order, req)
        if req.kind == "mkt":
            order.limit_price = self._protective(spec, buy, second)
        assert order.limit_price is not None
        _, _, mark = self.prices.quote(spec, second)
        ladder = market.ladder_at(second, mark)
        if req.kind == "post" and market.would_cross(buy, order.limit_price, ladder):
            return self._reject(account, order, "postWouldExecute", "POST_WOULD_EXECUTE", at)
        if req.kind == "fok":
            matches, self_trade = market.plan(buy, order.limit_price, size, account.uid, ladder)
            if self_trade or sum((m.size for m in matches), ZERO) < size:
                return self._reject(
                    account, order, "iocWouldNotExecute", "IOC_WOULD_NOT_EXECUTE", at
                )
        self._order_placed(order, at)
        events, self_trade = self._take(market, order, second, at, "taker")
        if not events and self_trade:
            self._close(
                account, order, "REJECTED", "WOULD_EXECUTE_SELF_REASON", "WOULD_EXECUTE_SELF", at
            )
            return Outcome("selfFill", order)
        if not events and order.immediate:
            return self._reject(account, order, "iocWouldNotExecute", "IOC_WOULD_NOT_EXECUTE", at)
        if self._finish_taker(account, market, order, self_trade, at):
            events.append({"type": "PLACE", "order": order_json(order), "reducedQuantity": reduced})
        if market.triggers_dirty and market.triggers:
            self._check_triggers(market, second, at)
        return Outcome("placed", order, events)

    def _reject(
        self, account: Account, order: Order, status: str, error: str, at: float
    ) -> Outcome:
        event = {"type": "REJECT", "uid": order.order_id, "order": order_json(order)}
        event["reason"] = error
        self._close(account, order, "REJECTED", f"{error}_REASON", error, at)
        return Outcome(status, order, [event])

    def _place_trigger(
        self, account: Account, market: Market, order: Order, req: OrderRequest
    ) -> Outcome:
        buy = order.is_buy
        order.trigger_signal = req.trigger_signal
        order.offset_value = req.offset_value
        order.offset_unit = req.offset_unit
        order.status = "TRIGGER_PLACED"
        if req.kind == "take_profit":
            order.trigger_above = not buy
        else:
            order.trigger_above = buy
        if req.kind == "trailing_stop":
            order.trail_deviation = req.trail_deviation
            order.trail_unit = req.trail_unit
            signal = self._signal(market, order, self.second)
            if signal is None:
                signal = self.prices.mark(market.spec, self.second)
            self._trail(order, signal, market.spec.tick, self.now)
            order.updated = self.now
        else:
            order.stop_price = req.stop_price
        self._order_placed(order, self.now)
        self._open(account, market, order)
        return Outcome("placed", order, [{"type": "PLACE", "orderTrigger": trigger_json(order)}])

    def find(self, account: Account, order_id: str | None, cli_ord_id: str | None) -> Order | None:
        """An open order of the account, by id or client id."""
        if order_id is not None:
            return account.open_orders.get(order_id)
        if cli_ord_id is not None:
            return account.by_cli.get(cli_ord_id)
        return None

    def edit(self, account: Account, order: Order, req: EditRequest) -> Outcome:
        market = self.market(order.symbol)
        spec = market.spec
        at = self.now
        second = self.second
        trigger = order.is_trigger
        if req.stop_price is not None and not trigger:
            return Outcome("orderForEditNotAStop", order)
        if order.kind == "trailing_stop" and trigger:
            if req.stop_price is not None:
                return Outcome("cannotEditTriggerPriceOfTrailingStop", order)
            if req.limit_price is not None:
                return Outcome("cannotEditLimitPriceOfTrailingStop", order)
        quantity = order.quantity
        if req.size is not None:
            quantity = req.size if req.absolute else order.filled + req.size
            if (
                req.size <= 0
                or not is_multiple(req.size, spec.size_step)
                or quantity <= order.filled
            ):
                return Outcome("invalidSize", order)
        for price in (req.limit_price, req.stop_price):
            if price is not None and (price <= 0 or not is_multiple(price, spec.tick)):
                return Outcome("invalidPrice", order)
        limit = req.limit_price if req.limit_price is not None else order.limit_price
        reduced: Decimal | None = None
        if order.reduce_only:
            position = self._position_size(account, order.symbol)
            reduces = (position > 0 and not order.is_buy) or (position < 0 and order.is_buy)
            if not reduces:
                return Outcome("wouldNotReducePosition", order)
            cap = order.filled + abs(position)
            reduced = max(ZERO, quantity - cap)
            quantity -= reduced
        _, _, mark = self.prices.quote(spec, second)
        ladder = market.ladder_at(second, mark)
        if (
            not trigger
            and order.kind == "post"
            and limit is not None
            and market.would_cross(order.is_buy, limit, ladder)
        ):
            return Outcome("postWouldExecute", order)
        if not trigger and not order.reduce_only:
            extra = quantity - order.quantity
            if extra > 0 and not self._margin_ok(account, spec, order.is_buy, extra):
                return Outcome("insufficientAvailableFunds", order)
        old = order_json(order)
        before = self._before(order)
        grows = quantity > order.quantity
        moved = limit != order.limit_price
        if order.resting and (grows or moved):
            market.side(order.is_buy).remove(order)
            order.resting = False
            order.quantity, order.limit_price = quantity, limit
            order.seq = self.next_seq()
        else:
            order.quantity, order.limit_price = quantity, limit
        if req.stop_price is not None:
            order.stop_price = req.stop_price
        if trigger and order.kind == "trailing_stop" and req.trail_deviation is not None:
            order.trail_deviation = req.trail_deviation
            order.trail_unit = req.trail_unit or order.trail_unit
            order.stop_price = None
            signal = self._signal(market, order, second) or self.prices.mark(spec, second)
            self._trail(order, signal, spec.tick, at)
        order.updated = at
        order.update_reason = "EDITED_BY_USER"
        market.version += 1
        self._order_changed(before, order, at, "edited_by_user", reduced)
        if not trigger:
            self._book_changed(order.symbol, at, "changed" if order.resting else "removed", order)
        events: list[dict[str, Any]] = [
            {"type": "EDIT", "old": old, "new": order_json(order), "reducedQuantity": reduced}
        ]
        if trigger:
            market.triggers_dirty = True
        elif not order.resting:
            account.open_orders.pop(order.order_id, None)
            executions, self_trade = self._take(market, order, second, at, "takerAfterEdit", old)
            events.extend(executions)
            self._finish_taker(account, market, order, self_trade, at)
        if market.triggers_dirty and market.triggers:
            self._check_triggers(market, second, at)
        return Outcome("edited", order, events)

    def cancel(self, account: Account, order: Order, at: float, reason: str) -> dict[str, Any]:
        """Cancel an open order; returns its CANCEL event."""
        if order.is_trigger:
            event = {"type": "CANCEL", "uid": order.order_id, "orderTrigger": trigger_json(order)}
        else:
            event = {"type": "CANCEL", "uid": order.order_id, "order": order_json(order)}
        self._close(account, order, "CANCELLED", reason, None, at)
        return event

    def cancel_all(
        self, account: Account, symbol: str | None, at: float, reason: str = "CANCELLED_BY_USER"
    ) -> tuple[list[Order], list[dict[str, Any]]]:
        """Cancel every open order (of one symbol); CANCEL events show triggers as OrderJson."""
        chosen = sorted(
            (o for o in account.open_orders.values() if symbol is None or o.symbol == symbol),
            key=lambda o: o.seq,
        )
        events: list[dict[str, Any]] = []
        for order in chosen:
            events.append({"type": "CANCEL", "uid": order.order_id, "order": order_json(order)})
            self._close(account, order, "CANCELLED", reason, None, at)
        return chosen, events
