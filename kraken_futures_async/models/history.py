"""The history API's events: executions, order and trigger events, positions, mark prices.

Every page is a :class:`HistoryPage`: its elements and the token that continues the listing.
Kraken writes decimals as strings here, times as epoch milliseconds, and an empty string
where a value is absent ("" client id, "" reduced quantity); the hooks below read "" as
``None``. Each event is an object with one key naming its type (``{"OrderPlaced": {...}}``);
the hooks dispatch on that key and keep unknown types whole instead of failing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Generic, TypeVar

import attrs
import cattrs

from ._base import WireEnum, wire

__all__ = [
    "Direction",
    "ExecutionEntry",
    "FeeCalculationInfo",
    "HistoricalExecution",
    "HistoricalOrder",
    "HistoricalOrderType",
    "HistoricalTrigger",
    "HistoryPage",
    "OffsetUnit",
    "OrderCancelled",
    "OrderEditRejected",
    "OrderEntry",
    "OrderHistoryEvent",
    "OrderNotFound",
    "OrderPlaced",
    "OrderRejected",
    "OrderUpdated",
    "PositionChange",
    "PositionTradeType",
    "PositionUpdate",
    "PositionUpdateReason",
    "PriceEntry",
    "PriceOffset",
    "RegulatoryData",
    "TradeFeeData",
    "TrailingStopOptions",
    "TriggerActivated",
    "TriggerCancelled",
    "TriggerEditRejected",
    "TriggerEntry",
    "TriggerHistoryEvent",
    "TriggerOptions",
    "TriggerPlaced",
    "TriggerPriceSignal",
    "TriggerSide",
    "TriggerUpdated",
    "UnknownHistoryEvent",
    "register_hooks",
]

E = TypeVar("E")


class Direction(WireEnum):
    """The side of a historical execution or order, as the history API spells it."""

    BUY = "Buy"
    SELL = "Sell"
    UNKNOWN = "unknown"


class HistoricalOrderType(WireEnum):
    LIMIT = "Limit"
    IMMEDIATE_OR_CANCEL = "IoC"
    POST_ONLY = "Post"
    MARKET = "Market"
    LIQUIDATION = "Liquidation"
    ASSIGNMENT = "Assignment"
    UNWIND = "Unwind"
    UNKNOWN = "unknown"


class TriggerPriceSignal(WireEnum):
    MARK_PRICE = "MarkPrice"
    LAST_PRICE = "LastPrice"
    SPOT_PRICE = "SpotPrice"
    UNKNOWN = "unknown"


class TriggerSide(WireEnum):
    ABOVE = "Above"
    BELOW = "Below"
    UNKNOWN = "unknown"


class OffsetUnit(WireEnum):
    PERCENT = "Percent"
    QUOTE_CURRENCY = "QuoteCurrency"
    UNKNOWN = "unknown"


class PositionChange(WireEnum):
    OPEN = "open"
    CLOSE = "close"
    INCREASE = "increase"
    DECREASE = "decrease"
    REVERSE = "reverse"
    NO_CHANGE = "noChange"
    UNKNOWN = "unknown"


class PositionTradeType(WireEnum):
    USER_EXECUTION = "userExecution"
    LIQUIDATION = "liquidation"
    ASSIGNMENT = "assignment"
    UNWIND = "unwind"
    UNKNOWN = "unknown"


class PositionUpdateReason(WireEnum):
    TRADE = "trade"
    FUNDING_REALISATION = "fundingRealisation"
    SETTLEMENT = "settlement"
    UNKNOWN = "unknown"


@attrs.frozen(kw_only=True)
class HistoryPage(Generic[E]):
    """One page of a history listing; pass ``continuation_token`` back for the next one."""

    elements: tuple[E, ...]
    length: int = attrs.field(metadata=wire("len"))
    continuation_token: str | None = None
    account_uid: str | None = None
    server_time: dt.datetime | None = None


@attrs.frozen(kw_only=True)
class HistoricalOrder:
    """An order as the history API records it.

    Public market data carries a reduced form: no account, fill, client id or spot data.
    """

    uid: str
    tradeable: str
    direction: Direction
    quantity: Decimal
    timestamp: dt.datetime
    order_type: HistoricalOrderType
    reduce_only: bool
    last_update_timestamp: dt.datetime
    limit_price: Decimal | None = None
    account_uid: str | None = None
    filled: Decimal | None = None
    client_id: str | None = None
    spot_data: str | None = None
    regulatory_external_uid: str | None = None
    algo_id: str | None = None
    origin: str | None = None


@attrs.frozen(kw_only=True)
class TrailingStopOptions:
    max_deviation: Decimal
    unit: OffsetUnit


@attrs.frozen(kw_only=True)
class PriceOffset:
    price_offset: Decimal
    unit: OffsetUnit


@attrs.frozen(kw_only=True)
class TriggerOptions:
    trigger_price: Decimal
    trigger_signal: TriggerPriceSignal
    trigger_side: TriggerSide
    trailing_stop_options: TrailingStopOptions | None = None
    limit_price_offset: PriceOffset | None = None


@attrs.frozen(kw_only=True)
class HistoricalTrigger:
    """A stop, take-profit or trailing-stop order before it triggers."""

    uid: str
    account_id: int
    account_uid: str
    tradeable: str
    direction: Direction
    quantity: Decimal | None
    timestamp: dt.datetime
    order_type: str
    reduce_only: bool
    last_update_timestamp: dt.datetime
    trigger_options: TriggerOptions
    limit_price: Decimal | None = None
    client_id: str | None = None
    algo_id: str | None = None
    origin: str | None = None


@attrs.frozen(kw_only=True)
class FeeCalculationInfo:
    percentage_fee: Decimal
    user_fee_discount_applied: Decimal | None = None
    market_share_rebate_credited: Decimal | None = None


@attrs.frozen(kw_only=True)
class TradeFeeData:
    """The fee one side of an execution paid, and its position after it."""

    fee: Decimal
    position_size: Decimal
    fee_calculation_info: tuple[FeeCalculationInfo, ...]


@attrs.frozen(kw_only=True)
class RegulatoryData:
    venue: str | None = None
    counterparty: str | None = None
    external_uid: str | None = None


@attrs.frozen(kw_only=True)
class HistoricalExecution:
    """A trade between a maker and a taker order; the account's own side carries its fee."""

    uid: str
    maker_order: HistoricalOrder
    taker_order: HistoricalOrder
    timestamp: dt.datetime
    quantity: Decimal
    price: Decimal
    mark_price: Decimal
    limit_filled: bool
    usd_value: Decimal
    old_taker_order: HistoricalOrder | None = None
    maker_order_data: TradeFeeData | None = None
    taker_order_data: TradeFeeData | None = None
    regulatory_data: RegulatoryData | None = None


