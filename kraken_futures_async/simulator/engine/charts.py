"""OHLC candles for the charts API: ``mark`` and ``spot`` (index) prices, and ``trade`` prices.

A candle samples its price path at a few evenly spaced seconds (every other second for
one-minute candles, eight for an hour or more): open at its first second, close at its last
(or now), high and low over the samples. Trade candles follow the makers' traded prices (the
mark on the tick grid) with a volume estimated from the makers' background trades at the
samples, and merge the users' trades exactly. At most 2000 candles per answer;
``more_candles`` says the requested range held more.

A candle is sampled once for all three tick types, in floats (index and mark at each sample,
read past the price caches): the open, high, low and close of both, and the makers' volume.
Rounding to the price grid is monotonic, so rounding only those four figures gives the same
answer as rounding every sample. Finished candles are kept in a
:class:`~.retention.ClearingCache` of ``Retention.candle_cache`` entries, so the mark, spot
and trade charts of a window cost one sampling between them.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any, NamedTuple

from ..errors import ExchangeError, Reason
from ._text import ZERO, quantize_down, round_to_step
from .book import Market
from .params import Params, parse_decimal
from .retention import ClearingCache
from .venue import Venue

__all__ = ["RESOLUTIONS", "Charts"]

RESOLUTIONS: dict[str, int] = {
    "1m": 60,
    "5m": 300,
    "15m": 900,
    "30m": 1800,
    "1h": 3600,
    "4h": 14_400,
    "12h": 43_200,
    "1d": 86_400,
    "1w": 604_800,
}
TICK_TYPES = frozenset({"trade", "mark", "spot"})
_MAX_CANDLES = 2000
#: price samples per candle, by candle width (one-minute candles see every other second)
_SAMPLES = {60: 30, 300: 20}
_DEFAULT_SAMPLES = 8
_WEEK_OFFSET = 4 * 86_400  # weeks start on Monday (the epoch was a Thursday)

#: open, high, low, close of a float path
_Path = tuple[float, float, float, float]


class _Sampled(NamedTuple):
    """One candle's samples, for every tick type: the index's and the mark's paths (floats,
    unrounded) and the makers' volume (already scaled to the candle and on the size step)."""

    spot: _Path
    mark: _Path
    volume: Decimal


def _plain_error(message: str) -> ExchangeError:
    """Kraken's own refusals of bad arguments (``Invalid resolution``; plain text on REST)."""
    return ExchangeError(message, reason=Reason.INVALID_ARGUMENT, message=message)


def _not_found() -> ExchangeError:
    """An unknown tick type or symbol: answered as a path that does not exist, as elsewhere."""
    return ExchangeError(0, reason=Reason.NO_SUCH_ROUTE)


