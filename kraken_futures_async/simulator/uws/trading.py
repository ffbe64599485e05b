"""The trading methods of ``/v2/private`` (reference §6), as the engine's REST operations.

Each method reads its UWS parameters, refuses what it cannot read with an error string
(:class:`RefusedError`: ``EGeneral:Invalid arguments:<name>``, ``Unsupported field: '<name>'``,
``Currency pair not supported <SYM>``), and calls the engine with the REST operation and
parameters it maps to (``add_order`` -> ``send_order``, ``amend_order`` -> ``edit_order``
with ``qtyMode=ABSOLUTE``, ``cancel_order`` -> ``cancel_order`` per id, ``cancel_all`` ->
``cancel_all_orders``, ``cancel_all_orders_after`` -> the same, ``batch_add`` ->
``send_order`` per order after checking them all, ``batch_cancel`` -> ``cancel_order`` per
id). The engine's refusal statuses become Spot v2 style error strings (:data:`ERRORS`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from ..clock import Clock
from ..engine._text import parse_iso
from ..errors import ExchangeError
from .feed import Engine
from .order_ledger import OrderTerms
from .private_channels import PrivateHub
from .wire import INVALID, Contract

__all__ = [
    "ASSET_CLASS",
    "BATCH_ADD",
    "BATCH_CANCEL",
    "DEADLINE_MAX",
    "ERRORS",
    "INVALID",
    "ORDER_TYPES",
    "RefusedError",
    "Trader",
]

ASSET_CLASS = "derivatives"
INVALID_ORDER = "EOrder:Invalid order"
UNKNOWN_ORDER = "EOrder:Unknown order"
DEADLINE_PASSED = "EOrder:Deadline elapsed"
#: ``batch_add`` orders and ``batch_cancel`` ids per request (reference §6.6, §6.7).
BATCH_ADD = (2, 15)
BATCH_CANCEL = (2, 50)
#: Most seconds a ``deadline`` may lie ahead (reference §6.1).
DEADLINE_MAX = 60.0
#: UWS ``order_type`` -> the engine's REST order type (limit's flavours are chosen below).
ORDER_TYPES = {
    "limit": "lmt",
    "market": "mkt",
    "stop-loss": "stp",
    "stop-loss-limit": "stp",
    "take-profit": "take_profit",
    "take-profit-limit": "take_profit",
    "trailing-stop": "trailing_stop",
    "trailing-stop-limit": "trailing_stop",
}
_WITH_LIMIT = frozenset({"limit", "stop-loss-limit", "take-profit-limit", "trailing-stop-limit"})
_TRIGGERED = frozenset(ORDER_TYPES) - {"limit", "market"}
_TIME_IN_FORCE = frozenset({"gtc", "ioc", "fok"})
_REFERENCES = frozenset({"index", "last"})
_TRAIL_UNITS = {"pct": "PERCENT", "quote": "QUOTE_CURRENCY"}
#: The engine's refusal statuses -> the error string of the ack ([?]: Spot v2's strings).
ERRORS = {
    "insufficientAvailableFunds": "EOrder:Insufficient funds",
    "clientOrderIdAlreadyExist": "EOrder:Duplicate cl_ord_id",
    "clientOrderIdTooBig": f"{INVALID}:cl_ord_id",
    "invalidSize": f"{INVALID}:order_qty",
    "invalidPrice": "EOrder:Invalid price",
    "invalidOrderType": f"{INVALID}:order_type",
    "invalidSide": f"{INVALID}:side",
    "requiredArgumentMissing": INVALID,
    "invalidArgument": INVALID,
    "wouldNotReducePosition": "EOrder:Reduce only:No position exists",
    "maxPositionViolation": "EOrder:Positions limit exceeded",
    "tooManyOrders": "EOrder:Orders limit exceeded",
    "postWouldExecute": "EOrder:Post only order",
    "marketInactive": "EOrder:Market in cancel_only mode",
    "marketSuspended": "EOrder:Market in cancel_only mode",
    "wouldProcessAfterSpecifiedTime": DEADLINE_PASSED,
    "orderForEditNotFound": UNKNOWN_ORDER,
    "orderForEditNotAStop": f"{INVALID}:trigger_price",
    "cannotEditTriggerPriceOfTrailingStop": f"{INVALID}:trigger_price",
    "cannotEditLimitPriceOfTrailingStop": f"{INVALID}:limit_price",
    "accountInactive": "EGeneral:Permission denied",
}
#: Statuses of an order that existed (its end comes on ``executions``): a successful ack.
_ACCEPTED = frozenset({"placed", "iocWouldNotExecute", "selfFill"})

_ADD_FIELDS = frozenset(
    {
        "order_type",
        "side",
        "order_qty",
        "symbol",
        "limit_price",
        "limit_price_type",
        "triggers",
        "time_in_force",
        "post_only",
        "reduce_only",
        "cl_ord_id",
        "deadline",
        "validate",
    }
)
_COMMON = frozenset({"asset_class", "token"})
#: set_preference's refusals (§6.8), by the engine's code for the same refusal.
LEVERAGE_REFUSED = "Leverage change rejected"
_LEVERAGE_REFUSALS = {
    "11": "Leverage is outside the permitted range for this market",
    "87": "Unknown 'params.leverage_mode.symbol'",
    "88": "Unknown 'params.leverage_mode.symbol'",
    "92": "Insufficient margin for the requested leverage",
}


class RefusedError(Exception):
    """A request (or one order of it) refused: the ack's ``error`` string."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def error_of(status: str) -> str:
    return ERRORS.get(status, f"EOrder:{status}")


