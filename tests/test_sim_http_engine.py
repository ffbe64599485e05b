"""The HTTP layer around the real engine: the library trades against the whole twin."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
from decimal import Decimal
from urllib.parse import urlencode

import httpx
import pytest

from kraken_futures_async import (
    AuthenticationError,
    Credentials,
    InvalidRequestError,
    RateLimitError,
    RateLimitPolicy,
    Session,
)
from kraken_futures_async.resources.orders import BatchOrder
from kraken_futures_async.retry import RetryPolicy
from kraken_futures_async.simulator import ManualClock, Permissions, Twin, TwinConfig
from kraken_futures_async.simulator.engine import Exchange
from tests.test_sim_http_fake import raw_client, signed_headers

D = "/derivatives/api/v3"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def make_twin(seed: int = 0) -> tuple[Twin, ManualClock]:
    clock = ManualClock()
    return Twin(TwinConfig(seed=seed, clock=clock)), clock


def quiet(twin: Twin) -> Session:
    return twin.session(rate_limits=RateLimitPolicy.unlimited(), retry=RetryPolicy.never())


def test_the_default_twin_runs_the_engine() -> None:
    twin, _ = make_twin()
    assert isinstance(twin.exchange, Exchange)


async def test_market_data_through_the_library() -> None:
    twin, _ = make_twin()
    async with quiet(twin) as kf:
        tickers = await kf.market.tickers()
        instruments = await kf.market.instruments()
        book = await kf.market.orderbook("PF_XBTUSD")
        ticker = await kf.market.ticker("PF_XBTUSD")
    assert "PF_XBTUSD" in {t.symbol for t in tickers}
    assert "PF_XBTUSD" in {i.symbol for i in instruments}
    assert book.bids[0].price < book.asks[0].price
    assert ticker.symbol == "PF_XBTUSD"


async def test_an_order_round_trip_through_the_library() -> None:
    twin, clock = make_twin()
    async with quiet(twin) as kf:
        book = await kf.market.orderbook("PF_XBTUSD")
        resting_price = book.bids[-1].price
        placed = await kf.orders.send(
            symbol="PF_XBTUSD",
            side="buy",
            size=Decimal("0.01"),
            limit_price=resting_price,
            cli_ord_id="round-trip-1",
        )
        assert placed.order_id is not None
        open_orders = await kf.orders.open()
        statuses = await kf.orders.status(cli_ord_ids=["round-trip-1"])
        clock.advance(1)
        cancelled = await kf.orders.cancel(order_id=placed.order_id)
        after = await kf.orders.open()
    assert [o.order_id for o in open_orders] == [placed.order_id]
    assert statuses[0].order.order_id == placed.order_id
    assert cancelled.status.value == "cancelled"
    assert after == []


async def test_a_batch_through_the_library_and_raw_json() -> None:
    twin, _ = make_twin()
    async with quiet(twin) as kf:
        book = await kf.market.orderbook("PF_XBTUSD")
        batch = BatchOrder()
        batch.send(
            symbol="PF_XBTUSD",
            side="buy",
            size=Decimal("0.01"),
            limit_price=book.bids[-1].price,
            cli_ord_id="batch-lib",
        )
        results = await kf.orders.batch(batch)
    assert [r.status.value for r in results] == ["placed"]
    # the same kind of batch sent raw (ccxt's way), signed over the raw bytes
    text = json.dumps(
        {
            "batchOrder": [
                {
                    "order": "send",
                    "order_tag": "1",
                    "orderType": "lmt",
                    "symbol": "PF_XBTUSD",
                    "side": "buy",
                    "size": 0.01,
                    "limitPrice": int(book.bids[-1].price),
                    "cliOrdId": "batch-raw",
                }
            ]
        },
        separators=(",", ":"),
    )
    path = f"{D}/batchorder"
    async with raw_client(twin) as client:
        for body in (f"json={text}", urlencode({"json": text.replace("raw", "enc")})):
            response = await client.post(
                path, content=body, headers=signed_headers(twin.key, path, body=body) | FORM
            )
            assert response.json()["batchStatus"][0]["status"] == "placed"
    async with quiet(twin) as kf:
        ids = {o.cli_ord_id for o in await kf.orders.open()}
    assert ids == {"batch-lib", "batch-raw", "batch-enc"}


async def test_engine_refusals_reach_the_client_as_exceptions() -> None:
    twin, _ = make_twin()
    reader = twin.issue_key(permissions=Permissions.read_only())
    async with quiet(twin) as kf:
        with pytest.raises(InvalidRequestError):
            await kf.market.ticker("PF_NOSUCHCOIN")
    async with twin.session(
        reader, rate_limits=RateLimitPolicy.unlimited(), retry=RetryPolicy.never()
    ) as ro:
        assert (await ro.account.accounts()) is not None
        with pytest.raises(AuthenticationError):
            await ro.orders.cancel_all()


async def test_the_51st_order_is_refused_by_the_twin() -> None:
    twin, clock = make_twin()
    async with quiet(twin) as kf:
        book = await kf.market.orderbook("PF_XBTUSD")
        price = book.bids[-1].price

        async def send() -> object:
            return await kf.orders.send(
                symbol="PF_XBTUSD", side="buy", size=Decimal("0.001"), limit_price=price
            )

        for _ in range(50):
            await send()
        with pytest.raises(RateLimitError):
            await send()
        clock.advance(0.2)
        await send()
        clock.advance(0.04)  # listing open orders costs 2 units
        assert len(await kf.orders.open()) == 51


async def test_drop_after_placed_the_order_drop_before_did_not() -> None:
    twin, _ = make_twin()
    async with quiet(twin) as kf:
        price = (await kf.market.orderbook("PF_XBTUSD")).bids[-1].price
        for kind, cli in (("drop_before", "never-placed"), ("drop_after", "placed-unseen")):
            twin.faults.add(kind, "send_order", times=1)
            path = f"{D}/sendorder"
            body = urlencode(
                {
                    "orderType": "lmt",
                    "symbol": "PF_XBTUSD",
                    "side": "buy",
                    "size": "0.01",
                    "limitPrice": str(price),
                    "cliOrdId": cli,
                }
            )
            async with raw_client(twin) as client:
                with pytest.raises(httpx.TransportError):
                    await client.post(
                        path, content=body, headers=signed_headers(twin.key, path, body=body) | FORM
                    )
        ids = {o.cli_ord_id for o in await kf.orders.open()}
    assert ids == {"placed-unseen"}


async def _scripted_bodies(seed: int) -> list[bytes]:
    twin, clock = make_twin(seed)
    bodies: list[bytes] = []
    async with raw_client(twin) as client:
        for step in range(4):
            clock.advance(1.5)
            bodies.append((await client.get(f"{D}/tickers/PF_XBTUSD")).content)
            bodies.append((await client.get(f"{D}/orderbook?symbol=PF_ETHUSD")).content)
            path = f"{D}/sendorder"
            body = urlencode(
                {
                    "orderType": "mkt",
                    "symbol": "PF_XBTUSD",
                    "side": "buy" if step % 2 else "sell",
                    "size": "0.01",
                    "cliOrdId": f"det-{step}",
                }
            )
            headers = signed_headers(twin.key, path, body=body, nonce=str(100 + step)) | FORM
            bodies.append((await client.post(path, content=body, headers=headers)).content)
            path = f"{D}/accounts"
            headers = signed_headers(twin.key, path, nonce=str(200 + step))
            bodies.append((await client.get(path, headers=headers)).content)
    return bodies


async def test_same_seed_same_calls_same_bytes() -> None:
    first = await _scripted_bodies(11)
    assert first == await _scripted_bodies(11)
    assert first != await _scripted_bodies(12)
    assert b'"sendStatus"' in first[2]


async def test_the_engine_over_a_real_socket() -> None:
    twin, _ = make_twin()
    with twin.run_in_thread() as running:
        async with running.session(
            rate_limits=RateLimitPolicy.unlimited(), retry=RetryPolicy.never(), timeout=5.0
        ) as kf:
            price = (await kf.market.orderbook("PF_XBTUSD")).bids[-1].price
            placed = await kf.orders.send(
                symbol="PF_XBTUSD", side="buy", size=Decimal("0.01"), limit_price=price
            )
            listed = await asyncio.gather(*(kf.orders.open() for _ in range(20)))
            twin.faults.add("drop_after", "cancel_order", times=1)
            # the answer is lost; the library re-sends and reads the order's state instead
            cancelled = await kf.orders.cancel(order_id=placed.order_id)
            after = await kf.orders.open()
    assert all([o.order_id for o in orders] == [placed.order_id] for orders in listed)
    assert twin.faults.fired("drop_after", "cancel_order") == 1
    assert cancelled.status.value == "cancelled"
    assert after == []  # the cancel went through although its answer was lost


def test_the_cli_prints_a_working_key_and_serves_until_stopped() -> None:
    command = [sys.executable, "-m", "kraken_futures_async.simulator", "--port", "0", "--seed", "5"]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as process:
        try:
            assert process.stdout is not None
            lines = [process.stdout.readline() for _ in range(3)]
            url = lines[0].split(" on ")[1].split()[0]
            key = lines[1].split(":", 1)[1].strip()
            secret = lines[2].split(":", 1)[1].strip()
            assert url.startswith("http://127.0.0.1:")
            assert len(key) == 56
            assert len(base64.b64decode(secret)) == 66
            assert key == Twin(TwinConfig(seed=5)).key.public_key  # the seed decides the key

            async def call() -> object:
                async with Session(
                    Credentials(key, secret),
                    base_url=url,
                    rate_limits=RateLimitPolicy.unlimited(),
                    retry=RetryPolicy.never(),
                    timeout=5.0,
                ) as kf:
                    return await kf.account.accounts()

            assert asyncio.run(call()) is not None
        finally:
            process.terminate()
            process.wait(timeout=10)
    assert process.returncode is not None
