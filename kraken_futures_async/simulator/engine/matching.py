"""Matching: a taker against the book, one execution's bookings, and orders opened and closed.

Each change is told to the engine's subscribers as it happens (:mod:`.events`); the journal
is one of them.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from ._text import ONE, ZERO, quantize_down, quantize_up
from .accounts import (
    INVERSE_ACCOUNTS,
    MAKER_FEE,
    TAKER_FEE,
    Account,
    Trade,
    book_trade,
    fill_record,
)
from .book import Market, PublicTrade
from .events import (
    BalanceChanged,
    BookChanged,
    Executed,
    ExecutionSide,
    OrderCancelled,
    OrderChanged,
    OrderFilled,
    OrderPlaced,
    OrderRested,
    PositionChanged,
    Settlement,
)
from .events import Trade as TradeEvent
from .instruments import InstrumentSpec
from .orders import Order, order_json, snapshot
from .venue_state import VenueState

__all__ = ["Matching"]

#: How far a market order may trade from the mark (Kraken's 1 % price protection).
_PROTECTION = Decimal("0.01")


class Matching(VenueState):
    # events -----------------------------------------------------------------------------

    def _order_placed(self, order: Order, at: float) -> None:
        if self.events.wants(OrderPlaced):
            self.events.emit(
                OrderPlaced(
                    at,
                    order.account,
                    order.order_id,
                    order.cli_ord_id,
                    order.symbol,
                    order.side,
                    order.kind,
                    order.quantity,
                    order.filled,
                    order.limit_price,
                    order.stop_price,
                    order.is_trigger,
                )
            )

    def _order_changed(
        self, before: Order, order: Order, at: float, reason: str, reduced: Decimal | None = None
    ) -> None:
        """``before`` is a snapshot taken before the change (see :meth:`_before`)."""
        if self.events.wants(OrderChanged):
            self.events.emit(
                OrderChanged(
                    at,
                    order.account,
                    order.order_id,
                    order.symbol,
                    reason,
                    order.quantity,
                    order.filled,
                    order.limit_price,
                    order.stop_price,
                    reduced=reduced,
                    before=before,
                    order=snapshot(order),
                )
            )

    def _before(self, order: Order) -> Order:
        """A snapshot for the ``OrderChanged`` a change is about to cause (the order itself
        when nobody listens, as it is then never read)."""
        return snapshot(order) if self.events.wants(OrderChanged) else order

    def _book_changed(self, symbol: str, at: float, what: str, order: Order | None) -> None:
        if self.events.wants(BookChanged):
            self.events.emit(
                BookChanged(at, symbol, what, None if order is None else order.order_id)
            )

    def _booked(
        self,
        account: Account,
        symbol: str,
        at: float,
        wallets: tuple[dict[str, Decimal], dict[str, Decimal]],
    ) -> None:
        """Tell the position and every wallet balance a fill changed."""
        position = account.positions.get(symbol)
        if position is None:
            self.events.emit(PositionChanged(at, account.uid, symbol, ZERO, None))
        else:
            self.events.emit(
                PositionChanged(at, account.uid, symbol, position.size, position.price)
            )
        flex, margin = wallets
        for currency, balance in account.flex.items():
            if flex.get(currency) != balance:
                self.events.emit(BalanceChanged(at, account.uid, "flex", currency, balance))
        for name, balance in account.margin.items():
            if margin.get(name) != balance:
                coin = INVERSE_ACCOUNTS[name][0]
                self.events.emit(BalanceChanged(at, account.uid, name, coin, balance))

    # fills ------------------------------------------------------------------------------

    def _fill(
        self,
        market: Market,
        price: Decimal,
        size: Decimal,
        at: float,
        execution_id: str,
        taker: Order | None,
        maker: Order | None,
        taker_type: str,
    ) -> None:
        """One execution: the tape, both users' orders, positions, wallets and fills."""
        spec = market.spec
        if taker is not None:
            taker_side = taker.side
        else:
            assert maker is not None
            taker_side = "sell" if maker.is_buy else "buy"
        trade_id = market.next_trade_id(math.floor(at))
        public = PublicTrade(at, trade_id, price, size, taker_side, execution_id)
        self._tape_cap.append(market.tape, public)
        market.version += 1
        events = self.events
        if events.wants(TradeEvent):
            tape = TradeEvent(at, spec.symbol, trade_id, execution_id, price, size, taker_side)
            events.emit(tape)
        told = events.wants(Executed)
        filled = events.wants(OrderFilled)
        balances = events.wants(PositionChanged) or events.wants(BalanceChanged)
        settled: dict[int, tuple[str, Order, Settlement]] = {}
        for order, fill_type, rate in ((taker, taker_type, TAKER_FEE), (maker, "maker", MAKER_FEE)):
            if order is None:
                continue
            account = self.accounts[order.account]
            before = snapshot(order) if told else order
            order.filled += size
            order.updated = at
            trade = Trade(spec, order.is_buy, size, price, rate, at)
            wallets = (dict(account.flex), dict(account.margin)) if balances else None
            settlement = book_trade(account, trade, self)
            record = fill_record(self.new_id(), order, size, price, at, fill_type)
            account.fills.append((at, record))
            if filled:
                events.emit(
                    OrderFilled(
                        at,
                        account.uid,
                        order.order_id,
                        record["fill_id"],
                        execution_id,
                        spec.symbol,
                        order.side,
                        price,
                        size,
                        fill_type,
                        order.remaining,
                    )
                )
            if wallets is not None:
                self._booked(account, spec.symbol, at, wallets)
            if order is maker:
                if order.remaining <= 0:
                    self._close(account, order, "FULLY_EXECUTED", "FULL_FILL", None, at)
                else:
                    order.update_reason = "PARTIAL_FILL"
                    self._book_changed(spec.symbol, at, "traded", order)
            settled[id(order)] = (fill_type, before, settlement)

        def side(order: Order | None) -> ExecutionSide | None:
            if order is None:
                return None
            fill_type, before, settlement = settled[id(order)]
            return ExecutionSide(fill_type, before, snapshot(order), settlement)

        if told:
            mark = self.prices.mark(spec, math.floor(at))
            taken, made = side(taker), side(maker)
            symbol, inverse = spec.symbol, spec.inverse
            events.emit(Executed(at, symbol, execution_id, price, size, mark, inverse, taken, made))
        for order in (taker, maker):
            if order is not None:
                self._trim_reduce_only(self.accounts[order.account], spec.symbol, at)

    def _trim_reduce_only(self, account: Account, symbol: str, at: float) -> None:
        """Shrink or cancel resting reduce-only orders the position no longer allows."""
        position = self._position_size(account, symbol)
        candidates = sorted(
            (
                o
                for o in account.open_orders.values()
                if o.symbol == symbol and o.reduce_only and not o.is_trigger
            ),
            key=lambda o: o.seq,
        )
        allowed = abs(position)
        for order in candidates:
            reduces = (position > 0 and not order.is_buy) or (position < 0 and order.is_buy)
            keep = min(order.remaining, allowed) if reduces else ZERO
            if keep <= 0:
                self._close(account, order, "CANCELLED", "WOULD_NOT_REDUCE_POSITION", None, at)
                continue
            if keep < order.remaining:
                before = self._before(order)
                order.quantity = order.filled + keep
                order.updated = at
                self._order_changed(before, order, at, "reduce_only_trim")
                self._book_changed(symbol, at, "changed", order)
            allowed -= keep

    def _close(
        self,
        account: Account,
        order: Order,
        status: str,
        reason: str | None,
        error: str | None,
        at: float,
    ) -> None:
        market = self.markets.get(order.symbol)
        removed = False
        if market is not None:
            market.version += 1
            if order.resting:
                market.side(order.is_buy).remove(order)
                order.resting = False
                removed = True
            elif order in market.triggers:
                market.triggers.remove(order)
        order.status = status
        order.update_reason = reason
        order.error = error
        order.closed_at = at
        account.open_orders.pop(order.order_id, None)
        if order.cli_ord_id is not None and account.by_cli.get(order.cli_ord_id) is order:
            del account.by_cli[order.cli_ord_id]
        account.remember(order)
        if status != "FULLY_EXECUTED" and self.events.wants(OrderCancelled):
            self.events.emit(
                OrderCancelled(
                    at,
                    account.uid,
                    order.order_id,
                    order.symbol,
                    status,
                    error or reason,
                    order.filled,
                    order=snapshot(order),
                )
            )
        if removed:
            self._book_changed(order.symbol, at, "removed", order)

    def _open(self, account: Account, market: Market, order: Order) -> None:
        market.version += 1
        account.open_orders[order.order_id] = order
        if order.cli_ord_id is not None:
            account.by_cli[order.cli_ord_id] = order
        if order.is_trigger:
            market.triggers.append(order)
            market.triggers_dirty = True
        else:
            market.side(order.is_buy).add(order)
            order.resting = True
        self._mark_busy(market)
        if self.events.wants(OrderRested):
            self.events.emit(OrderRested(order.updated, order.order_id, snapshot(order)))
        if order.resting:
            self._book_changed(order.symbol, order.updated, "added", order)

    def _take(
        self,
        market: Market,
        order: Order,
        second: int,
        at: float,
        fill_type: str,
        prior_edit: dict[str, Any] | None = None,
    ) -> tuple[list[dict[str, Any]], bool]:
        """Execute ``order`` as a taker; EXECUTION events and whether it met its own order."""
        _, _, mark = self.prices.quote(market.spec, second)
        ladder = market.ladder_at(second, mark)
        matches, self_trade = market.plan(
            order.is_buy, order.limit_price, order.remaining, order.account, ladder
        )
        events: list[dict[str, Any]] = []
        for match in matches:
            size = match.size
            maker = match.maker
            if maker is not None:
                if maker.closed_at is not None:
                    continue
                size = min(size, maker.remaining)
            size = min(size, order.remaining)
            if size <= 0:
                continue
            prior = order_json(order)
            execution_id = self.new_id()
            if match.level is not None:
                match.level[1] -= size
            self._fill(market, match.price, size, at, execution_id, order, maker, fill_type)
            events.append(
                {
                    "type": "EXECUTION",
                    "executionId": execution_id,
                    "price": match.price,
                    "amount": size,
                    "orderPriorEdit": prior_edit,
                    "orderPriorExecution": prior,
                    "takerReducedQuantity": None,
                }
            )
        if events:
            market.triggers_dirty = True
        return events, self_trade

    def _finish_taker(
        self,
        account: Account,
        market: Market,
        order: Order,
        self_trade: bool,
        at: float,
        rest_reason: str | None = None,
    ) -> bool:
        """After taking: rest the remainder, or close the order. True if it rests."""
        if order.remaining <= 0:
            self._close(account, order, "FULLY_EXECUTED", "FULL_FILL", None, at)
            return False
        if order.immediate or self_trade:
            reason = "WOULD_EXECUTE_SELF_REASON" if self_trade else "IOC_WOULD_NOT_EXECUTE_REASON"
            self._close(account, order, "CANCELLED", reason, None, at)
            return False
        if rest_reason is not None and order.filled == 0:
            order.update_reason = rest_reason
        self._open(account, market, order)
        return True

    def _protective(self, spec: InstrumentSpec, buy: bool, second: int) -> Decimal:
        mark = self.prices.mark(spec, second)
        if buy:
            return quantize_down(mark * (ONE + _PROTECTION), spec.tick)
        return max(spec.tick, quantize_up(mark * (ONE - _PROTECTION), spec.tick))
