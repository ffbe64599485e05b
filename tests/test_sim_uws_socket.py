"""The twin's UWS public socket on a real loopback port, read by a client written here.

The client below follows the reference (kraken-uws-api.md §1, §2, §4), not the twin's code:
numbers are decoded as their wire text, books are checked with the library's LocalBook. The
twin runs on a manual clock, so its book moves only when a test places or cancels an order.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import re
from collections.abc import AsyncIterator, Callable, Iterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from kraken_futures_async import RateLimitPolicy, Session
from kraken_futures_async.retry import RetryPolicy
from kraken_futures_async.simulator import ManualClock, RunningTwin, Twin, TwinConfig, run_in_thread
from kraken_futures_async.simulator.uws import UwsConfig
from kraken_futures_async.streams import BookMessage, ChecksumMismatchError, LocalBook

SYMBOL = "PF_XBTUSD"
RECEIVE = 3.0  # seconds any one frame may take
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
Frame = dict[str, Any]


def make_twin(**uws: Any) -> Twin:
    twin = Twin(TwinConfig(clock=ManualClock(), rate_limits=False))
    settings: dict[str, Any] = {"heartbeat_interval": 0.2, "tick_interval": 0.2, **uws}
    twin.app.uws.config = UwsConfig(**settings)
    return twin


@pytest.fixture
def served() -> Iterator[RunningTwin]:
    running = run_in_thread(make_twin(), port=0)
    try:
        yield running
    finally:
        running.stop()


def session(running: RunningTwin) -> Session:
    return running.session(
        rate_limits=RateLimitPolicy.unlimited(), retry=RetryPolicy.never(), timeout=5.0
    )


class Client:
    """A minimal UWS client: JSON text frames, numbers kept as wire text."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.heartbeats = 0

    async def send(self, message: Frame) -> None:
        await self.ws.send_str(json.dumps(message))

    async def raw(self, wait: float = RECEIVE) -> aiohttp.WSMessage:
        return await self.ws.receive(timeout=wait)

    async def frame(self, wait: float = RECEIVE, *, heartbeats: bool = False) -> Frame:
        """The next frame within ``wait`` seconds (heartbeats skipped and counted unless asked)."""
        async with asyncio.timeout(wait):
            return await self._frame(heartbeats)

    async def _frame(self, heartbeats: bool) -> Frame:
        while True:
            message = await self.ws.receive()
            assert message.type is aiohttp.WSMsgType.TEXT, message
            frame: Frame = json.loads(message.data, parse_float=str, parse_int=str)
            if frame.get("channel") == "heartbeat" and not heartbeats:
                self.heartbeats += 1
                continue
            return frame

    async def request(self, method: str, req_id: int = 1, **params: Any) -> None:
        await self.send({"method": method, "params": params, "req_id": req_id})

    async def subscribe(self, channel: str, req_id: int = 1, **params: Any) -> Frame:
        await self.request(
            "subscribe", req_id, channel=channel, asset_class="derivatives", **params
        )
        return await self.frame()

    async def quiet(self, seconds: float) -> list[Frame]:
        """Everything but heartbeats that arrives within ``seconds``."""
        seen: list[Frame] = []
        deadline = asyncio.get_running_loop().time() + seconds
        while (left := deadline - asyncio.get_running_loop().time()) > 0:
            try:
                seen.append(await self.frame(left))
            except TimeoutError:
                break
        return seen


@contextlib.asynccontextmanager
async def connect(running: RunningTwin, path: str = "/v2/public") -> AsyncIterator[Client]:
    url = running.url.replace("http://", "ws://") + path
    timeout = aiohttp.ClientWSTimeout(ws_close=2.0)
    async with aiohttp.ClientSession() as http, http.ws_connect(url, timeout=timeout) as ws:
        yield Client(ws)


