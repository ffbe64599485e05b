"""The twin where other clients trading against it saw it differ from Kraken (issue 15, item 2).

Arguments are checked before the key; the public order listing holds the simulated market's
own orders; an order's history shows what is left of it (``"0"`` after a full fill) with
``algoId`` and ``origin``; a websocket upgrade on ``/ws/v1`` answers a clean 404 that says
Kraken retires that path with REST.
"""

from __future__ import annotations

import base64
import contextlib
import socket
from decimal import Decimal
from typing import Any

import httpx
import pytest

from kraken_futures_async import RateLimitPolicy
from kraken_futures_async.rest.endpoints import ENDPOINTS, endpoint
from kraken_futures_async.simulator import ManualClock, Twin, TwinConfig
from kraken_futures_async.simulator.rest.app import RETIRED_WS_PATH
from kraken_futures_async.simulator.rest.arguments import REQUIRED_ARGUMENTS
from kraken_futures_async.simulator.twin import run_in_thread
from tests import openapi_spec

from .test_sim_http_fake import signed_headers

XBT = "PF_XBTUSD"
WRONG_KEY = {"APIKey": "no-such-key", "Authent": "AAAA", "Nonce": "1"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def twin() -> Twin:
    return Twin(TwinConfig(seed=15, clock=ManualClock(), rate_limits=False))


def _client(twin: Twin) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=twin.transport(), base_url="http://127.0.0.1")


# --- arguments before the key ---------------------------------------------------------------


async def test_sendorder_with_no_arguments_and_a_wrong_key_misses_arguments(twin: Twin) -> None:
    async with _client(twin) as client:
        path = endpoint("send_order").path
        response = await client.post(path, content=b"", headers=WRONG_KEY | FORM)
    assert response.status_code == 200
    assert response.json()["error"] == "requiredArgumentMissing"


@pytest.mark.parametrize("name", sorted(REQUIRED_ARGUMENTS))
async def test_every_private_post_checks_its_arguments_before_the_key(
    twin: Twin, name: str
) -> None:
    row = endpoint(name)
    path = row.url_path({key: "00000000-0000-4000-8000-000000000001" for key in ("rfqUid",)})
    full = "&".join(f"{arg}=1" for arg in REQUIRED_ARGUMENTS[name])
    lacking = "&".join(f"{arg}=1" for arg in REQUIRED_ARGUMENTS[name][1:])
    async with _client(twin) as client:
        missing = await client.post(path, content=lacking, headers=WRONG_KEY | FORM)
        complete = await client.post(path, content=full, headers=WRONG_KEY | FORM)
    assert missing.json()["error"] == "requiredArgumentMissing"
    # with every argument there, the wrong key is what is refused
    assert complete.json()["error"] == "authenticationError"


def test_the_required_arguments_are_those_of_krakens_spec() -> None:
    """Every private POST of the table: the spec's required non-path arguments, no others."""
    expected: dict[str, tuple[str, ...]] = {}
    for row in ENDPOINTS:
        if not row.private or row.method != "POST":
            continue
        spec = openapi_spec.operation(row.operation_id)
        names = [p.name for p in spec.parameters if p.required and p.location != "path"]
        with contextlib.suppress(KeyError):  # no request body
            names += openapi_spec.request_schema(row.operation_id).get("required", [])
        if names:
            expected[row.name] = tuple(names)
    assert {name: set(args) for name, args in REQUIRED_ARGUMENTS.items()} == {
        name: set(args) for name, args in expected.items()
    }


# --- the public order listing -------------------------------------------------------------


async def test_a_fresh_twin_lists_the_markets_own_orders(twin: Twin) -> None:
    path = f"/api/history/v3/market/{XBT}/orders"
    async with _client(twin) as client:
        newest = (await client.get(path, params={"count": 40})).json()
        oldest = (await client.get(path, params={"count": 40, "sort": "asc"})).json()
        token = newest["continuationToken"]
        following = await client.get(path, params={"count": 40, "continuation_token": token})
    assert newest["len"] == 40
    assert oldest["len"] == 40
    events = [element["event"] for element in newest["elements"]]
    placed = [event["OrderPlaced"] for event in events if "OrderPlaced" in event]
    filled = [event["OrderUpdated"] for event in events if "OrderUpdated" in event]
    assert placed
    assert filled
    assert {body["reason"] for body in placed} == {"new_placed_order_by_user"}
    assert {body["reason"] for body in filled} == {"full_fill"}
    assert {body["newOrder"]["quantity"] for body in filled} == {"0"}
    assert all(Decimal(body["oldOrder"]["quantity"]) > 0 for body in filled)
    # every filled order was placed, and each is one side of a listed execution
    placed_ids = {body["order"]["uid"] for body in placed}
    assert {body["newOrder"]["uid"] for body in filled} <= placed_ids | _older_uids(following)
    executions = await _executions(twin, newest["elements"][-1]["timestamp"])
    traded = {
        execution["event"]["Execution"]["execution"][side]["uid"]
        for execution in executions
        for side in ("makerOrder", "takerOrder")
    }
    assert placed_ids <= traded
    # paging does not repeat or skip an element
    seen = [element["uid"] for element in newest["elements"]]
    seen += [element["uid"] for element in following.json()["elements"]]
    assert len(seen) == len(set(seen))
    stamps = [element["timestamp"] for element in newest["elements"]]
    assert stamps == sorted(stamps, reverse=True)


