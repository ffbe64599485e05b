"""Order requests: reading their parameters and rendering their statuses.

A request that cannot be read (a missing or unreadable argument, an unknown symbol) is refused
as a whole with an :class:`ExchangeError`; a request that can be read is assessed by the venue
and answered with a status (``placed``, ``insufficientAvailableFunds``, ...) and order events,
as on Kraken. Inside a batch the same refusals become per-instruction statuses instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .._json import dumps, loads
from ..errors import ExchangeError, Reason
from ._text import iso_ms
from .accounts import Account
from .market_data import unknown_symbol
from .orders import cached_order_json
from .params import Params, parse_decimal
from .venue import EditRequest, OrderRequest, Outcome, Venue

__all__ = ["Trading"]

ORDER_TYPES = frozenset({"lmt", "post", "ioc", "mkt", "stp", "take_profit", "trailing_stop", "fok"})
_NEEDS_LIMIT = frozenset({"lmt", "post", "ioc", "fok"})
_NEEDS_STOP = frozenset({"stp", "take_profit"})
_SIGNALS = {"mark": "mark", "index": "index", "spot": "index", "last": "last"}
_UNITS = frozenset({"PERCENT", "QUOTE_CURRENCY"})
_STATUS_WINDOW = 5.0
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
#: Statuses whose batch spelling differs from sendorder's.
_BATCH_STATUS = {"clientOrderIdTooBig": "clientOrderIdTooLong"}


class _UnreadableError(Exception):
    """An order request that cannot be read: ``status`` inside a batch, ``error`` alone."""

    def __init__(self, status: str, error: ExchangeError) -> None:
        super().__init__(status)
        self.status = status
        self.error = error


def _missing() -> _UnreadableError:
    return _UnreadableError("requiredArgumentMissing", ExchangeError("requiredArgumentMissing"))


def _invalid(status: str) -> _UnreadableError:
    return _UnreadableError(status, ExchangeError("invalidArgument"))


def _number(params: Params, name: str, status: str) -> Decimal | None:
    text = params.text(name)
    if text is None:
        return None
    value = parse_decimal(text)
    if value is None:
        raise _invalid(status)
    return value


def _boolean(params: Params, name: str) -> bool:
    try:
        return params.boolean(name)
    except ExchangeError:
        raise _invalid("invalidArgument") from None


def _unit(params: Params, name: str) -> str | None:
    text = params.text(name)
    if text is None:
        return None
    upper = text.strip().upper()
    if upper not in _UNITS:
        raise _invalid("invalidArgument")
    return upper


class Trading:
    def __init__(self, venue: Venue) -> None:
        self._venue = venue

    # reading requests ---------------------------------------------------------------------

    def _order_request(self, params: Params) -> OrderRequest:
        kind_text = params.text("orderType")
        symbol_text = params.text("symbol")
        side_text = params.text("side")
        size_text = params.text("size")
        if kind_text is None or symbol_text is None or side_text is None or size_text is None:
            raise _missing()
        kind = kind_text.strip().lower()
        if kind not in ORDER_TYPES:
            raise _invalid("invalidOrderType")
        side = side_text.strip().lower()
        if side not in ("buy", "sell"):
            raise _invalid("invalidSide")
        spec = self._venue.spec_for(symbol_text)
        if spec is None:
            raise _UnreadableError("marketInactive", unknown_symbol())
        size = _number(params, "size", "invalidSize")
        assert size is not None
        limit = _number(params, "limitPrice", "invalidPrice")
        stop = _number(params, "stopPrice", "invalidPrice")
        signal_text = params.text("triggerSignal")
        signal = "mark"
        if signal_text is not None:
            mapped = _SIGNALS.get(signal_text.strip().lower())
            if mapped is None:
                raise _invalid("invalidArgument")
            signal = mapped
        deviation = _number(params, "trailingStopMaxDeviation", "invalidPrice")
        deviation_unit = _unit(params, "trailingStopDeviationUnit")
        offset = _number(params, "limitPriceOffsetValue", "invalidPrice")
        offset_unit = _unit(params, "limitPriceOffsetUnit")
        if kind in _NEEDS_LIMIT and limit is None:
            raise _missing()
        if kind in _NEEDS_STOP and stop is None:
            raise _missing()
        if kind == "trailing_stop" and (deviation is None or deviation_unit is None):
            raise _missing()
        if (offset is None) != (offset_unit is None):
            raise _missing()
        if kind == "mkt":
            limit = None
        if kind == "trailing_stop":
            limit = stop = None
        return OrderRequest(
            kind=kind,
            symbol=spec.symbol,
            side=side,
            size=size,
            limit_price=limit,
            stop_price=stop,
            trigger_signal=signal,
            cli_ord_id=params.text("cliOrdId"),
            reduce_only=_boolean(params, "reduceOnly"),
            trail_deviation=deviation,
            trail_unit=deviation_unit,
            offset_value=offset,
            offset_unit=offset_unit,
        )

    def _edit_request(self, params: Params) -> EditRequest:
        mode = (params.text("qtyMode") or "RELATIVE").strip().upper()
        if mode not in ("RELATIVE", "ABSOLUTE"):
            raise _invalid("invalidArgument")
        return EditRequest(
            size=_number(params, "size", "invalidSize"),
            limit_price=_number(params, "limitPrice", "invalidPrice"),
            stop_price=_number(params, "stopPrice", "invalidPrice"),
            trail_deviation=_number(params, "trailingStopMaxDeviation", "invalidPrice"),
            trail_unit=_unit(params, "trailingStopDeviationUnit"),
            absolute=mode == "ABSOLUTE",
        )

    def _too_late(self, params: Params) -> bool:
        before = params.time("processBefore")
        if before is None:
            before = params.time("ProcessBefore")
        return before is not None and self._venue.now > before

    # sendorder ----------------------------------------------------------------------------

    def _send(self, account: Account, params: Params) -> tuple[Outcome, str | None]:
        request = self._order_request(params)
        return self._venue.place(account, request), request.cli_ord_id

    def send_order(self, account: Account, params: Params) -> dict[str, Any]:
        received = self._venue.now
        if self._too_late(params):
            status = {"status": "wouldProcessAfterSpecifiedTime", "receivedTime": iso_ms(received)}
            return {"sendStatus": status}
        try:
            outcome, cli = self._send(account, params)
        except _UnreadableError as refusal:
            raise refusal.error from None
        return {"sendStatus": self._send_status(outcome, cli, received, "receivedTime")}

    @staticmethod
    def _send_status(
        outcome: Outcome, cli: str | None, received: float, time_key: str
    ) -> dict[str, Any]:
        status: dict[str, Any] = {"status": outcome.status}
        if outcome.order is not None:
            status["order_id"] = outcome.order.order_id
        if cli is not None:
            status["cliOrdId"] = cli
        status[time_key] = iso_ms(received)
        if outcome.order is not None:
            status["orderEvents"] = outcome.events
        return status

    # editorder ----------------------------------------------------------------------------

    def _edit(
        self, account: Account, params: Params, id_name: str
    ) -> tuple[Outcome, str | None, str | None]:
        order_id = params.text(id_name)
        cli = params.text("cliOrdId")
        if order_id is None and cli is None:
            raise _missing()
        request = self._edit_request(params)
        order = self._venue.find(account, order_id, cli)
        if order is None:
            return Outcome("orderForEditNotFound"), order_id, cli
        return self._venue.edit(account, order, request), order.order_id, order.cli_ord_id

    def edit_order(self, account: Account, params: Params) -> dict[str, Any]:
        received = self._venue.now
        if self._too_late(params):
            outcome = Outcome("wouldProcessAfterSpecifiedTime")
            order_id, cli = params.text("orderId"), params.text("cliOrdId")
        else:
            try:
                outcome, order_id, cli = self._edit(account, params, "orderId")
            except _UnreadableError as refusal:
                raise refusal.error from None
        status: dict[str, Any] = {"status": outcome.status, "orderId": order_id}
        if cli is not None:
            status["cliOrdId"] = cli
        status["receivedTime"] = iso_ms(received)
        status["orderEvents"] = outcome.events if outcome.status == "edited" else []
        return {"editStatus": status}

    # cancelorder --------------------------------------------------------------------------

    def _cancel(
        self, account: Account, order_id: str | None, cli: str | None
    ) -> tuple[str, str | None, str | None, list[dict[str, Any]]]:
        venue = self._venue
        order = venue.find(account, order_id, cli)
        if order is not None:
            event = venue.cancel(account, order, venue.now, "CANCELLED_BY_USER")
            return "cancelled", order.order_id, order.cli_ord_id, [event]
        closed = self._closed(account, order_id, cli, window=None)
        if closed is not None and closed.status == "FULLY_EXECUTED":
            return "filled", closed.order_id, closed.cli_ord_id, []
        return "notFound", None, None, []

    def cancel_order(self, account: Account, params: Params) -> dict[str, Any]:
        received = self._venue.now
        order_id, cli = params.text("order_id"), params.text("cliOrdId")
        if order_id is None and cli is None:
            raise ExchangeError("requiredArgumentMissing")
        if self._too_late(params):
            late = {"status": "wouldProcessAfterSpecifiedTime", "receivedTime": iso_ms(received)}
            return {"cancelStatus": late}
        status_text, found_id, found_cli, events = self._cancel(account, order_id, cli)
        status: dict[str, Any] = {"status": status_text}
        if found_id is not None:
            status["order_id"] = found_id
        if found_cli is not None:
            status["cliOrdId"] = found_cli
        status["receivedTime"] = iso_ms(received)
        if status_text != "notFound":
            status["orderEvents"] = events
        return {"cancelStatus": status}

    def _closed(
        self, account: Account, order_id: str | None, cli: str | None, window: float | None
    ) -> Any:
        for order in reversed(account.recent.values()):
            if (order_id is not None and order.order_id == order_id) or (
                order_id is None and cli is not None and order.cli_ord_id == cli
            ):
                closed_at = order.closed_at if order.closed_at is not None else 0.0
                if window is None or closed_at >= self._venue.now - window:
                    return order
                return None
        return None

    # cancelallorders and the dead man's switch -------------------------------------------

    def cancel_all_orders(self, account: Account, params: Params) -> dict[str, Any]:
        venue = self._venue
        received = venue.now
        symbol_text = params.text("symbol")
        symbol: str | None = None
        if symbol_text is not None:
            spec = venue.spec_for(symbol_text)
            if spec is None:
                raise unknown_symbol()
            symbol = spec.symbol
        cancelled, events = venue.cancel_all(account, symbol, received)
        ids: list[dict[str, Any]] = []
        for order in cancelled:
            item: dict[str, Any] = {"order_id": order.order_id}
            if order.cli_ord_id is not None:
                item["cliOrdId"] = order.cli_ord_id
            ids.append(item)
        return {
            "cancelStatus": {
                "receivedTime": iso_ms(received),
                "cancelOnly": symbol_text if symbol_text is not None else "all",
                "status": "cancelled" if cancelled else "noOrdersToCancel",
                "cancelledOrders": ids,
                "orderEvents": events,
            }
        }

    def cancel_all_orders_after(self, account: Account, params: Params) -> dict[str, Any]:
        venue = self._venue
        timeout = params.decimal("timeout")
        if timeout is None:
            timeout = Decimal(0)
        if timeout < 0 or timeout != timeout.to_integral_value() or timeout > 2**32 - 1:
            raise ExchangeError("invalidArgument")
        now = venue.now
        if timeout == 0:
            account.dead_man_at = None
            trigger = "0"
        else:
            account.dead_man_at = now + float(timeout)
            trigger = iso_ms(account.dead_man_at)
        return {"status": {"currentTime": iso_ms(now), "triggerTime": trigger}}

    # batchorder ---------------------------------------------------------------------------

    def batch_order(self, account: Account, params: Params) -> dict[str, Any]:
        text = params.text("json")
        if text is None:
            raise ExchangeError("requiredArgumentMissing")
        document = loads(text)
        if not isinstance(document, dict):
            raise ExchangeError("Json Parse Error")
        instructions = document.get("batchOrder")
        if not isinstance(instructions, list):
            raise ExchangeError("requiredArgumentMissing")
        late = self._too_late(params)
        received = self._venue.now
        results = [self._instruction(account, item, late, received) for item in instructions]
        return {"batchStatus": results}

    def _instruction(
        self, account: Account, item: Any, late: bool, received: float
    ) -> dict[str, Any]:
        if not isinstance(item, dict):
            return {"status": "invalidArgument", "orderEvents": []}
        fields = _as_params(item)
        action = (fields.text("order") or "").lower()
        tag = fields.text("order_tag")
        if action == "send":
            result: dict[str, Any] = {"status": "", "order_tag": tag}
            if late:
                result.update(status="wouldProcessAfterSpecifiedTime", orderEvents=[])
                return result
            try:
                outcome, cli = self._send(account, fields)
            except _UnreadableError as refusal:
                result.update(status=refusal.status, orderEvents=[])
                return result
            status = self._send_status(outcome, cli, received, "dateTimeReceived")
            status["status"] = _BATCH_STATUS.get(outcome.status, outcome.status)
            status.setdefault("order_id", None)
            status.setdefault("orderEvents", [])
            result.update(status)
            return result
        if action == "edit":
            if late:
                return {"status": "wouldProcessAfterSpecifiedTime", "orderEvents": []}
            try:
                outcome, order_id, cli = self._edit(account, fields, "order_id")
            except _UnreadableError as refusal:
                return {"status": refusal.status, "orderEvents": []}
            edited: dict[str, Any] = {"status": outcome.status, "order_id": order_id}
            if cli is not None:
                edited["cliOrdId"] = cli
            edited["orderEvents"] = outcome.events if outcome.status == "edited" else []
            return edited
        if action == "cancel":
            order_id, cli = fields.text("order_id"), fields.text("cliOrdId")
            if order_id is None and cli is None:
                return {"status": "requiredArgumentMissing", "orderEvents": []}
            if late:
                return {"status": "wouldProcessAfterSpecifiedTime", "orderEvents": []}
            status_text, found_id, found_cli, events = self._cancel(account, order_id, cli)
            cancelled: dict[str, Any] = {"status": status_text, "order_id": found_id or order_id}
            if found_cli is not None or cli is not None:
                cancelled["cliOrdId"] = found_cli if found_cli is not None else cli
            cancelled["orderEvents"] = events
            return cancelled
        if not action:
            return {"status": "requiredArgumentMissing", "orderEvents": []}
        return {"status": "invalidArgument", "orderEvents": []}

    # orders/status ------------------------------------------------------------------------

    def order_status(self, account: Account, params: Params) -> dict[str, Any]:
        order_ids = params.texts("orderIds")
        cli_ids = params.texts("cliOrdIds")
        for text in order_ids:
            if not _UUID.match(text.strip()):
                message = "UUID string too large" if len(text) > 36 else "Invalid UUID string"
                raise ExchangeError(11, reason=Reason.VALIDATION, message=message)
        seen: set[str] = set()
        found: list[dict[str, Any]] = []
        wanted: list[tuple[str | None, str | None]] = [(i.strip(), None) for i in order_ids]
        wanted += [(None, cli) for cli in cli_ids]
        for wanted_id, wanted_cli in wanted:
            order = self._venue.find(account, wanted_id, wanted_cli)
            if order is None:
                order = self._closed(account, wanted_id, wanted_cli, window=_STATUS_WINDOW)
            if order is not None and order.order_id not in seen:
                seen.add(order.order_id)
                found.append(cached_order_json(order))
        return {"orders": found}


def _as_params(item: Mapping[str, Any]) -> Params:
    """A batch instruction's JSON values as request strings (numbers may be JSON or text)."""
    converted: dict[str, list[str]] = {}
    for key, value in item.items():
        if value is None:
            continue
        if isinstance(value, bool):
            converted[key] = ["true" if value else "false"]
        elif isinstance(value, int | Decimal | str):
            converted[key] = [str(value)]
        else:
            converted[key] = [dumps(value).decode()]
    return Params(converted)
