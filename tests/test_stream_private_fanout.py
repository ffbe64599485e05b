"""One private subscription shared by several subscribers (``uws.fanout``), alone and on a
served twin: a newcomer starts from a snapshot, the others see a gap, and the channel stays
subscribed until the last subscriber leaves."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from kraken_futures_async.errors import KrakenFuturesError
from kraken_futures_async.models.streams import ExecType, ExecutionUpdate, StreamReconnected
from kraken_futures_async.simulator import RunningTwin
from kraken_futures_async.simulator.engine import Exchange
from kraken_futures_async.streams.errors import StreamConnectionError
from kraken_futures_async.uws.fanout import Fanout

from .test_stream_twin_support import SYMBOL, WAIT, served_twin, session, uws, wait_until

__all__ = ["served_twin"]


class Recorder:
    """A sink that writes down what it is told."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.heard: list[Any] = []

    def deliver(self, kind: str, data: Any) -> None:
        self.heard.append((kind, data))

    def link_lost(self) -> None:
        self.heard.append("lost")

    def link_restored(self) -> None:
        self.heard.append("restored")

    def fail(self, error: KrakenFuturesError) -> None:
        self.heard.append(("failed", error))

    def end(self) -> None:
        self.heard.append("end")


class Broken(Recorder):
    def deliver(self, kind: str, data: Any) -> None:
        raise RuntimeError("a subscriber's bug")


def test_a_joiner_hears_nothing_before_its_snapshot_and_no_gap_of_its_own() -> None:
    settled, joiner = Recorder("settled"), Recorder("joiner")
    fanout = Fanout(settled)
    fanout.add(joiner, joining=True)
    fanout.deliver("update", [1])
    fanout.link_lost()
    fanout.link_restored()
    fanout.deliver("snapshot", [2])
    fanout.deliver("update", [3])
    assert settled.heard == [
        ("update", [1]),
        "lost",
        "restored",
        ("snapshot", [2]),
        ("update", [3]),
    ]
    assert joiner.heard == [("snapshot", [2]), ("update", [3])]


def test_one_subscribers_bug_does_not_starve_the_others(caplog: pytest.LogCaptureFixture) -> None:
    broken, fine = Broken("broken"), Recorder("fine")
    fanout = Fanout(broken)
    fanout.add(fine, joining=False)
    fanout.deliver("update", [1])
    error = StreamConnectionError("gone")
    fanout.fail(error)
    fanout.remove(broken)
    fanout.end()
    assert fine.heard == [("update", [1]), ("failed", error), "end"]
    assert fanout.error is error
    assert fanout.sinks == [fine]
    assert "a subscriber failed on a push" in caplog.text


async def test_two_executions_streams_on_one_session_share_one_subscription(
    served_twin: RunningTwin,
) -> None:
    hub = served_twin.twin.app.uws.private_hub
    exchange = served_twin.twin.exchange
    assert isinstance(exchange, Exchange)
    price = (exchange.mark_price(SYMBOL) * Decimal("0.8")).quantize(Decimal(1))
    async with asyncio.timeout(30), session(served_twin) as kf:
        async with kf.stream.executions() as first:
            placed = await kf.orders.send(
                symbol=SYMBOL, side="buy", size=Decimal("0.01"), limit_price=price
            )
            assert placed.order_id is not None
            async with asyncio.timeout(WAIT):
                item = await anext(first)
            assert isinstance(item, ExecutionUpdate)
            assert item.exec_type is ExecType.NEW
            async with kf.stream.executions() as second:
                # the newcomer starts from a snapshot with the resting order in it
                async with asyncio.timeout(WAIT):
                    seen = await anext(second)
                assert isinstance(seen, ExecutionUpdate)
                assert seen.snapshot is True
                assert seen.order_id == placed.order_id
                # the first saw the subscription made again: a gap, then the same snapshot
                async with asyncio.timeout(WAIT):
                    marker, again = await anext(first), await anext(first)
                assert isinstance(marker, StreamReconnected)
                assert isinstance(again, ExecutionUpdate)
                assert again.snapshot is True
                assert sum(len(members) for members in hub.executions.values()) == 1
            await kf.orders.cancel(order_id=placed.order_id)
            async with asyncio.timeout(WAIT):
                gone = await anext(first)  # leaving the second did not unsubscribe the first
            assert isinstance(gone, ExecutionUpdate)
            assert gone.exec_type is ExecType.CANCELED
        # the last one out unsubscribed
        await wait_until(lambda: not hub.executions)
        assert uws(served_twin).connections


async def test_joining_after_the_token_was_revoked_fetches_one_and_keeps_both(
    served_twin: RunningTwin,
) -> None:
    tokens = served_twin.twin.spot_tokens
    async with (
        asyncio.timeout(30),
        session(served_twin) as kf,
        kf.stream.executions() as first,
        kf.stream.balances() as balances,
    ):
        async with asyncio.timeout(WAIT):
            await anext(balances)  # the balances snapshot: both subscriptions are live
        for token in list(tokens._tokens):
            tokens.revoke(token)
        # joining makes the subscription again: its unsubscribe is refused, then resent
        async with kf.stream.executions() as second:
            assert tokens.issued == 2
            exchange = served_twin.twin.exchange
            assert isinstance(exchange, Exchange)
            price = (exchange.mark_price(SYMBOL) * Decimal("0.8")).quantize(Decimal(1))
            placed = await kf.orders.send(
                symbol=SYMBOL, side="buy", size=Decimal("0.01"), limit_price=price
            )
            for events in (first, second):
                async with asyncio.timeout(WAIT):
                    while True:
                        item = await anext(events)
                        if isinstance(item, ExecutionUpdate) and not item.snapshot:
                            break
                assert item.order_id == placed.order_id
                assert item.exec_type is ExecType.NEW
