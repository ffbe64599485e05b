"""How paper orders fill against a mirrored live market: every rule in one place.

The mirror cannot trade with the real exchange, so it must guess what would have happened
had the user's order been there. It guesses conservatively: a paper order never fills where
a real one might not have.

1. **Taking.** A marketable order (market, IOC, FOK, a limit through the spread) takes the
   mirrored book level by level at the source's prices, best first, up to its limit. What it
   took is gone from that level until the source sends the level again with a new size; a
   second order meanwhile finds the level depleted (:mod:`.market`, ``set_book``).
2. **Queue position.** An order that rests takes its place behind everything the source
   shows at its price on its side at that moment (``ahead``); a price inside the spread
   has nothing ahead.
3. **Resting fills come only from trades.** A source trade fills a resting buy at limit
   ``L`` when it went *through* it (traded below ``L``, either side the taker) or *at* it
   with a seller as taker (hitting the bids at ``L``); at its own price the trade's size
   first uses up what is ahead in the queue and only the rest fills. Sells are the mirror
   image. The source's book crossing a resting order without a trade fills nothing.
4. **A trade's size is shared.** One source trade fills the user's orders at most its own
   size in total, best price first, then in the order they rested (price-time priority).
5. **Price.** A resting order fills at its own limit price, as a maker.
6. **Only later trades count.** A trade that arrived before the order rested (or before
   its queue spot was last reset) never fills it.
7. **Edits.** Changing an order's price, or raising its size, puts it at the back of the
   queue at that moment (rule 2 again); lowering its size keeps its place.
8. **Triggers.** Stops and take-profits fire from the mirrored mark (the source's mark
   price), index (its spot index) or last price (its latest trade), by the engine's usual
   trigger rules.
9. **Stale market.** While the source cannot be trusted (dropped, a book out of sync) no
   resting order fills and no new order is accepted; trades that arrive meanwhile are
   passed over, and queue places are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from .market import SourceTrade

__all__ = ["FillModel", "QueueSpot", "RestingOrder"]

_ZERO = Decimal(0)


@dataclass(slots=True)
class QueueSpot:
    """Where a resting order stands: its price and side, the source's size still ahead of
    it, and the number of the last source trade seen when it took the spot (rule 6)."""

    price: Decimal
    buy: bool
    ahead: Decimal
    after_seq: int


@dataclass(frozen=True, slots=True)
class RestingOrder:
    """A user's resting order as the model needs it."""

    order_id: str
    buy: bool
    price: Decimal
    remaining: Decimal


class FillModel:
    """Queue spots of every resting paper order, and the fills a source trade gives them."""

    def __init__(self) -> None:
        self._spots: dict[str, QueueSpot] = {}

    def __len__(self) -> int:
        return len(self._spots)

    def spot(self, order_id: str) -> QueueSpot | None:
        return self._spots.get(order_id)

    def rest(self, order_id: str, buy: bool, price: Decimal, ahead: Decimal, last_seq: int) -> None:
        """The order takes the back of the queue at ``price`` now (rules 2, 6 and 7)."""
        self._spots[order_id] = QueueSpot(price, buy, max(ahead, _ZERO), last_seq)

    def edited(
        self,
        order_id: str,
        *,
        price: Decimal,
        grew: bool,
        ahead: Decimal,
        last_seq: int,
    ) -> None:
        """An edit: a new price or a larger size loses the place, a smaller size keeps it."""
        spot = self._spots.get(order_id)
        if spot is None or spot.price != price or grew:
            buy = spot.buy if spot is not None else True
            self.rest(order_id, buy, price, ahead, last_seq)

    def forget(self, order_id: str) -> None:
        self._spots.pop(order_id, None)

    def fills(
        self, trade: SourceTrade, resting: Sequence[RestingOrder]
    ) -> list[tuple[str, Decimal]]:
        """``(order_id, size)`` for every resting order ``trade`` fills (rules 3 to 6).

        ``resting`` lists each side's orders best price first, in the order they rested at
        one price; orders without a queue spot are passed over.
        """
        filled: list[tuple[str, Decimal]] = []
        for buy in (True, False):
            left = trade.size
            for order in resting:
                if order.buy != buy or left <= 0:
                    continue
                size = self._fill_one(trade, order, left)
                if size > 0:
                    filled.append((order.order_id, size))
                    left -= size
        return filled

    def _fill_one(self, trade: SourceTrade, order: RestingOrder, left: Decimal) -> Decimal:
        spot = self._spots.get(order.order_id)
        if spot is None or trade.seq <= spot.after_seq:
            return _ZERO
        price = order.price
        through = trade.price < price if order.buy else trade.price > price
        if through:
            spot.ahead = _ZERO  # the market traded past this price: nothing is ahead now
            return min(order.remaining, left)
        hits_us = trade.side == ("sell" if order.buy else "buy")
        if trade.price != price or not hits_us:
            return _ZERO
        excess = trade.size - spot.ahead
        spot.ahead = max(_ZERO, spot.ahead - trade.size)
        if excess <= 0:
            return _ZERO
        return min(order.remaining, excess, left)
