"""Risk-reducing calls first: cancels never wait behind sends, and cannot starve them either.

Proved on virtual time, on the limiter alone and through a Session whose transport records
the moment each request leaves.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Sequence
from typing import Any, NamedTuple

import attrs
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kraken_futures_async import BatchOrder, Credentials, RateLimitPolicy, Session
from kraken_futures_async.errors import InvalidArgumentError
from kraken_futures_async.ratelimit import Budget, CostWindow, RateLimiter, WindowLimit
from kraken_futures_async.rest.endpoints import endpoint
from kraken_futures_async.rest.json_bodies import batch_json

from .conftest import BASE_URL
from .test_ratelimit import CAPACITY, COSTS, ORDINARY, PERIOD, RESERVE, WINDOW, approx
from .test_ratelimit import max_in_sliding_window as most_in_window
from .virtual_clock import run_virtual


class Call(NamedTuple):
    at: float
    cost: int = 10
    priority: bool = False
    private: bool = True


async def admit(limiter: RateLimiter, calls: Sequence[Call]) -> list[float]:
    """Start each call at its time (in list order); the virtual time each one got through."""
    loop = asyncio.get_running_loop()
    times: dict[int, float] = {}

    async def one(index: int, call: Call) -> None:
        await limiter.acquire(
            private=call.private, budget=Budget.DERIVATIVES, cost=call.cost, priority=call.priority
        )
        times[index] = loop.time()

    tasks = []
    for index, call in enumerate(calls):
        if call.at > loop.time():
            await asyncio.sleep(call.at - loop.time())
        tasks.append(asyncio.create_task(one(index, call)))
    await asyncio.gather(*tasks)
    return [times[i] for i in range(len(calls))]


def run(policy: RateLimitPolicy, calls: Sequence[Call]) -> list[float]:
    async def scenario() -> list[float]:
        return await admit(RateLimiter(policy), calls)

    return run_virtual(scenario)[0]


def test_a_cancel_after_a_full_burst_of_orders_leaves_at_once() -> None:
    """The issue's case: 50 orders at once (the whole budget), a cancel 50 ms later."""
    calls = [Call(0.0)] * 50 + [Call(0.05, 10, priority=True)]
    times = run(RateLimitPolicy.card(), calls)
    assert times[50] == approx(0.05)
    assert times[:45] == [0.0] * 45  # what sends may use of the budget
    assert times[45:50] == [approx(WINDOW)] * 5  # the rest waits; the reserve stays free


def test_without_a_reserve_the_cancel_still_goes_first_but_waits_for_room() -> None:
    policy = attrs.evolve(RateLimitPolicy.kraken(), reserve=0.0)
    calls = [Call(0.0)] * 55 + [Call(0.05, 10, priority=True)]
    times = run(policy, calls)
    assert times[:50] == [0.0] * 50
    assert times[55] == approx(WINDOW)  # no room before the first orders leave the window
    # ...and it is ahead of the five orders that queued before it.
    assert times[50:55] == [approx(WINDOW)] * 5
    async_order = sorted(range(56), key=lambda i: (times[i], i != 55))
    assert async_order.index(55) == 50


@settings(max_examples=60, deadline=None)
@given(
    burst=st.lists(st.sampled_from(COSTS), min_size=1, max_size=60),
    later=st.lists(
        st.tuples(st.sampled_from([0.0, 0.01, 0.3, 2.0, 6.0]), st.sampled_from(COSTS)),
        max_size=40,
    ),
    cancel_after=st.floats(0.0, 30.0),
    cancel_cost=st.sampled_from([1, 10, 25]),
)
def test_after_any_burst_of_sends_a_risk_reducing_call_leaves_within_50_ms(
    burst: list[int], later: list[tuple[float, int]], cancel_after: float, cancel_cost: int
) -> None:
    calls, t = [Call(0.0, cost) for cost in burst], 0.0
    for gap, cost in later:
        t = round(t + gap, 2)
        calls.append(Call(t, cost))
    cancel_at = round(t + cancel_after, 3)
    calls.append(Call(cancel_at, cancel_cost, priority=True))
    calls.sort(key=lambda c: c.at)
    index = next(i for i, c in enumerate(calls) if c.priority)
    times = run(RateLimitPolicy.card(), calls)
    assert times[index] - cancel_at <= 0.05
    sent = [(s, c.cost) for s, c in zip(times, calls, strict=True)]
    assert most_in_window(sent, WINDOW) <= CAPACITY
    ordinary = [(s, c.cost) for s, c in zip(times, calls, strict=True) if not c.priority]
    assert most_in_window(ordinary, WINDOW) <= ORDINARY


