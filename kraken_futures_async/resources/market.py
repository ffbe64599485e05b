"""Public market data. No credentials needed; only the public request bucket applies."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Iterable

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
from ..operations import NO_ARGUMENTS
from ..operations import catalog as ops
from ..operations.checks import check_aware, check_symbol
from ..operations.market import CandlesQuery, Resolution, SymbolQuery, TickType, TradesQuery
from ..paging import check_max_pages, follow
from ._base import Resource

__all__ = ["MarketResource", "Resolution", "TickType"]


class MarketResource(Resource):
    """``kf.market``: public market data; needs no credentials."""

    async def tickers(self) -> list[Ticker]:
        """Every market and index ticker, in no particular order."""
        return await self._session.execute(ops.TICKERS, NO_ARGUMENTS)

    async def ticker(self, symbol: str) -> Ticker:
        """One contract's or index's ticker."""
        return await self._session.execute(ops.TICKER, SymbolQuery(symbol))

    async def orderbook(self, symbol: str) -> OrderBook:
        """The full, non-aggregated book of one contract."""
        return await self._session.execute(ops.ORDERBOOK, SymbolQuery(symbol))

    async def orderbooks(self, symbols: Iterable[str]) -> dict[str, OrderBook]:
        """Many books at once, fanned out over the pool; the rate limiter paces the fan-out."""
        wanted = list(dict.fromkeys(check_symbol(s) for s in symbols))
        books = await asyncio.gather(*(self.orderbook(s) for s in wanted))
        return dict(zip(wanted, books, strict=True))

    async def trades(self, symbol: str, *, before: dt.datetime | None = None) -> list[PublicTrade]:
        """The latest 100 public trades (newest first), or the 100 before ``before``."""
        return await self._session.execute(ops.TRADES, TradesQuery(symbol, before))

    async def instruments(self) -> list[Instrument]:
        """Contract specifications: tick size, size precision, margin tiers."""
        return await self._session.execute(ops.INSTRUMENTS, NO_ARGUMENTS)

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
        request = CandlesQuery(symbol, resolution, since, until, tick_type=tick_type, count=count)
        return await self._session.execute(ops.CANDLES, request)

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
        check_aware("since", since)
        check_aware("until", until)
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
        return await self._session.execute(ops.INSTRUMENTS_STATUS, NO_ARGUMENTS)

    async def instrument_status(self, symbol: str) -> InstrumentStatus:
        """One contract's market status: whether its price is dislocated or volatile."""
        return await self._session.execute(ops.INSTRUMENT_STATUS, SymbolQuery(symbol))

    async def funding_rates(self, symbol: str) -> list[FundingRate]:
        """A perpetual's funding rates, oldest first (about a year of hourly periods)."""
        return await self._session.execute(ops.HISTORICAL_FUNDING_RATES, SymbolQuery(symbol))

    async def fee_schedules(self) -> list[FeeSchedule]:
        """Fee tiers by schedule. Deprecated by Kraken (2026-06-22); calling it warns."""
        return await self._session.execute(ops.FEE_SCHEDULES, NO_ARGUMENTS)
