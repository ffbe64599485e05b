"""A soak of the library's client: steady trading through a Session, both processes' memory.

    python -m benchmarks.client_soak --duration 600          # ten minutes (issue 17's figure)

The twin runs in a process of its own on 127.0.0.1 (``benchmarks.twin_soak.start_twin``, rate
limits off); this process trades against it through one ``Session`` (its rate limits off too,
so the pace is the soak's): each cycle a market order and a limit order that is edited and
cancelled, every tenth cycle open orders, accounts, fills, a history page and the tickers.
The resident memory (VmRSS) of this process (the client) and of the twin is sampled every few
seconds; the report gives each one's growth over the whole run and its last third, per hour
and per 24 h. Loopback only; bounded in time by ``--duration`` (at most a day).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from kraken_futures_async import Credentials, RateLimitPolicy, Session

from .twin_soak import growth, rss_mb, soak_arguments, start_twin

CONTRACTS = (("PF_XBTUSD", Decimal("0.001")), ("PF_ETHUSD", Decimal("0.01")))
RESTING = Decimal(1000)


@dataclass
class Run:
    duration: float
    rate: float
    cycles: int = 0
    client: list[tuple[float, float]] = field(default_factory=list)
    twin: list[tuple[float, float]] = field(default_factory=list)


async def cycle(kf: Session, number: int) -> None:
    symbol, size = CONTRACTS[number % len(CONTRACTS)]
    side = "buy" if number % 2 else "sell"
    await kf.orders.send(symbol=symbol, side=side, size=size, order_type="mkt")
    placed = await kf.orders.send(symbol=symbol, side="buy", size=size, limit_price=RESTING)
    if placed.order_id:
        await kf.orders.edit(order_id=placed.order_id, limit_price=RESTING + 1)
        await kf.orders.cancel(order_id=placed.order_id)
    if number % 10 == 0:
        await kf.orders.open()
        await kf.account.accounts()
        await kf.orders.fills()
        await kf.history.executions(count=100)
        await kf.market.tickers()


async def soak(run: Run, every: float) -> None:
    twin = start_twin()
    try:
        credentials = Credentials(twin.key, base64.b64encode(twin.secret).decode())
        session = Session(credentials, base_url=twin.url, rate_limits=RateLimitPolicy.unlimited())
        async with session as kf:
            await cycle(kf, 0)  # warm up: pool, contract list, first records
            started = time.monotonic()

            async def sample() -> None:
                while True:
                    now = time.monotonic() - started
                    run.client.append((now, rss_mb(os.getpid())))
                    run.twin.append((now, rss_mb(twin.process.pid)))
                    await asyncio.sleep(every)

            sampler = asyncio.ensure_future(sample())
            try:
                next_at = started
                while time.monotonic() - started < run.duration:
                    run.cycles += 1
                    await cycle(kf, run.cycles)
                    next_at += 1 / run.rate
                    await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            finally:
                sampler.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sampler
    finally:
        twin.process.terminate()
        try:
            twin.process.wait(10)
        except subprocess.TimeoutExpired:
            twin.process.kill()


def report(run: Run) -> str:
    lines = [f"client soak: {run.cycles} cycles in {run.duration:.0f} s at {run.rate:g}/s"]
    for who, samples in (("client", run.client), ("twin", run.twin)):
        g = growth(samples)
        lines.append(
            f"  {who} RSS: start {g['start_mb']:.1f} MB, end {g['end_mb']:.1f} MB, "
            f"peak {g['peak_mb']:.1f} MB; whole run {g['whole_mb_per_hour']:+.1f} MB/h "
            f"({g['whole_mb_per_24h']:+.0f} MB/24 h); last third "
            f"{g['last_third_mb_per_hour']:+.1f} MB/h ({g['last_third_mb_per_24h']:+.0f} MB/24 h)"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = soak_arguments("python -m benchmarks.client_soak", __doc__, 20.0, argv)
    run = Run(duration=args.duration, rate=args.rate)
    asyncio.run(soak(run, args.sample))
    print(report(run), flush=True)
    if args.json:
        figures = {
            **asdict(run),
            "client_memory": growth(run.client),
            "twin_memory": growth(run.twin),
        }
        with open(args.json, "w") as out:
            json.dump(figures, out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
