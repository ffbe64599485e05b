"""``kf.market`` over the UWS backend: instruments, books and tickers from the public
channels' snapshots, beside REST's answers on the same served twin at the same moment (a
manual clock: nothing moves), and the Session's instrument checks fed by them."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterator
from decimal import Decimal

import pytest

from kraken_futures_async import (
    APIError,
    InvalidArgumentError,
    RateLimitPolicy,
    RequestTimeoutError,
    Session,
    UnsupportedOperationError,
)
from kraken_futures_async.models import Instrument, OrderRequestStatus
from kraken_futures_async.models.streams import StreamPair
from kraken_futures_async.simulator import ManualClock, RunningTwin, Twin, TwinConfig, run_in_thread
from kraken_futures_async.streams import StreamConnectionError
from kraken_futures_async.uws.backend import UwsBackend
from kraken_futures_async.uws.connection import UwsSettings
from kraken_futures_async.uws.market_reads import (
    BOOK_DEPTH,
    MarketReads,
    instrument_from,
    public_url,
)
from kraken_futures_async.uws.token import TokenProvider
from tests.served_twins import uws_twin

SYMBOL = "PF_XBTUSD"
OTHER = "PF_ETHUSD"


def _serve(*, extras: bool = False) -> RunningTwin:
    return run_in_thread(uws_twin(tick_interval=0.05, ticker_extras=extras), port=0)


@pytest.fixture
def served() -> Iterator[RunningTwin]:
    with _serve() as running:
        yield running


def _uws(running: RunningTwin, **kwargs: object) -> Session:
    return Session(
        running.twin.credentials(),
        base_url=running.url,
        backend="uws",
        rate_limits=RateLimitPolicy.unlimited(),
        **kwargs,  # type: ignore[arg-type]
    )


def _rest(running: RunningTwin) -> Session:
    return Session(
        running.twin.credentials(),
        base_url=running.url,
        rate_limits=RateLimitPolicy.unlimited(),
    )


#: The Instrument fields UWS carries (kraken_futures_async.uws.market_reads).
CARRIED = ("symbol", "tradeable", "type", "tick_size", "contract_value_trade_precision")


async def test_instruments_over_uws_equal_rest_on_the_fields_uws_carries(
    served: RunningTwin,
) -> None:
    async with asyncio.timeout(30), _uws(served) as over_uws, _rest(served) as over_rest:
        from_uws = {i.symbol: i for i in await over_uws.market.instruments()}
        from_rest = {i.symbol: i for i in await over_rest.market.instruments()}
    assert set(from_uws) == set(from_rest)
    for symbol, instrument in from_uws.items():
        rest = from_rest[symbol]
        for field in CARRIED:
            assert getattr(instrument, field) == getattr(rest, field), (symbol, field)
        assert instrument.size_step == rest.size_step
        assert (instrument.base, instrument.quote) == (rest.base, rest.quote)
        assert instrument.post_only == rest.post_only
        # what UWS does not send stays empty, never invented
        assert instrument.contract_size is None
        assert instrument.margin_levels == ()
        assert instrument.funding_rate_coefficient is None
    # a size step above one (REST's negative precision) survives UWS's qty_precision >= 0
    assert any(i.size_step is not None and i.size_step > 1 for i in from_uws.values())


def test_instrument_mapping_of_fields_the_twin_does_not_send() -> None:
    pair = StreamPair(
        symbol="PI_XBTUSD",
        status="post_only",
        qty_precision=0,
        qty_increment=Decimal("1"),
        price_precision=1,
        position_limit_long=Decimal("75000000"),
    )
    mapped = instrument_from(pair)
    assert mapped == Instrument(
        symbol="PI_XBTUSD",
        tradeable=True,
        type="futures_inverse",
        tick_size=Decimal("0.1"),  # no price_increment: 10 ** -price_precision (§4.1)
        contract_value_trade_precision=0,
        max_position_size=Decimal("75000000"),
        post_only=True,
    )
    halted = instrument_from(StreamPair(symbol="XX_NEW", status="maintenance"))
    assert (halted.tradeable, halted.type, halted.tick_size, halted.size_step) == (
        False,
        None,
        None,
        None,
    )


async def test_orderbook_over_uws_equals_rest_at_the_same_moment(served: RunningTwin) -> None:
    async with asyncio.timeout(30), _uws(served) as over_uws, _rest(served) as over_rest:
        book = await over_uws.market.orderbook(SYMBOL)
        rest = await over_rest.market.orderbook(SYMBOL)
        # read again: the first read's unsubscribe is awaited before the second subscribes
        again = await over_uws.market.orderbook(SYMBOL.lower())
    assert book.bids
    assert book.asks
    assert book.bids == rest.bids[:BOOK_DEPTH]
    assert book.asks == rest.asks[:BOOK_DEPTH]
    assert book.best_bid == rest.best_bid
    assert book.best_ask == rest.best_ask
    assert again == book


async def test_concurrent_reads_of_one_and_several_books(served: RunningTwin) -> None:
    async with asyncio.timeout(30), _uws(served) as over_uws, _rest(served) as over_rest:
        first, second, other = await asyncio.gather(
            over_uws.market.orderbook(SYMBOL),
            over_uws.market.orderbook(SYMBOL),
            over_uws.market.orderbook(OTHER),
        )
        books = await over_uws.market.orderbooks([SYMBOL, OTHER])
        rest_other = await over_rest.market.orderbook(OTHER)
    assert first == second == books[SYMBOL]
    assert other == books[OTHER]
    assert other.bids == rest_other.bids[:BOOK_DEPTH]


#: The Ticker fields UWS carries with REST's values (change_24h is sent rounded).
TICKER_FIELDS = (
    "symbol",
    "bid",
    "bid_size",
    "ask",
    "ask_size",
    "last",
    "vol_24h",
    "high_24h",
    "low_24h",
    "open_24h",
)


async def test_ticker_and_tickers_over_uws(served: RunningTwin) -> None:
    async with asyncio.timeout(60), _uws(served) as over_uws, _rest(served) as over_rest:
        ticker = await over_uws.market.ticker(SYMBOL)
        rest = await over_rest.market.ticker(SYMBOL)
        tickers = await over_uws.market.tickers()
        instruments = await over_uws.market.instruments()
        rest_tickers = {t.symbol: t for t in await over_rest.market.tickers()}
    for field in TICKER_FIELDS:
        assert getattr(ticker, field) == getattr(rest, field), field
    assert ticker.change_24h is not None
    assert rest.change_24h is not None
    assert abs(ticker.change_24h - rest.change_24h) < Decimal("0.01")
    # not on UWS's ticker (§4.3): None, not a guess
    assert (ticker.mark_price, ticker.funding_rate, ticker.open_interest) == (None, None, None)
    assert ticker.last_time is None
    # every listed contract, in several requests of at most 100 symbols, no index tickers
    assert [t.symbol for t in tickers] == [i.symbol for i in instruments]
    assert len(tickers) > 100
    by_symbol = {t.symbol: t for t in tickers}
    assert by_symbol[SYMBOL] == ticker
    for symbol in (OTHER, tickers[-1].symbol):
        for field in TICKER_FIELDS:
            assert getattr(by_symbol[symbol], field) == getattr(rest_tickers[symbol], field)


async def test_ticker_extras_are_read_when_the_channel_sends_them() -> None:
    running = _serve(extras=True)
    try:
        async with asyncio.timeout(30), _uws(running) as over_uws, _rest(running) as over_rest:
            ticker = await over_uws.market.ticker(SYMBOL)
            rest = await over_rest.market.ticker(SYMBOL)
    finally:
        running.stop()
    assert ticker.mark_price is not None
    assert ticker.mark_price == rest.mark_price
    assert ticker.funding_rate == rest.funding_rate
    assert ticker.open_interest == rest.open_interest


async def test_an_unknown_symbol_is_refused_with_krakens_words(served: RunningTwin) -> None:
    async with asyncio.timeout(30), _uws(served) as over_uws:
        with pytest.raises(APIError, match="Currency pair not supported") as caught:
            await over_uws.market.ticker("PF_NOSUCHUSD")
        assert caught.value.code is not None
        with pytest.raises(APIError, match="Currency pair not supported"):
            await over_uws.market.orderbook("PF_NOSUCHUSD")
        # the socket is still good for the next read
        assert (await over_uws.market.ticker(SYMBOL)).symbol == SYMBOL


async def test_instrument_checks_refuse_an_off_tick_order_over_uws(
    served: RunningTwin, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="kraken_futures_async")
    twin = served.twin
    book = twin.exchange.handle("orderbook", {"symbol": [SYMBOL]}, None)["orderBook"]
    far_bid = (Decimal(str(book["bids"][0][0])) * Decimal("0.9")).quantize(Decimal(1))
    async with asyncio.timeout(30), _uws(served) as over_uws, _rest(served) as over_rest:
        with pytest.raises(InvalidArgumentError, match="off its tick size 1"):
            await over_uws.orders.send(
                symbol=SYMBOL,
                side="buy",
                size=Decimal("0.001"),
                limit_price=far_bid + Decimal("0.5"),
            )
        with pytest.raises(InvalidArgumentError, match="size step"):
            await over_uws.orders.send(
                symbol=SYMBOL, side="buy", size=Decimal("0.00001"), limit_price=far_bid
            )
        with pytest.raises(InvalidArgumentError, match="unknown symbol"):
            await over_uws.orders.send(
                symbol="PF_XBTUSDX", side="buy", size=Decimal("0.001"), limit_price=far_bid
            )
        # nothing was sent: the account has no order, and the private socket never opened
        assert await over_rest.orders.open() == []
        backend = over_uws.backend
        assert isinstance(backend, UwsBackend)
        assert not backend.connection.connected
        placed = await over_uws.orders.send(
            symbol=SYMBOL, side="buy", size=Decimal("0.001"), limit_price=far_bid
        )
        assert placed.status is OrderRequestStatus.PLACED
        await over_uws.orders.cancel(order_id=placed.order_id)
    assert "instrument list unavailable" not in caplog.text


async def test_unsupported_operations_still_raise_before_sending(served: RunningTwin) -> None:
    async with asyncio.timeout(30), _uws(served) as over_uws:
        with pytest.raises(UnsupportedOperationError, match=r"kf\.stream\.trades"):
            await over_uws.market.trades(SYMBOL)
        with pytest.raises(UnsupportedOperationError, match="order_status"):
            await over_uws.orders.status(order_ids=["f" * 8])
        backend = over_uws.backend
        assert isinstance(backend, UwsBackend)
        assert not backend.connection.connected


def test_the_public_socket_follows_the_sessions_stream_url() -> None:
    credentials = Twin(TwinConfig(clock=ManualClock())).credentials()
    local = Session(credentials, base_url="http://127.0.0.1:8080", backend="uws").backend
    assert isinstance(local, UwsBackend)
    assert local.public_url == "ws://127.0.0.1:8080/v2/public"
    chosen = Session(
        credentials,
        base_url="http://127.0.0.1:8080",
        backend="uws",
        stream_url="ws://127.0.0.1:9090/v2/public",
    ).backend
    assert isinstance(chosen, UwsBackend)
    assert chosen.public_url == "ws://127.0.0.1:9090/v2/public"
    production = Session(credentials, backend="uws").backend
    assert isinstance(production, UwsBackend)
    assert production.public_url == "wss://uws.kraken.com/v2/public"
    assert public_url("https://example.test/anything") == "wss://example.test/v2/public"


async def test_a_silent_public_socket_ends_at_the_calls_deadline(served: RunningTwin) -> None:
    # a listening socket that never completes the websocket handshake
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        backend = UwsBackend(
            token_provider=TokenProvider(served.twin.credentials(), url=served.url),
            url=served.url,
            public_url=f"ws://127.0.0.1:{port}/v2/public",
            settings=UwsSettings(connect_timeout=20.0, ack_timeout=20.0),
            deadline=0.5,
        )
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(10), Session(backend=backend, check_orders=False) as kf:
            started = loop.time()
            with pytest.raises(RequestTimeoutError, match="deadline"):
                await kf.market.orderbook(SYMBOL)
            assert loop.time() - started < 3.0


async def test_reads_leave_no_subscription_behind(served: RunningTwin) -> None:
    server = served.twin.app.uws

    def live() -> int:
        return sum(len(c.subscriptions) for c in tuple(server.connections))

    async with asyncio.timeout(30), _uws(served) as over_uws:
        await over_uws.market.instruments()
        await over_uws.market.orderbook(SYMBOL)
        await over_uws.market.ticker(OTHER)
        assert server.connections  # the public socket stays open between reads
        for _ in range(500):
            if not live():
                break
            await asyncio.sleep(0.02)
        assert live() == 0
        # and the next read of the same book subscribes again without a refusal
        assert (await over_uws.market.orderbook(SYMBOL)).bids


async def test_a_refused_symbol_among_several_is_left_out(served: RunningTwin) -> None:
    reads = MarketReads(public_url(served.url), UwsSettings(ack_timeout=5.0))
    try:
        async with asyncio.timeout(30):
            # refused in the middle of a request, then refused first (the request is re-made)
            middle = await reads.tickers([SYMBOL, "PF_NOSUCHUSD", OTHER], None, "tickers")
            first = await reads.tickers(["PF_NOSUCHUSD", OTHER], None, "tickers")
            with pytest.raises(APIError, match="PF_NOSUCHUSD"):
                await reads.tickers(["PF_NOSUCHUSD"], None, "ticker")
    finally:
        await reads.aclose()
    assert [t.symbol for t in middle] == [SYMBOL, OTHER]
    assert [t.symbol for t in first] == [OTHER]


async def test_the_sessions_deadline_and_stream_settings_bound_a_read(
    served: RunningTwin,
) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        loop = asyncio.get_running_loop()
        session = _uws(
            served,
            stream_url=f"ws://127.0.0.1:{port}/v2/public",
            stream_settings=UwsSettings(connect_timeout=0.4, ack_timeout=0.4),
            deadline=20.0,
        )
        async with asyncio.timeout(10), session as kf:
            started = loop.time()
            with kf.deadline(0.3), pytest.raises(RequestTimeoutError, match="deadline"):
                await kf.market.ticker(SYMBOL)
            assert loop.time() - started < 2.0
            # without a short deadline, the stream settings' timeouts end the wait
            started = loop.time()
            with pytest.raises(StreamConnectionError):
                await kf.market.instruments()
            assert loop.time() - started < 3.0
