"""The fill model's rules one by one (``simulator/mirror/fill_model.py``'s docstring numbers).

Rules 2-4, 6 and 7 on the model alone; rules 1, 5, 8 and 9 through a mirror twin served
in-process, its mirrored market written here directly (no socket: ``tests/test_mirror.py``
runs a real source).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from kraken_futures_async import Session
from kraken_futures_async.errors import OrderRejectedError
from kraken_futures_async.simulator import ManualClock, TwinConfig
from kraken_futures_async.simulator.mirror import FillModel, MirrorTwin, mirror_twin
from kraken_futures_async.simulator.mirror.fill_model import RestingOrder
from kraken_futures_async.simulator.mirror.market import SourceTrade

D = Decimal
XBT = "PF_XBTUSD"


def trade(seq: int, price: str, size: str, side: str = "sell") -> SourceTrade:
    return SourceTrade(seq, 1000.0 + seq, D(price), D(size), side, seq)


def buy(order_id: str, price: str, remaining: str = "1") -> RestingOrder:
    return RestingOrder(order_id, True, D(price), D(remaining))


def sell(order_id: str, price: str, remaining: str = "1") -> RestingOrder:
    return RestingOrder(order_id, False, D(price), D(remaining))


# --- the model alone ----------------------------------------------------------------------


def test_rule2_the_size_ahead_trades_first_then_the_order_fills() -> None:
    model = FillModel()
    model.rest("b", True, D(100), ahead=D(3), last_seq=0)
    assert model.fills(trade(1, "100", "2"), [buy("b", "100")]) == []
    spot = model.spot("b")
    assert spot is not None
    assert spot.ahead == D(1)
    assert model.fills(trade(2, "100", "1.5"), [buy("b", "100")]) == [("b", D("0.5"))]


def test_rule2_inside_the_spread_nothing_is_ahead() -> None:
    model = FillModel()
    model.rest("s", False, D(101), ahead=D(0), last_seq=0)
    assert model.fills(trade(1, "101", "0.4", side="buy"), [sell("s", "101")]) == [("s", D("0.4"))]


def test_rule3_a_trade_through_the_price_fills_whatever_was_ahead() -> None:
    model = FillModel()
    model.rest("b", True, D(100), ahead=D(50), last_seq=0)
    assert model.fills(trade(1, "99", "0.3"), [buy("b", "100")]) == [("b", D("0.3"))]
    spot = model.spot("b")
    assert spot is not None
    assert spot.ahead == 0


def test_rule3_a_trade_at_the_price_with_a_buyer_as_taker_does_not_fill_a_bid() -> None:
    model = FillModel()
    model.rest("b", True, D(100), ahead=D(0), last_seq=0)
    assert model.fills(trade(1, "100", "5", side="buy"), [buy("b", "100")]) == []
    assert model.fills(trade(2, "101", "5", side="sell"), [buy("b", "100")]) == []  # above


def test_rule3_sells_are_the_mirror_image() -> None:
    model = FillModel()
    model.rest("s", False, D(100), ahead=D(1), last_seq=0)
    assert model.fills(trade(1, "99", "5", side="sell"), [sell("s", "100")]) == []
    assert model.fills(trade(2, "100", "1.5", side="buy"), [sell("s", "100")]) == [("s", D("0.5"))]
    assert model.fills(trade(3, "101", "9", side="sell"), [sell("s", "100", "0.5")]) == [
        ("s", D("0.5"))
    ]


def test_rule4_one_trade_fills_at_most_its_size_best_price_then_time() -> None:
    model = FillModel()
    for order_id, price in (("early", "100"), ("late", "100"), ("best", "101")):
        model.rest(order_id, True, D(price), ahead=D(0), last_seq=0)
    resting = [buy("best", "101"), buy("early", "100"), buy("late", "100")]
    filled = model.fills(trade(1, "99", "1.5"), resting)
    assert filled == [("best", D(1)), ("early", D("0.5"))]
    assert sum(size for _, size in filled) == D("1.5")


def test_rule6_trades_before_the_order_rested_never_fill_it() -> None:
    model = FillModel()
    model.rest("b", True, D(100), ahead=D(0), last_seq=7)
    assert model.fills(trade(7, "99", "1"), [buy("b", "100")]) == []
    assert model.fills(trade(8, "99", "1"), [buy("b", "100")]) == [("b", D(1))]
    assert model.fills(trade(9, "99", "1"), [buy("unknown", "100")]) == []  # no spot, no fill


def test_rule7_a_new_price_or_a_larger_size_loses_the_place_a_smaller_one_keeps_it() -> None:
    model = FillModel()
    model.rest("b", True, D(100), ahead=D(2), last_seq=0)
    model.fills(trade(1, "100", "1.5"), [buy("b", "100")])  # 0.5 still ahead
    model.edited("b", price=D(100), grew=False, ahead=D(9), last_seq=1)
    kept = model.spot("b")
    assert kept is not None
    assert kept.ahead == D("0.5")
    assert kept.after_seq == 0
    model.edited("b", price=D(100), grew=True, ahead=D(4), last_seq=1)
    grown = model.spot("b")
    assert grown is not None
    assert grown.ahead == D(4)
    assert grown.after_seq == 1
    model.edited("b", price=D(99), grew=False, ahead=D(6), last_seq=2)
    moved = model.spot("b")
    assert moved is not None
    assert (moved.price, moved.ahead, moved.after_seq) == (D(99), D(6), 2)
    model.forget("b")
    assert model.spot("b") is None
    assert len(model) == 0


# --- through the engine -------------------------------------------------------------------

BIDS = [(D(90_000), D("0.5")), (D(89_999), D("1.0")), (D(89_990), D("2.0"))]
ASKS = [(D(90_001), D("0.3")), (D(90_002), D("0.7")), (D(90_010), D("3.0"))]


def fresh_twin() -> tuple[MirrorTwin, ManualClock]:
    clock = ManualClock()
    twin = mirror_twin("ws://127.0.0.1:9/v2/public", symbols=[XBT], config=TwinConfig(clock=clock))
    twin.market.set_book(XBT, BIDS, ASKS)
    twin.market.set_mark(XBT, D(90_000), clock.time())
    twin.market.set_index(XBT, D(89_995), clock.time())
    return twin, clock


@pytest.fixture
async def mirrored() -> AsyncIterator[tuple[MirrorTwin, ManualClock, Session]]:
    twin, clock = fresh_twin()
    async with twin.session() as kf:
        yield twin, clock, kf


async def test_rule1_a_market_order_takes_the_book_level_by_level_and_depletes_it(
    mirrored: tuple[MirrorTwin, ManualClock, Session],
) -> None:
    twin, _clock, kf = mirrored
    await kf.orders.send(symbol=XBT, side="buy", size=D("0.5"), order_type="mkt")
    fills = await kf.orders.fills()
    assert sorted((f.price, f.size) for f in fills) == [
        (D(90_001), D("0.3")),
        (D(90_002), D("0.2")),
    ]
    book = await kf.market.orderbook(XBT)
    assert [(a.price, a.size) for a in book.asks[:2]] == [(D(90_002), D("0.5")), (D(90_010), D(3))]
    # the source sends the same level sizes again: still depleted; a new size refreshes it
    twin.market.set_book(XBT, BIDS, ASKS)
    assert (await kf.market.orderbook(XBT)).asks[0].price == D(90_002)
    twin.market.set_book(XBT, BIDS, [(D(90_001), D("0.4")), *ASKS[1:]])
    assert (await kf.market.orderbook(XBT)).asks[0].size == D("0.4")
    positions = await kf.account.open_positions()
    assert [(p.symbol, p.size) for p in positions] == [(XBT, D("0.5"))]


async def test_rule5_a_resting_order_fills_at_its_limit_as_a_maker_after_the_queue(
    mirrored: tuple[MirrorTwin, ManualClock, Session],
) -> None:
    twin, clock, kf = mirrored
    placed = await kf.orders.send(
        symbol=XBT, side="buy", size=D("0.2"), order_type="lmt", limit_price=D(90_000)
    )
    assert placed.order_id is not None
    twin.market.add_trade(XBT, D(90_000), D("0.4"), "sell", 1, clock.time())  # 0.5 ahead
    clock.advance(1)
    assert await kf.orders.fills() == []
    twin.market.add_trade(XBT, D(89_999), D("0.05"), "sell", 2, clock.time())  # through
    clock.advance(1)
    fills = await kf.orders.fills()
    assert [(f.price, f.size, f.fill_type.value) for f in fills] == [
        (D(90_000), D("0.05"), "maker")
    ]
    book_bids = (await kf.market.orderbook(XBT)).bids
    assert book_bids[0].price == D(90_000)  # the mirror's view shows our 0.15 beside the source


async def test_rule8_a_stop_fires_from_the_mirrored_mark(
    mirrored: tuple[MirrorTwin, ManualClock, Session],
) -> None:
    twin, clock, kf = mirrored
    await kf.orders.send(symbol=XBT, side="buy", size=D("0.1"), order_type="mkt")
    stop = await kf.orders.send(
        symbol=XBT,
        side="sell",
        size=D("0.1"),
        order_type="stp",
        stop_price=D(89_000),
        trigger_signal="mark",
        reduce_only=True,
    )
    assert stop.order_id is not None
    clock.advance(1)
    assert [o.order_id for o in await kf.orders.open()] == [stop.order_id]
    twin.market.set_mark(XBT, D(88_900), clock.time())
    clock.advance(1)
    assert await kf.orders.open() == []
    assert await kf.account.open_positions() == []  # the stop sold into the mirrored bids


async def test_rule9_a_stale_source_suspends_new_orders_and_fills_then_resumes(
    mirrored: tuple[MirrorTwin, ManualClock, Session],
) -> None:
    twin, clock, kf = mirrored
    resting = await kf.orders.send(
        symbol=XBT, side="sell", size=D("0.1"), order_type="lmt", limit_price=D(90_005)
    )
    twin.market.go_stale("the source socket dropped")
    ticker = await kf.market.ticker(XBT)
    assert ticker.suspended is True
    with pytest.raises(OrderRejectedError) as refused:
        await kf.orders.send(symbol=XBT, side="buy", size=D("0.1"), order_type="mkt")
    assert refused.value.status == "marketSuspended"
    twin.market.add_trade(XBT, D(90_006), D(1), "buy", 1, clock.time())  # through, but stale
    clock.advance(1)
    assert await kf.orders.fills() == []
    await kf.orders.cancel(order_id=resting.order_id)  # cancel-only mode: cancels still work
    twin.market.set_book(XBT, BIDS, ASKS)  # the source is whole again
    assert (await kf.market.ticker(XBT)).suspended is False
    await kf.orders.send(symbol=XBT, side="buy", size=D("0.1"), order_type="mkt")
    assert len(await kf.orders.fills()) == 1


async def test_the_tickers_day_is_the_sources(
    mirrored: tuple[MirrorTwin, ManualClock, Session],
) -> None:
    twin, _clock, kf = mirrored
    figures = {"volume": D(1234), "high": D(91_000), "low": D(88_000)}
    twin.market.set_ticker(XBT, {**figures, "last": D(90_000), "change": D(900)})
    ticker = await kf.market.ticker(XBT)
    assert (ticker.vol_24h, ticker.high_24h, ticker.low_24h) == (D(1234), D(91_000), D(88_000))
    assert ticker.open_24h == D(89_100)
    assert ticker.volume_quote == D(1234) * D(90_000)
    assert ticker.mark_price == D(90_000)
    assert ticker.index_price == D(89_995)
