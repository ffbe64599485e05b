"""Bad arguments raise a clear InvalidArgumentError before anything is sent (issue item 9).

The transport records every request; each refusal test asserts it stayed empty.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from kraken_futures_async import (
    Credentials,
    InvalidArgumentError,
    KrakenFuturesError,
    MissingCredentialsError,
    RateLimitPolicy,
    Session,
)
from tests.conftest import BASE_URL

SEND_OK = {
    "result": "success",
    "serverTime": "2024-05-01T12:00:00.000Z",
    "sendStatus": {"order_id": "o-1", "status": "placed", "receivedTime": "2024-05-01T12:00:00Z"},
}


class Recorder:
    """A transport that remembers what was sent and answers a placed order."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, text=json.dumps(SEND_OK))

    def form(self) -> dict[str, list[str]]:
        (request,) = self.requests
        return parse_qs(request.content.decode(), keep_blank_values=True)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def kf(recorder: Recorder, credentials: Credentials) -> AsyncIterator[Session]:
    async with Session(
        credentials,
        base_url=BASE_URL,
        rate_limits=RateLimitPolicy.unlimited(),
        transport=httpx.MockTransport(recorder),
        check_orders=False,
    ) as session:
        yield session


def order(**changes: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "symbol": "PF_XBTUSD",
        "side": "buy",
        "size": Decimal("0.01"),
        "order_type": "lmt",
        "limit_price": Decimal("65000"),
    }
    kwargs.update(changes)
    return kwargs


AWARE = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
NAIVE = dt.datetime(2024, 5, 1, 12, 0)

BAD_ORDERS: list[tuple[dict[str, Any], str]] = [
    (order(size=0), "size"),
    (order(size=Decimal("0")), "size"),
    (order(size=-1), "size"),
    (order(size="-0.5"), "size"),
    (order(size=Decimal("NaN")), "size"),
    (order(size=Decimal("sNaN")), "size"),
    (order(size=float("nan")), "size"),
    (order(size=float("inf")), "size"),
    (order(size=Decimal("Infinity")), "size"),
    (order(size="abc"), "size"),
    (order(size=True), "size"),
    (order(size=None), "size"),
    (order(limit_price=None), "limit_price"),
    (order(order_type="post", limit_price=None), "limit_price"),
    (order(order_type="ioc", limit_price=None), "limit_price"),
    (order(order_type="fok", limit_price=None), "limit_price"),
    (order(limit_price=0), "limit_price"),
    (order(limit_price=float("nan")), "limit_price"),
    (order(order_type="mkt"), "limit_price"),
    (order(order_type="stp"), "stop_price"),
    (order(order_type="take_profit", limit_price=None), "stop_price"),
    (order(stop_price=60000), "stop_price"),
    (order(order_type="stp", stop_price=-5), "stop_price"),
    (order(side="long"), "side"),
    (order(side="unknown"), "side"),
    (order(side=None), "side"),
    (order(order_type="limit"), "order_type"),
    (order(order_type="unknown"), "order_type"),
    (order(cli_ord_id="x" * 101), "cli_ord_id"),
    (order(cli_ord_id=""), "cli_ord_id"),
    (order(cli_ord_id="bad\nid"), "cli_ord_id"),
    (order(order_type="trailing_stop", limit_price=None, stop_price=None), "trailing_stop"),
    (
        order(
            order_type="trailing_stop",
            limit_price=None,
            trailing_stop_max_deviation=1,
        ),
        "trailing_stop_deviation_unit",
    ),
    (order(trailing_stop_max_deviation=1, trailing_stop_deviation_unit="PERCENT"), "trailing"),
    (
        order(
            order_type="trailing_stop",
            limit_price=None,
            trailing_stop_max_deviation=1,
            trailing_stop_deviation_unit="PERCENTAGE",
        ),
        "trailing_stop_deviation_unit",
    ),
    (order(process_before=NAIVE), "process_before"),
    (order(trigger_signal="mark"), "trigger_signal"),
    (order(order_type="stp", stop_price=1, trigger_signal="spot_price"), "trigger_signal"),
    (order(reduce_only="yes"), "reduce_only"),
    (order(symbol=""), "symbol"),
    (order(symbol="PF XBTUSD"), "symbol"),
    (order(symbol="PF_XBTUSD/../accounts"), "symbol"),
    (order(limit_price_offset_value=1), "limit_price_offset"),
]


