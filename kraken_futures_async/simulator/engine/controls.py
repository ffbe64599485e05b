"""What a test may do to the market beyond placing orders: move a price, fill an order.

Neither is something Kraken's API can ask for; both act through the engine's own paths, so
everything that follows is what the exchange would do had the market got there by itself:

* :meth:`MarketControls.move_mark` scales the base's index from the next whole second on
  (:mod:`.price_moves`), so that second's mark of the named contract is the price asked for
  (to the price grid); every contract on that base moves with it and the market keeps its own
  motion from there. At that second the makers requote around the new mark, so resting
  orders it crosses are filled, and stops whose mark or index it crosses fire.
* :meth:`MarketControls.trigger` moves the market a tick past a waiting stop's trigger
  price on its own signal (mark or index); a stop on the last price gets the mark moved 2 %
  past it, and fires at the makers' next trade there.
* :meth:`MarketControls.fill` fills a resting order whole at its limit price, as though a
  counterparty took it: the execution, fees, position, wallets, fill records and events are
  the engine's own.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import TYPE_CHECKING

from .orders import Order

if TYPE_CHECKING:
    from .exchange import Exchange
    from .venue import Venue

__all__ = ["MarketControls"]


class MarketControls:
    """Moves and fills on one engine; call between requests (the engine is single-threaded)."""

    def __init__(self, exchange: Exchange) -> None:
        self._venue: Venue = exchange._venue

    def settle(self) -> None:
        """Catch up with the clock now (fills and triggers happen without waiting for a call)."""
        self._venue.begin()

    def move_start(self) -> int:
        """The second a move made now takes effect: the next whole second of the clock."""
        return math.floor(self._venue.clock.time()) + 1

    def move_mark(self, symbol: str, price: Decimal, *, signal: str = "mark") -> int:
        """Make ``symbol``'s mark (or its index: ``signal="index"``) ``price`` from the next
        whole second on; returns that second (the clock must reach it for the move to act)."""
        venue = self._venue
        spec = venue.spec_for(symbol)
        if spec is None:
            raise KeyError(symbol)
        if not price > 0:
            raise ValueError("a price must be positive")
        venue.begin()  # what happened up to now happened at the old prices
        start = self.move_start()
        index, _, mark_float = venue.prices.quote(spec, start)
        now = mark_float if signal == "mark" else float(index)
        venue.prices.move(spec.base, start, float(price) / now)
        for market in venue.markets.values():
            if market.spec.base == spec.base and market.ladder and market.ladder.second >= start:
                market.ladder = None
        return start

    def order(self, order_id: str) -> Order:
        """An open order of any account, by id."""
        for account in self._venue.accounts.values():
            order = account.open_orders.get(order_id)
            if order is not None:
                return order
        raise KeyError(f"no open order {order_id!r}")

    def trigger(self, order_id: str) -> int:
        """Move the market a tick past a waiting stop's trigger price, on the stop's own
        signal (a ``last`` signal: the mark, 2 % past, for the makers' next trade to cross);
        returns the second the move takes effect, as :meth:`move_mark`."""
        order = self.order(order_id)
        spec = self._venue.spec_for(order.symbol)
        if not order.is_trigger or order.stop_price is None or spec is None:
            raise ValueError(f"order {order_id!r} is not a stop waiting for its trigger")
        signal = order.trigger_signal or "mark"
        if signal == "last":
            step = order.stop_price / 50
            signal = "mark"
        else:
            step = spec.tick
        target = order.stop_price + step if order.trigger_above else order.stop_price - step
        return self.move_mark(order.symbol, max(target, spec.tick), signal=signal)

    def fill(self, order_id: str) -> None:
        """Fill a resting limit order whole at its limit price."""
        venue = self._venue
        venue.begin()
        order = self.order(order_id)
        if order.is_trigger or not order.resting or order.limit_price is None:
            raise ValueError(f"order {order_id!r} is not resting in the book (a stop: trigger it)")
        market = venue.market(order.symbol)
        price, size = order.limit_price, order.remaining
        venue._fill(market, price, size, venue.now, venue.new_id(), None, order, "taker")
        if not market.busy:
            venue.busy.pop(market.spec.symbol, None)
