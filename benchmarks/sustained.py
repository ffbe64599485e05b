"""(c) A sustained run of private calls against Kraken's budget: how much of it is used, and
how often the exchange says ``apiLimitExceeded``.

Ten workers place a resting order and cancel it, again and again (10 cost units each, on the
500-units-per-10-s ``/derivatives`` budget), each contender with a fresh API key so it starts
with a full bucket. The twin meters the budget as a token bucket: at most ``500 + 50 t``
units in ``t`` seconds, which is also what Kraken's documented 500 per 10 s allows over a
sustained run. "Budget used" is units admitted over that allowance for the run's length.

The library does a fixed amount of work (``units``) under its default policy; peers run for a
fixed time. A peer without a limiter of its own (python-kraken-sdk) is paced the way a user
would pace it: a worker whose call is refused with ``apiLimitExceeded`` waits and sends the
same call again, 0.5 s at first, doubling up to 8 s (with jitter), back to 0.5 s after a call
goes through. Every refusal is counted, on the twin and by the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

from kraken_futures_async.cli.meter import MeteredTransport, TrafficMeter
from kraken_futures_async.retry import OrderSafety

from .contenders import (
    Ccxt,
    Contender,
    Key,
    KrakenSdk,
    Library,
    Order,
    aiohttp_transport,
    peers_installed,
)
from .harness import Control, cancel_everything

WORKERS = 10
COST = 10
CAPACITY, RATE = 500, 50.0
#: A user's backoff after a refusal: first wait, and the most it grows to (seconds).
BACKOFF_FIRST, BACKOFF_MAX = 0.5, 8.0


def allowance(seconds: float) -> float:
    return CAPACITY + RATE * seconds


def _bursts(timeline: list[float], gap: float = 1.0) -> list[list[float]]:
    """Completion times split wherever nothing completed for ``gap`` seconds."""
    groups: list[list[float]] = []
    for t in timeline:
        if not groups or t - groups[-1][-1] > gap:
            groups.append([])
        groups[-1].append(t)
    return groups


def long_run(timeline: list[float], seconds: float) -> tuple[float | None, str]:
    """Units per second after the opening burst, as a share of Kraken's 50, and how.

    "Budget used" depends on where a run stops for a client that sends a window's worth at
    once and then waits for the window (the library's sliding window): just after a window
    opens it is at its best, just before at its worst. So for such a client this takes the
    whole windows between the first and the last: their units over the time from the second
    window's start to the last one's. For a client that never pauses a second, it takes the
    second half of the run.
    """
    groups = _bursts(timeline)
    if len(groups) >= 3:
        units = COST * sum(len(g) for g in groups[1:-1])
        span = groups[-1][0] - groups[1][0]
        return units / span / RATE, f"{len(groups) - 2} whole window(s) after the first"
    if seconds <= 0:
        return None, ""
    half = seconds / 2
    units = COST * sum(1 for t in timeline if t >= half)
    return units / (seconds - half) / RATE, "second half of the run"


async def _cancel(contender: Contender, placed: Any) -> None:
    if isinstance(contender, Library):
        await contender.session.orders.cancel(order_id=placed.order_id)
    elif isinstance(contender, Ccxt):
        await contender.client.cancel_order(placed["id"], "BTC/USD:USD")
    elif isinstance(contender, KrakenSdk):
        order_id = placed["sendStatus"]["order_id"]
        await contender.client.request(
            "POST", "/derivatives/api/v3/cancelorder", post_params={"order_id": order_id}
        )


def refused(exc: BaseException) -> bool:
    """Whether a peer's exception is the exchange's ``apiLimitExceeded``."""
    name = type(exc).__name__
    return "RateLimit" in name or "ApiLimit" in name or "apiLimitExceeded" in str(exc)


async def _drive(
    contender: Contender, *, calls: int | None, seconds: float | None
) -> dict[str, Any]:
    """Place-and-cancel from ``WORKERS`` tasks until ``calls`` are done or ``seconds`` pass.

    A refused call is sent again after the worker's backoff (see the module's docstring); any
    other error is counted and the worker starts its next order. Then the workers are
    cancelled: calls still queued in a client's limiter never leave, so the run ends when its
    work is done, not when the last queued call gets its turn.
    """
    done: list[float] = []
    refused_at: list[float] = []
    errors = 0
    finished = asyncio.Event()
    started = time.perf_counter()
    rng = random.Random(0)

    def record() -> None:
        done.append(time.perf_counter() - started)
        if calls is not None and len(done) >= calls:
            finished.set()

    async def paced(call: Callable[[], Awaitable[Any]]) -> Any:
        nonlocal errors
        delay = BACKOFF_FIRST
        while True:
            try:
                result = await call()
            except Exception as exc:  # peers raise on apiLimitExceeded: count, back off, again
                errors += 1
                if not refused(exc):
                    raise
                refused_at.append(time.perf_counter() - started)
                await asyncio.sleep(delay * (0.5 + 0.5 * rng.random()))
                delay = min(BACKOFF_MAX, delay * 2)
                continue
            record()
            return result

    async def worker() -> None:
        while True:
            with contextlib.suppress(Exception):  # counted in paced()
                placed = await paced(contender.order)
                await paced(functools.partial(_cancel, contender, placed))

    workers = [asyncio.ensure_future(worker()) for _ in range(WORKERS)]
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(finished.wait(), timeout=seconds)
    for task in workers:
        task.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    return {
        "timeline": done[:calls] if calls is not None else done,
        "client_errors": errors,
        "refused_at": refused_at,
    }


async def _one(
    control: Control,
    contender: Contender,
    admin: Key,
    *,
    calls: int | None = None,
    seconds: float | None = None,
) -> dict[str, Any]:
    before = await control.meter()
    await contender.open()
    try:
        run = await _drive(contender, calls=calls, seconds=seconds)
    finally:
        await contender.aclose()
    after = await control.meter()
    await cancel_everything(control.url, admin)
    timeline: list[float] = run["timeline"]
    elapsed = timeline[-1] if timeline else 0.0
    if seconds is not None:
        elapsed = max(elapsed, seconds)
    admitted = after["admitted"] - before["admitted"]
    rate, how = long_run(timeline, elapsed)
    return {
        "contender": contender.name,
        "note": contender.note,
        "seconds": elapsed,
        "calls_ok": len(timeline),
        "units_admitted": admitted,
        "allowance": allowance(elapsed),
        "budget_used": admitted / allowance(elapsed) if elapsed else 0.0,
        "long_run_rate": rate,
        "long_run_how": how,
        "refusals": after["refused"] - before["refused"],
        "client_errors": run["client_errors"],
        "requests_sent": len(timeline) + run["client_errors"],
        "timeline": timeline,
        "refused_at": run["refused_at"],
    }


def _paced(contender: Contender) -> Contender:
    contender.note = (
        f"no limiter of its own; after apiLimitExceeded a worker waits {BACKOFF_FIRST} s "
        f"(doubling, at most {BACKOFF_MAX:.0f} s) and sends the call again"
    )
    return contender


async def run(control: Control, *, units: int, peer_seconds: float, peers: bool) -> dict[str, Any]:
    url = control.url
    await control.latency(0)
    await control.limits(True)
    order: Order = await control.order()
    admin = await control.new_key()
    meter = TrafficMeter()
    library = Library(
        "kraken_futures_async, default policy",
        url,
        await control.new_key(),
        order,
        transport=MeteredTransport(aiohttp_transport(), meter),
        note="RateLimitPolicy.card(): 500 units / 10.2 s window, 100 requests / 10 s",
    )
    row = await _one(control, library, admin, calls=units // COST)
    row["requests_sent"] = meter.total
    rows = [row]
    # The same without the automatic processBefore deadline: an order that waits its turn in
    # the limiter longer than the deadline is refused by the exchange and sent again, which
    # spends budget twice; this row shows the limiter on its own.
    meter = TrafficMeter()
    library = Library(
        "kraken_futures_async, default policy, no processBefore",
        url,
        await control.new_key(),
        order,
        transport=MeteredTransport(aiohttp_transport(), meter),
        order_safety=OrderSafety(process_before=None),
        note="OrderSafety(process_before=None)",
    )
    row = await _one(control, library, admin, calls=units // COST)
    row["requests_sent"] = meter.total
    rows.append(row)
    if peers and peers_installed():
        rows.append(
            await _one(
                control,
                Ccxt(
                    "ccxt krakenfutures, default rate limiter",
                    url,
                    await control.new_key(),
                    order,
                    rate_limited=True,
                ),
                admin,
                seconds=peer_seconds,
            )
        )
        rows.append(
            await _one(
                control,
                _paced(KrakenSdk("python-kraken-sdk (async)", url, await control.new_key(), order)),
                admin,
                seconds=peer_seconds,
            )
        )
    await control.limits(False)
    return {"workers": WORKERS, "cost_per_call": COST, "rows": rows}
