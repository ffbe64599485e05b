"""What the mirror knows of the source's market: books, trades, marks, indices, freshness.

The source task (:mod:`.source`) writes here as pushes arrive; the engine reads it through
:mod:`.pricing` and fills users' orders with :mod:`.fill_model`. Everything is synchronous
and runs on the twin's event loop, so a write never interleaves with an engine call.

A book's levels are ``[price, remaining]`` lists, best first, and the engine's matching takes
from them in place: what a user's order took stays taken until the source sends that price
level again with a different size (its own earlier fills deplete the levels it took until
the source refreshes them). The lists keep their identity across updates, so the engine's
cached ladder always sees the current book.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

__all__ = [
    "KEPT_PRICES",
    "KEPT_TRADES",
    "MirrorListener",
    "MirroredMarket",
    "MirroredSymbol",
    "SourceTrade",
]

#: Seconds of mark and index history kept per symbol (one entry per second at most).
KEPT_PRICES = 7_200
#: Source trades kept per symbol (the tape, the last price, candles of the mirror).
KEPT_TRADES = 5_000

#: Called with a symbol whenever its book, trades or prices changed.
MirrorListener = Callable[[str], None]

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class SourceTrade:
    """One trade of the source, stamped with the mirror's clock when it arrived.

    ``seq`` counts the symbol's trades from 1 in arrival order: the fill model remembers
    the last one it applied.
    """

    seq: int
    time: float
    price: Decimal
    size: Decimal
    #: The taker's side on the source (``buy`` lifted asks, ``sell`` hit bids).
    side: str
    trade_id: int

    @property
    def second(self) -> int:
        return math.floor(self.time)


class _Series:
    """A value by whole second, the latest at or before any second asked for."""

    __slots__ = ("_seconds", "_values")

    def __init__(self) -> None:
        self._seconds: deque[int] = deque(maxlen=KEPT_PRICES)
        self._values: deque[Decimal] = deque(maxlen=KEPT_PRICES)

    def __bool__(self) -> bool:
        return bool(self._values)

    def put(self, second: int, value: Decimal) -> None:
        if self._seconds and self._seconds[-1] >= second:
            self._values[-1] = value  # the same second again (or a clock step back): latest wins
            return
        self._seconds.append(second)
        self._values.append(value)

    def at(self, second: int) -> Decimal | None:
        """The value at ``second``: the latest put at or before it, else the oldest kept."""
        if not self._values:
            return None
        at = bisect.bisect_right(self._seconds, second)
        return self._values[max(at - 1, 0)]

    @property
    def latest(self) -> Decimal | None:
        return self._values[-1] if self._values else None


@dataclass(slots=True)
class MirroredSymbol:
    """One contract as the source shows it."""

    symbol: str
    #: ``[price, remaining]`` best first; mutated in place (see the module docstring).
    bids: list[list[Decimal]] = field(default_factory=list)
    asks: list[list[Decimal]] = field(default_factory=list)
    #: The size the source last sent per (is bid, price): a level is refreshed when it changes.
    source_sizes: dict[tuple[bool, Decimal], Decimal] = field(default_factory=dict)
    marks: _Series = field(default_factory=_Series)
    indices: _Series = field(default_factory=_Series)
    trades: deque[SourceTrade] = field(default_factory=deque)
    #: The same trades by whole second (the engine walks the tape second by second).
    by_second: dict[int, list[SourceTrade]] = field(default_factory=dict)
    trade_seq: int = 0
    #: The source's tick and size step, once its instrument list arrived.
    tick: Decimal | None = None
    size_step: Decimal | None = None
    #: Whether a verified book arrived since the link was last (re)made.
    has_book: bool = False
    #: The source's 24 h figures from its ticker (volume, high, low, last), when it sends them.
    ticker: dict[str, Decimal] = field(default_factory=dict)

    def source_size(self, buy: bool, price: Decimal) -> Decimal:
        """The size the source shows at ``price`` on the bid (``buy``) or ask side."""
        return self.source_sizes.get((buy, price), _ZERO)

    def mid(self) -> Decimal | None:
        if not self.bids or not self.asks:
            return None
        return (self.bids[0][0] + self.asks[0][0]) / 2

    def trades_since(self, seq: int) -> list[SourceTrade]:
        """The trades that arrived after the one numbered ``seq``, oldest first (walked from
        the newest end: usually a few of thousands)."""
        if not self.trades or self.trades[-1].seq <= seq:
            return []
        count = min(len(self.trades), self.trades[-1].seq - seq)
        return list(itertools.islice(reversed(self.trades), count))[::-1]

    def trades_in(self, second: int) -> list[SourceTrade]:
        """The trades stamped in whole ``second``, oldest first."""
        return self.by_second.get(second, [])

    def keep(self, trade: SourceTrade) -> None:
        """Add a trade to the tape, forgetting the oldest past :data:`KEPT_TRADES`."""
        self.trades.append(trade)
        self.by_second.setdefault(trade.second, []).append(trade)
        if len(self.trades) > KEPT_TRADES:
            old = self.trades.popleft()
            same = self.by_second[old.second]
            same.pop(0)
            if not same:
                del self.by_second[old.second]


class MirroredMarket:
    """Every mirrored contract, and whether the source can be trusted right now."""

    def __init__(self, symbols: Iterable[str]) -> None:
        self.symbols: dict[str, MirroredSymbol] = {s: MirroredSymbol(s) for s in symbols}
        if not self.symbols:
            raise ValueError("a mirror needs at least one symbol")
        #: Why the market is stale (``None``: fresh). Stale until the first books arrive.
        self.stale_reason: str | None = "waiting for the source's first books"
        #: How many times the source went stale after having been fresh (drops, bad books).
        self.outages = 0
        self._listeners: list[MirrorListener] = []

    def listen(self, listener: MirrorListener) -> None:
        """Be told (synchronously) of every change, by symbol."""
        self._listeners.append(listener)

    def _changed(self, symbol: str) -> None:
        for listener in self._listeners:
            listener(symbol)

    # freshness --------------------------------------------------------------------------

    def stale(self, symbol: str | None = None) -> str | None:
        """Why the market (or ``symbol``'s part of it) cannot be traded now, or ``None``."""
        if self.stale_reason is not None:
            return self.stale_reason
        if symbol is not None:
            mirrored = self.symbols.get(symbol)
            if mirrored is not None and not mirrored.has_book:
                return f"no book for {symbol} from the source yet"
        return None

    def go_stale(self, reason: str, symbols: Iterable[str] | None = None) -> None:
        """The source cannot be trusted (dropped, a book out of sync): until every book is
        whole again, the twin answers like Kraken in maintenance. ``symbols`` names the books
        to be rebuilt from a fresh snapshot (all of them unless given); the others stay."""
        if self.stale_reason is None:
            self.outages += 1
        self.stale_reason = reason
        lost = list(self.symbols) if symbols is None else [s for s in symbols if s in self.symbols]
        for symbol in lost:
            self.symbols[symbol].has_book = False
        for symbol in self.symbols:
            self._changed(symbol)

    def _maybe_fresh(self) -> None:
        if self.stale_reason is not None and all(m.has_book for m in self.symbols.values()):
            self.stale_reason = None

    # writes from the source -------------------------------------------------------------

    def set_instrument(self, symbol: str, tick: Decimal | None, size_step: Decimal | None) -> None:
        mirrored = self.symbols.get(symbol)
        if mirrored is not None:
            mirrored.tick, mirrored.size_step = tick, size_step

    def set_book(
        self,
        symbol: str,
        bids: Iterable[tuple[Decimal, Decimal]],
        asks: Iterable[tuple[Decimal, Decimal]],
    ) -> None:
        """A verified state of the source's book, both sides best first."""
        mirrored = self.symbols.get(symbol)
        if mirrored is None:
            return
        old = mirrored.source_sizes
        sizes: dict[tuple[bool, Decimal], Decimal] = {}
        for buy, side, levels in ((True, mirrored.bids, bids), (False, mirrored.asks, asks)):
            remaining = {level[0]: level[1] for level in side}
            fresh: list[list[Decimal]] = []
            for price, size in levels:
                key = (buy, price)
                sizes[key] = size
                kept = remaining.get(price)
                if kept is not None and old.get(key) == size:
                    fresh.append([price, min(kept, size)])  # not refreshed: stays depleted
                else:
                    fresh.append([price, size])
            side[:] = fresh  # in place: the engine's ladder holds these lists
        mirrored.source_sizes = sizes
        mirrored.has_book = True
        self._maybe_fresh()
        self._changed(symbol)

    def add_trade(
        self, symbol: str, price: Decimal, size: Decimal, side: str, trade_id: int, at: float
    ) -> None:
        mirrored = self.symbols.get(symbol)
        if mirrored is None:
            return
        mirrored.trade_seq += 1
        mirrored.keep(SourceTrade(mirrored.trade_seq, at, price, size, side, trade_id))
        self._changed(symbol)

    def set_mark(self, symbol: str, price: Decimal, at: float) -> None:
        mirrored = self.symbols.get(symbol)
        if mirrored is not None:
            mirrored.marks.put(math.floor(at), price)
            self._changed(symbol)

    def set_index(self, symbol: str, price: Decimal, at: float) -> None:
        mirrored = self.symbols.get(symbol)
        if mirrored is not None:
            mirrored.indices.put(math.floor(at), price)
            self._changed(symbol)

    def set_ticker(self, symbol: str, figures: dict[str, Decimal]) -> None:
        mirrored = self.symbols.get(symbol)
        if mirrored is not None:
            mirrored.ticker = dict(figures)
