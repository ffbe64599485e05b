"""The twin meters Kraken's cost budgets per key, on its own clock."""

from __future__ import annotations

import asyncio
import math

import pytest

from kraken_futures_async import RateLimitError, RateLimitPolicy, Session
from kraken_futures_async.ratelimit import Budget
from kraken_futures_async.rest.endpoints import endpoint
from kraken_futures_async.retry import RetryPolicy
from kraken_futures_async.simulator import ApiKey, BucketLimit, Twin, TwinConfig
from kraken_futures_async.simulator.rest.app import render_error
from kraken_futures_async.simulator.rest.limits import BudgetExceededError, RateMeter, TokenBucket
from tests.rest_access import rest
from tests.test_sim_http_fake import FakeExchange, fake_twin, raw_client, signed_headers
from tests.virtual_clock import run_virtual

D = "/derivatives/api/v3"


def quiet(twin: Twin, key: ApiKey | None = None) -> Session:
    """Nothing throttled or retried on the client, so the twin's meter decides alone."""
    return twin.session(key, rate_limits=RateLimitPolicy.unlimited(), retry=RetryPolicy.never())


async def _send(kf: Session, n: int) -> object:
    return await kf.orders.send(symbol="PF_XBTUSD", side="buy", size=1, limit_price=n + 1)


async def test_the_51st_order_inside_ten_seconds_is_refused_then_the_bucket_refills() -> None:
    twin, exchange = fake_twin()
    clock = exchange.clock
    async with quiet(twin) as kf:
        for n in range(50):
            await _send(kf, n)
        with pytest.raises(RateLimitError) as caught:
            await _send(kf, 50)
        assert caught.value.code == "apiLimitExceeded"
        assert caught.value.http_status == 200
        clock.advance(0.2)  # 50 units per second: one more order
        await _send(kf, 51)
        with pytest.raises(RateLimitError):
            await _send(kf, 52)
        clock.advance(10)
        for n in range(50):
            await _send(kf, 100 + n)
    assert exchange.operations().count("send_order") == 101  # refusals never reached it
    assert twin.meter.refused[Budget.DERIVATIVES] == 2
    assert twin.meter.admitted[Budget.DERIVATIVES] == 1010


async def test_the_refusal_is_krakens_classic_error() -> None:
    twin, _ = fake_twin(derivatives_budget=BucketLimit(10, 10.0))
    path = f"{D}/openorders"
    async with raw_client(twin) as client:
        bodies = [
            (await client.get(path, headers=signed_headers(twin.key, path))).json()
            for _ in range(6)
        ]
    assert [b["result"] for b in bodies] == ["success"] * 5 + ["error"]
    assert bodies[-1] == {
        "result": "error",
        "error": "apiLimitExceeded",
        "serverTime": "2026-11-24T00:00:00.000Z",
    }


async def test_costs_come_from_the_endpoint_table() -> None:
    twin, exchange = fake_twin()
    key = twin.key.public_key
    spent: list[float] = []
    async with quiet(twin) as kf:
        await kf.orders.status(order_ids=["a"])  # 1
        spent.append(500 - twin.meter.available(key, Budget.DERIVATIVES))
        await kf.orders.open()  # 2
        spent.append(500 - twin.meter.available(key, Budget.DERIVATIVES))
        await kf.market.tickers()  # public: free
        spent.append(500 - twin.meter.available(key, Budget.DERIVATIVES))
    assert spent == [1, 3, 3]
    assert exchange.operations() == ["order_status", "open_orders", "tickers"]


