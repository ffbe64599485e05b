"""THE endpoint table: one row per Kraken operation. Nothing else in the package knows a path.

A row says how to reach an operation (method, path, where parameters go), who may call it
(access), what it costs against which budget, where its result sits in the answer and which
type structures it, and which order statuses count as success. Resources, the exchange twin
and the contract tests all read this table, so the three cannot drift apart.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import attrs

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
from ..ratelimit import Budget

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

DERIVATIVES_V3 = "/derivatives/api/v3"
DERIVATIVES_V4 = "/derivatives/api/v4"
CHARTS_V1 = "/api/charts/v1"
HISTORY_V3 = "/api/history/v3"
#: Kraken serves the same history payloads on v2 (what several clients still call).
HISTORY_V2 = "/api/history/v2"
AUTH_V1 = "/api/auth/v1"
STATS_V1 = "/api/stats/v1"

#: Request parameters in wire form and wire order: repeated keys stand for arrays.
WireParams = Sequence[tuple[str, str]]


class Access(enum.Enum):
    """The API-key permission an operation needs."""

    PUBLIC = "public"
    READ = "read"
    FULL = "full"
    WITHDRAWAL = "withdrawal"


class ParamsIn(enum.Enum):
    """Where a request's parameters travel."""

    QUERY = "query"
    FORM = "form"
    #: One JSON object in the body; each pair's value is already JSON text (``100.5``,
    #: ``"text"``), so numbers stay numbers (the RFQ offer calls).
    JSON = "json"


@attrs.frozen
class OrderStatusCheck:
    """Where an order request's own status sits, and which values mean it went through."""

    key: str
    success: frozenset[str]


@attrs.frozen(kw_only=True)
class Endpoint:
    name: str
    operation_id: str
    method: str
    path: str
    access: Access
    result: Any
    #: Key of the payload in the answer; ``None`` means the answer itself (no envelope key).
    result_key: str | None
    budget: Budget | None = None
    cost: int | Callable[[WireParams], int] = 0
    params_in: ParamsIn = ParamsIn.QUERY
    order_status: OrderStatusCheck | None = None
    #: Answers carry Kraken's ``result``/``serverTime`` envelope (charts and history do not).
    envelope: bool = True
    #: Sending it twice does no harm (reads; also POST ``orders/status``).
    idempotent: bool = False
    #: Other paths Kraken serves the same operation on (history v2, funding v4); the twin
    #: answers on them too, the client uses ``path``.
    aliases: tuple[str, ...] = ()
    #: Why the operation is deprecated and what replaces it; calling it warns.
    deprecated: str | None = None
    #: The answer is text (``accountlogcsv``'s CSV), handed over as sent; ``result`` is ``str``.
    raw_text: bool = False
    #: Response headers copied into the payload, as (header, key), when the body lacks the key
    #: (the history API's ``Next-Continuation-Token`` continues a listing).
    header_fields: tuple[tuple[str, str], ...] = ()
    #: The call only takes risk off (cancels, the dead man's switch, reduce-only orders): it
    #: goes ahead of queued sends and reads and may use the budget's reserve.
    risk_reducing: bool | Callable[[WireParams], bool] = False

    @property
    def private(self) -> bool:
        return self.access is not Access.PUBLIC

    def reduces_risk(self, params: WireParams) -> bool:
        return self.risk_reducing(params) if callable(self.risk_reducing) else self.risk_reducing

    def cost_of(self, params: WireParams) -> int:
        return self.cost(params) if callable(self.cost) else self.cost

    def url_path(self, path_params: dict[str, str] | None = None) -> str:
        if not path_params:
            return self.path
        return self.path.format(**{k: quote(v, safe="") for k, v in path_params.items()})


def _batch_cost(params: WireParams) -> int:
    """9 plus one per instruction (counted from the ``json`` field's ``"order":`` keys)."""
    text = next((value for key, value in params if key == "json"), "")
    return 9 + text.count('"order":')


def _fills_cost(params: WireParams) -> int:
    """Paging back with ``lastFillTime`` costs 25; the latest page costs 2."""
    return 25 if any(key == "lastFillTime" for key, _ in params) else 2


