"""Client-side rate limiting, proved on virtual time (no test waits on the real clock).

Each test drives a RateLimiter (or a whole Session) on ``VirtualClockLoop`` and checks the
exact virtual moments requests are let through, against aiolimiter's leak, the sliding cost
window, and simple models of the exchange's meter.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import attrs
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kraken_futures_async import Credentials, RateLimitError, Session
from kraken_futures_async.errors import InvalidArgumentError
from kraken_futures_async.ratelimit import (
    Budget,
    BudgetUsage,
    CostWindow,
    RateLimiter,
    RateLimitPolicy,
    WindowLimit,
)
from kraken_futures_async.rest.endpoints import endpoint
from tests.rest_access import rest

from .conftest import BASE_URL
from .virtual_clock import run_virtual

#: The derivatives budget and its window as the limiter keeps it (Kraken's 10 s + margin).
CAPACITY = 500
#: The default reserve (10 %) only risk-reducing calls may use; sends and reads see the rest.
RESERVE = 50
ORDINARY = CAPACITY - RESERVE
PERIOD = 10.0
MARGIN = RateLimitPolicy().margin
WINDOW = PERIOD + MARGIN
#: Kraken's published costs (reference §6), the mix the randomized tests draw from.
COSTS = (1, 2, 10, 19, 25, 100, 200)


class Arrival(NamedTuple):
    at: float
    cost: int = 1
    private: bool = True
    budget: Budget | None = Budget.DERIVATIVES


class Admissions(NamedTuple):
    #: Virtual time each arrival was let through, by arrival index.
    times: list[float]
    #: Arrival indices in the order they were let through.
    order: list[int]


async def admit_all(limiter: RateLimiter, arrivals: Sequence[Arrival]) -> Admissions:
    """Start each request at its arrival time (in list order) and record when it gets through."""
    loop = asyncio.get_running_loop()
    times: dict[int, float] = {}
    order: list[int] = []

    async def one(index: int, arrival: Arrival) -> None:
        await limiter.acquire(private=arrival.private, budget=arrival.budget, cost=arrival.cost)
        times[index] = loop.time()
        order.append(index)

    tasks = []
    for index, arrival in enumerate(arrivals):
        if arrival.at > loop.time():
            await asyncio.sleep(arrival.at - loop.time())
        tasks.append(asyncio.create_task(one(index, arrival)))
    await asyncio.gather(*tasks)
    return Admissions([times[i] for i in range(len(arrivals))], order)


def run_arrivals(policy: RateLimitPolicy, arrivals: Sequence[Arrival]) -> Admissions:
    async def scenario() -> Admissions:
        return await admit_all(RateLimiter(policy), arrivals)

    return run_virtual(scenario)[0]


def approx(value: Any) -> Any:
    return pytest.approx(value, abs=1e-9)


# --- models of the exchange's meter --------------------------------------------------------


def fifo_window_reference(
    arrivals: Sequence[tuple[float, int]], capacity: int, period: float
) -> list[float]:
    """When a first-come-first-served sliding window lets each request through (brute force)."""
    admitted: list[tuple[float, int]] = []
    for at, cost in arrivals:
        t = max([at] + [s for s, _ in admitted])
        while True:
            live = [(s + period, c) for s, c in admitted if s + period > t + 1e-9]
            if sum(c for _, c in live) + cost <= capacity:
                break
            t = min(leave for leave, _ in live)
        admitted.append((t, cost))
    return [t for t, _ in admitted]


def max_in_sliding_window(events: Sequence[tuple[float, int]], period: float) -> int:
    """The most units inside any window ``[t, t + period)``.

    A unit admitted when another leaves lands on the window's edge, up to the clock's
    resolution (and float rounding) early: the edge is drawn a microsecond in.
    """
    times = sorted(events)
    return max(
        (sum(c for s, c in times if start <= s < start + period - 1e-6) for start, _ in times),
        default=0,
    )


def token_bucket_refusals(
    events: Sequence[tuple[float, int]], capacity: int, refill_per_s: float
) -> list[tuple[float, int]]:
    """Requests a token bucket (starting full) would refuse, in arrival order."""
    tokens, last, refused = float(capacity), -math.inf, []
    for t, cost in sorted(events):
        tokens = (
            min(float(capacity), tokens + (t - last) * refill_per_s) if last > -math.inf else tokens
        )
        last = t
        if tokens + 1e-9 < cost:
            refused.append((t, cost))
        else:
            tokens -= cost
    return refused


def max_in_fixed_windows(events: Sequence[tuple[float, int]], period: float, phase: float) -> int:
    """The most units inside one window ``[phase + k*period, phase + (k+1)*period)``."""
    per_window: dict[int, int] = {}
    for t, cost in events:
        k = math.floor((t - phase) / period)
        per_window[k] = per_window.get(k, 0) + cost
    return max(per_window.values(), default=0)


def max_leaky_bucket_level(times: Sequence[float], rate_per_s: float) -> float:
    """aiolimiter's bucket level right after each take, at its highest."""
    level, last, highest = 0.0, 0.0, 0.0
    for t in sorted(times):
        level = max(0.0, level - (t - last) * rate_per_s) + 1
        last = t
        highest = max(highest, level)
    return highest


