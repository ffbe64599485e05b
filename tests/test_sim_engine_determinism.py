"""The twin's engine is deterministic: same seed, same clock times, same calls, same answers."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from .test_sim_engine_support import ACCOUNT, OTHER, Twin

XBT = "PF_XBTUSD"


def _session(seed: int) -> list[Any]:
    """A scripted mix of reads, orders, triggers, time jumps and a dead man's switch."""
    twin = Twin(seed=seed)
    answers: list[Any] = []

    def record(operation: str, account: str | None = None, **params: str | list[str]) -> Any:
        answer = twin.call(operation, account, **params)
        answers.append(answer)
        return answer

    book = record("orderbook", symbol=XBT)["orderBook"]
    bid, ask = book["bids"][0][0], book["asks"][0][0]
    record("send_order", ACCOUNT, orderType="mkt", symbol=XBT, side="buy", size="0.3")
    record(
        "send_order",
        OTHER,
        orderType="lmt",
        symbol=XBT,
        side="buy",
        size="0.2",
        limitPrice=str(bid - 15),
    )
    record(
        "send_order",
        ACCOUNT,
        orderType="stp",
        symbol=XBT,
        side="sell",
        size="0.3",
        stopPrice=str(bid - 30),
        reduceOnly="true",
    )
    record(
        "send_order",
        ACCOUNT,
        orderType="trailing_stop",
        symbol="PF_ETHUSD",
        side="buy",
        size="1",
        trailingStopMaxDeviation="0.5",
        trailingStopDeviationUnit="PERCENT",
    )
    record("cancel_all_orders_after", OTHER, timeout="900")
    for step in (0.25, 1, 7, 30, 120, 600):
        twin.clock.advance(step)
        record("tickers")
        record("orderbook", symbol=XBT)
        record("accounts", ACCOUNT)
        record("open_orders", ACCOUNT)
        record("open_orders", OTHER)
    batch = {
        "batchOrder": [
            {
                "order": "send",
                "order_tag": "a",
                "orderType": "post",
                "symbol": XBT,
                "side": "sell",
                "size": "0.1",
                "limitPrice": str(ask + 50),
            },
            {"order": "cancel", "cliOrdId": "missing"},
        ]
    }
    record("batch_order", ACCOUNT, json=json.dumps(batch))
    record("fills", ACCOUNT)
    record("fills", OTHER)
    record("open_positions", ACCOUNT)
    record("trades", symbol=XBT)
    record("candles", tick_type="trade", symbol=XBT, resolution="1m", count="30")
    record("instruments")
    return answers


def test_same_seed_same_calls_same_answers() -> None:
    first, second = _session(42), _session(42)
    assert len(first) == len(second)
    for index, (a, b) in enumerate(zip(first, second, strict=True)):
        assert a == b, f"answer {index} differs"


def test_another_seed_gives_other_answers() -> None:
    first, second = _session(42), _session(43)
    assert first[0] != second[0]  # the book
    order_ids = [a["sendStatus"].get("order_id") for a in (first[1], second[1])]
    assert order_ids[0] != order_ids[1]


def test_ids_look_like_uuid4() -> None:
    twin = Twin(seed=1)
    status = twin.call("send_order", ACCOUNT, orderType="mkt", symbol=XBT, side="buy", size="0.01")
    order_id = status["sendStatus"]["order_id"]
    assert len(order_id) == 36
    assert order_id[14] == "4"
    assert order_id[19] in "89ab"


def test_a_long_time_jump_is_replayed_the_same_way() -> None:
    """Fills and triggers over a day-long gap depend only on the gap, not on wall time."""

    def run() -> list[Any]:
        twin = Twin(seed=9)
        bid = twin.book(XBT)["bids"][0][0]
        for offset in range(1, 6):
            twin.call(
                "send_order",
                ACCOUNT,
                orderType="lmt",
                symbol=XBT,
                side="buy",
                size="0.01",
                limitPrice=str(bid - Decimal(300 * offset)),
            )
        twin.clock.advance(86_400)
        return [twin.call("fills", ACCOUNT), twin.call("open_orders", ACCOUNT)]

    assert run() == run()
