"""The mirrored market behind the engine's two market interfaces: prices and the makers.

The synthetic engine asks :class:`~..engine.prices.Prices` for index and mark prices as
functions of the second, and a :class:`~..engine.quotes.Quoter` for the makers' ladder and
their trades. In mirror mode these two read :class:`~.market.MirroredMarket` instead:

- the mark is the source's mark (its ``mark`` candles), else the middle of its book, else
  its last trade; the index is the source's spot index, else the mark. Before the source
  sent anything, the listing's nominal price stands in (the market is stale then, so no
  order can trade on it);
- funding follows the synthetic rule, from the mirrored premium: ``(mark / index - 1) /
  funding coefficient``, capped (UWS has no funding rate channel [?]: kraken-uws-api §4.3);
- the makers' ladder *is* the source's book (taken from in place, see :mod:`.market`);
- the makers' trades are the source's trades, the latest of each second where the engine
  walks its tape second by second.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from ..engine._noise import key_of, uuid_from
from ..engine.instruments import IndexSpec, InstrumentSpec
from ..engine.quotes import BackgroundTrade, Ladder
from .market import MirroredMarket, MirroredSymbol, SourceTrade

__all__ = ["MirrorPrices", "MirrorQuoter"]

_ZERO = Decimal(0)
_ONE = Decimal(1)


class MirrorPrices:
    """Index, mark and funding of every mirrored contract (the :class:`Prices` surface)."""

    def __init__(self, market: MirroredMarket, nominal: Mapping[str, IndexSpec]) -> None:
        self._market = market
        self._nominal = {base: Decimal(repr(spec.price)) for base, spec in nominal.items()}

    def _mirrored(self, spec: InstrumentSpec) -> MirroredSymbol:
        return self._market.symbols[spec.symbol]

    def _mark(self, spec: InstrumentSpec, second: int) -> Decimal:
        mirrored = self._mirrored(spec)
        mark = mirrored.marks.at(second)
        if mark is None:
            mark = mirrored.mid()
        if mark is None and mirrored.trades:
            mark = mirrored.trades[-1].price
        return mark if mark is not None else self._nominal.get(spec.base, _ONE)

    def quote(self, spec: InstrumentSpec, second: int) -> tuple[Decimal, Decimal, float]:
        """(index, mark, mark as float) at ``second``."""
        mark = self._mark(spec, second)
        index = self._mirrored(spec).indices.at(second)
        return (mark if index is None else index), mark, float(mark)

    def mark(self, spec: InstrumentSpec, second: int) -> Decimal:
        return self.quote(spec, second)[1]

    def index(self, spec: InstrumentSpec, second: int) -> Decimal:
        return self.quote(spec, second)[0]

    def paths(
        self, spec: InstrumentSpec, seconds: Sequence[int]
    ) -> tuple[list[float], list[float]]:
        """Index and mark at each second as floats (the candles' read)."""
        quotes = [self.quote(spec, second) for second in seconds]
        return [float(index) for index, _, _ in quotes], [mark for _, _, mark in quotes]

    def premium(self, spec: InstrumentSpec, second: int) -> float:
        """Relative distance of the mark from the index."""
        index, mark, _ = self.quote(spec, second)
        return float(mark / index - 1) if index else 0.0

    def relative_funding(self, spec: InstrumentSpec, second: int) -> Decimal:
        """Hourly relative funding rate from the mirrored premium (perpetuals only)."""
        if spec.funding_coefficient is None or spec.max_relative_funding is None:
            return _ZERO
        index, mark, _ = self.quote(spec, second)
        if not index:
            return _ZERO
        rate = ((mark / index - 1) / spec.funding_coefficient).quantize(Decimal("1e-10"))
        cap = spec.max_relative_funding
        return max(-cap, min(cap, rate))

    def move(self, base: str, start: int, factor: float) -> None:
        """A mirror's prices are the source's: move the source's market instead."""
        raise ValueError("a mirrored market moves with its source; move the source instead")


class MirrorQuoter:
    """The source's book and trades where the engine expects its synthetic makers."""

    #: The synthetic makers can say their best quotes without building a ladder; here the
    #: ladder is the book, so the engine reads it (``MarketData._top``).
    quick_top = False

    __slots__ = ("_key", "_mirrored", "_spec")

    def __init__(self, mirrored: MirroredSymbol, spec: InstrumentSpec) -> None:
        self._mirrored = mirrored
        self._spec = spec
        self._key = key_of(0, "mirror", spec.symbol)

    def ladder(self, second: int, mark: float) -> Ladder:
        """The source's book now: the engine takes from these very lists."""
        return Ladder(second, self._mirrored.bids, self._mirrored.asks)

    def top(self, second: int, mark: float) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """(bid, bid size, ask, ask size): the best levels with something left (0 if none)."""
        bid = next((level for level in self._mirrored.bids if level[1] > 0), [_ZERO, _ZERO])
        ask = next((level for level in self._mirrored.asks if level[1] > 0), [_ZERO, _ZERO])
        return bid[0], bid[1], ask[0], ask[1]

    def trades_at(self, second: int) -> bool:
        return bool(self._mirrored.trades_in(second))

    def _background(self, trade: SourceTrade) -> BackgroundTrade:
        return BackgroundTrade(
            time=trade.time,
            second=trade.second,
            price=trade.price,
            size=trade.size,
            side=trade.side,
            uid=uuid_from(self._key, trade.trade_id or trade.seq),
        )

    def background_trade(self, second: int, mark: float) -> BackgroundTrade:
        """The source's latest trade in ``second`` (only when :meth:`trades_at` says so)."""
        return self._background(self._mirrored.trades_in(second)[-1])

    def background_size(self, second: int, mark: float) -> Decimal:
        return sum((t.size for t in self._mirrored.trades_in(second)), _ZERO)

    def background_steps(self, seconds: Sequence[int], marks: Sequence[float]) -> list[int]:
        """The volume the source traded in each second, in size steps (candles add them)."""
        step = self._spec.size_step
        return [int(self.background_size(second, 0.0) / step) for second in seconds]