async def test_fills_with_last_fill_time_and_batches_cost_more() -> None:
    twin, _ = fake_twin()
    path = f"{D}/fills"
    query = "lastFillTime=2026-01-01T00%3A00%3A00.000Z"
    batch_path = f"{D}/batchorder"
    body = 'json={"batchOrder":[{"order":"send","order_tag":"1"},{"order":"cancel"}]}'
    async with raw_client(twin) as client:
        await client.get(
            f"{path}?{query}", headers=signed_headers(twin.key, path, query=query, nonce="1")
        )
        after_fills = twin.meter.available(twin.key.public_key, Budget.DERIVATIVES)
        await client.post(
            batch_path,
            content=body,
            headers=signed_headers(twin.key, batch_path, body=body, nonce="2")
            | {"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert after_fills == 475
    assert twin.meter.available(twin.key.public_key, Budget.DERIVATIVES) == 475 - 11


async def test_budgets_are_per_key_and_public_calls_are_free() -> None:
    twin, exchange = fake_twin(derivatives_budget=BucketLimit(20, 10.0))
    other = twin.issue_key()
    async with quiet(twin) as mine, quiet(twin, other) as theirs:
        for n in range(2):
            await _send(mine, n)
        with pytest.raises(RateLimitError):
            await _send(mine, 2)
        for n in range(2):
            await _send(theirs, n)
        for _ in range(200):
            await mine.market.tickers()
    assert exchange.operations().count("tickers") == 200
    assert exchange.operations().count("send_order") == 4


async def test_limits_switched_off_admit_everything() -> None:
    twin, exchange = fake_twin(rate_limits=False)
    async with quiet(twin) as kf:
        await asyncio.gather(*(_send(kf, n) for n in range(120)))
    assert exchange.operations().count("send_order") == 120
    assert twin.meter.refused.total() == 0


def test_token_bucket_starts_full_and_refills_evenly() -> None:
    bucket = TokenBucket(BucketLimit(500, 10.0), now=0.0)
    assert bucket.take(500, 0.0) == 0.0
    assert bucket.take(10, 0.0) == pytest.approx(0.2)
    assert bucket.take(10, 0.1) == pytest.approx(0.1)  # nothing taken by a refusal
    assert bucket.take(10, 0.2) == 0.0
    assert bucket.take(600, 100.0) == math.inf  # can never fit
    assert bucket.tokens == pytest.approx(500)  # capped at capacity


async def test_the_history_budget_answers_429_in_plain_text() -> None:
    twin, exchange = fake_twin(history_budget=BucketLimit(2, 600.0))
    path = "/api/history/v3/orders"
    async with raw_client(twin) as client:
        answers = [
            await client.get(path, headers=signed_headers(twin.key, path, nonce=str(n)))
            for n in range(1, 4)
        ]
        derivatives = await client.get(
            f"{D}/openorders", headers=signed_headers(twin.key, f"{D}/openorders", nonce="9")
        )
    assert [a.status_code for a in answers] == [200, 200, 429]
    refused = answers[-1]
    assert refused.headers["content-type"].startswith("text/plain")
    assert refused.headers["rate-limit-reset"] == "300"
    assert "rate limit" in refused.text
    assert derivatives.json()["result"] == "success"  # a separate budget
    assert exchange.operations() == ["history_orders", "history_orders", "open_orders"]


async def test_the_client_reads_the_history_refusal_as_a_rate_limit_with_retry_after() -> None:
    twin, _ = fake_twin(history_budget=BucketLimit(1, 600.0))
    async with quiet(twin) as kf:
        await rest(kf).call(endpoint("history_orders"))
        with pytest.raises(RateLimitError) as caught:
            await rest(kf).call(endpoint("history_orders"))
    assert caught.value.http_status == 429
    assert caught.value.retry_after == 600


def test_budget_refusals_render_with_their_headers() -> None:
    meter = RateMeter(
        clock=_FixedClock(), limits={Budget.DERIVATIVES: BucketLimit(10, 10.0)}, enabled=True
    )
    row = endpoint("send_order")
    meter.charge("k", row, [])
    with pytest.raises(BudgetExceededError) as caught:
        meter.charge("k", row, [])
    assert caught.value.retry_after == pytest.approx(10.0)
    reply = render_error(caught.value, "2026-11-24T00:00:00.000Z")
    assert reply.status == 200
    assert reply.headers == []  # the derivatives refusal carries no header on Kraken


class _FixedClock:
    def time(self) -> float:
        return 1_000.0


class _LoopClock:
    """The running loop's clock as the twin's clock, so client and twin share virtual time."""

    def time(self) -> float:
        return 1_790_000_000.0 + asyncio.get_running_loop().time()


def test_a_client_keeping_krakens_window_is_never_refused_by_the_twin() -> None:
    clock = _LoopClock()
    exchange = FakeExchange()
    twin = Twin(TwinConfig(clock=clock), exchange=exchange)

    async def run() -> None:
        async with twin.session(
            rate_limits=RateLimitPolicy.kraken(), retry=RetryPolicy.never()
        ) as kf:
            await asyncio.gather(*(_send(kf, n) for n in range(120)))

    _, elapsed = run_virtual(run)
    assert twin.meter.refused.total() == 0
    assert exchange.operations().count("send_order") == 120
    # 50 at once, 50 after one window, 20 after two: the budget is used, not wasted
    assert 20.0 <= elapsed <= 21.0
