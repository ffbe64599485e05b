"""Frozen attrs models of Kraken Futures payloads, grouped by domain.

Models carry no wire logic beyond field metadata; the hooks below handle the few payloads
whose shape is not a plain object (order-book levels, the accounts map, event unions).
"""

from __future__ import annotations

from typing import Any

import cattrs

from .._values import to_decimal
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
from .enums import (
    FillType,
    OrderRequestStatus,
    OrderType,
    PositionSide,
    Side,
    TrailingStopDeviationUnit,
    TriggerSignal,
)
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

__all__ = [
    "Accounts",
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
    "DeadManSwitchStatus",
    "EditEvent",
    "EditOrderResult",
    "ExecutionEvent",
    "Fill",
    "FillType",
    "FlexAccount",
    "FlexCurrency",
    "Instrument",
    "MarginAccount",
    "MarginLevel",
    "MarginRequirements",
    "MarginSchedule",
    "OpenOrder",
    "OpenPosition",
    "OptionGreeks",
    "OrderBook",
    "OrderEvent",
    "OrderRequestStatus",
    "OrderSnapshot",
    "OrderStatus",
    "OrderTrigger",
    "OrderType",
    "PlaceEvent",
    "PortfolioMarginBreakdown",
    "PositionSide",
    "PriceLevel",
    "PriceTriggerOptions",
    "PublicTrade",
    "RejectEvent",
    "SendOrderResult",
    "Side",
    "Ticker",
    "TrailingStopDeviationUnit",
    "TriggerSignal",
    "UnknownOrderEvent",
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


def _require_mapping(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"{what} must be an object, got {type(value).__name__}")
    return value


def register_hooks(conv: cattrs.Converter) -> None:
    """Teach ``conv`` the payloads that are not plain objects."""
    strict = bool(getattr(conv, "forbid_extra_keys", False))
    base_dead_man_switch = conv.get_structure_hook(DeadManSwitchStatus)

    def structure_level(value: Any, _: type) -> PriceLevel:
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise TypeError(f"an order-book level is [price, size], got {value!r}")
        return PriceLevel(to_decimal(value[0]), to_decimal(value[1]))

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

    conv.register_structure_hook(PriceLevel, structure_level)
    conv.register_structure_hook(OrderEvent, structure_event)
    conv.register_structure_hook(Accounts, structure_accounts)
    conv.register_structure_hook(DeadManSwitchStatus, structure_dead_man_switch)
