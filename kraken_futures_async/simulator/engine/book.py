"""One instrument's market: user orders with price-time priority, the makers' ladder, the tape.

Matching is split in two steps so that fill-or-kill and post-only can look before they leap:
:meth:`Market.plan` walks the opposite side best price first (at one price, user orders in
time order, then the makers, whose quotes are always the youngest because they requote every
second) and returns the matches without changing anything; :meth:`Market.consume` then takes
the makers' part out of the ladder. The venue applies the user side (orders, accounts).
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from .instruments import InstrumentSpec
from .orders import Order
from .quotes import BackgroundTrade, Ladder, Makers, trade_id

__all__ = ["MarkAt", "Market", "Match", "PublicTrade", "SideBook"]

#: An instrument's mark price (as a float) at a given second.
MarkAt = Callable[[int], float]

#: How far back the last background trade is looked for (the tape of quiet markets thins out).
_LAST_TRADE_LOOKBACK = 900


@dataclass(slots=True)
class Match:
    price: Decimal
    size: Decimal
    maker: Order | None
    level: list[Decimal] | None


@dataclass(frozen=True, slots=True)
class PublicTrade:
    """A trade with a user on one side (background trades are computed, not stored)."""

    time: float
    trade_id: int
    price: Decimal
    size: Decimal
    side: str
    uid: str


class SideBook:
    """One side's resting user orders: price levels best first, FIFO within a level."""

    __slots__ = ("_keys", "buy", "levels", "prices")

    def __init__(self, buy: bool) -> None:
        self.buy = buy
        self.prices: list[Decimal] = []
        self._keys: list[Decimal] = []  # ascending sort keys (negated prices for bids)
        self.levels: dict[Decimal, list[Order]] = {}

    def __bool__(self) -> bool:
        return bool(self.prices)

    def add(self, order: Order) -> None:
        price = order.limit_price
        assert price is not None
        level = self.levels.get(price)
        if level is not None:
            level.append(order)
            return
        key = -price if self.buy else price
        at = bisect.bisect_left(self._keys, key)
        self._keys.insert(at, key)
        self.prices.insert(at, price)
        self.levels[price] = [order]

    def remove(self, order: Order) -> None:
        price = order.limit_price
        assert price is not None
        level = self.levels[price]
        level.remove(order)
        if not level:
            del self.levels[price]
            key = -price if self.buy else price
            at = bisect.bisect_left(self._keys, key)
            del self._keys[at]
            del self.prices[at]

    def best(self) -> Decimal | None:
        return self.prices[0] if self.prices else None

    def orders(self) -> list[Order]:
        return [order for price in self.prices for order in self.levels[price]]


