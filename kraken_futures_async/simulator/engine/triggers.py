"""Triggers: their signal, trailing stops following it, and firing into the book."""

from __future__ import annotations

from decimal import Decimal

from ._text import ONE, quantize_down, quantize_up
from .accounts import Account
from .book import Market
from .events import TriggerFired
from .matching import Matching
from .orders import Order, snapshot

__all__ = ["Triggers"]

_MAX_TRIGGER_ROUNDS = 10


class Triggers(Matching):
    # triggers ---------------------------------------------------------------------------

    def _signal(self, market: Market, order: Order, second: int) -> Decimal | None:
        index, mark, _ = self.prices.quote(market.spec, second)
        if order.trigger_signal == "index":
            return index
        if order.trigger_signal == "last":
            last = self.last_price(market, second)
            return None if last is None else last[0]
        return mark

    def _trail(self, order: Order, signal: Decimal, tick: Decimal, at: float) -> None:
        """Move a trailing stop's trigger after the signal (never back)."""
        assert order.trail_deviation is not None
        if order.trail_unit == "PERCENT":
            distance = signal * order.trail_deviation / 100
        else:
            distance = order.trail_deviation
        if order.trigger_above:
            candidate = quantize_up(signal + distance, tick)
            if order.stop_price is None or candidate < order.stop_price:
                order.stop_price = candidate
                order.updated = at
        else:
            candidate = max(tick, quantize_down(signal - distance, tick))
            if order.stop_price is None or candidate > order.stop_price:
                order.stop_price = candidate
                order.updated = at

    def _check_triggers(self, market: Market, second: int, at: float) -> None:
        for _ in range(_MAX_TRIGGER_ROUNDS):
            market.triggers_dirty = False
            fired: list[Order] = []
            for order in list(market.triggers):
                signal = self._signal(market, order, second)
                if signal is None:
                    continue
                if order.kind == "trailing_stop":
                    self._trail(order, signal, market.spec.tick, at)
                stop = order.stop_price
                assert stop is not None
                if (signal >= stop) if order.trigger_above else (signal <= stop):
                    fired.append(order)
            for order in fired:
                if order in market.triggers:
                    self._activate(market, order, second, at)
            if not market.triggers_dirty or not market.triggers:
                return

    def _activate(self, market: Market, order: Order, second: int, at: float) -> None:
        """A trigger fired: it becomes a limit or a market order with the same id."""
        spec = market.spec
        account = self.accounts[order.account]
        market.triggers.remove(order)
        before = self._before(order)
        if self.events.wants(TriggerFired):
            self.events.emit(TriggerFired(at, order.order_id, snapshot(order)))
        order.triggered = True
        order.updated = at
        if order.offset_value is not None and order.stop_price is not None:
            if order.offset_unit == "PERCENT":
                raw = order.stop_price * (ONE + order.offset_value / 100)
            else:
                raw = order.stop_price + order.offset_value
            order.limit_price = max(spec.tick, quantize_down(raw, spec.tick))
        if order.limit_price is None:
            order.immediate = True
            order.limit_price = self._protective(spec, order.is_buy, second)
        if order.reduce_only:
            position = self._position_size(account, order.symbol)
            reduces = (position > 0 and not order.is_buy) or (position < 0 and order.is_buy)
            if not reduces:
                self._fail_trigger(account, order, "WOULD_NOT_REDUCE_POSITION", at)
                return
            order.quantity = min(order.quantity, order.filled + abs(position))
        elif not self._margin_ok(account, spec, order.is_buy, order.remaining):
            self._fail_trigger(account, order, "INSUFFICIENT_MARGIN", at)
            return
        order.status = "ENTERED_BOOK"
        order.update_reason = "STOP_ORDER_TRIGGERED"
        self._order_changed(before, order, at, "triggered")
        account.open_orders.pop(order.order_id, None)
        _events, self_trade = self._take(market, order, second, at, "taker")
        self._finish_taker(account, market, order, self_trade, at, rest_reason="LIMIT_FROM_STOP")

    def _fail_trigger(self, account: Account, order: Order, error: str, at: float) -> None:
        self._close(account, order, "TRIGGER_ACTIVATION_FAILURE", None, error, at)