def _only(params: Mapping[str, Any], allowed: frozenset[str]) -> None:
    for name in params:
        if name not in allowed:
            raise RefusedError(f"Unsupported field: '{name}'")


def _asset_class(params: Mapping[str, Any], required: bool = True) -> None:
    value = params.get("asset_class")
    if value is None and not required:
        return
    if value != ASSET_CLASS:
        raise RefusedError(f"{INVALID}:asset_class")


def _number(params: Mapping[str, Any], name: str, path: str | None = None) -> Decimal | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise RefusedError(f"{INVALID}:{path or name}")
    number = Decimal(value)
    if not number.is_finite():
        raise RefusedError(f"{INVALID}:{path or name}")
    return number


def _flag(params: Mapping[str, Any], name: str) -> bool:
    value = params.get(name, False)
    if not isinstance(value, bool):
        raise RefusedError(f"{INVALID}:{name}")
    return value


def _text(params: Mapping[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise RefusedError(f"{INVALID}:{name}")
    return value


def _on_grid(value: Decimal, step: Decimal) -> bool:
    return value > 0 and value % step == 0


def _plain(value: Decimal) -> str:
    return format(value, "f")


class _Order:
    """One ``add_order`` (or ``batch_add`` item) read: the engine's params and the terms."""

    __slots__ = ("cl_ord_id", "params", "terms")

    def __init__(self, params: dict[str, list[str]], terms: OrderTerms, cl: str | None) -> None:
        self.params = params
        self.terms = terms
        self.cl_ord_id = cl


class Trader:
    """The trading methods for one twin (see the module docstring)."""

    def __init__(
        self,
        exchange: Engine,
        hub: PrivateHub,
        clock: Clock,
        contracts: Callable[[], dict[str, Contract]],
    ) -> None:
        self.exchange = exchange
        self.hub = hub
        self.clock = clock
        self._contracts = contracts

    # reading --------------------------------------------------------------------------------

    def _deadline(self, params: Mapping[str, Any]) -> None:
        text = params.get("deadline")
        if text is None:
            return
        if not isinstance(text, str):
            raise RefusedError(f"{INVALID}:deadline")
        try:
            deadline = parse_iso(text)
        except ValueError:
            raise RefusedError(f"{INVALID}:deadline") from None
        ahead = deadline - self.clock.time()
        if ahead > DEADLINE_MAX:
            raise RefusedError(f"{INVALID}:deadline")
        if ahead <= 0:
            raise RefusedError(DEADLINE_PASSED)

    def _symbol(self, params: Mapping[str, Any]) -> Contract:
        symbol = params.get("symbol")
        if not isinstance(symbol, str) or not symbol:
            raise RefusedError(f"{INVALID}:symbol")
        contract = self._contracts().get(symbol)
        if contract is None:
            raise RefusedError(f"Currency pair not supported {symbol}")
        return contract

    def _read_order(self, params: Mapping[str, Any], contract: Contract) -> _Order:
        order_type = params.get("order_type")
        if not isinstance(order_type, str) or order_type not in ORDER_TYPES:
            raise RefusedError(f"{INVALID}:order_type")
        side = params.get("side")
        if side not in ("buy", "sell"):
            raise RefusedError(f"{INVALID}:side")
        qty = _number(params, "order_qty")
        if qty is None or not _on_grid(qty, contract.qty_increment):
            raise RefusedError(f"{INVALID}:order_qty")
        limit = _number(params, "limit_price")
        if (limit is None) == (order_type in _WITH_LIMIT):
            raise RefusedError(f"{INVALID}:limit_price")
        if params.get("limit_price_type", "static") != "static":
            raise RefusedError(f"{INVALID}:limit_price_type")
        tif = params.get("time_in_force", "gtc")
        if not isinstance(tif, str) or tif not in _TIME_IN_FORCE:
            raise RefusedError(f"{INVALID}:time_in_force")
        post_only = _flag(params, "post_only")
        reduce_only = _flag(params, "reduce_only")
        cl = _text(params, "cl_ord_id")
        if cl is not None and len(cl) > 100:
            raise RefusedError(f"{INVALID}:cl_ord_id")
        if order_type != "limit" and (tif != "gtc" or post_only):
            raise RefusedError(
                f"{INVALID}:time_in_force" if tif != "gtc" else f"{INVALID}:post_only"
            )
        if post_only and tif != "gtc":
            raise RefusedError(f"{INVALID}:post_only")
        engine: dict[str, list[str]] = {
            "symbol": [contract.symbol],
            "side": [side],
            "size": [_plain(qty)],
            "reduceOnly": ["true" if reduce_only else "false"],
        }
        if cl is not None:
            engine["cliOrdId"] = [cl]
        kind = ORDER_TYPES[order_type]
        if order_type == "limit":
            kind = "post" if post_only else {"gtc": "lmt", "ioc": "ioc", "fok": "fok"}[tif]
        reference: str | None = None
        price_type: str | None = None
        triggers = params.get("triggers")
        if order_type in _TRIGGERED:
            if not isinstance(triggers, dict):
                raise RefusedError(f"{INVALID}:triggers")
            _only(triggers, frozenset({"reference", "price", "price_type"}))
            reference = triggers.get("reference", "last")
            if reference not in _REFERENCES:
                raise RefusedError(f"{INVALID}:triggers.reference")
            price_type = triggers.get("price_type", "static")
            price = _number(triggers, "price", "triggers.price")
            if price is None or price <= 0:
                raise RefusedError(f"{INVALID}:triggers.price")
            engine["triggerSignal"] = [str(reference)]
            if kind == "trailing_stop":
                unit = _TRAIL_UNITS.get(str(price_type))
                if unit is None:
                    raise RefusedError(f"{INVALID}:triggers.price_type")
                engine["trailingStopMaxDeviation"] = [_plain(price)]
                engine["trailingStopDeviationUnit"] = [unit]
                if limit is not None:
                    engine["limitPriceOffsetValue"] = [_plain(limit)]
                    engine["limitPriceOffsetUnit"] = ["QUOTE_CURRENCY"]
                    limit = None
            else:
                if price_type != "static":
                    raise RefusedError(f"{INVALID}:triggers.price_type")
                if not _on_grid(price, contract.price_increment):
                    raise RefusedError("EOrder:Invalid price")
                engine["stopPrice"] = [_plain(price)]
        elif triggers is not None:
            raise RefusedError(f"{INVALID}:triggers")
        if limit is not None:
            if not _on_grid(limit, contract.price_increment):
                raise RefusedError("EOrder:Invalid price")
            engine["limitPrice"] = [_plain(limit)]
        engine["orderType"] = [kind]
        terms = OrderTerms(
            order_type,
            tif,
            post_only,
            None if reference is None else str(reference),
            None if price_type is None else str(price_type),
            reduce_only,
        )
        return _Order(engine, terms, cl)

    # placing --------------------------------------------------------------------------------

    def _open_cl_ids(self, account: str) -> set[str]:
        rows = self.exchange.handle("open_orders", {}, account)["openOrders"]
        return {str(row["cliOrdId"]) for row in rows if row.get("cliOrdId") is not None}

    def _send(self, account: str, order: _Order) -> dict[str, Any]:
        try:
            with self.hub.expect(order.terms):
                answer = self.exchange.handle("send_order", order.params, account)
        except ExchangeError as error:
            raise RefusedError(error_of(str(error.code))) from None
        status = answer["sendStatus"]
        if status["status"] not in _ACCEPTED or "order_id" not in status:
            raise RefusedError(error_of(str(status["status"])))
        result: dict[str, Any] = {"order_id": status["order_id"]}
        if order.cl_ord_id is not None:
            result["cl_ord_id"] = order.cl_ord_id
        return result

    def add_order(self, account: str, params: Mapping[str, Any]) -> dict[str, Any]:
        _only(params, _ADD_FIELDS | _COMMON)
        _asset_class(params)
        contract = self._symbol(params)
        order = self._read_order(params, contract)
        validate = _flag(params, "validate")
        self._deadline(params)
        if validate:
            if order.cl_ord_id is not None and order.cl_ord_id in self._open_cl_ids(account):
                raise RefusedError(ERRORS["clientOrderIdAlreadyExist"])
            result: dict[str, Any] = {"order_id": ""}
            if order.cl_ord_id is not None:
                result["cl_ord_id"] = order.cl_ord_id
            return result
        return self._send(account, order)

    def batch_add(self, account: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        _only(params, frozenset({"symbol", "orders", "deadline", "validate"}) | _COMMON)
        _asset_class(params)
        contract = self._symbol(params)
        items = params.get("orders")
        low, high = BATCH_ADD
        if not isinstance(items, list) or not low <= len(items) <= high:
            raise RefusedError(f"{INVALID}:orders")
        orders: list[_Order] = []
        for item in items:
            if not isinstance(item, dict):
                raise RefusedError(f"{INVALID}:orders")
            _only(item, _ADD_FIELDS - {"symbol", "deadline", "validate"})
            orders.append(self._read_order({**item, "symbol": contract.symbol}, contract))
        cls = [o.cl_ord_id for o in orders if o.cl_ord_id is not None]
        if len(cls) != len(set(cls)):
            raise RefusedError(ERRORS["clientOrderIdAlreadyExist"])
        validate = _flag(params, "validate")
        self._deadline(params)
        if validate:
            if set(cls) & self._open_cl_ids(account):
                raise RefusedError(ERRORS["clientOrderIdAlreadyExist"])
            return [
                {"order_id": "", **({} if o.cl_ord_id is None else {"cl_ord_id": o.cl_ord_id})}
                for o in orders
            ]
        results: list[dict[str, Any]] = []
        for order in orders:  # [?] an order refused after submission: its error in its place
            try:
                results.append(self._send(account, order))
            except RefusedError as refusal:
                failed: dict[str, Any] = {"order_id": "", "error": refusal.error}
                if order.cl_ord_id is not None:
                    failed["cl_ord_id"] = order.cl_ord_id
                results.append(failed)
        return results

    # changing and cancelling ----------------------------------------------------------------

    def amend_order(self, account: str, params: Mapping[str, Any]) -> dict[str, Any]:
        fields = {"order_id", "cl_ord_id", "order_qty", "limit_price", "trigger_price"}
        extra = {"post_only", "deadline", "limit_price_type", "trigger_price_type"}
        _only(params, frozenset(fields | extra) | _COMMON)
        _asset_class(params)
        order_id, cl = _text(params, "order_id"), _text(params, "cl_ord_id")
        if (order_id is None) == (cl is None):
            raise RefusedError(f"{INVALID}:order_id")
        for name in ("limit_price_type", "trigger_price_type"):  # [?] Spot v2's fields
            if params.get(name, "static") != "static":
                raise RefusedError(f"{INVALID}:{name}")
        _flag(params, "post_only")
        engine: dict[str, list[str]] = {"qtyMode": ["ABSOLUTE"]}
        if order_id is not None:
            engine["orderId"] = [order_id]
        else:
            assert cl is not None
            engine["cliOrdId"] = [cl]
        changed = False
        for name, key in (
            ("order_qty", "size"),
            ("limit_price", "limitPrice"),
            ("trigger_price", "stopPrice"),
        ):
            value = _number(params, name)
            if value is not None:
                if value <= 0:
                    raise RefusedError(f"{INVALID}:{name}")
                engine[key] = [_plain(value)]
                changed = True
        if not changed:
            raise RefusedError(f"{INVALID}:order_qty")
        self._deadline(params)
        try:
            answer = self.exchange.handle("edit_order", engine, account)
        except ExchangeError as error:
            raise RefusedError(error_of(str(error.code))) from None
        status = answer["editStatus"]
        if status["status"] != "edited":
            raise RefusedError(error_of(str(status["status"])))
        result: dict[str, Any] = {"amend_id": ""}
        if order_id is not None:
            result["order_id"] = order_id
        if cl is not None:
            result["cl_ord_id"] = cl
        return result

    def _ids(self, params: Mapping[str, Any], name: str) -> list[str]:
        value = params.get(name)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise RefusedError(f"{INVALID}:{name}")
        return list(value)

    def cancel_ids(self, params: Mapping[str, Any]) -> tuple[str, list[str]]:
        """``cancel_order``'s ids: (``order_id`` or ``cl_ord_id``, the list)."""
        _only(params, frozenset({"order_id", "cl_ord_id"}) | _COMMON)
        _asset_class(params)
        ids, cls = self._ids(params, "order_id"), self._ids(params, "cl_ord_id")
        if bool(ids) == bool(cls):
            raise RefusedError(f"{INVALID}:order_id")
        return ("order_id", ids) if ids else ("cl_ord_id", cls)

    def cancel_one(self, account: str, name: str, value: str) -> dict[str, Any]:
        key = "order_id" if name == "order_id" else "cliOrdId"
        answer = self.exchange.handle("cancel_order", {key: [value]}, account)
        if answer["cancelStatus"]["status"] != "cancelled":
            raise RefusedError(INVALID_ORDER)
        return {name: value}

    def cancel_all(self, account: str, params: Mapping[str, Any]) -> dict[str, Any]:
        _only(params, _COMMON)
        _asset_class(params)
        answer = self.exchange.handle("cancel_all_orders", {}, account)
        return {"count": len(answer["cancelStatus"]["cancelledOrders"])}

    def cancel_after(self, account: str, params: Mapping[str, Any]) -> dict[str, Any]:
        _only(params, frozenset({"timeout"}) | _COMMON)
        _asset_class(params, required=False)  # [?] the reference: send it, accept both
        timeout = _number(params, "timeout")
        if timeout is None or timeout < 0 or timeout != timeout.to_integral_value():
            raise RefusedError(f"{INVALID}:timeout")
        try:
            answer = self.exchange.handle(
                "cancel_all_orders_after", {"timeout": [_plain(timeout)]}, account
            )
        except ExchangeError:
            raise RefusedError(f"{INVALID}:timeout") from None
        status = answer["status"]
        return {"currentTime": status["currentTime"], "triggerTime": status["triggerTime"]}

    def set_preference(self, account: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Per-market leverage (§6.8): ``max_leverage`` a number, or ``null`` for cross; the
        engine's leverage preference behind it, refused with §6.8's strings. The success
        result is [?]: the twin echoes the ``leverage_mode`` it set."""
        _only(params, frozenset({"leverage_mode"}) | _COMMON)
        _asset_class(params)
        mode = params.get("leverage_mode")
        if not isinstance(mode, Mapping) or "max_leverage" not in mode:
            raise RefusedError(f"{INVALID}:leverage_mode")
        symbol = mode.get("symbol")
        if not isinstance(symbol, str):
            raise RefusedError(f"{INVALID}:leverage_mode.symbol")
        leverage = _number(mode, "max_leverage", "leverage_mode.max_leverage")
        engine = {"symbol": [symbol]}
        if leverage is not None:
            engine["maxLeverage"] = [_plain(leverage)]
        try:
            self.exchange.handle("set_leverage_preference", engine, account)
        except ExchangeError as refusal:
            error = _LEVERAGE_REFUSALS.get(str(refusal.code), LEVERAGE_REFUSED)
            raise RefusedError(error) from None
        return {"leverage_mode": {"symbol": symbol, "max_leverage": leverage}}

    def batch_cancel(self, account: str, params: Mapping[str, Any]) -> dict[str, Any]:
        _only(params, frozenset({"orders", "cl_ord_id"}) | _COMMON)
        _asset_class(params)
        ids, cls = self._ids(params, "orders"), self._ids(params, "cl_ord_id")
        low, high = BATCH_CANCEL
        if not low <= len(ids) + len(cls) <= high:
            raise RefusedError(f"{INVALID}:orders")
        count = 0
        for name, values in (("order_id", ids), ("cliOrdId", cls)):
            for value in values:
                answer = self.exchange.handle("cancel_order", {name: [value]}, account)
                if answer["cancelStatus"]["status"] == "cancelled":
                    count += 1
        return {"count": count}