async def eventually(check: Callable[[], bool], seconds: float = 2.0) -> None:
    """Wait (bounded) for something the served twin does on its own thread."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "not within the time allowed"
        await asyncio.sleep(0.01)


def book_message(frame: Frame) -> BookMessage:
    assert frame["channel"] == "book"
    (book,) = frame["data"]
    return BookMessage(
        symbol=book["symbol"],
        snapshot=frame["type"] == "snapshot",
        bids=[(level["price"], level["qty"]) for level in book["bids"]],
        asks=[(level["price"], level["qty"]) for level in book["asks"]],
        checksum=int(book["checksum"]),
        timestamp=dt.datetime.fromisoformat(book["timestamp"].replace("Z", "+00:00")),
    )


def ack_fields(frame: Frame) -> None:
    assert TIME.match(frame["time_in"])
    assert TIME.match(frame["time_out"])
    assert frame["time_in"] <= frame["time_out"]


# --- connection, ping, heartbeat ---------------------------------------------------------


async def test_status_on_connect_then_ping_pong(served: RunningTwin) -> None:
    async with connect(served) as client:
        status = await client.frame()
        assert status["channel"] == "status"
        assert status["type"] == "update"
        (data,) = status["data"]
        assert data["system"] == "online"
        assert data["api_version"] == "v2"
        assert isinstance(data["connection_id"], str)  # an integer, read as its text here
        await client.send({"method": "ping", "req_id": 7})
        pong = await client.frame()
        assert pong["method"] == "pong"
        assert pong["req_id"] == "7"
        ack_fields(pong)
        await client.send({"method": "ping"})
        assert "req_id" not in await client.frame()


async def test_heartbeats_start_with_the_first_subscription(served: RunningTwin) -> None:
    async with connect(served) as client:
        await client.frame()
        with pytest.raises(TimeoutError):  # 0.2 s heartbeats, none before a subscription
            await client.frame(0.6, heartbeats=True)
        ack = await client.subscribe("ticker", symbol=[SYMBOL], snapshot=False)
        assert ack["success"] is True
        frame = await client.frame(1.0, heartbeats=True)
        assert frame == {"channel": "heartbeat"}
        assert await client.frame(1.0, heartbeats=True) == {"channel": "heartbeat"}


async def test_other_paths_are_refused_with_404(served: RunningTwin) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        async with connect(served, "/v2/nothing") as _:
            pass
    assert refused.value.status == 404


# --- acks and refusals --------------------------------------------------------------------


async def test_one_ack_per_symbol_and_kraken_errors(served: RunningTwin) -> None:
    async with connect(served) as client:
        await client.frame()
        await client.request(
            "subscribe",
            42,
            channel="ticker",
            asset_class="derivatives",
            symbol=["PF_XBTUSD", "XBT/EUR", "PF_ETHUSD"],
            snapshot=False,
        )
        acks = [await client.frame() for _ in range(3)]
        assert [a["success"] for a in acks] == [True, False, True]
        assert [a["req_id"] for a in acks] == ["42"] * 3
        assert acks[0]["result"] == {
            "channel": "ticker",
            "symbol": "PF_XBTUSD",
            "snapshot": False,
            "warnings": [],
        }
        assert acks[1]["error"] == "Currency pair not supported XBT/EUR"
        assert acks[1]["symbol"] == "XBT/EUR"
        assert acks[1]["method"] == "subscribe"
        assert "result" not in acks[1]
        for ack in acks:
            ack_fields(ack)
        again = await client.subscribe("ticker", 43, symbol=["PF_XBTUSD"], snapshot=False)
        assert (again["success"], again["error"]) == (False, "Already subscribed")


@pytest.mark.parametrize(
    ("request_", "error"),
    [
        ({"channel": "nope", "asset_class": "derivatives"}, "Subscription name invalid"),
        ({"channel": "book", "symbol": [SYMBOL]}, "EGeneral:Invalid arguments:asset_class"),
        (
            {"channel": "book", "asset_class": "spot", "symbol": [SYMBOL]},
            "EGeneral:Invalid arguments:asset_class",
        ),
        (
            {"channel": "book", "asset_class": "derivatives", "symbol": [SYMBOL], "depth": 7},
            "EGeneral:Invalid arguments:depth",
        ),
        (
            {"channel": "book", "asset_class": "derivatives", "symbol": SYMBOL},
            "EGeneral:Invalid arguments:symbol",
        ),
        (
            {"channel": "trade", "asset_class": "derivatives", "symbol": [SYMBOL], "x": 1},
            "Unsupported field: 'x'",
        ),
        (
            {"channel": "trade", "asset_class": "derivatives", "symbol": [SYMBOL], "snapshot": 1},
            "EGeneral:Invalid arguments:snapshot",
        ),
    ],
)
async def test_bad_requests_get_one_error_ack(
    served: RunningTwin, request_: Frame, error: str
) -> None:
    async with connect(served) as client:
        await client.frame()
        await client.send({"method": "subscribe", "params": request_, "req_id": 5})
        ack = await client.frame()
        assert ack["success"] is False
        assert ack["error"] == error
        assert ack["req_id"] == "5"
        assert "symbol" not in ack
        assert "channel" not in ack
        assert await client.quiet(0.3) == []


async def test_unreadable_frames_and_unknown_methods(served: RunningTwin) -> None:
    async with connect(served) as client:
        await client.frame()
        await client.ws.send_str("{not json")
        assert (await client.frame())["error"] == "EGeneral:Invalid arguments"
        await client.send({"method": "fly", "req_id": 3})
        unknown = await client.frame()
        assert (unknown["method"], unknown["req_id"], unknown["success"]) == ("fly", "3", False)
        await client.send({"method": "ping", "req_id": "7"})
        assert (await client.frame())["error"] == "EGeneral:Invalid arguments:req_id"
        await client.request(
            "unsubscribe", 9, channel="book", asset_class="derivatives", symbol=[SYMBOL]
        )
        missing = await client.frame()
        assert (missing["error"], missing["symbol"]) == ("Subscription Not Found", SYMBOL)


# --- book ---------------------------------------------------------------------------------


async def book_after(client: Client, book: LocalBook) -> BookMessage:
    message = book_message(await client.frame())
    book.apply(message)
    return message


def held_to(book: LocalBook, rest: Any, depth: int) -> None:
    view = book.view()
    assert [tuple(b) for b in view.bids] == [(x.price, x.size) for x in rest.bids[:depth]]
    assert [tuple(a) for a in view.asks] == [(x.price, x.size) for x in rest.asks[:depth]]


async def test_book_snapshot_and_updates_follow_orders_placed_over_rest(
    served: RunningTwin,
) -> None:
    async with session(served) as kf, connect(served) as client:
        await client.frame()
        ack = await client.subscribe("book", symbol=[SYMBOL], depth=10)
        assert ack["result"] == {
            "channel": "book",
            "symbol": SYMBOL,
            "depth": "10",
            "snapshot": True,
            "warnings": [],
        }
        book = LocalBook(SYMBOL, 10)
        snapshot = await book_after(client, book)
        assert snapshot.snapshot
        assert len(snapshot.bids) == len(snapshot.asks) == 10
        held_to(book, await kf.market.orderbook(SYMBOL), 10)

        best_bid, best_ask = book.view().bids[0].price, book.view().asks[0].price
        price = best_bid + 1 if best_bid + 1 < best_ask else best_bid
        placed = await kf.orders.send(
            symbol=SYMBOL, side="buy", size=Decimal("0.5"), limit_price=price
        )
        update = await book_after(client, book)
        assert not update.snapshot
        assert (str(price), "0.5000") in update.bids or book.view().bids[0].price == price
        held_to(book, await kf.market.orderbook(SYMBOL), 10)

        await kf.orders.cancel(order_id=placed.order_id)
        update = await book_after(client, book)
        held_to(book, await kf.market.orderbook(SYMBOL), 10)
        if price != best_bid:  # the level we made is gone again: a delete
            assert update.bids[0] == (str(price), "0")

        # a market buy takes from the asks: the best ask changes or goes
        await kf.orders.send(symbol=SYMBOL, side="buy", size=Decimal("0.05"), order_type="mkt")
        update = await book_after(client, book)
        assert update.asks
        held_to(book, await kf.market.orderbook(SYMBOL), 10)


async def test_deeper_books_and_unsubscribe(served: RunningTwin) -> None:
    async with session(served) as kf, connect(served) as client:
        await client.frame()
        await client.subscribe("book", symbol=[SYMBOL], depth=25)
        book = LocalBook(SYMBOL, 25)
        snapshot = await book_after(client, book)
        assert 10 < len(snapshot.bids) <= 25
        held_to(book, await kf.market.orderbook(SYMBOL), 25)
        await client.request(
            "unsubscribe", 2, channel="book", asset_class="derivatives", symbol=[SYMBOL]
        )
        ack = await client.frame()
        assert ack["method"] == "unsubscribe"
        assert ack["result"]["symbol"] == SYMBOL
        await kf.orders.send(
            symbol=SYMBOL,
            side="buy",
            size=Decimal("0.5"),
            limit_price=book.view().bids[1].price,
        )
        assert await client.quiet(0.6) == []
        assert client.heartbeats >= 1


async def test_a_dropped_update_fails_the_clients_checksum(served: RunningTwin) -> None:
    async with session(served) as kf, connect(served) as client:
        await client.frame()
        await client.subscribe("book", symbol=[SYMBOL])
        book = LocalBook(SYMBOL, 10)
        await book_after(client, book)
        bids = book.view().bids
        uws = served.twin.app.uws
        uws.drop_next_book_update(SYMBOL)
        await kf.orders.send(
            symbol=SYMBOL, side="buy", size=Decimal("0.5"), limit_price=bids[2].price
        )
        await eventually(lambda: uws.feed.updates_dropped == 1)  # not merged with the next
        await kf.orders.send(
            symbol=SYMBOL, side="buy", size=Decimal("0.5"), limit_price=bids[4].price
        )
        with pytest.raises(ChecksumMismatchError):
            await book_after(client, book)
        # a fresh snapshot heals it
        await client.request(
            "unsubscribe", 2, channel="book", asset_class="derivatives", symbol=[SYMBOL]
        )
        assert (await client.frame())["success"] is True
        await client.subscribe("book", 3, symbol=[SYMBOL])
        await book_after(client, book)
        held_to(book, await kf.market.orderbook(SYMBOL), 10)


async def test_a_corrupted_checksum_is_caught(served: RunningTwin) -> None:
    async with session(served) as kf, connect(served) as client:
        await client.frame()
        await client.subscribe("book", symbol=[SYMBOL])
        book = LocalBook(SYMBOL, 10)
        await book_after(client, book)
        served.twin.app.uws.corrupt_next_checksum(SYMBOL)
        await kf.orders.send(
            symbol=SYMBOL,
            side="buy",
            size=Decimal("0.5"),
            limit_price=book.view().bids[3].price,
        )
        with pytest.raises(ChecksumMismatchError):
            await book_after(client, book)


# --- ticker, trade, instrument ------------------------------------------------------------

TICKER_FIELDS = {
    "symbol",
    "bid",
    "bid_qty",
    "ask",
    "ask_qty",
    "last",
    "volume",
    "vwap",
    "low",
    "high",
    "change",
    "change_pct",
    "timestamp",
}


async def test_ticker_and_trades_after_a_trade(served: RunningTwin) -> None:
    async with session(served) as kf, connect(served) as client:
        await client.frame()
        await client.subscribe("ticker", symbol=[SYMBOL])
        ticker = await client.frame()
        assert (ticker["channel"], ticker["type"]) == ("ticker", "snapshot")
        (data,) = ticker["data"]
        assert set(data) == TICKER_FIELDS
        assert Decimal(data["bid"]) < Decimal(data["ask"])
        ack = await client.subscribe("trade", 2, symbol=[SYMBOL])
        assert ack["result"]["snapshot"] is False  # trades: no snapshot by default
        await kf.orders.send(symbol=SYMBOL, side="sell", size=Decimal("0.0100"), order_type="mkt")
        frames = [await client.frame(), await client.frame()]
        by_channel = {f["channel"]: f for f in frames}
        trade = by_channel["trade"]
        assert trade["type"] == "update"
        (item,) = trade["data"]
        assert set(item) == {
            "symbol",
            "side",
            "price",
            "qty",
            "ord_type",
            "trade_id",
            "timestamp",
        }
        assert (item["symbol"], item["side"], item["qty"]) == (SYMBOL, "sell", "0.0100")
        assert TIME.match(item["timestamp"])
        update = by_channel["ticker"]
        assert update["type"] == "update"
        assert update["data"][0]["last"] == item["price"]


async def test_trade_snapshot_on_request_and_ticker_extras() -> None:
    running = run_in_thread(make_twin(ticker_extras=True, trade_snapshot=5), port=0)
    try:
        async with connect(running) as client:
            await client.frame()
            await client.subscribe("trade", symbol=[SYMBOL], snapshot=True)
            snapshot = await client.frame()
            assert (snapshot["channel"], snapshot["type"]) == ("trade", "snapshot")
            assert 0 < len(snapshot["data"]) <= 5
            ids = [int(t["trade_id"]) for t in snapshot["data"]]
            assert ids == sorted(ids)  # oldest first
            await client.subscribe("ticker", 2, symbol=["PF_ETHUSD"])
            (data,) = (await client.frame())["data"]
            assert {"mark_price", "index_price", "funding_rate", "open_interest"} <= set(data)
    finally:
        running.stop()


async def test_instrument_snapshot(served: RunningTwin) -> None:
    async with connect(served) as client:
        await client.frame()
        ack = await client.subscribe("instrument")
        assert ack["result"] == {"channel": "instrument", "snapshot": True, "warnings": []}
        snapshot = await client.frame()
        assert (snapshot["channel"], snapshot["type"]) == ("instrument", "snapshot")
        pairs = {p["symbol"]: p for p in snapshot["data"]["pairs"]}
        xbt = pairs[SYMBOL]
        assert (xbt["price_increment"], xbt["qty_increment"], xbt["qty_precision"]) == (
            "1",
            "0.0001",
            "4",
        )
        assert pairs["PI_XBTUSD"]["price_increment"] == "0.5"  # not a power of ten
        assert snapshot["data"]["assets"][0]["id"] == "USD"


# --- bounds and faults --------------------------------------------------------------------


async def test_bounds_message_size_and_subscriptions() -> None:
    running = run_in_thread(make_twin(max_message_bytes=256, max_subscriptions=2), port=0)
    try:
        async with connect(running) as client:
            await client.frame()
            await client.request(
                "subscribe",
                1,
                channel="ticker",
                asset_class="derivatives",
                symbol=["PF_XBTUSD", "PF_ETHUSD", "PF_SOLUSD"],
                snapshot=False,
            )
            acks = [await client.frame() for _ in range(3)]
            assert [a["success"] for a in acks] == [True, True, False]
            assert acks[2]["error"] == "EGeneral:Too many subscriptions"
            await client.ws.send_str(json.dumps({"method": "ping", "pad": "x" * 300}))
            closed = await client.raw()
            assert closed.type is aiohttp.WSMsgType.CLOSE
            assert closed.data == 1009
    finally:
        running.stop()


async def test_a_client_that_falls_behind_is_closed_with_1013() -> None:
    running = run_in_thread(make_twin(queue_size=3), port=0)
    try:
        async with connect(running) as client:
            await client.frame()
            await client.request(
                "subscribe",
                1,
                channel="book",
                asset_class="derivatives",
                symbol=["PF_XBTUSD", "PF_ETHUSD", "PF_SOLUSD", "PF_XRPUSD"],
            )
            while (message := await client.raw()).type is aiohttp.WSMsgType.TEXT:
                pass
            assert message.type is aiohttp.WSMsgType.CLOSE
            assert message.data == 1013
        await eventually(lambda: not running.twin.app.uws.connections)
    finally:
        running.stop()


async def test_status_pushes_and_disconnects(served: RunningTwin) -> None:
    async with connect(served) as client:
        await client.frame()
        served.twin.app.uws.set_status("maintenance")
        status = await client.frame()
        assert status["data"][0]["system"] == "maintenance"
        served.twin.app.uws.disconnect_all(1001)
        closed = await client.raw()
        assert (closed.type, closed.data) == (aiohttp.WSMsgType.CLOSE, 1001)
    with pytest.raises(ValueError, match="system"):
        served.twin.app.uws.set_status("sleepy")


async def test_a_socket_outlives_the_request_read_deadline() -> None:
    twin = Twin(TwinConfig(clock=ManualClock(), rate_limits=False, request_read_timeout=0.3))
    running = run_in_thread(twin, port=0)
    try:
        async with connect(running) as client:
            await client.frame()
            await asyncio.sleep(0.8)  # the HTTP request deadline would have closed it by now
            await client.send({"method": "ping", "req_id": 1})
            assert (await client.frame())["method"] == "pong"
    finally:
        running.stop()