class Market:
    """Everything that changes in one instrument's market."""

    __slots__ = (
        "_last_bg",
        "asks",
        "bids",
        "ladder",
        "quoter",
        "spec",
        "synced",
        "tape",
        "trade_counter",
        "triggers",
        "triggers_dirty",
        "version",
    )

    def __init__(self, spec: InstrumentSpec, quoter: Makers) -> None:
        self.spec = spec
        self.quoter = quoter
        self.bids = SideBook(buy=True)
        self.asks = SideBook(buy=False)
        self.triggers: list[Order] = []
        self.triggers_dirty = False
        self.ladder: Ladder | None = None
        self.synced: int | None = None
        #: Users' trades, oldest first (the venue caps all tapes together).
        self.tape: deque[PublicTrade] = deque()
        self.trade_counter = (0, 0)
        self.version = 0
        self._last_bg: tuple[int, BackgroundTrade | None] | None = None

    @property
    def busy(self) -> bool:
        """Has user orders or triggers, so time must be replayed for it."""
        return bool(self.bids) or bool(self.asks) or bool(self.triggers)

    def side(self, buy: bool) -> SideBook:
        return self.bids if buy else self.asks

    def ladder_at(self, second: int, mark: float) -> Ladder:
        ladder = self.ladder
        if ladder is None or ladder.second != second:
            ladder = self.quoter.ladder(second, mark)
            self.ladder = ladder
        return ladder

    def next_trade_id(self, second: int) -> int:
        last_second, counter = self.trade_counter
        counter = counter + 1 if last_second == second else 1
        self.trade_counter = (second, counter)
        return trade_id(second, counter)

    # matching ---------------------------------------------------------------------------

    def plan(
        self, buy: bool, limit: Decimal | None, quantity: Decimal, account: str, ladder: Ladder
    ) -> tuple[list[Match], bool]:
        """Matches for a taker, best price first; ``True`` if its own order stopped it."""
        book = self.asks if buy else self.bids
        levels = ladder.asks if buy else ladder.bids
        prices = book.prices
        matches: list[Match] = []
        remaining = quantity
        ui = li = 0
        while remaining > 0:
            while li < len(levels) and levels[li][1] <= 0:
                li += 1
            up = prices[ui] if ui < len(prices) else None
            lp = levels[li][0] if li < len(levels) else None
            if up is None and lp is None:
                break
            from_user = lp is None or (up is not None and (up <= lp if buy else up >= lp))
            price = up if from_user else lp
            assert price is not None
            if limit is not None and (price > limit if buy else price < limit):
                break
            if from_user:
                for order in book.levels[price]:
                    if order.account == account:
                        return matches, True
                    size = min(remaining, order.remaining)
                    matches.append(Match(price, size, order, None))
                    remaining -= size
                    if remaining == 0:
                        break
                ui += 1
            else:
                level = levels[li]
                size = min(remaining, level[1])
                matches.append(Match(price, size, None, level))
                remaining -= size
                li += 1
        return matches, False

    @staticmethod
    def consume(matches: list[Match]) -> None:
        for match in matches:
            if match.level is not None:
                match.level[1] -= match.size

    def would_cross(self, buy: bool, limit: Decimal, ladder: Ladder) -> bool:
        """Whether a limit order at ``limit`` would take liquidity (post-only's test)."""
        opposite = self.asks if buy else self.bids
        best = opposite.best()
        if best is not None and (best <= limit if buy else best >= limit):
            return True
        for price, size in ladder.asks if buy else ladder.bids:
            if size > 0:
                return price <= limit if buy else price >= limit
        return False

    def crossed(self, ladder: Ladder) -> list[Match]:
        """User orders the freshly requoted makers trade against (the market moved through).

        The makers are the takers here; each user order fills at its own limit price, up to
        the size the makers quote at prices that cross it. ``Match.maker`` is the user order.
        """
        found: list[Match] = []
        for book, levels in ((self.bids, ladder.asks), (self.asks, ladder.bids)):
            li = 0
            for price in book.prices:
                for order in book.levels[price]:
                    left = order.remaining
                    while left > 0 and li < len(levels):
                        level = levels[li]
                        if not (level[0] <= price if book.buy else level[0] >= price):
                            break
                        if level[1] <= 0:
                            li += 1
                            continue
                        size = min(left, level[1])
                        level[1] -= size
                        left -= size
                        found.append(Match(price, size, order, None))
                if li >= len(levels) or not (
                    levels[li][0] <= price if book.buy else levels[li][0] >= price
                ):
                    # nothing left that crosses this price, so nothing crosses worse ones
                    break
        return found

    # the tape -----------------------------------------------------------------------------

    def last_background(self, second: int, mark_at: MarkAt) -> BackgroundTrade | None:
        """The makers' latest trade at or before ``second`` (looked for a while back)."""
        cached = self._last_bg
        stop = second - _LAST_TRADE_LOOKBACK
        if cached is not None and cached[0] <= second:
            stop = max(stop, cached[0])
        found: BackgroundTrade | None = None
        for s in range(second, stop, -1):
            if self.quoter.trades_at(s):
                found = self.quoter.background_trade(s, mark_at(s))
                break
        if found is None and cached is not None and cached[0] <= second:
            trade = cached[1]
            if trade is not None and trade.second > second - _LAST_TRADE_LOOKBACK:
                found = trade
        if cached is None or cached[0] <= second:
            self._last_bg = (second, found)
        return found

    def background_before(
        self, second: int, count: int, floor: int, mark_at: MarkAt
    ) -> list[BackgroundTrade]:
        """Up to ``count`` background trades at or before ``second``, newest first."""
        found: list[BackgroundTrade] = []
        quoter = self.quoter
        s = second
        while len(found) < count and s >= floor:
            if quoter.trades_at(s):
                found.append(quoter.background_trade(s, mark_at(s)))
            s -= 1
        return found