def _account_log_cost(params: WireParams) -> int:
    """The history budget charges the account log by ``count``; Kraken's default is 500."""
    text = next((value for key, value in params if key == "count"), "500")
    try:
        count = int(text)
    except ValueError:
        count = 500
    for ceiling, cost in ((25, 1), (50, 2), (1000, 3), (5000, 6)):
        if count <= ceiling:
            return cost
    return 10


def _reduce_only(params: WireParams) -> bool:
    return ("reduceOnly", "true") in params


def _batch_reduces_risk(params: WireParams) -> bool:
    """Every instruction is a cancel or a reduce-only order (nothing can add exposure)."""
    text = next((value for key, value in params if key == "json"), "")
    try:
        items = json.loads(text).get("batchOrder", [])
    except (ValueError, AttributeError):
        return False
    return bool(items) and all(
        isinstance(item, dict) and (item.get("order") == "cancel" or item.get("reduceOnly") is True)
        for item in items
    )


_SENT = frozenset({"placed", "partiallyFilled", "filled"})

#: Kraken publishes no cost for these private derivatives calls (notifications, subaccounts,
#: fee volumes, assignment program, portfolio margining, RFQs); 1 unit is what Kraken.Net
#: charges, so the budget still counts them.
_UNLISTED_COST = 1

_FEES_DEPRECATED = (
    "Kraken deprecated the fee-schedule endpoints on 2026-06-22: fees moved to Kraken's central "
    "fee service; use the Spot API's TradeVolume call for fee tiers and 30-day volume"
)
_CONTINUATION = (("Next-Continuation-Token", "continuationToken"),)
#: The result type of answers that carry nothing but success: they structure to ``None``.
NOTHING: Any = type(None)


def _public(name: str, op: str, path: str, result: Any, key: str | None, **kw: Any) -> Endpoint:
    return Endpoint(
        name=name,
        operation_id=op,
        method="GET",
        path=path,
        access=Access.PUBLIC,
        result=result,
        result_key=key,
        idempotent=True,
        **kw,
    )


def _history(name: str, op: str, path: str, result: Any, access: Access, **kw: Any) -> Endpoint:
    """A history API row: no envelope, v2 twin, continuation header, history budget if private."""
    private = access is not Access.PUBLIC
    kw.setdefault("cost", 1 if private else 0)
    return Endpoint(
        name=name,
        operation_id=op,
        method="GET",
        path=f"{HISTORY_V3}{path}",
        access=access,
        result=result,
        result_key=None,
        budget=Budget.HISTORY if private else None,
        envelope=False,
        idempotent=True,
        aliases=(f"{HISTORY_V2}{path}",),
        header_fields=_CONTINUATION,
        **kw,
    )


def _private(
    name: str,
    op: str,
    method: str,
    path: str,
    access: Access,
    result: Any,
    key: str | None,
    cost: int | Callable[[WireParams], int],
    **kw: Any,
) -> Endpoint:
    kw.setdefault("idempotent", method == "GET")
    kw.setdefault("params_in", ParamsIn.FORM if method == "POST" else ParamsIn.QUERY)
    return Endpoint(
        name=name,
        operation_id=op,
        method=method,
        path=path,
        access=access,
        result=result,
        result_key=key,
        budget=Budget.DERIVATIVES,
        cost=cost,
        **kw,
    )


_D = DERIVATIVES_V3
_READ, _FULL = Access.READ, Access.FULL

