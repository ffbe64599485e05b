"""kf.stream's other channels against the fake server: typed items with exact Decimals,
refusals, argument checks, and the bounded buffer of a consumer that falls behind."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from kraken_futures_async import InvalidArgumentError, Session
from kraken_futures_async.converter import decode_json, strict_converter
from kraken_futures_async.models.enums import Side
from kraken_futures_async.models.streams import (
    StreamCandle,
    StreamInstruments,
    StreamTicker,
    StreamTrade,
    SystemState,
    SystemStatus,
)
from kraken_futures_async.streams import StreamOverflowError, SubscriptionRejectedError
from kraken_futures_async.streams.subscriptions import Streams
from kraken_futures_async.uws import UwsConnection

from .test_stream_client_support import FAST, FakeSocket, FakeUws

TICKER = (
    '{{"channel":"ticker","type":"{kind}","data":[{{"symbol":"{symbol}","bid":96250.0,'
    '"bid_qty":0.3,"ask":96250.5,"ask_qty":0.1500,"last":96250.5,"volume":1234.5678,'
    '"vwap":95880.2,"low":94500.0,"high":96900.0,"change":850.5,"change_pct":0.89,'
    '"timestamp":"2026-12-01T12:00:01.000000Z"}}]}}'
)
TRADES = (
    '{"channel":"trade","type":"update","data":['
    '{"symbol":"PF_XBTUSD","side":"buy","price":96250.5,"qty":0.0125,"ord_type":"limit",'
    '"trade_id":88123457,"timestamp":"2026-12-01T12:00:01.120000Z"},'
    '{"symbol":"PF_XBTUSD","side":"sell","price":96250.0,"qty":0.1500,"ord_type":"market",'
    '"trade_id":88123458,"timestamp":"2026-12-01T12:00:01.130000Z"}]}'
)
OHLC = (
    '{"channel":"ohlc","type":"update","timestamp":"2026-12-01T12:05:00.000000Z","data":[{'
    '"symbol":"PF_XBTUSD","open":96100.0,"high":96300.0,"low":96050.5,"close":96250.5,'
    '"trades":42,"volume":3.2,"vwap":96180.1,"interval_begin":"2026-12-01T12:00:00.000000000Z",'
    '"interval":5,"timestamp":"2026-12-01T12:05:00.000000Z"}]}'
)
INSTRUMENTS = (
    '{"channel":"instrument","type":"snapshot","data":{"assets":[{"id":"USD","status":"enabled",'
    '"precision":4,"precision_display":2,"borrowable":false,"collateral_value":1.0,'
    '"margin_rate":0.0}],"pairs":[{"symbol":"PF_XBTUSD","base":"XBT","quote":"USD",'
    '"status":"online","qty_precision":4,"qty_increment":0.0001,"qty_min":0.0001,'
    '"price_precision":1,"price_increment":0.5,"cost_precision":2,"marginable":false,'
    '"has_index":true}]}}'
)


def _answer_with(server: FakeUws, pushes: dict[str, list[str]]) -> None:
    async def on_subscribe(socket: FakeSocket, message: dict[str, Any]) -> None:
        params = message["params"]
        for text in pushes.get(params["channel"], []):
            symbol = (params.get("symbol") or [""])[0]
            await socket.send(text.replace("{SYMBOL}", symbol))

    server.on_subscribe = on_subscribe


async def test_ticker_of_two_symbols_keeps_the_wire_digits() -> None:
    async with FakeUws() as server, Session(base_url=server.http_url, stream_settings=FAST) as kf:
        _answer_with(server, {"ticker": [TICKER.format(kind="snapshot", symbol="{SYMBOL}")]})
        async with asyncio.timeout(5), kf.stream.ticker(["PF_XBTUSD", "PF_ETHUSD"]) as tickers:
            got = [await anext(tickers), await anext(tickers)]
        assert all(isinstance(t, StreamTicker) for t in got)
        by_symbol = {t.symbol: t for t in got if isinstance(t, StreamTicker)}
        assert set(by_symbol) == {"PF_XBTUSD", "PF_ETHUSD"}
        ticker = by_symbol["PF_XBTUSD"]
        assert ticker.ask_qty == Decimal("0.1500")
        assert str(ticker.ask_qty) == "0.1500"
        assert ticker.volume == Decimal("1234.5678")
        assert ticker.change_pct == Decimal("0.89")
        assert ticker.timestamp == dt.datetime(2026, 12, 1, 12, 0, 1, tzinfo=dt.UTC)
        assert len(server.methods("subscribe", "ticker")) == 2  # one request per symbol
        assert len(server.methods("unsubscribe", "ticker")) == 2


async def test_trades_one_item_per_trade_without_a_snapshot_by_default() -> None:
    async with FakeUws() as server, Session(base_url=server.http_url, stream_settings=FAST) as kf:
        _answer_with(server, {"trade": [TRADES]})
        async with asyncio.timeout(5), kf.stream.trades("PF_XBTUSD") as trades:
            first, second = await anext(trades), await anext(trades)
        assert isinstance(first, StreamTrade)
        assert isinstance(second, StreamTrade)
        assert (first.side, first.price, first.qty, first.trade_id) == (
            Side.BUY,
            Decimal("96250.5"),
            Decimal("0.0125"),
            88123457,
        )
        assert str(second.qty) == "0.1500"
        assert second.ord_type == "market"
        assert server.methods("subscribe", "trade")[0]["params"]["snapshot"] is False


async def test_ohlc_and_instruments() -> None:
    async with FakeUws() as server, Session(base_url=server.http_url, stream_settings=FAST) as kf:
        _answer_with(server, {"ohlc": [OHLC], "instrument": [INSTRUMENTS]})
        async with asyncio.timeout(5):
            async with kf.stream.ohlc("PF_XBTUSD", 5, tick_type="mark") as candles:
                candle = await anext(candles)
            async with kf.stream.instruments() as instruments:
                listing = await anext(instruments)
        assert isinstance(candle, StreamCandle)
        assert candle.close == Decimal("96250.5")
        assert candle.trades == 42
        assert candle.interval_begin == dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
        params = server.methods("subscribe", "ohlc")[0]["params"]
        assert (params["interval"], params["tick_type"]) == (5, "mark")
        assert isinstance(listing, StreamInstruments)
        assert listing.snapshot
        (pair,) = listing.pairs
        assert pair.price_increment == Decimal("0.5")
        assert pair.qty_min == Decimal("0.0001")
        assert listing.assets[0].collateral_value == Decimal("1.0")
        instrument = server.methods("subscribe", "instrument")[0]["params"]
        assert "symbol" not in instrument
        assert instrument["asset_class"] == "derivatives"


async def test_status_is_an_event_stream() -> None:
    async with (
        FakeUws() as server,
        Session(base_url=server.http_url, stream_settings=FAST) as kf,
        asyncio.timeout(5),
        kf.stream.status() as statuses,
    ):
        first = await anext(statuses)
        assert isinstance(first, SystemStatus)
        assert first.system is SystemState.ONLINE
        await server.push(
            '{"channel":"status","type":"update","data":[{"system":"maintenance",'
            '"api_version":"v2","connection_id":1,"version":"2.0.10"}]}'
        )
        second = await anext(statuses)
        assert second.system is SystemState.MAINTENANCE


def test_the_reference_examples_have_every_key_modelled() -> None:
    """The strict converter refuses unknown keys: the models cover the examples."""
    conv = strict_converter()
    ticker = decode_json(TICKER.format(kind="update", symbol="PF_XBTUSD"))["data"][0]
    assert conv.structure(ticker, StreamTicker).bid_qty == Decimal("0.3")
    for trade in decode_json(TRADES)["data"]:
        conv.structure(trade, StreamTrade)
    conv.structure(decode_json(OHLC)["data"][0], StreamCandle)


async def test_a_refused_subscription_raises_kraken_s_error() -> None:
    async with FakeUws() as server, Session(base_url=server.http_url, stream_settings=FAST) as kf:
        server.refuse["trade"] = "Currency pair not supported PF_NOPE"
        with pytest.raises(SubscriptionRejectedError) as caught:
            async with asyncio.timeout(5), kf.stream.trades("PF_NOPE"):
                pass
        assert caught.value.code == "Currency pair not supported PF_NOPE"


async def test_arguments_are_checked_before_anything_is_sent() -> None:
    async with FakeUws() as server, Session(base_url=server.http_url, stream_settings=FAST) as kf:
        with pytest.raises(InvalidArgumentError):
            kf.stream.book("PF_XBTUSD", depth=7)
        with pytest.raises(InvalidArgumentError):
            kf.stream.ohlc("PF_XBTUSD", 2)
        with pytest.raises(InvalidArgumentError):
            kf.stream.ohlc("PF_XBTUSD", 5, tick_type="index")
        with pytest.raises(InvalidArgumentError):
            kf.stream.trades("")
        with pytest.raises(InvalidArgumentError):
            kf.stream.ticker([])
        assert server.requests == []


async def test_one_stream_per_channel_and_symbol() -> None:
    async with FakeUws() as server, Session(base_url=server.http_url, stream_settings=FAST) as kf:
        async with asyncio.timeout(5), kf.stream.trades("PF_XBTUSD"):
            with pytest.raises(InvalidArgumentError, match="already streamed"):
                async with kf.stream.trades("PF_XBTUSD"):
                    pass
        async with asyncio.timeout(5), kf.stream.trades("PF_XBTUSD"):
            pass  # free again after leaving


async def test_a_consumer_that_falls_behind_gets_everything_then_an_overflow_error() -> None:
    async with FakeUws() as server:
        connection = UwsConnection(server.url, settings=FAST)
        stream = Streams(connection, buffer=3)
        try:
            async with asyncio.timeout(5), stream.trades("PF_XBTUSD") as trades:
                for _ in range(3):  # six trades for a buffer of three
                    await server.push(TRADES)
                await asyncio.sleep(0.2)
                received = [await anext(trades) for _ in range(3)]
                with pytest.raises(StreamOverflowError):
                    await anext(trades)
            assert [t.trade_id for t in received if isinstance(t, StreamTrade)] == [
                88123457,
                88123458,
                88123457,
            ]
            assert len(server.methods("unsubscribe", "trade")) == 1
        finally:
            await connection.aclose()
