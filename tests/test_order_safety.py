"""Retries and reconciliation against a scripted exchange: never a duplicate, never a lost order."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import time_machine

from kraken_futures_async import (
    Credentials,
    OrderRejectedError,
    OrderStatusUnknownError,
    RateLimitPolicy,
    Session,
)
from kraken_futures_async.models import OrderRequestStatus
from kraken_futures_async.retry import OrderSafety, RetryPolicy

from .conftest import BASE_URL

SERVER_START = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
ORDER_ID = "5b1d3c1e-7c0a-4f4e-9d59-2a6f0c3b9e11"


def _stamp(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


class ScriptedExchange:
    """Answers like Kraken, with a server clock the test moves and faults it schedules."""

    def __init__(self) -> None:
        self.now = SERVER_START
        self.requests: list[tuple[str, dict[str, list[str]]]] = []
        self.send_faults: list[Callable[[httpx.Request], httpx.Response]] = []
        self.orders: dict[str, dict[str, Any]] = {}  # by cliOrdId, what reached the book
        self.fills: list[dict[str, Any]] = []
        self.clock_step_per_lookup = dt.timedelta(0)
        self.status_override: str | None = None
        self.history: list[dict[str, Any]] = []
        self.history_lookups = 0

    def envelope(self, **payload: Any) -> httpx.Response:
        body = {"result": "success", **payload, "serverTime": _stamp(self.now)}
        return httpx.Response(200, text=json.dumps(body))

    def sends(self) -> list[dict[str, list[str]]]:
        return [p for path, p in self.requests if path.endswith("/sendorder")]

    def handler(self, request: httpx.Request) -> httpx.Response:
        params = parse_qs(request.url.query.decode() + "&" + request.content.decode())
        path = request.url.path
        self.requests.append((path, params))
        if path.endswith("/sendorder"):
            if self.send_faults:
                return self.send_faults.pop(0)(request)
            return self.place(params)
        if path.endswith("/orders/status"):
            self.now += self.clock_step_per_lookup
            wanted = set(params.get("cliOrdIds", []))
            found = [self.status_of(o) for cid, o in self.orders.items() if cid in wanted]
            return self.envelope(orders=found)
        if path.endswith("/fills"):
            return self.envelope(fills=self.fills)
        if path.endswith("/api/history/v3/orders"):
            self.history_lookups += 1
            elements = [e for e in self.history if e["uid"]]
            return httpx.Response(
                200, json={"accountUid": "acct", "len": len(elements), "elements": elements}
            )
        if path.endswith("/accounts"):
            return self.envelope(accounts={})
        raise AssertionError(f"unexpected request {path}")

    def place(self, params: dict[str, list[str]]) -> httpx.Response:
        cli = params["cliOrdId"][0]
        deadline = params.get("processBefore", [None])[0]
        if deadline is not None and self.now > dt.datetime.fromisoformat(deadline):
            status = {"status": "wouldProcessAfterSpecifiedTime", "receivedTime": _stamp(self.now)}
            return self.envelope(sendStatus=status)
        order = {"cli": cli, "size": params["size"][0], "price": params["limitPrice"][0]}
        self.orders[cli] = order
        return self.envelope(
            sendStatus={
                "order_id": ORDER_ID,
                "cliOrdId": cli,
                "status": "placed",
                "receivedTime": _stamp(self.now),
                "orderEvents": [],
            }
        )

    def status_of(self, order: dict[str, Any]) -> dict[str, Any]:
        return {
            "order": {
                "type": "ORDER",
                "orderId": ORDER_ID,
                "cliOrdId": order["cli"],
                "symbol": "PF_XBTUSD",
                "side": "buy",
                "quantity": order["size"],
                "filled": 0,
                "limitPrice": order["price"],
                "reduceOnly": False,
                "timestamp": _stamp(SERVER_START),
                "lastUpdateTimestamp": _stamp(SERVER_START),
                "algoId": None,
                "priceTriggerOptions": None,
                "triggerTime": None,
            },
            "status": self.status_override or "ENTERED_BOOK",
            "updateReason": None,
            "error": "INVALID_PRICE" if self.status_override == "REJECTED" else None,
        }


Fault = Callable[[httpx.Request], httpx.Response]


def _taken_then(fault: Fault, exchange: ScriptedExchange) -> Fault:
    """The order reaches the book, then the answer is lost in the given way."""

    def run(request: httpx.Request) -> httpx.Response:
        exchange.place(parse_qs(request.content.decode()))
        return fault(request)

    return run


def _timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("no answer", request=request)


def _bad_gateway(request: httpx.Request) -> httpx.Response:
    return httpx.Response(502, text="<html>502 Bad Gateway</html>")


def _garbled(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, text='{"result":"success","sendSta')


def _refused_connection(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("refused", request=request)


def session_for(
    exchange: ScriptedExchange,
    credentials: Credentials,
    *,
    deadline: float = 5.0,
    retry: RetryPolicy | None = None,
) -> Session:
    return Session(
        credentials,
        base_url=BASE_URL,
        transport=httpx.MockTransport(exchange.handler),
        rate_limits=RateLimitPolicy.unlimited(),
        retry=retry or RetryPolicy(base_delay=0.0),
        order_safety=OrderSafety(process_before=10.0, patience=deadline, poll_interval=0.001),
        check_orders=False,
    )


async def _prime_clock(kf: Session) -> None:
    """One answer from the exchange tells the Session the server's time."""
    await kf.account.accounts()


