"""How history and analytics answers are read: the shapes the spec gives and the shapes
recorded from production, empty strings, unknown event types, and analytics values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs
import pytest

from kraken_futures_async.converter import default_converter, strict_converter
from kraken_futures_async.models import (
    Analytics,
    ExecutionEntry,
    HistoryPage,
    OrderEntry,
    PositionUpdate,
    PriceEntry,
    UnknownHistoryEvent,
)
from kraken_futures_async.models.history import (
    Direction,
    OrderCancelled,
    PositionChange,
    TriggerPriceSignal,
)

D = Decimal
MS = 1714521600000
AT = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)


def order(**changes: Any) -> dict[str, Any]:
    base = {
        "uid": "o-1",
        "accountUid": "a-1",
        "tradeable": "PF_XBTUSD",
        "direction": "Sell",
        "quantity": "2",
        "filled": "0",
        "timestamp": MS,
        "limitPrice": "65000",
        "orderType": "Post",
        "clientId": "",
        "reduceOnly": False,
        "lastUpdateTimestamp": MS,
        "spotData": None,
    }
    return {**base, **changes}


POSITION = {
    "accountUid": "a-1",
    "tradeable": "PF_XBTUSD",
    "oldPosition": "0",
    "oldAverageEntryPrice": None,
    "newPosition": "-1.5",
    "newAverageEntryPrice": "65000",
    "fillTime": MS,
    "fee": "0.5",
    "feeCurrency": "USD",
    "realizedPnL": "",
    "positionChange": "open",
    "executionUid": "x-1",
    "executionPrice": "65000",
    "executionSize": "1.5",
    "tradeType": "userExecution",
    "timestamp": MS,
    "updateReason": "trade",
}


def test_a_position_update_reads_flat_as_specced_and_wrapped_as_recorded() -> None:
    conv = strict_converter()
    flat = conv.structure(POSITION, PositionUpdate)
    wrapped = conv.structure(
        {"uid": "e-9", "timestamp": MS, "event": {"PositionUpdate": POSITION}}, PositionUpdate
    )
    assert flat.new_position == D("-1.5")
    assert flat.position_change is PositionChange.OPEN
    assert flat.realized_pnl is None  # "" means none
    assert flat.fill_time == AT
    assert wrapped.uid == "e-9"
    assert attrs_without_uid(wrapped) == attrs_without_uid(flat)


def attrs_without_uid(update: PositionUpdate) -> dict[str, Any]:
    return {k: v for k, v in attrs.asdict(update, recurse=False).items() if k != "uid"}


def test_an_order_event_is_typed_by_its_key_and_blanks_become_none() -> None:
    entry = strict_converter().structure(
        {
            "uid": "e-1",
            "timestamp": MS,
            "event": {"OrderCancelled": {"order": order(), "reason": "cancelled_by_user"}},
        },
        OrderEntry,
    )
    assert isinstance(entry.event, OrderCancelled)
    assert entry.event.order.direction is Direction.SELL
    assert entry.event.order.client_id is None
    assert entry.timestamp == AT


def test_an_unknown_event_type_is_kept_whole() -> None:
    entry = strict_converter().structure(
        {"uid": "e-1", "timestamp": MS, "event": {"OrderTeleported": {"where": "moon"}}},
        OrderEntry,
    )
    assert entry.event == UnknownHistoryEvent(type="OrderTeleported", raw={"where": "moon"})


@pytest.mark.parametrize("event", [{}, {"OrderPlaced": {}, "OrderCancelled": {}}, ["x"]])
def test_an_event_without_exactly_one_key_is_refused(event: Any) -> None:
    with pytest.raises((ValueError, TypeError), match=r"exactly one key|must be an object"):
        default_converter().structure({"uid": "e", "timestamp": MS, "event": event}, OrderEntry)


@pytest.mark.parametrize("key", ["Execution", "execution"])
def test_executions_accept_either_spelling_of_their_key(key: str) -> None:
    public = {
        k: v
        for k, v in order().items()
        if k not in ("accountUid", "filled", "clientId", "spotData")
    }
    entry = strict_converter().structure(
        {
            "uid": "e-1",
            "timestamp": MS,
            "event": {
                key: {
                    "execution": {
                        "uid": "x-1",
                        "makerOrder": public,
                        "takerOrder": public,
                        "timestamp": MS,
                        "quantity": "1.5",
                        "price": "65000.5",
                        "markPrice": "65000",
                        "limitFilled": True,
                        "usdValue": "97500.75",
                    },
                    "takerReducedQuantity": "0.5",
                }
            },
        },
        ExecutionEntry,
    )
    assert entry.execution.price == D("65000.5")
    assert entry.execution.maker_order.account_uid is None
    assert entry.taker_reduced_quantity == D("0.5")


def test_mark_prices_read_both_forms_and_the_page_keeps_its_token() -> None:
    page = strict_converter().structure(
        {
            "len": 2,
            "continuationToken": "abc",
            "elements": [
                {"uid": "", "timestamp": MS, "event": {"MarkPriceChanged": {"price": "1.5"}}},
                {"uid": "p", "timestamp": MS, "event": {"price": "2.5"}},
            ],
        },
        HistoryPage[PriceEntry],
    )
    assert [(e.uid, e.price) for e in page.elements] == [(None, D("1.5")), ("p", D("2.5"))]
    assert (page.length, page.continuation_token) == (2, "abc")


def test_trigger_signals_unknown_to_the_library_do_not_fail() -> None:
    assert TriggerPriceSignal("IndexPrice") is TriggerPriceSignal.UNKNOWN


def test_analytics_values_become_decimals_tuples_and_mappings() -> None:
    series = strict_converter().structure(
        {
            "result": {
                "timestamp": [1714521600, 1714525200],
                "more": False,
                "data": [[1, 2.5, 0.5, "1.25"], None],
            },
            "errors": [],
        },
        Analytics,
    )
    assert series.result.data == ((1, D("2.5"), D("0.5"), D("1.25")), None)
    assert series.result.times == (AT, AT + dt.timedelta(hours=1))

    named = strict_converter().structure(
        {
            "result": {"timestamp": [1], "more": True, "data": {"usdValue": ["10.5"]}},
            "errors": [{"severity": "warning", "error_class": "x", "type": "y"}],
        },
        Analytics,
    )
    assert named.result.data == {"usdValue": (D("10.5"),)}
    assert named.errors[0].error_class == "x"
