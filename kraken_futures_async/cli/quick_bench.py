"""``kraken-futures bench``: sequential calls of each kind, then one fan-out of every book.

A job like those in :mod:`.jobs` (no printing, no argument parsing), kept apart from them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal

import attrs

from ..session import Session
from .jobs import Progress, _on_tick, find_instrument, order_size, plural
from .meter import LatencySummary
from .target import Connection

__all__ = ["BenchReport", "BenchRow", "bench"]


# --- a quick benchmark of whatever the command talks to -------------------------------------


@attrs.frozen
class BenchRow:
    kind: str
    calls: int
    latency: LatencySummary
    cpu_us_per_call: float
    calls_per_second: float


@attrs.frozen
class BenchReport:
    target: str
    rows: list[BenchRow]
    #: Whether the twin ran in this process (its CPU is then counted with the client's).
    in_process: bool


async def _timed(kind: str, calls: int, call: Callable[[], Awaitable[object]]) -> BenchRow:
    latencies: list[float] = []
    cpu = time.process_time()
    wall = time.perf_counter()
    for _ in range(calls):
        started = time.perf_counter()
        await call()
        latencies.append(time.perf_counter() - started)
    wall = time.perf_counter() - wall
    cpu = time.process_time() - cpu
    return BenchRow(kind, calls, LatencySummary.of(latencies), cpu / calls * 1e6, calls / wall)


async def bench(
    conn: Connection,
    progress: Progress,
    *,
    calls: int = 30,
    symbol: str = "PF_XBTUSD",
    orders: bool = True,
) -> BenchReport:
    """Sequential calls of each kind, then one concurrent fan-out of every order book.

    The defaults stay inside Kraken's budget: ``calls`` orders cost 10 units each.
    """
    kf = conn.session
    instruments = await kf.market.instruments()  # also warms the pool
    instrument = find_instrument(instruments, symbol)
    kinds: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        ("tickers", kf.market.tickers),
        ("order book", lambda: kf.market.orderbook(symbol)),
    ]
    if kf.has_credentials:
        kinds.append(("signed GET (open orders)", kf.orders.open))
        if orders:
            book = await kf.market.orderbook(symbol)
            if book.best_bid is not None:
                # far below the market: the orders rest, and are cancelled afterwards
                price = _on_tick(book.best_bid.price * Decimal("0.9"), instrument.tick_size)
                size = order_size(instrument, None)

                async def place() -> object:
                    return await kf.orders.send(
                        symbol=symbol, side="buy", size=size, limit_price=price
                    )

                kinds.append(("order (send)", place))

    rows: list[BenchRow] = []
    progress.start("sequential calls", total=len(kinds))
    try:
        for kind, call in kinds:
            rows.append(await _timed(kind, calls, call))
            progress.advance()
    finally:
        if kf.has_credentials and orders:
            await kf.orders.cancel_all(symbol)
    symbols = [i.symbol for i in instruments if i.tradeable]
    progress.start(f"fan-out of {plural(len(symbols), 'order book')}", total=1)
    rows.append(await _fan_out(kf, symbols))
    progress.stop()
    return BenchReport(conn.target.describe(), rows, in_process=conn.twin is not None)


async def _fan_out(kf: Session, symbols: Sequence[str]) -> BenchRow:
    latencies: list[float] = []

    async def one(symbol: str) -> None:
        started = time.perf_counter()
        await kf.market.orderbook(symbol)
        latencies.append(time.perf_counter() - started)

    cpu = time.process_time()
    wall = time.perf_counter()
    await asyncio.gather(*(one(s) for s in symbols))
    wall = time.perf_counter() - wall
    cpu = time.process_time() - cpu
    n = len(symbols)
    return BenchRow(
        f"fan-out ({plural(n, 'book')} at once)",
        n,
        LatencySummary.of(latencies),
        cpu / n * 1e6,
        n / wall,
    )
