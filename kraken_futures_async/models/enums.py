"""Enumerations shared across models and order arguments; each has an ``UNKNOWN`` fallback."""

from __future__ import annotations

from ._base import WireEnum

__all__ = [
    "FillType",
    "OrderRequestStatus",
    "OrderType",
    "PositionSide",
    "Side",
    "TrailingStopDeviationUnit",
    "TriggerSignal",
]


class Side(WireEnum):
    """Which side an order or a fill is on."""

    BUY = "buy"
    SELL = "sell"
    UNKNOWN = "unknown"


class PositionSide(WireEnum):
    """Whether a position is long or short."""

    LONG = "long"
    SHORT = "short"
    UNKNOWN = "unknown"


class OrderType(WireEnum):
    """What ``sendorder`` accepts as ``orderType``."""

    LIMIT = "lmt"
    POST_ONLY = "post"
    IMMEDIATE_OR_CANCEL = "ioc"
    MARKET = "mkt"
    STOP = "stp"
    TAKE_PROFIT = "take_profit"
    TRAILING_STOP = "trailing_stop"
    FILL_OR_KILL = "fok"
    UNKNOWN = "unknown"


class TriggerSignal(WireEnum):
    """The price a stop, take-profit or trailing stop watches (request spelling)."""

    MARK = "mark"
    INDEX = "index"
    LAST = "last"
    UNKNOWN = "unknown"


class TrailingStopDeviationUnit(WireEnum):
    """How a trailing stop's maximum deviation is measured: as a percentage of the price or
    as an amount in the quote currency."""

    PERCENT = "PERCENT"
    QUOTE_CURRENCY = "QUOTE_CURRENCY"
    UNKNOWN = "unknown"


class FillType(WireEnum):
    """Why a fill happened: as maker or taker, a liquidation, an assignment, or an unwind."""

    MAKER = "maker"
    TAKER = "taker"
    LIQUIDATION = "liquidation"
    PARTIAL_LIQUIDATION = "partialLiquidation"
    ASSIGNOR = "assignor"
    ASSIGNEE = "assignee"
    TAKER_AFTER_EDIT = "takerAfterEdit"
    UNWIND_BANKRUPT = "unwindBankrupt"
    UNWIND_COUNTERPARTY = "unwindCounterparty"
    UNKNOWN = "unknown"


class OrderRequestStatus(WireEnum):
    """Every status ``sendStatus``, ``editStatus``, ``cancelStatus`` and ``batchStatus`` use."""

    PLACED = "placed"
    PARTIALLY_FILLED = "partiallyFilled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    EDITED = "edited"
    NO_ORDERS_TO_CANCEL = "noOrdersToCancel"
    NOT_FOUND = "notFound"
    MARKET_SUSPENDED = "marketSuspended"
    MARKET_INACTIVE = "marketInactive"
    INVALID_PRICE = "invalidPrice"
    INVALID_SIZE = "invalidSize"
    INVALID_ORDER_TYPE = "invalidOrderType"
    INVALID_SIDE = "invalidSide"
    TOO_MANY_SMALL_ORDERS = "tooManySmallOrders"
    INSUFFICIENT_AVAILABLE_FUNDS = "insufficientAvailableFunds"
    WOULD_CAUSE_LIQUIDATION = "wouldCauseLiquidation"
    CLIENT_ORDER_ID_ALREADY_EXIST = "clientOrderIdAlreadyExist"
    CLIENT_ORDER_ID_TOO_BIG = "clientOrderIdTooBig"
    CLIENT_ORDER_ID_TOO_LONG = "clientOrderIdTooLong"
    CLIENT_ORDER_ID_INVALID = "clientOrderIdInvalid"
    MAX_POSITION_VIOLATION = "maxPositionViolation"
    OUTSIDE_PRICE_COLLAR = "outsidePriceCollar"
    WOULD_INCREASE_PRICE_DISLOCATION = "wouldIncreasePriceDislocation"
    ORDER_FOR_EDIT_NOT_A_STOP = "orderForEditNotAStop"
    ORDER_FOR_EDIT_NOT_FOUND = "orderForEditNotFound"
    POST_WOULD_EXECUTE = "postWouldExecute"
    IOC_WOULD_NOT_EXECUTE = "iocWouldNotExecute"
    SELF_FILL = "selfFill"
    WOULD_NOT_REDUCE_POSITION = "wouldNotReducePosition"
    MARKET_IS_POST_ONLY = "marketIsPostOnly"
    TOO_MANY_ORDERS = "tooManyOrders"
    FIXED_LEVERAGE_TOO_HIGH = "fixedLeverageTooHigh"
    CANNOT_EDIT_TRIGGER_PRICE_OF_TRAILING_STOP = "cannotEditTriggerPriceOfTrailingStop"
    CANNOT_EDIT_LIMIT_PRICE_OF_TRAILING_STOP = "cannotEditLimitPriceOfTrailingStop"
    WOULD_PROCESS_AFTER_SPECIFIED_TIME = "wouldProcessAfterSpecifiedTime"
    REQUIRED_ARGUMENT_MISSING = "requiredArgumentMissing"
    UNKNOWN = "unknown"
