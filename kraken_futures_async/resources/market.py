"""Public market data. No credentials needed; only the public request bucket applies."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Iterable
from typing import Literal

from ..errors import InvalidArgumentError
from ..models import (
    Candle,
    CandlePage,
    FeeSchedule,
    FundingRate,
    Instrument,
    InstrumentStatus,
    OrderBook,
    PublicTrade,
    Ticker,
)
from ..rest.endpoints import endpoint
from ..rest.pagination import check_max_pages, follow
from ..rest.wire import encode_params
from ._args import epoch_seconds
from ._base import Resource
from ._order_args import check_symbol

__all__ = ["MarketResource", "Resolution", "TickType"]

Resolution = Literal["1m", "5m", "15m", "30m", "1h", "4h", "12h", "1d", "1w"]
TickType = Literal["trade", "mark", "spot"]
_RESOLUTIONS = frozenset(Resolution.__args__)  # type: ignore[attr-defined]
_TICK_TYPES = frozenset(TickType.__args__)  # type: ignore[attr-defined]

_TICKERS = endpoint("tickers")
_TICKER = endpoint("ticker")
_ORDERBOOK = endpoint("orderbook")
_TRADES = endpoint("trades")
_INSTRUMENTS = endpoint("instruments")
_CANDLES = endpoint("candles")
_INSTRUMENTS_STATUS = endpoint("instruments_status")
_INSTRUMENT_STATUS = endpoint("instrument_status")
_FUNDING_RATES = endpoint("historical_funding_rates")
_FEE_SCHEDULES = endpoint("fee_schedules")


class MarketResource(Resource):
    async def tickers(self) -> list[Ticker]:
        """Every market and index ticker, in no particular order."""
        result: list[Ticker] = await self._backend.call(_TICKERS)
        return result

    async def ticker(self, symbol: str) -> Ticker:
        result: Ticker = await self._backend.call(
            _TICKER, path_params={"symbol": check_symbol(symbol)}
        )
        return result

    async def orderbook(self, symbol: str) -> OrderBook:
        """The full, non-aggregated book of one contract."""
        result: OrderBook = await self._backend.call(
            _ORDERBOOK, encode_params({"symbol": check_symbol(symbol)})
        )
        return result

    async def orderbooks(self, symbols: Iterable[str]) -> dict[str, OrderBook]:
        """Many books at once, fanned out over the pool; the rate limiter paces the fan-out."""
        wanted = list(dict.fromkeys(check_symbol(s) for s in symbols))
        books = await asyncio.gather(*(self.orderbook(s) for s in wanted))
        return dict(zip(wanted, books, strict=True))

    async def trades(self, symbol: str, *, before: dt.datetime | None = None) -> list[PublicTrade]:
        """The latest 100 public trades (newest first), or the 100 before ``before``."""
        params = encode_params({"symbol": check_symbol(symbol), "lastTime": before})
        result: list[PublicTrade] = await self._backend.call(_TRADES, params)
        return result

    async def instruments(self) -> list[Instrument]:
        """Contract specifications: tick size, size precision, margin tiers."""
        result: list[Instrument] = await self._backend.call(_INSTRUMENTS)
        return result

    async def candles(
        self,
        symbol: str,
        resolution: Resolution,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        *,
        tick_type: TickType = "trade",
        count: int | None = None,
    ) -> CandlePage:
        """OHLC candles from the charts API; ``more_candles`` says the range was cut short."""
        if resolution not in _RESOLUTIONS:
            raise InvalidArgumentError(
                f"resolution must be one of {', '.join(sorted(_RESOLUTIONS))}; got {resolution!r}"
            )
        if tick_type not in _TICK_TYPES:
            raise InvalidArgumentError(f"tick_type must be trade, mark or spot; got {tick_type!r}")
        if count is not None and (isinstance(count, bool) or count < 0):
            raise InvalidArgumentError(f"count must be zero or more, got {count!r}")
        start, end = epoch_seconds("since", since), epoch_seconds("until", until)
        if start is not None and end is not None and start > end:
            raise InvalidArgumentError("since must not be after until")
        params = encode_params({"from": start, "to": end, "count": count})
        result: CandlePage = await self._backend.call(
            _CANDLES,
            params,
            path_params={
                "tick_type": tick_type,
                "symbol": check_symbol(symbol),
                "resolution": resolution,
            },
        )
        return result

    def iter_candles(
        self,
        symbol: str,
        resolution: Resolution,
        since: dt.datetime,
        until: dt.datetime | None = None,
        *,
        tick_type: TickType = "trade",
        max_pages: int | None = None,
    ) -> AsyncIterator[Candle]:
        """Every candle from ``since`` on, oldest first, page after page.

        Kraken cuts long ranges (``more_candles``); the next page starts at the last candle
        received, whose repeat is skipped.
        """
        if since is None:
            raise InvalidArgumentError("since is required to page through candles")
        epoch_seconds("since", since)
        epoch_seconds("until", until)
        check_max_pages(max_pages)

        async def fetch(start: int | None) -> CandlePage:
            begin = since if start is None else dt.datetime.fromtimestamp(start, dt.UTC)
            return await self.candles(symbol, resolution, begin, until, tick_type=tick_type)

        def next_start(page: CandlePage) -> int | None:
            if not page.more_candles or not page.candles:
                return None
            return int(page.candles[-1].time.timestamp())

        async def candles() -> AsyncIterator[Candle]:
            last: dt.datetime | None = None
            async for page in follow(fetch, next_start, max_pages=max_pages):
                for candle in page.candles:
                    if last is None or candle.time > last:
                        last = candle.time
                        yield candle

        return candles()

    async def instruments_status(self) -> list[InstrumentStatus]:
        """Dislocation and extreme-volatility flags of every contract."""
        result: list[InstrumentStatus] = await self._backend.call(_INSTRUMENTS_STATUS)
        return result

    async def instrument_status(self, symbol: str) -> InstrumentStatus:
        result: InstrumentStatus = await self._backend.call(
            _INSTRUMENT_STATUS, path_params={"symbol": check_symbol(symbol)}
        )
        return result

    async def funding_rates(self, symbol: str) -> list[FundingRate]:
        """A perpetual's funding rates, oldest first (about a year of hourly periods)."""
        result: list[FundingRate] = await self._backend.call(
            _FUNDING_RATES, encode_params({"symbol": check_symbol(symbol)})
        )
        return result

    async def fee_schedules(self) -> list[FeeSchedule]:
        """Fee tiers by schedule. Deprecated by Kraken (2026-06-22); calling it warns."""
        result: list[FeeSchedule] = await self._backend.call(_FEE_SCHEDULES)
        return result