@settings(max_examples=40, deadline=None)
@given(
    calls=st.lists(
        st.tuples(
            st.sampled_from([0.0, 0.0, 0.05, 0.5, 3.0]), st.sampled_from(COSTS), st.booleans()
        ),
        max_size=120,
    )
)
def test_mixed_priorities_never_exceed_the_budget(calls: list[tuple[float, int, bool]]) -> None:
    arrivals, t = [], 0.0
    for gap, cost, priority in calls:
        t = round(t + gap, 2)
        arrivals.append(Call(t, cost, priority))
    times = run(RateLimitPolicy.kraken(), arrivals)
    sent = [(s, c.cost) for s, c in zip(times, arrivals, strict=True)]
    assert most_in_window(sent, WINDOW) <= CAPACITY
    ordinary = [(s, c.cost) for s, c in zip(times, arrivals, strict=True) if not c.priority]
    assert most_in_window(ordinary, WINDOW) <= ORDINARY


def test_risk_reducing_calls_keep_their_own_first_come_first_served_line() -> None:
    calls = [Call(0.0, 10)] * 45 + [Call(0.1, 25, True), Call(0.2, 10, True), Call(0.3, 25, True)]
    times = run(RateLimitPolicy.kraken(), calls)
    # 50 reserved units: the 25 and the 10 fit; the second 25 waits for room, in turn.
    assert times[45:47] == [approx(0.1), approx(0.2)]
    assert times[47] == approx(WINDOW)


def test_a_stream_of_cancels_cannot_starve_sends() -> None:
    """Cancels arrive every 10 ms for a minute, far more than the budget, and 100 orders at
    once: the orders get half of what is not reserved in every window (the rule in
    ratelimit's docstring), and cancels keep flowing meanwhile."""
    stream = [Call(round(0.01 * i, 2), 10, priority=True) for i in range(6000)]
    calls = sorted([*stream, *[Call(1.0, 10)] * 100], key=lambda c: c.at)
    times = run(RateLimitPolicy.kraken(), calls)
    sent = list(zip(times, calls, strict=True))
    send_times = sorted(s for s, c in sent if not c.priority)
    assert len(send_times) == 100
    first = send_times[0]
    assert first - 1.0 <= WINDOW  # it waited for room once, never more than a window
    half = (CAPACITY - RESERVE) // 2
    for k in range(3):  # 100 orders need four windows at that share
        start = first + k * WINDOW
        assert 10 * sum(1 for s in send_times if start <= s < start + WINDOW) >= half - 10
    cancel_times = sorted(s for s, c in sent if c.priority)
    gaps = [b - a for a, b in itertools.pairwise(cancel_times)]
    assert max(gaps) <= WINDOW
    assert sum(1 for s in cancel_times if first <= s < first + WINDOW) * 10 >= half - 10
    assert most_in_window([(s, c.cost) for s, c in sent], WINDOW) <= CAPACITY


def test_a_cancel_does_not_wait_on_the_cards_full_request_bucket() -> None:
    reads = [Call(0.0, 1)] * 101  # the private request bucket holds 100
    times = run(RateLimitPolicy.card(), [*reads, Call(0.01, 10, priority=True)])
    assert times[100] == approx(0.1)  # the 101st read waits for the bucket to leak
    assert times[101] == approx(0.01)  # the cancel does not


def test_a_reserve_must_leave_room_for_ordinary_calls() -> None:
    with pytest.raises(InvalidArgumentError, match="share of the budget"):
        RateLimitPolicy(reserve=1.0)
    with pytest.raises(InvalidArgumentError, match="does not fit"):
        CostWindow(WindowLimit(100, PERIOD), reserve=100)
    assert RateLimiter(RateLimitPolicy()).budgets[Budget.DERIVATIVES].reserve == RESERVE
    # The history budget has no risk-reducing calls to keep room for.
    assert RateLimiter(RateLimitPolicy()).budgets[Budget.HISTORY].reserve == 0