@attrs.frozen(kw_only=True)
class ExecutionEntry:
    """One execution event (the wire wraps it as ``event.Execution``)."""

    uid: str
    timestamp: dt.datetime
    execution: HistoricalExecution
    taker_reduced_quantity: Decimal | None = None


@attrs.frozen(kw_only=True)
class OrderPlaced:
    order: HistoricalOrder
    reason: str | None = None
    reduced_quantity: Decimal | None = None


@attrs.frozen(kw_only=True)
class OrderUpdated:
    """An edit or a fill; ``reason`` says which (``full_fill``, ``edited_by_user``, ...)."""

    old_order: HistoricalOrder
    new_order: HistoricalOrder
    reason: str | None = None
    reduced_quantity: Decimal | None = None


@attrs.frozen(kw_only=True)
class OrderRejected:
    order: HistoricalOrder
    order_error: str | None = None
    reason: str | None = None


@attrs.frozen(kw_only=True)
class OrderCancelled:
    order: HistoricalOrder
    reason: str | None = None


@attrs.frozen(kw_only=True)
class OrderNotFound:
    account_uid: str
    order_id: str


@attrs.frozen(kw_only=True)
class OrderEditRejected:
    old_order: HistoricalOrder
    attempted_order: HistoricalOrder
    order_error: str | None = None


