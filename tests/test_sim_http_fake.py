"""A stand-in exchange engine for the twin's HTTP-layer tests, and helpers to call the twin.

It implements the engine's two-method interface, records every call it receives (so a test
can tell whether a request reached the engine), and answers with small valid payloads. This
module holds no tests; the ``test_sim_http_*`` modules import it.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx

from kraken_futures_async.rest.signing import endpoint_path, sign
from kraken_futures_async.simulator import (
    ApiKey,
    ExchangeError,
    ManualClock,
    Reason,
    Twin,
    TwinConfig,
)
from kraken_futures_async.simulator.rest.app import server_time

__all__ = ["Call", "FakeExchange", "fake_twin", "raw_client", "signed_headers"]

Call = tuple[str, dict[str, list[str]], str | None]


class FakeExchange:
    """Answers like the engine would, from nothing but a counter and a clock."""

    #: Its answers are made up to test the HTTP layer; the OpenAPI check leaves them alone.
    TWIN_SCHEMA_EXEMPT = "a fake engine"

    def __init__(self, clock: ManualClock | None = None) -> None:
        self.clock = clock or ManualClock()
        self.accounts: dict[str, dict[str, Decimal]] = {}
        self.calls: list[Call] = []
        self._orders = 0

    def open_account(self, account_uid: str, balances: dict[str, Decimal], /) -> None:
        self.accounts[account_uid] = dict(balances)

    def operations(self) -> list[str]:
        return [operation for operation, _, _ in self.calls]

    def handle(
        self, operation: str, params: dict[str, list[str]], account_uid: str | None, /
    ) -> Any:
        self.calls.append((operation, params, account_uid))
        answer = getattr(self, f"_{operation}", None)
        if answer is None:
            raise ExchangeError("Unavailable")
        return answer(params)

    def _now(self) -> str:
        return server_time(self.clock.time())

    def _tickers(self, params: dict[str, list[str]]) -> dict[str, Any]:
        return {
            "tickers": [
                {"symbol": "PF_XBTUSD", "last": Decimal("64005.7"), "vol24h": Decimal("0E-11")},
                {"symbol": "PF_ETHUSD", "last": Decimal("3100.25")},
            ]
        }

    def _ticker(self, params: dict[str, list[str]]) -> dict[str, Any]:
        symbol = params["symbol"][0]
        if symbol.upper() not in ("PF_XBTUSD", "PF_ETHUSD"):
            raise ExchangeError(11, reason=Reason.VALIDATION, message="Argument invalid: symbol")
        return {"ticker": {"symbol": symbol.upper(), "last": Decimal("64005.7")}}

    def _candles(self, params: dict[str, list[str]]) -> dict[str, Any]:
        if params["resolution"][0] not in ("1m", "1h"):
            raise ExchangeError("Invalid resolution", reason=Reason.INVALID_ARGUMENT)
        return {"candles": [], "more_candles": False}

    def _send_order(self, params: dict[str, list[str]]) -> dict[str, Any]:
        self._orders += 1
        order_id = str(uuid.UUID(int=self._orders, version=4))
        status: dict[str, Any] = {
            "status": "placed",
            "order_id": order_id,
            "receivedTime": self._now(),
            "orderEvents": [],
        }
        if "cliOrdId" in params:
            status["cliOrdId"] = params["cliOrdId"][0]
        return {"sendStatus": status}

    def _order_status(self, params: dict[str, list[str]]) -> dict[str, Any]:
        return {"orders": []}

    def _open_orders(self, params: dict[str, list[str]]) -> dict[str, Any]:
        return {"openOrders": []}

    def _fills(self, params: dict[str, list[str]]) -> dict[str, Any]:
        return {"fills": []}

    def _history_orders(self, params: dict[str, list[str]]) -> dict[str, Any]:
        page: dict[str, Any] = {"accountUid": "acct", "len": 0, "elements": []}
        if "continuation_token" not in params:
            page["continuationToken"] = "bmV4dA=="
        return page

    def _account_log_csv(self, params: dict[str, list[str]]) -> str:
        return "id,date,asset\n1,2026-11-24T00:00:00.000Z,usd\n"

    def _batch_order(self, params: dict[str, list[str]]) -> dict[str, Any]:
        import json

        try:
            instructions = json.loads(params["json"][0])["batchOrder"]
        except (KeyError, ValueError):
            raise ExchangeError("Json Parse Error") from None
        return {
            "batchStatus": [
                {"status": "placed", "order_tag": str(i.get("order_tag")), "orderEvents": []}
                for i in instructions
            ]
        }


def fake_twin(**config: Any) -> tuple[Twin, FakeExchange]:
    """A twin on a ManualClock around a FakeExchange (config keywords go to TwinConfig)."""
    clock = config.setdefault("clock", ManualClock())
    exchange = FakeExchange(clock)
    return Twin(TwinConfig(**config), exchange=exchange), exchange


def raw_client(twin: Twin) -> httpx.AsyncClient:
    """A plain httpx client on the twin's in-process transport, for hand-made requests."""
    return httpx.AsyncClient(transport=twin.transport(), base_url="http://127.0.0.1")


def signed_headers(
    key: ApiKey, path: str, *, query: str = "", body: str = "", nonce: str | None = None
) -> dict[str, str]:
    """``APIKey``/``Nonce``/``Authent`` for a request, computed the way Kraken specifies."""
    secret = key.secret_bytes
    headers = {"APIKey": key.public_key}
    if nonce is not None:
        headers["Nonce"] = nonce
    headers["Authent"] = sign(secret, query + body, nonce or "", endpoint_path(path))
    return headers
