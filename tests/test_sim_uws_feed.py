"""The twin's UWS feed without a socket: number text, diffs and checksums (reference §4.2)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from kraken_futures_async.simulator import ManualClock
from kraken_futures_async.simulator.uws import UwsConfig
from kraken_futures_async.simulator.uws.feed import Feed, checksum_of
from kraken_futures_async.simulator.uws.wire import Contract, number_text
from kraken_futures_async.streams import BookMessage, ChecksumMismatchError, LocalBook

from .test_stream_checksum import SNAPSHOT_ASKS as ASKS
from .test_stream_checksum import SNAPSHOT_BIDS as BIDS

D = Decimal


class FakeEngine:
    """Answers the three reads the feed makes, from books a test sets."""

    def __init__(self, tick: str = "0.5", precision: int = 4) -> None:
        self.tick = tick
        self.precision = precision
        self.bids: list[tuple[str, str]] = []
        self.asks: list[tuple[str, str]] = []

    def handle(self, operation: str, params: dict[str, list[str]], account: str | None) -> Any:
        if operation == "instruments":
            row = {
                "symbol": "PF_XBTUSD",
                "tickSize": D(self.tick),
                "contractValueTradePrecision": self.precision,
                "base": "XBT",
                "tradeable": True,
            }
            return {"instruments": [row]}
        if operation == "orderbook":  # a fresh dict each time, like a changed engine book
            bids = [[D(p), D(q)] for p, q in self.bids]
            asks = [[D(p), D(q)] for p, q in self.asks]
            return {"orderBook": {"bids": bids, "asks": asks}}
        raise AssertionError(operation)


class Sink:
    def __init__(self) -> None:
        self.frames: list[str] = []

    def push(self, text: str) -> None:
        self.frames.append(text)


def decode(frame: str) -> BookMessage:
    """An independent reading of a book push: numbers kept as their wire text."""
    message = json.loads(frame, parse_float=str, parse_int=str)
    (book,) = message["data"]
    stamp = dt.datetime.fromisoformat(book["timestamp"].replace("Z", "+00:00"))
    return BookMessage(
        symbol=book["symbol"],
        snapshot=message["type"] == "snapshot",
        bids=[(level["price"], level["qty"]) for level in book["bids"]],
        asks=[(level["price"], level["qty"]) for level in book["asks"]],
        checksum=int(book["checksum"]),
        timestamp=stamp,
    )


def feed_with(engine: FakeEngine) -> tuple[Feed, Sink]:
    feed = Feed(engine, ManualClock(), UwsConfig())
    return feed, Sink()


def test_the_worked_snapshot_vector() -> None:
    engine = FakeEngine()
    engine.bids, engine.asks = BIDS, ASKS
    feed, sink = feed_with(engine)
    feed.subscribe_book(sink, "PF_XBTUSD", 10, True)
    (frame,) = sink.frames
    message = decode(frame)
    assert message.checksum == 2622372199
    assert message.asks[0] == ("96250.5", "0.1500")  # trailing zeros on the wire
    assert len(message.bids) == len(message.asks) == 10  # truncated to the depth
    book = LocalBook("PF_XBTUSD", 10)
    book.apply(message)
    assert book.view().checksum == 2622372199


def test_the_worked_update_vector_and_the_entering_levels() -> None:
    engine = FakeEngine()
    engine.bids, engine.asks = BIDS, ASKS
    feed, sink = feed_with(engine)
    feed.subscribe_book(sink, "PF_XBTUSD", 10, True)
    # the reference's update: 96250.5 ask gone, 96251.0 changed; 96250.0 bid changed,
    # 96246.0 bid gone, 96241.0 new
    engine.asks = [("96251.0", "0.8000"), *ASKS[2:]]
    engine.bids = [("96250.0", "0.4500"), *BIDS[1:5], *BIDS[6:10], ("96241.0", "0.9000"), BIDS[10]]
    feed.refresh_book("PF_XBTUSD")
    snapshot, update = (decode(f) for f in sink.frames)
    assert update.checksum == 2338580217
    assert ("96250.5", "0") in update.asks
    assert ("96260.0", "9.9999") in update.asks  # entered the range: sent in the same update
    assert ("96246.0", "0") in update.bids
    assert ("96241.0", "0.9000") in update.bids
    book = LocalBook("PF_XBTUSD", 10)
    book.apply(snapshot)
    book.apply(update)
    assert book.view().checksum == 2338580217


def test_a_level_pushed_out_of_range_gets_no_delete() -> None:
    engine = FakeEngine()
    engine.bids, engine.asks = BIDS, ASKS
    feed, sink = feed_with(engine)
    feed.subscribe_book(sink, "PF_XBTUSD", 10, True)
    engine.bids = [("96250.5", "1.0000"), *BIDS]  # a better bid pushes 96242.5 to 11th
    feed.refresh_book("PF_XBTUSD")
    snapshot, update = (decode(f) for f in sink.frames)
    assert list(update.bids) == [("96250.5", "1.0000")]
    assert update.asks == []
    book = LocalBook("PF_XBTUSD", 10)
    book.apply(snapshot)
    book.apply(update)
    bids, _ = book.wire_levels()
    assert bids[-1] == ("96243.0", "0.0500")


def test_an_unchanged_book_sends_nothing() -> None:
    engine = FakeEngine()
    engine.bids, engine.asks = BIDS, ASKS
    feed, sink = feed_with(engine)
    feed.subscribe_book(sink, "PF_XBTUSD", 25, True)
    feed.refresh_book("PF_XBTUSD")
    assert len(sink.frames) == 1
    assert len(decode(sink.frames[0]).bids) == 11  # depth 25, eleven levels there


def test_the_two_level_regression_vector() -> None:
    engine = FakeEngine(tick="0.1", precision=4)
    engine.asks = [("45285.2", "0.001"), ("45286.0", "1.5")]
    engine.bids = [("45283.5", "0.25"), ("45280", "2")]
    feed, sink = feed_with(engine)
    feed.subscribe_book(sink, "PF_XBTUSD", 10, True)
    message = decode(sink.frames[0])
    assert message.asks[0] == ("45285.2", "0.0010")  # written at the contract's precision
    assert message.checksum == 2556469888


def test_dropped_and_corrupted_updates_fail_the_client() -> None:
    engine = FakeEngine()
    engine.bids, engine.asks = BIDS, ASKS
    feed, sink = feed_with(engine)
    feed.subscribe_book(sink, "PF_XBTUSD", 10, True)
    book = LocalBook("PF_XBTUSD", 10)
    book.apply(decode(sink.frames[0]))
    feed.drop_updates["PF_XBTUSD"] = 1
    engine.bids = [("96250.5", "1.0000"), *BIDS]
    feed.refresh_book("PF_XBTUSD")
    assert len(sink.frames) == 1
    assert feed.updates_dropped == 1
    engine.asks = ASKS[1:]
    feed.refresh_book("PF_XBTUSD")
    with pytest.raises(ChecksumMismatchError):
        book.apply(decode(sink.frames[1]))
    feed.corrupt_checksums["PF_XBTUSD"] = 1
    engine.asks = ASKS
    feed.refresh_book("PF_XBTUSD")
    message = decode(sink.frames[2])
    held = feed.books["PF_XBTUSD"][10]
    assert held.checksum == checksum_of(held.asks, held.bids)
    assert message.checksum != held.checksum


@pytest.mark.parametrize(
    ("tick", "precision", "price", "qty", "texts"),
    [
        ("1", 4, "82780", "0.1", ("82780", "0.1000")),
        ("0.5", 0, "96250", "12", ("96250.0", "12")),
        ("1E-10", -3, "0.0000123456", "5000", ("0.0000123456", "5000")),
        ("0.000001", -1, "0.5", "30", ("0.500000", "30")),
    ],
)
def test_numbers_are_written_at_the_contract_precision(
    tick: str, precision: int, price: str, qty: str, texts: tuple[str, str]
) -> None:
    contract = Contract("X", tick=D(tick), trade_precision=precision, base="X", tradeable=True)
    assert (number_text(contract.price(D(price))), number_text(contract.qty(D(qty)))) == texts


def test_config_bounds_are_checked() -> None:
    with pytest.raises(ValueError, match="positive"):
        UwsConfig(heartbeat_interval=0)
    with pytest.raises(ValueError, match=">= 1"):
        UwsConfig(queue_size=0)
    with pytest.raises(ValueError, match="trade_snapshot"):
        UwsConfig(trade_snapshot=-1)
