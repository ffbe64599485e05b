"""The twin's seeded faults on the private socket, one kind at a time, seen by a bare client.

Each kind is switched on for ``add_order`` with probability 1, so the next order meets it;
the client is the independent one of :mod:`tests.test_sim_uws_private` (its own Spot signer
and plain aiohttp frames), and the truth is read from the engine itself.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from kraken_futures_async.simulator import ManualClock, RunningTwin, Twin, TwinConfig, run_in_thread
from kraken_futures_async.simulator.engine import Exchange
from kraken_futures_async.simulator.uws import UwsConfig, private_url
from kraken_futures_async.simulator.uws.faults import (
    SocketFault,
    SocketFaultEvent,
    SocketFaultRule,
    SocketFaults,
)
from tests.served_twins import uws_twin

from .test_sim_uws_private import WAIT, Client, fetch_token

SYMBOL = "PF_XBTUSD"


@pytest.fixture
def served() -> Iterator[RunningTwin]:
    with run_in_thread(uws_twin(), port=0) as running:
        yield running


@pytest.fixture
async def client(served: RunningTwin) -> AsyncIterator[Client]:
    async with aiohttp.ClientSession() as http:
        token = await fetch_token(http, served)
        async with http.ws_connect(private_url(served.url)) as ws:
            first = json.loads((await ws.receive(timeout=WAIT)).data)
            assert first["channel"] == "status"
            client = Client(ws, token)
            ack = await client.call("subscribe", channel="executions", asset_class="derivatives")
            assert ack["success"] is True
            await client.wait_for(lambda f: f.get("type") == "snapshot")
            yield client


def strike(running: RunningTwin, kind: SocketFault, delay: float = 0.0) -> None:
    """Every ``add_order`` from now on meets ``kind``."""
    rule = SocketFaultRule(kind=kind, delay=delay)
    running.twin.app.uws.config = UwsConfig(
        heartbeat_interval=0.2, tick_interval=0.1, socket_faults=(rule,)
    )


def order(running: RunningTwin, cl_ord_id: str) -> dict[str, Any]:
    exchange = running.twin.exchange
    assert isinstance(exchange, Exchange)
    price = (exchange.mark_price(SYMBOL) * Decimal("0.8")).quantize(Decimal(1))
    return {
        "asset_class": "derivatives",
        "symbol": SYMBOL,
        "side": "buy",
        "order_type": "limit",
        "order_qty": Decimal("0.01"),
        "limit_price": price,
        "cl_ord_id": cl_ord_id,
    }


def open_cl_ids(running: RunningTwin) -> set[str]:
    """The engine's own open orders (the truth, not what any socket said)."""
    twin = running.twin
    rows = twin.exchange.handle("open_orders", {}, twin.account_uid)["openOrders"]
    return {str(row["cliOrdId"]) for row in rows if row.get("cliOrdId")}


async def closed(client: Client) -> int | None:
    """Read until the socket closes; its close code."""
    async with asyncio.timeout(WAIT):
        while True:
            message = await client.ws.receive()
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                return client.ws.close_code
            if message.type is aiohttp.WSMsgType.TEXT:
                client.frames.append(json.loads(message.data, parse_float=Decimal))


def acked(client: Client, req_id: int) -> bool:
    return any(f.get("req_id") == req_id and "method" in f for f in client.frames)


def executions_of(client: Client, cl_ord_id: str) -> list[dict[str, Any]]:
    return [
        item
        for f in client.frames
        if f.get("channel") == "executions" and f.get("type") == "update"
        for item in f["data"]
        if item.get("cl_ord_id") == cl_ord_id
    ]


async def test_drop_before_aborts_the_socket_and_the_engine_never_sees_the_order(
    served: RunningTwin, client: Client
) -> None:
    strike(served, SocketFault.DROP_BEFORE)
    req_id = await client.send("add_order", **order(served, "never-taken"))
    assert await closed(client) == 1006
    assert not acked(client, req_id)
    assert executions_of(client, "never-taken") == []
    assert "never-taken" not in open_cl_ids(served)
    events = list(served.twin.app.uws.socket_faults.events)
    assert events == [SocketFaultEvent(SocketFault.DROP_BEFORE, "add_order", req_id, "never-taken")]


async def test_drop_after_applies_the_order_then_aborts_before_ack_and_events(
    served: RunningTwin, client: Client
) -> None:
    strike(served, SocketFault.DROP_AFTER)
    req_id = await client.send("add_order", **order(served, "taken-then-dropped"))
    assert await closed(client) == 1006
    assert not acked(client, req_id)
    assert executions_of(client, "taken-then-dropped") == []  # lost with the socket
    assert "taken-then-dropped" in open_cl_ids(served)
    assert served.twin.app.uws.socket_faults.counts == {SocketFault.DROP_AFTER: 1}


