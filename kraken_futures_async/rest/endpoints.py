"""THE endpoint table: one row per Kraken operation. Nothing else in the package knows a path.

Resources, the exchange twin and the contract tests all read this table, so the three cannot
drift apart. What a row holds, and the helpers that write one, are in ``endpoint_rows.py``.
"""

from __future__ import annotations

from typing import Any

from .endpoint_rows import (
    AUTH_V1,
    CHARTS_V1,
    DERIVATIVES_V3,
    DERIVATIVES_V4,
    FEES_DEPRECATED,
    HISTORY_V2,
    HISTORY_V3,
    NOTHING,
    SENT_STATUSES,
    STATS_V1,
    UNLISTED_COST,
    Access,
    Endpoint,
    OrderStatusCheck,
    ParamsIn,
    TimeForm,
    WireParams,
    account_log_cost,
    batch_cost,
    batch_reduces_risk,
    fills_cost,
    reduce_only,
)
from .endpoint_rows import history_row as _history
from .endpoint_rows import private_row as _private
from .endpoint_rows import public_row as _public
from .json_bodies import batch_fields, portfolio_fields

__all__ = [
    "AUTH_V1",
    "CHARTS_V1",
    "DERIVATIVES_V3",
    "DERIVATIVES_V4",
    "ENDPOINTS",
    "HISTORY_V2",
    "HISTORY_V3",
    "NOTHING",
    "STATS_V1",
    "Access",
    "Endpoint",
    "OrderStatusCheck",
    "ParamsIn",
    "WireParams",
    "endpoint",
]

_D = DERIVATIVES_V3
#: The charts API: no envelope, times in epoch seconds.
_CHARTS: dict[str, Any] = {"envelope": False, "times": TimeForm.EPOCH_S}
#: The public history listings name the contract ``tradeable`` (in their path).
_TRADEABLE = {"symbol": "tradeable"}
_READ, _FULL = Access.READ, Access.FULL