@attrs.frozen(kw_only=True)
class TriggerPlaced:
    order: HistoricalTrigger
    reason: str | None = None


@attrs.frozen(kw_only=True)
class TriggerCancelled:
    order: HistoricalTrigger
    reason: str | None = None


@attrs.frozen(kw_only=True)
class TriggerUpdated:
    old_order_trigger: HistoricalTrigger
    new_order_trigger: HistoricalTrigger
    reason: str | None = None


@attrs.frozen(kw_only=True)
class TriggerActivated:
    order: HistoricalTrigger


@attrs.frozen(kw_only=True)
class TriggerEditRejected:
    old_order_trigger: HistoricalTrigger
    attempted_order_trigger: HistoricalTrigger
    reason: str | None = None
    order_error: str | None = None


@attrs.frozen(kw_only=True)
class UnknownHistoryEvent:
    """An event type this library does not know yet; ``raw`` keeps its payload whole."""

    type: str
    raw: Any


#: An event of the order history; one this version does not know arrives as
#: ``UnknownHistoryEvent``.
OrderHistoryEvent = (
    OrderPlaced
    | OrderUpdated
    | OrderRejected
    | OrderCancelled
    | OrderNotFound
    | OrderEditRejected
    | UnknownHistoryEvent
)
#: An event of the trigger-order history; one this version does not know arrives as
#: ``UnknownHistoryEvent``.
TriggerHistoryEvent = (
    TriggerPlaced
    | TriggerCancelled
    | TriggerUpdated
    | TriggerActivated
    | TriggerEditRejected
    | UnknownHistoryEvent
)


@attrs.frozen(kw_only=True)
class OrderEntry:
    """One order-history entry: its uid, its time and the event."""

    uid: str
    timestamp: dt.datetime
    event: OrderHistoryEvent


@attrs.frozen(kw_only=True)
class TriggerEntry:
    """One trigger-history entry: its uid, its time and the event."""

    uid: str
    timestamp: dt.datetime
    event: TriggerHistoryEvent


@attrs.frozen(kw_only=True)
class PriceEntry:
    """A mark-price change (the wire nests it as ``event.MarkPriceChanged.price``)."""

    timestamp: dt.datetime
    price: Decimal
    uid: str | None = None


@attrs.frozen(kw_only=True)
class PositionUpdate:
    """A change of a position: a trade, a funding realisation or a settlement.

    Sizes are signed (negative is short); prices and amounts are in the contract's quote or
    margin currency (``fee_currency``).
    """

    account_uid: str
    tradeable: str
    old_position: Decimal
    new_position: Decimal
    new_average_entry_price: Decimal
    position_change: PositionChange
    timestamp: dt.datetime
    update_reason: PositionUpdateReason
    old_average_entry_price: Decimal | None = None
    fill_time: dt.datetime | None = None
    fee: Decimal | None = None
    fee_currency: str | None = None
    realized_pnl: Decimal | None = attrs.field(default=None, metadata=wire("realizedPnL"))
    execution_uid: str | None = None
    execution_price: Decimal | None = None
    execution_size: Decimal | None = None
    trade_type: PositionTradeType | None = None
    funding_realization_time: dt.datetime | None = None
    realized_funding: Decimal | None = None
    settlement_price: Decimal | None = None
    uid: str | None = None


