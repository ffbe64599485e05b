"""The stream socket heals itself and fails clearly: reconnects, acks with deadlines, close
codes, message size, unsubscribe on leaving, and the Session closing the socket."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import attrs
import pytest

from kraken_futures_async import ConfigurationError, Session, SessionStateError
from kraken_futures_async.models.streams import StreamReconnected, StreamTrade
from kraken_futures_async.streams import (
    StreamConnectionError,
    StreamMessageTooLargeError,
    StreamTimeoutError,
)

from .test_stream_client_book import _same
from .test_stream_client_channels import TRADES
from .test_stream_client_support import (
    FAST,
    REFERENCE_ASKS,
    REFERENCE_BIDS,
    FakeBook,
    FakeSocket,
    FakeUws,
)


def _session(server: FakeUws, **settings: Any) -> Session:
    return Session(base_url=server.http_url, stream_settings=attrs.evolve(FAST, **settings))


async def test_a_dropped_socket_reconnects_and_resubscribes_everything() -> None:
    book = FakeBook("PF_XBTUSD")
    book.apply(REFERENCE_BIDS, REFERENCE_ASKS)

    async def on_subscribe(socket: FakeSocket, message: dict[str, Any]) -> None:
        if message["params"]["channel"] == "book":
            await socket.send(book.snapshot())

    async with FakeUws() as server, _session(server) as kf:
        server.on_subscribe = on_subscribe
        async with (
            asyncio.timeout(8),
            kf.stream.book("PF_XBTUSD") as books,
            kf.stream.trades("PF_XBTUSD") as trades,
        ):
            assert _same(await anext(books), book)
            await server.push(TRADES)
            assert isinstance(await anext(trades), StreamTrade)
            assert isinstance(await anext(trades), StreamTrade)

            server.sockets[0].abort()
            await server.wait_until(lambda: len(server.methods("subscribe")) == 4)
            # the book changed while the link was down: the fresh snapshot shows it
            await server.push(book.message("update", [("96250.0", "0.7000")], []))
            marker = await anext(trades)
            assert isinstance(marker, StreamReconnected)
            assert (marker.channel, marker.symbol) == ("trade", "PF_XBTUSD")
            await server.push(TRADES)
            assert isinstance(await anext(trades), StreamTrade)
            healed = await anext(books)
            assert _same(healed, book)
        assert kf._stream_source.reconnects == 1
        assert server.closed_sockets == 1


async def test_a_stalled_link_is_declared_dead_and_replaced() -> None:
    async with FakeUws() as server, _session(server, heartbeat_timeout=0.5) as kf:
        async with asyncio.timeout(5), kf.stream.trades("PF_XBTUSD") as trades:
            server.sockets[0].stalled = True  # open, but silent: no heartbeat, no pong
            started = time.monotonic()
            marker = await anext(trades)
            assert isinstance(marker, StreamReconnected)
            assert time.monotonic() - started < 3
        assert len(server.methods("subscribe", "trade")) == 2


async def test_pings_go_out_and_heartbeats_keep_the_link() -> None:
    async with FakeUws() as server, _session(server, ping_interval=0.1) as kf:
        async with asyncio.timeout(5), kf.stream.trades("PF_XBTUSD"):
            await server.wait_until(lambda: len(server.methods("ping")) >= 3)
            await asyncio.sleep(0.5)
        ping = server.methods("ping")[0]
        assert set(ping) == {"method", "req_id"}
        assert len(server.sockets) + server.closed_sockets == 1  # never reconnected


async def test_a_missing_ack_is_an_error_within_the_deadline() -> None:
    async with FakeUws() as server, _session(server, ack_timeout=0.5) as kf:
        server.ack_subscribes = False
        started = time.monotonic()
        with pytest.raises(StreamTimeoutError, match="no ack"):
            async with asyncio.timeout(5), kf.stream.trades("PF_XBTUSD"):
                pass
        assert time.monotonic() - started < 1.5
        assert kf._stream_source._registry == {}  # nothing left behind


async def test_an_oversize_message_is_a_library_error() -> None:
    async with FakeUws() as server, _session(server, max_msg_size=1024) as kf:
        async with asyncio.timeout(5), kf.stream.trades("PF_XBTUSD") as trades:
            await server.push(TRADES.replace('"market"', '"' + "x" * 2000 + '"'))
            with pytest.raises(StreamMessageTooLargeError) as caught:
                await anext(trades)
        assert caught.value.max_bytes == 1024


async def test_the_session_caps_messages_at_its_max_response_bytes() -> None:
    async with (
        FakeUws() as server,
        Session(base_url=server.http_url, max_response_bytes=5000) as kf,
    ):
        assert kf._stream_source.settings.max_msg_size == 5000


async def test_close_code_1008_ends_the_streams_for_good() -> None:
    async with FakeUws() as server, _session(server) as kf:
        async with asyncio.timeout(5), kf.stream.trades("PF_XBTUSD") as trades:
            await server.sockets[0].ws.close(code=1008, message=b"policy")
            with pytest.raises(StreamConnectionError) as caught:
                await anext(trades)
            assert caught.value.close_code == 1008
        with pytest.raises(StreamConnectionError):
            async with kf.stream.trades("PF_ETHUSD"):
                pass
        assert len(server.methods("subscribe")) == 1  # no reconnect


async def test_another_close_code_reconnects() -> None:
    async with (
        FakeUws() as server,
        _session(server) as kf,
        asyncio.timeout(5),
        kf.stream.trades("PF_XBTUSD") as trades,
    ):
        await server.sockets[0].ws.close(code=1011, message=b"restart")
        assert isinstance(await anext(trades), StreamReconnected)


async def test_leaving_the_block_sends_the_unsubscribe_frame() -> None:
    async with FakeUws() as server, _session(server) as kf:
        async with asyncio.timeout(5), kf.stream.ohlc("PF_XBTUSD", 15):
            assert server.methods("unsubscribe") == []
        (unsubscribe,) = server.methods("unsubscribe")
        (subscribe,) = server.methods("subscribe")
        assert unsubscribe["params"] == subscribe["params"]
        assert unsubscribe["req_id"] != subscribe["req_id"]


async def test_closing_the_session_closes_the_socket_and_ends_the_iterators() -> None:
    async with FakeUws() as server:
        kf = _session(server)
        await kf.__aenter__()
        items: list[Any] = []

        async def consume() -> None:
            async for trade in kf.stream.trades("PF_XBTUSD"):  # no async with: lazy subscribe
                items.append(trade)

        task = asyncio.create_task(consume())
        await server.wait_until(lambda: len(server.methods("subscribe")) == 1)
        assert len(server.sockets) == 1
        await kf.aclose()
        async with asyncio.timeout(3):
            await task  # ended cleanly: StopAsyncIteration, no error
        await server.wait_until(lambda: server.closed_sockets == 1)
        assert items == []
        with pytest.raises(SessionStateError):
            async with kf.stream.trades("PF_XBTUSD"):
                pass


async def test_no_socket_until_the_first_subscription() -> None:
    async with FakeUws() as server, _session(server) as kf:
        await asyncio.sleep(0.1)
        assert server.sockets == []
        assert not kf._stream_source.connected


async def test_streams_need_an_open_session() -> None:
    kf = Session(base_url="http://127.0.0.1:9")
    with pytest.raises(SessionStateError):
        async with kf.stream.trades("PF_XBTUSD"):
            pass


async def test_an_unreachable_socket_is_a_connection_error() -> None:
    async with FakeUws() as server:
        port = server.port
    async with Session(
        base_url=f"http://127.0.0.1:{port}",
        stream_settings=attrs.evolve(FAST, connect_timeout=0.5, ack_timeout=0.5),
    ) as kf:
        started = time.monotonic()
        with pytest.raises(StreamConnectionError):
            async with asyncio.timeout(5), kf.stream.trades("PF_XBTUSD"):
                pass
        assert time.monotonic() - started < 2


def test_the_stream_url_follows_the_environment_or_the_base_url() -> None:
    assert Session().stream_url == "wss://uws.kraken.com/v2/public"
    assert Session(base_url="http://127.0.0.1:8080").stream_url == "ws://127.0.0.1:8080/v2/public"
    assert (
        Session(base_url="https://futures.example.com").stream_url
        == "wss://futures.example.com/v2/public"
    )
    override = "ws://127.0.0.1:9000/v2/public"
    assert Session(stream_url=override).stream_url == override
    with pytest.raises(ConfigurationError):
        Session(stream_url="http://127.0.0.1:9000/v2/public")
