"""Synthetic market makers and the trades between them, as functions of (instrument, second).

Every second the makers requote a ladder of levels on each side around the mark: the best
levels half a spread away, the others a fixed gap apart, sizes drawn from the seed and growing
with depth. Users take from the ladder (what they take is gone until the next requote) and
rest orders inside or behind it. The makers also trade among themselves now and then at their
own best prices: those background trades give the market a last price, a tape and volume.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from ._noise import key_of, unit, units, uuid_from
from .instruments import InstrumentSpec

__all__ = ["LEVELS", "BackgroundTrade", "Ladder", "Makers", "Quoter", "trade_id"]

LEVELS = 25
#: trade ids count from here: (second - anchor) * 1000, plus a per-second counter for users.
_TRADE_ID_ANCHOR = 1_767_225_600  # 2026-01-01T00:00:00Z


def trade_id(second: int, counter: int) -> int:
    return (second - _TRADE_ID_ANCHOR) * 1000 + counter


@dataclass(slots=True)
class Ladder:
    """The makers' quotes for one second; ``[price, remaining size]`` pairs, best first."""

    second: int
    bids: list[list[Decimal]]
    asks: list[list[Decimal]]


@dataclass(frozen=True, slots=True)
class BackgroundTrade:
    time: float
    second: int
    price: Decimal
    size: Decimal
    side: str
    uid: str


class Makers(Protocol):
    """Where a market's liquidity and background trades come from: the synthetic
    :class:`Quoter`, or a mirrored live market (:mod:`..mirror.pricing`)."""

    @property
    def quick_top(self) -> bool: ...

    def ladder(self, second: int, mark: float) -> Ladder: ...

    def top(self, second: int, mark: float) -> tuple[Decimal, Decimal, Decimal, Decimal]: ...

    def trades_at(self, second: int) -> bool: ...

    def background_trade(self, second: int, mark: float) -> BackgroundTrade: ...

    def background_size(self, second: int, mark: float) -> Decimal: ...

    def background_steps(self, seconds: Sequence[int], marks: Sequence[float]) -> list[int]: ...


class Quoter:
    """The makers of one instrument."""

    #: :meth:`top` is cheaper than the ladder (a mirrored market's quoter says ``False``).
    quick_top = True

    __slots__ = ("_gap_frac", "_half_frac", "_keys", "_spec", "_step_f", "_tick", "_tick_f")

    def __init__(self, seed: int, spec: InstrumentSpec) -> None:
        self._spec = spec
        self._tick = spec.tick
        self._tick_f = float(spec.tick)
        self._step_f = float(spec.size_step)
        self._half_frac = spec.spread
        self._gap_frac = spec.level_gap
        names = ("size", "trade", "side", "tsize", "uid")
        self._keys = {name: key_of(seed, "quotes", name, spec.symbol) for name in names}

    def _grid(self, mark: float) -> tuple[int, int, int]:
        """Best bid and best ask in ticks, and the gap between levels in ticks."""
        tick = self._tick_f
        half = max(tick, mark * self._half_frac)
        gap = max(1, round(mark * self._gap_frac / tick))
        bid = math.floor((mark - half) / tick + 1e-9)
        ask = math.ceil((mark + half) / tick - 1e-9)
        if ask <= bid:
            ask = bid + 1
        return max(bid, 1), max(ask, 2), gap

    def _units(self, mark: float) -> float:
        """Contracts worth one level of depth (inverse contracts are USD already)."""
        usd = self._spec.level_usd
        return usd if self._spec.inverse else usd / mark

    def _size(self, contracts: float) -> Decimal:
        steps = max(1, int(contracts / self._step_f))
        return self._spec.size_step * steps

    def ladder(self, second: int, mark: float) -> Ladder:
        bid, ask, gap = self._grid(mark)
        units = self._units(mark)
        key = self._keys["size"]
        tick = self._tick
        bids: list[list[Decimal]] = []
        asks: list[list[Decimal]] = []
        base = second * 64
        for level in range(LEVELS):
            depth = 1.0 + 0.12 * level
            price_ticks = bid - level * gap
            if price_ticks > 0:
                size = units * depth * (0.3 + 1.4 * unit(key, base + level))
                bids.append([tick * price_ticks, self._size(size)])
            size = units * depth * (0.3 + 1.4 * unit(key, base + 32 + level))
            asks.append([tick * (ask + level * gap), self._size(size)])
        return Ladder(second, bids, asks)

    def top(self, second: int, mark: float) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """(bid, bid size, ask, ask size) of a fresh ladder, without building the rest."""
        bid, ask, _ = self._grid(mark)
        units = self._units(mark)
        key = self._keys["size"]
        base = second * 64
        bid_size = self._size(units * (0.3 + 1.4 * unit(key, base)))
        ask_size = self._size(units * (0.3 + 1.4 * unit(key, base + 32)))
        return self._tick * bid, bid_size, self._tick * ask, ask_size

    def trades_at(self, second: int) -> bool:
        return unit(self._keys["trade"], second) < self._spec.trade_chance

    def background_trade(self, second: int, mark: float) -> BackgroundTrade:
        """The makers' trade at the start of ``second`` (only when :meth:`trades_at` says so)."""
        bid, ask, _ = self._grid(mark)
        side = "buy" if unit(self._keys["side"], second) < 0.5 else "sell"
        return BackgroundTrade(
            time=float(second),
            second=second,
            price=self._tick * (ask if side == "buy" else bid),
            size=self.background_size(second, mark),
            side=side,
            uid=uuid_from(self._keys["uid"], second),
        )

    def background_size(self, second: int, mark: float) -> Decimal:
        """The size of :meth:`background_trade` alone."""
        return self._size(self._units(mark) * (0.02 + 0.3 * unit(self._keys["tsize"], second)))

    def background_steps(self, seconds: Sequence[int], marks: Sequence[float]) -> list[int]:
        """At each second, the size of the makers' trade in size steps, 0 if none trades.

        ``size_step * steps`` is :meth:`background_size` (candles add up thousands of them).
        """
        trade, tsize = self._keys["trade"], self._keys["tsize"]
        chance, step = self._spec.trade_chance, self._step_f
        usd = self._spec.level_usd
        inverse = self._spec.inverse
        chances = units(trade, seconds)
        sizes = units(tsize, seconds)
        return [
            max(1, int((usd if inverse else usd / mark) * (0.02 + 0.3 * size) / step))
            if chance_at < chance
            else 0
            for mark, chance_at, size in zip(marks, chances, sizes, strict=True)
        ]
