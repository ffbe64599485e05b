"""The same Session calls over both wires: ``Session(credentials, backend="uws")`` against a
served twin (its private socket and token endpoint), beside the REST backend on the same
account."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import pytest

from kraken_futures_async import (
    ConfigurationError,
    Credentials,
    InvalidRequestError,
    RateLimitPolicy,
    Session,
    UnsupportedOperationError,
)
from kraken_futures_async.models import OrderRequestStatus
from kraken_futures_async.rest.backend import RestBackend
from kraken_futures_async.simulator import RunningTwin, run_in_thread
from kraken_futures_async.uws.backend import UwsBackend
from tests.served_twins import uws_twin

SYMBOL = "PF_XBTUSD"


@pytest.fixture
def served() -> Iterator[RunningTwin]:
    with run_in_thread(uws_twin(), port=0) as running:
        yield running


@contextlib.asynccontextmanager
async def _both_wires(served: RunningTwin) -> AsyncIterator[tuple[Session, Session]]:
    """The twin's account over UWS and over REST at once."""
    credentials = served.twin.credentials()
    async with (
        Session(credentials, base_url=served.url, backend="uws") as over_uws,
        Session(
            credentials, base_url=served.url, rate_limits=RateLimitPolicy.unlimited()
        ) as over_rest,
    ):
        yield over_uws, over_rest


def test_backend_names_choose_the_wire() -> None:
    both = Credentials("key", "c2VjcmV0", kraken_api_key="k", kraken_api_secret="c2VjcmV0")
    assert isinstance(Session(both, backend="uws").backend, UwsBackend)
    assert isinstance(Session(both, backend="rest").backend, RestBackend)
    assert isinstance(Session(both).backend, RestBackend)
    local = Session(both, base_url="http://127.0.0.1:8080", backend="uws").backend
    assert isinstance(local, UwsBackend)
    assert local.url == "ws://127.0.0.1:8080/v2/private"
    with pytest.raises(ConfigurationError, match="KRAKEN_API_KEY"):
        Session(Credentials("key", "c2VjcmV0"), backend="uws")
    with pytest.raises(ConfigurationError, match="'rest', 'uws'"):
        Session(both, backend="ftp")  # type: ignore[arg-type]


async def test_orders_travel_over_the_private_socket(served: RunningTwin) -> None:
    twin = served.twin
    book = twin.exchange.handle("orderbook", {"symbol": [SYMBOL]}, None)
    far_bid = (Decimal(str(book["orderBook"]["bids"][0][0])) * Decimal("0.9")).quantize(Decimal(1))
    async with asyncio.timeout(60), _both_wires(served) as (over_uws, over_rest):
        placed = await over_uws.orders.send(
            symbol=SYMBOL, side="buy", size=Decimal("0.001"), limit_price=far_bid
        )
        assert placed.status is OrderRequestStatus.PLACED
        assert placed.order_id
        # the same account over REST sees the order the socket placed
        rest_ids = {order.order_id for order in await over_rest.orders.open()}
        assert placed.order_id in rest_ids
        uws_open = await over_uws.orders.open()
        assert placed.order_id in {order.order_id for order in uws_open}
        cancelled = await over_uws.orders.cancel(order_id=placed.order_id)
        assert cancelled.status is OrderRequestStatus.CANCELLED
        assert placed.order_id not in {o.order_id for o in await over_rest.orders.open()}
        with pytest.raises(UnsupportedOperationError, match="history_executions"):
            await over_uws.history.executions()


async def test_fills_and_leverage_over_the_socket_match_rest(served: RunningTwin) -> None:
    async with asyncio.timeout(60), _both_wires(served) as (over_uws, over_rest):
        assert await over_uws.orders.fills() == []  # a new account: nothing filled
        taken = await over_uws.orders.send(
            symbol=SYMBOL, side="buy", size=Decimal("0.002"), order_type="mkt"
        )
        assert taken.status is OrderRequestStatus.PLACED
        over_socket = await over_uws.orders.fills()
        while not over_socket:  # the fill is pushed a moment after the ack
            await asyncio.sleep(0.01)
            over_socket = await over_uws.orders.fills()
        rest_fills = await over_rest.orders.fills()
        assert rest_fills
        assert {(f.order_id, f.size, f.price, f.side) for f in over_socket} == {
            (f.order_id, f.size, f.price, f.side) for f in rest_fills
        }
        assert {f.order_id for f in over_socket} == {taken.order_id}
        assert sum(f.size for f in over_socket) == Decimal("0.002")

        await over_uws.settings.set_leverage_preference(SYMBOL, 5)
        shown = await over_rest.settings.leverage_preferences()
        assert [(p.symbol, p.max_leverage) for p in shown] == [(SYMBOL, Decimal(5))]
        with pytest.raises(InvalidRequestError, match="outside the permitted range"):
            await over_uws.settings.set_leverage_preference(SYMBOL, 1000)
        await over_uws.settings.set_leverage_preference(SYMBOL, None)  # cross again
        assert await over_rest.settings.leverage_preferences() == []