@pytest.mark.parametrize(("kwargs", "names"), BAD_ORDERS)
async def test_bad_order_is_refused_before_sending(
    kf: Session, recorder: Recorder, kwargs: dict[str, Any], names: str
) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        await kf.orders.send(**kwargs)
    assert names in str(info.value)
    assert isinstance(info.value, ValueError)
    assert recorder.requests == []


BAD_EDITS: list[tuple[dict[str, Any], str]] = [
    ({"size": 1}, "order_id"),
    ({"order_id": "o-1", "cli_ord_id": "c-1", "size": 1}, "cli_ord_id"),
    ({"order_id": "o-1"}, "size"),
    ({"order_id": "o-1", "size": 0}, "size"),
    ({"order_id": "o-1", "size": float("inf")}, "size"),
    ({"order_id": "o-1", "limit_price": Decimal("NaN")}, "limit_price"),
    ({"order_id": "o-1", "stop_price": -1}, "stop_price"),
    ({"order_id": "", "size": 1}, "order_id"),
    ({"cli_ord_id": "y" * 101, "size": 1}, "cli_ord_id"),
    ({"order_id": "o-1", "size": 1, "process_before": NAIVE}, "process_before"),
]


@pytest.mark.parametrize(("kwargs", "names"), BAD_EDITS)
async def test_bad_edit_is_refused_before_sending(
    kf: Session, recorder: Recorder, kwargs: dict[str, Any], names: str
) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        await kf.orders.edit(**kwargs)
    assert names in str(info.value)
    assert recorder.requests == []


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({}, "order_id"),
        ({"order_id": "o-1", "cli_ord_id": "c-1"}, "cli_ord_id"),
        ({"order_id": "o-1", "process_before": NAIVE}, "process_before"),
    ],
)
async def test_bad_cancel_is_refused_before_sending(
    kf: Session, recorder: Recorder, kwargs: dict[str, Any], names: str
) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        await kf.orders.cancel(**kwargs)
    assert names in str(info.value)
    assert recorder.requests == []


@pytest.mark.parametrize(
    "delay", [-1, 2**32, True, False, 1.5, "60", dt.timedelta(seconds=-1)], ids=repr
)
async def test_bad_dead_man_switch_delay(kf: Session, recorder: Recorder, delay: Any) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        await kf.orders.cancel_all_after(delay)
    assert "delay" in str(info.value)
    assert recorder.requests == []


async def test_bad_symbol_for_cancel_all(kf: Session, recorder: Recorder) -> None:
    with pytest.raises(InvalidArgumentError, match="symbol"):
        await kf.orders.cancel_all("PF XBT")
    assert recorder.requests == []


async def test_fills_before_must_be_aware(kf: Session, recorder: Recorder) -> None:
    with pytest.raises(InvalidArgumentError, match="before"):
        await kf.orders.fills(before=NAIVE)
    assert recorder.requests == []


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"resolution": "2m"}, "resolution"),
        ({"resolution": "1M"}, "resolution"),
        ({"resolution": "1h", "since": AWARE, "until": AWARE - dt.timedelta(hours=1)}, "since"),
        ({"resolution": "1h", "since": NAIVE}, "since"),
        ({"resolution": "1h", "until": NAIVE}, "until"),
        ({"resolution": "1h", "tick_type": "last"}, "tick_type"),
        ({"resolution": "1h", "count": -1}, "count"),
        ({"resolution": "1h", "count": True}, "count"),
        ({"resolution": "1h", "symbol": ""}, "symbol"),
    ],
)
async def test_bad_candles_request(
    kf: Session, recorder: Recorder, kwargs: dict[str, Any], names: str
) -> None:
    args: dict[str, Any] = {"symbol": "PF_XBTUSD", **kwargs}
    with pytest.raises(InvalidArgumentError) as info:
        await kf.market.candles(**args)
    assert names in str(info.value)
    assert recorder.requests == []