ENDPOINTS: tuple[Endpoint, ...] = (
    # market data (public)
    _public("tickers", "getTickers", f"{_D}/tickers", list[Ticker], "tickers"),
    _public("ticker", "getTicker", f"{_D}/tickers/{{symbol}}", Ticker, "ticker"),
    _public("orderbook", "getOrderbook", f"{_D}/orderbook", OrderBook, "orderBook"),
    _public("trades", "getHistory", f"{_D}/history", list[PublicTrade], "history"),
    _public("instruments", "getInstruments", f"{_D}/instruments", list[Instrument], "instruments"),
    _public(
        "candles",
        "candles",
        f"{CHARTS_V1}/{{tick_type}}/{{symbol}}/{{resolution}}",
        CandlePage,
        None,
        envelope=False,
    ),
    # account (private reads)
    _private("accounts", "getAccounts", "GET", f"{_D}/accounts", _READ, Accounts, "accounts", 2),
    _private(
        "open_positions",
        "getOpenPositions",
        "GET",
        f"{_D}/openpositions",
        _READ,
        list[OpenPosition],
        "openPositions",
        2,
    ),
    _private(
        "open_orders",
        "getOpenOrders",
        "GET",
        f"{_D}/openorders",
        _READ,
        list[OpenOrder],
        "openOrders",
        2,
    ),
    _private("fills", "getFills", "GET", f"{_D}/fills", _READ, list[Fill], "fills", _fills_cost),
    # order management
    _private(
        "send_order",
        "sendOrder",
        "POST",
        f"{_D}/sendorder",
        _FULL,
        SendOrderResult,
        "sendStatus",
        10,
        order_status=OrderStatusCheck("sendStatus", _SENT),
        risk_reducing=_reduce_only,
    ),
    _private(
        "edit_order",
        "editOrderSpring",
        "POST",
        f"{_D}/editorder",
        _FULL,
        EditOrderResult,
        "editStatus",
        10,
        order_status=OrderStatusCheck("editStatus", frozenset({"edited"})),
    ),
    _private(
        "cancel_order",
        "cancelOrder",
        "POST",
        f"{_D}/cancelorder",
        _FULL,
        CancelOrderResult,
        "cancelStatus",
        10,
        order_status=OrderStatusCheck("cancelStatus", frozenset({"cancelled"})),
        risk_reducing=True,
    ),
    _private(
        "cancel_all_orders",
        "cancelAllOrders",
        "POST",
        f"{_D}/cancelallorders",
        _FULL,
        CancelAllResult,
        "cancelStatus",
        25,
        order_status=OrderStatusCheck("cancelStatus", frozenset({"cancelled", "noOrdersToCancel"})),
        risk_reducing=True,
    ),
    _private(
        "batch_order",
        "sendBatchOrder",
        "POST",
        f"{_D}/batchorder",
        _FULL,
        list[BatchItemResult],
        "batchStatus",
        _batch_cost,
        risk_reducing=_batch_reduces_risk,
    ),
    _private(
        "order_status",
        "getOrderStatus",
        "POST",
        f"{_D}/orders/status",
        _FULL,
        list[OrderStatus],
        "orders",
        1,
        idempotent=True,
    ),
    _private(
        "cancel_all_orders_after",
        "cancelAllOrdersAfter",
        "POST",
        f"{_D}/cancelallordersafter",
        _FULL,
        DeadManSwitchStatus,
        "status",
        25,
        risk_reducing=True,
    ),
    # --- full API coverage (issue 4); costs: reference §6 ------------------------------------
    # market data and status (public)
    _public(
        "instruments_status",
        "instrumentsStatus",
        f"{_D}/instruments/status",
        list[InstrumentStatus],
        "instrumentStatus",
    ),
    _public(
        "instrument_status",
        "instrumentStatus",
        f"{_D}/instruments/{{symbol}}/status",
        InstrumentStatus,
        None,
    ),
    _public(
        "historical_funding_rates",
        "historicalFundingRates",
        f"{_D}/historical-funding-rates",
        list[FundingRate],
        "rates",
        aliases=(f"{DERIVATIVES_V4}/historicalfundingrates",),
    ),
    _public(
        "fee_schedules",
        "getFeeSchedulesV3",
        f"{_D}/feeschedules",
        list[FeeSchedule],
        "feeSchedules",
        deprecated=_FEES_DEPRECATED,
    ),
    _private(
        "fee_schedule_volumes",
        "getUserFeeScheduleVolumesV3",
        "GET",
        f"{_D}/feeschedules/volumes",
        _READ,
        dict[str, Decimal],
        "volumesByFeeSchedule",
        _UNLISTED_COST,
        deprecated=_FEES_DEPRECATED,
    ),
    # account information (read)
    _private(
        "notifications",
        "getNotifications",
        "GET",
        f"{_D}/notifications",
        _READ,
        list[Notification],
        "notifications",
        _UNLISTED_COST,
    ),
    _private(
        "unwind_queue",
        "getUnwindQueue",
        "GET",
        f"{_D}/unwindqueue",
        _READ,
        list[UnwindQueuePosition],
        "queue",
        200,
    ),
    # settings: leverage, PnL currency, self-trade prevention (PUT: parameters in the query)
    _private(
        "leverage_preferences",
        "getLeverageSetting",
        "GET",
        f"{_D}/leveragepreferences",
        _READ,
        list[LeveragePreference],
        "leveragePreferences",
        2,
    ),
    _private(
        "set_leverage_preference",
        "setLeverageSetting",
        "PUT",
        f"{_D}/leveragepreferences",
        _FULL,
        NOTHING,
        None,
        10,
        idempotent=True,
    ),
    _private(
        "pnl_preferences",
        "getPnlCurrencyPreference",
        "GET",
        f"{_D}/pnlpreferences",
        _READ,
        list[PnlPreference],
        "preferences",
        2,
    ),
    _private(
        "set_pnl_preference",
        "setPnlCurrencyPreference",
        "PUT",
        f"{_D}/pnlpreferences",
        _FULL,
        NOTHING,
        None,
        10,
        idempotent=True,
    ),
    _private(
        "self_trade_strategy",
        "getSelfTradeStrategy",
        "GET",
        f"{_D}/self-trade-strategy",
        _READ,
        SelfTradeStrategy,
        "strategy",
        2,
    ),
    _private(
        "set_self_trade_strategy",
        "setSelfTradeStrategy",
        "PUT",
        f"{_D}/self-trade-strategy",
        _FULL,
        SelfTradeStrategy,
        "strategy",
        2,
        idempotent=True,
    ),
    # transfers
    _private(
        "transfer",
        "transfer",
        "POST",
        f"{_D}/transfer",
        _FULL,
        NOTHING,
        None,
        10,
    ),
    _private(
        "subaccount_transfer",
        "subAccountTransfer",
        "POST",
        f"{_D}/transfer/subaccount",
        _FULL,
        NOTHING,
        None,
        10,
    ),
    _private(
        "withdrawal",
        "withdrawal",
        "POST",
        f"{_D}/withdrawal",
        Access.WITHDRAWAL,
        Withdrawal,
        None,
        100,
    ),
    # subaccounts
    _private(
        "subaccounts",
        "listSubaccounts",
        "GET",
        f"{_D}/subaccounts",
        _READ,
        Subaccounts,
        None,
        _UNLISTED_COST,
    ),
    _private(
        "subaccount_trading",
        "getSubaccountTradingCapability",
        "GET",
        f"{_D}/subaccount/{{subaccountUid}}/trading-enabled",
        _FULL,
        SubaccountTrading,
        None,
        2,
    ),
    _private(
        "set_subaccount_trading",
        "updateSubaccountTradingCapability",
        "PUT",
        f"{_D}/subaccount/{{subaccountUid}}/trading-enabled",
        _FULL,
        SubaccountTrading,
        None,
        2,
        idempotent=True,
    ),
    # assignment program (the spec asks only for a read-only key, even to add and delete)
    _private(
        "assignment_current",
        "getAssignmentProgramCurrent",
        "GET",
        f"{_D}/assignmentprogram/current",
        _READ,
        list[AssignmentParticipant],
        "participants",
        _UNLISTED_COST,
    ),
    _private(
        "assignment_add",
        "addAssignmentProgram",
        "POST",
        f"{_D}/assignmentprogram/add",
        _READ,
        AssignmentParticipant,
        None,
        _UNLISTED_COST,
    ),
    _private(
        "assignment_delete",
        "deleteAssignmentProgram",
        "POST",
        f"{_D}/assignmentprogram/delete",
        _READ,
        AssignmentParticipant,
        None,
        _UNLISTED_COST,
    ),
    _private(
        "assignment_history",
        "getAssignmentProgramHistory",
        "GET",
        f"{_D}/assignmentprogram/history",
        _READ,
        list[AssignmentHistoryEntry],
        "participants",
        _UNLISTED_COST,
    ),
    # portfolio margining (options)
    _private(
        "portfolio_margining_parameters",
        "getPortfolioMarginingParameters",
        "GET",
        f"{_D}/portfolio-margining/parameters",
        _READ,
        PortfolioMarginingParameters,
        None,
        _UNLISTED_COST,
    ),
    _private(
        "simulate_portfolio",
        "simulatePortfolio",
        "POST",
        f"{_D}/portfolio-margining/simulate",
        _READ,
        PortfolioSimulation,
        None,
        _UNLISTED_COST,
        # the portfolio travels as JSON text in the ``json`` query parameter; nothing changes
        params_in=ParamsIn.QUERY,
        idempotent=True,
    ),
    # requests for quote (listing them needs no key; offers use a read-only key, as specced)
    _public("rfqs", "getAllOpenRfqs", f"{_D}/rfqs", list[Rfq], "rfqs"),
    _public("rfq", "getSingleOpenRfq", f"{_D}/rfqs/{{rfqUid}}", Rfq, "rfq"),
    _private(
        "rfq_open_offers",
        "getOpenRfqOffers",
        "GET",
        f"{_D}/rfqs/open-offers",
        _READ,
        list[RfqOffer],
        "openOffers",
        _UNLISTED_COST,
    ),
    _private(
        "place_rfq_offer",
        "placeRfqOffer",
        "POST",
        f"{_D}/rfqs/{{rfqUid}}/place-offer",
        _READ,
        PlacedOffer,
        None,
        _UNLISTED_COST,
        params_in=ParamsIn.JSON,
    ),
    _private(
        "replace_rfq_offer",
        "replaceRfqOffer",
        "PUT",
        f"{_D}/rfqs/{{rfqUid}}/replace-offer",
        _READ,
        NOTHING,
        None,
        _UNLISTED_COST,
        params_in=ParamsIn.JSON,
        idempotent=True,
    ),
    _private(
        "cancel_rfq_offer",
        "cancelRfqOffer",
        "DELETE",
        f"{_D}/rfqs/{{rfqUid}}/cancel-offer",
        _READ,
        NOTHING,
        None,
        _UNLISTED_COST,
    ),
    # history API v3 (own events: history budget; public market events: unmetered)
    _history(
        "history_executions",
        "getExecutionEvents",
        "/executions",
        HistoryPage[ExecutionEntry],
        _READ,
    ),
    _history("history_orders", "getOrderEvents", "/orders", HistoryPage[OrderEntry], _READ),
    _history("history_triggers", "getTriggerEvents", "/triggers", HistoryPage[TriggerEntry], _READ),
    _history(
        "history_positions", "getPositionEvents", "/positions", HistoryPage[PositionUpdate], _READ
    ),
    _history(
        "account_log", "accountLog", "/account-log", AccountLog, _READ, cost=_account_log_cost
    ),
    _history(
        "account_log_csv", "accountLogCsv", "/accountlogcsv", str, _READ, cost=6, raw_text=True
    ),
    _history(
        "market_executions",
        "getPublicExecutionEvents",
        "/market/{tradeable}/executions",
        HistoryPage[ExecutionEntry],
        Access.PUBLIC,
    ),
    _history(
        "market_orders",
        "getPublicOrderEvents",
        "/market/{tradeable}/orders",
        HistoryPage[OrderEntry],
        Access.PUBLIC,
    ),
    _history(
        "market_prices",
        "getPublicPriceEvents",
        "/market/{tradeable}/price",
        HistoryPage[PriceEntry],
        Access.PUBLIC,
    ),
    # charts API (public, no envelope)
    _public("tick_types", "tickTypes", f"{CHARTS_V1}/", list[str], None, envelope=False),
    _public(
        "chart_symbols", "symbols", f"{CHARTS_V1}/{{tick_type}}", list[str], None, envelope=False
    ),
    _public(
        "chart_resolutions",
        "resolutions",
        f"{CHARTS_V1}/{{tick_type}}/{{symbol}}",
        list[str],
        None,
        envelope=False,
    ),
    _public(
        "market_analytics",
        "marketAnalytics",
        f"{CHARTS_V1}/analytics/{{symbol}}/{{analytics_type}}",
        Analytics,
        None,
        envelope=False,
    ),
    _public(
        "liquidity_pool",
        "liquidityPoolStats",
        f"{CHARTS_V1}/analytics/liquidity-pool",
        Analytics,
        None,
        envelope=False,
    ),
    # auth service: any key will do (READ is the lowest level the table knows); unmetered
    Endpoint(
        name="check_api_key",
        operation_id="checkV3ApiKey",
        method="GET",
        path=f"{AUTH_V1}/api-keys/v3/check",
        access=_READ,
        result=ApiKeyCheck,
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
        result=SelfMarketShare | None,
        result_key=None,
        envelope=False,
        idempotent=True,
    ),
)

_BY_NAME = {e.name: e for e in ENDPOINTS}


def endpoint(name: str) -> Endpoint:
    """The row called ``name``; a typo fails at import time of the caller's module."""
    return _BY_NAME[name]
