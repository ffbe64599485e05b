"""``kf.stream.executions()``, ``positions()`` and ``balances()`` against a served twin.

The twin runs on a ManualClock and is served on a loopback port (``test_stream_twin_support``);
its ``/v2/private`` socket and ``GetWebSocketsToken`` endpoint are the ones the library
reaches with the twin's Kraken key. Orders are placed over REST (or over the socket with
``backend="uws"``), so the streams show what the engine did. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any, TypeVar

import pytest

from kraken_futures_async import (
    AuthenticationError,
    Credentials,
    MissingCredentialsError,
    RateLimitPolicy,
    RetryPolicy,
    Session,
)
from kraken_futures_async.models.streams import (
    BalanceUpdate,
    ExecType,
    ExecutionUpdate,
    PositionUpdate,
    StreamReconnected,
)
from kraken_futures_async.simulator import RunningTwin
from kraken_futures_async.simulator.engine import Exchange
from kraken_futures_async.simulator.uws.private import PrivateConnection
from kraken_futures_async.uws.backend import UwsBackend

from .test_stream_twin_support import SYMBOL, WAIT, served_twin, session, uws

__all__ = ["served_twin"]

T = TypeVar("T")
SIZE = Decimal("0.01")


async def first(items: AsyncIterator[Any], match: Callable[[Any], bool], wait: float = WAIT) -> Any:
    """The first item that matches, skipping the others (bounded)."""
    async with asyncio.timeout(wait):
        while True:
            item = await anext(items)
            if match(item):
                return item


def far_bid(running: RunningTwin) -> Decimal:
    """A buy price that rests: 20 % under the mark."""
    exchange = running.twin.exchange
    assert isinstance(exchange, Exchange)
    return (exchange.mark_price(SYMBOL) * Decimal("0.8")).quantize(Decimal(1))


def is_event(kind: ExecType, order_id: str) -> Callable[[Any], bool]:
    def match(item: Any) -> bool:
        return (
            isinstance(item, ExecutionUpdate)
            and item.exec_type is kind
            and item.order_id == order_id
            and not item.snapshot
        )

    return match


def private_sockets(running: RunningTwin) -> int:
    return sum(isinstance(c, PrivateConnection) for c in uws(running).connections)


async def test_an_order_placed_over_rest_and_its_fill_show_in_executions(
    served_twin: RunningTwin,
) -> None:
    async with asyncio.timeout(30), session(served_twin) as kf, kf.stream.executions() as events:
        price = far_bid(served_twin)
        resting = await kf.orders.send(
            symbol=SYMBOL, side="buy", size=SIZE, limit_price=price, cli_ord_id="rest-1"
        )
        assert resting.order_id is not None
        new = await first(events, is_event(ExecType.NEW, resting.order_id))
        assert new.cl_ord_id == "rest-1"
        assert new.symbol == SYMBOL
        assert new.side == "buy"
        assert new.order_type == "limit"
        assert new.order_qty == SIZE
        assert new.limit_price == price
        assert new.order_status == "new"
        assert new.timestamp is not None

        taken = await kf.orders.send(symbol=SYMBOL, side="buy", size=SIZE, order_type="mkt")
        assert taken.order_id is not None
        trade = await first(events, is_event(ExecType.TRADE, taken.order_id))
        assert trade.last_qty == SIZE
        assert isinstance(trade.last_price, Decimal)
        assert trade.last_price > 0
        assert trade.cost == trade.last_price * SIZE  # exact: Decimals all the way
        assert trade.liquidity_ind == "t"
        assert trade.fees[0].asset == "USD"
        assert isinstance(trade.fees[0].qty, Decimal)
        assert trade.fees[0].qty > 0
        assert trade.exec_id
        filled = await first(events, is_event(ExecType.FILLED, taken.order_id))
        assert filled.order_status == "filled"
        assert filled.cum_qty == SIZE

        await kf.orders.cancel(order_id=resting.order_id)
        gone = await first(events, is_event(ExecType.CANCELED, resting.order_id))
        assert gone.order_status == "canceled"
        assert private_sockets(served_twin) == 1


async def test_a_fill_moves_positions_and_balances(served_twin: RunningTwin) -> None:
    async with (
        asyncio.timeout(30),
        session(served_twin) as kf,
        kf.stream.positions() as positions,
        kf.stream.balances() as balances,
    ):
        usd = await first(balances, lambda b: isinstance(b, BalanceUpdate) and b.asset == "USD")
        assert usd.snapshot is True
        assert isinstance(usd.balance, Decimal)
        assert usd.wallets
        assert sum(w.balance for w in usd.wallets) == usd.balance

        await kf.orders.send(symbol=SYMBOL, side="buy", size=SIZE, order_type="mkt")
        opened = await first(
            positions, lambda p: isinstance(p, PositionUpdate) and p.symbol == SYMBOL
        )
        assert opened.snapshot is False
        assert opened.size == SIZE
        assert isinstance(opened.entry_price, Decimal)
        moved = await first(
            balances, lambda b: isinstance(b, BalanceUpdate) and b.asset == "USD" and bool(b.amount)
        )
        assert moved.snapshot is False
        assert moved.amount is not None
        assert moved.amount < 0  # the taker fee
        assert moved.balance is not None

        await kf.orders.send(
            symbol=SYMBOL, side="sell", size=SIZE, order_type="mkt", reduce_only=True
        )
        closed = await first(
            positions, lambda p: isinstance(p, PositionUpdate) and p.symbol == SYMBOL
        )
        assert closed.size == 0


async def test_on_the_uws_backend_the_streams_share_its_private_socket(
    served_twin: RunningTwin,
) -> None:
    credentials = served_twin.twin.credentials()
    async with (
        asyncio.timeout(30),
        session(served_twin, backend="uws") as kf,
    ):
        assert isinstance(kf.backend, UwsBackend)
        price = far_bid(served_twin)
        before = await kf.orders.send(symbol=SYMBOL, side="buy", size=SIZE, limit_price=price)
        assert before.order_id is not None
        # the backend subscribed positions already: a second subscription on its socket
        # would be refused, so these join the backend's
        async with kf.stream.executions() as events, kf.stream.positions() as positions:
            snapshot = await first(events, lambda e: isinstance(e, ExecutionUpdate))
            assert snapshot.snapshot is True
            assert snapshot.order_id == before.order_id
            placed = await kf.orders.send(
                symbol=SYMBOL, side="buy", size=SIZE, limit_price=price - 1
            )
            assert placed.order_id is not None
            new = await first(events, is_event(ExecType.NEW, placed.order_id))
            assert new.limit_price == price - 1
            await kf.orders.send(symbol=SYMBOL, side="buy", size=SIZE, order_type="mkt")
            opened = await first(positions, lambda p: isinstance(p, PositionUpdate))
            assert opened.size == SIZE
        # the backend's own lookup kept working through the shared subscription
        open_ids = {o.order_id for o in await kf.orders.open()}
        assert {before.order_id, placed.order_id} <= open_ids
        assert private_sockets(served_twin) == 1
    assert credentials.has_kraken_key


async def test_a_refused_token_is_fetched_again_once_and_never_shown(
    served_twin: RunningTwin, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tokens = served_twin.twin.spot_tokens
    async with asyncio.timeout(30), session(served_twin) as kf, kf.stream.executions() as events:
        assert tokens.issued == 1
        used = list(tokens._tokens)
        for token in used:
            tokens.revoke(token)  # the twin forgets it: the next request is refused
        async with kf.stream.positions() as positions:
            assert tokens.issued == 2  # one fetch more, then the retry went through
            await kf.orders.send(symbol=SYMBOL, side="buy", size=SIZE, order_type="mkt")
            opened = await first(positions, lambda p: isinstance(p, PositionUpdate))
            assert opened.size == SIZE
            trade = await first(events, lambda e: getattr(e, "exec_type", None) == "trade")
            assert trade.last_qty == SIZE
        used += list(tokens._tokens)
        shown = [repr(kf), repr(kf.stream.private), repr(events), caplog.text]
    assert "refused the token" in caplog.text
    assert len(used) == 2
    for token in used:
        assert all(token not in text for text in shown)


async def test_a_dropped_socket_resubscribes_with_a_fresh_token(served_twin: RunningTwin) -> None:
    tokens = served_twin.twin.spot_tokens
    async with asyncio.timeout(30), session(served_twin) as kf, kf.stream.executions() as events:
        price = far_bid(served_twin)
        resting = await kf.orders.send(symbol=SYMBOL, side="buy", size=SIZE, limit_price=price)
        assert resting.order_id is not None
        await first(events, is_event(ExecType.NEW, resting.order_id))
        assert tokens.issued == 1
        uws(served_twin).abort_private()
        marker = await anext(events)
        assert isinstance(marker, StreamReconnected)
        assert marker.channel == "executions"
        again = await first(events, lambda e: isinstance(e, ExecutionUpdate))
        assert again.snapshot is True  # the new subscription's snapshot
        assert again.order_id == resting.order_id
        assert tokens.issued == 2  # never the old token on a new socket
        later = await kf.orders.send(symbol=SYMBOL, side="buy", size=SIZE, limit_price=price - 1)
        assert later.order_id is not None
        new = await first(events, is_event(ExecType.NEW, later.order_id))
        assert new.limit_price == price - 1


async def test_without_a_kraken_key_nothing_is_sent(served_twin: RunningTwin) -> None:
    key = served_twin.twin.key
    futures_only = Credentials(key.public_key, key.secret)
    async with Session(
        futures_only,
        base_url=served_twin.url,
        rate_limits=RateLimitPolicy.unlimited(),
        retry=RetryPolicy.never(),
        timeout=5.0,
    ) as kf:
        assert not kf.stream.private.available
        for make in (kf.stream.executions, kf.stream.positions, kf.stream.balances):
            with pytest.raises(MissingCredentialsError) as caught:
                make()
            assert "KRAKEN_API_KEY" in str(caught.value)
            assert "kraken_api_key=" in str(caught.value)
        with pytest.raises(MissingCredentialsError):
            await kf.track_orders(stream=True)
    assert served_twin.twin.spot_tokens.issued == 0
    assert private_sockets(served_twin) == 0


async def test_a_refused_kraken_key_ends_the_subscription_at_once(
    served_twin: RunningTwin,
) -> None:
    twin = served_twin.twin
    no_websocket = twin.issue_kraken_key(websocket=False)
    async with Session(
        twin.credentials(kraken_key=no_websocket),
        base_url=served_twin.url,
        rate_limits=RateLimitPolicy.unlimited(),
        retry=RetryPolicy.never(),
        timeout=5.0,
    ) as kf:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(AuthenticationError, match="Permission denied"):
            async with asyncio.timeout(WAIT), kf.stream.executions() as events:
                await anext(events)
        assert loop.time() - started < WAIT  # not retried until a timeout
    assert private_sockets(served_twin) == 0


async def test_a_stop_orders_trigger_arrives_typed(served_twin: RunningTwin) -> None:
    async with asyncio.timeout(30), session(served_twin) as kf, kf.stream.executions() as events:
        stop = far_bid(served_twin)
        placed = await kf.orders.send(
            symbol=SYMBOL,
            side="sell",
            size=SIZE,
            order_type="stp",
            stop_price=stop,
            limit_price=stop - 10,
        )
        assert placed.order_id is not None
        new = await first(events, is_event(ExecType.NEW, placed.order_id))
        assert new.triggers is not None
        assert new.triggers.price == stop
        assert isinstance(new.triggers.price, Decimal)
        assert new.triggers.reference is not None