@pytest.mark.parametrize("method", ["ticker", "orderbook", "trades"])
async def test_bad_symbol_for_market_data(kf: Session, recorder: Recorder, method: str) -> None:
    with pytest.raises(InvalidArgumentError, match="symbol"):
        await getattr(kf.market, method)("PF XBTUSD")
    assert recorder.requests == []


async def test_private_call_without_credentials_sends_nothing(recorder: Recorder) -> None:
    async with Session(
        base_url=BASE_URL,
        rate_limits=RateLimitPolicy.unlimited(),
        transport=httpx.MockTransport(recorder),
        check_orders=False,
    ) as kf:
        for call in (
            kf.account.accounts(),
            kf.orders.open(),
            kf.orders.send(**order()),
            kf.orders.cancel(order_id="o-1"),
        ):
            with pytest.raises(MissingCredentialsError) as info:
                await call
            assert "credentials" in str(info.value)
            assert info.value.endpoint is not None
            assert isinstance(info.value, KrakenFuturesError)
    assert recorder.requests == []


async def test_floats_go_on_the_wire_by_their_shortest_repr(
    kf: Session, recorder: Recorder
) -> None:
    await kf.orders.send(**order(size=0.1, limit_price=65000.5, cli_ord_id="float-1"))
    form = recorder.form()
    assert form["size"] == ["0.1"]
    assert form["limitPrice"] == ["65000.5"]
    assert form["cliOrdId"] == ["float-1"]


@pytest.mark.parametrize(
    ("size", "wire"),
    [
        (1e-7, "0.0000001"),
        (Decimal("1E+3"), "1000"),
        (Decimal("0.00010"), "0.00010"),
        (3, "3"),
        ("0.25", "0.25"),
        (0.30000000000000004, "0.30000000000000004"),
    ],
)
async def test_numbers_are_sent_in_plain_notation(
    kf: Session, recorder: Recorder, size: Any, wire: str
) -> None:
    await kf.orders.send(**order(size=size))
    assert recorder.form()["size"] == [wire]


async def test_good_order_is_sent_with_wire_names(kf: Session, recorder: Recorder) -> None:
    result = await kf.orders.send(
        symbol="PF_XBTUSD",
        side="sell",
        size="0.01",
        order_type="stp",
        stop_price=58000,
        limit_price=57900,
        trigger_signal="mark",
        reduce_only=True,
        cli_ord_id="x" * 100,
        process_before=dt.datetime(
            2024, 5, 1, 14, 0, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2))
        ),
    )
    assert result.order_id == "o-1"
    (request,) = recorder.requests
    assert request.url.path == "/derivatives/api/v3/sendorder"
    assert recorder.form() == {
        "orderType": ["stp"],
        "symbol": ["PF_XBTUSD"],
        "side": ["sell"],
        "size": ["0.01"],
        "limitPrice": ["57900"],
        "stopPrice": ["58000"],
        "triggerSignal": ["mark"],
        "cliOrdId": ["x" * 100],
        "reduceOnly": ["true"],
        "processBefore": ["2024-05-01T12:00:00.123Z"],
    }


async def test_trailing_stop_with_its_deviation_is_sent(kf: Session, recorder: Recorder) -> None:
    await kf.orders.send(
        symbol="PF_XBTUSD",
        side="sell",
        size=1,
        order_type="trailing_stop",
        trailing_stop_max_deviation="0.5",
        trailing_stop_deviation_unit="PERCENT",
    )
    form = recorder.form()
    assert form["orderType"] == ["trailing_stop"]
    assert form["trailingStopMaxDeviation"] == ["0.5"]
    assert form["trailingStopDeviationUnit"] == ["PERCENT"]
    assert "limitPrice" not in form


async def test_an_order_without_cli_ord_id_gets_one(kf: Session, recorder: Recorder) -> None:
    await kf.orders.send(**order())
    (cli_ord_id,) = recorder.form()["cliOrdId"]
    assert 0 < len(cli_ord_id) <= 100
