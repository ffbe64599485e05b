"""(a) Client CPU and latency per call: tickers, order book, a signed GET and an order.

Every contender runs the same four kinds of call in rounds of sequential calls; rounds are
interleaved (A, B, C, ... in a rotating order) so that a slower moment of the machine hits
everyone alike. The twin meters nothing here, and the library keeps its buckets at sizes that
never make it wait: their bookkeeping is measured, not their pacing (suite (c) measures that).
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from kraken_futures_async import RateLimitPolicy, WindowLimit

from .contenders import (
    Ccxt,
    Contender,
    Key,
    KrakenSdk,
    Library,
    Order,
    RawAiohttp,
    RawHttpx,
    aiohttp_transport,
    default_transport,
    peers_installed,
)
from .harness import Control, cancel_everything, median, pct, rotated, sequential

KINDS = ("tickers", "order book", "signed GET", "order")
RAW_AIOHTTP = "raw aiohttp + json.loads"
LIB_AIOHTTP = "kraken_futures_async, AiohttpTransport"
LIB_HTTPX = "kraken_futures_async, httpx pool"
RAW_OWN = {
    LIB_AIOHTTP: "raw httpx + AiohttpTransport + json.loads",
    LIB_HTTPX: "raw httpx + json.loads",
}


def never_waiting() -> RateLimitPolicy:
    """Every bucket of the default policy, each too big to ever make a call wait."""
    huge = WindowLimit(10**9, 10.0)
    return RateLimitPolicy(
        public_requests=huge,
        private_requests=huge,
        derivatives_budget=huge,
        history_budget=WindowLimit(10**9, 600.0),
    )


Maker = Callable[[str, Key, Order], Contender]


def contenders(*, peers: bool) -> list[Maker]:
    makers: list[Maker] = [
        lambda url, key, order: Library(
            LIB_AIOHTTP, url, key, order, transport=aiohttp_transport(), rate_limits=never_waiting()
        ),
        lambda url, key, order: Library(
            LIB_HTTPX, url, key, order, transport=default_transport(), rate_limits=never_waiting()
        ),
        lambda url, key, order: RawHttpx(RAW_OWN[LIB_HTTPX], url, key, order),
        lambda url, key, order: RawHttpx(
            RAW_OWN[LIB_AIOHTTP], url, key, order, transport=aiohttp_transport()
        ),
        lambda url, key, order: RawAiohttp(RAW_AIOHTTP, url, key, order),
    ]
    if peers:
        makers += [
            lambda url, key, order: KrakenSdk("python-kraken-sdk (async)", url, key, order),
            lambda url, key, order: Ccxt(
                "ccxt krakenfutures, no rate limiter", url, key, order, rate_limited=False
            ),
        ]
    return makers


@attrs.define
class Measured:
    contender: str
    kind: str
    note: str = ""
    #: Median client CPU per call of each round, in seconds.
    cpu: list[float] = attrs.Factory(list)
    latencies: list[float] = attrs.Factory(list)

    def row(self) -> dict[str, object]:
        return {
            "contender": self.contender,
            "kind": self.kind,
            "note": self.note,
            "cpu_us": median(self.cpu) * 1e6,
            "cpu_us_min": min(self.cpu) * 1e6 if self.cpu else None,
            "p50_ms": pct(self.latencies, 0.5) * 1e3,
            "p90_ms": pct(self.latencies, 0.9) * 1e3,
            "calls": len(self.latencies),
            "rounds": len(self.cpu),
        }


async def run(
    control: Control,
    *,
    rounds: int,
    calls: int,
    ticker_calls: int,
    limited_calls: int,
    peers: bool,
) -> list[dict[str, object]]:
    url = control.url
    await control.limits(False)
    await control.latency(0)
    order = await control.order()
    admin = await control.new_key()
    opened: list[Contender] = []
    for make in contenders(peers=peers and peers_installed()):
        contender = make(url, await control.new_key(), order)
        await contender.open()
        opened.append(contender)
    results = {(c.name, k): Measured(c.name, k, c.note) for c in opened for k in KINDS}
    try:
        for contender in opened:  # warm up: connections, caches, structure hooks
            for kind, call in contender.calls().items():
                await sequential(call, 2 if kind == "tickers" else 10)
        await cancel_everything(url, admin)
        for round_number in range(rounds):
            for contender in rotated(opened, round_number):
                for kind, call in contender.calls().items():
                    n = ticker_calls if kind == "tickers" else calls
                    batch = await sequential(call, n)
                    measured = results[(contender.name, kind)]
                    measured.cpu.append(batch.cpu_per_call)
                    measured.latencies.extend(batch.latencies)
                await cancel_everything(url, admin)
    finally:
        for contender in opened:
            await contender.aclose()
    rows = [m.row() for m in results.values()]
    if peers and peers_installed():
        rows += await _rate_limited_ccxt(url, await control.new_key(), order, limited_calls)
        await cancel_everything(url, admin)
    _add_ratios(rows)
    return rows


async def _rate_limited_ccxt(
    url: str, key: Key, order: Order, calls: int
) -> list[dict[str, object]]:
    """ccxt as it comes: one round of a few calls (each waits for its 600 ms turn)."""
    contender = Ccxt("ccxt krakenfutures, default rate limiter", url, key, order, rate_limited=True)
    await contender.open()
    rows = []
    try:
        for kind, call in contender.calls().items():
            batch = await sequential(call, calls)
            measured = Measured(contender.name, kind, contender.note)
            measured.cpu.append(batch.cpu_per_call)
            measured.latencies.extend(batch.latencies)
            rows.append(measured.row())
    finally:
        await contender.aclose()
    return rows


def _add_ratios(rows: list[dict[str, object]]) -> None:
    by = {(str(r["contender"]), str(r["kind"])): r for r in rows}
    for row in rows:
        kind = str(row["kind"])
        raw = by.get((RAW_AIOHTTP, kind))
        cpu = float(row["cpu_us"])  # type: ignore[arg-type]
        row["x_raw_aiohttp"] = cpu / float(raw["cpu_us"]) if raw else None  # type: ignore[arg-type]
        own = RAW_OWN.get(str(row["contender"]))
        own_row = by.get((own, kind)) if own else None
        row["x_own_raw"] = cpu / float(own_row["cpu_us"]) if own_row else None  # type: ignore[arg-type]