class Charts:
    def __init__(self, venue: Venue) -> None:
        self._venue = venue
        self._cache: ClearingCache[tuple[str, int, int], _Sampled]
        self._cache = ClearingCache(venue.retention.candle_cache)

    # what can be charted ------------------------------------------------------------------

    def tick_types(self, params: Params) -> list[str]:
        return ["spot", "mark", "trade"]

    def chart_symbols(self, params: Params) -> list[str]:
        """Every contract the venue has listed (dated ones keep their candles after expiry)."""
        if (params.text("tick_type") or "").lower() not in TICK_TYPES:
            raise _not_found()
        return sorted(self._venue.specs)

    def chart_resolutions(self, params: Params) -> list[str]:
        if (params.text("tick_type") or "").lower() not in TICK_TYPES:
            raise _not_found()
        if self._venue.spec_for(params.text("symbol") or "") is None:
            raise _not_found()
        return list(RESOLUTIONS)

    # candles ------------------------------------------------------------------------------

    def candles(self, params: Params) -> dict[str, Any]:
        tick_type = (params.text("tick_type") or "").lower()
        if tick_type not in TICK_TYPES:
            raise _not_found()
        resolution = params.text("resolution") or ""
        width = RESOLUTIONS.get(resolution)
        if width is None:
            raise _plain_error("Invalid resolution")
        spec = self._venue.spec_for(params.text("symbol") or "")
        if spec is None:
            raise _not_found()
        market = self._venue.market(spec.symbol)
        start, end, count = self._range(params)
        now = self._venue.now
        offset = _WEEK_OFFSET if width == 604_800 else 0
        first_open = max(spec.opening, 0.0)

        def bucket(t: float) -> int:
            return (math.floor(t) - offset) // width * width + offset

        last_bucket = bucket(min(end if end is not None else now, now))
        limit = _MAX_CANDLES if count is None else min(count, _MAX_CANDLES)
        more = False
        if start is not None:
            first = max(bucket(start), bucket(first_open))
            if first < start:
                first += width
            total = max(0, (last_bucket - first) // width + 1)
            if total > limit:
                more = True
                last_bucket = first + (limit - 1) * width
            buckets = list(range(first, last_bucket + 1, width)) if limit > 0 else []
        else:
            first = max(last_bucket - (limit - 1) * width, bucket(first_open))
            buckets = list(range(first, last_bucket + 1, width)) if limit > 0 else []
        user = self._user_trades(market, buckets, bucket) if tick_type == "trade" else {}
        sampled = self._sampled(market, width, buckets, now)
        rows = [
            _candle(market, tick_type, b, found, user.get(b, ()))
            for b, found in zip(buckets, sampled, strict=True)
        ]
        return {"candles": rows, "more_candles": more}

    @staticmethod
    def _range(params: Params) -> tuple[float | None, float | None, int | None]:
        values: list[float | None] = []
        for name in ("from", "to"):
            text = params.text(name)
            number = None if text is None else parse_decimal(text)
            if text is not None and number is None:
                raise _plain_error(f"Invalid {name}")
            values.append(None if number is None else float(number))
        count_text = params.text("count")
        count: int | None = None
        if count_text is not None:
            number = parse_decimal(count_text)
            if number is None or number < 0 or number != number.to_integral_value():
                raise _plain_error("Invalid count")
            count = int(number)
        return values[0], values[1], count

    @staticmethod
    def _user_trades(
        market: Market, buckets: list[int], bucket: Any
    ) -> dict[int, list[tuple[Decimal, Decimal]]]:
        if not buckets:
            return {}
        low, high = buckets[0], buckets[-1]
        found: dict[int, list[tuple[Decimal, Decimal]]] = {}
        for trade in market.tape:
            b = bucket(trade.time)
            if low <= b <= high:
                found.setdefault(b, []).append((trade.price, trade.size))
        return found

    def _sampled(
        self, market: Market, width: int, buckets: list[int], now: float
    ) -> list[_Sampled]:
        """Each candle's samples: finished ones from the cache, the others sampled in one go."""
        symbol = market.spec.symbol
        cache = self._cache
        found: list[_Sampled | None] = [cache.get((symbol, width, b)) for b in buckets]
        missing = [i for i, known in enumerate(found) if known is None]
        if not missing:
            return [known for known in found if known is not None]
        plans: list[tuple[int, int, int]] = []  # (first sample, samples, seconds covered)
        seconds: list[int] = []
        for i in missing:
            start = buckets[i]
            span = min(start + width - 1, math.floor(now)) - start
            samples = min(span + 1, _SAMPLES.get(width, _DEFAULT_SAMPLES))
            step = max(1, samples - 1)
            plans.append((len(seconds), samples, span + 1))
            seconds.extend(start + (span * k) // step for k in range(samples))
        indices, marks = self._venue.prices.paths(market.spec, seconds)
        steps = market.quoter.background_steps(seconds, marks)
        size_step = market.spec.size_step
        for i, (first, samples, covered) in zip(missing, plans, strict=True):
            start, stop = buckets[i], first + samples
            made = _Sampled(
                _path(indices[first:stop]),
                _path(marks[first:stop]),
                _volume(steps[first:stop], covered, size_step),
            )
            found[i] = made
            if start + width <= now:  # finished: it will not change
                cache.put((symbol, width, start), made)
        return [known for known in found if known is not None]


def _path(values: list[float]) -> _Path:
    return values[0], max(values), min(values), values[-1]


def _volume(steps: list[int], covered: int, size_step: Decimal) -> Decimal:
    """The makers' volume over a candle: the sampled trades' sizes, scaled to the seconds
    the candle covers (so far)."""
    taken = sum(steps)
    volume = ZERO + size_step * taken if taken else ZERO
    return quantize_down(volume * covered / len(steps), size_step)


def _candle(
    market: Market, tick_type: str, start: int, sampled: _Sampled, user: Any
) -> dict[str, Any]:
    open_, high, low, close, volume = _row(market, tick_type, sampled)
    for price, size in user:
        high, low = max(high, price), min(low, price)
        volume += size
    if user:
        close = user[-1][0]
    return {
        "time": start * 1000,
        "open": str(open_),
        "high": str(high),
        "low": str(low),
        "close": str(close),
        "volume": volume,
    }


def _row(
    market: Market, tick_type: str, sampled: _Sampled
) -> tuple[Decimal, Decimal, Decimal, Decimal, Decimal]:
    """(open, high, low, close, volume) on the price grid, as every sample rounded would give.

    Spot candles show the index and mark candles the mark, each rounded to a tenth of a tick
    (as quotes are); trade candles show the mark rounded down to the tick, and the volume.
    """
    spec = market.spec
    grid = spec.tick / 10
    path = sampled.spot if tick_type == "spot" else sampled.mark
    prices = [round_to_step(value, grid) for value in path]
    if tick_type != "trade":
        return prices[0], prices[1], prices[2], prices[3], ZERO
    tick = spec.tick
    open_, high, low, close = (quantize_down(price, tick) for price in prices)
    return open_, high, low, close, sampled.volume
