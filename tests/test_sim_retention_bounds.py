"""Every cache and index the twin keeps is bounded, and bounded caches answer the same (issue 17).

The long-soak growth came from the price noise: each of the ~270 indices cached every lattice
node it ever computed (up to 16,384 each before clearing, ~0.33 new a second per index while
tickers were read, about +21 MB/h). These tests hold each bound with small caps, fast and
without waiting on real time.
"""

from __future__ import annotations

import asyncio
import gc
import json
import math
import random
import tracemalloc
from decimal import Decimal
from typing import Any

import httpx
import pytest

from kraken_futures_async.simulator import Twin, TwinConfig
from kraken_futures_async.simulator.clock import DEFAULT_START, ManualClock
from kraken_futures_async.simulator.engine import Exchange
from kraken_futures_async.simulator.engine._noise import signed_unit, signed_units, unit, units
from kraken_futures_async.simulator.engine._text import quantize_down
from kraken_futures_async.simulator.engine.charts import RESOLUTIONS
from kraken_futures_async.simulator.engine.prices import Prices
from kraken_futures_async.simulator.engine.retention import ClearingCache, Retention
from kraken_futures_async.simulator.rest.auth import NonceBook

from .twin_checks import check_engine_payload

ACCOUNT = "acct-bounds"
NOW = int(DEFAULT_START)


def _exchange(**caps: int) -> Exchange:
    exchange = Exchange(seed=0, clock=ManualClock(), retention=Retention(**caps))
    exchange.open_account(ACCOUNT, {"USD": Decimal(10_000_000)})
    return exchange


def _call(exchange: Exchange, operation: str, account: str | None = None, **params: str) -> Any:
    payload = exchange.handle(operation, {k: [v] for k, v in params.items()}, account)
    check_engine_payload(operation, payload)
    return payload


def _owner(exchange: Exchange, operation: str) -> Any:
    """The engine part that serves ``operation`` (charts, market data, market status)."""
    return getattr(exchange._public[operation], "__self__")  # noqa: B009


def _traced() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


# --- the cache itself ------------------------------------------------------------------------


def test_a_clearing_cache_never_holds_more_than_its_limit() -> None:
    cache: ClearingCache[int, int] = ClearingCache(3)
    for key in range(3):
        cache.put(key, key)
    assert cache.put(1, 10) == 10
    assert len(cache) == 3
    cache.put(3, 3)  # full: emptied first
    assert dict(cache) == {3: 3}
    for key in range(100):
        cache.put(key, key)
        assert len(cache) <= 3
    with pytest.raises(ValueError, match="at least one"):
        ClearingCache(0)


@pytest.mark.parametrize("name", ["price_cache", "candle_cache", "hourly_cache"])
def test_the_cache_caps_are_retention_fields_of_at_least_one(name: str) -> None:
    with pytest.raises(ValueError, match=name):
        Retention(**{name: 0})
    assert TwinConfig(retention=Retention(**{name: 5})).retention == Retention(**{name: 5})


# --- prices: the noise remembers a fixed few nodes, the quotes at most the cap ---------------


def test_the_batched_hashes_are_the_scalar_ones() -> None:
    rng = random.Random(3)
    for _ in range(20):
        key = rng.getrandbits(64)
        indices = [rng.randrange(-(2**70), 2**70) for _ in range(40)] + list(range(-3, 3))
        assert units(key, indices) == [unit(key, i) for i in indices]
        assert signed_units(key, indices) == [signed_unit(key, i) for i in indices]


def test_batched_price_paths_are_the_quotes_bit_for_bit() -> None:
    exchange = _exchange()
    prices = exchange._venue.prices
    assert isinstance(prices, Prices)
    specs = exchange._venue.specs
    rng = random.Random(5)
    for symbol in ("PF_XBTUSD", "PI_ETHUSD", "FF_XBTUSD_261225", "PF_DOGEUSD"):
        spec = specs[symbol]
        seconds = sorted(rng.randrange(NOW - 10**7, NOW) for _ in range(200))
        seconds += list(range(NOW - 130, NOW))  # neighbours: the lattice walks forward
        indices, marks = prices.paths(spec, seconds)
        for second, index, mark in zip(seconds, indices, marks, strict=True):
            quoted_index, _quoted_mark, quoted_mark_f = prices.quote(spec, second)
            assert mark == quoted_mark_f
            assert index == prices.index_float(spec.base, second)
            assert quoted_index == Decimal(round(index / float(spec.tick / 10))) * (spec.tick / 10)