def _older_uids(response: httpx.Response) -> set[str]:
    return {
        body["order"]["uid"]
        for element in response.json()["elements"]
        for name, body in element["event"].items()
        if name == "OrderPlaced"
    }


async def _executions(twin: Twin, since: int) -> list[dict[str, Any]]:
    path = f"/api/history/v3/market/{XBT}/executions"
    async with _client(twin) as client:
        answer = await client.get(path, params={"since": since, "count": 1000})
    elements: list[dict[str, Any]] = answer.json()["elements"]
    return elements


async def test_a_users_order_is_listed_among_the_markets(twin: Twin) -> None:
    session = twin.session(rate_limits=RateLimitPolicy.unlimited())
    async with session as kf:
        sent = await kf.orders.send(symbol=XBT, side="buy", size="0.01", order_type="mkt")
    path = f"/api/history/v3/market/{XBT}/orders"
    async with _client(twin) as client:
        answer = (await client.get(path, params={"count": 100})).json()
    uids = {
        order["uid"]
        for element in answer["elements"]
        for body in element["event"].values()
        for key, order in body.items()
        if key in ("order", "newOrder")
    }
    assert sent.order_id in uids


# --- the order as the history shows it --------------------------------------------------------


async def test_a_full_fill_shows_nothing_left_with_algo_id_and_origin(twin: Twin) -> None:
    session = twin.session(rate_limits=RateLimitPolicy.unlimited())
    async with session as kf:
        sent = await kf.orders.send(symbol=XBT, side="buy", size="0.01", order_type="mkt")
    events = [element["event"] for element in await _account_orders(twin)]
    (placed,) = (event["OrderPlaced"] for event in events if "OrderPlaced" in event)
    (updated,) = (event["OrderUpdated"] for event in events if "OrderUpdated" in event)
    assert placed["order"]["uid"] == sent.order_id
    assert (placed["order"]["quantity"], placed["order"]["filled"]) == ("0.01", "0")
    assert updated["reason"] == "full_fill"
    assert (updated["oldOrder"]["quantity"], updated["oldOrder"]["filled"]) == ("0.01", "0")
    assert (updated["newOrder"]["quantity"], updated["newOrder"]["filled"]) == ("0", "0.01")
    assert updated["reducedQuantity"] == ""
    assert placed["reducedQuantity"] == ""
    for order in (placed["order"], updated["oldOrder"], updated["newOrder"]):
        assert order["algoId"] is None
        assert order["origin"] == "API"


async def test_a_partial_fill_shows_what_is_left(twin: Twin) -> None:
    session = twin.session(rate_limits=RateLimitPolicy.unlimited())
    async with session as kf:
        book = await kf.market.orderbook(XBT)
        assert book.best_ask is not None
        ask = book.best_ask
        size = ask.size + Decimal("0.5")
        await kf.orders.send(symbol=XBT, side="buy", size=size, limit_price=ask.price)
    updates = [
        element["event"]["OrderUpdated"]
        for element in await _account_orders(twin)
        if "OrderUpdated" in element["event"]
    ]
    assert updates[0]["reason"] == "partial_fill"
    order = updates[0]["newOrder"]
    assert Decimal(order["quantity"]) + Decimal(order["filled"]) == size
    assert Decimal(order["quantity"]) > 0


async def _account_orders(twin: Twin) -> list[dict[str, Any]]:
    """The account's order events as sent, oldest first (the raw JSON, every key in it)."""
    path, query = "/api/history/v3/orders", "sort=asc"
    async with _client(twin) as client:
        headers = signed_headers(twin.key, path, query=query)
        answer = await client.get(f"{path}?{query}", headers=headers)
    elements: list[dict[str, Any]] = answer.json()["elements"]
    return elements


# --- the retired websocket path ----------------------------------------------------------------


async def test_ws_v1_is_refused_with_a_404_that_says_why(twin: Twin) -> None:
    """At the ASGI level: the denial response where the server offers it."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: Any) -> None:
        sent.append(dict(message))

    scope = {
        "type": "websocket",
        "path": RETIRED_WS_PATH,
        "headers": [],
        "extensions": {"websocket.http.response": {}},
    }
    await twin.app(scope, receive, send)
    assert sent[0]["type"] == "websocket.http.response.start"
    assert sent[0]["status"] == 404
    text = sent[1]["body"].decode()
    assert "retires" in text
    assert "REST" in text
    assert "/v2/public" in text


def test_a_served_twin_answers_a_websocket_upgrade_on_ws_v1_with_404() -> None:
    with run_in_thread(Twin(TwinConfig(seed=15))) as running:
        host, port = running.url.removeprefix("http://").split(":")
        key = base64.b64encode(b"sixteen byte key").decode()
        request = (
            f"GET {RETIRED_WS_PATH} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        with socket.create_connection((host, int(port)), timeout=5) as conn:
            conn.sendall(request.encode())
            answer = b""
            while chunk := conn.recv(4096):  # the server closes after its answer
                answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 404")
    assert b"retires the Futures WebSocket v1" in body