_ORDER_EVENTS: dict[str, type] = {
    "OrderPlaced": OrderPlaced,
    "OrderUpdated": OrderUpdated,
    "OrderRejected": OrderRejected,
    "OrderCancelled": OrderCancelled,
    "OrderNotFound": OrderNotFound,
    "OrderEditRejected": OrderEditRejected,
}
_TRIGGER_EVENTS: dict[str, type] = {
    "OrderTriggerPlaced": TriggerPlaced,
    "OrderTriggerCancelled": TriggerCancelled,
    "OrderTriggerUpdated": TriggerUpdated,
    "OrderTriggerActivated": TriggerActivated,
    "OrderTriggerEditRejected": TriggerEditRejected,
}


def blank_to_none(value: Any) -> Any:
    """``value`` with every empty string, at any depth, replaced by ``None``."""
    if value == "":
        return None
    if isinstance(value, dict):
        return {key: blank_to_none(item) for key, item in value.items()}
    if isinstance(value, list):
        return [blank_to_none(item) for item in value]
    return value


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"{what} must be an object, got {type(value).__name__}")
    return value


def _single_key(value: Any, what: str) -> tuple[str, Any]:
    """The one ``{type: payload}`` pair an event object holds."""
    raw = _mapping(value, what)
    if len(raw) != 1:
        raise ValueError(f"{what} must have exactly one key (its type), got {sorted(raw)}")
    ((key, payload),) = raw.items()
    return key, payload


def register_hooks(conv: cattrs.Converter) -> None:
    """Teach ``conv`` the history API's one-key event objects and its empty strings."""

    def event_hook(table: dict[str, type]) -> Callable[[Any, Any], Any]:
        def structure(value: Any, _: Any) -> Any:
            key, payload = _single_key(value, "an event")
            cls = table.get(key)
            if cls is None:
                return UnknownHistoryEvent(type=key, raw=payload)
            return conv.structure(payload, cls)

        return structure

    def blanking(cls: type, unwrap: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        base = conv.get_structure_hook(cls)

        def structure(value: Any, _: Any) -> Any:
            raw = blank_to_none(_mapping(value, "a history element"))
            return base(unwrap(raw), cls)

        conv.register_structure_hook(cls, structure)

    def unwrap_execution(raw: dict[str, Any]) -> dict[str, Any]:
        key, details = _single_key(raw.get("event"), "an execution event")
        if key not in ("Execution", "execution"):
            raise ValueError(f"an execution event is keyed Execution, got {key!r}")
        rest = {k: v for k, v in raw.items() if k != "event"}
        return {**rest, **_mapping(details, "Execution")}

    def unwrap_price(raw: dict[str, Any]) -> dict[str, Any]:
        event = _mapping(raw.get("event"), "a price event")
        if "price" not in event:
            # recorded answers nest it: {"MarkPriceChanged": {"price": ...}}
            key, event = _single_key(event, "a price event")
            if key != "MarkPriceChanged":
                raise ValueError(f"a price event is keyed MarkPriceChanged, got {key!r}")
        rest = {k: v for k, v in raw.items() if k != "event"}
        return {**rest, **_mapping(event, "MarkPriceChanged")}

    def unwrap_position(raw: dict[str, Any]) -> dict[str, Any]:
        if "event" not in raw:
            return raw  # the spec's flat element
        key, update = _single_key(raw["event"], "a position event")
        if key != "PositionUpdate":
            raise ValueError(f"a position event is keyed PositionUpdate, got {key!r}")
        inner = _mapping(update, "PositionUpdate")
        return {"uid": raw.get("uid"), "timestamp": raw.get("timestamp"), **inner}

    conv.register_structure_hook(OrderHistoryEvent, event_hook(_ORDER_EVENTS))
    conv.register_structure_hook(TriggerHistoryEvent, event_hook(_TRIGGER_EVENTS))
    blanking(ExecutionEntry, unwrap_execution)
    blanking(OrderEntry, lambda raw: raw)
    blanking(TriggerEntry, lambda raw: raw)
    blanking(PriceEntry, unwrap_price)
    blanking(PositionUpdate, unwrap_position)