# --- the design card's request buckets ---------------------------------------------------


@pytest.mark.parametrize(
    ("budget", "cost"), [(None, 0), (Budget.DERIVATIVES, 1)], ids=["no-budget", "orders-status"]
)
def test_card_private_bucket_lets_100_through_then_leaks_one_per_100ms(
    budget: Budget | None, cost: int
) -> None:
    arrivals = [Arrival(0.0, cost, True, budget)] * 102
    times = run_arrivals(RateLimitPolicy.card(), arrivals).times
    assert times[:100] == [0.0] * 100
    # aiolimiter leaks 100 / 10 s: one slot every 0.1 s after the burst.
    assert times[100] > 0
    assert times[100:] == [approx(0.1), approx(0.2)]


def test_card_public_bucket_lets_500_through_then_leaks_one_per_20ms() -> None:
    arrivals = [Arrival(0.0, 0, False, None)] * 502
    times = run_arrivals(RateLimitPolicy.card(), arrivals).times
    assert times[:500] == [0.0] * 500
    assert times[500:] == [approx(0.02), approx(0.04)]


def test_public_and_private_buckets_are_separate() -> None:
    arrivals = [Arrival(0.0, 0, False, None)] * 500 + [Arrival(0.0, 2)] * 100
    times = run_arrivals(RateLimitPolicy.card(), arrivals).times
    assert times == [0.0] * 600


def test_request_bucket_is_charged_when_the_request_leaves_not_while_it_queues() -> None:
    """A backlog that queued behind a full cost window must not leave in one burst.

    45 orders fill what sends may use of the derivatives budget; 150 status calls queue
    behind it. When the window reopens at 10.2 s the status calls may only go at the private
    bucket's pace.
    """
    arrivals = [Arrival(0.0, 10)] * 45 + [Arrival(0.5, 1)] * 150
    times = run_arrivals(RateLimitPolicy.card(), arrivals).times
    assert times[45] == approx(WINDOW)
    assert max_leaky_bucket_level(times, 100 / 10.0) <= 100 + 1e-9
    assert times[144] == approx(WINDOW)  # the private bucket's burst of 100
    assert times[145] == approx(WINDOW + 0.1)
    assert times[-1] == approx(WINDOW + 5.0)


# --- Kraken's cost budgets ------------------------------------------------------------------


@pytest.mark.parametrize("policy", [RateLimitPolicy.card(), RateLimitPolicy.kraken()])
def test_45_orders_fill_what_sends_may_use_and_the_46th_waits_for_the_first_to_leave(
    policy: RateLimitPolicy,
) -> None:
    arrivals = [Arrival(round(0.1 * i, 1), 10) for i in range(47)]
    times = run_arrivals(policy, arrivals).times
    assert times[:45] == [approx(a.at) for a in arrivals[:45]]
    # The order sent at 0.0 leaves the window at 10 s + margin; the one at 0.1 at 10.3.
    assert times[45] == approx(WINDOW)
    assert times[46] == approx(WINDOW + 0.1)


