"""5,000 concurrent signed calls on one Session against the whole twin: no nonce refused.

``test_sim_http_auth`` proves it for one read against a stand-in engine; here the calls
are order placements, three kinds of reads and dead man's switch calls on the real engine,
nothing retried (so any refusal by the twin would surface), and every nonce the transport
carried is checked to be unique.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from kraken_futures_async import RateLimitPolicy
from kraken_futures_async.retry import RetryPolicy
from kraken_futures_async.simulator import ManualClock, Twin, TwinConfig

from .test_safety_support import RecordingTransport

CALLS = 5000
#: One call in ten places an order: a resting bid far below the market.
ORDER_EVERY = 10


async def test_five_thousand_concurrent_signed_calls_meet_no_nonce_error() -> None:
    twin = Twin(TwinConfig(seed=9, clock=ManualClock(), rate_limits=False))
    transport = RecordingTransport(twin)
    session = twin.session(
        rate_limits=RateLimitPolicy.unlimited(), retry=RetryPolicy.never(), transport=transport
    )
    async with session as kf:
        price = (await kf.market.ticker("PF_XBTUSD")).mark_price
        assert price is not None
        bid = (price * Decimal("0.5")).quantize(Decimal(1))
        # reads whose answers stay small while a thousand orders rest
        reads: list[Callable[[], Awaitable[Any]]] = [
            lambda: kf.orders.status(cli_ord_ids=["nothing"]),
            lambda: kf.orders.fills(),
            lambda: kf.account.open_positions(),
            lambda: kf.orders.cancel_all_after(0),
        ]

        def call(i: int) -> Awaitable[Any]:
            if i % ORDER_EVERY == 0:
                return kf.orders.send(
                    symbol="PF_XBTUSD",
                    side="buy",
                    size=Decimal("0.0001"),
                    limit_price=bid,
                    cli_ord_id=f"n-{i}",
                )
            return reads[i % len(reads)]()

        before = len(transport.nonces)
        results = await asyncio.gather(*(call(i) for i in range(CALLS)), return_exceptions=True)
        open_orders = await kf.orders.open()
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []
    nonces = transport.nonces[before : before + CALLS]
    assert len(nonces) == CALLS
    assert len(set(nonces)) == CALLS
    assert len(open_orders) == CALLS // ORDER_EVERY
    assert twin.app.internal_errors == []
