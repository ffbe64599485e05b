"""The charts API's analytics: time series per contract (and of the liquidity pool).

Buckets start at ``since`` rounded down to the interval and run to ``to`` (default now), at
most ``MAX_BUCKETS`` of them (``more`` says the range held more). Values come from the engine
where that is cheap: trade volume and count from the makers' trades sampled across the bucket
plus the users' trades exactly, open interest as in the tickers (the makers' share plus the
users' long positions), the order-book figures from the makers' ladder at the bucket's start,
the basis from mark and index. Positioning figures (long/short counts, top traders) and the
liquidity pool are seeded noise: plausible, and the same for the same seed. The twin
liquidates no one, so liquidation volume is zero.

Refusals list the service's per-field issues: an invalid argument for a bad
``since``/``interval``/``to``, not found for an unknown contract or analytics type (the REST
face renders them as the service's JSON form).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ..errors import ExchangeError, Reason
from ._noise import key_of, unit
from ._text import ONE, ZERO, tidy
from .book import Market
from .instruments import InstrumentSpec
from .params import Params, parse_decimal
from .venue import Venue

__all__ = ["INTERVALS", "MAX_BUCKETS", "Analytics"]

INTERVALS = frozenset({60, 300, 900, 1800, 3600, 14400, 43200, 86400, 604800})
MAX_BUCKETS = 1000
_SAMPLES = 12
_OPEN_INTEREST_SHARE = Decimal("0.3")
_YEAR = 365 * 86_400
#: (key suffix, share of mid price) for the liquidity bands, and USD sizes for slippage.
_BANDS = (("005", "0.0005"), ("01", "0.001"), ("025", "0.0025"), ("05", "0.005"), ("10", "0.01"))
_SLIPPAGE = (("1k", 1_000), ("10k", 10_000), ("100k", 100_000), ("1m", 1_000_000))

Series = dict[str, Any]


def _refusal(reason: Reason, kind: str, message: str, field: str | None = None) -> ExchangeError:
    issue = {"severity": "error", "error_class": "client", "type": kind, "msg": message}
    if field is not None:
        issue["field"] = field
    return ExchangeError(kind, reason=reason, message=message, issues=[issue])


def _number(params: Params, name: str, required: bool) -> int | None:
    text = params.text(name)
    if text is None:
        if required:
            raise _refusal(Reason.INVALID_ARGUMENT, "missing_field", f"{name} is required", name)
        return None
    value = parse_decimal(text)
    if value is None or value != value.to_integral_value():
        raise _refusal(Reason.INVALID_ARGUMENT, "invalid_value", f"{name} must be an integer", name)
    return int(value)


def _s(value: Decimal) -> str:
    return format(tidy(value), "f")


class Analytics:
    def __init__(self, venue: Venue, seed: int) -> None:
        self._venue = venue
        self._seed = seed
        self._kinds: dict[str, Callable[[Market, list[int], int], Any]] = {
            "open-interest": self._open_interest,
            "aggressor-differential": self._aggressor_differential,
            "trade-volume": self._trade_volume,
            "trade-count": self._trade_count,
            "liquidation-volume": lambda market, buckets, width: ["0"] * len(buckets),
            "rolling-volatility": self._volatility,
            "long-short-ratio": self._long_short_ratio,
            "long-short-info": self._long_short_info,
            "cvd": self._cvd,
            "top-traders": self._top_traders,
            "orderbook": self._orderbook,
            "spreads": self._spreads,
            "liquidity": self._liquidity,
            "slippage": self._slippage,
            "future-basis": self._basis,
        }

    # the window ---------------------------------------------------------------------------

    def _buckets(self, params: Params) -> tuple[list[int], int, bool]:
        since = _number(params, "since", True)
        interval = _number(params, "interval", True)
        until = _number(params, "to", False)
        assert since is not None
        assert interval is not None
        if interval not in INTERVALS:
            raise _refusal(
                Reason.INVALID_ARGUMENT,
                "invalid_value",
                "interval is not a supported value",
                "interval",
            )
        end = math.floor(self._venue.now) if until is None else until
        if end < since:
            raise _refusal(
                Reason.INVALID_ARGUMENT, "invalid_value", "to must not be before since", "to"
            )
        first = since - since % interval
        count = (min(end, math.floor(self._venue.now)) - first) // interval + 1
        more = count > MAX_BUCKETS
        count = max(0, min(count, MAX_BUCKETS))
        return [first + i * interval for i in range(count)], interval, more

    def market_analytics(self, params: Params) -> dict[str, Any]:
        spec = self._venue.spec_for(params.required("symbol"))
        kind = self._kinds.get(params.required("analytics_type"))
        if spec is None or kind is None:
            raise _refusal(Reason.NOT_FOUND, "not_found", "symbol or analytics type not found")
        buckets, width, more = self._buckets(params)
        data = kind(self._venue.market(spec.symbol), buckets, width)
        return {"result": {"timestamp": buckets, "more": more, "data": data}, "errors": []}

    def liquidity_pool(self, params: Params) -> dict[str, Any]:
        buckets, _, more = self._buckets(params)
        key = key_of(self._seed, "analytics", "pool")
        values = [_s(Decimal(repr(round(25e6 * (0.9 + 0.2 * unit(key, b)), 2)))) for b in buckets]
        data = {"usdValue": values}
        return {"result": {"timestamp": buckets, "more": more, "data": data}, "errors": []}

    # trades ---------------------------------------------------------------------------------

    def _trades(self, market: Market, start: int, width: int) -> tuple[Decimal, Decimal, int]:
        """(bought, sold, count) in the bucket: makers' trades sampled, users' exactly."""
        spec, quoter, prices = market.spec, market.quoter, self._venue.prices
        last = min(start + width, math.floor(self._venue.now) + 1)
        span = max(0, last - start)
        samples = min(span, _SAMPLES)
        bought = sold = ZERO
        count = 0
        for i in range(samples):
            second = start + (span * i) // samples
            if quoter.trades_at(second):
                trade = quoter.background_trade(second, prices.quote(spec, second)[2])
                count += 1
                if trade.side == "buy":
                    bought += trade.size
                else:
                    sold += trade.size
        if samples:
            scale = Decimal(span) / samples
            bought, sold = bought * scale, sold * scale
            count = round(count * span / samples)
        for user in market.tape:
            if start <= user.time < start + width:
                count += 1
                if user.side == "buy":
                    bought += user.size
                else:
                    sold += user.size
        step = spec.size_step
        return (
            (bought / step).to_integral_value() * step,
            (sold / step).to_integral_value() * step,
            count,
        )

    def _trade_volume(self, market: Market, buckets: list[int], width: int) -> list[str]:
        return [_s(sum(self._trades(market, b, width)[:2], ZERO)) for b in buckets]

    def _trade_count(self, market: Market, buckets: list[int], width: int) -> list[int]:
        return [self._trades(market, b, width)[2] for b in buckets]

    def _aggressor_differential(
        self, market: Market, buckets: list[int], width: int
    ) -> list[Decimal]:
        rows = (self._trades(market, b, width) for b in buckets)
        return [tidy(bought - sold) for bought, sold, _ in rows]

    def _cvd(self, market: Market, buckets: list[int], width: int) -> Series:
        buys, sells, running = [], [], []
        total = ZERO
        for bucket in buckets:
            bought, sold, _ = self._trades(market, bucket, width)
            total += bought - sold
            buys.append(_s(bought))
            sells.append(_s(sold))
            running.append(_s(total))
        return {"buyVolume": buys, "sellVolume": sells, "cvd": running}

    # positioning ----------------------------------------------------------------------------

    def _open_interest(self, market: Market, buckets: list[int], width: int) -> list[Decimal]:
        spec = market.spec
        users = sum(
            (
                p.size
                for a in self._venue.accounts.values()
                for s, p in a.positions.items()
                if s == spec.symbol and p.size > 0
            ),
            ZERO,
        )
        now_bucket = buckets[-1] if buckets else None
        values = []
        for bucket in buckets:
            daily = Decimal(repr(round(spec.daily_volume_usd, 2)))
            if not spec.inverse:
                daily /= self._venue.prices.mark(spec, bucket)
            interest = daily * _OPEN_INTEREST_SHARE
            interest = (interest / spec.size_step).to_integral_value() * spec.size_step
            values.append(tidy(interest + (users if bucket == now_bucket else ZERO)))
        return values

    def _crowd(self, market: Market, bucket: int, name: str) -> tuple[int, int]:
        key = key_of(self._seed, "analytics", name, market.spec.symbol)
        longs = 200 + int(1800 * unit(key, bucket))
        shorts = 200 + int(1800 * unit(key, bucket + 1))
        return longs, shorts

    def _long_short_ratio(self, market: Market, buckets: list[int], width: int) -> list[Decimal]:
        values = []
        for bucket in buckets:
            longs, shorts = self._crowd(market, bucket, "crowd")
            values.append(tidy(Decimal(longs) / shorts))
        return values

    def _shares(
        self, market: Market, buckets: list[int], name: str
    ) -> tuple[list[int], list[int], list[str], list[str], list[str]]:
        longs, shorts, long_pc, short_pc, ratio = [], [], [], [], []
        for bucket in buckets:
            many_long, many_short = self._crowd(market, bucket, name)
            total = Decimal(many_long + many_short)
            longs.append(many_long)
            shorts.append(many_short)
            long_pc.append(_s(Decimal(many_long) * 100 / total))
            short_pc.append(_s(Decimal(many_short) * 100 / total))
            ratio.append(_s(Decimal(many_long) / many_short))
        return longs, shorts, long_pc, short_pc, ratio

    def _long_short_info(self, market: Market, buckets: list[int], width: int) -> Series:
        longs, shorts, long_pc, short_pc, ratio = self._shares(market, buckets, "crowd")
        return {
            "long_count": longs,
            "short_count": shorts,
            "long_percent": long_pc,
            "short_percent": short_pc,
            "ratio": ratio,
        }

    def _top_traders(self, market: Market, buckets: list[int], width: int) -> Series:
        longs, shorts, long_pc, short_pc, ratio = self._shares(market, buckets, "top")
        interest = self._open_interest(market, buckets, width)
        return {
            "top20Percent": {
                "openInterest": [_s(v * Decimal("0.6")) for v in interest],
                "longCount": [n // 10 for n in longs],
                "shortCount": [n // 10 for n in shorts],
                "longPercent": long_pc,
                "shortPercent": short_pc,
                "ratio": ratio,
            }
        }

    # prices ---------------------------------------------------------------------------------

    def _volatility(self, market: Market, buckets: list[int], width: int) -> list[Decimal]:
        spec, prices = market.spec, self._venue.prices
        values = []
        now = math.floor(self._venue.now)
        for bucket in buckets:
            step = max(1, width // _SAMPLES)
            seconds = [min(now, bucket + i * step) for i in range(_SAMPLES + 1)]
            marks = [prices.quote(spec, second)[2] for second in seconds]
            returns = [math.log(b / a) for a, b in itertools.pairwise(marks)]
            mean = sum(returns) / len(returns)
            variance = sum((r - mean) ** 2 for r in returns) / len(returns)
            yearly = math.sqrt(variance * _YEAR / step)
            values.append(Decimal(repr(round(yearly * 100, 4))))
        return values

    def _basis(self, market: Market, buckets: list[int], width: int) -> Series:
        spec, prices = market.spec, self._venue.prices
        basis = []
        for bucket in buckets:
            index, mark, _ = prices.quote(spec, bucket)
            basis.append(_s((mark - index) / index * 100))
        return {"basis": basis}

    # the order book -------------------------------------------------------------------------

    def _sides(self, market: Market, bucket: int) -> tuple[list[list[Decimal]], ...]:
        mark_f = self._venue.prices.quote(market.spec, bucket)[2]
        ladder = market.quoter.ladder(bucket, mark_f)
        return ladder.bids, ladder.asks

    def _per_side(
        self,
        market: Market,
        buckets: list[int],
        figures: Callable[[InstrumentSpec, list[list[Decimal]]], dict[str, str | None]],
    ) -> Series:
        out: dict[str, dict[str, list[str | None]]] = {"bid": {}, "ask": {}}
        for bucket in buckets:
            for name, levels in zip(("bid", "ask"), self._sides(market, bucket), strict=True):
                for key, value in figures(market.spec, levels).items():
                    out[name].setdefault(key, []).append(value)
        return out

    @staticmethod
    def _best(spec: InstrumentSpec, levels: list[list[Decimal]]) -> dict[str, str | None]:
        return {"best_price": _s(levels[0][0]) if levels else None}

    @staticmethod
    def _depth(spec: InstrumentSpec, levels: list[list[Decimal]]) -> dict[str, str | None]:
        """USD resting within each band of the best price."""
        if not levels:
            return {f"liquidity_{name}": None for name, _ in (*_BANDS, ("100", "1"))}
        best = levels[0][0]
        out: dict[str, str | None] = {}
        for name, share in (*_BANDS, ("100", "1")):
            reach = best * Decimal(share)
            usd = sum(
                (size * (ONE if spec.inverse else price))
                for price, size in levels
                if abs(price - best) <= reach
            )
            out[f"liquidity_{name}"] = _s(Decimal(usd))
        return out

    @staticmethod
    def _slip(spec: InstrumentSpec, levels: list[list[Decimal]]) -> dict[str, str | None]:
        """Percent between the best price and the average fill of a market order of N USD."""
        out: dict[str, str | None] = {}
        for name, usd in _SLIPPAGE:
            left, cost, filled = Decimal(usd), ZERO, ZERO
            for price, size in levels:
                take = min(size if spec.inverse else size * price, left)  # USD
                cost += take
                filled += take / price
                left -= take
                if left <= 0:
                    break
            if left > 0 or filled == 0:
                out[f"slippage_{name}"] = None
                continue
            average = cost / filled
            out[f"slippage_{name}"] = _s(abs(average - levels[0][0]) / levels[0][0] * 100)
        return out

    def _spreads(self, market: Market, buckets: list[int], width: int) -> Series:
        return self._per_side(market, buckets, self._best)

    def _liquidity(self, market: Market, buckets: list[int], width: int) -> Series:
        return self._per_side(market, buckets, self._depth)

    def _slippage(self, market: Market, buckets: list[int], width: int) -> Series:
        return self._per_side(market, buckets, self._slip)

    def _orderbook(self, market: Market, buckets: list[int], width: int) -> Series:
        def combined(spec: InstrumentSpec, levels: list[list[Decimal]]) -> dict[str, str | None]:
            parts = {**self._best(spec, levels), **self._depth(spec, levels)}
            parts.update(self._slip(spec, levels))
            return {_camel(key): value for key, value in parts.items()}

        return self._per_side(market, buckets, combined)


def _camel(key: str) -> str:
    """``slippage_1k`` -> ``slippage1k``, ``best_price`` -> ``bestPrice`` (the full form)."""
    head, _, tail = key.partition("_")
    return head + (tail[:1].upper() + tail[1:] if tail.isalpha() else tail)
