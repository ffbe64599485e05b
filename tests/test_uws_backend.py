"""The UWS backend against a fake private socket written here (aiohttp on loopback).

The fake speaks kraken-uws-api.md §2 and §5-6: acks with ``success``/``error``, the
``executions``/``positions``/``balances`` channels, and faults a test switches on (an ack
lost after the order was placed, a socket closed after a request, a token refused once, an
ack that never comes). Tokens come from a real :class:`TokenProvider` over an httpx
MockTransport, so the token path is the library's own.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import logging
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any, cast

import httpx
import pytest
from aiohttp import WSMsgType, web

from kraken_futures_async import Session
from kraken_futures_async.auth import KrakenKey
from kraken_futures_async.errors import (
    OrderRejectedError,
    RequestTimeoutError,
    UnsupportedOperationError,
)
from kraken_futures_async.models import OrderRequestStatus
from kraken_futures_async.operations import (
    OPERATIONS,
    BatchRequest,
    BatchSend,
    CancelOrder,
    SendOrder,
)
from kraken_futures_async.operations import catalog as ops
from kraken_futures_async.retry import OrderSafety
from kraken_futures_async.uws import TokenProvider, UwsSettings
from kraken_futures_async.uws.backend import UwsBackend, private_url
from kraken_futures_async.uws.routes import SUPPORTED, encode_message

SECRET = base64.b64encode(b"uws-backend-test-secret").decode()


def now_text() -> str:
    return dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")


class FakePrivateUws:
    """A tiny private socket: orders, executions, positions, balances, faults."""

    def __init__(self) -> None:
        self.orders: dict[str, dict[str, Any]] = {}
        self.valid_tokens: set[str] = set()
        self.requests: list[dict[str, Any]] = []
        self.sockets: list[web.WebSocketResponse] = []
        self.executions_subscribers: list[web.WebSocketResponse] = []
        #: Faults: method -> what to do with its next request.
        self.faults: dict[str, str] = {}
        self.refuse: dict[str, str] = {}
        self.dms: int | None = None
        self.runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/v2/private", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def stop(self) -> None:
        for ws in list(self.sockets):
            await ws.close()
        if self.runner is not None:
            await self.runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def methods(self, name: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r.get("method") == name]

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json({"channel": "status", "type": "update", "data": [{"system": "online"}]})
        async for message in ws:
            if message.type is not WSMsgType.TEXT:
                break
            await self.answer(ws, json.loads(message.data, parse_float=Decimal))
        if ws in self.executions_subscribers:
            self.executions_subscribers.remove(ws)
        self.sockets.remove(ws)
        return ws

    async def ack(self, ws: web.WebSocketResponse, req: dict[str, Any], **fields: Any) -> None:
        body = {"method": req["method"], "req_id": req.get("req_id"), **fields}
        body.update(time_in=now_text(), time_out=now_text())
        await ws.send_str(encode_message_any(body))

    async def push_executions(self, kind: str, data: list[dict[str, Any]]) -> None:
        for ws in list(self.executions_subscribers):
            await ws.send_str(
                encode_message_any({"channel": "executions", "type": kind, "data": data})
            )

    async def answer(self, ws: web.WebSocketResponse, req: dict[str, Any]) -> None:
        method = req.get("method")
        params = req.get("params") or {}
        if method == "ping":
            await ws.send_json({"method": "pong", "req_id": req.get("req_id")})
            return
        self.requests.append(req)
        if params.get("token") not in self.valid_tokens:
            await self.ack(ws, req, success=False, error="EAPI:Invalid token")
            return
        fault = self.faults.pop(str(method), None)
        if fault == "silent":
            return  # no ack, nothing done
        if method == "subscribe":
            await self.subscribe(ws, req, params)
            return
        if str(method) in self.refuse:
            await self.ack(ws, req, success=False, error=self.refuse.pop(str(method)))
            return
        result = await self.trade(str(method), params)
        if fault == "lose_ack":
            return  # applied, ack lost
        if fault == "close_after":
            await ws.close()
            return
        if isinstance(result, str):
            await self.ack(ws, req, success=False, error=result)
        else:
            await self.ack(ws, req, success=True, result=result)

    async def subscribe(
        self, ws: web.WebSocketResponse, req: dict[str, Any], params: dict[str, Any]
    ) -> None:
        channel = params.get("channel")
        if channel == "margin":  # a server without the margin channel: accounts from balances
            await self.ack(ws, req, success=False, error="Channel margin not supported")
            return
        await self.ack(ws, req, success=True, result={"channel": channel})
        if channel == "executions":
            self.executions_subscribers.append(ws)
            data = [
                dict(o, exec_type="new") for o in self.orders.values() if o["order_status"] == "new"
            ]
            await ws.send_str(
                encode_message_any({"channel": "executions", "type": "snapshot", "data": data})
            )
        elif channel == "positions":
            await ws.send_str(
                encode_message_any(
                    {
                        "channel": "positions",
                        "type": "snapshot",
                        "data": {
                            "futures": [
                                {
                                    "symbol": "PF_XBTUSD",
                                    "size": Decimal("-0.5"),
                                    "entry_price": Decimal("96000.5"),
                                }
                            ],
                            "options": [],
                        },
                    }
                )
            )
        elif channel == "balances":
            await ws.send_str(
                encode_message_any(
                    {
                        "channel": "balances",
                        "type": "snapshot",
                        "data": [{"asset": "USD", "balance": Decimal("25000.00")}],
                    }
                )
            )

    def place(self, params: dict[str, Any], symbol: str) -> dict[str, Any] | str:
        cl = params.get("cl_ord_id")
        if cl and any(
            o.get("cl_ord_id") == cl and o["order_status"] == "new" for o in self.orders.values()
        ):
            return "EOrder:Duplicate cl_ord_id"
        order = {
            "order_id": str(uuid.uuid4()),
            "cl_ord_id": cl,
            "symbol": symbol,
            "side": params["side"],
            "order_type": params["order_type"],
            "order_qty": params["order_qty"],
            "limit_price": params.get("limit_price"),
            "reduce_only": params.get("reduce_only", False),
            "order_status": "new",
            "cum_qty": 0,
            "timestamp": now_text(),
        }
        if "triggers" in params:
            order["triggers"] = params["triggers"]
        self.orders[order["order_id"]] = order
        return order

    def find(self, order_id: Any, cl_ord_id: Any) -> dict[str, Any] | None:
        for order in self.orders.values():
            if order["order_status"] == "new" and (
                order["order_id"] == order_id or (cl_ord_id and order["cl_ord_id"] == cl_ord_id)
            ):
                return order
        return None

    async def trade(self, method: str, params: dict[str, Any]) -> Any:
        if method == "add_order":
            placed = self.place(params, params["symbol"])
            if isinstance(placed, str):
                return placed
            await self.push_executions("update", [dict(placed, exec_type="new")])
            return {"order_id": placed["order_id"], "cl_ord_id": placed["cl_ord_id"]}
        if method == "batch_add":
            out = []
            for item in params["orders"]:
                placed = self.place(item, params["symbol"])
                assert not isinstance(placed, str)
                await self.push_executions("update", [dict(placed, exec_type="new")])
                out.append({"order_id": placed["order_id"], "cl_ord_id": placed["cl_ord_id"]})
            return out
        if method == "amend_order":
            order = self.find(params.get("order_id"), params.get("cl_ord_id"))
            if order is None:
                return "EOrder:Invalid order"
            for key in ("order_qty", "limit_price"):
                if key in params:
                    order[key] = params[key]
            await self.push_executions("update", [dict(order, exec_type="amended")])
            return {"amend_id": "", "cl_ord_id": order["cl_ord_id"]}
        if method in ("cancel_order", "batch_cancel"):
            ids = params.get("order_id") or params.get("orders") or []
            cls = params.get("cl_ord_id") or []
            found = [self.find(i, None) for i in ids] + [self.find(None, c) for c in cls]
            if any(o is None for o in found):
                return "EOrder:Invalid order"
            for order in found:
                assert order is not None
                order["order_status"] = "canceled"
                await self.push_executions("update", [dict(order, exec_type="canceled")])
            if method == "batch_cancel":
                return {"count": len(found)}
            first = found[0] if found else None
            return {"order_id": first["order_id"] if first else None}
        if method == "cancel_all":
            open_ = [o for o in self.orders.values() if o["order_status"] == "new"]
            for order in open_:
                order["order_status"] = "canceled"
                await self.push_executions("update", [dict(order, exec_type="canceled")])
            return {"count": len(open_)}
        if method == "cancel_all_orders_after":
            self.dms = params["timeout"]
            now = dt.datetime.now(dt.UTC).replace(microsecond=0)
            trigger = now + dt.timedelta(seconds=params["timeout"])
            return {
                "currentTime": now.isoformat().replace("+00:00", "Z"),
                "triggerTime": trigger.isoformat().replace("+00:00", "Z"),
            }
        return "EGeneral:Invalid arguments"


def encode_message_any(body: dict[str, Any]) -> str:
    """JSON with Decimals as bare numbers (the library's own encoder, unwrapped)."""
    text = encode_message("x", body, 0)
    return text[len('{"method":"x","params":') : -len(',"req_id":0}')]


class Tokens:
    """The token endpoint: a new token per fetch, registered with the fake socket."""

    def __init__(self, server: FakePrivateUws) -> None:
        self.server = server
        self.issued: list[str] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        token = f"tok-{uuid.uuid4().hex}"
        self.issued.append(token)
        self.server.valid_tokens.add(token)
        return httpx.Response(200, json={"error": [], "result": {"token": token, "expires": 900}})


@pytest.fixture
async def server() -> AsyncIterator[FakePrivateUws]:
    fake = FakePrivateUws()
    await fake.start()
    yield fake
    await fake.stop()


def make_session(
    server: FakePrivateUws, tokens: Tokens, *, deadline: float = 5.0, patience: float = 8.0
) -> Session:
    provider = TokenProvider(
        KrakenKey("kraken-test-key", SECRET),
        url="http://127.0.0.1:1",
        transport=httpx.MockTransport(tokens.handler),
    )
    backend = UwsBackend(
        token_provider=provider,
        url=server.url,
        # the fake server sends no heartbeat: a loaded machine's silence must not look like a
        # dead link (these tests drop the socket themselves where they mean to)
        settings=UwsSettings(
            ack_timeout=2.0,
            connect_timeout=2.0,
            backoff_initial=0.05,
            backoff_max=0.2,
            heartbeat_timeout=60.0,
        ),
        deadline=deadline,
    )
    safety = OrderSafety(process_before=1.0, patience=patience, poll_interval=0.1)
    return Session(backend=backend, check_orders=False, order_safety=safety)


def test_private_url() -> None:
    assert private_url() == "wss://uws.kraken.com/v2/private"
    assert private_url("http://127.0.0.1:8080") == "ws://127.0.0.1:8080/v2/private"
    assert private_url("wss://uws.kraken.com/v2/public") == "wss://uws.kraken.com/v2/private"


async def test_trading_round_trip(server: FakePrivateUws) -> None:
    tokens = Tokens(server)
    async with make_session(server, tokens) as kf:
        placed = await kf.orders.send(
            symbol="PF_XBTUSD",
            side="buy",
            size="0.0125",
            limit_price="96000.5",
            order_type="post",
            reduce_only=False,
        )
        assert placed.status is OrderRequestStatus.PLACED
        assert placed.order_id in server.orders
        sent = server.methods("add_order")[-1]["params"]
        assert sent["order_type"] == "limit"
        assert sent["post_only"] is True
        assert sent["order_qty"] == Decimal("0.0125")
        assert sent["asset_class"] == "derivatives"
        assert sent["cl_ord_id"] == placed.cli_ord_id
        assert "deadline" in sent  # the library's own processBefore, stamped

        stop = await kf.orders.send(
            symbol="PF_XBTUSD",
            side="sell",
            size=1,
            order_type="stp",
            stop_price=90000,
            trigger_signal="index",
            reduce_only=True,
        )
        stop_params = server.methods("add_order")[-1]["params"]
        assert stop_params["order_type"] == "stop-loss"
        assert stop_params["triggers"] == {
            "price": 90000,
            "price_type": "static",
            "reference": "index",
        }
        edited = await kf.orders.edit(order_id=placed.order_id, limit_price="95000")
        assert edited.status is OrderRequestStatus.EDITED
        assert server.orders[placed.order_id]["limit_price"] == Decimal("95000")

        await asyncio.sleep(0.05)  # the executions pushes
        open_orders = await kf.orders.open()
        assert {o.order_id for o in open_orders} == {placed.order_id, stop.order_id}
        mine = next(o for o in open_orders if o.order_id == placed.order_id)
        assert mine.limit_price == Decimal("95000")
        assert mine.order_type == "lmt"

        cancelled = await kf.orders.cancel(order_id=stop.order_id)
        assert cancelled.status is OrderRequestStatus.CANCELLED

        switch = await kf.orders.cancel_all_after(60)
        assert switch.trigger_time is not None
        assert server.dms == 60

        everything = await kf.orders.cancel_all()
        assert everything.status is OrderRequestStatus.CANCELLED
        assert [c.order_id for c in everything.cancelled_orders] == [placed.order_id]

        positions = await kf.account.open_positions()
        assert positions[0].size == Decimal("0.5")
        assert positions[0].side.value == "short"
        accounts = await kf.account.accounts()
        assert accounts.cash is not None
        assert accounts.cash.balances["usd"] == Decimal("25000.00")
    assert len(tokens.issued) == 1


async def test_batch_splits_per_symbol(server: FakePrivateUws) -> None:
    async with make_session(server, Tokens(server)) as kf:
        first = await kf.orders.send(symbol="PF_ETHUSD", side="buy", size=1, limit_price=3000)
        sends = [
            BatchSend(
                tag=f"t{i}",
                order=SendOrder(symbol="PF_XBTUSD", side="buy", size=1, limit_price=90000 + i),
            )
            for i in range(3)
        ]
        lone = BatchSend(
            tag="eth", order=SendOrder(symbol="PF_ETHUSD", side="sell", size=2, limit_price=3100)
        )
        request = BatchRequest([*sends, lone, CancelOrder(order_id=first.order_id)])
        results = await kf.execute(ops.BATCH_ORDER, request)
        assert [r.order_tag for r in results[:4]] == ["t0", "t1", "t2", "eth"]
        assert all(r.status is OrderRequestStatus.PLACED for r in results[:4])
        assert results[4].status is OrderRequestStatus.CANCELLED
        assert len(server.methods("batch_add")) == 1
        assert server.methods("batch_add")[0]["params"]["symbol"] == "PF_XBTUSD"
        assert len(server.methods("add_order")) == 2  # the first order, and the lone ETH one


async def test_refusal_is_verbatim(server: FakePrivateUws) -> None:
    async with make_session(server, Tokens(server)) as kf:
        server.refuse["add_order"] = "EOrder:Insufficient funds"
        with pytest.raises(OrderRejectedError) as caught:
            await kf.orders.send(symbol="PF_XBTUSD", side="buy", size=1, limit_price=1)
        assert "EOrder:Insufficient funds" in str(caught.value)
        assert caught.value.status == "insufficientAvailableFunds"
        server.refuse["add_order"] = "EOrder:Something new"
        with pytest.raises(OrderRejectedError) as unknown:
            await kf.orders.send(symbol="PF_XBTUSD", side="buy", size=1, limit_price=1)
        assert unknown.value.status == "EOrder:Something new"
        with pytest.raises(OrderRejectedError) as missing:
            await kf.orders.cancel(order_id="no-such-order")
        assert missing.value.status == "notFound"
        assert "EOrder:Invalid order" in str(missing.value)


async def test_lost_ack_is_reconciled_without_duplicate(server: FakePrivateUws) -> None:
    async with make_session(server, Tokens(server), deadline=0.5) as kf:
        await kf.orders.open()  # the executions stream is live
        server.faults["add_order"] = "lose_ack"
        placed = await kf.orders.send(symbol="PF_XBTUSD", side="buy", size=1, limit_price=9)
        assert placed.status is OrderRequestStatus.PLACED
        assert len(server.orders) == 1
        assert placed.order_id in server.orders
        assert len(server.methods("add_order")) == 1


async def test_socket_closed_after_send_is_reconciled(server: FakePrivateUws) -> None:
    async with make_session(server, Tokens(server), deadline=2.0) as kf:
        await kf.orders.open()
        server.faults["add_order"] = "close_after"
        placed = await kf.orders.send(symbol="PF_XBTUSD", side="buy", size=1, limit_price=9)
        assert placed.status is OrderRequestStatus.PLACED
        assert len(server.orders) == 1
        assert len(server.methods("add_order")) == 1


async def test_lost_order_never_placed_is_sent_again_after_its_deadline(
    server: FakePrivateUws,
) -> None:
    async with make_session(server, Tokens(server), deadline=0.5) as kf:
        await kf.orders.open()
        server.faults["add_order"] = "silent"  # never reached the book
        placed = await kf.orders.send(symbol="PF_XBTUSD", side="buy", size=1, limit_price=9)
        assert placed.status is OrderRequestStatus.PLACED
        assert len(server.orders) == 1
        assert len(server.methods("add_order")) == 2


async def test_missing_ack_hits_the_deadline(server: FakePrivateUws) -> None:
    async with make_session(server, Tokens(server), deadline=0.3) as kf:
        await kf.orders.open()
        server.faults["cancel_all_orders_after"] = "silent"
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(RequestTimeoutError) as caught:
            await kf.orders.cancel_all_after(30)
        assert caught.value.sent
        assert loop.time() - started < 1.5


async def test_unsupported_operations_send_nothing(server: FakePrivateUws) -> None:
    async with make_session(server, Tokens(server)) as kf:
        with pytest.raises(UnsupportedOperationError):
            await kf.history.executions()
        with pytest.raises(UnsupportedOperationError):
            await kf.market.trades("PF_XBTUSD")
        assert server.requests == []
        assert server.sockets == []
        backend = kf.backend
        assert isinstance(backend, UwsBackend)
        assert "kf.stream.executions()" in backend.why_unsupported(ops.HISTORY_EXECUTIONS)
        assert "kf.stream.trades(symbol)" in backend.why_unsupported(ops.TRADES)
        # market reads come from the public channels (tests/test_uws_market_reads.py)
        assert backend.supports(ops.ORDERBOOK)
        assert backend.supports(ops.TICKERS)
        assert backend.supports(ops.FILLS)
        assert "orders.open()" in backend.why_unsupported(ops.ORDER_STATUS)


UNSERVED = sorted(set(OPERATIONS) - SUPPORTED)


@pytest.mark.parametrize("name", UNSERVED)
async def test_every_unserved_operation_says_what_to_use_and_sends_nothing(
    server: FakePrivateUws, name: str
) -> None:
    async with make_session(server, Tokens(server)) as kf:
        with pytest.raises(UnsupportedOperationError) as caught:
            await kf.backend.execute(OPERATIONS[name], cast(Any, None))
        assert server.requests == []
        assert server.sockets == []
    message = str(caught.value)
    assert message.startswith(f"{name}: {name} is not available over the uws backend: ")
    assert "use " in message or "raises" in message
    assert "not served" not in message
    assert "yet" not in message


async def test_invalid_token_is_refreshed_and_resent_once(
    server: FakePrivateUws, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tokens = Tokens(server)
    async with make_session(server, tokens) as kf:
        await kf.orders.open()
        server.valid_tokens.clear()  # the socket's token is no longer good
        placed = await kf.orders.send(symbol="PF_XBTUSD", side="buy", size=1, limit_price=9)
        assert placed.status is OrderRequestStatus.PLACED
        assert len(tokens.issued) == 2
        assert len(server.methods("add_order")) == 2
        assert server.methods("add_order")[-1]["params"]["token"] == tokens.issued[-1]
        shown = repr(kf.backend) + repr(kf) + repr(placed)
    for token in tokens.issued:
        assert token not in caplog.text
        assert token not in shown


async def test_reconnect_fetches_a_fresh_token(server: FakePrivateUws) -> None:
    tokens = Tokens(server)
    async with make_session(server, tokens) as kf:
        await kf.orders.open()
        for ws in list(server.sockets):
            await ws.close()
        for _ in range(100):
            await asyncio.sleep(0.05)
            if len(server.executions_subscribers) == 1 and len(tokens.issued) == 2:
                break
        assert len(tokens.issued) == 2
        placed = await kf.orders.send(symbol="PF_XBTUSD", side="buy", size=1, limit_price=9)
        assert server.methods("add_order")[-1]["params"]["token"] == tokens.issued[-1]
        assert placed.status is OrderRequestStatus.PLACED


async def test_invalid_token_error_hides_the_token(server: FakePrivateUws) -> None:
    tokens = Tokens(server)
    async with make_session(server, tokens) as kf:
        await kf.orders.open()
        server.refuse["add_order"] = "EOrder:Insufficient funds"
        with pytest.raises(OrderRejectedError) as caught:
            await kf.orders.send(symbol="PF_XBTUSD", side="buy", size=1, limit_price=9)
        for token in tokens.issued:
            assert token not in str(caught.value)
            assert token not in repr(caught.value.result)
