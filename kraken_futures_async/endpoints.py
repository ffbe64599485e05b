"""THE endpoint table: one row per Kraken operation. Nothing else in the package knows a path.

A row says how to reach an operation (method, path, where parameters go), who may call it
(access), what it costs against which budget, where its result sits in the answer and which
type structures it, and which order statuses count as success. Resources, the exchange twin
and the contract tests all read this table, so the three cannot drift apart.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

import attrs

from .models import (
    Accounts,
    BatchItemResult,
    CancelAllResult,
    CancelOrderResult,
    CandlePage,
    DeadManSwitchStatus,
    EditOrderResult,
    Fill,
    Instrument,
    OpenOrder,
    OpenPosition,
    OrderBook,
    OrderStatus,
    PublicTrade,
    SendOrderResult,
    Ticker,
)
from .ratelimit import Budget

__all__ = [
    "CHARTS_V1",
    "DERIVATIVES_V3",
    "ENDPOINTS",
    "Access",
    "Endpoint",
    "OrderStatusCheck",
    "WireParams",
    "endpoint",
]

DERIVATIVES_V3 = "/derivatives/api/v3"
CHARTS_V1 = "/api/charts/v1"

#: Request parameters in wire form and wire order: repeated keys stand for arrays.
WireParams = Sequence[tuple[str, str]]


class Access(enum.Enum):
    """The API-key permission an operation needs."""

    PUBLIC = "public"
    READ = "read"
    FULL = "full"
    WITHDRAWAL = "withdrawal"


class ParamsIn(enum.Enum):
    QUERY = "query"
    FORM = "form"


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

    @property
    def private(self) -> bool:
        return self.access is not Access.PUBLIC

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


_SENT = frozenset({"placed", "partiallyFilled", "filled"})


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
    ),
)

_BY_NAME = {e.name: e for e in ENDPOINTS}


def endpoint(name: str) -> Endpoint:
    """The row called ``name``; a typo fails at import time of the caller's module."""
    return _BY_NAME[name]
