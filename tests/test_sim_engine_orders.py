"""The twin's engine, trading: order types, matching, refusals, edits, cancels, batches."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from kraken_futures_async.simulator.errors import ExchangeError, Reason

from .test_sim_engine_support import ACCOUNT, OTHER, Twin, assert_valid, level_size

XBT = "PF_XBTUSD"
THIRD = "acct-3"


@pytest.fixture
def twin() -> Twin:
    twin = Twin(seed=11)
    twin.exchange.open_account(THIRD)
    return twin


def _executions(status: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in status["orderEvents"] if e["type"] == "EXECUTION"]


def _first_second_where(twin: Twin, symbol: str, test: Any, horizon: int = 3600) -> int:
    now = twin.clock.time()
    for offset in range(1, horizon):
        if test(twin.mark(symbol, now + offset)):
            return offset
    raise AssertionError("the mark never got there")


# resting, taking, and priority ---------------------------------------------------------------


def test_a_limit_order_below_the_market_rests(twin: Twin) -> None:
    bid = twin.book(XBT)["bids"][0][0]
    price = bid - 50
    status = twin.send(
        orderType="lmt", symbol=XBT, side="buy", size="0.25", limitPrice=str(price), cliOrdId="a1"
    )
    assert status["status"] == "placed"
    assert status["cliOrdId"] == "a1"
    (event,) = status["orderEvents"]
    assert event["type"] == "PLACE"
    assert event["reducedQuantity"] is None
    order = event["order"]
    assert (order["orderId"], order["type"], order["quantity"]) == (
        status["order_id"],
        "lmt",
        Decimal("0.25"),
    )
    assert (order["filled"], order["limitPrice"], order["cliOrdId"]) == (0, price, "a1")
    (listed,) = twin.open_orders()
    assert listed["order_id"] == status["order_id"]
    assert listed["status"] == "untouched"
    assert (listed["unfilledSize"], listed["filledSize"], listed["orderType"]) == (
        Decimal("0.25"),
        0,
        "lmt",
    )
    assert level_size(twin.book(XBT)["bids"], price) >= Decimal("0.25")


def test_a_crossing_limit_order_takes_the_best_ask(twin: Twin) -> None:
    ask, ask_size = twin.book(XBT)["asks"][0]
    status = twin.send(orderType="lmt", symbol=XBT, side="buy", size="0.01", limitPrice=str(ask))
    (execution,) = _executions(status)
    assert (execution["price"], execution["amount"]) == (ask, Decimal("0.01"))
    assert execution["orderPriorExecution"]["filled"] == 0
    assert execution["orderPriorEdit"] is None
    assert status["status"] == "placed"
    assert twin.open_orders() == []
    assert level_size(twin.book(XBT)["asks"], ask) == ask_size - Decimal("0.01")
    (fill,) = twin.fills()
    assert (fill["order_id"], fill["fillType"], fill["price"]) == (status["order_id"], "taker", ask)
    position = twin.positions()[XBT]
    assert (position["side"], position["size"], position["price"]) == ("long", Decimal("0.01"), ask)


def test_users_fill_each_other_by_price_then_time(twin: Twin) -> None:
    bid = twin.book(XBT)["bids"][0][0]
    first = twin.send(orderType="lmt", symbol=XBT, side="buy", size="0.01", limitPrice=str(bid))
    second = twin.send(
        account=THIRD, orderType="lmt", symbol=XBT, side="buy", size="0.01", limitPrice=str(bid)
    )
    taker = twin.send(
        account=OTHER, orderType="ioc", symbol=XBT, side="sell", size="0.015", limitPrice=str(bid)
    )
    executions = _executions(taker)
    assert [e["amount"] for e in executions] == [Decimal("0.01"), Decimal("0.005")]
    assert twin.fills(ACCOUNT)[0]["order_id"] == first["order_id"]
    assert twin.fills(ACCOUNT)[0]["fillType"] == "maker"
    (partial,) = twin.open_orders(THIRD)
    assert partial["order_id"] == second["order_id"]
    assert partial["status"] == "partiallyFilled"
    assert (partial["filledSize"], partial["unfilledSize"]) == (Decimal("0.005"), Decimal("0.005"))
    assert twin.open_orders(ACCOUNT) == []
    assert twin.positions(OTHER)[XBT]["side"] == "short"


def test_an_edit_that_only_shrinks_keeps_priority(twin: Twin) -> None:
    bid = twin.book(XBT)["bids"][0][0]
    mine = twin.send(orderType="lmt", symbol=XBT, side="buy", size="0.02", limitPrice=str(bid))
    twin.send(
        account=THIRD, orderType="lmt", symbol=XBT, side="buy", size="0.01", limitPrice=str(bid)
    )
    edit = twin.checked("edit_order", ACCOUNT, orderId=mine["order_id"], size="0.01")["editStatus"]
    assert edit["status"] == "edited"
    (event,) = edit["orderEvents"]
    assert event["type"] == "EDIT"
    assert (event["old"]["quantity"], event["new"]["quantity"]) == (
        Decimal("0.02"),
        Decimal("0.01"),
    )
    twin.send(
        account=OTHER, orderType="ioc", symbol=XBT, side="sell", size="0.01", limitPrice=str(bid)
    )
    assert twin.open_orders(ACCOUNT) == []
    assert len(twin.open_orders(THIRD)) == 1


def test_an_edit_shows_in_the_book_at_once(twin: Twin) -> None:
    price = twin.book(XBT)["bids"][0][0] - 77
    order = twin.send(orderType="lmt", symbol=XBT, side="buy", size="0.5", limitPrice=str(price))
    before = level_size(twin.book(XBT)["bids"], price)
    twin.checked("edit_order", ACCOUNT, orderId=order["order_id"], size="0.2")
    assert level_size(twin.book(XBT)["bids"], price) == before - Decimal("0.3")
    twin.checked("edit_order", ACCOUNT, orderId=order["order_id"], limitPrice=str(price - 1))
    assert level_size(twin.book(XBT)["bids"], price) == before - Decimal("0.5")
    assert level_size(twin.book(XBT)["bids"], price - 1) >= Decimal("0.2")


def test_an_edit_that_grows_loses_priority(twin: Twin) -> None:
    bid = twin.book(XBT)["bids"][0][0]
    mine = twin.send(orderType="lmt", symbol=XBT, side="buy", size="0.01", limitPrice=str(bid))
    twin.send(
        account=THIRD, orderType="lmt", symbol=XBT, side="buy", size="0.01", limitPrice=str(bid)
    )
    twin.checked("edit_order", ACCOUNT, orderId=mine["order_id"], size="0.02")
    twin.send(
        account=OTHER, orderType="ioc", symbol=XBT, side="sell", size="0.01", limitPrice=str(bid)
    )
    assert twin.open_orders(THIRD) == []
    (still,) = twin.open_orders(ACCOUNT)
    assert still["unfilledSize"] == Decimal("0.02")


def test_an_edit_into_the_market_executes(twin: Twin) -> None:
    book = twin.book(XBT)
    ask = book["asks"][0][0]
    resting = twin.send(
        orderType="lmt",
        symbol=XBT,
        side="buy",
        size="0.01",
        limitPrice=str(book["bids"][0][0] - 20),
    )
    edit = twin.checked("edit_order", ACCOUNT, orderId=resting["order_id"], limitPrice=str(ask))[
        "editStatus"
    ]
    kinds = [e["type"] for e in edit["orderEvents"]]
    assert kinds == ["EDIT", "EXECUTION"]
    execution = edit["orderEvents"][1]
    assert execution["orderPriorEdit"]["limitPrice"] == book["bids"][0][0] - 20
    assert twin.fills()[0]["fillType"] == "takerAfterEdit"
    assert twin.open_orders() == []


def test_edit_by_client_order_id(twin: Twin) -> None:
    bid = twin.book(XBT)["bids"][0][0]
    twin.send(
        orderType="lmt",
        symbol=XBT,
        side="buy",
        size="0.01",
        limitPrice=str(bid - 100),
        cliOrdId="mine",
    )
    edit = twin.checked("edit_order", ACCOUNT, cliOrdId="mine", limitPrice=str(bid - 90))
    assert edit["editStatus"]["status"] == "edited"
    assert edit["editStatus"]["cliOrdId"] == "mine"
    (listed,) = twin.open_orders()
    assert listed["limitPrice"] == bid - 90


def test_editing_a_missing_order(twin: Twin) -> None:
    edit = twin.checked(
        "edit_order", ACCOUNT, orderId="5b1d3c1e-7c0a-4f4e-9d59-2a6f0c3b9e11", size="1"
    )["editStatus"]
    assert edit["status"] == "orderForEditNotFound"
    assert edit["orderEvents"] == []
    with pytest.raises(ExchangeError) as caught:
        twin.call("edit_order", ACCOUNT, size="1")
    assert caught.value.code == "requiredArgumentMissing"


# order types -----------------------------------------------------------------------------------


def test_post_only_that_would_cross_is_rejected(twin: Twin) -> None:
    ask = twin.book(XBT)["asks"][0][0]
    status = twin.send(orderType="post", symbol=XBT, side="buy", size="0.01", limitPrice=str(ask))
    assert status["status"] == "postWouldExecute"
    (event,) = status["orderEvents"]
    assert (event["type"], event["reason"], event["uid"]) == (
        "REJECT",
        "POST_WOULD_EXECUTE",
        status["order_id"],
    )
    assert event["order"]["type"] == "post"
    assert twin.open_orders() == []
    assert twin.fills() == []
    (known,) = twin.status(orderIds=[status["order_id"]])
    assert (known["status"], known["error"]) == ("REJECTED", "POST_WOULD_EXECUTE")


def test_post_only_that_does_not_cross_rests(twin: Twin) -> None:
    bid = twin.book(XBT)["bids"][0][0]
    status = twin.send(orderType="post", symbol=XBT, side="buy", size="0.01", limitPrice=str(bid))
    assert status["status"] == "placed"
    assert status["orderEvents"][0]["order"]["type"] == "post"
    assert twin.open_orders()[0]["orderType"] == "lmt"


def test_ioc_fills_what_it_can_and_cancels_the_rest(twin: Twin) -> None:
    ask, ask_size = twin.book(XBT)["asks"][0]
    size = ask_size + Decimal("0.5")
    status = twin.send(orderType="ioc", symbol=XBT, side="buy", size=str(size), limitPrice=str(ask))
    executions = _executions(status)
    assert sum(e["amount"] for e in executions) == ask_size
    assert {e["price"] for e in executions} == {ask}
    assert executions[0]["orderPriorExecution"]["type"] == "ioc"
    assert twin.open_orders() == []
    (known,) = twin.status(orderIds=[status["order_id"]])
    assert known["status"] == "CANCELLED"
    assert known["order"]["filled"] == ask_size


def test_ioc_that_cannot_fill_is_rejected(twin: Twin) -> None:
    bid = twin.book(XBT)["bids"][0][0]
    status = twin.send(orderType="ioc", symbol=XBT, side="buy", size="0.01", limitPrice=str(bid))
    assert status["status"] == "iocWouldNotExecute"
    assert status["orderEvents"][0]["reason"] == "IOC_WOULD_NOT_EXECUTE"


def test_market_orders_are_ioc_with_one_percent_protection() -> None:
    twin = Twin(seed=11, USD=Decimal(50_000_000))
    mark = twin.mark(XBT)
    far = (mark * Decimal("1.02")).to_integral_value()
    twin.send(
        account=OTHER, orderType="lmt", symbol=XBT, side="sell", size="1", limitPrice=str(far)
    )
    depth = sum(size for _, size in twin.book(XBT)["asks"]) - 1
    status = twin.send(orderType="mkt", symbol=XBT, side="buy", size="100")
    executions = _executions(status)
    limit = executions[0]["orderPriorExecution"]["limitPrice"]
    assert limit == (mark * Decimal("1.01")).to_integral_value(rounding="ROUND_FLOOR")
    assert all(e["orderPriorExecution"]["type"] == "ioc" for e in executions)
    assert all(e["price"] <= limit for e in executions)
    assert sum(e["amount"] for e in executions) == depth
    assert status["status"] == "placed"
    assert twin.open_orders(OTHER)[0]["unfilledSize"] == 1  # beyond the protection


def test_fill_or_kill(twin: Twin) -> None:
    ask, ask_size = twin.book(XBT)["asks"][0]
    killed = twin.send(
        orderType="fok", symbol=XBT, side="buy", size=str(ask_size + 1), limitPrice=str(ask)
    )
    assert killed["status"] == "iocWouldNotExecute"
    assert twin.fills() == []
    filled = twin.send(
        orderType="fok", symbol=XBT, side="buy", size=str(ask_size), limitPrice=str(ask)
    )
    assert sum(e["amount"] for e in _executions(filled)) == ask_size
    assert _executions(filled)[0]["orderPriorExecution"]["type"] == "fok"


def test_a_resting_order_fills_when_the_market_moves_through_it(twin: Twin) -> None:
    now = twin.clock.time()
    lowest = min(twin.mark(XBT, now + s) for s in range(1, 900))
    price = (lowest + 6).to_integral_value()
    assert price < twin.book(XBT)["bids"][0][0]
    status = twin.send(orderType="lmt", symbol=XBT, side="buy", size="0.01", limitPrice=str(price))
    twin.clock.advance(900)
    assert twin.open_orders() == []
    (fill,) = twin.fills()
    assert (fill["order_id"], fill["price"], fill["fillType"]) == (
        status["order_id"],
        price,
        "maker",
    )
    assert twin.positions()[XBT]["size"] == Decimal("0.01")


def test_trading_with_yourself_is_refused(twin: Twin) -> None:
    bid = twin.book(XBT)["bids"][0][0]
    twin.send(orderType="lmt", symbol=XBT, side="buy", size="0.01", limitPrice=str(bid))
    status = twin.send(orderType="ioc", symbol=XBT, side="sell", size="0.01", limitPrice=str(bid))
    assert status["status"] == "selfFill"
    assert len(twin.open_orders()) == 1
    assert twin.fills() == []


# triggers ------------------------------------------------------------------------------------


def test_a_stop_fires_when_the_mark_crosses_it(twin: Twin) -> None:
    mark = twin.mark(XBT)
    stop = (mark - 25).to_integral_value()
    offset = _first_second_where(twin, XBT, lambda m: m <= stop)
    status = twin.send(orderType="stp", symbol=XBT, side="sell", size="0.01", stopPrice=str(stop))
    (event,) = status["orderEvents"]
    trigger = event["orderTrigger"]
    assert (trigger["triggerSide"], trigger["triggerSignal"], trigger["type"]) == (
        "trigger_below",
        "mark_price",
        "ioc",
    )
    assert (trigger["triggerPrice"], trigger["limitPrice"]) == (stop, None)
    (listed,) = twin.open_orders()
    assert (listed["orderType"], listed["stopPrice"], listed["triggerSignal"]) == (
        "stop",
        stop,
        "mark",
    )
    (known,) = twin.status(orderIds=[status["order_id"]])
    assert known["status"] == "TRIGGER_PLACED"
    assert known["order"]["priceTriggerOptions"]["triggerSide"] == "TRIGGER_BELOW"
    twin.clock.advance(offset - 1)
    assert len(twin.open_orders()) == 1
    assert twin.fills() == []
    twin.clock.advance(1)
    assert twin.open_orders() == []
    (fill,) = twin.fills()
    assert fill["order_id"] == status["order_id"]
    assert fill["side"] == "sell"
    assert twin.positions()[XBT]["side"] == "short"
    (known,) = twin.status(orderIds=[status["order_id"]])
    assert known["status"] == "FULLY_EXECUTED"
    assert known["order"]["type"] == "ORDER"


def test_a_stop_limit_becomes_a_resting_limit_order(twin: Twin) -> None:
    mark = twin.mark(XBT)
    stop = mark + 25
    offset = _first_second_where(twin, XBT, lambda m: m >= stop)
    limit = (stop - 200).to_integral_value()
    status = twin.send(
        orderType="stp",
        symbol=XBT,
        side="buy",
        size="0.01",
        stopPrice=str(stop.to_integral_value()),
        limitPrice=str(limit),
    )
    assert status["orderEvents"][0]["orderTrigger"]["type"] == "lmt"
    twin.clock.advance(offset + 1)
    (resting,) = twin.open_orders()
    assert resting["orderType"] == "lmt"
    assert resting["limitPrice"] == limit
    assert resting["order_id"] == status["order_id"]


def test_take_profit_triggers_on_the_other_side(twin: Twin) -> None:
    mark = twin.mark(XBT)
    target = (mark + 25).to_integral_value()
    offset = _first_second_where(twin, XBT, lambda m: m >= target)
    status = twin.send(
        orderType="take_profit", symbol=XBT, side="sell", size="0.01", stopPrice=str(target)
    )
    assert status["orderEvents"][0]["orderTrigger"]["triggerSide"] == "trigger_above"
    assert twin.open_orders()[0]["orderType"] == "take_profit"
    twin.clock.advance(offset)
    assert twin.open_orders() == []
    assert len(twin.fills()) == 1


def test_index_triggers_read_the_index(twin: Twin) -> None:
    index = twin.exchange.index_price(XBT)
    stop = (index - 25).to_integral_value()
    now = twin.clock.time()
    offset = next(s for s in range(1, 3600) if twin.exchange.index_price(XBT, now + s) <= stop)
    status = twin.send(
        orderType="stp",
        symbol=XBT,
        side="sell",
        size="0.01",
        stopPrice=str(stop),
        triggerSignal="index",
    )
    assert status["orderEvents"][0]["orderTrigger"]["triggerSignal"] == "spot_price"
    assert twin.open_orders()[0]["triggerSignal"] == "spot"
    twin.clock.advance(offset - 1)
    assert len(twin.open_orders()) == 1
    twin.clock.advance(1)
    assert twin.open_orders() == []


def test_last_price_triggers_fire_on_a_trade(twin: Twin) -> None:
    asks = twin.book(XBT)["asks"]
    stop = asks[3][0]
    status = twin.send(
        orderType="stp",
        symbol=XBT,
        side="buy",
        size="0.01",
        stopPrice=str(stop),
        triggerSignal="last",
    )
    assert status["orderEvents"][0]["orderTrigger"]["triggerSignal"] == "last_price"
    assert twin.open_orders()[0]["triggerSignal"] == "last"
    # another account sweeps the first five levels: the last price passes the stop
    sweep = sum(size for _, size in asks[:5])
    twin.send(
        account=OTHER,
        orderType="ioc",
        symbol=XBT,
        side="buy",
        size=str(sweep),
        limitPrice=str(asks[4][0]),
    )
    assert twin.call("ticker", symbol=XBT)["ticker"]["last"] >= stop
    assert twin.open_orders() == []
    (fill,) = twin.fills()
    assert fill["order_id"] == status["order_id"]
    assert fill["price"] > asks[4][0]


def test_a_trailing_stop_follows_the_mark_up(twin: Twin) -> None:
    status = twin.send(
        orderType="trailing_stop",
        symbol=XBT,
        side="sell",
        size="0.01",
        trailingStopMaxDeviation="1",
        trailingStopDeviationUnit="PERCENT",
    )
    first = status["orderEvents"][0]["orderTrigger"]["triggerPrice"]
    mark = twin.mark(XBT)
    assert first == (mark * Decimal("0.99")).to_integral_value(rounding="ROUND_FLOOR")
    now = twin.clock.time()
    highest = max(twin.mark(XBT, now + s) for s in range(0, 301))
    twin.clock.advance(300)
    orders = twin.open_orders()
    if orders:
        assert orders[0]["stopPrice"] == (highest * Decimal("0.99")).to_integral_value(
            rounding="ROUND_FLOOR"
        )
        assert orders[0]["stopPrice"] >= first
    else:  # it fired: the mark fell 1 % below its high
        assert min(twin.mark(XBT, now + s) for s in range(0, 301)) <= highest * Decimal("0.99")


def test_a_trailing_stop_fires_after_a_drop(twin: Twin) -> None:
    status = twin.send(
        orderType="trailing_stop",
        symbol=XBT,
        side="sell",
        size="0.01",
        trailingStopMaxDeviation="20",
        trailingStopDeviationUnit="QUOTE_CURRENCY",
    )
    now = twin.clock.time()
    high = twin.mark(XBT)
    fired_at = None
    for s in range(1, 3600):
        mark = twin.mark(XBT, now + s)
        high = max(high, mark)
        if mark <= (high - 20).to_integral_value(rounding="ROUND_FLOOR"):
            fired_at = s
            break
    assert fired_at is not None
    twin.clock.advance(fired_at - 1)
    assert len(twin.open_orders()) == 1
    twin.clock.advance(1)
    assert twin.open_orders() == []
    assert twin.fills()[0]["order_id"] == status["order_id"]


# refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"size": "0.00001", "limitPrice": "50000"}, "invalidSize"),
        ({"size": "0", "limitPrice": "50000"}, "invalidSize"),
        ({"size": "-1", "limitPrice": "50000"}, "invalidSize"),
        ({"size": "0.01", "limitPrice": "50000.5"}, "invalidPrice"),
        ({"size": "0.01", "limitPrice": "0"}, "invalidPrice"),
        ({"size": "1201", "limitPrice": "50000"}, "maxPositionViolation"),
        ({"size": "0.01", "limitPrice": "50000", "cliOrdId": "x" * 101}, "clientOrderIdTooBig"),
    ],
)
def test_order_refusals(twin: Twin, params: dict[str, str], expected: str) -> None:
    status = twin.send(orderType="lmt", symbol=XBT, side="buy", **params)
    assert status["status"] == expected
    assert "order_id" not in status
    assert "orderEvents" not in status
    assert twin.open_orders() == []


def test_sizes_follow_each_contracts_precision(twin: Twin) -> None:
    doge_bid = twin.book("PF_DOGEUSD")["bids"][0][0]
    pepe_bid = twin.book("PF_PEPEUSD")["bids"][0][0]
    refused = twin.send(
        orderType="lmt", symbol="PF_DOGEUSD", side="buy", size="1.5", limitPrice=str(doge_bid)
    )
    assert refused["status"] == "invalidSize"
    refused = twin.send(
        orderType="lmt", symbol="PF_PEPEUSD", side="buy", size="1500", limitPrice=str(pepe_bid)
    )
    assert refused["status"] == "invalidSize"
    placed = twin.send(
        orderType="lmt", symbol="PF_PEPEUSD", side="buy", size="2000", limitPrice=str(pepe_bid)
    )
    assert placed["status"] == "placed"


def test_insufficient_funds() -> None:
    twin = Twin(seed=11, USD=Decimal(1000))
    bid = twin.book(XBT)["bids"][0][0]
    status = twin.send(orderType="lmt", symbol=XBT, side="buy", size="2", limitPrice=str(bid - 100))
    assert status == {
        "status": "insufficientAvailableFunds",
        "receivedTime": status["receivedTime"],
    }
    small = twin.send(
        orderType="lmt", symbol=XBT, side="buy", size="0.01", limitPrice=str(bid - 100)
    )
    assert small["status"] == "placed"


def test_client_order_ids_are_unique_among_open_orders(twin: Twin) -> None:
    bid = twin.book(XBT)["bids"][0][0]
    args = {"orderType": "lmt", "symbol": XBT, "side": "buy", "size": "0.01"}
    first = twin.send(**args, limitPrice=str(bid - 100), cliOrdId="same")
    again = twin.send(**args, limitPrice=str(bid - 101), cliOrdId="same")
    assert again["status"] == "clientOrderIdAlreadyExist"
    twin.checked("cancel_order", ACCOUNT, cliOrdId="same")
    reused = twin.send(**args, limitPrice=str(bid - 101), cliOrdId="same")
    assert reused["status"] == "placed"
    assert reused["order_id"] != first["order_id"]


def test_unreadable_requests_are_errors(twin: Twin) -> None:
    cases = [
        (
            {"orderType": "lmt", "symbol": XBT, "side": "buy", "size": "1"},
            "requiredArgumentMissing",
        ),
        ({"orderType": "limit", "symbol": XBT, "side": "buy", "size": "1"}, "invalidArgument"),
        ({"orderType": "mkt", "symbol": XBT, "side": "up", "size": "1"}, "invalidArgument"),
        ({"orderType": "mkt", "symbol": XBT, "side": "buy", "size": "lots"}, "invalidArgument"),
        ({"orderType": "mkt", "symbol": XBT, "side": "buy"}, "requiredArgumentMissing"),
        (
            {"orderType": "stp", "symbol": XBT, "side": "buy", "size": "1"},
            "requiredArgumentMissing",
        ),
    ]
    for params, code in cases:
        with pytest.raises(ExchangeError) as caught:
            twin.call("send_order", ACCOUNT, **params)
        assert caught.value.code == code, params
    with pytest.raises(ExchangeError) as caught:
        twin.call("send_order", ACCOUNT, orderType="mkt", symbol="PF_FOOUSD", side="buy", size="1")
    assert caught.value.reason is Reason.VALIDATION


def test_process_before_in_the_past(twin: Twin) -> None:
    status = twin.send(
        orderType="mkt",
        symbol=XBT,
        side="buy",
        size="0.01",
        processBefore="2026-11-23T23:59:59.000Z",
    )
    assert status["status"] == "wouldProcessAfterSpecifiedTime"
    assert twin.fills() == []
    later = twin.send(
        orderType="mkt",
        symbol=XBT,
        side="buy",
        size="0.01",
        processBefore="2026-11-24 00:00:05.441899+00:00",
    )
    assert later["status"] == "placed"


def test_reduce_only(twin: Twin) -> None:
    ask = twin.book(XBT)["asks"][0][0]
    refused = twin.send(
        orderType="lmt",
        symbol=XBT,
        side="sell",
        size="0.01",
        limitPrice=str(ask + 100),
        reduceOnly="true",
    )
    assert refused["status"] == "wouldNotReducePosition"
    twin.send(orderType="mkt", symbol=XBT, side="buy", size="0.02")
    same_side = twin.send(
        orderType="lmt",
        symbol=XBT,
        side="buy",
        size="0.01",
        limitPrice=str(ask - 100),
        reduceOnly="true",
    )
    assert same_side["status"] == "wouldNotReducePosition"
    capped = twin.send(
        orderType="lmt",
        symbol=XBT,
        side="sell",
        size="0.05",
        limitPrice=str(ask + 100),
        reduceOnly="true",
    )
    (event,) = capped["orderEvents"]
    assert event["order"]["quantity"] == Decimal("0.02")
    assert event["order"]["reduceOnly"] is True
    assert event["reducedQuantity"] == Decimal("0.03")
    # closing the position by other means cancels the reduce-only order
    twin.send(orderType="mkt", symbol=XBT, side="sell", size="0.02")
    assert twin.open_orders() == []
    assert XBT not in twin.positions()
    (known,) = twin.status(orderIds=[capped["order_id"]])
    assert (known["status"], known["updateReason"]) == ("CANCELLED", "WOULD_NOT_REDUCE_POSITION")


# cancels ------------------------------------------------------------------------------------


def test_cancel_by_id_and_by_client_id(twin: Twin) -> None:
    bid = twin.book(XBT)["bids"][0][0]
    one = twin.send(orderType="lmt", symbol=XBT, side="buy", size="0.01", limitPrice=str(bid - 100))
    twin.send(
        orderType="lmt",
        symbol=XBT,
        side="buy",
        size="0.01",
        limitPrice=str(bid - 101),
        cliOrdId="two",
    )
    status = twin.checked("cancel_order", ACCOUNT, order_id=one["order_id"])["cancelStatus"]
    assert (status["status"], status["order_id"]) == ("cancelled", one["order_id"])
    (event,) = status["orderEvents"]
    assert (event["type"], event["uid"], event["order"]["orderId"]) == (
        "CANCEL",
        one["order_id"],
        one["order_id"],
    )
    status = twin.checked("cancel_order", ACCOUNT, cliOrdId="two")["cancelStatus"]
    assert status["status"] == "cancelled"
    assert status["cliOrdId"] == "two"
    again = twin.checked("cancel_order", ACCOUNT, order_id=one["order_id"])["cancelStatus"]
    assert again == {"status": "notFound", "receivedTime": again["receivedTime"]}
    assert twin.open_orders() == []


def test_cancelling_a_filled_order_says_filled(twin: Twin) -> None:
    bid = twin.book(XBT)["bids"][0][0]
    mine = twin.send(orderType="lmt", symbol=XBT, side="buy", size="0.01", limitPrice=str(bid))
    twin.send(
        account=OTHER, orderType="ioc", symbol=XBT, side="sell", size="0.01", limitPrice=str(bid)
    )
    status = twin.checked("cancel_order", ACCOUNT, order_id=mine["order_id"])["cancelStatus"]
    assert status["status"] == "filled"


def test_cancelling_a_trigger_shows_the_trigger(twin: Twin) -> None:
    stop = twin.send(
        orderType="stp",
        symbol=XBT,
        side="sell",
        size="0.01",
        stopPrice="10000",
    )
    status = twin.checked("cancel_order", ACCOUNT, order_id=stop["order_id"])["cancelStatus"]
    assert status["orderEvents"][0]["orderTrigger"]["uid"] == stop["order_id"]


def test_cancel_all_orders(twin: Twin) -> None:
    bid = twin.book(XBT)["bids"][0][0]
    eth_bid = twin.book("PF_ETHUSD")["bids"][0][0]
    twin.send(orderType="lmt", symbol=XBT, side="buy", size="0.01", limitPrice=str(bid - 100))
    twin.send(orderType="stp", symbol=XBT, side="sell", size="0.01", stopPrice="10000")
    eth = twin.send(
        orderType="lmt",
        symbol="PF_ETHUSD",
        side="buy",
        size="0.1",
        limitPrice=str(eth_bid - 10),
        cliOrdId="keep",
    )
    status = twin.checked("cancel_all_orders", ACCOUNT, symbol=XBT)["cancelStatus"]
    assert (status["status"], status["cancelOnly"]) == ("cancelled", XBT)
    assert len(status["cancelledOrders"]) == 2
    assert len(status["orderEvents"]) == 2
    (left,) = twin.open_orders()
    assert left["order_id"] == eth["order_id"]
    rest = twin.checked("cancel_all_orders", ACCOUNT)["cancelStatus"]
    assert rest["cancelOnly"] == "all"
    assert rest["cancelledOrders"] == [{"order_id": eth["order_id"], "cliOrdId": "keep"}]
    none = twin.checked("cancel_all_orders", ACCOUNT)["cancelStatus"]
    assert none["status"] == "noOrdersToCancel"
    assert none["cancelledOrders"] == []


def test_the_dead_mans_switch_really_fires(twin: Twin) -> None:
    bid = twin.book(XBT)["bids"][0][0]
    order = twin.send(
        orderType="lmt", symbol=XBT, side="buy", size="0.01", limitPrice=str(bid - 500)
    )
    other = twin.send(
        account=OTHER,
        orderType="lmt",
        symbol=XBT,
        side="buy",
        size="0.01",
        limitPrice=str(bid - 500),
    )
    status = twin.checked("cancel_all_orders_after", ACCOUNT, timeout="60")["status"]
    assert status == {
        "currentTime": "2026-11-24T00:00:00.000Z",
        "triggerTime": "2026-11-24T00:01:00.000Z",
    }
    twin.clock.advance(59.5)
    assert len(twin.open_orders()) == 1
    twin.clock.advance(1)
    assert twin.open_orders() == []
    assert len(twin.open_orders(OTHER)) == 1  # other accounts keep theirs
    (known,) = twin.status(orderIds=[order["order_id"]])
    assert (known["status"], known["updateReason"]) == ("CANCELLED", "DEAD_MAN_SWITCH")
    assert other["status"] == "placed"


def test_the_dead_mans_switch_can_be_pushed_back_and_disabled(twin: Twin) -> None:
    bid = twin.book(XBT)["bids"][0][0]
    twin.send(orderType="lmt", symbol=XBT, side="buy", size="0.01", limitPrice=str(bid - 500))
    twin.call("cancel_all_orders_after", ACCOUNT, timeout="60")
    twin.clock.advance(30)
    twin.call("cancel_all_orders_after", ACCOUNT, timeout="60")
    twin.clock.advance(45)
    assert len(twin.open_orders()) == 1
    off = twin.call("cancel_all_orders_after", ACCOUNT, timeout="0")["status"]
    assert off["triggerTime"] == "0"
    twin.clock.advance(3600)
    assert len(twin.open_orders()) == 1
    with pytest.raises(ExchangeError):
        twin.call("cancel_all_orders_after", ACCOUNT, timeout="1.5")


# batches and order status ---------------------------------------------------------------------


def test_a_batch_with_a_rejected_item(twin: Twin) -> None:
    bid = twin.book(XBT)["bids"][0][0]
    resting = twin.send(
        orderType="lmt", symbol=XBT, side="buy", size="0.01", limitPrice=str(bid - 100)
    )
    twin.send(
        orderType="lmt",
        symbol=XBT,
        side="buy",
        size="0.01",
        limitPrice=str(bid - 102),
        cliOrdId="gone",
    )
    batch = {
        "batchOrder": [
            {
                "order": "send",
                "order_tag": "1",
                "orderType": "lmt",
                "symbol": XBT,
                "side": "buy",
                "size": 0.01,
                "limitPrice": float(bid - 200),
                "cliOrdId": "b1",
            },
            {
                "order": "send",
                "order_tag": 2,
                "orderType": "lmt",
                "symbol": XBT,
                "side": "buy",
                "size": "0.00001",
                "limitPrice": str(bid - 200),
            },
            {"order": "edit", "order_id": resting["order_id"], "size": "0.02"},
            {"order": "cancel", "cliOrdId": "gone"},
            {"order": "cancel", "order_id": "6e88d923-630d-40aa-af4f-64e5e2b3ad03"},
            {"order": "send", "order_tag": "3", "orderType": "lmt", "side": "buy", "size": 1},
        ]
    }
    result = twin.call("batch_order", ACCOUNT, json=json.dumps(batch))["batchStatus"]
    assert [item["status"] for item in result] == [
        "placed",
        "invalidSize",
        "edited",
        "cancelled",
        "notFound",
        "requiredArgumentMissing",
    ]
    assert result[0]["order_tag"] == "1"
    assert result[0]["cliOrdId"] == "b1"
    assert result[0]["orderEvents"][0]["order"]["limitPrice"] == bid - 200
    assert result[1]["order_tag"] == "2"
    assert result[1]["orderEvents"] == []
    assert result[2]["orderEvents"][0]["new"]["quantity"] == Decimal("0.02")
    assert result[3]["orderEvents"][0]["type"] == "CANCEL"
    # the schema's batch status enum is narrower than what Kraken sends (notFound, ...)
    assert_valid("batch_order", {"batchStatus": result[:4]})
    cli_ids = {o.get("cliOrdId") for o in twin.open_orders()}
    assert cli_ids == {None, "b1"}


def test_a_batch_that_is_not_json(twin: Twin) -> None:
    for text in ("{'batchOrder': [{'order': 'cancel', 'order_id': 'x'}]}", "[1, 2"):
        with pytest.raises(ExchangeError) as caught:
            twin.call("batch_order", ACCOUNT, json=text)
        assert caught.value.code == "Json Parse Error"


def test_a_batch_past_its_deadline(twin: Twin) -> None:
    batch = {
        "batchOrder": [{"order": "cancel", "order_id": "6e88d923-630d-40aa-af4f-64e5e2b3ad03"}]
    }
    result = twin.call(
        "batch_order", ACCOUNT, json=json.dumps(batch), processBefore="2026-01-01T00:00:00Z"
    )["batchStatus"]
    assert result[0]["status"] == "wouldProcessAfterSpecifiedTime"


def test_order_status_covers_open_orders_and_the_last_five_seconds(twin: Twin) -> None:
    bid = twin.book(XBT)["bids"][0][0]
    resting = twin.send(
        orderType="lmt",
        symbol=XBT,
        side="buy",
        size="0.01",
        limitPrice=str(bid - 100),
        cliOrdId="r",
    )
    taken = twin.send(orderType="mkt", symbol=XBT, side="buy", size="0.01")
    found = twin.status(orderIds=[resting["order_id"], taken["order_id"]])
    assert [(f["order"]["orderId"], f["status"]) for f in found] == [
        (resting["order_id"], "ENTERED_BOOK"),
        (taken["order_id"], "FULLY_EXECUTED"),
    ]
    assert found[0]["updateReason"] == "NEW_USER_ORDER"
    assert found[0]["order"]["algoId"] is None
    by_cli = twin.status(cliOrdIds=["r"])
    assert by_cli[0]["order"]["orderId"] == resting["order_id"]
    twin.clock.advance(6)
    later = twin.status(orderIds=[resting["order_id"], taken["order_id"]])
    assert [f["order"]["orderId"] for f in later] == [resting["order_id"]]
    assert twin.status(orderIds=["6e88d923-630d-40aa-af4f-64e5e2b3ad03"]) == []
    with pytest.raises(ExchangeError) as caught:
        twin.call("order_status", ACCOUNT, orderIds=["['a', 'b']"])
    assert caught.value.reason is Reason.VALIDATION


def test_private_calls_need_an_open_account(twin: Twin) -> None:
    with pytest.raises(ExchangeError):
        twin.call("open_orders", "nobody")
    with pytest.raises(ExchangeError) as caught:
        twin.call("no_such_operation")
    assert caught.value.reason is Reason.NO_SUCH_ROUTE
