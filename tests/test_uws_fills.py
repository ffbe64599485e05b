"""``orders.fills`` over UWS: pages from the fills the executions stream has shown (routes
choice 14), and a clear refusal for what it has not shown."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from kraken_futures_async.errors import ConnectionFailedError, UnsupportedOperationError
from kraken_futures_async.models.enums import FillType, Side
from kraken_futures_async.uws.order_lookup import ExecutionsState

START = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def _trade(n: int, *, symbol: str = "PF_XBTUSD") -> dict[str, Any]:
    """The ``n``-th fill, ``n`` seconds after START, of its own order."""
    moment = START + dt.timedelta(seconds=n)
    return {
        "order_id": f"order-{n}",
        "cl_ord_id": f"cl-{n}",
        "symbol": symbol,
        "side": "buy" if n % 2 else "sell",
        "exec_type": "trade",
        "exec_id": f"exec-{n}",
        "last_qty": Decimal("0.01") * (n + 1),
        "last_price": Decimal(90000 + n),
        "liquidity_ind": "m" if n % 3 else "t",
        "order_status": "filled",
        "timestamp": moment.isoformat().replace("+00:00", "Z"),
    }


def _state(snapshot: int, updates: int = 0) -> ExecutionsState:
    state = ExecutionsState(lambda: START)
    state.deliver("snapshot", [_trade(n) for n in range(snapshot)])
    state.deliver("update", [_trade(n) for n in range(snapshot, snapshot + updates)])
    return state


def test_a_short_snapshot_shows_every_fill_and_pages_back_to_nothing() -> None:
    state = _state(3, updates=2)
    page = state.fills_page(None)
    assert [f.fill_id for f in page] == ["exec-4", "exec-3", "exec-2", "exec-1", "exec-0"]
    first = page[-1]
    assert (first.order_id, first.cli_ord_id, first.side) == ("order-0", "cl-0", Side.SELL)
    assert (first.size, first.price, first.fill_type) == (
        Decimal("0.01"),
        Decimal(90000),
        FillType.TAKER,
    )
    assert first.fill_time == START
    older = state.fills_page(page[1].fill_time)
    assert [f.fill_id for f in older] == ["exec-2", "exec-1", "exec-0"]
    assert state.fills_page(START) == []  # all there is: the snapshot had fewer than 50


def test_pages_are_rest_sized_and_stop_where_the_stream_stops_knowing() -> None:
    state = _state(50, updates=160)  # the snapshot's last 50, then 160 more
    latest = state.fills_page(None)
    assert len(latest) == 100
    assert [f.fill_id for f in latest[:2]] == ["exec-209", "exec-208"]
    assert latest[-1].fill_id == "exec-110"
    second = state.fills_page(latest[-1].fill_time)
    assert [second[0].fill_id, second[-1].fill_id, len(second)] == ["exec-109", "exec-10", 100]
    with pytest.raises(UnsupportedOperationError) as caught:
        # 10 fills shown before exec-10, but older ones may exist: not a whole page
        state.fills_page(second[-1].fill_time)
    message = str(caught.value)
    assert "before 2026-12-01T12:00:00+00:00" in message
    assert "kf.stream.executions()" in message


def test_a_page_older_than_what_was_shown_raises_even_when_empty() -> None:
    state = _state(50)
    assert len(state.fills_page(None)) == 50
    with pytest.raises(UnsupportedOperationError):
        state.fills_page(START - dt.timedelta(days=1))


def test_no_fills_are_answered_while_the_stream_is_down() -> None:
    state = _state(3)
    state.link_lost()
    with pytest.raises(ConnectionFailedError, match="reconnecting"):
        state.fills_page(None)
    state.deliver("snapshot", [_trade(n) for n in range(4)])  # live again: a new snapshot
    assert [f.fill_id for f in state.fills_page(None)] == [f"exec-{n}" for n in (3, 2, 1, 0)]
