"""The ``ohlc`` channel's candles, read from the engine's charts data (reference §4.5).

A candle of ``interval`` minutes is the engine's chart candle of the same width (the REST
charts API's ``1m`` ... ``1w``), for the ``tick_type`` asked (``trade``, ``mark`` or
``spot``). The 15-day interval (21600) has no chart resolution: it is built from the daily
candles since the start of its 15-day bucket (buckets count from the Unix epoch).

Choices where the reference marks a fact [?] (each one function here):

1. A snapshot holds the current (running) candle only, as Kraken's WebSocket v1 documents
   ("a snapshot of the last valid candle ... followed by updates to the running candle");
   :data:`.config.UwsConfig.ohlc_snapshot` asks for more finished candles before it.
2. Every candle carries every Spot v2 field. ``mark`` and ``spot`` candles have
   ``trades: 0`` and ``volume: 0`` (the charts API gives those no volume). ``vwap`` is the
   typical price (high + low + close) / 3 on the candle's price grid: the charts data carry
   no traded value (:func:`candle_data`).
3. ``trades`` of a ``trade`` candle counts the public tape's trades inside the candle; the
   tape keeps the latest 100 trades, so a long candle's count stops at what the tape still
   holds (:func:`count_trades`).
4. ``interval_begin`` is written with nanoseconds (``...:00.000000000Z``) and ``timestamp``
   with microseconds, as in the reference's example; the push also carries a top-level
   ``timestamp``.
5. Trade candles' prices are on the contract's tick; mark and spot candles keep the tenth of
   a tick the charts API gives them (their prices are quotes, not trades).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from ..errors import ExchangeError
from .wire import Contract, rfc3339

__all__ = [
    "FIFTEEN_DAYS",
    "INTERVALS",
    "TICK_TYPES",
    "Candle",
    "candle_data",
    "count_trades",
    "interval_begin_text",
    "read_candles",
]

#: UWS intervals (minutes) -> the charts API's resolution; 21600 is built from daily candles.
INTERVALS: dict[int, str | None] = {
    1: "1m",
    5: "5m",
    15: "15m",
    30: "30m",
    60: "1h",
    240: "4h",
    1440: "1d",
    10080: "1w",
    21600: None,
}
TICK_TYPES = ("trade", "mark", "spot")
#: Seconds in the 21600-minute candle.
FIFTEEN_DAYS = 21600 * 60
_DAY = 86_400

Handle = Callable[[str, dict[str, list[str]], str | None], Any]


class Candle:
    """One candle as the engine's charts give it: bucket start (epoch seconds) and figures."""

    __slots__ = ("begin", "close", "high", "low", "open", "volume")

    def __init__(
        self,
        begin: int,
        open_: Decimal,
        high: Decimal,
        low: Decimal,
        close: Decimal,
        volume: Decimal,
    ) -> None:
        self.begin = begin
        self.open = open_
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume

    def key(self) -> tuple[object, ...]:
        return (self.begin, self.open, self.high, self.low, self.close, self.volume)


def _chart(
    handle: Handle, symbol: str, tick_type: str, resolution: str, **extra: str
) -> list[Candle]:
    params = {
        "tick_type": [tick_type],
        "symbol": [symbol],
        "resolution": [resolution],
        **{name: [value] for name, value in extra.items()},
    }
    try:
        rows = handle("candles", params, None)["candles"]
    except ExchangeError:
        return []
    return [
        Candle(
            int(row["time"]) // 1000,
            Decimal(row["open"]),
            Decimal(row["high"]),
            Decimal(row["low"]),
            Decimal(row["close"]),
            Decimal(row["volume"]),
        )
        for row in rows
    ]


def read_candles(
    handle: Handle, symbol: str, interval: int, tick_type: str, count: int, now: float
) -> list[Candle]:
    """The latest ``count`` candles (the running one last), oldest first."""
    resolution = INTERVALS[interval]
    if resolution is not None:
        return _chart(handle, symbol, tick_type, resolution, count=str(count))
    # 21600: each 15-day bucket folded from its daily candles
    current = int(now) // FIFTEEN_DAYS * FIFTEEN_DAYS
    first = current - (count - 1) * FIFTEEN_DAYS
    days = _chart(handle, symbol, tick_type, "1d", **{"from": str(first), "count": "2000"})
    folded: dict[int, list[Candle]] = {}
    for day in days:
        folded.setdefault(day.begin // FIFTEEN_DAYS * FIFTEEN_DAYS, []).append(day)
    return [_fold(begin, group) for begin, group in sorted(folded.items())][-count:]


def _fold(begin: int, days: Sequence[Candle]) -> Candle:
    return Candle(
        begin,
        days[0].open,
        max(d.high for d in days),
        min(d.low for d in days),
        days[-1].close,
        sum((d.volume for d in days), Decimal(0)),
    )


def count_trades(tape: Sequence[dict[str, Any]], begin: int, width: int) -> int:
    """Trades of the tape (newest first, REST rows) inside ``[begin, begin + width)``."""
    count = 0
    for row in tape:
        moment = dt.datetime.fromisoformat(str(row["time"]).replace("Z", "+00:00")).timestamp()
        if moment < begin:
            break
        if moment < begin + width:
            count += 1
    return count


def interval_begin_text(begin: int) -> str:
    """``2026-12-01T12:00:00.000000000Z`` ([?] choice 4: nanoseconds, as the reference)."""
    return rfc3339(begin)[:-1] + "000Z"


def candle_data(
    contract: Contract,
    interval: int,
    tick_type: str,
    candle: Candle,
    trades: int,
    now: float,
) -> dict[str, Any]:
    """One ``ohlc`` element (Spot v2's fields, [?] choices 2, 4 and 5)."""
    if tick_type == "trade":
        price = contract.price
    else:
        grid = Decimal(1).scaleb(-(contract.price_precision + 1))

        def price(value: Decimal) -> Decimal:
            return value.quantize(grid)

    volume = candle.volume if tick_type == "trade" else Decimal(0)
    typical = (candle.high + candle.low + candle.close) / 3
    return {
        "symbol": contract.symbol,
        "open": price(candle.open),
        "high": price(candle.high),
        "low": price(candle.low),
        "close": price(candle.close),
        "trades": trades if tick_type == "trade" else 0,
        "volume": contract.qty(volume),
        "vwap": price(typical),
        "interval_begin": interval_begin_text(candle.begin),
        "interval": interval,
        "timestamp": rfc3339(now),
    }
