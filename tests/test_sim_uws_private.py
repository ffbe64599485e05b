"""The twin's private socket ``/v2/private`` through an independent client written here.

The token comes from the twin's ``/0/private/GetWebSocketsToken`` signed with a Spot signer
written from kraken-uws-api.md §3.3 (not the library's); frames are plain aiohttp JSON. The
twin runs on a ManualClock, served on a loopback port; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import re
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from kraken_futures_async import RateLimitPolicy
from kraken_futures_async.retry import RetryPolicy
from kraken_futures_async.simulator import ManualClock, RunningTwin, run_in_thread
from kraken_futures_async.simulator.engine import Exchange
from kraken_futures_async.simulator.uws import private_url
from tests.served_twins import uws_twin

SYMBOL = "PF_XBTUSD"
WAIT = 5.0
_NONCES = itertools.count(1_796_083_200_000)


def spot_sign(secret: str, path: str, nonce: str, body: str) -> str:
    """§3.3: base64(HMAC-SHA512(b64decode(secret), path + SHA-256(nonce + body)))."""
    inner = hashlib.sha256((nonce + body).encode()).digest()
    mac = hmac.new(base64.b64decode(secret), path.encode() + inner, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()


def test_signer_matches_the_worked_example() -> None:
    secret = (
        "LcYeJ2UOXXvWEfe990gJTg5Q79Po69ojLGU866mwLoruPuk3YUMtLHO3lScYojOtQynZmkKLvQ4xWltLj+hjTg=="
    )
    signature = spot_sign(
        secret, "/0/private/GetWebSocketsToken", "1796083200000", "nonce=1796083200000"
    )
    assert signature == (
        "zeeVs4POMmE8HY/JialERuWc5YHd8P61XiKvEBOqo1myj7NOvzufqBIlo1m1SAjUPgNAgiYXVyJq1aEgcbBNyg=="
    )


@pytest.fixture
def served() -> Iterator[RunningTwin]:
    with run_in_thread(uws_twin(), port=0) as running:
        yield running


def _mark(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"@@{value}@@"
    if isinstance(value, dict):
        return {k: _mark(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mark(v) for v in value]
    return value


def encode(message: dict[str, Any]) -> str:
    """JSON with Decimals as bare numbers (their own digits, never through float)."""
    return re.sub(r'"@@([-0-9.]+)@@"', r"\1", json.dumps(_mark(message)))


class Client:
    """A bare UWS private client: requests with req_ids, every frame kept in order."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, token: str) -> None:
        self.ws = ws
        self.token = token
        self.ids = itertools.count(1)
        self.frames: list[dict[str, Any]] = []
        self.used: set[int] = set()

    async def send(self, method: str, **params: Any) -> int:
        req_id = next(self.ids)
        params.setdefault("token", self.token)
        text = encode({"method": method, "params": params, "req_id": req_id})
        await self.ws.send_str(text)
        return req_id

    async def _read(self) -> dict[str, Any]:
        message = await self.ws.receive(timeout=WAIT)
        assert message.type == aiohttp.WSMsgType.TEXT, message
        frame: dict[str, Any] = json.loads(message.data, parse_float=Decimal)
        self.frames.append(frame)
        return frame

    async def wait_for(self, predicate: Any) -> dict[str, Any]:
        async with asyncio.timeout(WAIT):
            start = 0
            while True:  # every frame not matched yet, oldest first
                for index in range(start, len(self.frames)):
                    if index not in self.used and predicate(self.frames[index]):
                        self.used.add(index)
                        return self.frames[index]
                start = len(self.frames)
                await self._read()

    async def ack(self, req_id: int) -> dict[str, Any]:
        return await self.wait_for(lambda f: f.get("req_id") == req_id and "method" in f)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        return await self.ack(await self.send(method, **params))

    async def execution(self, exec_type: str, order_id: str | None = None) -> dict[str, Any]:
        def match(frame: dict[str, Any]) -> bool:
            if frame.get("channel") != "executions" or frame.get("type") != "update":
                return False
            item = frame["data"][0]
            return bool(
                item["exec_type"] == exec_type
                and (order_id is None or item["order_id"] == order_id)
            )

        try:
            frame = await self.wait_for(match)
        except TimeoutError:
            raise AssertionError(f"no {exec_type} in {self.frames}") from None
        item: dict[str, Any] = frame["data"][0]
        return item


