"""Helpers for the engine tests: a twin on a manual clock, calls, and Kraken's response schemas.

``assert_valid`` wraps a payload in ``result``/``serverTime`` as the HTTP layer will and checks
it against the 200-response schema of its operation in Kraken's OpenAPI files (through the
shared loader in ``tests/openapi_spec.py``), so the twin's answers are held to Kraken's own
contract.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from kraken_futures_async.rest.endpoints import endpoint
from kraken_futures_async.simulator.clock import DEFAULT_START, ManualClock
from kraken_futures_async.simulator.engine import Exchange

from .openapi_spec import validate_response
from .twin_checks import check_engine_payload

__all__ = [
    "ACCOUNT",
    "OTHER",
    "Twin",
    "assert_valid",
    "level_size",
]

ACCOUNT = "acct-1"
OTHER = "acct-2"


def assert_valid(operation: str, payload: Mapping[str, Any]) -> None:
    """Raise if ``payload`` does not match Kraken's 200-response schema for ``operation``."""
    row = endpoint(operation)
    body: dict[str, Any] = dict(payload)
    if row.envelope:
        body = {"result": "success", **body, "serverTime": "2026-11-24T00:00:00.000Z"}
    validate_response(row.operation_id, 200, body)


class Twin:
    """An engine on a manual clock, with two funded accounts."""

    def __init__(self, seed: int = 0, start: float = DEFAULT_START, **balances: Decimal) -> None:
        self.clock = ManualClock(start)
        self.exchange = Exchange(seed=seed, clock=self.clock)
        self.exchange.open_account(ACCOUNT, dict(balances) if balances else None)
        self.exchange.open_account(OTHER)

    def call(
        self, operation: str, account: str | None = None, **params: str | list[str]
    ) -> dict[str, Any]:
        """Call the engine; whatever it answers is held to the spec (``twin_checks``)."""
        wire = {k: [v] if isinstance(v, str) else list(v) for k, v in params.items()}
        payload: dict[str, Any] = self.exchange.handle(operation, wire, account)
        check_engine_payload(operation, payload)
        return payload

    def checked(
        self, operation: str, account: str | None = None, **params: str | list[str]
    ) -> dict[str, Any]:
        """Call and validate the answer against Kraken's schema."""
        payload = self.call(operation, account, **params)
        assert_valid(operation, payload)
        return payload

    def book(self, symbol: str) -> dict[str, list[list[Decimal]]]:
        book: dict[str, list[list[Decimal]]] = self.call("orderbook", symbol=symbol)["orderBook"]
        return book

    def send(self, account: str = ACCOUNT, **params: str) -> dict[str, Any]:
        status: dict[str, Any] = self.checked("send_order", account, **params)["sendStatus"]
        return status

    def open_orders(self, account: str = ACCOUNT) -> list[dict[str, Any]]:
        orders: list[dict[str, Any]] = self.checked("open_orders", account)["openOrders"]
        return orders

    def positions(self, account: str = ACCOUNT) -> dict[str, dict[str, Any]]:
        rows = self.checked("open_positions", account)["openPositions"]
        return {row["symbol"]: row for row in rows}

    def flex(self, account: str = ACCOUNT) -> dict[str, Any]:
        flex: dict[str, Any] = self.checked("accounts", account)["accounts"]["flex"]
        return flex

    def fills(self, account: str = ACCOUNT) -> list[dict[str, Any]]:
        fills: list[dict[str, Any]] = self.checked("fills", account)["fills"]
        return fills

    def status(self, account: str = ACCOUNT, **params: str | list[str]) -> list[dict[str, Any]]:
        orders: list[dict[str, Any]] = self.checked("order_status", account, **params)["orders"]
        return orders

    def mark(self, symbol: str, at: float | None = None) -> Decimal:
        return self.exchange.mark_price(symbol, at)


def level_size(levels: list[list[Decimal]], price: Decimal) -> Decimal:
    """The size shown at ``price`` in one side of a book (0 when the price is not there)."""
    for level_price, size in levels:
        if level_price == price:
            return size
    return Decimal(0)
