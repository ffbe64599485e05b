"""(e) Cancel after a burst: how long a cancel waits when the private budget is spent.

A trading service that has just sent a burst of orders must still be able to take one back at
once. With the library's default rate-limit policy (``Session()`` as it comes) and a fresh API
key, 50 resting limit orders are sent at once (sendorder costs 10 units, so the burst is the
whole 500-unit ``/derivatives`` budget), and 50 ms later ``orders.cancel`` is called for the
first of them (by its client order id). Measured, from that call:

* when the cancel request *left the client*: the moment it reached the transport, after the
  limiter and the signing (a transport wrapper stamps every request);
* when its answer was back (the call returned).

Also counted: every order's leaving time, the requests sent, and ``apiLimitExceeded`` from
the twin (which must stay at 0). As in a running service, the pool is warmed with public
calls first and the contract list the library checks orders against is already fetched, so
neither connecting nor that fetch is part of the burst (a cancel called while every order
still waited for the list would overtake them all and find nothing to cancel).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import attrs
import httpx

from kraken_futures_async import Credentials, KrakenFuturesError, Session

from .contenders import SYMBOL, Key, Order, aiohttp_transport
from .harness import Control, cancel_everything, median

ORDERS = 50
COST = 10
DELAY = 0.050
#: The target (the project's performance targets, served twin): the cancel leaves within 1 s.
TARGET_S = 1.0
D_SEND = "/derivatives/api/v3/sendorder"
D_CANCEL = "/derivatives/api/v3/cancelorder"


@attrs.define
class Stamp:
    """One request: its path, when it left the client, when its answer was back, the body."""

    path: str
    left: float
    answered: float | None = None
    body: bytes = b""


class StampingTransport(httpx.AsyncBaseTransport):
    """Pass requests to ``inner``; note when each one left the client and when it came back."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner
        #: Every request, in the order they left.
        self.sent: list[Stamp] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        stamp = Stamp(request.url.path, time.perf_counter())
        self.sent.append(stamp)
        response = await self._inner.handle_async_request(request)
        stamp.body = await response.aread()
        stamp.answered = time.perf_counter()
        return httpx.Response(
            response.status_code,
            headers=response.headers.raw,
            content=stamp.body,
            request=request,
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


async def _round(control: Control, key: Key, order: Order, number: int) -> dict[str, Any]:
    stamps = StampingTransport(aiohttp_transport())
    before = await control.meter()
    async with Session(
        Credentials(key.key, key.secret), base_url=control.url, transport=stamps
    ) as kf:
        # Warm up as a running service would be: the pool (public calls, no cost units) and
        # the contract list that orders are checked against before sending (otherwise
        # fetched on the Session's first order); then forget those requests.
        await asyncio.gather(*(kf.market.orderbook(SYMBOL) for _ in range(ORDERS + 4)))
        await kf.instrument_rules.load()
        stamps.sent.clear()
        ids = [f"bench-burst-{number}-{i}" for i in range(ORDERS)]
        started = time.perf_counter()
        burst = [
            asyncio.ensure_future(
                kf.orders.send(
                    symbol=SYMBOL,
                    side="buy",
                    size=order.size,
                    limit_price=order.price,
                    cli_ord_id=cli_ord_id,
                )
            )
            for cli_ord_id in ids
        ]
        try:
            await asyncio.sleep(DELAY)
            called = time.perf_counter()
            try:
                cancelled = await kf.orders.cancel(cli_ord_id=ids[0])
                status = str(getattr(cancelled.status, "value", cancelled.status))
            except KrakenFuturesError as exc:  # e.g. notFound: the cancel overtook the order
                status = f"{type(exc).__name__}: {exc.message}"
            answered = time.perf_counter()
        finally:
            # Every order is answered before the Session closes.
            placed = await asyncio.gather(*burst, return_exceptions=True)
    after = await control.meter()
    cancels = [s for s in stamps.sent if s.path == D_CANCEL]
    sends = [s for s in stamps.sent if s.path == D_SEND]
    return {
        "cancel_left_s": cancels[0].left - called,
        "cancel_answer_s": answered - called,
        "cancel_status": status,
        "cancel_requests": len(cancels),
        "called_at_s": called - started,
        "cancel_left_at_s": cancels[0].left - started,
        "cancel_answered_at_s": answered - started,
        "orders_ok": sum(1 for p in placed if not isinstance(p, BaseException)),
        "order_errors": sorted({type(p).__name__ for p in placed if isinstance(p, BaseException)}),
        "order_requests": len(sends),
        "orders_left_at_s": sorted(s.left - started for s in sends),
        "orders_answered_at_s": sorted(
            s.answered - started for s in sends if s.answered is not None
        ),
        "refusals": after["refused"] - before["refused"],
        "refusals_seen": sum(1 for s in stamps.sent if b"apiLimitExceeded" in s.body),
    }


async def run(control: Control, *, rounds: int) -> dict[str, Any]:
    await control.latency(0)
    await control.limits(True)
    order = await control.order()
    admin = await control.new_key()
    results: list[dict[str, Any]] = []
    try:
        for number in range(rounds):
            # A fresh key each round: its budget starts full, as after a quiet spell.
            results.append(await _round(control, await control.new_key(), order, number))
            await cancel_everything(control.url, admin)
    finally:
        await control.limits(False)
    left = [r["cancel_left_s"] for r in results]
    total = [r["cancel_answer_s"] for r in results]
    return {
        "orders": ORDERS,
        "cost_per_order": COST,
        "delay_ms": DELAY * 1e3,
        "target_s": TARGET_S,
        "policy": "Session() default: RateLimitPolicy.card()",
        "rounds": results,
        "left_s_median": median(left),
        "left_s_max": max(left),
        "answer_s_median": median(total),
        "answer_s_max": max(total),
        "refusals": sum(r["refusals"] for r in results),
        "refusals_seen": sum(r["refusals_seen"] for r in results),
    }
