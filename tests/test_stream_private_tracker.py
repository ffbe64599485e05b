"""The order tracker fed by the ``executions`` and ``positions`` streams of a served twin.

With a Kraken key the tracker asks for no open orders at all: what another client does on
the account (a second Session, which the tracker's Session never hears of) reaches the
picture through the streams. Every request the tracker's Session makes is counted by an
observer. Without a key, or told ``stream=False``, it polls as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs

from kraken_futures_async import Credentials, RateLimitPolicy, RetryPolicy, Session
from kraken_futures_async.operations import catalog as ops
from kraken_futures_async.simulator import RunningTwin
from kraken_futures_async.simulator.engine import Exchange
from kraken_futures_async.streams import StreamConnectionError
from kraken_futures_async.tracker import OrderTracker

from .test_stream_twin_support import SETTINGS, SYMBOL, served_twin, session, uws, wait_until

__all__ = ["served_twin"]

SIZE = Decimal("0.01")


def far_bid(running: RunningTwin) -> Decimal:
    exchange = running.twin.exchange
    assert isinstance(exchange, Exchange)
    return (exchange.mark_price(SYMBOL) * Decimal("0.8")).quantize(Decimal(1))


def counting(kf: Session) -> list[str]:
    """Every operation ``kf`` completes, by name, in order."""
    calls: list[str] = []

    def observe(operation: str, _request: Any, _result: Any) -> None:
        calls.append(operation)

    kf.add_observer(observe)
    return calls


def shows(tracker: OrderTracker, order_id: str) -> Callable[[], bool]:
    return lambda: order_id in tracker.snapshot().open_orders


async def test_the_tracker_sees_orders_of_another_client_without_polling_them(
    served_twin: RunningTwin,
) -> None:
    async with asyncio.timeout(30), session(served_twin) as kf, session(served_twin) as other:
        calls = counting(kf)
        tracker = await kf.track_orders(interval=60)
        assert tracker.streaming
        assert tracker.snapshot().accounts is not None
        price = far_bid(served_twin)
        placed = await other.orders.send(
            symbol=SYMBOL, side="buy", size=SIZE, limit_price=price, cli_ord_id="elsewhere"
        )
        assert placed.order_id is not None
        await wait_until(shows(tracker, placed.order_id))
        seen = tracker.snapshot().open_orders[placed.order_id]
        assert seen.cli_ord_id == "elsewhere"
        assert seen.limit_price == price
        assert seen.unfilled_size == SIZE
        await other.orders.cancel(order_id=placed.order_id)
        await wait_until(lambda: placed.order_id not in tracker.snapshot().open_orders)

        await other.orders.send(symbol=SYMBOL, side="buy", size=SIZE, order_type="mkt")
        await wait_until(lambda: SYMBOL in tracker.snapshot().positions)
        assert tracker.snapshot().positions[SYMBOL].size == SIZE
        assert ops.OPEN_ORDERS.name not in calls
        assert ops.OPEN_POSITIONS.name not in calls
        assert calls == [ops.ACCOUNTS.name]  # the one poll left, at the start
        assert tracker.snapshot().polls == 1
    assert not tracker.running


async def test_the_tracker_heals_after_a_dropped_socket(served_twin: RunningTwin) -> None:
    async with asyncio.timeout(30), session(served_twin) as kf, session(served_twin) as other:
        calls = counting(kf)
        tracker = await kf.track_orders(interval=60)
        price = far_bid(served_twin)
        kept = await other.orders.send(symbol=SYMBOL, side="buy", size=SIZE, limit_price=price)
        assert kept.order_id is not None
        await wait_until(shows(tracker, kept.order_id))
        tokens = served_twin.twin.spot_tokens
        assert tokens.issued == 1
        uws(served_twin).abort_private()
        await wait_until(lambda: tokens.issued == 2)  # a new socket, with a fresh token
        # around the reconnect, the order closes and another one rests
        await other.orders.cancel(order_id=kept.order_id)
        fresh = await other.orders.send(symbol=SYMBOL, side="buy", size=SIZE, limit_price=price - 1)
        assert fresh.order_id is not None
        await wait_until(shows(tracker, fresh.order_id))
        assert kept.order_id not in tracker.snapshot().open_orders
        assert tracker.streaming
        assert ops.OPEN_ORDERS.name not in calls


async def test_the_tracker_on_the_uws_backend_follows_its_socket(
    served_twin: RunningTwin,
) -> None:
    async with (
        asyncio.timeout(30),
        session(served_twin, backend="uws") as kf,
        session(served_twin) as other,
    ):
        tracker = await kf.track_orders(interval=60)
        assert tracker.streaming
        price = far_bid(served_twin)
        mine = await kf.orders.send(symbol=SYMBOL, side="buy", size=SIZE, limit_price=price)
        assert mine.order_id is not None
        assert mine.order_id in tracker.snapshot().open_orders  # from the call's own answer
        theirs = await other.orders.send(
            symbol=SYMBOL, side="buy", size=SIZE, limit_price=price - 1
        )
        assert theirs.order_id is not None
        await wait_until(shows(tracker, theirs.order_id))
        await other.orders.cancel(order_id=mine.order_id)
        await wait_until(lambda: mine.order_id not in tracker.snapshot().open_orders)


async def test_without_a_kraken_key_or_when_told_the_tracker_polls(
    served_twin: RunningTwin,
) -> None:
    key = served_twin.twin.key
    futures_only = Session(
        Credentials(key.public_key, key.secret),
        base_url=served_twin.url,
        rate_limits=RateLimitPolicy.unlimited(),
        retry=RetryPolicy.never(),
        timeout=5.0,
    )
    async with asyncio.timeout(30), futures_only as kf, session(served_twin) as keyed:
        for client, options in ((kf, {}), (keyed, {"stream": False})):
            calls = counting(client)
            tracker = await client.track_orders(interval=60, **options)
            assert not tracker.streaming
            assert calls.count(ops.OPEN_ORDERS.name) == 1  # the first poll
            assert tracker.snapshot().polls == 1
    assert served_twin.twin.spot_tokens.issued == 0


async def test_a_stream_that_cannot_start_leaves_the_tracker_polling(
    served_twin: RunningTwin,
) -> None:
    twin = served_twin.twin
    no_websocket = twin.issue_kraken_key(websocket=False)  # its token request is refused
    keyed = Session(
        twin.credentials(kraken_key=no_websocket),
        base_url=served_twin.url,
        rate_limits=RateLimitPolicy.unlimited(),
        retry=RetryPolicy.never(),
        timeout=5.0,
    )
    async with asyncio.timeout(30), keyed as kf:
        calls = counting(kf)
        tracker = await kf.track_orders(interval=60)
        assert not tracker.streaming
        assert tracker.last_error is not None
        assert "Permission denied" in str(tracker.last_error)
        assert calls.count(ops.OPEN_ORDERS.name) == 1  # it polled instead
        assert tracker.running


async def test_a_stream_that_ends_for_good_leaves_the_tracker_polling(
    served_twin: RunningTwin,
) -> None:
    one_socket = attrs.evolve(SETTINGS, max_reconnect_attempts=0)  # a drop is the end
    async with (
        asyncio.timeout(30),
        session(served_twin, stream_settings=one_socket) as kf,
        session(served_twin) as other,
    ):
        calls = counting(kf)
        tracker = await kf.track_orders(interval=0.2)
        assert tracker.streaming
        uws(served_twin).abort_private()
        await wait_until(lambda: not tracker.streaming)
        assert isinstance(tracker.last_error, StreamConnectionError)
        assert tracker.failures == 1
        placed = await other.orders.send(
            symbol=SYMBOL, side="buy", size=SIZE, limit_price=far_bid(served_twin)
        )
        assert placed.order_id is not None
        await wait_until(shows(tracker, placed.order_id))  # found by a poll
        assert ops.OPEN_ORDERS.name in calls
