"""Testing a bot with the package's pytest plugin: the market maker of ``market_maker.py``.

    pip install kraken_futures_async pytest pytest-asyncio
    pytest examples/test_market_maker.py

The fixtures come with the package (no conftest): ``kraken_twin`` is a fresh exchange twin on
a manual clock, ``kraken_twin.control`` moves its market, time and faults, and
``kraken_session`` is a signed Session on it.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from market_maker import make_market, quote_once

from kraken_futures_async import Session
from kraken_futures_async.testing import ControlledTwin

pytestmark = pytest.mark.asyncio
SYMBOL = "PF_XBTUSD"
SIZE, SPREAD = Decimal("0.001"), Decimal("0.002")


async def open_ids(kf: Session) -> set[str]:
    return {order.order_id for order in await kf.orders.open()}


async def test_it_quotes_both_sides_of_the_mark(
    kraken_twin: ControlledTwin, kraken_session: Session
) -> None:
    bid_id, ask_id = await quote_once(kraken_session, SYMBOL, size=SIZE, spread=SPREAD)
    orders = {o.order_id: o for o in await kraken_session.orders.open()}
    assert set(orders) == {bid_id, ask_id}
    bid, ask = orders[bid_id].limit_price, orders[ask_id].limit_price
    assert bid is not None
    assert ask is not None
    assert bid < kraken_twin.control.mark(SYMBOL) < ask


async def test_a_market_falling_through_the_bid_fills_it(
    kraken_twin: ControlledTwin, kraken_session: Session
) -> None:
    bid_id, ask_id = await quote_once(kraken_session, SYMBOL, size=SIZE, spread=SPREAD)
    kraken_twin.control.move_mark(SYMBOL, kraken_twin.control.mark(SYMBOL) * Decimal("0.99"))
    assert [fill.order_id for fill in await kraken_session.orders.fills()] == [bid_id]
    assert await open_ids(kraken_session) == {ask_id}
    [position] = await kraken_session.account.open_positions()
    assert position.size == SIZE


async def test_a_quote_filled_while_it_stands_is_no_error(
    kraken_twin: ControlledTwin, kraken_session: Session
) -> None:
    running = asyncio.create_task(make_market(kraken_session, SYMBOL, rounds=1, pause=0.5))
    async with asyncio.timeout(5):  # the exchange has no event to wait on: ask it
        while len(orders := await kraken_session.orders.open()) < 2:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    [bid] = [order for order in orders if order.side == "buy"]
    kraken_twin.control.fill(bid.order_id)  # a counterparty takes the bid mid-round
    assert await running == 2
    assert [fill.order_id for fill in await kraken_session.orders.fills()] == [bid.order_id]
    assert await open_ids(kraken_session) == set()


async def test_it_rides_out_a_502_on_the_ticker(
    kraken_twin: ControlledTwin, kraken_session: Session
) -> None:
    kraken_twin.control.fail_next("ticker", "server_error")
    assert await make_market(kraken_session, SYMBOL, rounds=1, pause=0) == 2
    assert kraken_twin.control.fired("server_error", "ticker") == 1
