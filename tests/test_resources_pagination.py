"""Paging: history continuation tokens, fills by ``lastFillTime``, candles, the account log.

Each page is an ordinary call, so each is charged to its budget at its own cost; the tests
read the limiter's ``units_admitted`` to see that, and the requests to see the cursors.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Iterable
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from kraken_futures_async import Credentials, InvalidArgumentError, RateLimitPolicy, Session
from kraken_futures_async.models import ExecutionEntry, Fill, PriceEntry
from kraken_futures_async.ratelimit import Budget
from kraken_futures_async.retry import RetryPolicy
from tests.conftest import BASE_URL

T0 = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
MS = 1714521600000  # T0 in epoch milliseconds


class Script:
    """A transport answering queued responses in order and keeping every request."""

    def __init__(self, answers: Iterable[httpx.Response]) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.answers:
            raise AssertionError(f"unexpected request {request.url}")
        return self.answers.pop(0)

    def query(self, index: int) -> dict[str, list[str]]:
        return parse_qs(self.requests[index].url.query.decode())


def ok(body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        200,
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )


@pytest.fixture
def script() -> Script:
    return Script([])


@pytest.fixture
async def kf(script: Script, credentials: Credentials) -> AsyncIterator[Session]:
    async with Session(
        credentials,
        base_url=BASE_URL,
        rate_limits=RateLimitPolicy.kraken(),
        transport=httpx.MockTransport(script),
        retry=RetryPolicy.never(),  # tests never wait on real time
    ) as opened:
        yield opened


def units(kf: Session, budget: Budget) -> int:
    return kf.limiter.budgets[budget].units_admitted


def order(uid: str) -> dict[str, Any]:
    return {
        "uid": uid,
        "tradeable": "PF_XBTUSD",
        "direction": "Buy",
        "quantity": "1",
        "timestamp": MS,
        "limitPrice": "65000",
        "orderType": "Limit",
        "reduceOnly": False,
        "lastUpdateTimestamp": MS,
    }


def execution(n: int) -> dict[str, Any]:
    return {
        "uid": f"e{n}",
        "timestamp": MS + n,
        "event": {
            "Execution": {
                "execution": {
                    "uid": f"x{n}",
                    "makerOrder": order(f"m{n}"),
                    "takerOrder": order(f"t{n}"),
                    "timestamp": MS + n,
                    "quantity": "1",
                    "price": "65000",
                    "markPrice": "65001",
                    "limitFilled": False,
                    "usdValue": "65000",
                },
                "takerReducedQuantity": "",
            }
        },
    }


def executions_page(numbers: Iterable[int], token: str | None = None) -> dict[str, Any]:
    elements = [execution(n) for n in numbers]
    body: dict[str, Any] = {"len": len(elements), "elements": elements}
    if token is not None:
        body["continuationToken"] = token
    return body


async def test_history_follows_tokens_from_the_body_and_the_header(
    kf: Session, script: Script
) -> None:
    script.answers = [
        ok(executions_page([1, 2], token="dG9rZW4tMQ==")),
        # the second page's token comes only in the response header
        ok(executions_page([3, 4]), headers={"Next-Continuation-Token": "dG9rZW4tMg=="}),
        ok(executions_page([5])),
    ]
    seen = [
        e.uid
        async for e in kf.history.iter_executions(since=T0, sort="asc", count=2, tradeable="PF_X")
    ]

    assert seen == ["e1", "e2", "e3", "e4", "e5"]
    assert len(script.requests) == 3
    assert "continuation_token" not in script.query(0)
    assert script.query(1)["continuation_token"] == ["dG9rZW4tMQ=="]
    assert script.query(2)["continuation_token"] == ["dG9rZW4tMg=="]
    for index in range(3):  # everything but the token stays the same, sort included
        query = script.query(index)
        query.pop("continuation_token", None)
        assert query == {
            "since": [str(MS)],
            "sort": ["asc"],
            "count": ["2"],
            "tradeable": ["PF_X"],
        }
    assert all(r.url.path == "/api/history/v3/executions" for r in script.requests)
    assert all("Authent" in r.headers for r in script.requests)
    assert units(kf, Budget.HISTORY) == 3  # one token per page
    assert units(kf, Budget.DERIVATIVES) == 0


async def test_a_single_page_exposes_its_token(kf: Session, script: Script) -> None:
    script.answers = [ok(executions_page([1]), headers={"Next-Continuation-Token": "abc"})]
    page = await kf.history.executions(continuation_token="xyz")
    assert page.continuation_token == "abc"
    assert page.length == 1
    assert isinstance(page.elements[0], ExecutionEntry)
    assert page.elements[0].taker_reduced_quantity is None  # "" means none
    assert script.query(0)["continuation_token"] == ["xyz"]


async def test_a_repeated_token_ends_the_listing(kf: Session, script: Script) -> None:
    script.answers = [
        ok(executions_page([1], token="same")),
        ok(executions_page([2], token="same")),
        ok(executions_page([3], token="same")),
    ]
    seen = [e.uid async for e in kf.history.iter_executions()]
    assert seen == ["e1", "e2"]
    assert len(script.requests) == 2


async def test_max_pages_stops_early_and_an_empty_page_ends(kf: Session, script: Script) -> None:
    script.answers = [ok(executions_page([1], token="a")), ok(executions_page([2], token="b"))]
    assert [e.uid async for e in kf.history.iter_executions(max_pages=1)] == ["e1"]
    assert len(script.requests) == 1

    script.answers = [ok(executions_page([], token="c"))]
    assert [e.uid async for e in kf.history.iter_executions()] == []
    assert len(script.requests) == 2


async def test_public_market_history_pages_without_a_key_or_budget(
    kf: Session, script: Script
) -> None:
    price = {"uid": "", "timestamp": MS, "event": {"MarkPriceChanged": {"price": "65000.5"}}}
    flat = {"uid": "p2", "timestamp": MS + 1, "event": {"price": "65001"}}
    script.answers = [
        ok({"len": 1, "elements": [price], "continuationToken": "n"}),
        ok({"len": 1, "elements": [flat]}),
    ]
    prices = [p async for p in kf.history.iter_market_prices("PF_XBTUSD", sort="desc")]

    assert [(p.uid, str(p.price)) for p in prices] == [(None, "65000.5"), ("p2", "65001")]
    assert all(isinstance(p, PriceEntry) for p in prices)
    assert [r.url.path for r in script.requests] == ["/api/history/v3/market/PF_XBTUSD/price"] * 2
    assert all("Authent" not in r.headers for r in script.requests)
    assert script.query(1) == {"sort": ["desc"], "continuation_token": ["n"]}
    assert units(kf, Budget.HISTORY) == 0


def fill(n: int, time: dt.datetime) -> dict[str, Any]:
    return {
        "fill_id": f"f{n}",
        "order_id": f"o{n}",
        "symbol": "PF_XBTUSD",
        "side": "buy",
        "size": 1,
        "price": 65000,
        "fillTime": time.isoformat().replace("+00:00", "Z"),
        "fillType": "maker",
    }


def fills_page(first: int, count: int) -> dict[str, Any]:
    fills = [fill(n, T0 - dt.timedelta(minutes=n)) for n in range(first, first + count)]
    return {"result": "success", "serverTime": "2024-05-01T00:00:00.000Z", "fills": fills}


async def test_fills_page_back_from_the_oldest_fill_at_25_units_a_page(
    kf: Session, script: Script
) -> None:
    script.answers = [
        ok(fills_page(0, 100)),
        # Kraken's cursor is exclusive, but a repeat at the boundary is dropped anyway
        ok(fills_page(99, 100)),
        ok(fills_page(199, 30)),  # shorter than 100: the last page
    ]
    got: list[Fill] = [f async for f in kf.orders.iter_fills()]

    assert [f.fill_id for f in got] == [f"f{n}" for n in range(229)]
    assert len(script.requests) == 3
    assert "lastFillTime" not in script.query(0)
    assert script.query(1)["lastFillTime"] == ["2024-04-30T22:21:00.000Z"]  # fill 99
    assert script.query(2)["lastFillTime"] == ["2024-04-30T20:42:00.000Z"]  # fill 198
    assert units(kf, Budget.DERIVATIVES) == 2 + 25 + 25


async def test_fills_start_before_a_time_and_stop_at_since(kf: Session, script: Script) -> None:
    script.answers = [ok(fills_page(0, 100)), ok(fills_page(100, 100))]
    since = T0 - dt.timedelta(minutes=150)
    got = [f async for f in kf.orders.iter_fills(before=T0, since=since)]

    assert len(got) == 151  # fills 0..150 are at or after ``since``
    assert script.query(0)["lastFillTime"] == ["2024-05-01T00:00:00.000Z"]
    assert units(kf, Budget.DERIVATIVES) == 25 + 25


def candles_page(hours: Iterable[int], more: bool) -> dict[str, Any]:
    def candle(hour: int) -> dict[str, Any]:
        return {
            "time": MS + hour * 3_600_000,
            "open": "1",
            "high": "2",
            "low": "0.5",
            "close": "1.5",
            "volume": "10",
        }

    return {"candles": [candle(h) for h in hours], "more_candles": more}


async def test_candles_follow_more_candles_from_the_last_candle(
    kf: Session, script: Script
) -> None:
    script.answers = [
        ok(candles_page(range(3), more=True)),
        ok(candles_page(range(2, 5), more=True)),  # starts at the last candle received
        ok(candles_page([5], more=False)),
    ]
    until = T0 + dt.timedelta(hours=10)
    got = [c async for c in kf.market.iter_candles("PF_XBTUSD", "1h", T0, until)]

    assert [c.time for c in got] == [T0 + dt.timedelta(hours=h) for h in range(6)]
    starts = [script.query(i)["from"] for i in range(3)]
    assert starts == [[str(MS // 1000)], [str(MS // 1000 + 2 * 3600)], [str(MS // 1000 + 4 * 3600)]]
    assert all(script.query(i)["to"] == [str(int(until.timestamp()))] for i in range(3))
    assert all(r.url.path == "/api/charts/v1/trade/PF_XBTUSD/1h" for r in script.requests)
    assert all("Authent" not in r.headers for r in script.requests)


async def test_candles_stop_when_a_page_brings_nothing_new(kf: Session, script: Script) -> None:
    script.answers = [ok(candles_page([0, 1], more=True)), ok(candles_page([1], more=True))]
    got = [c async for c in kf.market.iter_candles("PF_XBTUSD", "1h", T0)]
    assert len(got) == 2
    assert len(script.requests) == 2


def log_entry(entry_id: int) -> dict[str, Any]:
    return {
        "id": entry_id,
        "date": "2024-05-01T00:00:00.000Z",
        "asset": "usd",
        "info": "futures trade",
        "booking_uid": f"b{entry_id}",
        "margin_account": "flex",
        "old_balance": 10,
        "new_balance": 11,
        "collateral": None,
        "contract": "pf_xbtusd",
        "execution": None,
        "fee": 0.1,
        "funding_rate": None,
        "mark_price": 65000,
        "trade_price": 65000,
        "old_average_entry_price": None,
        "new_average_entry_price": 65000,
        "realized_pnl": None,
        "realized_funding": None,
        "conversion_spread_percentage": None,
        "liquidation_fee": None,
    }


async def test_the_account_log_pages_by_entry_id(kf: Session, script: Script) -> None:
    script.answers = [
        ok({"accountUid": "a", "logs": [log_entry(9), log_entry(8)]}),
        ok({"accountUid": "a", "logs": [log_entry(7), log_entry(6)]}),
        ok({"accountUid": "a", "logs": [log_entry(5)]}),
    ]
    ids = [e.id async for e in kf.history.iter_account_log(count=2, info="futures trade")]

    assert ids == [9, 8, 7, 6, 5]
    assert "to" not in script.query(0)
    assert script.query(1)["to"] == ["7"]
    assert script.query(2)["to"] == ["5"]
    assert all(script.query(i)["info"] == ["futures trade"] for i in range(3))
    assert units(kf, Budget.HISTORY) == 3  # count 2 costs 1 token a page


async def test_the_account_log_pages_upwards_when_ascending(kf: Session, script: Script) -> None:
    script.answers = [
        ok({"accountUid": "a", "logs": [log_entry(1), log_entry(2)]}),
        ok({"accountUid": "a", "logs": []}),
    ]
    ids = [e.id async for e in kf.history.iter_account_log(count=2, sort="asc")]
    assert ids == [1, 2]
    assert script.query(1)["from"] == ["3"]
    assert units(kf, Budget.HISTORY) == 2


async def test_iterators_check_their_arguments_before_anything_is_sent(
    kf: Session, script: Script
) -> None:
    naive = dt.datetime(2024, 5, 1)
    with pytest.raises(InvalidArgumentError):
        kf.history.iter_executions(since=naive)
    with pytest.raises(InvalidArgumentError):
        kf.history.iter_orders(sort="up")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        kf.history.iter_account_log(count=0)
    with pytest.raises(InvalidArgumentError):
        kf.history.iter_positions(max_pages=0)
    with pytest.raises(InvalidArgumentError):
        kf.orders.iter_fills(before=naive)
    with pytest.raises(InvalidArgumentError):
        kf.market.iter_candles("PF_XBTUSD", "1h", naive)
    assert script.requests == []