async def fetch_token(session: aiohttp.ClientSession, running: RunningTwin) -> str:
    key = running.twin.kraken_key
    path = "/0/private/GetWebSocketsToken"
    nonce = str(next(_NONCES))
    body = f"nonce={nonce}"
    headers = {
        "API-Key": key.public_key,
        "API-Sign": spot_sign(key.secret, path, nonce, body),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    async with session.post(running.url + path, data=body, headers=headers) as response:
        answer = await response.json()
    assert answer["error"] == [], answer
    token: str = answer["result"]["token"]
    return token


@pytest.fixture
async def client(served: RunningTwin) -> AsyncIterator[Client]:
    async with aiohttp.ClientSession() as http:
        token = await fetch_token(http, served)
        async with http.ws_connect(private_url(served.url)) as ws:
            first = json.loads((await ws.receive(timeout=WAIT)).data)
            assert first["channel"] == "status"
            yield Client(ws, token)


def _below_market(running: RunningTwin) -> Decimal:
    exchange = running.twin.exchange
    assert isinstance(exchange, Exchange)
    return (exchange.mark_price(SYMBOL) * Decimal("0.8")).quantize(Decimal(1))


async def test_place_amend_cancel_seen_in_executions_and_over_rest(
    served: RunningTwin, client: Client
) -> None:
    ack = await client.call("subscribe", channel="executions", asset_class="derivatives")
    assert ack["success"] is True
    assert ack["result"]["channel"] == "executions"
    snapshot = await client.wait_for(lambda f: f.get("type") == "snapshot")
    assert snapshot["data"] == []
    assert snapshot["sequence"] == 1

    price = _below_market(served)
    order = {
        "asset_class": "derivatives",
        "symbol": SYMBOL,
        "side": "buy",
        "order_type": "limit",
        "order_qty": Decimal("0.01"),
        "limit_price": price,
        "post_only": True,
        "cl_ord_id": "c0ffee00-0000-4000-8000-000000000001",
    }
    dry = await client.call("add_order", **order, validate=True)
    assert dry["success"] is True
    assert dry["result"]["order_id"] == ""
    ack = await client.call("add_order", **order)
    assert ack["success"] is True, ack
    order_id = ack["result"]["order_id"]
    assert ack["result"]["cl_ord_id"] == order["cl_ord_id"]
    new = await client.execution("new", order_id)
    assert new["order_status"] == "new"
    assert new["post_only"] is True
    assert Decimal(new["limit_price"]) == price
    assert new["order_type"] == "limit"

    again = await client.call("add_order", **order)
    assert again["success"] is False
    assert again["error"] == "EOrder:Duplicate cl_ord_id"

    async with served.session(
        rate_limits=RateLimitPolicy.unlimited(), retry=RetryPolicy.never(), timeout=5.0
    ) as kf:
        open_orders = await kf.orders.open()
    assert [o.order_id for o in open_orders] == [order_id]  # validate placed nothing

    amended = await client.call(
        "amend_order",
        asset_class="derivatives",
        order_id=order_id,
        order_qty=Decimal("0.02"),
        limit_price=price - 1,
    )
    assert amended["success"] is True
    assert amended["result"]["amend_id"] == ""
    change = await client.execution("amended", order_id)
    assert Decimal(change["order_qty"]) == Decimal("0.02")
    assert Decimal(change["limit_price"]) == price - 1

    cancel = await client.call(
        "cancel_order", asset_class="derivatives", cl_ord_id=[order["cl_ord_id"]]
    )
    assert cancel["success"] is True
    gone = await client.execution("canceled", order_id)
    assert gone["order_status"] == "canceled"
    unknown = await client.call("cancel_order", asset_class="derivatives", order_id=[order_id])
    assert unknown["success"] is False
    assert unknown["error"] == "EOrder:Invalid order"


async def test_a_fill_shows_in_executions_positions_and_balances(
    served: RunningTwin, client: Client
) -> None:
    await client.call("subscribe", channel="executions", asset_class="derivatives")
    ack = await client.call("subscribe", channel="positions", asset_class="derivatives")
    assert ack["success"] is True
    positions = await client.wait_for(lambda f: f.get("channel") == "positions")
    assert positions["type"] == "snapshot"
    assert positions["data"] == {"futures": [], "options": []}
    twice = await client.call("subscribe", channel="positions", asset_class="derivatives")
    assert twice["error"] == "Already subscribed to positions channel"
    await client.call("subscribe", channel="balances")
    balances = await client.wait_for(
        lambda f: f.get("channel") == "balances" and f["type"] == "snapshot"
    )
    usd = next(row for row in balances["data"] if row["asset"] == "USD")
    assert Decimal(usd["balance"]) > 0

    ack = await client.call(
        "add_order",
        asset_class="derivatives",
        symbol=SYMBOL,
        side="buy",
        order_type="market",
        order_qty=Decimal("0.01"),
    )
    assert ack["success"] is True, ack
    order_id = ack["result"]["order_id"]
    trade = await client.execution("trade", order_id)
    assert Decimal(trade["last_qty"]) == Decimal("0.01")
    assert trade["fees"][0]["asset"] == "USD"
    assert trade["liquidity_ind"] == "t"
    filled = await client.execution("filled", order_id)
    assert filled["order_status"] == "filled"
    assert Decimal(filled["cum_qty"]) == Decimal("0.01")
    update = await client.wait_for(
        lambda f: f.get("channel") == "positions" and f["type"] == "update"
    )
    assert update["data"]["futures"][0]["symbol"] == SYMBOL
    assert Decimal(update["data"]["futures"][0]["size"]) == Decimal("0.01")
    change = await client.wait_for(
        lambda f: f.get("channel") == "balances" and f["type"] == "update"
    )
    assert change["data"][0]["asset"] == "USD"
    assert Decimal(change["data"][0]["amount"]) < 0

    await client.call(
        "add_order",
        asset_class="derivatives",
        symbol=SYMBOL,
        side="sell",
        order_type="market",
        order_qty=Decimal("0.01"),
        reduce_only=True,
    )
    flat = await client.wait_for(
        lambda f: (
            f.get("channel") == "positions"
            and f["type"] == "update"
            and Decimal(f["data"]["futures"][0]["size"]) == 0
        )
    )
    assert flat["data"]["futures"][0]["symbol"] == SYMBOL


async def test_cancel_all_batches_and_the_dead_mans_switch(
    served: RunningTwin, client: Client
) -> None:
    await client.call("subscribe", channel="executions", asset_class="derivatives")
    price = _below_market(served)
    items = [
        {
            "order_type": "limit",
            "side": "buy",
            "order_qty": Decimal("0.01"),
            "limit_price": price - i,
        }
        for i in range(3)
    ]
    batch = await client.call("batch_add", asset_class="derivatives", symbol=SYMBOL, orders=items)
    assert batch["success"] is True
    assert len(batch["result"]) == 3
    ids = [r["order_id"] for r in batch["result"]]
    for order_id in ids:
        await client.execution("new", order_id)
    cancelled = await client.call("batch_cancel", asset_class="derivatives", orders=ids[:2])
    assert cancelled["result"] == {"count": 2}
    everything = await client.call("cancel_all", asset_class="derivatives")
    assert everything["result"] == {"count": 1}
    too_few = await client.call(
        "batch_add", asset_class="derivatives", symbol=SYMBOL, orders=items[:1]
    )
    assert too_few["success"] is False
    assert too_few["error"] == "EGeneral:Invalid arguments:orders"

    ack = await client.call("add_order", asset_class="derivatives", symbol=SYMBOL, **items[0])
    order_id = ack["result"]["order_id"]
    armed = await client.call("cancel_all_orders_after", asset_class="derivatives", timeout=2)
    assert armed["success"] is True
    assert armed["result"]["triggerTime"] != "0"
    clock = served.twin.clock
    assert isinstance(clock, ManualClock)
    clock.advance(3)
    gone = await client.execution("canceled", order_id)
    assert gone["order_status"] == "canceled"


async def test_refusals(served: RunningTwin, client: Client) -> None:
    base = {
        "asset_class": "derivatives",
        "symbol": SYMBOL,
        "side": "buy",
        "order_type": "limit",
        "order_qty": Decimal("0.01"),
        "limit_price": _below_market(served),
    }
    cases = [
        ({**base, "symbol": "PF_NOPEUSD"}, "Currency pair not supported PF_NOPEUSD"),
        ({**base, "order_qty": "0.01"}, "EGeneral:Invalid arguments:order_qty"),
        ({**base, "order_type": "iceberg"}, "EGeneral:Invalid arguments:order_type"),
        ({**base, "order_userref": 7}, "Unsupported field: 'order_userref'"),
        ({**base, "asset_class": "spot"}, "EGeneral:Invalid arguments:asset_class"),
        ({**base, "order_qty": Decimal(10_000)}, "EOrder:Positions limit exceeded"),
        ({**base, "deadline": "2099-01-01T00:00:00Z"}, "EGeneral:Invalid arguments:deadline"),
        ({**base, "token": "nope"}, "EAPI:Invalid token"),
    ]
    for params, error in cases:
        ack = await client.call("add_order", **params)
        assert ack["success"] is False, (params, ack)
        assert ack["error"] == error, (params, ack)
        assert "result" not in ack
        assert isinstance(ack["time_in"], str)


async def test_faults_dropped_ack_invalid_token_and_abort(
    served: RunningTwin, client: Client
) -> None:
    server = served.twin.app.uws
    await client.call("subscribe", channel="executions", asset_class="derivatives")
    server.drop_next_acks()
    req_id = await client.send(
        "add_order",
        asset_class="derivatives",
        symbol=SYMBOL,
        side="buy",
        order_type="limit",
        order_qty=Decimal("0.01"),
        limit_price=_below_market(served),
        cl_ord_id="lost-ack",
    )
    new = await client.execution("new")  # applied: the order is there, its ack never came
    assert new["cl_ord_id"] == "lost-ack"
    assert not any(f.get("req_id") == req_id for f in client.frames)

    server.reject_next_tokens()
    refused = await client.call("cancel_all", asset_class="derivatives")
    assert refused["error"] == "EAPI:Invalid token"
    ok = await client.call("cancel_all", asset_class="derivatives")
    assert ok["result"] == {"count": 1}

    server.abort_private()
    async with asyncio.timeout(WAIT):
        while True:
            message = await client.ws.receive()
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                break
    assert client.ws.close_code == 1006