ENDPOINTS: tuple[Endpoint, ...] = (
    # market data (public)
    _public("tickers", "getTickers", "/tickers", "tickers"),
    _public("ticker", "getTicker", "/tickers/{symbol}", "ticker"),
    _public("orderbook", "getOrderbook", "/orderbook", "orderBook"),
    _public("trades", "getHistory", "/history", "history", wire_names={"before": "lastTime"}),
    _public("instruments", "getInstruments", "/instruments", "instruments"),
    _public(
        "candles",
        "candles",
        f"{CHARTS_V1}/{{tick_type}}/{{symbol}}/{{resolution}}",
        None,
        wire_names={"since": "from", "until": "to"},
        **_CHARTS,
    ),
    # account (private reads)
    _private("accounts", "getAccounts", "GET /accounts", _READ, "accounts", 2),
    _private(
        "open_positions",
        "getOpenPositions",
        "GET /openpositions",
        _READ,
        "openPositions",
        2,
    ),
    _private("open_orders", "getOpenOrders", "GET /openorders", _READ, "openOrders", 2),
    _private(
        "fills",
        "getFills",
        "GET /fills",
        _READ,
        "fills",
        fills_cost,
        wire_names={"before": "lastFillTime"},
    ),
    # order management
    _private(
        "send_order",
        "sendOrder",
        "POST /sendorder",
        _FULL,
        "sendStatus",
        10,
        order_status=OrderStatusCheck("sendStatus", SENT_STATUSES),
        risk_reducing=reduce_only,
    ),
    _private(
        "edit_order",
        "editOrderSpring",
        "POST /editorder",
        _FULL,
        "editStatus",
        10,
        order_status=OrderStatusCheck("editStatus", frozenset({"edited"})),
    ),
    _private(
        "cancel_order",
        "cancelOrder",
        "POST /cancelorder",
        _FULL,
        "cancelStatus",
        10,
        order_status=OrderStatusCheck("cancelStatus", frozenset({"cancelled"})),
        risk_reducing=True,
        wire_names={"order_id": "order_id"},
    ),
    _private(
        "cancel_all_orders",
        "cancelAllOrders",
        "POST /cancelallorders",
        _FULL,
        "cancelStatus",
        25,
        order_status=OrderStatusCheck("cancelStatus", frozenset({"cancelled", "noOrdersToCancel"})),
        risk_reducing=True,
    ),
    _private(
        "batch_order",
        "sendBatchOrder",
        "POST /batchorder",
        _FULL,
        "batchStatus",
        batch_cost,
        risk_reducing=batch_reduces_risk,
        encode=batch_fields,
    ),
    _private(
        "order_status",
        "getOrderStatus",
        "POST /orders/status",
        _FULL,
        "orders",
        1,
        idempotent=True,
    ),
    _private(
        "cancel_all_orders_after",
        "cancelAllOrdersAfter",
        "POST /cancelallordersafter",
        _FULL,
        "status",
        25,
        risk_reducing=True,
    ),
    # --- full API coverage (issue 4); costs: reference §6 ------------------------------------
    # market data and status (public)
    _public(
        "instruments_status",
        "instrumentsStatus",
        "/instruments/status",
        "instrumentStatus",
    ),
    _public(
        "instrument_status",
        "instrumentStatus",
        "/instruments/{symbol}/status",
        None,
    ),
    _public(
        "historical_funding_rates",
        "historicalFundingRates",
        "/historical-funding-rates",
        "rates",
        aliases=(f"{DERIVATIVES_V4}/historicalfundingrates",),
    ),
    _public(
        "fee_schedules",
        "getFeeSchedulesV3",
        "/feeschedules",
        "feeSchedules",
        deprecated=FEES_DEPRECATED,
    ),
    _private(
        "fee_schedule_volumes",
        "getUserFeeScheduleVolumesV3",
        "GET /feeschedules/volumes",
        _READ,
        "volumesByFeeSchedule",
        UNLISTED_COST,
        deprecated=FEES_DEPRECATED,
    ),
    # account information (read)
    _private(
        "notifications",
        "getNotifications",
        "GET /notifications",
        _READ,
        "notifications",
        UNLISTED_COST,
    ),
    _private(
        "unwind_queue",
        "getUnwindQueue",
        "GET /unwindqueue",
        _READ,
        "queue",
        200,
    ),
    # settings: leverage, PnL currency, self-trade prevention (PUT: parameters in the query)
    _private(
        "leverage_preferences",
        "getLeverageSetting",
        "GET /leveragepreferences",
        _READ,
        "leveragePreferences",
        2,
    ),
    _private(
        "set_leverage_preference",
        "setLeverageSetting",
        "PUT /leveragepreferences",
        _FULL,
        None,
        10,
        idempotent=True,
    ),
    _private(
        "pnl_preferences",
        "getPnlCurrencyPreference",
        "GET /pnlpreferences",
        _READ,
        "preferences",
        2,
    ),
    _private(
        "set_pnl_preference",
        "setPnlCurrencyPreference",
        "PUT /pnlpreferences",
        _FULL,
        None,
        10,
        idempotent=True,
    ),
    _private(
        "self_trade_strategy",
        "getSelfTradeStrategy",
        "GET /self-trade-strategy",
        _READ,
        "strategy",
        2,
    ),
    _private(
        "set_self_trade_strategy",
        "setSelfTradeStrategy",
        "PUT /self-trade-strategy",
        _FULL,
        "strategy",
        2,
        idempotent=True,
    ),
    # transfers
    _private("transfer", "transfer", "POST /transfer", _FULL, None, 10),
    _private(
        "subaccount_transfer",
        "subAccountTransfer",
        "POST /transfer/subaccount",
        _FULL,
        None,
        10,
    ),
    _private("withdrawal", "withdrawal", "POST /withdrawal", Access.WITHDRAWAL, None, 100),
    # subaccounts
    _private(
        "subaccounts",
        "listSubaccounts",
        "GET /subaccounts",
        _READ,
        None,
        UNLISTED_COST,
    ),
    _private(
        "subaccount_trading",
        "getSubaccountTradingCapability",
        "GET /subaccount/{subaccountUid}/trading-enabled",
        _FULL,
        None,
        2,
    ),
    _private(
        "set_subaccount_trading",
        "updateSubaccountTradingCapability",
        "PUT /subaccount/{subaccountUid}/trading-enabled",
        _FULL,
        None,
        2,
        idempotent=True,
    ),
    # assignment program (the spec asks only for a read-only key, even to add and delete)
    _private(
        "assignment_current",
        "getAssignmentProgramCurrent",
        "GET /assignmentprogram/current",
        _READ,
        "participants",
        UNLISTED_COST,
    ),
    _private(
        "assignment_add",
        "addAssignmentProgram",
        "POST /assignmentprogram/add",
        _READ,
        None,
        UNLISTED_COST,
    ),
    _private(
        "assignment_delete",
        "deleteAssignmentProgram",
        "POST /assignmentprogram/delete",
        _READ,
        None,
        UNLISTED_COST,
        wire_names={"preference_id": "id"},
    ),
    _private(
        "assignment_history",
        "getAssignmentProgramHistory",
        "GET /assignmentprogram/history",
        _READ,
        "participants",
        UNLISTED_COST,
    ),
    # portfolio margining (options)
    _private(
        "portfolio_margining_parameters",
        "getPortfolioMarginingParameters",
        "GET /portfolio-margining/parameters",
        _READ,
        None,
        UNLISTED_COST,
    ),
    _private(
        "simulate_portfolio",
        "simulatePortfolio",
        "POST /portfolio-margining/simulate",
        _READ,
        None,
        UNLISTED_COST,
        params_in=ParamsIn.QUERY,
        idempotent=True,
        encode=portfolio_fields,
    ),
    # requests for quote (listing them needs no key; offers use a read-only key, as specced)
    _public("rfqs", "getAllOpenRfqs", "/rfqs", "rfqs"),
    _public("rfq", "getSingleOpenRfq", "/rfqs/{rfqUid}", "rfq"),
    _private(
        "rfq_open_offers",
        "getOpenRfqOffers",
        "GET /rfqs/open-offers",
        _READ,
        "openOffers",
        UNLISTED_COST,
    ),
    _private(
        "place_rfq_offer",
        "placeRfqOffer",
        "POST /rfqs/{rfqUid}/place-offer",
        _READ,
        None,
        UNLISTED_COST,
        params_in=ParamsIn.JSON,
    ),
    _private(
        "replace_rfq_offer",
        "replaceRfqOffer",
        "PUT /rfqs/{rfqUid}/replace-offer",
        _READ,
        None,
        UNLISTED_COST,
        params_in=ParamsIn.JSON,
        idempotent=True,
    ),
    _private(
        "cancel_rfq_offer",
        "cancelRfqOffer",
        "DELETE /rfqs/{rfqUid}/cancel-offer",
        _READ,
        None,
        UNLISTED_COST,
    ),
    # history API v3 (own events: history budget; public market events: unmetered)
    _history(
        "history_executions",
        "getExecutionEvents",
        "/executions",
        _READ,
    ),
    _history("history_orders", "getOrderEvents", "/orders", _READ),
    _history("history_triggers", "getTriggerEvents", "/triggers", _READ),
    _history("history_positions", "getPositionEvents", "/positions", _READ),
    _history(
        "account_log",
        "accountLog",
        "/account-log",
        _READ,
        cost=account_log_cost,
        wire_names={"from_id": "from", "to_id": "to"},
    ),
    _history("account_log_csv", "accountLogCsv", "/accountlogcsv", _READ, cost=6, raw_text=True),
    _history(
        "market_executions",
        "getPublicExecutionEvents",
        "/market/{tradeable}/executions",
        Access.PUBLIC,
        wire_names=_TRADEABLE,
    ),
    _history(
        "market_orders",
        "getPublicOrderEvents",
        "/market/{tradeable}/orders",
        Access.PUBLIC,
        wire_names=_TRADEABLE,
    ),
    _history(
        "market_prices",
        "getPublicPriceEvents",
        "/market/{tradeable}/price",
        Access.PUBLIC,
        wire_names=_TRADEABLE,
    ),
    # charts API (public, no envelope)
    _public("tick_types", "tickTypes", f"{CHARTS_V1}/", None, **_CHARTS),
    _public("chart_symbols", "symbols", f"{CHARTS_V1}/{{tick_type}}", None, **_CHARTS),
    _public(
        "chart_resolutions",
        "resolutions",
        f"{CHARTS_V1}/{{tick_type}}/{{symbol}}",
        None,
        **_CHARTS,
    ),
    _public(
        "market_analytics",
        "marketAnalytics",
        f"{CHARTS_V1}/analytics/{{symbol}}/{{analytics_type}}",
        None,
        wire_names={"until": "to"},
        **_CHARTS,
    ),
    _public(
        "liquidity_pool",
        "liquidityPoolStats",
        f"{CHARTS_V1}/analytics/liquidity-pool",
        None,
        wire_names={"until": "to"},
        **_CHARTS,
    ),
    # auth service: any key will do (READ is the lowest level the table knows); unmetered
    Endpoint(
        name="check_api_key",
        operation_id="checkV3ApiKey",
        method="GET",
        path=f"{AUTH_V1}/api-keys/v3/check",
        access=_READ,
        result_key=None,
        envelope=False,
        idempotent=True,
    ),
    # stats service: HTTP 204 (figures not aggregated yet) structures to None
    Endpoint(
        name="self_market_share",
        operation_id="rebates::get_self_market_share",
        method="GET",
        path=f"{STATS_V1}/rebates/self-market-share",
        access=_READ,
        result_key=None,
        envelope=False,
        idempotent=True,
    ),
)

_BY_NAME = {e.name: e for e in ENDPOINTS}


def endpoint(name: str) -> Endpoint:
    """The row called ``name``; a typo fails at import time of the caller's module."""
    return _BY_NAME[name]
