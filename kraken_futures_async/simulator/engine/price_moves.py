"""Moves of the market ordered by a test: the index of a base scaled from a second onwards.

Prices are functions of time (:mod:`.prices`); a test that needs the market somewhere (a
resting order crossed, a stop fired) cannot wait for the noise to get there. A move scales
one base's index, and so the mark of every contract on it, by a factor from a given second
on: the market keeps its own motion around the new level, the past stays as it was, and
moves add up (the factor in force is the product of all moves made so far).
"""

from __future__ import annotations

import bisect

__all__ = ["PriceMoves"]


class PriceMoves:
    """Per base, the seconds where a move starts and the factor in force from each one."""

    __slots__ = ("_factors", "_starts")

    def __init__(self) -> None:
        self._starts: dict[str, list[int]] = {}
        self._factors: dict[str, list[float]] = {}

    def __bool__(self) -> bool:
        return bool(self._starts)

    def factor(self, base: str, second: int) -> float:
        """The product of the moves of ``base`` that started at or before ``second``."""
        starts = self._starts.get(base)
        if starts is None:
            return 1.0
        i = bisect.bisect_right(starts, second)
        return 1.0 if i == 0 else self._factors[base][i - 1]

    def add(self, base: str, start: int, factor: float) -> None:
        """Scale ``base`` by ``factor`` from ``start`` on (on top of earlier moves)."""
        if not factor > 0:
            raise ValueError("a price moves by a positive factor")
        starts = self._starts.setdefault(base, [])
        factors = self._factors.setdefault(base, [])
        total = self.factor(base, start) * factor
        i = bisect.bisect_left(starts, start)
        # a later move of the same second replaces that second's entry; moves ahead of it
        # (time never runs back, so only read-ahead tests make them) are scaled too
        if i < len(starts) and starts[i] == start:
            factors[i] = total
            i += 1
        else:
            starts.insert(i, start)
            factors.insert(i, total)
            i += 1
        for j in range(i, len(factors)):
            factors[j] *= factor
