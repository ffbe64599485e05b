"""The twin on a real loopback socket: uvicorn in a thread, signed calls over TCP."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from kraken_futures_async import RateLimitPolicy, Session, TransportError
from kraken_futures_async.retry import RetryPolicy
from kraken_futures_async.simulator import RunningTwin, Twin, run_in_thread
from tests.test_sim_http_fake import FakeExchange, fake_twin

D = "/derivatives/api/v3"


@pytest.fixture
def served() -> Iterator[tuple[RunningTwin, FakeExchange]]:
    twin, exchange = fake_twin()
    running = run_in_thread(twin, port=0)
    try:
        yield running, exchange
    finally:
        running.stop()


def quiet(running: RunningTwin) -> Session:
    return running.session(
        rate_limits=RateLimitPolicy.unlimited(), retry=RetryPolicy.never(), timeout=5.0
    )


def test_it_binds_loopback_on_a_free_port(served: tuple[RunningTwin, FakeExchange]) -> None:
    running, _ = served
    url = httpx.URL(running.url)
    assert url.host == "127.0.0.1"
    assert url.port is not None
    assert url.port > 0
    assert "running" in repr(running)


async def test_signed_calls_over_tcp(served: tuple[RunningTwin, FakeExchange]) -> None:
    running, exchange = served
    async with quiet(running) as kf:
        tickers = await kf.market.tickers()
        placed = await kf.orders.send(
            symbol="PF_XBTUSD", side="buy", size=1, limit_price=50000, cli_ord_id="tcp-1"
        )
        statuses = await kf.orders.status(order_ids=["a", "b"])
    assert [t.symbol for t in tickers] == ["PF_XBTUSD", "PF_ETHUSD"]
    assert placed.cli_ord_id == "tcp-1"
    assert statuses == []
    # the instrument list is fetched once, for the order's local checks
    assert exchange.operations() == ["tickers", "instruments", "send_order", "order_status"]
    assert exchange.calls[3][1] == {"orderIds": ["a", "b"]}
    assert exchange.calls[2][2] == running.twin.account_uid


async def test_404_and_bad_signatures_over_tcp(served: tuple[RunningTwin, FakeExchange]) -> None:
    running, exchange = served
    async with httpx.AsyncClient(base_url=running.url) as client:
        missing = await client.get(f"{D}/nosuch")
        unsigned = await client.get(f"{D}/openorders", headers={"APIKey": "x", "Authent": "y"})
    assert missing.status_code == 404
    assert missing.json()["status"] == "NOT_FOUND"
    assert unsigned.json()["error"] == "authenticationError"
    assert exchange.calls == []


async def test_dropped_connections_over_tcp(served: tuple[RunningTwin, FakeExchange]) -> None:
    running, exchange = served
    running.twin.faults.add("drop_before", "open_orders", times=1)
    running.twin.faults.add("drop_after", "fills", times=1)
    async with quiet(running) as kf:
        with pytest.raises(TransportError) as before:
            await kf.orders.open()
        with pytest.raises(TransportError) as after:
            await kf.orders.fills()
        assert await kf.orders.open() == []  # the server is still up
    for caught in (before, after):
        assert isinstance(caught.value.__cause__, httpx.RemoteProtocolError | httpx.ReadError)
    assert exchange.operations() == ["fills", "open_orders"]


def test_stop_frees_the_port() -> None:
    twin, _ = fake_twin()
    running = run_in_thread(twin, port=0)
    port = httpx.URL(running.url).port
    assert port is not None
    running.stop()
    assert "stopped" in repr(running)
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_a_taken_port_is_an_error() -> None:
    twin, _ = fake_twin()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(OSError, match="in use"):
            run_in_thread(twin, port=port)


def test_twin_run_in_thread_is_a_context_manager() -> None:
    twin, exchange = fake_twin()
    with twin.run_in_thread() as running:
        response = httpx.get(f"{running.url}{D}/tickers", timeout=5.0)
    assert response.json()["result"] == "success"
    assert exchange.operations() == ["tickers"]
    assert isinstance(running.twin, Twin)