def test_without_a_reserve_fifty_orders_fill_the_whole_budget() -> None:
    arrivals = [Arrival(round(0.1 * i, 1), 10) for i in range(52)]
    times = run_arrivals(attrs.evolve(RateLimitPolicy.kraken(), reserve=0.0), arrivals).times
    assert times[:50] == [approx(a.at) for a in arrivals[:50]]
    assert times[50] == approx(WINDOW)
    assert times[51] == approx(WINDOW + 0.1)


def test_history_budget_is_100_tokens_per_ten_minutes() -> None:
    arrivals = [Arrival(0.0, 1, True, Budget.HISTORY)] * 100 + [
        Arrival(1.0, 1, True, Budget.HISTORY)
    ]
    times = run_arrivals(RateLimitPolicy.kraken(), arrivals).times
    assert times[:100] == [0.0] * 100
    assert times[100] == approx(600.0 + MARGIN)


def test_budgets_are_metered_separately() -> None:
    arrivals = [Arrival(0.0, 1, True, Budget.HISTORY)] * 100 + [Arrival(0.0, 10)] * 45
    times = run_arrivals(RateLimitPolicy.kraken(), arrivals).times
    assert times == [0.0] * len(arrivals)


def test_a_cost_25_call_is_served_in_turn_behind_a_stream_of_cost_2_calls() -> None:
    """Cost-2 calls keep arriving at twice the budget's rate; a greedy limiter would hand each
    freed pair of units to the next cost-2 call and never find 25 free for the big one."""
    stream = [Arrival(round(0.02 * i, 2), 2) for i in range(1000)]  # 0 .. 19.98 s
    big_at = 6.01
    position = next(i for i, a in enumerate(stream) if a.at > big_at)
    arrivals = [*stream[:position], Arrival(big_at, 25), *stream[position:]]
    admitted = run_arrivals(RateLimitPolicy.kraken(), arrivals)
    assert admitted.order == list(range(len(arrivals)))  # first come, first served
    waited = admitted.times[position] - big_at
    assert 0 < waited <= WINDOW
    # Exactly when a FIFO sliding window frees 25 units for it, no later.
    reference = fifo_window_reference([(a.at, a.cost) for a in arrivals], ORDINARY, WINDOW)
    assert admitted.times[position] == approx(reference[position])


@settings(max_examples=60, deadline=None)
@given(
    policy=st.sampled_from([RateLimitPolicy.kraken(), RateLimitPolicy.card()]),
    burst=st.lists(st.sampled_from(COSTS), max_size=30),
    later=st.lists(
        st.tuples(st.sampled_from([0.0, 0.05, 0.2, 1.0, 2.5, 5.0]), st.sampled_from(COSTS)),
        max_size=60,
    ),
    jitter=st.lists(st.floats(0.0, MARGIN), min_size=90, max_size=90),
    phase=st.floats(0.0, PERIOD, exclude_max=True),
)
def test_no_window_ever_holds_more_than_the_budget_first_window_included(
    policy: RateLimitPolicy,
    burst: list[int],
    later: list[tuple[float, int]],
    jitter: list[float],
    phase: float,
) -> None:
    arrivals, t = [Arrival(0.0, cost) for cost in burst], 0.0
    for gap, cost in later:
        t = round(t + gap, 2)
        arrivals.append(Arrival(t, cost))
    times = run_arrivals(policy, arrivals).times  # at most 90 calls: the card's 100 never bind
    sent = [(s, a.cost) for s, a in zip(times, arrivals, strict=True)]

    assert times == [
        approx(r)
        for r in fifo_window_reference([(a.at, a.cost) for a in arrivals], ORDINARY, WINDOW)
    ]
    assert max_in_sliding_window(sent, WINDOW) <= CAPACITY
    # What reaches the exchange up to ``margin`` later still fits each model of its meter.
    arrived = [(s + j, cost) for (s, cost), j in zip(sent, jitter, strict=False)]
    assert max_in_sliding_window(arrived, PERIOD) <= CAPACITY
    assert max_in_fixed_windows(arrived, PERIOD, phase) <= CAPACITY
    assert token_bucket_refusals(arrived, CAPACITY, CAPACITY / PERIOD) == []