def test_the_price_noise_stays_flat_over_a_long_run() -> None:
    """Reading 20 indices (and two contracts' premiums) each second: memory at 4,000 s is
    what it was at 1,000 s.

    Before the fix each index kept every lattice node it computed, ~0.33 more a second: the
    last 3,000 seconds here would have kept some 20,000 more nodes, ~1.5 MB.
    """
    exchange = _exchange(price_cache=200)
    prices = exchange._venue.prices
    assert isinstance(prices, Prices)
    bases = sorted({spec.base for spec in exchange._venue.specs.values()})[:20]
    contracts = [exchange._venue.specs[s] for s in ("PF_XBTUSD", "PI_ETHUSD")]

    def read(seconds: range) -> None:
        for second in seconds:
            for base in bases:
                prices.index_float(base, second)
            for spec in contracts:
                prices.premium(spec, second)

    tracemalloc.start()
    try:
        read(range(NOW, NOW + 1_000))
        before = _traced()
        read(range(NOW + 1_000, NOW + 4_000))
        grown = _traced() - before
    finally:
        tracemalloc.stop()
    assert len(prices._index_cache) <= 200
    assert grown < 50_000, f"the prices grew {grown} bytes over 3,000 seconds"


# --- candles -------------------------------------------------------------------------------


def _reference_candle(exchange: Exchange, tick: str, symbol: str, width: int, start: int) -> Any:
    """A finished candle the way the twin first computed it: every sample quoted and rounded."""
    venue = exchange._venue
    spec, market = venue.specs[symbol], venue.market(symbol)
    span = width - 1
    samples = min(span + 1, {60: 30, 300: 20}.get(width, 8))
    seconds = [start + (span * i) // max(1, samples - 1) for i in range(samples)]
    values, volume = [], Decimal(0)
    for second in seconds:
        index, mark, mark_f = venue.prices.quote(spec, second)
        if tick == "spot":
            values.append(index)
        elif tick == "mark":
            values.append(mark)
        else:
            values.append(quantize_down(mark, spec.tick))
            if market.quoter.trades_at(second):
                volume += market.quoter.background_trade(second, mark_f).size
    if tick == "trade":
        volume = quantize_down(volume * (span + 1) / samples, spec.size_step)
    return {
        "time": start * 1000,
        "open": str(values[0]),
        "high": str(max(values)),
        "low": str(min(values)),
        "close": str(values[-1]),
        "volume": volume,
    }


@pytest.mark.parametrize("tick", ["trade", "mark", "spot"])
@pytest.mark.parametrize("resolution", ["1m", "5m", "1h", "1d"])
def test_candles_are_the_rounded_samples(tick: str, resolution: str) -> None:
    exchange = _exchange()
    width = RESOLUTIONS[resolution]
    for symbol in ("PF_XBTUSD", "PI_XBTUSD", "FF_ETHUSD_261225"):
        start = NOW - 40 * width
        page = _call(
            exchange, "candles", tick_type=tick, symbol=symbol, resolution=resolution,
            **{"from": str(start), "count": "30"},
        )  # fmt: skip
        candles = page["candles"]
        assert len(candles) == 30
        for candle in candles:
            expected = _reference_candle(exchange, tick, symbol, width, candle["time"] // 1000)
            assert json.dumps(candle, default=str) == json.dumps(expected, default=str)


def test_the_candle_cache_holds_its_cap_and_changes_no_answer() -> None:
    small, plain = _exchange(candle_cache=50), _exchange()
    start = str(NOW - 3000 * 60)
    for tick in ("trade", "mark", "spot"):
        params = {"tick_type": tick, "symbol": "PF_ETHUSD", "resolution": "1m", "from": start}
        params["count"] = "400"
        first = _call(small, "candles", **params)
        assert len(first["candles"]) == 400
        assert first["more_candles"] is True
        assert _call(small, "candles", **params) == first == _call(plain, "candles", **params)
    assert len(_owner(small, "candles")._cache) <= 50


def test_one_sampling_serves_all_three_tick_types() -> None:
    exchange = _exchange()
    prices = exchange._venue.prices
    sampled: list[int] = []
    paths = prices.paths

    def counting(spec: Any, seconds: Any) -> Any:
        sampled.append(len(seconds))
        return paths(spec, seconds)

    prices.paths = counting  # type: ignore[method-assign]
    params = {"symbol": "PF_XBTUSD", "resolution": "1h", "count": "500"}
    params["to"] = str(NOW - 7200)  # finished candles only: all of them cacheable
    _call(exchange, "candles", tick_type="trade", **params)
    assert sampled == [500 * 8]
    _call(exchange, "candles", tick_type="mark", **params)
    _call(exchange, "candles", tick_type="spot", **params)
    assert sampled == [500 * 8]


# --- hourly figures --------------------------------------------------------------------------


def test_hourly_caches_hold_their_cap() -> None:
    exchange = _exchange(hourly_cache=30)
    rates = _call(exchange, "historical_funding_rates", symbol="PF_XBTUSD")["rates"]
    assert len(rates) == 30 * 24
    assert rates == _call(_exchange(), "historical_funding_rates", symbol="PF_XBTUSD")["rates"]
    _call(exchange, "tickers")
    market_data = _owner(exchange, "tickers")
    status = _owner(exchange, "historical_funding_rates")
    for cache in (status._rates, market_data._hourly, market_data._ranges):
        assert 0 < len(cache) <= 30
    assert len(market_data._funding_cache) <= 30


# --- order indexes and nonces --------------------------------------------------------------


def test_order_indexes_shrink_as_orders_close() -> None:
    exchange = _exchange(closed_orders=5, open_orders=25)
    clock = exchange._venue.clock
    assert isinstance(clock, ManualClock)
    for i in range(60):
        clock.advance(0.5)
        placed = _call(
            exchange, "send_order", ACCOUNT, orderType="lmt", symbol="PF_XBTUSD", side="buy",
            size="0.01", limitPrice="1000", cliOrdId=f"bounds-{i}",
        )["sendStatus"]  # fmt: skip
        assert placed["status"] == "placed"
        if i % 3:
            _call(exchange, "cancel_order", ACCOUNT, order_id=placed["order_id"])
    account = exchange._venue.accounts[ACCOUNT]
    assert len(account.open_orders) == len(account.by_cli) == 20
    assert set(account.by_cli) == {o.cli_ord_id for o in account.open_orders.values()}
    assert len(account.recent) == 5
    _call(exchange, "cancel_all_orders", ACCOUNT)
    assert not account.open_orders
    assert not account.by_cli
    assert len(account.recent) == 5
    book = exchange._venue.markets["PF_XBTUSD"].bids
    assert not book.levels
    assert not book.prices


def test_a_key_remembers_at_most_its_nonce_memory() -> None:
    book = NonceBook(memory=100)
    for nonce in range(10**15, 10**15 + 5_000):  # 16 digits: a 10 s window of microseconds
        assert book.admit(nonce, 10.0) is None
    assert len(book._recent) == len(book._heap) == 100
    assert book.admit(10**15 + 4_000, 10.0) == "nonceBelowThreshold"  # forgotten: the floor


def test_in_process_calls_leave_no_timers_behind() -> None:
    """A caller that never sleeps still lets the loop sweep each call's cancelled timer."""

    async def run() -> int:
        twin = Twin(TwinConfig(clock=ManualClock(), rate_limits=False))
        transport = twin.transport()
        async with httpx.AsyncClient(base_url="http://127.0.0.1", transport=transport) as client:
            for _ in range(400):
                (await client.get("/api/charts/v1/")).raise_for_status()
        scheduled = getattr(asyncio.get_running_loop(), "_scheduled", [])
        return len(scheduled)

    assert asyncio.run(run()) < 150  # was one per call (400), each ~0.4 KB, for good


def test_the_sampled_figures_stay_finite() -> None:
    """A sanity check on the float paths far from now (a week's candles, years back)."""
    exchange = _exchange()
    spec = exchange._venue.specs["PF_XBTUSD"]
    seconds = list(range(NOW - 4 * 10**7, NOW, 10**6))
    indices, marks = exchange._venue.prices.paths(spec, seconds)
    assert all(math.isfinite(x) and x > 0 for x in indices + marks)