async def place(kf: Session, cli: str = "order-1") -> Any:
    return await kf.orders.send(
        symbol="PF_XBTUSD", side="buy", size=Decimal("0.01"), limit_price=60000, cli_ord_id=cli
    )


@pytest.mark.parametrize("fault", [_timeout, _bad_gateway, _garbled], ids=lambda f: f.__name__)
async def test_a_lost_answer_for_a_placed_order_is_found_not_resent(
    credentials: Credentials, fault: Callable[[httpx.Request], httpx.Response]
) -> None:
    exchange = ScriptedExchange()
    exchange.send_faults.append(_taken_then(fault, exchange))
    async with session_for(exchange, credentials) as kf:
        await _prime_clock(kf)
        result = await place(kf)
    assert result.status is OrderRequestStatus.PLACED
    assert result.order_id == ORDER_ID
    assert result.cli_ord_id == "order-1"
    assert len(exchange.sends()) == 1
    assert list(exchange.orders) == ["order-1"]


@pytest.mark.parametrize("fault", [_timeout, _bad_gateway], ids=lambda f: f.__name__)
async def test_an_order_proven_never_taken_is_sent_again_once(
    credentials: Credentials, fault: Callable[[httpx.Request], httpx.Response]
) -> None:
    exchange = ScriptedExchange()
    exchange.send_faults.append(fault)  # lost before the exchange took it
    exchange.clock_step_per_lookup = dt.timedelta(seconds=4)
    async with session_for(exchange, credentials) as kf:
        await _prime_clock(kf)
        result = await place(kf)
    assert result.status is OrderRequestStatus.PLACED
    sends = exchange.sends()
    assert len(sends) == 2
    assert sends[0]["cliOrdId"] == sends[1]["cliOrdId"] == ["order-1"]
    first_deadline = dt.datetime.fromisoformat(sends[0]["processBefore"][0])
    lookups = [p for p, _ in exchange.requests if p.endswith("/orders/status")]
    # it was re-sent only after a lookup that began past the first attempt's deadline
    assert first_deadline < exchange.now
    assert len(lookups) >= 3
    assert exchange.history_lookups >= 1  # the history had the last word before the re-send
    assert list(exchange.orders) == ["order-1"]


async def test_when_the_truth_cannot_be_known_the_error_carries_the_client_id(
    credentials: Credentials,
) -> None:
    exchange = ScriptedExchange()
    exchange.send_faults.append(_timeout)  # never taken, and the server clock stands still
    async with session_for(exchange, credentials, deadline=0.05) as kf:
        await _prime_clock(kf)
        with pytest.raises(OrderStatusUnknownError) as info:
            await place(kf, cli="order-unknown")
    assert info.value.cli_ord_id == "order-unknown"
    assert "order-unknown" in str(info.value)
    assert len(exchange.sends()) == 1
    assert exchange.orders == {}


async def test_a_filled_order_is_found_in_the_fills(credentials: Credentials) -> None:
    exchange = ScriptedExchange()
    exchange.send_faults.append(_timeout)
    exchange.fills.append(
        {
            "fill_id": "f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0f9",
            "order_id": ORDER_ID,
            "cliOrdId": "order-1",
            "symbol": "PF_XBTUSD",
            "side": "buy",
            "size": 0.01,
            "price": 60000,
            "fillTime": _stamp(SERVER_START),
            "fillType": "taker",
        }
    )
    async with session_for(exchange, credentials) as kf:
        await _prime_clock(kf)
        result = await place(kf)
    assert result.status is OrderRequestStatus.FILLED
    assert result.order_id == ORDER_ID
    assert len(exchange.sends()) == 1


async def test_an_order_the_exchange_rejected_raises_the_rejection(
    credentials: Credentials,
) -> None:
    exchange = ScriptedExchange()
    exchange.send_faults.append(_taken_then(_timeout, exchange))
    exchange.status_override = "REJECTED"
    async with session_for(exchange, credentials) as kf:
        await _prime_clock(kf)
        with pytest.raises(OrderRejectedError) as info:
            await place(kf)
    # the lookup's OrderError is spelled as sendStatus spells the same refusal
    assert info.value.status == "invalidPrice"
    assert "INVALID_PRICE" in str(info.value)
    assert info.value.cli_ord_id == "order-1"
    assert len(exchange.sends()) == 1


