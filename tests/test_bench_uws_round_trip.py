"""The pieces of ``benchmarks/uws_round_trip.py`` on a served twin: both backends' round trips
leave the book flat, and the report says what was measured (no timing is asserted)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from benchmarks import uws_round_trip as bench
from kraken_futures_async import RateLimitPolicy, Session
from kraken_futures_async.simulator import RunningTwin, Twin, TwinConfig, run_in_thread


@pytest.fixture
def served() -> Iterator[RunningTwin]:
    running = run_in_thread(Twin(TwinConfig(rate_limits=False)), port=0)
    try:
        yield running
    finally:
        running.stop()


async def test_both_backends_place_and_cancel(served: RunningTwin) -> None:
    credentials = served.twin.credentials()
    rest = Session(
        credentials,
        base_url=served.url,
        rate_limits=RateLimitPolicy.unlimited(),
        check_orders=False,
    )
    uws = Session(credentials, base_url=served.url, backend="uws", check_orders=False)
    bursts = bench.Bursts(0.0)
    async with asyncio.timeout(60), rest, uws:
        book = await rest.market.orderbook(bench.SYMBOL)
        assert book.best_bid is not None
        price = (book.best_bid.price * Decimal("0.8")).quantize(Decimal(1))
        for kf in (rest, uws):
            tally = bench.Tally()
            cpu, twin_cpu = await bench._block(kf, tally, 3, price, bursts)
            assert cpu > 0
            assert twin_cpu == 0  # no twin process to ask
            assert len(tally.round_trip) == len(tally.send) == len(tally.cancel) == 3
            assert tally.refused == 0
            assert tally.slow == [] or all(kind in ("send", "cancel") for _, kind, _ in tally.slow)
        assert await rest.orders.open() == []


def _result() -> dict[str, Any]:
    rows = []
    for name in bench.BACKENDS:
        tally = bench.Tally()
        tally.cpu = [0.002, 0.003]
        tally.twin_cpu = [0.001]
        for seconds in (0.004, 0.005):
            tally.add(1, "send", seconds)
            tally.add(1, "cancel", seconds)
            tally.round_trip.append(seconds * 2)
        rows.append(bench._row(name, tally))
    rest, uws = rows
    return {
        "symbol": bench.SYMBOL,
        "rounds": 2,
        "orders": 2,
        "burst": bench.BURST,
        "window_s": bench.WINDOW,
        "twin_loop": "asyncio",
        "rows": rows,
        "x_cpu": 1.0,
        "x_cpu_rounds": [1.0, 1.0],
        "logged": ["INFO kraken_futures_async.reconcile: looking it up"],
        "logged_count": 1,
        "x": {k: uws[k] / rest[k] for k in rest if k.endswith("_ms") or k == "cpu_us"}
        | {"twin_cpu_us": 1.0},
    }


def test_the_report_has_a_column_per_backend_and_their_ratio() -> None:
    text = "\n".join(bench.markdown(_result()))
    assert "| per order round trip | REST | UWS | UWS / REST |" in text
    assert "| client CPU (send + cancel), median of rounds | 2,500 us | 2,500 us | 1.00x |" in text
    assert "| send: wall p50 | 4.00 ms | 4.00 ms | 1.00x |" in text
    assert "**1.00x**" in text
    assert "`INFO kraken_futures_async.reconcile: looking it up`" in text


def test_a_slow_call_is_listed_by_itself() -> None:
    tally = bench.Tally()
    tally.add(3, "send", bench.SLOW + 0.5)
    tally.add(3, "cancel", 0.001)
    assert tally.slow == [(3, "send", bench.SLOW + 0.5)]
