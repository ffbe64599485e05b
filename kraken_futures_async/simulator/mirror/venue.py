"""The engine's core over a mirrored live market instead of synthetic makers.

Everything on the user's side is the synthetic twin's (accounts, margin, PnL, funding,
fees, order types, the dead man's switch, history): :class:`MirrorVenue` changes only
where the market comes from (:mod:`.pricing`), how resting orders fill
(:mod:`.fill_model`), and that a stale source suspends new orders (Kraken's
``marketSuspended``, cancel-only mode).

The listing is the twin's own catalogue (margin tiers, funding coefficients, position
limits), cut to the mirrored contracts, with the source's tick and size step once its
instrument list arrived.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from ..clock import Clock
from ..engine.accounts import Account
from ..engine.book import Market
from ..engine.events import BookChanged, Event, OrderCancelled, OrderChanged, OrderRested
from ..engine.instruments import InstrumentSpec, build_listing
from ..engine.order_desk import OrderRequest
from ..engine.retention import Retention
from ..engine.venue import Venue
from .fill_model import FillModel, RestingOrder
from .market import MirroredMarket
from .pricing import MirrorPrices, MirrorQuoter

__all__ = ["MirrorVenue"]

_SUSPENDED = "marketSuspended"


class MirrorVenue(Venue):
    """A :class:`Venue` whose market is ``mirror``'s."""

    def __init__(
        self,
        seed: int,
        clock: Clock,
        retention: Retention | None,
        mirror: MirroredMarket,
    ) -> None:
        super().__init__(seed, clock, retention)
        unknown = sorted(set(mirror.symbols) - set(self.specs))
        if unknown:
            raise ValueError(f"cannot mirror {', '.join(unknown)}: not a contract the twin lists")
        self.mirror = mirror
        self.specs = {symbol: self.specs[symbol] for symbol in mirror.symbols}
        self.symbols = {symbol.upper(): symbol for symbol in self.specs}
        self.prices = MirrorPrices(mirror, build_listing(seed, self.now).indices)
        self.fill_model = FillModel()
        #: Per symbol, the number of the last source trade the fill model has seen.
        self._applied: dict[str, int] = {}
        kinds = (OrderRested, OrderChanged, OrderCancelled)
        self.events.subscribe(self._hear, kinds)
        mirror.listen(self._source_changed)

    # the market -------------------------------------------------------------------------

    def market(self, symbol: str) -> Market:
        spec = self._sourced_spec(symbol)
        market = self.markets.get(symbol)
        if market is None:
            market = Market(spec, MirrorQuoter(self.mirror.symbols[symbol], spec))
            self.markets[symbol] = market
        elif market.spec is not spec:  # the source's instrument list came after the market
            market.spec = spec
            market.quoter = MirrorQuoter(self.mirror.symbols[symbol], spec)
        return market

    def _sourced_spec(self, symbol: str) -> InstrumentSpec:
        """The listing's contract with the source's tick and size step, once known."""
        spec = self.specs[symbol]
        mirrored = self.mirror.symbols[symbol]
        tick = mirrored.tick or spec.tick
        step = mirrored.size_step or spec.size_step
        if (tick, step) != (spec.tick, spec.size_step):
            spec = dataclasses.replace(spec, tick=tick, size_step=step)
            self.specs[symbol] = spec
        return spec

    def source_figures(self, symbol: str) -> dict[str, Decimal] | None:
        return self.mirror.symbols[symbol].ticker or None

    def suspended(self, symbol: str) -> bool:
        return self.mirror.stale(symbol) is not None

    def validate(self, account: Account, spec: InstrumentSpec, req: OrderRequest) -> str | None:
        if self.suspended(spec.symbol):
            return _SUSPENDED
        return super().validate(account, spec, req)

    def _source_changed(self, symbol: str) -> None:
        """The source moved: cached books and tickers are old; the feed should look again."""
        market = self.markets.get(symbol)
        if market is not None:
            market.version += 1
        if self.events.wants(BookChanged):
            self.events.emit(BookChanged(self.clock.time(), symbol, "mirrored", None))

    # queue places (rules 2, 6, 7 of the fill model) -------------------------------------

    def _hear(self, event: Event) -> None:
        if isinstance(event, OrderCancelled):
            self.fill_model.forget(event.order_id)
            return
        if isinstance(event, OrderRested):
            order = event.order
            if order.is_trigger or order.limit_price is None:
                return
            self.fill_model.rest(
                order.order_id,
                order.is_buy,
                order.limit_price,
                self._ahead(order.symbol, order.is_buy, order.limit_price),
                self._last_seq(order.symbol),
            )
        elif isinstance(event, OrderChanged) and event.reason == "edited_by_user":
            order = event.order
            if order.limit_price is None or order.is_trigger:
                return
            self.fill_model.edited(
                order.order_id,
                price=order.limit_price,
                grew=event.order.quantity > event.before.quantity,
                ahead=self._ahead(order.symbol, order.is_buy, order.limit_price),
                last_seq=self._last_seq(order.symbol),
            )

    def _ahead(self, symbol: str, buy: bool, price: Decimal) -> Decimal:
        return self.mirror.symbols[symbol].source_size(buy, price)

    def _last_seq(self, symbol: str) -> int:
        seq = self.mirror.symbols[symbol].trade_seq
        self._applied.setdefault(symbol, seq)
        return seq

    # resting fills (rules 3 to 5, 9) ------------------------------------------------------

    def _trade_resting(self, market: Market, second: int, mark: float, at: float) -> None:
        """Apply the source's trades up to ``second`` to the resting orders."""
        symbol = market.spec.symbol
        mirrored = self.mirror.symbols[symbol]
        seen = self._applied.get(symbol, mirrored.trade_seq)
        trades = [t for t in mirrored.trades_since(seen) if t.second <= second]
        if not trades:
            return
        self._applied[symbol] = trades[-1].seq
        if self.suspended(symbol):
            return  # rule 9: nothing fills on a market the mirror cannot trust
        for trade in trades:
            orders = {o.order_id: o for side in (market.bids, market.asks) for o in side.orders()}
            if not orders:
                return
            resting = [
                RestingOrder(o.order_id, o.is_buy, o.limit_price, o.remaining)
                for o in orders.values()
                if o.limit_price is not None
            ]
            for order_id, size in self.fill_model.fills(trade, resting):
                order = orders[order_id]
                assert order.limit_price is not None
                self._fill(
                    market, order.limit_price, size, trade.time, self.new_id(), None, order, "taker"
                )
                if order.closed_at is not None:
                    self.fill_model.forget(order_id)
