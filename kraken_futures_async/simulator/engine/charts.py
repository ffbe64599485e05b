"""OHLC candles for the charts API: ``mark`` and ``spot`` (index) prices, and ``trade`` prices.

A candle samples its price path at a few evenly spaced seconds (every other second for
one-minute candles, eight for an hour or more): open at its first second, close at its last
(or now), high and low over the samples. Trade candles follow the makers' traded prices (the
mark on the tick grid) with a volume estimated from the makers' background trades at the
samples, and merge the users' trades exactly. Finished candles are cached. At most 2000
candles per answer; ``more_candles`` says the requested range held more.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from ..errors import ExchangeError, Reason
from ._text import ZERO, quantize_down
from .book import Market
from .params import Params, parse_decimal
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
_CACHE_LIMIT = 200_000

_Row = tuple[Decimal, Decimal, Decimal, Decimal, Decimal]


def _plain_error(message: str) -> ExchangeError:
    """Kraken's own refusals of bad arguments (``Invalid resolution``; plain text on REST)."""
    return ExchangeError(message, reason=Reason.INVALID_ARGUMENT, message=message)


def _not_found() -> ExchangeError:
    """An unknown tick type or symbol: answered as a path that does not exist, as elsewhere."""
    return ExchangeError(0, reason=Reason.NO_SUCH_ROUTE)


class Charts:
    def __init__(self, venue: Venue) -> None:
        self._venue = venue
        self._cache: dict[tuple[str, str, int, int], _Row] = {}

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
        rows = [self._candle(market, tick_type, width, b, now, user.get(b, ())) for b in buckets]
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

    def _candle(
        self,
        market: Market,
        tick_type: str,
        width: int,
        start: int,
        now: float,
        user: Any,
    ) -> dict[str, Any]:
        finished = start + width <= now
        key = (market.spec.symbol, tick_type, width, start)
        row = self._cache.get(key) if finished else None
        if row is None:
            row = self._sample(market, tick_type, width, start, now)
            if finished:
                if len(self._cache) > _CACHE_LIMIT:
                    self._cache.clear()
                self._cache[key] = row
        open_, high, low, close, volume = row
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

    def _sample(self, market: Market, tick_type: str, width: int, start: int, now: float) -> _Row:
        spec = market.spec
        prices = self._venue.prices
        last = min(start + width - 1, math.floor(now))
        span = last - start
        samples = min(span + 1, _SAMPLES.get(width, _DEFAULT_SAMPLES))
        seconds = [start + (span * i) // max(1, samples - 1) for i in range(samples)]
        values: list[Decimal] = []
        volume = ZERO
        quoter = market.quoter
        for second in seconds:
            index, mark, mark_f = prices.quote(spec, second)
            if tick_type == "spot":
                values.append(index)
            elif tick_type == "mark":
                values.append(mark)
            else:
                values.append(quantize_down(mark, spec.tick))
                if quoter.trades_at(second):
                    volume += quoter.background_trade(second, mark_f).size
        if tick_type == "trade" and samples:
            volume = volume * (span + 1) / samples
            volume = quantize_down(volume, spec.size_step)
        return values[0], max(values), min(values), values[-1], volume
