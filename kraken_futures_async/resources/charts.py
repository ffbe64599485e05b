"""The charts API beyond candles: what can be charted, and market analytics.

Candles themselves are on ``kf.market`` (``candles`` and ``iter_candles``). All public.
"""

from __future__ import annotations

import datetime as dt

from ..models import Analytics
from ..operations import NO_ARGUMENTS
from ..operations import catalog as ops
from ..operations.market import (
    ANALYTICS_TYPES,
    INTERVALS,
    AnalyticsQuery,
    AnalyticsType,
    ChartResolutionsQuery,
    ChartSymbolsQuery,
    LiquidityPoolQuery,
)
from ._base import Resource

__all__ = ["ANALYTICS_TYPES", "INTERVALS", "AnalyticsType", "ChartsResource"]


class ChartsResource(Resource):
    """``kf.charts``: what the charts API offers (tick types, symbols, resolutions),
    analytics and the liquidity pool."""

    async def tick_types(self) -> list[str]:
        """The price series that have candles: ``trade``, ``mark`` and ``spot`` (the index)."""
        return await self._session.execute(ops.TICK_TYPES, NO_ARGUMENTS)

    async def symbols(self, tick_type: str = "trade") -> list[str]:
        """The contracts with candles of ``tick_type``."""
        return await self._session.execute(ops.CHART_SYMBOLS, ChartSymbolsQuery(tick_type))

    async def resolutions(self, symbol: str, tick_type: str = "trade") -> list[str]:
        """The candle resolutions of one contract (a subset of ``1m`` ... ``1w``)."""
        request = ChartResolutionsQuery(symbol, tick_type)
        return await self._session.execute(ops.CHART_RESOLUTIONS, request)

    async def analytics(
        self,
        symbol: str,
        analytics_type: AnalyticsType,
        *,
        since: dt.datetime,
        interval: int | dt.timedelta,
        until: dt.datetime | None = None,
    ) -> Analytics:
        """A time series such as open interest or order-book liquidity; ``more`` means cut."""
        request = AnalyticsQuery(
            symbol, analytics_type, since=since, interval=interval, until=until
        )
        return await self._session.execute(ops.MARKET_ANALYTICS, request)

    async def liquidity_pool(
        self,
        *,
        since: dt.datetime,
        interval: int | dt.timedelta,
        until: dt.datetime | None = None,
    ) -> Analytics:
        """The liquidity pool's USD value over time (``data["usdValue"]``)."""
        request = LiquidityPoolQuery(since=since, interval=interval, until=until)
        return await self._session.execute(ops.LIQUIDITY_POOL, request)
