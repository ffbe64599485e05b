"""``kf.stream`` heals from the twin's seeded faults without a wrong book reaching the caller.

Each fault is pulled on the served twin (``simulator.uws.UwsServer``'s switches): a
corrupted checksum, a dropped update, every connection dropped (``disconnect_all``), every
connection stalled (open, silent: the client's heartbeat watchdog must act), and a
maintenance ``status`` push. The book iterator must only ever yield the state before the
fault's change or the twin's own book after it (held to REST); the other iterators mark the
gap with :class:`StreamReconnected`.
"""

from __future__ import annotations

from decimal import Decimal

from kraken_futures_async import Session
from kraken_futures_async.models.streams import (
    StreamReconnected,
    StreamTrade,
    SystemState,
    SystemStatus,
)
from kraken_futures_async.simulator import RunningTwin
from kraken_futures_async.uws import UwsConnection

from .test_stream_twin_support import (
    SYMBOL,
    Levels,
    book_state,
    next_item,
    rest_state,
    served_twin,
    session,
    settle,
    uws,
    wait_until,
)

__all__ = ["served_twin"]


def socket_of(kf: Session) -> UwsConnection:
    source = kf.stream.source
    assert isinstance(source, UwsConnection)
    return source


async def test_a_corrupted_checksum_resubscribes_for_a_fresh_snapshot(
    served_twin: RunningTwin,
) -> None:
    server = uws(served_twin)
    async with session(served_twin) as kf, kf.stream.book(SYMBOL) as books:

        async def twin_book() -> Levels:
            return await rest_state(kf, 10)

        before = book_state(await next_item(books))
        server.corrupt_next_checksum(SYMBOL)
        await kf.orders.send(
            symbol=SYMBOL, side="buy", size=Decimal("0.5000"), limit_price=before[0][3][0]
        )
        seen = await settle(books, twin_book, {before})
        assert books.resyncs == 1
        assert server.feed.corrupt_checksums == {}  # the fault was spent on that update
        assert seen[-1] != before
        # and the book goes on from the fresh snapshot
        await kf.orders.send(
            symbol=SYMBOL, side="sell", size=Decimal("0.5000"), limit_price=seen[-1][1][2][0]
        )
        await settle(books, twin_book, {seen[-1]})
        assert books.resyncs == 1


async def test_a_dropped_update_is_caught_by_the_next_checksum(served_twin: RunningTwin) -> None:
    server = uws(served_twin)
    async with session(served_twin) as kf, kf.stream.book(SYMBOL) as books:

        async def twin_book() -> Levels:
            return await rest_state(kf, 10)

        before = book_state(await next_item(books))
        bids = before[0]
        server.drop_next_book_update(SYMBOL)
        await kf.orders.send(symbol=SYMBOL, side="buy", size=Decimal("0.5"), limit_price=bids[2][0])
        await wait_until(lambda: server.feed.updates_dropped == 1)  # not merged with the next
        await kf.orders.send(symbol=SYMBOL, side="buy", size=Decimal("0.5"), limit_price=bids[4][0])
        # the state between the two orders never reached the client: only before, then after
        seen = await settle(books, twin_book, {before})
        assert books.resyncs == 1
        assert seen[-1] != before


async def test_a_dropped_connection_reconnects_and_resubscribes(served_twin: RunningTwin) -> None:
    server = uws(served_twin)
    async with (
        session(served_twin) as kf,
        kf.stream.book(SYMBOL) as books,
        kf.stream.trades(SYMBOL) as trades,
    ):

        async def twin_book() -> Levels:
            return await rest_state(kf, 10)

        before = book_state(await next_item(books))
        ids = {c.connection_id for c in server.connections}
        server.disconnect_all()
        # an order placed while the client is away or just back: the new snapshot has it
        await kf.orders.send(
            symbol=SYMBOL, side="buy", size=Decimal("0.5"), limit_price=before[0][1][0]
        )
        after = (await settle(books, twin_book, {before}))[-1]
        assert after != before
        assert socket_of(kf).reconnects == 1
        await wait_until(lambda: {c.connection_id for c in server.connections} - ids != set())
        # the trades iterator marks the gap, then goes on
        marker = await next_item(trades)
        assert isinstance(marker, StreamReconnected)
        assert (marker.channel, marker.symbol) == ("trade", SYMBOL)
        await kf.orders.send(symbol=SYMBOL, side="sell", size=Decimal("0.0100"), order_type="mkt")
        trade = await next_item(trades)
        assert isinstance(trade, StreamTrade)
        assert trade.qty == Decimal("0.0100")
        await settle(books, twin_book, {after})
        assert books.resyncs == 0  # healed by the snapshot of the new socket, not a checksum


async def test_a_stalled_connection_is_caught_by_the_heartbeat_watchdog(
    served_twin: RunningTwin,
) -> None:
    server = uws(served_twin)
    async with (
        session(served_twin) as kf,
        kf.stream.book(SYMBOL) as books,
        kf.stream.trades(SYMBOL) as trades,
    ):

        async def twin_book() -> Levels:
            return await rest_state(kf, 10)

        before = book_state(await next_item(books))
        connection = socket_of(kf)
        server.stall_connections()
        await wait_until(lambda: any(c.stalled for c in server.connections))
        # the twin says nothing now, not even heartbeats; an order made meanwhile is lost
        # on the stalled socket, and arrives with the snapshot of the next one
        await kf.orders.send(
            symbol=SYMBOL, side="sell", size=Decimal("0.5"), limit_price=before[1][1][0]
        )
        await wait_until(lambda: connection.reconnects == 1, 10.0)
        after = (await settle(books, twin_book, {before}))[-1]
        assert after != before
        assert books.resyncs == 0
        assert isinstance(await next_item(trades), StreamReconnected)
        # the stalled socket was closed by the client: the twin keeps one healthy connection
        await wait_until(lambda: [c.stalled for c in server.connections] == [False])


async def test_status_pushes_survive_a_reconnect(served_twin: RunningTwin) -> None:
    server = uws(served_twin)
    async with (
        session(served_twin) as kf,
        kf.stream.status() as statuses,
        kf.stream.book(SYMBOL) as books,
    ):
        assert (await next_item(statuses)).system is SystemState.ONLINE
        await next_item(books)
        server.set_status("maintenance")
        event = await next_item(statuses)
        assert isinstance(event, SystemStatus)
        assert event.system is SystemState.MAINTENANCE
        # a new connection starts with the current state (still maintenance)
        server.disconnect_all()
        again = await next_item(statuses)
        assert again.system is SystemState.MAINTENANCE
        assert again.connection_id != event.connection_id
        server.set_status("online")
        assert (await next_item(statuses)).system is SystemState.ONLINE
        assert await rest_state(kf, 10) == book_state(await next_item(books))
