"""Public market data: tickers, order books, the trade tape and the instrument list.

Payloads are cached per instrument for the current second and the market's version (it
changes with every user order, cancel and trade), so a fan-out of book or ticker requests
costs one build per instrument and second. Cached payloads are shared: treat them as
read-only.

Twenty-four-hour figures mix the makers' activity (a daily volume from the seed, the mark
sampled every four hours) with the users' trades, which are counted exactly. What those
figures are made of (the mark on each hour, the 24-hour range, the funding rate) is kept by
(contract, hour) in caches of ``Retention.hourly_cache`` entries each; the latest ticker and
book per contract are kept until the second or the market changes.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from ..errors import ExchangeError, Reason
from ._noise import key_of, unit
from ._text import ZERO, iso_ms, iso_us, quantize_down, tidy
from .book import Market
from .instruments import InstrumentSpec, instrument_payload
from .params import Params
from .quotes import trade_id
from .retention import ClearingCache
from .venue import Venue

__all__ = ["MarketData", "unknown_symbol"]

_HOUR = 3600
_DAY = 86_400
_WEEK = 7 * _DAY
_HISTORY = 100
_SAMPLE_HOURS = 4
_CHANGE = Decimal("0.0001")
ONE_USD = Decimal(1)
_CONTRACT_TYPES = frozenset({"flexible_futures", "futures_inverse", "futures_vanilla"})


def unknown_symbol() -> ExchangeError:
    return ExchangeError(11, reason=Reason.VALIDATION, message="Argument invalid: symbol")


class MarketData:
    def __init__(self, venue: Venue, seed: int) -> None:
        self._venue = venue
        self._seed = seed
        kept = venue.retention.hourly_cache
        self._hourly: ClearingCache[tuple[str, int], Decimal] = ClearingCache(kept)
        self._ranges: ClearingCache[tuple[str, int], tuple[Decimal, Decimal, Decimal]]
        self._ranges = ClearingCache(kept)
        self._funding_cache: ClearingCache[tuple[str, int], Decimal] = ClearingCache(kept)
        self._tickers: dict[str, tuple[int, int, dict[str, Any]]] = {}
        self._books: dict[str, tuple[int, int, dict[str, Any]]] = {}
        self._instruments: dict[tuple[frozenset[str] | None, int], list[dict[str, Any]]] = {}
        self._volume_keys = {s: key_of(seed, "volume", s) for s in venue.specs}

    # helpers ----------------------------------------------------------------------------

    def _market(self, params: Params, name: str = "symbol") -> Market:
        symbol = params.required(name)
        spec = self._venue.spec_for(symbol)
        if spec is None:
            raise unknown_symbol()
        return self._venue.market(spec.symbol)

    @staticmethod
    def _contract_types(params: Params) -> frozenset[str] | None:
        wanted = frozenset(params.texts("contractType"))
        if not wanted:
            return None
        if not wanted <= _CONTRACT_TYPES:
            raise ExchangeError("invalidArgument")
        return wanted

    def _hour_mark(self, spec: InstrumentSpec, hour: int) -> Decimal:
        key = (spec.symbol, hour)
        value = self._hourly.get(key)
        if value is None:
            value = quantize_down(self._venue.prices.mark(spec, hour * _HOUR), spec.tick)
            self._hourly.put(key, value)
        return value

    def _day_range(self, spec: InstrumentSpec, hour: int) -> tuple[Decimal, Decimal, Decimal]:
        """(open, high, low) of the mark 24 hours ago, every fourth hour since, and this hour."""
        key = (spec.symbol, hour)
        cached = self._ranges.get(key)
        if cached is None:
            open24 = self._hour_mark(spec, hour - 24)
            first = hour - 24 + _SAMPLE_HOURS - (hour - 24) % _SAMPLE_HOURS
            samples = [self._hour_mark(spec, h) for h in range(first, hour + 1, _SAMPLE_HOURS)]
            samples.append(self._hour_mark(spec, hour))
            cached = (open24, max(open24, *samples), min(open24, *samples))
            self._ranges.put(key, cached)
        return cached

    def _funding(self, spec: InstrumentSpec, hour: int) -> Decimal:
        key = (spec.symbol, hour)
        rate = self._funding_cache.get(key)
        if rate is None:
            rate = self._venue.prices.relative_funding(spec, hour * _HOUR)
            self._funding_cache.put(key, rate)
        return rate

    def _top(
        self, market: Market, second: int, mark: float
    ) -> tuple[list[Decimal] | None, list[Decimal] | None]:
        """Best bid and ask as ``[price, size]`` (users' and makers' size at that price)."""
        ladder = market.ladder
        fresh = ladder is None or ladder.second != second
        if fresh and market.quoter.quick_top and not market.bids and not market.asks:
            bid, bid_size, ask, ask_size = market.quoter.top(second, mark)
            return [bid, bid_size], [ask, ask_size]
        book = self.book(market, second)
        bids, asks = book["bids"], book["asks"]
        return (bids[0] if bids else None), (asks[0] if asks else None)

    # order book ---------------------------------------------------------------------------

    def book(self, market: Market, second: int) -> dict[str, Any]:
        """``{bids, asks}``: users' and makers' size per price, best first."""
        symbol = market.spec.symbol
        cached = self._books.get(symbol)
        if cached is not None and cached[0] == second and cached[1] == market.version:
            return cached[2]
        _, _, mark = self._venue.prices.quote(market.spec, second)
        ladder = market.ladder_at(second, mark)
        book = {
            "bids": _merge(market.bids.levels, market.bids.prices, ladder.bids, True),
            "asks": _merge(market.asks.levels, market.asks.prices, ladder.asks, False),
        }
        self._books[symbol] = (second, market.version, book)
        return book

    def orderbook(self, params: Params) -> dict[str, Any]:
        market = self._market(params)
        return {"orderBook": self.book(market, self._venue.second)}

    # tickers ------------------------------------------------------------------------------

    def _ticker(self, market: Market, second: int) -> dict[str, Any]:
        spec = market.spec
        cached = self._tickers.get(spec.symbol)
        if cached is not None and cached[0] == second and cached[1] == market.version:
            return cached[2]
        venue = self._venue
        index, mark, mark_f = venue.prices.quote(spec, second)
        bid, ask = self._top(market, second, mark_f)
        last = venue.last_price(market, second)
        hour = second // _HOUR
        open24, high, low = self._day_range(spec, hour)
        now_price = quantize_down(mark, spec.tick)
        high, low = max(high, now_price), min(low, now_price)
        user_volume = user_quote = ZERO
        since = venue.now - _DAY
        for trade in reversed(market.tape):
            if trade.time <= since:
                break
            user_volume += trade.size
            user_quote += trade.size * (ONE_USD if spec.inverse else trade.price)
            high, low = max(high, trade.price), min(low, trade.price)
        factor = Decimal(repr(round(0.8 + 0.4 * unit(self._volume_keys[spec.symbol], hour), 4)))
        daily = Decimal(repr(round(spec.daily_volume_usd, 2)))
        if spec.inverse:
            volume = (daily * factor).quantize(ONE_USD) + user_volume
            volume_quote = volume
        else:
            volume = quantize_down(daily * factor / mark, spec.size_step) + user_volume
            volume_quote = (volume - user_volume) * now_price + user_quote
        figures = venue.source_figures(spec.symbol)
        if figures:  # a mirror shows its source's day where the source says it
            volume = figures.get("volume", volume)
            volume_quote = volume if spec.inverse else volume * now_price
            high, low = figures.get("high", high), figures.get("low", low)
            opened = figures.get("last", ZERO) - figures.get("change", ZERO)
            if "change" in figures and opened > 0:
                open24 = opened
        interest = quantize_down(volume * Decimal("0.3"), spec.size_step) + sum(
            (
                p.size
                for a in venue.accounts.values()
                for s, p in a.positions.items()
                if s == spec.symbol and p.size > 0
            ),
            ZERO,
        )
        ticker: dict[str, Any] = {"symbol": spec.symbol}
        last_price = now_price
        if last is not None:
            last_price, last_size, last_time = last
            ticker.update({"last": last_price, "lastTime": iso_us(last_time)})
            ticker["lastSize"] = last_size
            high, low = max(high, last_price), min(low, last_price)
        ticker.update(
            {
                "tag": spec.tag,
                "pair": f"{spec.base}:USD",
                "markPrice": mark,
            }
        )
        if bid is not None:
            ticker["bid"], ticker["bidSize"] = bid[0], bid[1]
        if ask is not None:
            ticker["ask"], ticker["askSize"] = ask[0], ask[1]
        ticker.update(
            {
                "vol24h": volume,
                "volumeQuote": volume_quote,
                "openInterest": interest,
                "open24h": open24,
                "high24h": high,
                "low24h": low,
            }
        )
        if spec.funding_coefficient is not None:
            current = self._funding(spec, hour)
            predicted = self._funding(spec, hour + 1)
            ticker["fundingRate"] = tidy(current * mark)
            ticker["fundingRatePrediction"] = tidy(predicted * mark)
        ticker.update(
            {
                "suspended": venue.suspended(spec.symbol),
                "indexPrice": index,
                "postOnly": False,
                "change24h": ((last_price - open24) / open24 * 100).quantize(_CHANGE),
            }
        )
        self._tickers[spec.symbol] = (second, market.version, ticker)
        return ticker

    def _index_tickers(self, second: int) -> list[dict[str, Any]]:
        venue = self._venue
        result: list[dict[str, Any]] = []
        for symbol in ("PI_XBTUSD", "PI_ETHUSD", "PI_LTCUSD", "PI_XRPUSD"):
            spec = venue.specs.get(symbol)
            if spec is None:  # a mirror lists only the contracts it mirrors
                continue
            base = spec.base.lower()
            minute = second - second % 60
            result.append(
                {
                    "symbol": f"in_{base}usd",
                    "last": venue.prices.index(spec, second),
                    "lastTime": iso_ms(second),
                }
            )
            result.append(
                {
                    "symbol": f"rr_{base}usd",
                    "last": venue.prices.index(spec, minute),
                    "lastTime": iso_ms(minute),
                }
            )
        return result

    def tickers(self, params: Params) -> dict[str, Any]:
        wanted = self._contract_types(params)
        venue = self._venue
        second = venue.second
        result = [
            self._ticker(venue.market(symbol), second)
            for symbol, spec in venue.specs.items()
            if wanted is None or spec.kind in wanted
        ]
        if wanted is None:
            result.extend(self._index_tickers(second))
        return {"tickers": result}

    def ticker(self, params: Params) -> dict[str, Any]:
        symbol = params.required("symbol")
        spec = self._venue.spec_for(symbol)
        if spec is None:  # the spec's not-found refusal, code ``notFound``
            raise ExchangeError("notFound", reason=Reason.NOT_FOUND)
        return {"ticker": self._ticker(self._venue.market(spec.symbol), self._venue.second)}

    # trades -------------------------------------------------------------------------------

    def history(self, params: Params) -> dict[str, Any]:
        """The latest 100 trades before ``lastTime`` (or now), newest first, a week back."""
        market = self._market(params)
        venue = self._venue
        cutoff = params.time("lastTime")
        # trades before ``lastTime`` in whole milliseconds (the precision times are shown in)
        end = venue.now if cutoff is None else min(cutoff, venue.now)
        end_ms = round(end * 1000)
        inclusive = cutoff is None or cutoff > venue.now
        spec = market.spec
        floor = math.floor(venue.now) - _WEEK

        def wanted(time: float) -> bool:
            ms = round(time * 1000)
            return ms < end_ms or (inclusive and ms == end_ms)

        rows: list[tuple[float, int, dict[str, Any]]] = []
        for trade in reversed(market.tape):
            if len(rows) >= _HISTORY:
                break
            if wanted(trade.time):
                row = _trade_row(
                    trade.time, trade.trade_id, trade.price, trade.size, trade.side, trade.uid
                )
                rows.append((trade.time, trade.trade_id, row))
        background = market.background_before(
            math.floor(end), _HISTORY + 1, floor, lambda s: venue.prices.quote(spec, s)[2]
        )
        for bg in background:
            if wanted(bg.time):
                ident = trade_id(bg.second, 0)
                row = _trade_row(bg.time, ident, bg.price, bg.size, bg.side, bg.uid)
                rows.append((bg.time, ident, row))
        rows.sort(key=lambda row: (row[0], row[1]), reverse=True)
        return {"history": [row[2] for row in rows[:_HISTORY]]}

    # instruments --------------------------------------------------------------------------

    def instruments(self, params: Params) -> dict[str, Any]:
        """The listing (cached; it changes only when a dated contract stops trading)."""
        wanted = self._contract_types(params)
        venue = self._venue
        now = venue.now
        expired = sum(1 for s in venue.specs.values() if s.expiry is not None and now >= s.expiry)
        key = (wanted, expired)
        listing = self._instruments.get(key)
        if listing is None:
            listing = [
                instrument_payload(spec, now)
                for spec in venue.specs.values()
                if wanted is None or spec.kind in wanted
            ]
            self._instruments[key] = listing
        return {"instruments": listing}


def _trade_row(
    time: float, ident: int, price: Decimal, size: Decimal, side: str, uid: str
) -> dict[str, Any]:
    return {
        "time": iso_ms(time),
        "trade_id": ident,
        "price": price,
        "size": format(size, "f"),
        "side": side,
        "type": "fill",
        "uid": uid,
    }


def _merge(
    levels: dict[Decimal, list[Any]],
    prices: list[Decimal],
    ladder: list[list[Decimal]],
    buy: bool,
) -> list[list[Decimal]]:
    """Users' levels and the makers' ladder as one list of ``[price, size]``, best first."""
    out: list[list[Decimal]] = []
    ui = li = 0
    while ui < len(prices) or li < len(ladder):
        if li < len(ladder) and ladder[li][1] <= 0:
            li += 1
            continue
        up = prices[ui] if ui < len(prices) else None
        lp = ladder[li][0] if li < len(ladder) else None
        if lp is None or (up is not None and (up > lp if buy else up < lp)):
            assert up is not None
            out.append([up, sum((o.remaining for o in levels[up]), ZERO)])
            ui += 1
        elif up is not None and up == lp:
            out.append([up, sum((o.remaining for o in levels[up]), ZERO) + ladder[li][1]])
            ui += 1
            li += 1
        else:
            out.append([lp, ladder[li][1]])
            li += 1
    return out
