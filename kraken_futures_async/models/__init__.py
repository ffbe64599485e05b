"""Frozen attrs models of Kraken Futures payloads, grouped by domain.

Models carry no wire logic beyond field metadata; the hooks below handle the few payloads
whose shape is not a plain object (order-book levels, the accounts map, event unions).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import cattrs
import msgspec

from .._values import to_decimal
from . import _nothing, charts, history
from .account import (
    Accounts,
    Auxiliary,
    CashAccount,
    FlexAccount,
    FlexCurrency,
    MarginAccount,
    MarginRequirements,
    OpenPosition,
    PortfolioMarginBreakdown,
)
from .account_log import AccountLog, AccountLogEntry, AccountLogInfo
from .assignment import (
    AssignmentHistoryEntry,
    AssignmentParticipant,
    AssignmentPreference,
    AssignmentTimeFrame,
)
from .charts import Analytics, AnalyticsIssue, AnalyticsSeries
from .enums import (
    FillType,
    OrderRequestStatus,
    OrderType,
    PositionSide,
    Side,
    TrailingStopDeviationUnit,
    TriggerSignal,
)
from .fees import FeeSchedule, FeeTier
from .history import (
    Direction,
    ExecutionEntry,
    HistoricalExecution,
    HistoricalOrder,
    HistoricalTrigger,
    HistoryPage,
    OrderEntry,
    OrderHistoryEvent,
    PositionUpdate,
    PriceEntry,
    TriggerEntry,
    TriggerHistoryEvent,
    UnknownHistoryEvent,
)
from .keys import AccessLevel, ApiKeyCheck, KeyPermissions
from .market import (
    Candle,
    CandlePage,
    Instrument,
    MarginLevel,
    MarginSchedule,
    OptionGreeks,
    OrderBook,
    PriceLevel,
    PublicTrade,
    Ticker,
)
from .market_status import DislocationDirection, FundingRate, InstrumentStatus
from .notifications import Notification, NotificationPriority, NotificationType
from .orders import (
    BatchItemResult,
    CachedOrder,
    CancelAllResult,
    CancelEvent,
    CancelledOrderId,
    CancelOrderResult,
    DeadManSwitchStatus,
    EditEvent,
    EditOrderResult,
    ExecutionEvent,
    Fill,
    OpenOrder,
    OrderEvent,
    OrderSnapshot,
    OrderStatus,
    OrderTrigger,
    PlaceEvent,
    PriceTriggerOptions,
    RejectEvent,
    SendOrderResult,
    UnknownOrderEvent,
)
from .portfolio import (
    PortfolioMarginingParameters,
    PortfolioSimulation,
    SimulatedPosition,
    UnwindQueuePosition,
)
from .rebates import ContractMarketShare, SelfMarketShare
from .rfq import PlacedOffer, Rfq, RfqLeg, RfqOffer
from .settings import LeveragePreference, PnlPreference, SelfTradeStrategy
from .subaccounts import Subaccount, Subaccounts, SubaccountTrading
from .transfers import Withdrawal

__all__ = [
    "AccessLevel",
    "AccountLog",
    "AccountLogEntry",
    "AccountLogInfo",
    "Accounts",
    "Analytics",
    "AnalyticsIssue",
    "AnalyticsSeries",
    "ApiKeyCheck",
    "AssignmentHistoryEntry",
    "AssignmentParticipant",
    "AssignmentPreference",
    "AssignmentTimeFrame",
    "Auxiliary",
    "BatchItemResult",
    "CachedOrder",
    "CancelAllResult",
    "CancelEvent",
    "CancelOrderResult",
    "CancelledOrderId",
    "Candle",
    "CandlePage",
    "CashAccount",
    "ContractMarketShare",
    "DeadManSwitchStatus",
    "Direction",
    "DislocationDirection",
    "EditEvent",
    "EditOrderResult",
    "ExecutionEntry",
    "ExecutionEvent",
    "FeeSchedule",
    "FeeTier",
    "Fill",
    "FillType",
    "FlexAccount",
    "FlexCurrency",
    "FundingRate",
    "HistoricalExecution",
    "HistoricalOrder",
    "HistoricalTrigger",
    "HistoryPage",
    "Instrument",
    "InstrumentStatus",
    "KeyPermissions",
    "LeveragePreference",
    "MarginAccount",
    "MarginLevel",
    "MarginRequirements",
    "MarginSchedule",
    "Notification",
    "NotificationPriority",
    "NotificationType",
    "OpenOrder",
    "OpenPosition",
    "OptionGreeks",
    "OrderBook",
    "OrderEntry",
    "OrderEvent",
    "OrderHistoryEvent",
    "OrderRequestStatus",
    "OrderSnapshot",
    "OrderStatus",
    "OrderTrigger",
    "OrderType",
    "PlaceEvent",
    "PlacedOffer",
    "PnlPreference",
    "PortfolioMarginBreakdown",
    "PortfolioMarginingParameters",
    "PortfolioSimulation",
    "PositionSide",
    "PositionUpdate",
    "PriceEntry",
    "PriceLevel",
    "PriceTriggerOptions",
    "PublicTrade",
    "RejectEvent",
    "Rfq",
    "RfqLeg",
    "RfqOffer",
    "SelfMarketShare",
    "SelfTradeStrategy",
    "SendOrderResult",
    "Side",
    "SimulatedPosition",
    "Subaccount",
    "SubaccountTrading",
    "Subaccounts",
    "Ticker",
    "TrailingStopDeviationUnit",
    "TriggerEntry",
    "TriggerHistoryEvent",
    "TriggerSignal",
    "UnknownHistoryEvent",
    "UnknownOrderEvent",
    "UnwindQueuePosition",
    "Withdrawal",
    "register_hooks",
]

_EVENT_CLASSES: dict[str, type] = {
    "PLACE": PlaceEvent,
    "CANCEL": CancelEvent,
    "EDIT": EditEvent,
    "REJECT": RejectEvent,
    "EXECUTION": ExecutionEvent,
}
_ACCOUNT_KINDS: dict[str, str] = {
    "cashAccount": "cash",
    "multiCollateralMarginAccount": "flex",
    "marginAccount": "margin",
}


#: Builds a level without NamedTuple's Python-level ``__new__``.
_new_level = tuple.__new__
_LEVELS = tuple[PriceLevel, ...]


def _require_mapping(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"{what} must be an object, got {type(value).__name__}")
    return value


def register_hooks(conv: cattrs.Converter, *, fast: bool = False) -> None:
    """Teach ``conv`` the payloads that are not plain objects.

    ``fast=True`` (the production converter) also structures a book side's levels in one
    msgspec call; whatever that refuses goes through the per-level hook, which decides.
    """
    strict = bool(getattr(conv, "forbid_extra_keys", False))
    base_dead_man_switch = conv.get_structure_hook(DeadManSwitchStatus)

    def structure_level(value: Any, _: type) -> PriceLevel:
        if value.__class__ is list and len(value) == 2:
            # the common case, [Decimal or int, Decimal or int], without a call per number
            price, size = value
            if price.__class__ is not Decimal:
                price = Decimal(price) if price.__class__ is int else to_decimal(price)
            if size.__class__ is not Decimal:
                size = Decimal(size) if size.__class__ is int else to_decimal(size)
            return _new_level(PriceLevel, (price, size))
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise TypeError(f"an order-book level is [price, size], got {value!r}")
        return PriceLevel(to_decimal(value[0]), to_decimal(value[1]))

    conv.register_structure_hook(PriceLevel, structure_level)
    # unstructured as before PriceLevel was a named tuple: {"price": ..., "size": ...}
    conv.register_unstructure_hook(
        PriceLevel,
        lambda level: {"price": conv.unstructure(level[0]), "size": conv.unstructure(level[1])},
    )
    if fast:
        each_level = conv.get_structure_hook(_LEVELS)

        def structure_levels(value: Any, tp: Any) -> tuple[PriceLevel, ...]:
            # A side of decoded JSON in C: [[Decimal | int | str, ...], ...] gives the same
            # Decimals as to_decimal (strings and floats too); anything else, the hook above.
            if value.__class__ is list:
                try:
                    return msgspec.convert(value, _LEVELS)
                except msgspec.ValidationError:
                    pass
            return each_level(value, tp)  # type: ignore[no-any-return]

        conv.register_structure_hook_func(lambda tp: tp == _LEVELS, structure_levels)

    def structure_event(value: Any, _: type) -> Any:
        raw = _require_mapping(value, "an order event")
        cls = _EVENT_CLASSES.get(str(raw.get("type")))
        if cls is None:
            return UnknownOrderEvent(type=str(raw.get("type")), raw=raw)
        return conv.structure(raw, cls)

    def structure_accounts(value: Any, _: type) -> Accounts:
        raw = _require_mapping(value, "accounts")
        cash = flex = None
        margin: dict[str, MarginAccount] = {}
        for name, account in raw.items():
            kind = _ACCOUNT_KINDS.get(str(_require_mapping(account, name).get("type")))
            if kind == "cash":
                cash = conv.structure(account, CashAccount)
            elif kind == "flex":
                flex = conv.structure(account, FlexAccount)
            elif kind == "margin":
                margin[name] = conv.structure(account, MarginAccount)
            elif strict:
                raise ValueError(f"account {name!r} has an unknown type {account.get('type')!r}")
        return Accounts(cash=cash, flex=flex, margin_accounts=margin)

    def structure_dead_man_switch(value: Any, _: type) -> DeadManSwitchStatus:
        raw = dict(_require_mapping(value, "status"))
        if raw.get("triggerTime") in ("0", 0):
            raw["triggerTime"] = None
        return base_dead_man_switch(raw, DeadManSwitchStatus)  # type: ignore[no-any-return]

    conv.register_structure_hook(OrderEvent, structure_event)
    conv.register_structure_hook(Accounts, structure_accounts)
    conv.register_structure_hook(DeadManSwitchStatus, structure_dead_man_switch)
    # the modules added for full API coverage bring their own hooks
    _nothing.register_hooks(conv)
    history.register_hooks(conv)
    charts.register_hooks(conv)
