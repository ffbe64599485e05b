"""The twin's test controls: price moves in the engine, fills, stops, and their limits."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

from kraken_futures_async.simulator import ManualClock, Twin, TwinConfig, run_in_thread
from kraken_futures_async.simulator.engine.price_moves import PriceMoves
from kraken_futures_async.testing import ControlledTwin, TwinControl

XBT, XBT_FIXED, ETH = "PF_XBTUSD", "PI_XBTUSD", "PF_ETHUSD"


def test_moves_step_in_from_their_second_and_add_up() -> None:
    moves = PriceMoves()
    assert not moves
    assert moves.factor("XBT", 10) == 1.0
    moves.add("XBT", 10, 2.0)
    moves.add("XBT", 20, 0.5)
    assert [moves.factor("XBT", s) for s in (9, 10, 19, 20, 99)] == [1.0, 2.0, 2.0, 1.0, 1.0]
    moves.add("XBT", 20, 3.0)  # the same second again: on top of that second's move
    assert moves.factor("XBT", 20) == 3.0
    assert moves.factor("ETH", 20) == 1.0
    with pytest.raises(ValueError, match="positive"):
        moves.add("XBT", 30, 0.0)


def test_a_move_keeps_the_past_moves_the_base_and_leaves_others() -> None:
    twin = ControlledTwin()
    control = twin.control
    start = control.now()
    before = {s: control.exchange.mark_price(s, start) for s in (XBT, XBT_FIXED, ETH)}
    target = (before[XBT] * Decimal("0.8")).quantize(Decimal(1))
    assert control.move_mark(XBT, target) == target
    assert control.now() == start + 1  # the move acts from the next whole second
    assert control.exchange.mark_price(XBT, start) == before[XBT]  # the past as it was
    ratio = control.exchange.mark_price(XBT_FIXED) / before[XBT_FIXED]
    assert Decimal("0.79") < ratio < Decimal("0.81")  # the other contract on XBT moved too
    assert abs(control.mark(ETH) / before[ETH] - 1) < Decimal("0.01")
    control.advance(30)  # the market goes on moving from its new level
    assert abs(control.mark(XBT) / target - 1) < Decimal("0.01")


def test_candles_read_the_moved_prices_bit_for_bit() -> None:
    twin = ControlledTwin()
    twin.control.move_mark(XBT, twin.control.mark(XBT) * 2)
    prices = twin.control.market._venue.prices
    spec = twin.control.market._venue.specs[XBT]
    second = int(twin.control.now())
    seconds = list(range(second - 5, second + 5))
    _, marks = prices.paths(spec, seconds)
    assert marks == [prices.quote(spec, s)[2] for s in seconds]


@pytest.mark.parametrize(("signal", "engine_signal"), [("spot", "index"), ("last", "last")])
def test_a_stop_fires_on_trigger(signal: str, engine_signal: str) -> None:
    twin = ControlledTwin(TwinConfig(clock=ManualClock(), rate_limits=False))
    control = twin.control
    index = control.exchange.index_price(XBT)
    stop = (index * Decimal("1.1")).quantize(Decimal(1))
    placed = twin.exchange.handle(
        "send_order",
        {
            "orderType": ["stp"],
            "symbol": [XBT],
            "side": ["buy"],
            "size": ["0.01"],
            "stopPrice": [str(stop)],
            "triggerSignal": [signal],
        },
        twin.account_uid,
    )
    order_id = placed["sendStatus"]["order_id"]
    waiting = control.market.order(order_id)
    assert waiting.is_trigger
    assert waiting.trigger_signal == engine_signal
    control.trigger(order_id)
    assert control.exchange.index_price(XBT) > stop
    assert not control.is_open(order_id)  # fired and filled
    fills = twin.exchange.handle("fills", {}, twin.account_uid)["fills"]
    assert [fill["order_id"] for fill in fills] == [order_id]


def test_refusals_say_what_is_wrong() -> None:
    twin = ControlledTwin()
    control = twin.control
    with pytest.raises(KeyError):
        control.fill("no-such-order")
    with pytest.raises(KeyError):
        control.move_mark("PF_NOPEUSD", 1)
    with pytest.raises(ValueError, match="positive"):
        control.move_mark(XBT, 0)
    on_the_wall = TwinControl(Twin())
    assert on_the_wall.clock is None
    with pytest.raises(TypeError, match="ManualClock"):
        on_the_wall.advance(1)


def test_a_served_twins_controls_run_on_its_server_loop() -> None:
    twin = ControlledTwin()
    running = run_in_thread(twin, port=0)
    try:
        twin.control.serve_on(running.loop)
        assert twin.control._do(threading.get_ident) != threading.get_ident()
        with pytest.raises(KeyError):  # refusals reach the caller from the server's thread
            twin.control.fill("no-such-order")
        before = twin.control.mark(XBT)
        assert twin.control.move_mark(XBT, before * 2) > before
    finally:
        running.stop()
        twin.control.serve_on(None)
    assert twin.control._do(threading.get_ident) == threading.get_ident()
