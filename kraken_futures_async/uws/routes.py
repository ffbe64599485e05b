"""The private socket's wire: which operation goes to which UWS method, and every choice made
where Kraken's documentation is silent.

Facts (kraken-uws-api.md): trading on ``/v2/private`` with ``params.token`` on every request
(§3.5); ``add_order``, ``amend_order``, ``cancel_order``, ``cancel_all``,
``cancel_all_orders_after``, ``batch_add`` (one symbol, 2-15 orders), ``batch_cancel`` (2-50
ids) (§6); acks carry ``success`` and an ``error`` string (§2.2, §7); ``deadline`` is RFC 3339,
0.5-60 s ahead (§6.1); ``executions``/``positions``/``balances`` streams (§5).

Where the reference marks a fact [?], the backend does what Kraken's Spot WebSocket v2 does;
every such choice is here and nowhere else:

1. ``time_in_force`` (§6.1): ``gtc`` for ``lmt``/``post``/trigger orders, ``ioc`` for ``ioc``,
   ``fok`` for ``fok`` (Spot REST added FOK in May 2026; UWS may refuse it: the refusal comes
   back verbatim). ``post`` is ``limit`` with ``post_only: true``.
2. Trigger orders: ``stp``/``take_profit`` are ``stop-loss``/``take-profit``, with a limit
   price ``stop-loss-limit``/``take-profit-limit``; ``triggers`` is ``{reference, price,
   price_type: "static"}``. ``trailing_stop`` is ``trailing-stop`` with ``triggers.price`` the
   deviation and ``price_type`` ``pct`` (PERCENT) or ``quote`` (QUOTE_CURRENCY); a limit offset
   in QUOTE_CURRENCY makes it ``trailing-stop-limit`` with ``limit_price`` the offset. Other
   offsets and ``trigger_signal="mark"`` have no UWS value (§6.1, §10): refused locally.
3. Amend (§6.2): the new size is the absolute ``order_qty``; a trigger price is
   ``trigger_price`` (+ ``trigger_price_type``), as Spot v2's ``amend_order`` names it.
4. ``deadline``: a caller's ``process_before`` more than 60 s ahead is sent as now + 60 s (the
   engine then refuses earlier than asked, never later); less than 0.5 s ahead is refused
   locally as ``wouldProcessAfterSpecifiedTime`` without sending. The library's own
   :class:`~kraken_futures_async.operations.OwnDeadline` is stamped per attempt on the
   backend's estimate of the exchange clock. Cancels take no deadline on UWS: a cancel's
   ``process_before`` already past is refused locally, otherwise not sent.
5. Refusals (§7): the error string is kept verbatim in the message, and classified by
   :data:`REFUSALS` (E-strings of Spot v2, or a REST status word as is); an unknown string is
   the ``status`` itself. A string naming a deadline that ``elapsed``/``passed``/``expired``
   is ``wouldProcessAfterSpecifiedTime`` (so order safety re-stamps its own deadline).
   ``EOrder:Invalid order`` on a cancel is ``notFound``, on an amend ``orderForEditNotFound``.
   Rate-limit strings raise :class:`RateLimitError`; ``EAPI:Invalid token`` and
   ``ESession:Invalid session`` make the backend fetch a fresh token and resend once.
6. ``cancel_all`` with a symbol (UWS has no filter, §6.4) is ``batch_cancel`` (or
   ``cancel_order`` for one) over the open orders of that symbol the executions stream shows.
   ``cancelled_orders`` of a ``cancel_all`` lists the open orders the stream showed when it
   was sent.
7. ``batch_order`` (§6.6-6.7, §10): no mixed or atomic batch. Sends go out first, grouped by
   symbol in chunks of 15 (``batch_add``; a lone order is ``add_order``), then edits one by
   one (``amend_order``), then cancels (``batch_cancel`` in chunks of 50, a lone one
   ``cancel_order``). Results come back in the request's order; a refused group gives each of
   its items the refusal's status (as REST's per-item statuses do); ``batch_cancel`` answers
   a count, so each of its items reads ``cancelled``.
8. Executions (§5.1): subscribed with ``snap_orders`` and ``snap_trades`` (last 50 fills).
   Order states map to REST's ``orders/status`` words: ``new``/``partially_filled`` ->
   ``ENTERED_BOOK`` (``TRIGGER_PLACED`` for an untriggered trigger order), ``filled`` ->
   ``FULLY_EXECUTED``, ``canceled``/``expired`` -> ``CANCELLED``. A snapshot with fewer than
   50 fills shows every fill there is; with 50, fills back to its oldest.
9. Positions (§5.4): ``size`` is signed (negative short) unless a ``side`` field says
   otherwise; ``entry_price`` is the price; ``size: 0`` removes the position.
10. Accounts (§5.2, §5.5, §10): ``balances`` gives the wallets and ``margin`` (subscribed
    too; its field names are [?], read as the v1 ``balances`` names) the flex and
    single-collateral figures; the field-by-field mapping to REST's ``Accounts`` is in
    :mod:`.account_state`, and nowhere else.
11. Rate limits (§8): none documented. The backend's limiter is permissive: 20 requests per
    second per socket, no cost model (``RateLimitPolicy(private_requests=20/s)``).
12. The exchange clock is estimated from the latest ack's ``time_out`` (else the local clock).
13. ``market.instruments``/``orderbook``/``ticker``/``tickers`` are read from the public
    channels (§4.1-4.3) on the backend's own public socket: :mod:`.protocol` choice 11.
14. ``orders.fills`` (§5.1, §10) is read from the fills the executions stream has shown (the
    snapshot's last 50, then every fill since): the first page holds up to 100 of them,
    newest first, and may be shorter than REST's when older fills exist; a page ``before`` a
    time the stream has not shown every fill since raises ``UnsupportedOperationError``.
15. ``settings.set_leverage_preference`` is ``set_preference`` (§6.8) with ``leverage_mode:
    {symbol, max_leverage}`` (``null`` for cross margin). A refusal naming margin or
    liquidation raises ``InsufficientFundsError``, any other ``InvalidRequestError``, each with
    Kraken's string verbatim (as REST's refusals of the same call do).

Differences from REST no choice removes (§6, §5.4, §10; asserted in
``tests/test_scenario_both_backends.py``): an ack carries ids and times only, so the results
of ``send``/``edit``/``cancel``/``cancel_all`` have no ``order_events`` (a fill is seen on the
executions stream: ``orders.open``, ``kf.stream``); a position has a size and an entry price
only (``fill_time``, ``unrealized_funding``, ``pnl_currency`` stay ``None`` unless the
channel sends them); answers read from a stream are what the stream has shown, so a push may
trail the ack it belongs with by a moment.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ..errors import InvalidArgumentError
from ..models import OrderRequestStatus
from ..models.enums import OrderType, TrailingStopDeviationUnit, TriggerSignal
from ..operations import catalog as ops
from ..operations.orders import EditOrder, OwnDeadline, ProcessBefore, SendOrder
from .protocol import ASSET_CLASS

__all__ = [
    "BATCH_ADD_MAX",
    "BATCH_CANCEL_MAX",
    "PRIVATE_PATH",
    "PRODUCTION_PRIVATE_URL",
    "REFUSALS",
    "SUPPORTED",
    "TOKEN_ERRORS",
    "amend_params",
    "classify",
    "deadline_text",
    "encode_message",
    "order_params",
    "why_unsupported",
]

#: Kraken's private socket (§1.1).
PRODUCTION_PRIVATE_URL = "wss://uws.kraken.com/v2/private"
PRIVATE_PATH = "/v2/private"

BATCH_ADD_MAX = 15
BATCH_CANCEL_MAX = 50
#: UWS's deadline window (§6.1).
DEADLINE_MIN = dt.timedelta(seconds=0.5)
DEADLINE_MAX = dt.timedelta(seconds=60)

#: Errors after which a fresh token is fetched and the request sent once more (§3.5).
TOKEN_ERRORS = frozenset({"EAPI:Invalid token", "ESession:Invalid session"})

#: What the backend serves.
SUPPORTED = frozenset(
    {
        ops.SEND_ORDER.name,
        ops.EDIT_ORDER.name,
        ops.CANCEL_ORDER.name,
        ops.CANCEL_ALL_ORDERS.name,
        ops.CANCEL_ALL_ORDERS_AFTER.name,
        ops.BATCH_ORDER.name,
        ops.OPEN_ORDERS.name,
        ops.FILLS.name,
        ops.OPEN_POSITIONS.name,
        ops.ACCOUNTS.name,
        ops.SET_LEVERAGE_PREFERENCE.name,
        # from the public channels' snapshots (choice 13, :mod:`.market_reads`)
        ops.INSTRUMENTS.name,
        ops.ORDERBOOK.name,
        ops.TICKER.name,
        ops.TICKERS.name,
    }
)

_REST_UNTIL = "a REST Session (backend='rest') until 2027-03-01"
_WEB = f"{_REST_UNTIL}, Kraken's web interface after"
_HISTORY = (
    f"use {_REST_UNTIL} for what is past (Kraken's history and charts have no socket), "
    "and {live} for what happens from now on"
)
_EXECUTIONS = _HISTORY.format(live="kf.stream.executions()")
_TRADES = _HISTORY.format(live="kf.stream.trades(symbol) (the last 50 trades, then each one)")
_CANDLES = _HISTORY.format(live="kf.stream.ohlc(symbol, tick_type=...) (live candles)")

#: What to use instead, by operation (§10); every operation the backend does not serve.
_INSTEAD: dict[str, str] = {
    "order_status": "UWS has no order-status query: use orders.open() (open orders from the "
    "executions stream) or kf.stream.executions(); closed orders are not reachable",
    "trades": _TRADES,
    "market_executions": _TRADES,
    "market_orders": _TRADES,
    "market_prices": _TRADES,
    "candles": _CANDLES,
    "chart_resolutions": _CANDLES,
    "chart_symbols": _CANDLES,
    "tick_types": _CANDLES,
    "market_analytics": _CANDLES,
    "history_executions": _EXECUTIONS,
    "history_orders": _EXECUTIONS,
    "history_triggers": _EXECUTIONS,
    "history_positions": _HISTORY.format(live="kf.stream.positions()"),
    "historical_funding_rates": _HISTORY.format(live="market.tickers()"),
    "account_log": "use Spot REST Ledgers (and UWS's ledgers channel for new entries)",
    "account_log_csv": "use Spot REST Ledgers",
    "fee_schedules": "use Spot REST GetTradeVolume",
    "fee_schedule_volumes": "use Spot REST GetTradeVolume",
    "instrument_status": f"use kf.stream.status() and market.instruments(), or {_REST_UNTIL}",
    "instruments_status": f"use kf.stream.status() and market.instruments(), or {_REST_UNTIL}",
    "check_api_key": "a Kraken key is checked when its WebSocket token is fetched: a wrong "
    "one raises AuthenticationError on the first private call",
    "leverage_preferences": "UWS has no read-back of leverage (its preferences channel carries "
    f"the trading permission): keep what you set, or use {_WEB}",
}


def why_unsupported(name: str) -> str:
    """The message of the UnsupportedOperationError for ``name``: what to use instead."""
    instead = _INSTEAD.get(name) or f"UWS has no counterpart: use {_WEB}"
    return f"{name} is not available over the uws backend: {instead}"


# --- encoding ------------------------------------------------------------------------------


def _json(value: Any) -> str:
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text  # a bare JSON number with every digit, never through float
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{json.dumps(str(k))}:{_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_json(v) for v in value) + "]"
    return json.dumps(value)


def encode_message(method: str, params: Mapping[str, Any], req_id: int) -> str:
    """One request as compact JSON, Decimals as bare numbers (§2.4)."""
    return _json({"method": method, "params": dict(params), "req_id": req_id})


def rfc3339(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def deadline_text(process_before: ProcessBefore, now: dt.datetime) -> str | None:
    """The ``deadline`` param for an attempt leaving at ``now`` (exchange time), choice 4.

    Returns None when there is no deadline, raises LATE (an OrderRejectedError built by the
    caller) through ValueError when it is too close to be sent.
    """
    if process_before is None:
        return None
    moment = (
        process_before.stamp(now) if isinstance(process_before, OwnDeadline) else process_before
    )
    if moment - now < DEADLINE_MIN:
        raise ValueError("too late")
    return rfc3339(min(moment, now + DEADLINE_MAX))


_LIMIT_KINDS = {
    OrderType.LIMIT: "gtc",
    OrderType.POST_ONLY: "gtc",
    OrderType.IMMEDIATE_OR_CANCEL: "ioc",
    OrderType.FILL_OR_KILL: "fok",
}
_TRIGGER_KINDS = {OrderType.STOP: "stop-loss", OrderType.TAKE_PROFIT: "take-profit"}
_PRICE_TYPE = {
    TrailingStopDeviationUnit.PERCENT: "pct",
    TrailingStopDeviationUnit.QUOTE_CURRENCY: "quote",
}


def _reference(signal: TriggerSignal | None) -> str | None:
    if signal is None:
        return None
    if signal is TriggerSignal.MARK:
        raise InvalidArgumentError(
            "UWS triggers on the index or the last price only (no mark price): "
            "use trigger_signal='index' or 'last'"
        )
    return signal.value


def order_params(order: SendOrder, *, with_symbol: bool = True) -> dict[str, Any]:
    """``add_order`` params (and a ``batch_add`` item without ``symbol``), choices 1-2."""
    kind = order.order_type
    params: dict[str, Any] = {"side": order.side.value, "order_qty": order.size}
    if with_symbol:
        params["symbol"] = order.symbol.upper()
    if kind in _LIMIT_KINDS:
        params["order_type"] = "limit"
        params["limit_price"] = order.limit_price
        params["time_in_force"] = _LIMIT_KINDS[kind]
        if kind is OrderType.POST_ONLY:
            params["post_only"] = True
    elif kind is OrderType.MARKET:
        params["order_type"] = "market"
    elif kind in _TRIGGER_KINDS:
        if order.limit_price_offset_value is not None:
            raise InvalidArgumentError(
                "UWS takes only a static limit price on stop and take-profit orders: "
                "give limit_price instead of a limit price offset"
            )
        limited = order.limit_price is not None
        params["order_type"] = _TRIGGER_KINDS[kind] + ("-limit" if limited else "")
        if limited:
            params["limit_price"] = order.limit_price
            params["limit_price_type"] = "static"
        params["triggers"] = _triggers(order.stop_price, "static", order.trigger_signal)
    elif kind is OrderType.TRAILING_STOP:
        unit = order.trailing_stop_deviation_unit
        assert unit is not None
        assert order.trailing_stop_max_deviation is not None
        params["triggers"] = _triggers(
            order.trailing_stop_max_deviation, _PRICE_TYPE[unit], order.trigger_signal
        )
        offset = order.limit_price_offset_value
        if offset is None:
            params["order_type"] = "trailing-stop"
        elif order.limit_price_offset_unit is TrailingStopDeviationUnit.QUOTE_CURRENCY:
            params["order_type"] = "trailing-stop-limit"
            params["limit_price"] = offset
            params["limit_price_type"] = "static"
        else:
            raise InvalidArgumentError(
                "UWS takes a trailing stop's limit offset in the quote currency only"
            )
    else:
        raise InvalidArgumentError(f"UWS has no {kind.value} order type")
    if order.reduce_only is not None:
        params["reduce_only"] = order.reduce_only
    params["cl_ord_id"] = order.cli_ord_id
    return params


def _triggers(price: Decimal | None, price_type: str, signal: TriggerSignal | None) -> Any:
    triggers: dict[str, Any] = {"price": price, "price_type": price_type}
    reference = _reference(signal)
    if reference is not None:
        triggers["reference"] = reference
    return triggers


def amend_params(edit: EditOrder) -> dict[str, Any]:
    """``amend_order`` params, choice 3."""
    params: dict[str, Any] = {}
    if edit.order_id is not None:
        params["order_id"] = edit.order_id
    else:
        params["cl_ord_id"] = edit.cli_ord_id
    if edit.size is not None:
        params["order_qty"] = edit.size
    if edit.limit_price is not None:
        params["limit_price"] = edit.limit_price
    if edit.stop_price is not None:
        params["trigger_price"] = edit.stop_price
        params["trigger_price_type"] = "static"
    if edit.trailing_stop_max_deviation is not None:
        params["trigger_price"] = edit.trailing_stop_max_deviation
        unit = edit.trailing_stop_deviation_unit or TrailingStopDeviationUnit.PERCENT
        params["trigger_price_type"] = _PRICE_TYPE.get(unit, "pct")
    return params


def with_asset_class(params: Mapping[str, Any]) -> dict[str, Any]:
    return {"asset_class": ASSET_CLASS, **params}


# --- refusals ------------------------------------------------------------------------------

#: Kraken's error strings (Spot v2) as the REST statuses order safety and callers know.
REFUSALS: dict[str, OrderRequestStatus] = {
    "EOrder:Insufficient funds": OrderRequestStatus.INSUFFICIENT_AVAILABLE_FUNDS,
    "EOrder:Insufficient margin": OrderRequestStatus.INSUFFICIENT_AVAILABLE_FUNDS,
    "EOrder:Invalid price": OrderRequestStatus.INVALID_PRICE,
    "EOrder:Order minimum not met": OrderRequestStatus.INVALID_SIZE,
    "EOrder:Invalid volume": OrderRequestStatus.INVALID_SIZE,
    "EOrder:Post only order": OrderRequestStatus.POST_WOULD_EXECUTE,
    "EOrder:Reduce only:Non-PC": OrderRequestStatus.WOULD_NOT_REDUCE_POSITION,
    "EOrder:Reduce only:No position exists": OrderRequestStatus.WOULD_NOT_REDUCE_POSITION,
    "EOrder:Orders limit exceeded": OrderRequestStatus.TOO_MANY_ORDERS,
    "EOrder:Positions limit exceeded": OrderRequestStatus.MAX_POSITION_VIOLATION,
    "EOrder:Cannot open position": OrderRequestStatus.WOULD_CAUSE_LIQUIDATION,
    "EOrder:Duplicate cl_ord_id": OrderRequestStatus.CLIENT_ORDER_ID_ALREADY_EXIST,
    "EGeneral:Invalid arguments:cl_ord_id": OrderRequestStatus.CLIENT_ORDER_ID_INVALID,
    "EOrder:Market in cancel_only mode": OrderRequestStatus.MARKET_SUSPENDED,
    "EOrder:Market in post_only mode": OrderRequestStatus.MARKET_IS_POST_ONLY,
    "EOrder:Unknown position": OrderRequestStatus.WOULD_NOT_REDUCE_POSITION,
}
_WIRE_STATUSES = {status.value: status for status in OrderRequestStatus}
_RATE_LIMITS = ("rate limit", "msg rate")


def is_rate_limit(error: str) -> bool:
    lowered = error.lower()
    return any(words in lowered for words in _RATE_LIMITS)


def classify(error: str, method: str) -> OrderRequestStatus | None:
    """The REST status a refusal string means (choice 5), None when unknown."""
    if error == "EOrder:Invalid order":
        if method == "amend_order":
            return OrderRequestStatus.ORDER_FOR_EDIT_NOT_FOUND
        if method in ("cancel_order", "batch_cancel"):
            return OrderRequestStatus.NOT_FOUND
    lowered = error.lower()
    if "deadline" in lowered and any(w in lowered for w in ("elapsed", "passed", "expired")):
        return OrderRequestStatus.WOULD_PROCESS_AFTER_SPECIFIED_TIME
    found = REFUSALS.get(error)
    if found is not None:
        return found
    return _WIRE_STATUSES.get(error)
