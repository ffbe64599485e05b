"""kf.stream.book against the fake server: verified views, resync on a bad checksum, conflation."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from kraken_futures_async import Session
from kraken_futures_async.streams import BookOutOfSyncError, BookView

from .test_stream_client_support import (
    FAST,
    REFERENCE_ASKS,
    REFERENCE_BIDS,
    REFERENCE_UPDATE_ASKS,
    REFERENCE_UPDATE_BIDS,
    FakeBook,
    FakeSocket,
    FakeUws,
)


def _same(view: BookView, book: FakeBook) -> bool:
    bids = [(Decimal(p), Decimal(q)) for p, q in book.top_bids(book.depth)]
    asks = [(Decimal(p), Decimal(q)) for p, q in book.top_asks(book.depth)]
    return (
        [tuple(level) for level in view.bids] == bids
        and [tuple(level) for level in view.asks] == asks
        and view.checksum == book.checksum()
    )


def _serve_snapshots(server: FakeUws, book: FakeBook) -> None:
    async def on_subscribe(socket: FakeSocket, message: dict[str, Any]) -> None:
        if message["params"]["channel"] == "book":
            await socket.send(book.snapshot())

    server.on_subscribe = on_subscribe


async def test_snapshot_and_update_give_the_reference_checksums() -> None:
    book = FakeBook("PF_XBTUSD")
    async with FakeUws() as server, Session(base_url=server.http_url, stream_settings=FAST) as kf:

        async def on_subscribe(socket: FakeSocket, message: dict[str, Any]) -> None:
            await socket.send(book.message("snapshot", REFERENCE_BIDS, REFERENCE_ASKS))

        server.on_subscribe = on_subscribe
        async with asyncio.timeout(5), kf.stream.book("pf_xbtusd", depth=10) as books:
            first = await anext(books)
            assert first.checksum == 2622372199
            assert first.symbol == "PF_XBTUSD"
            assert first.depth == 10
            assert first.best_ask == (Decimal("96250.5"), Decimal("0.1500"))
            assert first.best_bid == (Decimal("96250.0"), Decimal("0.3000"))
            assert len(first.asks) == len(first.bids) == 10  # the 11th level is cut
            await server.push(
                book.message(
                    "update",
                    REFERENCE_UPDATE_BIDS,
                    REFERENCE_UPDATE_ASKS,
                    timestamp="2026-12-01T12:00:00.250000Z",
                )
            )
            second = await anext(books)
            assert second.checksum == 2338580217
            assert second.timestamp.microsecond == 250000
            assert _same(second, book)
        subscribe = server.methods("subscribe", "book")[0]
        assert subscribe["params"] == {
            "channel": "book",
            "symbol": ["PF_XBTUSD"],
            "depth": 10,
            "snapshot": True,
            "asset_class": "derivatives",
        }
        assert isinstance(subscribe["req_id"], int)


async def test_a_bad_checksum_resubscribes_and_the_bad_book_is_never_seen() -> None:
    book = FakeBook("PF_XBTUSD")
    book.apply(REFERENCE_BIDS, REFERENCE_ASKS)
    async with FakeUws() as server, Session(base_url=server.http_url, stream_settings=FAST) as kf:
        _serve_snapshots(server, book)
        async with asyncio.timeout(5), kf.stream.book("PF_XBTUSD") as books:
            first = await anext(books)
            assert _same(first, book)
            # a corrupted update, then an update built on it: neither may reach the caller
            await server.push(book.message("update", [("96250.0", "9.9990")], [], checksum=12345))
            await server.push(book.message("update", [("96249.5", "0.0100")], []))
            second = await anext(books)
            assert _same(second, book)  # rebuilt from the fresh snapshot
            assert second.best_bid == (Decimal("96250.0"), Decimal("9.9990"))
            assert second.checksum != 12345
            assert books.resyncs == 1
        assert len(server.methods("unsubscribe", "book")) == 2  # the resync's, and leaving
        assert len(server.methods("subscribe", "book")) == 2


async def test_a_slow_consumer_gets_the_latest_state() -> None:
    book = FakeBook("PF_XBTUSD")
    book.apply(REFERENCE_BIDS, REFERENCE_ASKS)
    async with FakeUws() as server, Session(base_url=server.http_url, stream_settings=FAST) as kf:
        _serve_snapshots(server, book)
        async with asyncio.timeout(5), kf.stream.book("PF_XBTUSD") as books:
            await anext(books)
            for step in range(5):
                qty = f"0.{step + 1}000"
                await server.push(book.message("update", [("96250.0", qty)], [("96250.5", qty)]))
            await asyncio.sleep(0.3)
            latest = await anext(books)
            assert _same(latest, book)
            assert latest.best_bid == (Decimal("96250.0"), Decimal("0.5000"))
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(anext(books), 0.2)  # nothing newer: no stale state


async def test_a_book_that_never_verifies_raises_after_the_resyncs() -> None:
    book = FakeBook("PF_XBTUSD")
    book.apply(REFERENCE_BIDS, REFERENCE_ASKS)
    async with FakeUws() as server, Session(base_url=server.http_url, stream_settings=FAST) as kf:

        async def on_subscribe(socket: FakeSocket, message: dict[str, Any]) -> None:
            await socket.send(book.snapshot(checksum=1))

        server.on_subscribe = on_subscribe
        async with asyncio.timeout(5), kf.stream.book("PF_XBTUSD") as books:
            with pytest.raises(BookOutOfSyncError):
                await anext(books)
        assert len(server.methods("subscribe", "book")) == 6  # the first and five resyncs
