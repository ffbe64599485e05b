"""The engine keeps a bounded past: every record per request or per fill is capped (issue 17)."""

from __future__ import annotations

import gc
import json
import tracemalloc
from collections import deque
from decimal import Decimal
from typing import Any

import pytest

from kraken_futures_async.simulator.clock import ManualClock
from kraken_futures_async.simulator.engine import Exchange
from kraken_futures_async.simulator.engine.retention import Retention, SharedCap
from kraken_futures_async.simulator.errors import ExchangeError

from .twin_checks import check_engine_payload

ACCOUNT = "acct-retention"
SMALL = Retention(
    history=6,
    account_log=5,
    fills=4,
    closed_orders=3,
    market_events=7,
    market_executions=5,
    tape=4,
    open_orders=3,
    assignment_preferences=2,
    assignment_history=3,
)


class _Engine:
    def __init__(self, retention: Retention) -> None:
        self.clock = ManualClock()
        self.exchange = Exchange(seed=0, clock=self.clock, retention=retention)
        self.exchange.open_account(ACCOUNT, {"USD": Decimal(10_000_000)})

    def call(self, operation: str, **params: str) -> Any:
        payload = self.exchange.handle(operation, {k: [v] for k, v in params.items()}, ACCOUNT)
        check_engine_payload(operation, payload)
        return payload

    def market_order(self, symbol: str, side: str) -> dict[str, Any]:
        self.clock.advance(0.25)
        size = "0.01" if symbol.startswith("PF_") else "10"
        payload = self.call("send_order", orderType="mkt", symbol=symbol, side=side, size=size)
        status: dict[str, Any] = payload["sendStatus"]
        assert status["status"] == "placed"
        return status

    def rest(self, price: str = "1000") -> str:
        self.clock.advance(0.25)
        status = self.call(
            "send_order",
            orderType="lmt",
            symbol="PF_XBTUSD",
            side="buy",
            size="0.01",
            limitPrice=price,
        )["sendStatus"]
        return str(status["status"])


def test_shared_cap_drops_the_oldest_item_of_all_buckets() -> None:
    cap: SharedCap[int] = SharedCap(3)
    a: deque[int] = deque()
    b: deque[int] = deque()
    for bucket, item in ((a, 1), (b, 2), (a, 3), (b, 4), (b, 5)):
        cap.append(bucket, item)
    assert (list(a), list(b), len(cap)) == ([3], [4, 5], 3)


def test_retention_refuses_caps_below_one() -> None:
    with pytest.raises(ValueError, match="fills"):
        Retention(fills=0)


def test_every_record_kept_per_fill_is_capped() -> None:
    engine = _Engine(SMALL)
    for i in range(12):
        for symbol in ("PF_XBTUSD", "PF_ETHUSD", "PI_XBTUSD"):
            engine.market_order(symbol, "buy" if i % 2 else "sell")
    venue = engine.exchange._venue
    account = venue.accounts[ACCOUNT]
    journal = venue.journal.of(ACCOUNT)
    assert len(account.fills) == SMALL.fills
    assert len(account.recent) == SMALL.closed_orders
    for records in (journal.orders, journal.executions, journal.positions):
        assert len(records) == SMALL.history
    assert len(journal.log) == SMALL.account_log
    # market-wide records: capped over all contracts together, the newest kept
    executions = venue.journal.market_executions
    assert sum(len(v) for v in executions.values()) == SMALL.market_executions
    assert sum(len(v) for v in venue.journal.market_orders.values()) <= SMALL.market_events
    newest = max(r.seq for v in executions.values() for r in v)
    assert newest == max(r.seq for r in journal.executions)
    assert sum(len(m.tape) for m in venue.markets.values()) == SMALL.tape
    # what is kept still answers as Kraken would
    fills = engine.call("fills")["fills"]
    assert len(fills) == SMALL.fills
    log = engine.call("account_log")
    assert len(log["logs"]) == SMALL.account_log


def test_open_orders_past_the_cap_are_refused_and_immediate_ones_still_trade() -> None:
    engine = _Engine(SMALL)
    statuses = [engine.rest() for _ in range(SMALL.open_orders + 2)]
    assert statuses == ["placed"] * SMALL.open_orders + ["tooManyOrders"] * 2
    engine.market_order("PF_XBTUSD", "buy")  # never rests, so never refused for the cap
    send = {"order": "send", "order_tag": "1", "orderType": "lmt", "symbol": "PF_XBTUSD"}
    send.update(side="buy", size="0.01", limitPrice="1000")
    batch = engine.call("batch_order", json=json.dumps({"batchOrder": [send]}))
    assert batch["batchStatus"][0]["status"] == "tooManyOrders"
    assert len(engine.call("open_orders")["openOrders"]) == SMALL.open_orders


def test_assignment_preferences_are_capped_and_their_history_trimmed() -> None:
    engine = _Engine(SMALL)
    add = {"contractType": "flexible_futures", "timeFrame": "all"}
    flags = {"acceptLong": "true", "acceptShort": "true"}
    for _ in range(SMALL.assignment_preferences):
        engine.call("assignment_add", **add, **flags)
    with pytest.raises(ExchangeError) as refused:
        engine.call("assignment_add", **add, **flags)
    assert refused.value.code == "invalidArgument"
    engine.call("assignment_delete", id="1")
    engine.call("assignment_add", **add, **flags)
    history = engine.call("assignment_history")["participants"]
    assert len(history) == SMALL.assignment_history
    assert [entry["deleted"] for entry in history] == [False, True, False]


def _traced_bytes() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def test_memory_stays_flat_once_the_caps_are_full() -> None:
    """After the caps fill, more trading keeps the engine's memory where it was.

    Without caps each filled market order keeps ~12 KB (history, log, fills, tape), so the
    300 orders measured here would add ~3.6 MB; capped, the engine must stay within 300 KB.
    """
    engine = _Engine(
        Retention(
            history=50,
            account_log=50,
            fills=50,
            closed_orders=50,
            market_events=50,
            market_executions=50,
            tape=50,
        )
    )
    tracemalloc.start()  # before the caps fill: what they drop must have been traced
    try:
        for i in range(300):  # fill every cap (and every price cache it touches)
            engine.market_order("PF_XBTUSD", "buy" if i % 2 else "sell")
        before = _traced_bytes()
        for i in range(300):
            engine.market_order("PF_XBTUSD", "buy" if i % 2 else "sell")
        grown = _traced_bytes() - before
    finally:
        tracemalloc.stop()
    assert grown < 300_000, f"the engine grew {grown} bytes over 300 orders at its caps"
