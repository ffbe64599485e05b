"""What the channels of Kraken's Unified WebSocket push, as frozen models with Decimals.

Field names are Kraken's (snake_case on this wire, so each multi-word field names its key).
Where the reference (kraken-uws-api.md §4) knows only the Spot v2 field list, these models
take it, and every field but the symbol may be missing: the choices are listed once, in
:mod:`kraken_futures_async.uws.protocol`. Keys Kraken adds later are ignored by the
production converter, as on REST.

The private channels (``executions``, ``positions``, ``balances``; §5 of the reference) give
one item per element, each marked ``snapshot`` when it belongs to the channel's snapshot.

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
    "BalanceUpdate",
    "BalanceWallet",
    "ExecType",
    "ExecutionFee",
    "ExecutionTriggers",
    "ExecutionUpdate",
    "PositionUpdate",
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


class ExecType(WireEnum):
    """What happened to an order (``exec_type`` of the ``executions`` channel)."""

    NEW = "new"
    TRADE = "trade"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"
    AMENDED = "amended"
    RESTATED = "restated"
    STATUS = "status"
    PENDING_NEW = "pending_new"
    ICEBERG_REFILL = "iceberg_refill"
    UNKNOWN = "unknown"


@attrs.frozen(kw_only=True)
class ExecutionFee:
    """A fee charged on a fill, in ``asset``."""

    asset: str
    qty: Decimal


@attrs.frozen(kw_only=True)
class ExecutionTriggers:
    """A trigger order's terms: ``price`` against ``reference`` (``last``, ``index``...),
    ``price_type`` ``static`` or ``pct``/``quote`` offsets; the rest as Kraken fills them in."""

    price: Decimal | None = None
    reference: str | None = None
    price_type: str | None = attrs.field(default=None, metadata=wire("price_type"))
    actual_price: Decimal | None = attrs.field(default=None, metadata=wire("actual_price"))
    peak_price: Decimal | None = attrs.field(default=None, metadata=wire("peak_price"))
    last_price: Decimal | None = attrs.field(default=None, metadata=wire("last_price"))
    status: str | None = None
    timestamp: dt.datetime | None = None


@attrs.frozen(kw_only=True)
class ExecutionUpdate:
    """One element of the ``executions`` channel: an order event or a fill (``TRADE``).

    Which fields come depends on ``exec_type``: an order event carries the terms
    (``order_type``, ``order_qty``, ``limit_price``...), a fill ``last_qty``/``last_price``,
    ``cost``, ``fees`` and ``liquidity_ind`` (``t`` taker, ``m`` maker). ``snapshot`` marks
    the open orders (and recent fills) the subscription starts with.
    """

    exec_type: ExecType = attrs.field(metadata=wire("exec_type"))
    order_id: str = attrs.field(metadata=wire("order_id"))
    snapshot: bool = False
    cl_ord_id: str | None = attrs.field(default=None, metadata=wire("cl_ord_id"))
    exec_id: str | None = attrs.field(default=None, metadata=wire("exec_id"))
    trade_id: int | None = attrs.field(default=None, metadata=wire("trade_id"))
    symbol: str | None = None
    side: Side | None = None
    order_type: str | None = attrs.field(default=None, metadata=wire("order_type"))
    order_status: str | None = attrs.field(default=None, metadata=wire("order_status"))
    order_qty: Decimal | None = attrs.field(default=None, metadata=wire("order_qty"))
    limit_price: Decimal | None = attrs.field(default=None, metadata=wire("limit_price"))
    limit_price_type: str | None = attrs.field(default=None, metadata=wire("limit_price_type"))
    time_in_force: str | None = attrs.field(default=None, metadata=wire("time_in_force"))
    post_only: bool | None = attrs.field(default=None, metadata=wire("post_only"))
    reduce_only: bool | None = attrs.field(default=None, metadata=wire("reduce_only"))
    triggers: ExecutionTriggers | None = None
    amended: bool | None = None
    cancel_reason: str | None = attrs.field(default=None, metadata=wire("cancel_reason"))
    reason: str | None = None
    last_qty: Decimal | None = attrs.field(default=None, metadata=wire("last_qty"))
    last_price: Decimal | None = attrs.field(default=None, metadata=wire("last_price"))
    cum_qty: Decimal | None = attrs.field(default=None, metadata=wire("cum_qty"))
    cum_cost: Decimal | None = attrs.field(default=None, metadata=wire("cum_cost"))
    avg_price: Decimal | None = attrs.field(default=None, metadata=wire("avg_price"))
    cost: Decimal | None = None
    fees: tuple[ExecutionFee, ...] = ()
    liquidity_ind: str | None = attrs.field(default=None, metadata=wire("liquidity_ind"))
    timestamp: dt.datetime | None = None


@attrs.frozen(kw_only=True)
class PositionUpdate:
    """One futures position of the ``positions`` channel.

    ``size`` is signed (negative: short); an update with ``size`` 0 says the position
    closed. ``snapshot`` marks the positions the subscription starts with.
    """

    symbol: str
    size: Decimal
    snapshot: bool = False
    entry_price: Decimal | None = attrs.field(default=None, metadata=wire("entry_price"))
    timestamp: dt.datetime | None = None


@attrs.frozen(kw_only=True)
class BalanceWallet:
    """One wallet's share of an asset in a ``balances`` snapshot."""

    balance: Decimal
    type: str | None = None
    id: str | None = None


@attrs.frozen(kw_only=True)
class BalanceUpdate:
    """One element of the ``balances`` channel.

    A snapshot element (``snapshot`` True) gives an asset's total ``balance`` and its
    ``wallets``; an update is a ledger entry: the ``amount`` that moved in one wallet
    (``wallet_type``, ``wallet_id``), the ``fee`` and the wallet's ``balance`` after it.
    """

    asset: str
    balance: Decimal | None = None
    snapshot: bool = False
    asset_class: str | None = attrs.field(default=None, metadata=wire("asset_class"))
    wallets: tuple[BalanceWallet, ...] = ()
    ledger_id: str | None = attrs.field(default=None, metadata=wire("ledger_id"))
    ref_id: str | None = attrs.field(default=None, metadata=wire("ref_id"))
    type: str | None = None
    subtype: str | None = None
    category: str | None = None
    wallet_type: str | None = attrs.field(default=None, metadata=wire("wallet_type"))
    wallet_id: str | None = attrs.field(default=None, metadata=wire("wallet_id"))
    amount: Decimal | None = None
    fee: Decimal | None = None
    timestamp: dt.datetime | None = None
