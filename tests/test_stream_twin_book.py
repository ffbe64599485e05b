"""``kf.stream.book`` against a served twin equals the twin's own book after every change.

Orders are placed and cancelled through the same Session's REST face; after each, the
streamed book must reach the twin's order book as REST answers it (truncated to the depth),
and no book yielded on the way may be anything but the state before or the state after.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from kraken_futures_async.simulator import RunningTwin

from .test_stream_twin_support import (
    SYMBOL,
    Levels,
    book_state,
    next_item,
    rest_state,
    served_twin,
    session,
    settle,
)

__all__ = ["served_twin"]


@pytest.mark.parametrize("depth", [10, 25])
async def test_the_streamed_book_is_the_twins_book_after_each_order(
    served_twin: RunningTwin, depth: int
) -> None:
    async with session(served_twin) as kf, kf.stream.book(SYMBOL, depth=depth) as books:

        async def twin_book() -> Levels:
            return await rest_state(kf, depth)

        state = book_state(await next_item(books))
        assert state == await rest_state(kf, depth)
        assert len(state[0]) == len(state[1]) == depth
        bids, asks = state
        best_bid, best_ask = bids[0][0], asks[0][0]
        inside = best_bid + 1 if best_bid + 1 < best_ask else best_bid
        placed = []
        # a new best bid, a level added deep in the book, a level made larger, an ask
        for side, price in (
            ("buy", inside),
            ("buy", bids[depth - 3][0]),
            ("buy", bids[2][0]),
            ("sell", asks[1][0]),
        ):
            before = state
            order = await kf.orders.send(
                symbol=SYMBOL, side=side, size=Decimal("0.7500"), limit_price=price
            )
            placed.append(order.order_id)
            state = (await settle(books, twin_book, {before}))[-1]
        # cancels delete or shrink those levels again (a level entering from below included)
        for order_id in placed:
            before = state
            await kf.orders.cancel(order_id=order_id)
            state = (await settle(books, twin_book, {before}))[-1]
        # a market order takes the best asks
        before = state
        await kf.orders.send(symbol=SYMBOL, side="buy", size=Decimal("0.3000"), order_type="mkt")
        state = (await settle(books, twin_book, {before}))[-1]
        assert state != before
        assert books.resyncs == 0  # every update's checksum held


async def test_a_wide_sweep_brings_levels_in_from_below_the_depth(
    served_twin: RunningTwin,
) -> None:
    async with session(served_twin) as kf, kf.stream.book(SYMBOL, depth=10) as books:

        async def twin_book() -> Levels:
            return await rest_state(kf, 10)

        before = book_state(await next_item(books))
        size = sum(size for _, size in before[1][:3]) + Decimal("0.0001")
        await kf.orders.send(symbol=SYMBOL, side="buy", size=size, order_type="mkt")
        after = (await settle(books, twin_book, {before}))[-1]
        assert len(after[1]) == 10  # three asks gone, three entered from below the depth
        assert after[1][0][0] > before[1][2][0]
        assert books.resyncs == 0