@pytest.mark.parametrize("reserve", [0.0, 0.1], ids=["no-reserve", "default-reserve"])
@pytest.mark.parametrize("cancels", [True, False], ids=["place-and-cancel", "sends-only"])
@pytest.mark.parametrize(
    ("seconds", "free_units"),
    [(60.0, 0), (600.0, CAPACITY)],
    ids=["one-minute", "ten-minutes-without-the-free-first-window"],
)
def test_sustained_load_uses_at_least_95_percent_of_what_the_reserve_leaves(
    seconds: float, free_units: int, cancels: bool, reserve: float
) -> None:
    """Many callers asking for cost-10 calls as fast as they can, for ``seconds``; with
    ``cancels`` each caller alternates an order and a (risk-reducing) cancel.

    Over ten minutes the first window's burst (which any meter grants) is not counted, so
    what remains is the steady rate: 500 units per 10 s + margin, about 98 %. A reserve is
    budget sends cannot use: it costs a sends-only load its share, and a place-and-cancel
    load most of it too, since each cancel waits for its own order.
    """

    async def saturate() -> list[float]:
        limiter = RateLimiter(attrs.evolve(RateLimitPolicy.kraken(), reserve=reserve))
        loop = asyncio.get_running_loop()
        admitted: list[float] = []

        async def worker() -> None:
            cancel = False
            while loop.time() < seconds:
                await limiter.acquire(
                    private=True, budget=Budget.DERIVATIVES, cost=10, priority=cancel
                )
                admitted.append(loop.time())
                cancel = cancels and not cancel

        await asyncio.gather(*(worker() for _ in range(60)))
        return admitted

    admitted, _ = run_virtual(saturate)
    sent = [(t, 10) for t in admitted if t < seconds]
    units = 10 * len(sent)
    usable = CAPACITY - math.floor(CAPACITY * reserve)
    assert (units - free_units) / (usable * seconds / PERIOD) >= 0.95
    # Never more than a full meter allows: a full bucket plus its refill.
    assert units <= CAPACITY + CAPACITY / PERIOD * seconds
    assert max_in_sliding_window(sent, WINDOW) <= CAPACITY


# --- cool-down after apiLimitExceeded -------------------------------------------------------


def test_nothing_is_admitted_during_a_cool_down() -> None:
    async def scenario() -> tuple[list[float], BudgetUsage, BudgetUsage]:
        limiter = RateLimiter(RateLimitPolicy.kraken())
        loop = asyncio.get_running_loop()
        await limiter.acquire(private=True, budget=Budget.DERIVATIVES, cost=10)
        await asyncio.sleep(1.0)
        limiter.cool_down(Budget.DERIVATIVES)  # policy.cooldown: 10 s
        limiter.cool_down(Budget.DERIVATIVES, 2.0)  # a shorter one does not shorten it
        limiter.cool_down(None)  # public calls have no budget: nothing to cool
        during = limiter.usage()[Budget.DERIVATIVES]
        times: list[float] = []

        async def call(budget: Budget) -> None:
            await limiter.acquire(private=True, budget=budget, cost=1)
            times.append(loop.time())

        await asyncio.gather(call(Budget.DERIVATIVES), call(Budget.HISTORY))
        return times, during, limiter.usage()[Budget.DERIVATIVES]

    (times, during, after), _ = run_virtual(scenario)
    assert times == [approx(1.0), approx(11.0)]  # history is not cooled; derivatives waits
    assert during == BudgetUsage(
        capacity=CAPACITY,
        period=approx(WINDOW),
        in_window=10,
        units_admitted=10,
        waiting=0,
        closed_for=approx(10.0),
    )
    assert (after.in_window, after.units_admitted, after.closed_for) == (1, 11, 0.0)


