"""What the public socket writes: timestamps, exact numbers, acks and pushes (reference §2).

Numbers leave as JSON numbers with exactly the digits chosen here (``.._json.dumps`` writes a
Decimal's own text, never through float), and the book's checksum is computed from the same
text (:func:`price_text`, :func:`qty_text`), so the twin and any client agree digit for digit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs

from .._json import dumps, format_number
from ..engine._text import iso_us

__all__ = [
    "INVALID",
    "Contract",
    "Request",
    "encode",
    "error_ack",
    "number_text",
    "push",
    "read_request",
    "rfc3339",
    "success_ack",
]


def rfc3339(timestamp: float) -> str:
    """``2026-12-01T12:00:00.000001Z``: UTC, microseconds, as Spot v2 writes times."""
    return iso_us(timestamp)


class Contract:
    """One listed contract's grid: how its prices and quantities are written on the wire.

    [?] choice: numbers are written at the contract's precision with trailing zeros kept
    (Spot v2 writes ``0.30000000`` at the pair's precision): a price with as many decimals as
    the tick has, a qty with ``qty_precision`` decimals (none for whole-contract grids).
    """

    __slots__ = (
        "_price_q",
        "_qty_q",
        "base",
        "price_increment",
        "price_precision",
        "qty_increment",
        "qty_precision",
        "symbol",
        "tradeable",
    )

    def __init__(
        self, symbol: str, *, tick: Decimal, trade_precision: int, base: str, tradeable: bool
    ) -> None:
        self.symbol = symbol
        self.base = base
        self.tradeable = tradeable
        self.price_increment = tick
        exponent = tick.normalize().as_tuple().exponent
        assert isinstance(exponent, int)
        self.price_precision = max(0, -exponent)
        self.qty_precision = max(0, trade_precision)
        self.qty_increment = Decimal(1).scaleb(-trade_precision)
        self._price_q = Decimal(1).scaleb(-self.price_precision)
        self._qty_q = Decimal(1).scaleb(-self.qty_precision)

    def price(self, value: Decimal) -> Decimal:
        """``value`` at the price grid's decimals (its text is what the wire carries)."""
        return value.quantize(self._price_q)

    def qty(self, value: Decimal) -> Decimal:
        return value.quantize(self._qty_q)


def number_text(value: Decimal) -> str:
    """The exact JSON text ``dumps`` writes for ``value`` (plain notation, never an exponent)."""
    return format_number(value)


def _times(message: dict[str, Any], time_in: float, time_out: float) -> dict[str, Any]:
    message["time_in"] = rfc3339(time_in)
    message["time_out"] = rfc3339(time_out)
    return message


def success_ack(
    method: str, req_id: int | None, result: dict[str, Any] | None, time_in: float, now: float
) -> str:
    message: dict[str, Any] = {"method": method}
    if req_id is not None:
        message["req_id"] = req_id
    if result is not None:
        message["result"] = result
    message["success"] = True
    return encode(_times(message, time_in, now))


def error_ack(
    method: str | None,
    req_id: int | None,
    error: str,
    time_in: float,
    now: float,
    *,
    symbol: str | None = None,
) -> str:
    """A refusal: ``success:false``, ``error`` a string, no ``result`` (Spot v2's shape)."""
    message: dict[str, Any] = {"error": error}
    if method is not None:
        message["method"] = method
    if req_id is not None:
        message["req_id"] = req_id
    message["success"] = False
    if symbol is not None:
        message["symbol"] = symbol
    return encode(_times(message, time_in, now))


def push(channel: str, kind: str, data: Any) -> str:
    return encode({"channel": channel, "type": kind, "data": data})


def encode(message: Any) -> str:
    return dumps(message).decode()


#: Spot v2's answer to arguments it cannot use (the [?] choice for UWS).
INVALID = "EGeneral:Invalid arguments"


@attrs.frozen
class Request:
    """A client frame that is a JSON object with an integer (or no) ``req_id``."""

    body: dict[str, Any]
    method: str | None
    req_id: int | None


def read_request(text: str, time_in: float, now: Callable[[], float]) -> Request | str:
    """The request in a frame, or the ack (its text) that answers it at once: an error for a
    frame that is not a JSON object or has a ``req_id`` that is not an integer; ``pong`` for
    a ping.

    Both sockets read their frames here, so they refuse the same way.
    """
    try:
        body = json.loads(text, parse_float=Decimal)
    except (ValueError, RecursionError):
        return error_ack(None, None, INVALID, time_in, now())
    if not isinstance(body, dict):
        return error_ack(None, None, INVALID, time_in, now())
    method = body.get("method")
    name = method if isinstance(method, str) else None
    req_id = body.get("req_id")
    if req_id is not None and type(req_id) is not int:
        return error_ack(name, None, f"{INVALID}:req_id", time_in, now())
    if name == "ping":
        return success_ack("pong", req_id, None, time_in, now())
    return Request(body, name, req_id)