async def test_a_refused_connection_is_retried_because_nothing_was_sent(
    credentials: Credentials,
) -> None:
    exchange = ScriptedExchange()
    exchange.send_faults.append(_refused_connection)
    async with session_for(exchange, credentials) as kf:
        await _prime_clock(kf)
        result = await place(kf)
    assert result.status is OrderRequestStatus.PLACED
    # the first attempt never reached the handler's book; the retry placed it once
    assert list(exchange.orders) == ["order-1"]
    assert not any(p.endswith("/orders/status") for p, _ in exchange.requests)


async def test_without_a_deadline_an_untraceable_order_is_never_resent(
    credentials: Credentials,
) -> None:
    exchange = ScriptedExchange()
    exchange.send_faults.append(_timeout)
    exchange.clock_step_per_lookup = dt.timedelta(seconds=30)
    session = Session(
        credentials,
        base_url=BASE_URL,
        transport=httpx.MockTransport(exchange.handler),
        rate_limits=RateLimitPolicy.unlimited(),
        order_safety=OrderSafety(process_before=None, patience=0.05, poll_interval=0.001),
        check_orders=False,
    )
    async with session as kf:
        with pytest.raises(OrderStatusUnknownError):
            await place(kf)
    assert len(exchange.sends()) == 1
    assert "processBefore" not in exchange.sends()[0]


async def test_reads_are_retried_with_fresh_signatures(credentials: Credentials) -> None:
    answers = [
        httpx.Response(502, text="<html>bad gateway</html>"),
        httpx.Response(200, text='{"result":"succ'),
        httpx.Response(
            200, json={"result": "success", "serverTime": _stamp(SERVER_START), "openPositions": []}
        ),
    ]
    nonces: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        nonces.append(request.headers["Nonce"])
        return answers.pop(0)

    async with Session(
        credentials,
        base_url=BASE_URL,
        transport=httpx.MockTransport(handler),
        rate_limits=RateLimitPolicy.unlimited(),
        retry=RetryPolicy(base_delay=0.0),
        check_orders=False,
    ) as kf:
        assert await kf.account.open_positions() == []
    assert len(nonces) == 3
    assert len(set(nonces)) == 3


async def test_session_estimates_the_exchange_clock(credentials: Credentials) -> None:
    exchange = ScriptedExchange()
    exchange.now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    async with session_for(exchange, credentials) as kf:
        await _prime_clock(kf)
        estimate = kf.server_now()
    assert abs((estimate - exchange.now).total_seconds()) < 5


async def test_our_own_deadline_refused_for_clock_skew_is_corrected_once(
    credentials: Credentials,
) -> None:
    """Before any answer the Session assumes the local clock; the exchange is hours ahead."""
    exchange = ScriptedExchange()
    machine_clock = SERVER_START - dt.timedelta(hours=3)
    with time_machine.travel(machine_clock, tick=True):
        async with session_for(exchange, credentials) as kf:
            result = await place(kf)
    assert result.status is OrderRequestStatus.PLACED
    sends = exchange.sends()
    assert len(sends) == 2
    assert dt.datetime.fromisoformat(sends[1]["processBefore"][0]) > exchange.now


async def test_a_callers_own_deadline_is_never_moved(credentials: Credentials) -> None:
    exchange = ScriptedExchange()
    async with session_for(exchange, credentials) as kf:
        with pytest.raises(OrderRejectedError) as info:
            await kf.orders.send(
                symbol="PF_XBTUSD",
                side="buy",
                size=1,
                limit_price=60000,
                process_before=SERVER_START - dt.timedelta(seconds=1),
            )
    assert info.value.status == "wouldProcessAfterSpecifiedTime"
    assert len(exchange.sends()) == 1


def _placed_then_cancelled(cli: str) -> dict[str, Any]:
    """The order history's record of an order that rested and was cancelled since."""
    order = {
        "uid": ORDER_ID,
        "accountUid": "acct",
        "tradeable": "PF_XBTUSD",
        "direction": "Buy",
        "quantity": "0.01",
        "filled": "0",
        "timestamp": 1795000000000,
        "limitPrice": "60000",
        "orderType": "Limit",
        "clientId": cli,
        "reduceOnly": False,
        "lastUpdateTimestamp": 1795000000000,
    }
    return {
        "uid": "e1",
        "timestamp": 1795000000000,
        "event": {"OrderPlaced": {"order": order, "reason": "new_user_order"}},
    }


async def test_an_order_forgotten_by_status_and_fills_is_found_in_the_history(
    credentials: Credentials,
) -> None:
    """Placed, then cancelled before the lookup: only the exchange's order history knows."""
    exchange = ScriptedExchange()
    exchange.send_faults.append(_timeout)
    exchange.clock_step_per_lookup = dt.timedelta(seconds=4)
    exchange.history.append(_placed_then_cancelled("order-1"))
    async with session_for(exchange, credentials) as kf:
        await _prime_clock(kf)
        result = await place(kf)
    assert result.status is OrderRequestStatus.PLACED
    assert result.order_id == ORDER_ID
    assert exchange.history_lookups >= 1
    assert len(exchange.sends()) == 1  # not sent again