def test_a_cool_down_also_holds_back_requests_already_waiting() -> None:
    async def scenario() -> list[float]:
        limiter = RateLimiter(RateLimitPolicy.kraken())
        task = asyncio.create_task(admit_all(limiter, [Arrival(0.0, 10)] * 52))
        await asyncio.sleep(5.0)
        limiter.cool_down(Budget.DERIVATIVES, 8.0)  # past the window's own end at 10.2 s
        return (await task).times

    times, _ = run_virtual(scenario)
    assert times[:45] == [0.0] * 45
    assert times[45:] == [approx(13.0)] * 7


SERVER_TIME = "2024-05-01T12:08:01.000Z"
OPEN_POSITIONS = "/derivatives/api/v3/openpositions"
INSTRUMENTS = "/derivatives/api/v3/instruments"


def make_transport(
    sent: list[tuple[float, str]], refusal: Callable[[], httpx.Response | None]
) -> httpx.MockTransport:
    """Records each request's virtual sending time; a private call gets ``refusal()`` if any."""

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        sent.append((asyncio.get_running_loop().time(), path))
        refused = refusal() if path == OPEN_POSITIONS else None
        if refused is not None:
            return refused
        key = "openPositions" if path == OPEN_POSITIONS else "instruments"
        return httpx.Response(200, json={"result": "success", key: [], "serverTime": SERVER_TIME})

    return httpx.MockTransport(handler)


class SessionRun(NamedTuple):
    error: RateLimitError
    #: Sending times of the refused private calls (one, or more if the Session retried).
    refused: list[float]
    public_sent: float
    private_sent: float


def run_refused_session(
    credentials: Credentials, refuse: Callable[[], httpx.Response]
) -> SessionRun:
    """Private calls are refused until the RateLimitError reaches the caller; then a public and
    a private call are made at once, and the times they are actually sent are recorded."""
    sent: list[tuple[float, str]] = []
    refusing = [True]

    async def scenario() -> SessionRun:
        transport = make_transport(sent, lambda: refuse() if refusing[0] else None)
        async with Session(credentials, base_url=BASE_URL, transport=transport) as kf:
            with pytest.raises(RateLimitError) as caught:
                await kf.account.open_positions()
            refused = [t for t, path in sent if path == OPEN_POSITIONS]
            refusing[0] = False
            await kf.market.instruments()
            assert await kf.account.open_positions() == []
        (public_sent,) = [t for t, path in sent if path == INSTRUMENTS]
        return SessionRun(caught.value, refused, public_sent, sent[-1][0])

    return run_virtual(scenario)[0]


def test_session_cools_down_after_api_limit_exceeded(credentials: Credentials) -> None:
    body = {"result": "error", "error": "apiLimitExceeded", "serverTime": SERVER_TIME}
    run = run_refused_session(credentials, lambda: httpx.Response(200, json=body))
    assert run.error.retry_safe is True
    assert run.error.endpoint == "open_positions"
    assert run.error.code == "apiLimitExceeded"
    cooldown = RateLimitPolicy.card().cooldown
    assert run.refused[0] == 0.0
    # Any retry the Session made waited out the cool-down its own refusal started.
    assert all(b - a >= cooldown - 1e-9 for a, b in itertools.pairwise(run.refused))
    # The public call is not held back; the next private call waits for the cool-down.
    assert run.public_sent == run.refused[-1]
    assert run.private_sent == approx(run.refused[-1] + cooldown)


def test_session_cools_down_for_the_retry_after_the_exchange_asks(
    credentials: Credentials,
) -> None:
    def refusal() -> httpx.Response:
        return httpx.Response(429, text="Too many requests", headers={"Retry-After": "3"})

    run = run_refused_session(credentials, refusal)
    assert (run.error.retry_safe, run.error.endpoint, run.error.retry_after) == (
        True,
        "open_positions",
        3.0,
    )
    assert all(b - a >= 3.0 - 1e-9 for a, b in itertools.pairwise(run.refused))
    assert run.public_sent == run.refused[-1]
    assert run.private_sent == approx(run.refused[-1] + 3.0)


