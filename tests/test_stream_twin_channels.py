"""``kf.stream`` against a served twin: every channel yields typed items.

A signed ``Session(credentials, base_url="http://127.0.0.1:PORT")`` streams from
``ws://127.0.0.1:PORT/v2/public``; trades are made through the same Session's REST face.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kraken_futures_async.models.streams import (
    StreamCandle,
    StreamInstruments,
    StreamReconnected,
    StreamTicker,
    StreamTrade,
    SystemState,
    SystemStatus,
)
from kraken_futures_async.simulator import ManualClock, RunningTwin
from kraken_futures_async.simulator.uws import public_url
from kraken_futures_async.streams import BookView
from kraken_futures_async.streams.checksum import book_checksum, level_digits

from .test_stream_twin_support import (
    SYMBOL,
    next_item,
    served_twin,
    session,
    uws,
    wait_until,
)

__all__ = ["served_twin"]


def clock(running: RunningTwin) -> ManualClock:
    manual = running.twin.clock
    assert isinstance(manual, ManualClock)
    return manual


async def test_one_url_reaches_rest_and_the_socket(served_twin: RunningTwin) -> None:
    async with session(served_twin) as kf:
        assert kf.stream_url == public_url(served_twin.url)
        assert kf.stream_url.startswith("ws://127.0.0.1:")
        async with kf.stream.book(SYMBOL, depth=10) as books:
            view = await next_item(books)
        assert isinstance(view, BookView)
        assert (view.symbol, view.depth) == (SYMBOL, 10)
        assert len(view.bids) == len(view.asks) == 10
        assert all(isinstance(level.price, Decimal) for level in view.bids + view.asks)
        assert view.bids[0].price < view.asks[0].price
        assert view.timestamp.tzinfo is not None
        # the checksum, recomputed here from the levels' own text, is the one the book carries
        digits = [level_digits(str(x.price), str(x.size)) for x in view.asks[:10]]
        bid_digits = [level_digits(str(x.price), str(x.size)) for x in view.bids[:10]]
        assert book_checksum(digits, bid_digits) == view.checksum


async def test_ticker_and_trades_follow_a_trade_made_over_rest(served_twin: RunningTwin) -> None:
    async with (
        session(served_twin) as kf,
        kf.stream.ticker([SYMBOL, "PF_ETHUSD"]) as tickers,
        kf.stream.trades(SYMBOL) as trades,
    ):
        first = [await next_item(tickers), await next_item(tickers)]
        assert all(isinstance(t, StreamTicker) for t in first)
        assert {t.symbol for t in first if isinstance(t, StreamTicker)} == {SYMBOL, "PF_ETHUSD"}
        placed = await kf.orders.send(
            symbol=SYMBOL, side="sell", size=Decimal("0.0100"), order_type="mkt"
        )
        assert placed.order_id
        trade = await next_item(trades)
        assert isinstance(trade, StreamTrade)
        assert (trade.symbol, trade.side.value, trade.qty) == (SYMBOL, "sell", Decimal("0.0100"))
        assert isinstance(trade.trade_id, int)
        assert isinstance(trade.timestamp, dt.datetime)
        ticker = await next_item(tickers)
        assert isinstance(ticker, StreamTicker)
        assert (ticker.symbol, ticker.last) == (SYMBOL, trade.price)


async def test_trades_with_a_snapshot(served_twin: RunningTwin) -> None:
    async with session(served_twin) as kf, kf.stream.trades(SYMBOL, snapshot=True) as trades:
        seen = [await next_item(trades) for _ in range(50)]  # Kraken's snapshot: the last 50
    assert all(isinstance(t, StreamTrade) and t.symbol == SYMBOL for t in seen)
    ids = [t.trade_id for t in seen if isinstance(t, StreamTrade)]
    assert ids == sorted(ids)


@pytest.mark.parametrize("tick_type", ["trade", "mark", "spot"])
async def test_ohlc_candles_of_each_tick_type_follow_the_clock(
    served_twin: RunningTwin, tick_type: str
) -> None:
    manual = clock(served_twin)
    async with (
        session(served_twin) as kf,
        kf.stream.ohlc(SYMBOL, 1, tick_type=tick_type) as candles,
    ):
        first = await next_item(candles)
        assert isinstance(first, StreamCandle)
        assert (first.symbol, first.interval) == (SYMBOL, 1)
        assert first.low <= min(first.open, first.close) <= max(first.open, first.close)
        assert max(first.open, first.close) <= first.high
        begin = first.interval_begin
        now = dt.datetime.fromtimestamp(manual.time(), dt.UTC)
        assert begin <= now < begin + dt.timedelta(minutes=1)
        if tick_type != "trade":
            assert (first.trades, first.volume) == (0, Decimal(0))
        # a minute later the running candle is a new one (pushed by the feed's next tick)
        manual.advance(60)
        later = await next_item(candles)
        assert isinstance(later, StreamCandle)
        assert later.interval_begin == begin + dt.timedelta(minutes=1)


async def test_ohlc_trade_candle_takes_a_users_trade(served_twin: RunningTwin) -> None:
    async with session(served_twin) as kf, kf.stream.ohlc(SYMBOL, 5) as candles:
        first = await next_item(candles)
        assert isinstance(first, StreamCandle)
        assert first.volume is not None
        assert first.trades is not None
        await kf.orders.send(symbol=SYMBOL, side="buy", size=Decimal("0.2500"), order_type="mkt")
        update = await next_item(candles)
        assert isinstance(update, StreamCandle)
        assert update.interval_begin == first.interval_begin
        assert update.volume == first.volume + Decimal("0.2500")
        assert update.trades is not None
        assert update.trades > first.trades


async def test_ohlc_fifteen_day_candles(served_twin: RunningTwin) -> None:
    async with session(served_twin) as kf, kf.stream.ohlc(SYMBOL, 21600) as candles:
        candle = await next_item(candles)
    assert isinstance(candle, StreamCandle)
    assert candle.interval == 21600
    seconds = candle.interval_begin.timestamp()
    assert seconds % (21600 * 60) == 0
    assert candle.volume is not None
    assert candle.volume > 0


async def test_instruments(served_twin: RunningTwin) -> None:
    async with session(served_twin) as kf, kf.stream.instruments() as instruments:
        listing = await next_item(instruments)
    assert isinstance(listing, StreamInstruments)
    assert listing.snapshot
    pairs = {pair.symbol: pair for pair in listing.pairs}
    assert pairs[SYMBOL].qty_increment == Decimal("0.0001")
    assert pairs["PI_XBTUSD"].price_increment == Decimal("0.5")
    assert [asset.id for asset in listing.assets] == ["USD"]


async def test_status_and_a_maintenance_push(served_twin: RunningTwin) -> None:
    async with session(served_twin) as kf, kf.stream.status() as statuses:
        online = await next_item(statuses)
        assert isinstance(online, SystemStatus)
        assert online.system is SystemState.ONLINE
        assert online.connection_id is not None
        uws(served_twin).set_status("maintenance")
        maintenance = await next_item(statuses)
        assert maintenance.system is SystemState.MAINTENANCE
        uws(served_twin).set_status("online")
        assert (await next_item(statuses)).system is SystemState.ONLINE


async def test_leaving_a_subscription_unsubscribes_on_the_twin(served_twin: RunningTwin) -> None:
    server = uws(served_twin)
    async with session(served_twin) as kf:
        async with kf.stream.ohlc(SYMBOL, 15, tick_type="mark") as candles:
            assert isinstance(await next_item(candles), StreamCandle | StreamReconnected)
            assert SYMBOL in server.feed.candles
        await wait_until(lambda: SYMBOL not in server.feed.candles)