async def test_ack_lost_applies_the_order_keeps_the_socket_and_its_events(
    served: RunningTwin, client: Client
) -> None:
    strike(served, SocketFault.ACK_LOST)
    req_id = await client.send("add_order", **order(served, "ack-lost"))
    new = await client.execution("new")
    assert new["cl_ord_id"] == "ack-lost"
    assert "ack-lost" in open_cl_ids(served)
    # the socket still answers (cancels are not struck): the lost ack never comes after
    cancel = await client.call("cancel_order", asset_class="derivatives", cl_ord_id=["ack-lost"])
    assert cancel["success"] is True
    assert not acked(client, req_id)
    assert served.twin.app.uws.socket_faults.counts == {SocketFault.ACK_LOST: 1}


async def test_ack_delayed_arrives_late_after_the_orders_events(
    served: RunningTwin, client: Client
) -> None:
    strike(served, SocketFault.ACK_DELAYED, delay=0.4)
    started = time.monotonic()
    req_id = await client.send("add_order", **order(served, "ack-late"))
    new = await client.execution("new")
    assert new["cl_ord_id"] == "ack-late"
    assert not acked(client, req_id)
    ack = await client.ack(req_id)
    assert time.monotonic() - started >= 0.4
    assert ack["success"] is True
    assert ack["result"]["cl_ord_id"] == "ack-late"
    assert ack["result"]["order_id"] == new["order_id"]
    events = list(served.twin.app.uws.socket_faults.events)
    assert [(e.kind, e.delay) for e in events] == [(SocketFault.ACK_DELAYED, 0.4)]


async def test_request_lost_never_reaches_the_engine_and_the_socket_stays(
    served: RunningTwin, client: Client
) -> None:
    strike(served, SocketFault.REQUEST_LOST)
    req_id = await client.send("add_order", **order(served, "vanished"))
    ok = await client.call("cancel_all", asset_class="derivatives")
    assert ok["result"] == {"count": 0}  # answered after it: the lost one was never taken
    assert not acked(client, req_id)
    assert executions_of(client, "vanished") == []
    assert "vanished" not in open_cl_ids(served)
    assert served.twin.app.uws.socket_faults.counts == {SocketFault.REQUEST_LOST: 1}


async def test_a_refusal_meets_the_fault_too_and_only_the_named_methods_are_struck(
    served: RunningTwin, client: Client
) -> None:
    strike(served, SocketFault.ACK_LOST)
    bad = {**order(served, "refused"), "order_qty": Decimal("0.0000001")}
    req_id = await client.send("add_order", **bad)
    ok = await client.call("cancel_all", asset_class="derivatives")
    assert ok["success"] is True  # cancel_all is not add_order: answered
    assert not acked(client, req_id)
    assert "refused" not in open_cl_ids(served)


def test_the_dice_are_seeded_and_mixed_at_the_asked_rates() -> None:
    rules = (
        SocketFaultRule(kind=SocketFault.DROP_BEFORE, probability=0.05),
        SocketFaultRule(kind=SocketFault.DROP_AFTER, probability=0.05),
        SocketFaultRule(kind=SocketFault.ACK_LOST, probability=0.05),
        SocketFaultRule(kind=SocketFault.ACK_DELAYED, probability=0.05, delay=2.0),
        SocketFaultRule(kind=SocketFault.REQUEST_LOST, probability=0.05),
    )

    def run(seed: int) -> list[SocketFaultEvent]:
        faults = SocketFaults(rules, seed)
        for i in range(4000):
            faults.roll("add_order", i, {"cl_ord_id": f"c{i}"})
            assert faults.roll("cancel_order", i, {}) is None
        return list(faults.events)

    first, again, other = run(7), run(7), run(8)
    assert first == again
    assert first != other
    share = len(first) / 4000
    assert 0.19 < share < 0.27  # 1 - 0.95**5 = 0.226
    kinds = {e.kind for e in first}
    assert kinds == set(SocketFault)
    assert all(e.delay == 2.0 for e in first if e.kind is SocketFault.ACK_DELAYED)
    with pytest.raises(ValueError, match="probability"):
        SocketFaultRule(kind=SocketFault.ACK_LOST, probability=1.5)


def test_new_rules_start_new_dice_the_same_rules_keep_them() -> None:
    twin = Twin(TwinConfig(clock=ManualClock(), rate_limits=False))
    server = twin.app.uws
    rule = SocketFaultRule(kind=SocketFault.ACK_LOST)
    server.config = UwsConfig(socket_faults=(rule,), fault_seed=3)
    faults = server.socket_faults
    assert faults.rules == (rule,)
    assert faults.seed == 3
    server.config = UwsConfig(socket_faults=(rule,), fault_seed=3, heartbeat_interval=0.5)
    assert server.socket_faults is faults
    server.config = UwsConfig()
    assert server.socket_faults.rules == ()
