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
"""

from __future__ import annotations

import math
from decimal import Decimal

from ._noise import key_of, signed_unit
from ._text import round_to_step
from .instruments import IndexSpec, InstrumentSpec

__all__ = ["Prices"]

_OCTAVES = 11
_PREMIUM_OCTAVES = (3, 5, 7)  # 64 s, ~17 min, ~4.5 h
_PREMIUM_SIZE = 0.0004
_CARRY_PER_YEAR = 0.06
_YEAR = 365.0 * 86_400.0
_CACHE_LIMIT = 16_384


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
        self._lattice: dict[int, float] = {}

    def _node(self, octave: int, n: int) -> float:
        index = n * 16 + octave
        value = self._lattice.get(index)
        if value is None:
            if len(self._lattice) > _CACHE_LIMIT:
                self._lattice.clear()
            value = signed_unit(self._key, index)
            self._lattice[index] = value
        return value

    def log_price(self, second: int) -> float:
        amplitudes = self._amplitudes
        total = amplitudes[0] * signed_unit(self._key, second * 16)
        for octave in range(1, _OCTAVES):
            shift = 2 * octave
            n = second >> shift
            frac = (second - (n << shift)) / (1 << shift)
            a = self._node(octave, n)
            if frac:
                a += (self._node(octave, n + 1) - a) * frac
            total += amplitudes[octave] * a
        return self._log0 + total


class Prices:
    """Index and mark prices for every instrument of a listing."""

    def __init__(
        self, seed: int, indices: dict[str, IndexSpec], instruments: dict[str, InstrumentSpec]
    ) -> None:
        self._series = {base: _Series(seed, spec) for base, spec in indices.items()}
        self._premium_keys = {s: key_of(seed, "premium", s) for s in instruments}
        self._premium_nodes: dict[tuple[int, int], float] = {}
        self._index_cache: dict[tuple[str, int], float] = {}
        self._cache: dict[tuple[str, int], tuple[Decimal, Decimal, float]] = {}

    def index_float(self, base: str, second: int) -> float:
        key = (base, second)
        value = self._index_cache.get(key)
        if value is None:
            if len(self._index_cache) > _CACHE_LIMIT:
                self._index_cache.clear()
            value = math.exp(self._series[base].log_price(second))
            self._index_cache[key] = value
        return value

    def premium(self, spec: InstrumentSpec, second: int) -> float:
        """Relative distance of the mark from the index, before the carry of dated contracts."""
        key = self._premium_keys[spec.symbol]
        total = 0.0
        for octave in _PREMIUM_OCTAVES:
            shift = 2 * octave
            n = second >> shift
            frac = (second - (n << shift)) / (1 << shift)
            a = self._premium_node(key, n * 16 + octave)
            b = self._premium_node(key, (n + 1) * 16 + octave)
            total += a + (b - a) * frac
        return _PREMIUM_SIZE * total / len(_PREMIUM_OCTAVES)

    def _premium_node(self, key: int, index: int) -> float:
        nodes = self._premium_nodes
        value = nodes.get((key, index))
        if value is None:
            if len(nodes) > _CACHE_LIMIT:
                nodes.clear()
            value = signed_unit(key, index)
            nodes[(key, index)] = value
        return value

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
        if len(self._cache) > _CACHE_LIMIT:
            self._cache.clear()
        grid = spec.tick / 10
        index = self.index_float(spec.base, second)
        mark = index * (1.0 + self._basis(spec, second) + self.premium(spec, second))
        result = (round_to_step(index, grid), round_to_step(mark, grid), mark)
        self._cache[key] = result
        return result

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
