"""How the history API shows orders and triggers: Kraken's history spec, rendered.

Decimals are strings, times epoch milliseconds, and "" stands for an absent client id or limit
price. ``HistoricalOrder`` is the account's view; public market data shows the reduced
``HistoricalOrderSanitized``. Kraken marks ``trailingStopOptions`` and ``limitPriceOffset`` as
required objects on every trigger; a trigger without them gets ``null`` (listed in the tests'
schema allow-list).

Where Kraken's spec is silent the twin follows the shape of Kraken's live answers (as logs
published by ccxt and freqtrade users show them); each such choice:

* ``quantity`` is what is left of the order, not what was asked: ``"0"`` after a full fill,
  ``quantity - filled`` after a partial one (``filled`` says how much traded). The same holds
  for a user's order inside an execution (shown as the execution left it), for the public,
  sanitized order, and for both orders of the makers' background trades (``"0"``: each is
  filled by its one trade). The stand-in for the makers' side of a user's trade (the
  journal's) shows the traded size: how much of the makers' level is left is not modelled.
* ``algoId`` is present on every order, ``null``: no order of the twin comes from one of
  Kraken's algorithms.
* ``origin`` is present on every order, :data:`ORIGIN` (``"API"``): every order reaches the
  twin through an API. Kraken does not document this field's values; the spelling is the
  twin's choice.
* ``reducedQuantity`` is present on every ``OrderPlaced`` (``""``) and ``OrderUpdated``
  (``""`` unless an edit reduced the order) event, as the spec requires.
* The synthetic makers' orders (:mod:`.market_history`) are shown in the public order
  listing as Kraken shows other users' orders: placed, then filled (``full_fill``).
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from ._text import tidy
from .orders import TRIGGER_KINDS, Order

__all__ = [
    "MAKERS",
    "ORIGIN",
    "account_number",
    "historical_order",
    "historical_trigger",
    "ms",
    "public_order",
    "reason_of",
    "render",
    "text",
]

#: Where every order of the twin comes from (``origin``; Kraken leaves its values undocumented).
ORIGIN = "API"
#: The account uid shown for the makers' side of a trade and for another user's order.
MAKERS = "00000000-0000-4000-8000-000000000000"
_ORDER_TYPES = {"lmt": "Limit", "post": "Post", "ioc": "IoC", "fok": "IoC", "mkt": "Market"}
_SIGNALS = {"mark": "MarkPrice", "index": "SpotPrice", "last": "LastPrice"}
_UNITS = {"PERCENT": "Percent", "QUOTE_CURRENCY": "QuoteCurrency"}
_REASONS = {
    "IOC_WOULD_NOT_EXECUTE_REASON": "ioc_order_failed_because_it_would_not_be_executed",
    "POST_WOULD_EXECUTE_REASON": "post_order_failed_because_it_would_filled",
    "WOULD_EXECUTE_SELF_REASON": "would_execute_self",
}
_PUBLIC_ORDER_KEYS = (
    "uid",
    "tradeable",
    "direction",
    "quantity",
    "timestamp",
    "limitPrice",
    "orderType",
    "reduceOnly",
    "lastUpdateTimestamp",
)


def ms(at: float) -> int:
    return round(at * 1000)


def text(value: Decimal | None) -> str:
    """A decimal the history API's way: a plain string, "" when absent."""
    return "" if value is None else format(tidy(value), "f")


def reason_of(update_reason: str | None) -> str:
    if update_reason is None:
        return ""
    return _REASONS.get(update_reason, update_reason.lower())


def account_number(account_uid: str) -> int:
    """The numeric account id trigger records carry, derived from the account's uid."""
    return int.from_bytes(hashlib.blake2b(account_uid.encode(), digest_size=6).digest(), "big")


def historical_order(order: Order) -> dict[str, Any]:
    """``HistoricalOrder`` as the account sees it (a fired trigger shows the order it became)."""
    if order.kind in TRIGGER_KINDS:
        kind = "Market" if order.immediate else "Limit"
    else:
        kind = _ORDER_TYPES[order.kind]
    return {
        "uid": order.order_id,
        "accountUid": order.account,
        "tradeable": order.symbol,
        "direction": "Buy" if order.is_buy else "Sell",
        "quantity": text(order.remaining),
        "filled": text(order.filled),
        "timestamp": ms(order.received),
        "limitPrice": text(order.limit_price),
        "orderType": kind,
        "clientId": order.cli_ord_id or "",
        "reduceOnly": order.reduce_only,
        "lastUpdateTimestamp": ms(order.updated),
        "spotData": None,
        "algoId": None,
        "origin": ORIGIN,
    }


def public_order(order: dict[str, Any]) -> dict[str, Any]:
    """The reduced ``HistoricalOrderSanitized`` public market data shows."""
    return {key: order[key] for key in _PUBLIC_ORDER_KEYS}


def historical_trigger(order: Order) -> dict[str, Any]:
    trailing = None
    if order.trail_deviation is not None and order.trail_unit is not None:
        trailing = {"maxDeviation": text(order.trail_deviation), "unit": _UNITS[order.trail_unit]}
    offset = None
    if order.offset_value is not None and order.offset_unit is not None:
        offset = {"priceOffset": text(order.offset_value), "unit": _UNITS[order.offset_unit]}
    limited = order.limit_price is not None or offset is not None
    return {
        "uid": order.order_id,
        "accountId": account_number(order.account),
        "accountUid": order.account,
        "tradeable": order.symbol,
        "direction": "Buy" if order.is_buy else "Sell",
        "quantity": text(order.quantity),
        "timestamp": ms(order.received),
        "limitPrice": text(order.limit_price),
        "orderType": "Limit" if limited else "Market",
        "clientId": order.cli_ord_id or "",
        "reduceOnly": order.reduce_only,
        "lastUpdateTimestamp": ms(order.updated),
        "triggerOptions": {
            "triggerPrice": text(order.stop_price),
            "triggerSignal": _SIGNALS[order.trigger_signal or "mark"],
            "triggerSide": "Above" if order.trigger_above else "Below",
            "trailingStopOptions": trailing,
            "limitPriceOffset": offset,
        },
    }


def render(order: Order) -> dict[str, Any]:
    """The order as its current kind of record shows it (trigger while waiting)."""
    return historical_trigger(order) if order.is_trigger else historical_order(order)
