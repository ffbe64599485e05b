"""Market-data requests: tickers, books, trades, candles and the charts API's analytics."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import attrs

from ..errors import InvalidArgumentError
from .checks import check_aware, check_choice, check_count, check_symbol, check_window

__all__ = [
    "ANALYTICS_TYPES",
    "INTERVALS",
    "AnalyticsQuery",
    "AnalyticsType",
    "CandlesQuery",
    "ChartResolutionsQuery",
    "ChartSymbolsQuery",
    "LiquidityPoolQuery",
    "Resolution",
    "SymbolQuery",
    "TickType",
    "TradesQuery",
]

Resolution = Literal["1m", "5m", "15m", "30m", "1h", "4h", "12h", "1d", "1w"]
TickType = Literal["trade", "mark", "spot"]
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
RESOLUTIONS: frozenset[str] = frozenset(Resolution.__args__)  # type: ignore[attr-defined]
TICK_TYPES: frozenset[str] = frozenset(TickType.__args__)  # type: ignore[attr-defined]
ANALYTICS_TYPES: frozenset[str] = frozenset(AnalyticsType.__args__)  # type: ignore[attr-defined]
#: The analytics resolutions Kraken accepts, in seconds (1 minute to 1 week).
INTERVALS = (60, 300, 900, 1800, 3600, 14400, 43200, 86400, 604800)


@attrs.frozen(init=False)
class SymbolQuery:
    """One contract's ticker, book, status or funding rates."""

    symbol: str

    def __init__(self, symbol: str) -> None:
        self.__attrs_init__(symbol=check_symbol(symbol))


@attrs.frozen(init=False)
class TradesQuery:
    """A contract's latest public trades, or those before ``before``."""

    symbol: str
    before: dt.datetime | None

    def __init__(self, symbol: str, before: dt.datetime | None = None) -> None:
        self.__attrs_init__(symbol=check_symbol(symbol), before=check_aware("before", before))


def _tick_type(value: str) -> TickType:
    if value not in TICK_TYPES:
        raise InvalidArgumentError(f"tick_type must be trade, mark or spot; got {value!r}")
    return value  # type: ignore[return-value]


@attrs.frozen(init=False)
class CandlesQuery:
    """OHLC candles of one price series between ``since`` and ``until``."""

    tick_type: TickType
    symbol: str
    resolution: Resolution
    since: dt.datetime | None
    until: dt.datetime | None
    count: int | None

    def __init__(
        self,
        symbol: str,
        resolution: Resolution,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        *,
        tick_type: TickType = "trade",
        count: int | None = None,
    ) -> None:
        if resolution not in RESOLUTIONS:
            raise InvalidArgumentError(
                f"resolution must be one of {', '.join(sorted(RESOLUTIONS))}; got {resolution!r}"
            )
        check_window(since, until, end_name="until")
        self.__attrs_init__(
            tick_type=_tick_type(tick_type),
            symbol=check_symbol(symbol),
            resolution=resolution,
            since=since,
            until=until,
            count=check_count("count", count, minimum=0),
        )


@attrs.frozen(init=False)
class ChartSymbolsQuery:
    """The contracts with candles of one price series."""

    tick_type: TickType

    def __init__(self, tick_type: str = "trade") -> None:
        self.__attrs_init__(tick_type=_tick_type(check_choice("tick_type", tick_type, TICK_TYPES)))


@attrs.frozen(init=False)
class ChartResolutionsQuery:
    """The candle resolutions of one contract's price series."""

    tick_type: TickType
    symbol: str

    def __init__(self, symbol: str, tick_type: str = "trade") -> None:
        self.__attrs_init__(
            tick_type=_tick_type(check_choice("tick_type", tick_type, TICK_TYPES)),
            symbol=check_symbol(symbol),
        )


def _interval(interval: int | dt.timedelta) -> int:
    seconds = int(interval.total_seconds()) if isinstance(interval, dt.timedelta) else interval
    if isinstance(seconds, bool) or seconds not in INTERVALS:
        raise InvalidArgumentError(
            f"interval must be one of {', '.join(map(str, INTERVALS))} seconds; got {interval!r}"
        )
    return seconds


def _since(since: dt.datetime, until: dt.datetime | None) -> dt.datetime:
    if since is None:
        raise InvalidArgumentError("since is required")
    check_window(since, until, end_name="until")
    return since


@attrs.frozen(init=False)
class LiquidityPoolQuery:
    """The liquidity pool's statistics over a window, one point per ``interval`` seconds."""

    since: dt.datetime
    interval: int
    until: dt.datetime | None

    def __init__(
        self, *, since: dt.datetime, interval: int | dt.timedelta, until: dt.datetime | None = None
    ) -> None:
        seconds = _interval(interval)
        self.__attrs_init__(since=_since(since, until), interval=seconds, until=until)


@attrs.frozen(init=False)
class AnalyticsQuery:
    """A contract's analytics series (open interest, liquidity, ...) over a window."""

    symbol: str
    analytics_type: AnalyticsType
    since: dt.datetime
    interval: int
    until: dt.datetime | None

    def __init__(
        self,
        symbol: str,
        analytics_type: AnalyticsType,
        *,
        since: dt.datetime,
        interval: int | dt.timedelta,
        until: dt.datetime | None = None,
    ) -> None:
        check_choice("analytics_type", analytics_type, ANALYTICS_TYPES)
        seconds = _interval(interval)
        self.__attrs_init__(
            symbol=check_symbol(symbol),
            analytics_type=analytics_type,
            since=_since(since, until),
            interval=seconds,
            until=until,
        )
