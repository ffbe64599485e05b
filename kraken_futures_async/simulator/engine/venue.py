"""The exchange's core: time, matching, the life of orders, and accounts kept in step.

Time is lazy. Nothing runs between calls; at the start of each call :meth:`Venue.begin`
replays what the clock says has happened since the last one: dead man's switches that ran
out, and for every market with user orders or triggers each whole second since it was last
looked at (the makers requote, resting orders the market moved through are filled, triggers
whose signal crossed fire). Long gaps are replayed on at most ``MAX_REPLAY`` evenly spaced
seconds. What happened therefore depends only on the seed, the calls and the clock times of
the calls.
"""

from __future__ import annotations

import math

from .book import Market
from .events import MarkPrice
from .order_desk import EditRequest, OrderDesk, OrderRequest, Outcome

__all__ = ["MAX_REPLAY", "EditRequest", "OrderRequest", "Outcome", "Venue"]

MAX_REPLAY = 2000


class Venue(OrderDesk):
    """The exchange's core, its jobs stacked: state, matching, triggers, order requests, time."""

    def begin(self) -> None:
        """Catch up with the clock before serving a call."""
        self.now = max(self.now, self.clock.time())
        switches = sorted(
            (a.dead_man_at, a.uid)
            for a in self.accounts.values()
            if a.dead_man_at is not None and a.dead_man_at <= self.now
        )
        for at, uid in switches:
            for market in list(self.busy.values()):
                self._sync(market, math.floor(at))
            account = self.accounts[uid]
            account.dead_man_at = None
            self.cancel_all(account, None, at, reason="DEAD_MAN_SWITCH")
        for market in list(self.busy.values()):
            self._sync(market, self.second)

    def _sync(self, market: Market, target: int) -> None:
        synced = market.synced if market.synced is not None else target
        if target > synced:
            count = target - synced
            if count <= MAX_REPLAY:
                seconds: list[int] = list(range(synced + 1, target + 1))
            else:
                seconds = [synced + (count * (i + 1)) // MAX_REPLAY for i in range(MAX_REPLAY)]
            for second in seconds:
                if not market.busy:
                    break
                self._step(market, second)
            market.synced = target
        elif market.triggers_dirty:
            self._check_triggers(market, synced, self.now)
        if not market.busy:
            self.busy.pop(market.spec.symbol, None)

    def _step(self, market: Market, second: int) -> None:
        _, _, mark = self.prices.quote(market.spec, second)
        at = float(second)
        if self.events.wants(MarkPrice):
            spec = market.spec
            self.events.emit(MarkPrice(at, spec.symbol, self.prices.mark(spec, second)))
        self._trade_resting(market, second, mark, at)
        self._check_triggers(market, second, at)

    def _trade_resting(self, market: Market, second: int, mark: float, at: float) -> None:
        """The makers requote at ``second``: resting orders their new quotes cross fill."""
        best_bid, best_ask = market.bids.best(), market.asks.best()
        if best_bid is not None or best_ask is not None:
            # only a book the makers' new best quotes cross needs the whole ladder
            bid, _, ask, _ = market.quoter.top(second, mark)
            if (best_bid is not None and best_bid >= ask) or (
                best_ask is not None and best_ask <= bid
            ):
                self._fill_crossed(market, second, mark, at)

    def _fill_crossed(self, market: Market, second: int, mark: float, at: float) -> None:
        ladder = market.ladder_at(second, mark)
        for match in market.crossed(ladder):
            order = match.maker
            if order is None or order.closed_at is not None or not order.resting:
                continue
            size = min(match.size, order.remaining)
            if size > 0:
                self._fill(market, match.price, size, at, self.new_id(), None, order, "taker")
