"""The command's parts: exact JSON, the traffic meter, percentiles and the progress bar."""

from __future__ import annotations

import datetime as dt
import io
import json
import math
from decimal import Decimal

import attrs
import httpx
import pytest
from rich.console import Console

from kraken_futures_async.cli.json_output import dumps, plain
from kraken_futures_async.cli.meter import (
    LatencySummary,
    MeteredTransport,
    TrafficMeter,
    percentile,
)
from kraken_futures_async.cli.render import RichProgress
from kraken_futures_async.models.enums import Side


@attrs.frozen
class Sample:
    price: Decimal
    when: dt.datetime
    side: Side
    levels: tuple[Decimal, ...]
    ratio: float


def test_plain_keeps_decimals_exact_and_names_enums() -> None:
    sample = Sample(
        price=Decimal("67261.000"),
        when=dt.datetime(2026, 7, 14, 12, 0, tzinfo=dt.UTC),
        side=Side.BUY,
        levels=(Decimal("0E-11"), Decimal("1.50")),
        ratio=math.nan,
    )
    assert plain(sample) == {
        "price": "67261.000",
        "when": "2026-07-14T12:00:00+00:00",
        "side": "buy",
        "levels": ["0E-11", "1.50"],
        "ratio": None,
    }
    assert json.loads(dumps({"a": [sample]}))["a"][0]["price"] == "67261.000"


@pytest.mark.parametrize(
    ("fraction", "expected"), [(0.5, 50.0), (0.9, 90.0), (0.99, 99.0), (1.0, 100.0), (0.0, 1.0)]
)
def test_nearest_rank_percentiles(fraction: float, expected: float) -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, fraction) == expected


def test_a_summary_of_nothing_is_nan() -> None:
    summary = LatencySummary.of([])
    assert summary.count == 0
    assert math.isnan(summary.p50_ms)
    assert math.isnan(summary.max_ms)


async def test_the_meter_counts_requests_latencies_and_limit_refusals() -> None:
    answers = iter(
        [
            httpx.Response(200, json={"result": "success", "tickers": []}),
            httpx.Response(200, json={"result": "error", "error": "apiLimitExceeded"}),
            httpx.Response(429, text="Too many requests"),
        ]
    )
    meter = TrafficMeter()
    transport = MeteredTransport(httpx.MockTransport(lambda _: next(answers)), meter)
    async with httpx.AsyncClient(transport=transport, base_url="http://twin.test") as client:
        first = await client.get("/derivatives/api/v3/tickers?x=1")
        await client.post("/derivatives/api/v3/sendorder", content=b"a=1")
        third = await client.get("/api/history/v3/orders")
    assert first.json() == {"result": "success", "tickers": []}  # the body still reaches httpx
    assert third.status_code == 429
    assert meter.total == 3
    assert meter.requests == {
        "GET /derivatives/api/v3/tickers": 1,
        "POST /derivatives/api/v3/sendorder": 1,
        "GET /api/history/v3/orders": 1,
    }
    assert meter.limit_refusals == 2
    assert meter.latency().count == 3
    assert meter.failures == 0


async def test_the_meter_counts_failures_and_lets_them_through() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    meter = TrafficMeter()
    transport = MeteredTransport(httpx.MockTransport(refuse), meter)
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get("http://twin.test/x")
    assert meter.failures == 1
    assert meter.latencies == []


def test_the_progress_bar_draws_tasks_and_clears_them() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    with RichProgress(console) as progress:
        progress.start("order books of 3 contracts", total=3)
        progress.advance()
        progress.advance(2)
        progress.start("trading PF_XBTUSD", total=2)
        progress.stop()
        progress.stop()  # twice is harmless
    assert "order books of 3 contracts" in screen.getvalue()
