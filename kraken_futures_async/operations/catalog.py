"""THE operation list: every operation of the exchange, its request type and result type.

Resources call these; each backend serves those it can (the REST backend all of them, from
its endpoint table, whose rows carry the same names). A test keeps the list and the table in
step.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..models import (
    AccountLog,
    Accounts,
    Analytics,
    ApiKeyCheck,
    AssignmentHistoryEntry,
    AssignmentParticipant,
    BatchItemResult,
    CancelAllResult,
    CancelOrderResult,
    CandlePage,
    DeadManSwitchStatus,
    EditOrderResult,
    ExecutionEntry,
    FeeSchedule,
    Fill,
    FundingRate,
    HistoryPage,
    Instrument,
    InstrumentStatus,
    LeveragePreference,
    Notification,
    OpenOrder,
    OpenPosition,
    OrderBook,
    OrderEntry,
    OrderStatus,
    PlacedOffer,
    PnlPreference,
    PortfolioMarginingParameters,
    PortfolioSimulation,
    PositionUpdate,
    PriceEntry,
    PublicTrade,
    Rfq,
    RfqOffer,
    SelfMarketShare,
    SelfTradeStrategy,
    SendOrderResult,
    Subaccounts,
    SubaccountTrading,
    Ticker,
    TriggerEntry,
    UnwindQueuePosition,
    Withdrawal,
)
from .account import (
    AddAssignment,
    DeleteAssignment,
    OfferPrices,
    RfqQuery,
    SetLeveragePreference,
    SetPnlPreference,
    SetSelfTradeStrategy,
    SetSubaccountTrading,
    SimulatePortfolio,
    SubaccountQuery,
    SubaccountTransfer,
    WalletTransfer,
    WithdrawalToSpot,
)
from .base import NoArguments, Operation
from .history import (
    AccountLogCsvQuery,
    AccountLogQuery,
    ExecutionsQuery,
    MarketHistoryQuery,
    OrderEventsQuery,
    PositionEventsQuery,
)
from .market import (
    AnalyticsQuery,
    CandlesQuery,
    ChartResolutionsQuery,
    ChartSymbolsQuery,
    LiquidityPoolQuery,
    SymbolQuery,
    TradesQuery,
)
from .orders import (
    BatchRequest,
    CancelAll,
    CancelAllAfter,
    CancelOrder,
    EditOrder,
    FillsQuery,
    OrderStatusQuery,
    SendOrder,
)

#: The result type of answers that carry nothing but success: they structure to ``None``.
NOTHING: Any = type(None)

TICKERS: Operation[NoArguments, list[Ticker]] = Operation("tickers", NoArguments, list[Ticker])
TICKER: Operation[SymbolQuery, Ticker] = Operation("ticker", SymbolQuery, Ticker)
ORDERBOOK: Operation[SymbolQuery, OrderBook] = Operation("orderbook", SymbolQuery, OrderBook)
TRADES: Operation[TradesQuery, list[PublicTrade]] = Operation(
    "trades", TradesQuery, list[PublicTrade]
)
INSTRUMENTS: Operation[NoArguments, list[Instrument]] = Operation(
    "instruments", NoArguments, list[Instrument]
)
CANDLES: Operation[CandlesQuery, CandlePage] = Operation("candles", CandlesQuery, CandlePage)
ACCOUNTS: Operation[NoArguments, Accounts] = Operation("accounts", NoArguments, Accounts)
OPEN_POSITIONS: Operation[NoArguments, list[OpenPosition]] = Operation(
    "open_positions", NoArguments, list[OpenPosition]
)
OPEN_ORDERS: Operation[NoArguments, list[OpenOrder]] = Operation(
    "open_orders", NoArguments, list[OpenOrder]
)
FILLS: Operation[FillsQuery, list[Fill]] = Operation("fills", FillsQuery, list[Fill])
SEND_ORDER: Operation[SendOrder, SendOrderResult] = Operation(
    "send_order", SendOrder, SendOrderResult
)
EDIT_ORDER: Operation[EditOrder, EditOrderResult] = Operation(
    "edit_order", EditOrder, EditOrderResult
)
CANCEL_ORDER: Operation[CancelOrder, CancelOrderResult] = Operation(
    "cancel_order", CancelOrder, CancelOrderResult
)
CANCEL_ALL_ORDERS: Operation[CancelAll, CancelAllResult] = Operation(
    "cancel_all_orders", CancelAll, CancelAllResult
)
BATCH_ORDER: Operation[BatchRequest, list[BatchItemResult]] = Operation(
    "batch_order", BatchRequest, list[BatchItemResult]
)
ORDER_STATUS: Operation[OrderStatusQuery, list[OrderStatus]] = Operation(
    "order_status", OrderStatusQuery, list[OrderStatus]
)
CANCEL_ALL_ORDERS_AFTER: Operation[CancelAllAfter, DeadManSwitchStatus] = Operation(
    "cancel_all_orders_after", CancelAllAfter, DeadManSwitchStatus
)
INSTRUMENTS_STATUS: Operation[NoArguments, list[InstrumentStatus]] = Operation(
    "instruments_status", NoArguments, list[InstrumentStatus]
)
INSTRUMENT_STATUS: Operation[SymbolQuery, InstrumentStatus] = Operation(
    "instrument_status", SymbolQuery, InstrumentStatus
)
HISTORICAL_FUNDING_RATES: Operation[SymbolQuery, list[FundingRate]] = Operation(
    "historical_funding_rates", SymbolQuery, list[FundingRate]
)
FEE_SCHEDULES: Operation[NoArguments, list[FeeSchedule]] = Operation(
    "fee_schedules", NoArguments, list[FeeSchedule]
)
FEE_SCHEDULE_VOLUMES: Operation[NoArguments, dict[str, Decimal]] = Operation(
    "fee_schedule_volumes", NoArguments, dict[str, Decimal]
)
NOTIFICATIONS: Operation[NoArguments, list[Notification]] = Operation(
    "notifications", NoArguments, list[Notification]
)
UNWIND_QUEUE: Operation[NoArguments, list[UnwindQueuePosition]] = Operation(
    "unwind_queue", NoArguments, list[UnwindQueuePosition]
)
LEVERAGE_PREFERENCES: Operation[NoArguments, list[LeveragePreference]] = Operation(
    "leverage_preferences", NoArguments, list[LeveragePreference]
)
SET_LEVERAGE_PREFERENCE: Operation[SetLeveragePreference, None] = Operation(
    "set_leverage_preference", SetLeveragePreference, NOTHING
)
PNL_PREFERENCES: Operation[NoArguments, list[PnlPreference]] = Operation(
    "pnl_preferences", NoArguments, list[PnlPreference]
)
SET_PNL_PREFERENCE: Operation[SetPnlPreference, None] = Operation(
    "set_pnl_preference", SetPnlPreference, NOTHING
)
SELF_TRADE_STRATEGY: Operation[NoArguments, SelfTradeStrategy] = Operation(
    "self_trade_strategy", NoArguments, SelfTradeStrategy
)
SET_SELF_TRADE_STRATEGY: Operation[SetSelfTradeStrategy, SelfTradeStrategy] = Operation(
    "set_self_trade_strategy", SetSelfTradeStrategy, SelfTradeStrategy
)
TRANSFER: Operation[WalletTransfer, None] = Operation("transfer", WalletTransfer, NOTHING)
SUBACCOUNT_TRANSFER: Operation[SubaccountTransfer, None] = Operation(
    "subaccount_transfer", SubaccountTransfer, NOTHING
)
WITHDRAWAL: Operation[WithdrawalToSpot, Withdrawal] = Operation(
    "withdrawal", WithdrawalToSpot, Withdrawal
)
SUBACCOUNTS: Operation[NoArguments, Subaccounts] = Operation(
    "subaccounts", NoArguments, Subaccounts
)
SUBACCOUNT_TRADING: Operation[SubaccountQuery, SubaccountTrading] = Operation(
    "subaccount_trading", SubaccountQuery, SubaccountTrading
)
SET_SUBACCOUNT_TRADING: Operation[SetSubaccountTrading, SubaccountTrading] = Operation(
    "set_subaccount_trading", SetSubaccountTrading, SubaccountTrading
)
ASSIGNMENT_CURRENT: Operation[NoArguments, list[AssignmentParticipant]] = Operation(
    "assignment_current", NoArguments, list[AssignmentParticipant]
)
ASSIGNMENT_ADD: Operation[AddAssignment, AssignmentParticipant] = Operation(
    "assignment_add", AddAssignment, AssignmentParticipant
)
ASSIGNMENT_DELETE: Operation[DeleteAssignment, AssignmentParticipant] = Operation(
    "assignment_delete", DeleteAssignment, AssignmentParticipant
)
ASSIGNMENT_HISTORY: Operation[NoArguments, list[AssignmentHistoryEntry]] = Operation(
    "assignment_history", NoArguments, list[AssignmentHistoryEntry]
)
PORTFOLIO_MARGINING_PARAMETERS: Operation[NoArguments, PortfolioMarginingParameters] = Operation(
    "portfolio_margining_parameters", NoArguments, PortfolioMarginingParameters
)
SIMULATE_PORTFOLIO: Operation[SimulatePortfolio, PortfolioSimulation] = Operation(
    "simulate_portfolio", SimulatePortfolio, PortfolioSimulation
)
RFQS: Operation[NoArguments, list[Rfq]] = Operation("rfqs", NoArguments, list[Rfq])
RFQ: Operation[RfqQuery, Rfq] = Operation("rfq", RfqQuery, Rfq)
RFQ_OPEN_OFFERS: Operation[NoArguments, list[RfqOffer]] = Operation(
    "rfq_open_offers", NoArguments, list[RfqOffer]
)
PLACE_RFQ_OFFER: Operation[OfferPrices, PlacedOffer] = Operation(
    "place_rfq_offer", OfferPrices, PlacedOffer
)
REPLACE_RFQ_OFFER: Operation[OfferPrices, None] = Operation(
    "replace_rfq_offer", OfferPrices, NOTHING
)
CANCEL_RFQ_OFFER: Operation[RfqQuery, None] = Operation("cancel_rfq_offer", RfqQuery, NOTHING)
HISTORY_EXECUTIONS: Operation[ExecutionsQuery, HistoryPage[ExecutionEntry]] = Operation(
    "history_executions", ExecutionsQuery, HistoryPage[ExecutionEntry]
)
HISTORY_ORDERS: Operation[OrderEventsQuery, HistoryPage[OrderEntry]] = Operation(
    "history_orders", OrderEventsQuery, HistoryPage[OrderEntry]
)
HISTORY_TRIGGERS: Operation[OrderEventsQuery, HistoryPage[TriggerEntry]] = Operation(
    "history_triggers", OrderEventsQuery, HistoryPage[TriggerEntry]
)
HISTORY_POSITIONS: Operation[PositionEventsQuery, HistoryPage[PositionUpdate]] = Operation(
    "history_positions", PositionEventsQuery, HistoryPage[PositionUpdate]
)
ACCOUNT_LOG: Operation[AccountLogQuery, AccountLog] = Operation(
    "account_log", AccountLogQuery, AccountLog
)
ACCOUNT_LOG_CSV: Operation[AccountLogCsvQuery, str] = Operation(
    "account_log_csv", AccountLogCsvQuery, str
)
MARKET_EXECUTIONS: Operation[MarketHistoryQuery, HistoryPage[ExecutionEntry]] = Operation(
    "market_executions", MarketHistoryQuery, HistoryPage[ExecutionEntry]
)
MARKET_ORDERS: Operation[MarketHistoryQuery, HistoryPage[OrderEntry]] = Operation(
    "market_orders", MarketHistoryQuery, HistoryPage[OrderEntry]
)
MARKET_PRICES: Operation[MarketHistoryQuery, HistoryPage[PriceEntry]] = Operation(
    "market_prices", MarketHistoryQuery, HistoryPage[PriceEntry]
)
TICK_TYPES: Operation[NoArguments, list[str]] = Operation("tick_types", NoArguments, list[str])
CHART_SYMBOLS: Operation[ChartSymbolsQuery, list[str]] = Operation(
    "chart_symbols", ChartSymbolsQuery, list[str]
)
CHART_RESOLUTIONS: Operation[ChartResolutionsQuery, list[str]] = Operation(
    "chart_resolutions", ChartResolutionsQuery, list[str]
)
MARKET_ANALYTICS: Operation[AnalyticsQuery, Analytics] = Operation(
    "market_analytics", AnalyticsQuery, Analytics
)
LIQUIDITY_POOL: Operation[LiquidityPoolQuery, Analytics] = Operation(
    "liquidity_pool", LiquidityPoolQuery, Analytics
)
CHECK_API_KEY: Operation[NoArguments, ApiKeyCheck] = Operation(
    "check_api_key", NoArguments, ApiKeyCheck
)
SELF_MARKET_SHARE: Operation[NoArguments, SelfMarketShare | None] = Operation(
    "self_market_share", NoArguments, SelfMarketShare | None
)

#: Every operation by name.
OPERATIONS: dict[str, Operation[Any, Any]] = {
    op.name: op for op in list(globals().values()) if isinstance(op, Operation)
}


def operation(name: str) -> Operation[Any, Any]:
    """The operation called ``name``; a typo fails at import time of the caller's module."""
    return OPERATIONS[name]
