"""Reads under the stress test's faults: every one succeeds within the retry budget.

Reads are idempotent, so the pipeline retries every way they can fail (drops, 5xx, timeouts,
garbled bodies, maintenance pages, rate-limit storms), each time signed with a fresh nonce.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from kraken_futures_async import Session
from kraken_futures_async.rest.endpoints import endpoint
from kraken_futures_async.simulator import FaultKind
from tests.rest_access import rest

from .test_safety_orders import retry_policy
from .test_safety_support import RecordingTransport, client_timeout, faulty_twin
from .virtual_clock import run_virtual

SEED = 7
ROUNDS = 143  # 1,001 reads
Read = Callable[[Session], Awaitable[Any]]

#: Cheap reads of every kind (the whole instrument list and all tickers are left out: they
#: cost milliseconds each to build and parse, and a thousand of them would prove nothing more).
READS: dict[str, Read] = {
    "ticker": lambda kf: kf.market.ticker("PF_XBTUSD"),
    "orderbook": lambda kf: kf.market.orderbook("PF_ETHUSD"),
    "accounts": lambda kf: kf.account.accounts(),
    "open_positions": lambda kf: kf.account.open_positions(),
    "open_orders": lambda kf: kf.orders.open(),
    "fills": lambda kf: kf.orders.fills(),
    "order_status": lambda kf: kf.orders.status(cli_ord_ids=["nothing-here"]),
}


def test_reads_under_faults_succeed_within_the_retry_budget() -> None:
    twin, _ = faulty_twin(seed=SEED)
    policy = retry_policy(SEED)
    transport = RecordingTransport(twin)

    async def scenario() -> tuple[list[BaseException], int, int]:
        # 1,001 reads queued at once take minutes to pass the rate limits, far longer than a
        # call's deadline (which counts the wait for the budget): this proof is about retries
        session = twin.session(
            retry=policy, timeout=client_timeout(5.0), transport=transport, deadline=None
        )
        async with session as kf:
            calls = [read(kf) for _ in range(ROUNDS) for read in READS.values()]
            results = await asyncio.gather(*calls, return_exceptions=True)
            pipeline = rest(kf).pipeline
            failures = [r for r in results if isinstance(r, BaseException)]
            return failures, pipeline.requests_sent, pipeline.retries

    (failures, sent, retries), _ = run_virtual(scenario)
    reads = ROUNDS * len(READS)
    faults = Counter(e.kind for e in twin.faults.events if e.operation in READS)
    print(f"\nreads={reads} requests={sent} retries={retries} faults={dict(faults)}")
    assert failures == []
    # every retry answered a fault, and no read needed more than its budget
    assert sent == reads + retries
    assert retries >= reads // 10
    assert sum(faults.values()) >= retries * 0.9
    for kind in (
        FaultKind.DROP_BEFORE,
        FaultKind.DROP_AFTER,
        FaultKind.SERVER_ERROR,
        FaultKind.SLOW_RESPONSE,
        FaultKind.MALFORMED,
    ):
        assert faults[kind] >= 10, kind
    # each retry was signed afresh: no nonce went out twice
    assert len(transport.nonces) > reads // 2
    assert len(set(transport.nonces)) == len(transport.nonces)
    assert all(endpoint(name).idempotent for name in READS)
