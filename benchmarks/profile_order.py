"""Where an order's client CPU goes: cProfile of ``orders.send`` against a served twin.

    python -m benchmarks.profile_order [--orders 1000] [--top 40]

The twin runs as ``kraken-futures sim`` in a process of its own, so the profile holds only
the client. Orders rest far below the market in batches of 500 (cancelled between batches,
outside the measurement); prints client CPU per order without the profiler, then the
library's functions by cumulative time with it. A diagnosis beside the ``calls`` suite's
ratios, not a benchmark: the profiler itself costs about as much as the code it watches.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import subprocess
import sys
import time
from decimal import Decimal
from typing import Any

from kraken_futures_async import Credentials, Session

from .calls import never_waiting

SYMBOL = "PF_XBTUSD"
BATCH = 500


def _serve() -> tuple[subprocess.Popen[str], dict[str, Any]]:
    command = [sys.executable, "-m", "kraken_futures_async", "sim", "--port", "0"]
    process = subprocess.Popen(
        [*command, "--json", "--no-rate-limits"], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    text = ""
    while not text.endswith("}\n"):
        line = process.stdout.readline()
        if not line:
            raise SystemExit("the twin did not start")
        text += line
    return process, json.loads(text)


async def _measure(orders: int, profiler: cProfile.Profile | None) -> float:
    """Client CPU seconds per order (profiled when ``profiler`` is given)."""
    process, served = _serve()
    try:
        credentials = Credentials(served["api_key"], served["api_secret"])
        async with Session(credentials, base_url=served["url"], rate_limits=never_waiting()) as kf:
            book = await kf.market.orderbook(SYMBOL)
            assert book.best_bid is not None
            price = (book.best_bid.price * Decimal("0.8")).quantize(Decimal(1))

            async def place(count: int) -> None:
                for _ in range(count):
                    await kf.orders.send(
                        symbol=SYMBOL, side="buy", size=Decimal("0.001"), limit_price=price
                    )

            await place(50)  # warm up: connections, caches, structure hooks
            await kf.orders.cancel_all()
            spent = 0.0
            for _ in range(max(1, orders // BATCH)):
                started = time.process_time()
                if profiler is not None:
                    profiler.enable()
                await place(BATCH)
                if profiler is not None:
                    profiler.disable()
                spent += time.process_time() - started
                await kf.orders.cancel_all()
            return spent / (max(1, orders // BATCH) * BATCH)
    finally:
        process.terminate()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    plain = asyncio.run(_measure(args.orders, None))
    print(f"client CPU per order, no profiler: {plain * 1e6:.0f} us")
    profiler = cProfile.Profile()
    asyncio.run(_measure(args.orders, profiler))
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats("kraken_futures_async", args.top)


if __name__ == "__main__":
    main()