# --- costs no window can hold ---------------------------------------------------------------


def test_a_cost_above_the_budget_is_refused_before_anything_is_queued() -> None:
    async def scenario() -> tuple[float, BudgetUsage]:
        limiter = RateLimiter(RateLimitPolicy.kraken())
        loop = asyncio.get_running_loop()
        with pytest.raises(InvalidArgumentError, match="600"):
            limiter.check(Budget.DERIVATIVES, 600)
        with pytest.raises(InvalidArgumentError):
            limiter.check(Budget.HISTORY, 101)
        with pytest.raises(InvalidArgumentError):
            limiter.check(Budget.DERIVATIVES, -1)
        limiter.check(Budget.DERIVATIVES, CAPACITY)  # exactly the budget fits an empty window
        limiter.check(None, 10_000)  # no budget, no cost limit
        # A full window with a waiter: the oversize call must fail now, not queue behind it.
        await limiter.acquire(private=True, budget=Budget.DERIVATIVES, cost=CAPACITY)
        waiter = asyncio.create_task(
            limiter.acquire(private=True, budget=Budget.DERIVATIVES, cost=1)
        )
        await asyncio.sleep(0)
        with pytest.raises(InvalidArgumentError):
            await limiter.acquire(private=True, budget=Budget.DERIVATIVES, cost=600)
        refused_at, usage = loop.time(), limiter.usage()[Budget.DERIVATIVES]
        await waiter
        return refused_at, usage

    (refused_at, usage), _ = run_virtual(scenario)
    assert refused_at == 0.0
    assert (usage.waiting, usage.units_admitted) == (1, CAPACITY)


def test_a_switched_off_budget_has_no_cost_limit() -> None:
    limiter = RateLimiter(attrs.evolve(RateLimitPolicy.kraken(), derivatives_budget=None))
    limiter.check(Budget.DERIVATIVES, 10_000)
    assert Budget.DERIVATIVES not in limiter.budgets


def test_session_refuses_an_oversize_cost_without_sending(credentials: Credentials) -> None:
    sent: list[tuple[float, str]] = []
    oversize = attrs.evolve(endpoint("open_positions"), cost=CAPACITY + 100)

    async def scenario() -> None:
        transport = make_transport(sent, lambda: None)
        async with Session(credentials, base_url=BASE_URL, transport=transport) as kf:
            with pytest.raises(InvalidArgumentError):
                await rest(kf).call(oversize)

    run_virtual(scenario)
    assert sent == []


# --- presets and switches -------------------------------------------------------------------


def test_presets_keep_the_documented_buckets() -> None:
    card, kraken, unlimited = (
        RateLimitPolicy.card(),
        RateLimitPolicy.kraken(),
        RateLimitPolicy.unlimited(),
    )
    assert card == RateLimitPolicy()
    assert (card.public_requests, card.private_requests) == (
        WindowLimit(500, 10.0),
        WindowLimit(100, 10.0),
    )
    assert (card.derivatives_budget, card.history_budget) == (
        WindowLimit(500, 10.0),
        WindowLimit(100, 600.0),
    )
    assert (kraken.public_requests, kraken.private_requests) == (None, None)
    assert (kraken.derivatives_budget, kraken.history_budget) == (
        card.derivatives_budget,
        card.history_budget,
    )
    assert set(RateLimiter(kraken).budgets) == {Budget.DERIVATIVES, Budget.HISTORY}
    assert card.reserve == kraken.reserve == 0.1
    assert attrs.asdict(unlimited, recurse=False) | {"margin": 0, "cooldown": 0} == {
        "public_requests": None,
        "private_requests": None,
        "derivatives_budget": None,
        "history_budget": None,
        "margin": 0,
        "cooldown": 0,
        "reserve": 0.1,
    }
    assert RateLimiter(unlimited).budgets == {}


