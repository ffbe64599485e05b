"""What the public channels of Kraken's Unified WebSocket push, as frozen models with Decimals.

Field names are Kraken's (snake_case on this wire, so each multi-word field names its key).
Where the reference (kraken-uws-api.md §4) knows only the Spot v2 field list, these models
take it, and every field but the symbol may be missing: the choices are listed once, in
:mod:`kraken_futures_async.uws.protocol`. Keys Kraken adds later are ignored by the
production converter, as on REST.

The book channel yields :class:`kraken_futures_async.streams.BookView` (verified local book
states), not a model from this module.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs

from ._base import WireEnum, wire
from .enums import Side

__all__ = [
    "StreamAsset",
    "StreamCandle",
    "StreamInstruments",
    "StreamPair",
    "StreamReconnected",
    "StreamTicker",
    "StreamTrade",
    "SystemState",
    "SystemStatus",
]


class SystemState(WireEnum):
    """The engine state a ``status`` push announces."""

    ONLINE = "online"
    CANCEL_ONLY = "cancel_only"
    POST_ONLY = "post_only"
    MAINTENANCE = "maintenance"
    UNKNOWN = "unknown"


@attrs.frozen(kw_only=True)
class SystemStatus:
    """A ``status`` push: sent on every connect, then whenever the engine state changes.

    ``upcoming_maintenance`` and ``emergency`` are kept as Kraken sends them (their element
    fields are not documented yet).
    """

    system: SystemState
    api_version: str | None = attrs.field(default=None, metadata=wire("api_version"))
    connection_id: int | None = attrs.field(default=None, metadata=wire("connection_id"))
    version: str | None = None
    upcoming_maintenance: tuple[dict[str, Any], ...] | None = attrs.field(
        default=None, metadata=wire("upcoming_maintenance")
    )
    emergency: tuple[dict[str, Any], ...] | None = None


@attrs.frozen(kw_only=True)
class StreamTicker:
    """One ``ticker`` element: best bid and ask, last trade and the rolling 24 h figures."""

    symbol: str
    bid: Decimal | None = None
    bid_qty: Decimal | None = attrs.field(default=None, metadata=wire("bid_qty"))
    ask: Decimal | None = None
    ask_qty: Decimal | None = attrs.field(default=None, metadata=wire("ask_qty"))
    last: Decimal | None = None
    volume: Decimal | None = None
    vwap: Decimal | None = None
    low: Decimal | None = None
    high: Decimal | None = None
    change: Decimal | None = None
    change_pct: Decimal | None = attrs.field(default=None, metadata=wire("change_pct"))
    timestamp: dt.datetime | None = None


@attrs.frozen(kw_only=True)
class StreamTrade:
    """One public trade; ``side`` is the taker's, ``trade_id`` is sequential per symbol."""

    symbol: str
    side: Side
    price: Decimal
    qty: Decimal
    trade_id: int = attrs.field(metadata=wire("trade_id"))
    timestamp: dt.datetime
    ord_type: str | None = attrs.field(default=None, metadata=wire("ord_type"))


@attrs.frozen(kw_only=True)
class StreamCandle:
    """One ``ohlc`` element: the candle of ``interval`` minutes starting at ``interval_begin``."""

    symbol: str
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    interval: int
    interval_begin: dt.datetime = attrs.field(metadata=wire("interval_begin"))
    trades: int | None = None
    volume: Decimal | None = None
    vwap: Decimal | None = None
    timestamp: dt.datetime | None = None


@attrs.frozen(kw_only=True)
class StreamAsset:
    """An asset of the ``instrument`` channel."""

    id: str
    status: str | None = None
    precision: int | None = None
    precision_display: int | None = attrs.field(default=None, metadata=wire("precision_display"))
    borrowable: bool | None = None
    collateral_value: Decimal | None = attrs.field(default=None, metadata=wire("collateral_value"))
    margin_rate: Decimal | None = attrs.field(default=None, metadata=wire("margin_rate"))


@attrs.frozen(kw_only=True)
class StreamPair:
    """A contract of the ``instrument`` channel: its tick (``price_increment``, not always a
    power of ten) and its size step and minimum."""

    symbol: str
    base: str | None = None
    quote: str | None = None
    status: str | None = None
    qty_precision: int | None = attrs.field(default=None, metadata=wire("qty_precision"))
    qty_increment: Decimal | None = attrs.field(default=None, metadata=wire("qty_increment"))
    qty_min: Decimal | None = attrs.field(default=None, metadata=wire("qty_min"))
    price_precision: int | None = attrs.field(default=None, metadata=wire("price_precision"))
    price_increment: Decimal | None = attrs.field(default=None, metadata=wire("price_increment"))
    cost_precision: int | None = attrs.field(default=None, metadata=wire("cost_precision"))
    cost_min: Decimal | None = attrs.field(default=None, metadata=wire("cost_min"))
    marginable: bool | None = None
    has_index: bool | None = attrs.field(default=None, metadata=wire("has_index"))
    margin_initial: Decimal | None = attrs.field(default=None, metadata=wire("margin_initial"))
    position_limit_long: Decimal | None = attrs.field(
        default=None, metadata=wire("position_limit_long")
    )
    position_limit_short: Decimal | None = attrs.field(
        default=None, metadata=wire("position_limit_short")
    )


@attrs.frozen(kw_only=True)
class StreamInstruments:
    """One ``instrument`` push: the full list (``snapshot``) or the entries that changed."""

    snapshot: bool
    assets: tuple[StreamAsset, ...] = ()
    pairs: tuple[StreamPair, ...] = ()


@attrs.frozen(kw_only=True)
class StreamReconnected:
    """Marks a gap: the socket dropped and the subscription was made again at ``at``.

    Items pushed while the link was down are lost (a resubscribed ``ticker`` or ``ohlc``
    starts with a fresh snapshot); the ``trades`` iterator never skips a gap without this.
    """

    channel: str
    symbol: str | None
    at: dt.datetime
