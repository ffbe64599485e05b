"""Orders the exchange would refuse for its contract's rules are refused before sending.

Against the twin (whose instruments have Kraken's shapes: PF_XBTUSD's tick is 1, its size
step 0.0001), with a transport that records every path, so "nothing was sent" is checked.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kraken_futures_async import (
    BatchOrder,
    InvalidArgumentError,
    OrderRejectedError,
    RateLimitPolicy,
    Session,
)
from kraken_futures_async.simulator import Twin

XBT = "PF_XBTUSD"


class Recording(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path.rsplit("/", 1)[-1])
        return await self.inner.handle_async_request(request)


@pytest.fixture
def twin() -> Twin:
    return Twin()


def session(twin: Twin, recording: Recording, **kwargs: Any) -> Session:
    return twin.session(rate_limits=RateLimitPolicy.kraken(), transport=recording, **kwargs)


async def test_an_off_tick_price_is_refused_with_the_tick_and_nothing_is_sent(twin: Twin) -> None:
    recording = Recording(twin.transport())
    async with session(twin, recording) as kf:
        with pytest.raises(InvalidArgumentError) as caught:
            await kf.orders.send(symbol=XBT, side="buy", size="0.01", limit_price="41977.5")
    message = str(caught.value)
    assert XBT in message
    assert "41977.5" in message
    assert "tick size 1" in message
    assert "41977 or 41978" in message
    assert "sendorder" not in recording.paths


async def test_a_float_size_off_the_contracts_precision_is_refused(twin: Twin) -> None:
    recording = Recording(twin.transport())
    async with session(twin, recording) as kf:
        with pytest.raises(InvalidArgumentError) as caught:
            await kf.orders.send(symbol=XBT, side="buy", size=0.1 + 0.2, limit_price=1000)
    message = str(caught.value)
    assert "0.30000000000000004" in message
    assert "0.0001" in message
    assert "contractValueTradePrecision 4" in message
    assert "sendorder" not in recording.paths


async def test_a_stop_price_off_the_tick_is_refused(twin: Twin) -> None:
    recording = Recording(twin.transport())
    async with session(twin, recording) as kf:
        with pytest.raises(InvalidArgumentError, match=r"stop_price 90000\.25"):
            await kf.orders.send(
                symbol=XBT, side="sell", size="0.01", order_type="stp", stop_price="90000.25"
            )


async def test_the_list_is_fetched_once_and_good_orders_go_through(twin: Twin) -> None:
    recording = Recording(twin.transport())
    async with session(twin, recording) as kf:
        ask = (await kf.market.orderbook(XBT)).asks[0].price
        for _ in range(3):
            await kf.orders.send(symbol=XBT, side="buy", size="0.0001", limit_price=ask - 1000)
        await kf.orders.batch(
            BatchOrder().send(symbol=XBT, side="buy", size="0.0002", limit_price=ask - 2000)
        )
    assert recording.paths.count("instruments") == 1
    assert recording.paths.count("sendorder") == 3
    assert recording.paths.count("batchorder") == 1


async def test_a_batch_with_an_off_tick_send_is_refused_whole(twin: Twin) -> None:
    recording = Recording(twin.transport())
    batch = (
        BatchOrder()
        .send(symbol=XBT, side="buy", size="0.01", limit_price=1000)
        .send(symbol=XBT, side="buy", size="0.01", limit_price="1000.5")
    )
    async with session(twin, recording) as kf:
        with pytest.raises(InvalidArgumentError, match="off its tick size"):
            await kf.orders.batch(batch)
    assert "batchorder" not in recording.paths


@pytest.mark.parametrize(
    ("symbol", "hint"),
    [("XBTUSD", "PF_XBTUSD"), ("PF_XBTUSDT", "PF_XBTUSD"), ("pf_ethusd", None)],
)
async def test_an_unknown_symbol_hints_at_the_nearest_real_ones(
    twin: Twin, symbol: str, hint: str | None
) -> None:
    recording = Recording(twin.transport())
    async with session(twin, recording) as kf:
        if hint is None:  # a known symbol in lower case is the same contract
            ask = (await kf.market.orderbook("PF_ETHUSD")).asks[0].price
            await kf.orders.send(symbol=symbol, side="buy", size="0.01", limit_price=ask - 100)
            return
        with pytest.raises(InvalidArgumentError) as caught:
            await kf.orders.send(symbol=symbol, side="buy", size="1", limit_price=1000)
    assert f"unknown symbol {symbol!r}" in str(caught.value)
    assert hint in str(caught.value)
    assert "sendorder" not in recording.paths
    # One refresh for the unknown symbol at most: the list was fetched once, not per order.
    assert recording.paths.count("instruments") == 1


async def test_checks_can_be_switched_off(twin: Twin) -> None:
    recording = Recording(twin.transport())
    async with session(twin, recording, check_orders=False) as kf:
        with pytest.raises(OrderRejectedError) as caught:
            await kf.orders.send(symbol=XBT, side="buy", size="0.01", limit_price="41977.5")
    assert caught.value.status == "invalidPrice"
    assert "instruments" not in recording.paths


async def test_when_the_list_cannot_be_had_the_exchange_checks_alone(twin: Twin) -> None:
    class NoInstruments(Recording):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/instruments"):
                self.paths.append("instruments")
                return httpx.Response(503, text="maintenance")
            return await super().handle_async_request(request)

    recording = NoInstruments(twin.transport())
    async with session(twin, recording, retry=None) as kf:
        for _ in range(2):
            with pytest.raises(OrderRejectedError) as caught:
                await kf.orders.send(symbol=XBT, side="buy", size="0.01", limit_price="41977.5")
            assert caught.value.status == "invalidPrice"
    # Tried once (with the retry policy's attempts), not again for the second order.
    assert recording.paths.count("sendorder") == 2
    assert recording.paths.count("instruments") <= 4


async def test_the_list_can_be_loaded_before_the_first_order(twin: Twin) -> None:
    recording = Recording(twin.transport())
    async with session(twin, recording) as kf:
        await kf.instrument_rules.load()
        assert recording.paths == ["instruments"]
        ask = (await kf.market.orderbook(XBT)).asks[0].price
        await kf.orders.send(symbol=XBT, side="buy", size="0.0001", limit_price=ask - 1000)
    assert recording.paths == ["instruments", "orderbook", "sendorder"]