def test_unlimited_sends_everything_at_once() -> None:
    arrivals = [Arrival(0.0, 0, False, None)] * 300 + [Arrival(0.0, 10)] * 300
    arrivals += [Arrival(0.0, 6, True, Budget.HISTORY)] * 50
    times = run_arrivals(RateLimitPolicy.unlimited(), arrivals).times
    assert times == [0.0] * len(arrivals)


def test_kraken_preset_has_no_request_buckets() -> None:
    arrivals = [Arrival(0.0, 0, False, None)] * 1000 + [Arrival(0.0, 0, True, None)] * 300
    times = run_arrivals(RateLimitPolicy.kraken(), arrivals).times
    assert times == [0.0] * len(arrivals)


@pytest.mark.parametrize(
    ("switched_off", "arrivals"),
    [
        (RateLimitPolicy(public_requests=None), [Arrival(0.0, 0, False, None)] * 501),
        (RateLimitPolicy(private_requests=None), [Arrival(0.0, 0, True, None)] * 101),
        (RateLimitPolicy(derivatives_budget=None), [Arrival(0.0, 10)] * 51),
        (RateLimitPolicy(history_budget=None), [Arrival(0.0, 2, True, Budget.HISTORY)] * 60),
    ],
    ids=["public_requests", "private_requests", "derivatives_budget", "history_budget"],
)
def test_each_bucket_can_be_switched_off(
    switched_off: RateLimitPolicy, arrivals: list[Arrival]
) -> None:
    with_bucket = run_arrivals(RateLimitPolicy.card(), arrivals).times
    without = run_arrivals(switched_off, arrivals).times
    assert max(with_bucket) > 0
    assert without == [0.0] * len(arrivals)


# --- cancellation and the window on its own -------------------------------------------------


def test_a_cancelled_waiter_gives_up_its_turn_without_taking_units() -> None:
    async def scenario() -> tuple[float, BudgetUsage]:
        window = CostWindow(WindowLimit(CAPACITY, PERIOD), margin=MARGIN)
        loop = asyncio.get_running_loop()
        await window.acquire(CAPACITY - 5)
        first = asyncio.create_task(window.acquire(100))
        second = asyncio.create_task(window.acquire(5))
        await asyncio.sleep(1.0)
        assert window.usage().waiting == 2
        first.cancel()
        await second  # 5 units still fit: it goes as soon as the big one is out of the way
        admitted_at = loop.time()
        with pytest.raises(asyncio.CancelledError):
            await first
        return admitted_at, window.usage()

    (admitted_at, usage), _ = run_virtual(scenario)
    assert admitted_at == 1.0
    assert (usage.units_admitted, usage.in_window, usage.waiting) == (CAPACITY, CAPACITY, 0)


def test_window_boundaries_are_exact_and_half_open() -> None:
    async def scenario() -> list[float]:
        window = CostWindow(WindowLimit(10, 1.0))
        loop = asyncio.get_running_loop()
        times = []
        for cost in (10, 10, 3, 7, 1):
            await window.acquire(cost)
            times.append(loop.time())
        return times

    times, elapsed = run_virtual(scenario)
    assert times == [0.0, 1.0, 2.0, 2.0, 3.0]
    assert elapsed == 3.0


def test_window_limit_rejects_empty_limits() -> None:
    with pytest.raises(ValueError, match="positive"):
        WindowLimit(0, 10.0)
    with pytest.raises(ValueError, match="positive"):
        WindowLimit(10, 0.0)


# --- the virtual clock these tests stand on -------------------------------------------------


def test_virtual_clock_lands_on_each_timer_without_waiting() -> None:
    loops: list[asyncio.AbstractEventLoop] = []

    async def scenario() -> list[float]:
        loop = asyncio.get_running_loop()
        loops.append(loop)
        seen: list[float] = []
        for delay in (0.1, 0.2, 599.7):
            await asyncio.sleep(delay)
            seen.append(loop.time())
        return seen

    real_start = time.perf_counter()
    seen, elapsed = run_virtual(scenario)
    assert time.perf_counter() - real_start < 5.0
    assert seen == [0.1, approx(0.3), approx(600.0)]
    assert elapsed == approx(600.0)
    assert loops[0].is_closed()
