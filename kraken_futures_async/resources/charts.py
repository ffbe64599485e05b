"""The charts API beyond candles: what can be charted, and market analytics.

Candles themselves are on ``kf.market`` (``candles`` and ``iter_candles``). All public.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ..errors import InvalidArgumentError
from ..models import Analytics
from ..rest.endpoints import endpoint
from ..rest.wire import encode_params
from ._args import check_choice, epoch_seconds
from ._base import Resource
from ._order_args import check_symbol

__all__ = ["ANALYTICS_TYPES", "INTERVALS", "AnalyticsType", "ChartsResource"]

_TICK_TYPES = ("trade", "mark", "spot")

AnalyticsType = Literal[
    "open-interest",
    "aggressor-differential",
    "trade-volume",
    "trade-count",
    "liquidation-volume",
    "rolling-volatility",
    "long-short-ratio",
    "long-short-info",
    "cvd",
    "top-traders",
    "orderbook",
    "spreads",
    "liquidity",
    "slippage",
    "future-basis",
]
ANALYTICS_TYPES: frozenset[str] = frozenset(AnalyticsType.__args__)  # type: ignore[attr-defined]
#: The analytics resolutions Kraken accepts, in seconds (1 minute to 1 week).
INTERVALS = (60, 300, 900, 1800, 3600, 14400, 43200, 86400, 604800)

_TICK_TYPES_ROW = endpoint("tick_types")
_SYMBOLS = endpoint("chart_symbols")
_RESOLUTIONS = endpoint("chart_resolutions")
_ANALYTICS = endpoint("market_analytics")
_LIQUIDITY_POOL = endpoint("liquidity_pool")


def _analytics_params(
    since: dt.datetime, interval: int | dt.timedelta, until: dt.datetime | None
) -> list[tuple[str, str]]:
    seconds = int(interval.total_seconds()) if isinstance(interval, dt.timedelta) else interval
    if isinstance(seconds, bool) or seconds not in INTERVALS:
        raise InvalidArgumentError(
            f"interval must be one of {', '.join(map(str, INTERVALS))} seconds; got {interval!r}"
        )
    start, end = epoch_seconds("since", since), epoch_seconds("until", until)
    if start is None:
        raise InvalidArgumentError("since is required")
    if end is not None and start > end:
        raise InvalidArgumentError("since must not be after until")
    return encode_params({"since": start, "interval": seconds, "to": end})


class ChartsResource(Resource):
    async def tick_types(self) -> list[str]:
        """The price series that have candles: ``trade``, ``mark`` and ``spot`` (the index)."""
        result: list[str] = await self._backend.call(_TICK_TYPES_ROW)
        return result

    async def symbols(self, tick_type: str = "trade") -> list[str]:
        """The contracts with candles of ``tick_type``."""
        result: list[str] = await self._backend.call(
            _SYMBOLS, path_params={"tick_type": check_choice("tick_type", tick_type, _TICK_TYPES)}
        )
        return result

    async def resolutions(self, symbol: str, tick_type: str = "trade") -> list[str]:
        """The candle resolutions of one contract (a subset of ``1m`` ... ``1w``)."""
        result: list[str] = await self._backend.call(
            _RESOLUTIONS,
            path_params={
                "tick_type": check_choice("tick_type", tick_type, _TICK_TYPES),
                "symbol": check_symbol(symbol),
            },
        )
        return result

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
        result: Analytics = await self._backend.call(
            _ANALYTICS,
            _analytics_params(since, interval, until),
            path_params={
                "symbol": check_symbol(symbol),
                "analytics_type": check_choice("analytics_type", analytics_type, ANALYTICS_TYPES),
            },
        )
        return result

    async def liquidity_pool(
        self,
        *,
        since: dt.datetime,
        interval: int | dt.timedelta,
        until: dt.datetime | None = None,
    ) -> Analytics:
        """The liquidity pool's USD value over time (``data["usdValue"]``)."""
        result: Analytics = await self._backend.call(
            _LIQUIDITY_POOL, _analytics_params(since, interval, until)
        )
        return result
