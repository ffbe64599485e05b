"""Index and mark prices as deterministic functions of time.

An index price is ``nominal * exp(x(t))`` where ``x`` is a sum of value-noise octaves at
scales 1 s, 4 s, 16 s ... 4^10 s, each octave's amplitude proportional to the square root of
its scale: over any lag from a second to about two weeks the log price moves like a random
walk with the instrument's volatility, and it never drifts away for good. Time is whole
seconds (the price steps once a second), and the value at second ``t`` is computed from ``t``
alone, so it never depends on how often or in which order prices were asked for; it can even
be read ahead (tests do that to know when a stop will fire).

A contract's mark is its index times ``1 + basis + premium``: the premium is a small noise of
its own (it drives funding), the basis is a carry that decays to zero at a dated contract's
expiry. Both prices are exact Decimals on a grid ten times finer than the tick size.

Memory stays flat however long the twin runs: each noise remembers only the two lattice
nodes around the second it was last asked for, per octave (asked for the next second, or a
few seconds on, most octaves reuse them), and the quotes by (contract, second) are kept in
a :class:`~.retention.ClearingCache` of ``Retention.price_cache`` entries. Candles read the
same prices as floats (:meth:`Prices.paths`), past both caches, and round only the few
figures they show.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

from ._noise import key_of, signed_unit, signed_units
from ._text import round_to_step
from .instruments import IndexSpec, InstrumentSpec
from .price_moves import PriceMoves
from .retention import ClearingCache, Retention

__all__ = ["PriceSource", "Prices"]

_OCTAVES = 11
_PREMIUM_OCTAVES = (3, 5, 7)  # 64 s, ~17 min, ~4.5 h
_PREMIUM_SIZE = 0.0004
_CARRY_PER_YEAR = 0.06
_YEAR = 365.0 * 86_400.0


class _Lattice:
    """Value noise's nodes around the latest point asked for, one pair per octave.

    ``node(octave, n)`` is ``signed_unit(key, n * 16 + octave)``; an octave remembers the
    nodes ``n`` and ``n + 1`` it last interpolated between. When time moves on by one node
    the upper one becomes the lower, so walking forward costs one new node per step.
    """

    __slots__ = ("_high", "_key", "_low", "_n")

    def __init__(self, key: int, octaves: int) -> None:
        self._key = key
        self._n: list[int | None] = [None] * octaves
        self._low = [0.0] * octaves
        self._high = [0.0] * octaves

    def pair(self, octave: int, n: int) -> tuple[float, float]:
        """(node n, node n + 1) of ``octave``."""
        last = self._n[octave]
        if last == n:
            return self._low[octave], self._high[octave]
        key = self._key
        low = self._high[octave] if last == n - 1 else signed_unit(key, n * 16 + octave)
        high = signed_unit(key, (n + 1) * 16 + octave)
        self._n[octave], self._low[octave], self._high[octave] = n, low, high
        return low, high


def _octave_nodes(
    key: int, octave: int, seconds: Sequence[int]
) -> tuple[list[int], dict[int, float]]:
    """For a batch of seconds: the node below each in ``octave``, and every node needed.

    The same nodes :meth:`_Lattice.pair` gives one second at a time; each is hashed once.
    """
    shift = 2 * octave
    ns = [second >> shift for second in seconds]
    wanted = set(ns)
    wanted.update([n + 1 for n in wanted])
    return ns, dict(zip(wanted, signed_units(key, [n * 16 + octave for n in wanted]), strict=True))


class _Series:
    """The log-price noise of one index."""

    __slots__ = ("_amplitudes", "_key", "_lattice", "_log0")

    def __init__(self, seed: int, spec: IndexSpec) -> None:
        self._key = key_of(seed, "index", spec.base)
        self._log0 = math.log(spec.price)
        sigma = spec.volatility / math.sqrt(_YEAR)
        # amplitude 1.2 * sigma * sqrt(scale) makes the summed variance about sigma^2 * lag
        # (measured over lags from 1 s to a week)
        self._amplitudes = tuple(1.2 * sigma * math.sqrt(4.0**j) for j in range(_OCTAVES))
        self._lattice = _Lattice(self._key, _OCTAVES)

    def log_price(self, second: int) -> float:
        amplitudes = self._amplitudes
        pair = self._lattice.pair
        total = amplitudes[0] * signed_unit(self._key, second * 16)
        for octave in range(1, _OCTAVES):
            shift = 2 * octave
            n = second >> shift
            frac = (second - (n << shift)) / (1 << shift)
            a, b = pair(octave, n)
            if frac:
                a += (b - a) * frac
            total += amplitudes[octave] * a
        return self._log0 + total

    def log_prices(self, seconds: Sequence[int]) -> list[float]:
        """:meth:`log_price` of each second, computed octave by octave (bit for bit the same:
        each second's terms are added in the same order)."""
        amplitudes = self._amplitudes
        key = self._key
        first = amplitudes[0]
        totals = [first * node for node in signed_units(key, [second * 16 for second in seconds])]
        for octave in range(1, _OCTAVES):
            amplitude = amplitudes[octave]
            scale = 1 << 2 * octave
            mask = scale - 1
            ns, node = _octave_nodes(key, octave, seconds)
            totals = [
                total
                + amplitude
                * (
                    (node[n] + (node[n + 1] - node[n]) * frac)
                    if (frac := (second & mask) / scale)
                    else node[n]
                )
                for total, second, n in zip(totals, seconds, ns, strict=True)
            ]
        log0 = self._log0
        return [log0 + total for total in totals]


class PriceSource(Protocol):
    """What the engine reads prices from: the synthetic :class:`Prices`, or a mirrored
    live market (:mod:`..mirror.pricing`)."""

    def quote(self, spec: InstrumentSpec, second: int) -> tuple[Decimal, Decimal, float]: ...

    def mark(self, spec: InstrumentSpec, second: int) -> Decimal: ...

    def index(self, spec: InstrumentSpec, second: int) -> Decimal: ...

    def paths(
        self, spec: InstrumentSpec, seconds: Sequence[int]
    ) -> tuple[list[float], list[float]]: ...

    def premium(self, spec: InstrumentSpec, second: int) -> float: ...

    def relative_funding(self, spec: InstrumentSpec, second: int) -> Decimal: ...

    def move(self, base: str, start: int, factor: float) -> None: ...


class Prices:
    """Index and mark prices for every instrument of a listing."""

    def __init__(
        self,
        seed: int,
        indices: dict[str, IndexSpec],
        instruments: dict[str, InstrumentSpec],
        retention: Retention | None = None,
    ) -> None:
        kept = (retention or Retention()).price_cache
        self._series = {base: _Series(seed, spec) for base, spec in indices.items()}
        top = max(_PREMIUM_OCTAVES) + 1
        self._premium_keys = {s: key_of(seed, "premium", s) for s in instruments}
        self._premiums = {s: _Lattice(key, top) for s, key in self._premium_keys.items()}
        self._index_cache: ClearingCache[tuple[str, int], float] = ClearingCache(kept)
        self._cache: ClearingCache[tuple[str, int], tuple[Decimal, Decimal, float]]
        self._cache = ClearingCache(kept)
        #: Moves a test ordered (:mod:`.price_moves`); none unless the twin is told.
        self.moves = PriceMoves()

    def move(self, base: str, start: int, factor: float) -> None:
        """Scale ``base``'s index by ``factor`` from ``start`` on (quotes cached are dropped)."""
        self.moves.add(base, start, factor)
        self._index_cache.clear()
        self._cache.clear()

    def index_float(self, base: str, second: int) -> float:
        value = self._index_cache.get((base, second))
        if value is None:
            value = math.exp(self._series[base].log_price(second))
            if self.moves:
                value *= self.moves.factor(base, second)
            self._index_cache.put((base, second), value)
        return value

    def premium(self, spec: InstrumentSpec, second: int) -> float:
        """Relative distance of the mark from the index, before the carry of dated contracts."""
        pair = self._premiums[spec.symbol].pair
        total = 0.0
        for octave in _PREMIUM_OCTAVES:
            shift = 2 * octave
            n = second >> shift
            frac = (second - (n << shift)) / (1 << shift)
            a, b = pair(octave, n)
            total += a + (b - a) * frac
        return _PREMIUM_SIZE * total / len(_PREMIUM_OCTAVES)

    def _basis(self, spec: InstrumentSpec, second: int) -> float:
        if spec.expiry is None:
            return 0.0
        return _CARRY_PER_YEAR * max(0.0, spec.expiry - second) / _YEAR

    def quote(self, spec: InstrumentSpec, second: int) -> tuple[Decimal, Decimal, float]:
        """(index, mark, mark as float) at ``second``."""
        key = (spec.symbol, second)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        grid = spec.tick / 10
        index = self.index_float(spec.base, second)
        mark = index * (1.0 + self._basis(spec, second) + self.premium(spec, second))
        return self._cache.put(key, (round_to_step(index, grid), round_to_step(mark, grid), mark))

    def paths(
        self, spec: InstrumentSpec, seconds: Sequence[int]
    ) -> tuple[list[float], list[float]]:
        """Index and mark at each second as floats (candles read thousands), past the caches.

        The same floats :meth:`quote` rounds to the grid (``spec.tick / 10``), bit for bit.
        """
        indices = [math.exp(x) for x in self._series[spec.base].log_prices(seconds)]
        if self.moves:
            factor, base = self.moves.factor, spec.base
            indices = [i * factor(base, s) for i, s in zip(indices, seconds, strict=True)]
        key = self._premium_keys[spec.symbol]
        premiums = [0.0] * len(seconds)
        for octave in _PREMIUM_OCTAVES:
            scale = 1 << 2 * octave
            mask = scale - 1
            ns, node = _octave_nodes(key, octave, seconds)
            premiums = [
                total + (node[n] + (node[n + 1] - node[n]) * ((second & mask) / scale))
                for total, second, n in zip(premiums, seconds, ns, strict=True)
            ]
        size, many = _PREMIUM_SIZE, len(_PREMIUM_OCTAVES)
        if spec.expiry is None:  # no basis: 1.0 + 0.0 is 1.0 exactly
            marks = [
                index * (1.0 + size * premium / many)
                for index, premium in zip(indices, premiums, strict=True)
            ]
        else:
            basis = self._basis
            marks = [
                index * (1.0 + basis(spec, second) + size * premium / many)
                for index, second, premium in zip(indices, seconds, premiums, strict=True)
            ]
        return indices, marks

    def mark(self, spec: InstrumentSpec, second: int) -> Decimal:
        return self.quote(spec, second)[1]

    def index(self, spec: InstrumentSpec, second: int) -> Decimal:
        return self.quote(spec, second)[0]

    def relative_funding(self, spec: InstrumentSpec, second: int) -> Decimal:
        """Hourly relative funding rate implied at ``second`` (perpetuals only)."""
        if spec.funding_coefficient is None or spec.max_relative_funding is None:
            return Decimal(0)
        rate = Decimal(repr(round(self.premium(spec, second), 10))) / spec.funding_coefficient
        cap = spec.max_relative_funding
        return max(-cap, min(cap, rate))
