"""The twin's engine, public side: instruments, moving prices, books, tickers, tape, candles."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pytest

from kraken_futures_async.simulator.clock import DEFAULT_START
from kraken_futures_async.simulator.errors import ExchangeError, Reason

from .test_sim_engine_support import Twin, assert_valid


@pytest.fixture
def twin() -> Twin:
    return Twin(seed=7)


def _instruments(twin: Twin) -> dict[str, dict[str, Any]]:
    rows = twin.checked("instruments")["instruments"]
    return {row["symbol"]: row for row in rows}


def test_the_listing_looks_like_krakens(twin: Twin) -> None:
    listing = _instruments(twin)
    perpetuals = [s for s in listing if s.startswith("PF_")]
    assert len(perpetuals) >= 250
    assert len(listing) >= 280
    xbt, eth, doge = listing["PF_XBTUSD"], listing["PF_ETHUSD"], listing["PF_DOGEUSD"]
    assert (xbt["tickSize"], xbt["contractValueTradePrecision"]) == (Decimal(1), 4)
    assert xbt["maxPositionSize"] == Decimal(1200)
    assert eth["contractValueTradePrecision"] == 3
    assert (doge["tickSize"], doge["contractValueTradePrecision"]) == (Decimal("0.00001"), 0)
    assert listing["PF_PEPEUSD"]["contractValueTradePrecision"] == -3
    assert listing["PF_PENGUUSD"]["contractValueTradePrecision"] == -1
    assert xbt["marginLevels"][0] == {
        "numNonContractUnits": Decimal(0),
        "initialMargin": Decimal("0.01"),
        "maintenanceMargin": Decimal("0.005"),
    }
    assert xbt["type"] == "flexible_futures"
    assert "lastTradingTime" not in xbt
    assert xbt["fundingRateCoefficient"] > 0
    assert xbt["maxRelativeFundingRate"] > 0


def test_dated_and_inverse_contracts(twin: Twin) -> None:
    listing = _instruments(twin)
    # the default clock starts 2026-11-24: next quarterlies are 25 Dec 2026 and 26 Mar 2027
    dated = listing["FF_XBTUSD_261225"]
    assert dated["lastTradingTime"] == "2026-12-25T08:00:00Z"
    assert "fundingRateCoefficient" not in dated
    assert "FF_XBTUSD_270326" in listing
    inverse = listing["PI_XBTUSD"]
    assert inverse["type"] == "futures_inverse"
    assert (inverse["tickSize"], inverse["contractValueTradePrecision"]) == (Decimal("0.5"), 0)
    assert inverse["underlying"] == "rr_xbtusd"
    assert inverse["marginLevels"][0]["contracts"] == 0
    assert listing["FI_XBTUSD_261225"]["lastTradingTime"] == "2026-12-25T16:00:00Z"


def test_contract_type_filter(twin: Twin) -> None:
    rows = twin.call("instruments", contractType="futures_inverse")["instruments"]
    assert rows
    assert {row["type"] for row in rows} == {"futures_inverse"}
    with pytest.raises(ExchangeError) as caught:
        twin.call("instruments", contractType="options")
    assert caught.value.code == "invalidArgument"


def test_the_mark_moves_and_does_not_depend_on_how_often_it_is_read() -> None:
    often, rarely = Twin(seed=3), Twin(seed=3)
    marks = []
    for _ in range(120):
        often.clock.advance(1)
        marks.append(often.call("ticker", symbol="PF_XBTUSD")["ticker"]["markPrice"])
    rarely.clock.advance(120)
    assert rarely.call("ticker", symbol="PF_XBTUSD")["ticker"]["markPrice"] == marks[-1]
    assert len(set(marks)) > 60  # it really moves, most seconds
    spread = (max(marks) - min(marks)) / marks[0]
    assert Decimal("0.0001") < spread < Decimal("0.05")


def test_a_different_seed_gives_different_prices() -> None:
    assert Twin(seed=1).mark("PF_ETHUSD") != Twin(seed=2).mark("PF_ETHUSD")


def test_the_book_is_sorted_on_the_tick_grid(twin: Twin) -> None:
    for symbol in ("PF_XBTUSD", "PF_DOGEUSD", "PF_PEPEUSD", "PI_XBTUSD", "FF_ETHUSD_261225"):
        book = twin.checked("orderbook", symbol=symbol)["orderBook"]
        bids, asks = book["bids"], book["asks"]
        assert len(bids) >= 10
        assert len(asks) >= 10
        assert [p for p, _ in bids] == sorted((p for p, _ in bids), reverse=True)
        assert [p for p, _ in asks] == sorted(p for p, _ in asks)
        assert bids[0][0] < asks[0][0]
        listing = _instruments(twin)[symbol]
        tick = listing["tickSize"]
        step = Decimal(1).scaleb(-int(str(listing["contractValueTradePrecision"])))
        assert isinstance(tick, Decimal)
        for price, size in bids + asks:
            assert price % tick == 0
            assert size % step == 0
            assert size > 0
        mark = twin.mark(symbol)
        assert bids[0][0] <= mark <= asks[0][0] or abs(asks[0][0] - mark) <= 2 * tick


def test_the_makers_requote_around_the_moving_mark(twin: Twin) -> None:
    before = twin.book("PF_SOLUSD")
    twin.clock.advance(600)
    after = twin.book("PF_SOLUSD")
    assert before != after
    mark = twin.mark("PF_SOLUSD")
    assert after["bids"][0][0] < mark < after["asks"][0][0]


def test_unknown_symbols_are_refused(twin: Twin) -> None:
    with pytest.raises(ExchangeError) as caught:
        twin.call("ticker", symbol="PF_NOPEUSD")
    # the spec's 404 for getTicker is the classic envelope (rendered by the HTTP face)
    assert (caught.value.reason, caught.value.code) == (Reason.NOT_FOUND, "notFound")
    with pytest.raises(ExchangeError) as caught:
        twin.call("orderbook", symbol="PF_NOPEUSD")
    assert caught.value.reason is Reason.VALIDATION
    assert caught.value.message == "Argument invalid: symbol"
    with pytest.raises(ExchangeError) as caught:
        twin.call("orderbook")
    assert caught.value.code == "requiredArgumentMissing"


def test_tickers_carry_krakens_fields_and_agree_with_the_book(twin: Twin) -> None:
    tickers = twin.checked("tickers")["tickers"]
    by_symbol = {t["symbol"]: t for t in tickers}
    assert {"in_xbtusd", "rr_xbtusd"} <= set(by_symbol)
    xbt = by_symbol["PF_XBTUSD"]
    book = twin.book("PF_XBTUSD")
    assert [xbt["bid"], xbt["bidSize"]] == book["bids"][0]
    assert [xbt["ask"], xbt["askSize"]] == book["asks"][0]
    assert xbt["markPrice"] == twin.mark("PF_XBTUSD")
    assert xbt["indexPrice"] == twin.exchange.index_price("PF_XBTUSD")
    assert xbt["low24h"] <= xbt["last"] <= xbt["high24h"]
    assert xbt["vol24h"] > 0
    assert xbt["volumeQuote"] > xbt["vol24h"]
    assert xbt["change24h"] == ((xbt["last"] - xbt["open24h"]) / xbt["open24h"] * 100).quantize(
        Decimal("0.0001")
    )
    assert "fundingRate" in xbt
    assert "fundingRate" not in by_symbol["FF_XBTUSD_261225"]
    assert xbt["suspended"] is False
    assert xbt["postOnly"] is False
    assert xbt["tag"] == "perpetual"
    assert xbt["pair"] == "XBT:USD"
    assert by_symbol["FF_XBTUSD_261225"]["tag"] == "quarter"


def test_a_user_trade_becomes_the_last_price_and_adds_volume(twin: Twin) -> None:
    before = twin.call("ticker", symbol="PF_LINKUSD")["ticker"]
    ask = twin.book("PF_LINKUSD")["asks"][0][0]
    twin.send(orderType="mkt", symbol="PF_LINKUSD", side="buy", size="1.5")
    after = twin.call("ticker", symbol="PF_LINKUSD")["ticker"]
    assert after["last"] == ask
    assert after["lastSize"] == Decimal("1.5")
    assert after["vol24h"] == before["vol24h"] + Decimal("1.5")
    trades = twin.call("trades", symbol="PF_LINKUSD")["history"]
    assert trades[0]["price"] == ask
    assert trades[0]["size"] == "1.5"
    assert trades[0]["side"] == "buy"


def test_history_is_newest_first_and_pages_back(twin: Twin) -> None:
    first = twin.checked("trades", symbol="PF_XBTUSD")["history"]
    assert len(first) == 100
    times = [row["time"] for row in first]
    assert times == sorted(times, reverse=True)
    ids = [row["trade_id"] for row in first]
    assert ids == sorted(ids, reverse=True)
    assert len(set(ids)) == 100
    older = twin.call("trades", symbol="PF_XBTUSD", lastTime=first[-1]["time"])["history"]
    assert older
    assert all(row["time"] < first[-1]["time"] for row in older)
    assert older[0]["trade_id"] < ids[-1]


def test_candles_follow_the_mark(twin: Twin) -> None:
    start = int(DEFAULT_START) - 3600
    page = twin.checked(
        "candles", tick_type="mark", symbol="PF_XBTUSD", resolution="1m", **{"from": str(start)}
    )
    candles = page["candles"]
    assert len(candles) == 61
    assert page["more_candles"] is False
    assert candles[0]["time"] == start * 1000
    assert Decimal(candles[0]["open"]) == twin.mark("PF_XBTUSD", start)
    assert Decimal(candles[-1]["close"]) == twin.mark("PF_XBTUSD")
    for candle in candles:
        low, high = Decimal(candle["low"]), Decimal(candle["high"])
        assert low <= Decimal(candle["open"]) <= high
        assert low <= Decimal(candle["close"]) <= high
        assert candle["volume"] == 0


def test_candles_are_capped_at_2000(twin: Twin) -> None:
    start = int(DEFAULT_START) - 3000 * 60
    page = twin.call(
        "candles", tick_type="trade", symbol="PF_ETHUSD", resolution="1m", **{"from": str(start)}
    )
    assert len(page["candles"]) == 2000
    assert page["more_candles"] is True
    assert all(Decimal(c["volume"]) >= 0 for c in page["candles"])
    counted = twin.call("candles", tick_type="spot", symbol="PF_ETHUSD", resolution="1d", count="3")
    assert len(counted["candles"]) == 3
    assert counted["more_candles"] is False
    day = counted["candles"][-1]["time"] // 1000
    assert day % 86_400 == 0
    assert day <= DEFAULT_START


def test_weekly_candles_start_on_monday(twin: Twin) -> None:
    page = twin.call("candles", tick_type="mark", symbol="PF_XBTUSD", resolution="1w", count="2")
    for candle in page["candles"]:
        # 1970-01-05 was a Monday
        assert (candle["time"] // 1000 - 4 * 86_400) % (7 * 86_400) == 0


def test_a_bad_resolution_is_a_plain_text_400(twin: Twin) -> None:
    with pytest.raises(ExchangeError) as caught:
        twin.call("candles", tick_type="trade", symbol="PF_XBTUSD", resolution="2m")
    error = caught.value
    assert (error.reason, error.message) == (Reason.INVALID_ARGUMENT, "Invalid resolution")


def test_the_schema_check_itself_catches_a_wrong_shape() -> None:
    with pytest.raises(AssertionError):
        assert_valid("tickers", {"tickers": [{"symbol": "PF_XBTUSD", "markPrice": "1"}]})
    with pytest.raises(AssertionError):
        assert_valid("candles", {"candles": [{"time": 1, "open": 1}], "more_candles": False})


def test_price_grid_is_ten_times_finer_than_the_tick(twin: Twin) -> None:
    mark = twin.mark("PF_XBTUSD")
    assert mark % Decimal("0.1") == 0
    assert math.isclose(float(mark), float(twin.exchange.index_price("PF_XBTUSD")), rel_tol=0.01)
