"""The venue's state and the reads every job shares: ids, markets, prices, accounts, margin.

Split from ``venue.py`` so that each job of the exchange's core (matching, triggers, order
requests, the replay of time) sits in a module of its own; the classes stack
``VenueState`` < ``Matching`` < ``Triggers`` < ``OrderDesk`` < ``Venue``.
"""

from __future__ import annotations

import math
import random
import uuid
from collections import deque
from collections.abc import Callable
from decimal import Decimal

from ..clock import Clock
from ._text import ONE, ZERO
from .accounts import (
    FLEX_CURRENCIES,
    INVERSE_ACCOUNTS,
    Account,
    flex_figures,
    initial_margin_with_orders,
    inverse_figures,
    normalise_currency,
)
from .book import Market, PublicTrade
from .events import Subscriber, Subscribers
from .instruments import InstrumentSpec, build_listing
from .journal import Journal
from .prices import Prices, PriceSource
from .quotes import Quoter
from .retention import Retention, SharedCap

__all__ = ["VenueState"]

_FIAT = {"USD": ONE, "USDT": ONE, "USDC": ONE, "EUR": Decimal("1.08"), "GBP": Decimal("1.27")}
_DEFAULT_FLEX = {"USD": Decimal(100_000)}


class VenueState:
    def __init__(self, seed: int, clock: Clock, retention: Retention | None = None) -> None:
        self.retention = retention = retention or Retention()
        self.clock = clock
        self.now = clock.time()
        listing = build_listing(seed, self.now)
        self.specs: dict[str, InstrumentSpec] = listing.instruments
        self.symbols = {symbol.upper(): symbol for symbol in self.specs}
        self.prices: PriceSource = Prices(seed, listing.indices, listing.instruments, retention)
        self._seed = seed
        self.markets: dict[str, Market] = {}
        self.busy: dict[str, Market] = {}
        self.accounts: dict[str, Account] = {}
        self._ids = random.Random(f"ids/{seed}")
        self._seq = 0
        #: Users' trades on every market's tape, capped over all markets together.
        self._tape_cap: SharedCap[PublicTrade] = SharedCap(retention.tape)
        #: Who hears the engine's events (:mod:`.events`); the journal first of all.
        self.events = Subscribers()
        self.journal = Journal(seed, retention)
        self.events.subscribe(self.journal.hear, Journal.KINDS)

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Hear every engine event from now on; call the result to stop."""
        return self.events.subscribe(callback)

    # identity and time -----------------------------------------------------------------

    def new_id(self) -> str:
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    @property
    def second(self) -> int:
        return math.floor(self.now)

    def source_figures(self, symbol: str) -> dict[str, Decimal] | None:
        """A mirrored contract's 24 h figures from its source's ticker (``volume``, ``high``,
        ``low``, ``last``, ``change``); ``None`` for the synthetic market."""
        return None

    def suspended(self, symbol: str) -> bool:
        """Whether ``symbol`` trades in cancel-only mode now (a mirror whose source is stale)."""
        return False

    def spec_for(self, symbol: str) -> InstrumentSpec | None:
        canonical = self.symbols.get(symbol.strip().upper())
        return None if canonical is None else self.specs[canonical]

    def market(self, symbol: str) -> Market:
        market = self.markets.get(symbol)
        if market is None:
            spec = self.specs[symbol]
            market = Market(spec, Quoter(self._seed, spec))
            self.markets[symbol] = market
        return market

    def _mark_busy(self, market: Market) -> None:
        if market.spec.symbol not in self.busy:
            market.synced = self.second
            self.busy[market.spec.symbol] = market

    # prices (the Pricing protocol of accounts.py) -----------------------------------------

    def mark_now(self, spec: InstrumentSpec) -> Decimal:
        return self.prices.mark(spec, self.second)

    def mark_at(self, spec: InstrumentSpec, second: int) -> Decimal:
        return self.prices.mark(spec, second)

    def funding_at(self, spec: InstrumentSpec, second: int) -> Decimal:
        return self.prices.relative_funding(spec, second)

    def currency_price(self, currency: str) -> Decimal:
        fiat = _FIAT.get(currency)
        if fiat is not None:
            return fiat
        spec = self.specs.get(f"PF_{currency}USD")
        return ZERO if spec is None else self.prices.index(spec, self.second)

    def last_price(self, market: Market, second: int) -> tuple[Decimal, Decimal, float] | None:
        """(price, size, time) of the latest trade at or before ``second``, users' or makers'."""
        spec = market.spec
        background = market.last_background(second, lambda s: self.prices.quote(spec, s)[2])
        user: PublicTrade | None = market.tape[-1] if market.tape else None
        if user is not None and (background is None or user.time >= background.time):
            return user.price, user.size, user.time
        if background is not None:
            return background.price, background.size, background.time
        return None

    # accounts ---------------------------------------------------------------------------

    def open_account(self, uid: str, balances: dict[str, Decimal] | None) -> Account:
        flex: dict[str, Decimal] = {}
        margin = {name: default for name, (_coin, default) in INVERSE_ACCOUNTS.items()}
        if balances is None:
            flex.update(_DEFAULT_FLEX)
        else:
            for name, amount in balances.items():
                if name.lower() in INVERSE_ACCOUNTS:
                    margin[name.lower()] = Decimal(amount)
                    continue
                currency = normalise_currency(name)
                if currency not in FLEX_CURRENCIES and f"PF_{currency}USD" not in self.specs:
                    raise ValueError(f"not a flex wallet currency: {name!r}")
                flex[currency] = Decimal(amount)
            flex.setdefault("USD", ZERO)
        kept = self.retention
        account = Account(
            uid=uid,
            flex=flex,
            margin=margin,
            fills=deque(maxlen=kept.fills),
            closed_kept=kept.closed_orders,
        )
        self.accounts[uid] = account
        return account

    def _margin_ok(self, account: Account, spec: InstrumentSpec, buy: bool, size: Decimal) -> bool:
        """Whether adding this order keeps initial margin with orders covered."""
        extra = (spec.symbol, buy, size)
        if spec.inverse:
            name = spec.margin_account
            before = initial_margin_with_orders(account, self.specs, self, True, name)
            after = initial_margin_with_orders(account, self.specs, self, True, name, extra)
            if after <= before:
                return True
            assert name is not None
            inverse = inverse_figures(account, name, self.specs, self, self.now)
            return inverse.portfolio_value - after >= 0
        before = initial_margin_with_orders(account, self.specs, self, False)
        after = initial_margin_with_orders(account, self.specs, self, False, extra=extra)
        if after <= before:
            return True
        figures = flex_figures(account, self.specs, self, self.now)
        return figures.margin_equity - after >= 0

    def _position_size(self, account: Account, symbol: str) -> Decimal:
        position = account.positions.get(symbol)
        return ZERO if position is None else position.size

    def _violates_max_position(
        self, account: Account, spec: InstrumentSpec, buy: bool, size: Decimal
    ) -> bool:
        position = self._position_size(account, spec.symbol)
        pending = sum(
            (
                o.remaining
                for o in account.open_orders.values()
                if o.symbol == spec.symbol and not o.is_trigger and o.is_buy == buy
            ),
            ZERO,
        )
        projected = position + pending + size if buy else position - pending - size
        return abs(projected) > spec.max_position and abs(projected) > abs(position)