@pytest.mark.parametrize(
    ("name", "params", "reduces"),
    [
        ("cancel_order", [("order_id", "x")], True),
        ("cancel_all_orders", [], True),
        ("cancel_all_orders_after", [("timeout", "60")], True),
        ("send_order", [("orderType", "lmt"), ("reduceOnly", "true")], True),
        ("send_order", [("orderType", "lmt"), ("reduceOnly", "false")], False),
        ("send_order", [("orderType", "lmt")], False),
        ("edit_order", [("orderId", "x")], False),
        ("open_orders", [], False),
    ],
)
def test_which_calls_reduce_risk(name: str, params: list[tuple[str, str]], reduces: bool) -> None:
    assert endpoint(name).reduces_risk(params) is reduces


def _batch_params(batch: BatchOrder) -> list[tuple[str, str]]:
    return [("json", batch_json(list(batch)))]


def test_a_batch_reduces_risk_only_when_every_instruction_does() -> None:
    row = endpoint("batch_order")
    cancels = BatchOrder().cancel(order_id="a").cancel(cli_ord_id="b")
    assert row.reduces_risk(_batch_params(cancels)) is True
    reduce_only = BatchOrder().send(
        symbol="PF_XBTUSD", side="sell", size=1, limit_price=1, reduce_only=True
    )
    assert row.reduces_risk(_batch_params(reduce_only.cancel(order_id="a"))) is True
    adding = BatchOrder().send(symbol="PF_XBTUSD", side="buy", size=1, limit_price=1)
    assert row.reduces_risk(_batch_params(adding.cancel(order_id="a"))) is False
    assert row.reduces_risk([("json", "not json")]) is False
    assert row.reduces_risk([("json", json.dumps({"batchOrder": []}))]) is False


SERVER_TIME = "2024-05-01T12:08:01.000Z"


def _exchange(sent: list[tuple[float, str]]) -> httpx.MockTransport:
    """Lists one contract, places and cancels everything; records when each request arrives."""

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path.rsplit("/", 1)[-1]
        body: dict[str, Any]
        sent.append((asyncio.get_running_loop().time(), path))
        if path == "instruments":
            xbt = {"symbol": "PF_XBTUSD", "tradeable": True, "tickSize": 1}
            body = {"instruments": [{**xbt, "contractValueTradePrecision": 4}]}
        elif path == "sendorder":
            status = {"status": "placed", "order_id": f"o{len(sent)}", "orderEvents": []}
            body = {"sendStatus": status}
        else:
            body = {"cancelStatus": {"status": "cancelled", "order_id": "o1"}}
        return httpx.Response(200, json={"result": "success", **body, "serverTime": SERVER_TIME})

    return httpx.MockTransport(handler)


def test_through_a_session_a_cancel_leaves_50_ms_after_it_is_called(
    credentials: Credentials,
) -> None:
    sent: list[tuple[float, str]] = []

    async def scenario() -> float:
        loop = asyncio.get_running_loop()
        async with Session(credentials, base_url=BASE_URL, transport=_exchange(sent)) as kf:
            orders = [
                asyncio.create_task(
                    kf.orders.send(symbol="PF_XBTUSD", side="buy", size=1, limit_price=1000)
                )
                for _ in range(50)
            ]
            await asyncio.sleep(0.05)
            called = loop.time()
            await kf.orders.cancel(order_id="o1")
            await asyncio.gather(*orders)
        return called

    called, _ = run_virtual(scenario)
    cancel_sent = next(t for t, path in sent if path == "cancelorder")
    assert cancel_sent - called <= 0.05
    order_times = [t for t, path in sent if path == "sendorder"]
    assert len(order_times) == 50
    # Five orders waited for the window; the cancel went out ahead of them.
    assert sum(1 for t in order_times if t > cancel_sent) == 5


def test_a_cool_down_never_lasts_more_than_one_window() -> None:
    """A server asking for 10**9 seconds (hostile or garbled) closes the budget for a window."""

    async def scenario() -> float:
        limiter = RateLimiter(RateLimitPolicy.kraken())
        loop = asyncio.get_running_loop()
        limiter.cool_down(Budget.DERIVATIVES, 1e9)
        await limiter.acquire(private=True, budget=Budget.DERIVATIVES, cost=1)
        return loop.time()

    admitted, _ = run_virtual(scenario)
    assert admitted == approx(WINDOW)
