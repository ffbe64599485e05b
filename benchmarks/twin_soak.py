"""A soak of the served twin: steady trading for a while, its memory sampled (issue 17).

    python -m benchmarks.twin_soak --duration 600            # ten minutes, the issue's figure
    python -m benchmarks.twin_soak --duration 60 --json soak.json
    python -m benchmarks.twin_soak --trace 1500             # in-process: what grows, traced

It starts ``python -m kraken_futures_async.simulator`` in a process of its own on 127.0.0.1
(rate limits off) and trades against it at a steady pace over one connection pool: each cycle
a market order on one of three contracts (a fill), and a limit order far from the market that
is edited and cancelled; every tenth cycle the reads a bot makes (open orders, accounts,
fills, a page of history, the account log, tickers). The twin's resident memory (VmRSS) is
sampled every few seconds. The report gives memory at start and end, the growth rate over the
whole run, over its second half and over its last third (at the default pace of 30 cycles a
second the engine's caps are full after about six minutes: the tape's 10,000 trades last),
each extrapolated per hour and per 24 h; then how
fast the served twin refuses hostile bodies of 1, 2 and 4 MiB while it answers another call,
and how long the parser alone takes on them.

Loopback only; every loop is bounded in count and time: the soak stops by itself after
``--duration`` seconds (at most a day) and ends the twin.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import gc
import json
import os
import re
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

from kraken_futures_async.rest.signing import endpoint_path, sign
from kraken_futures_async.simulator.rest.form import parse_pairs

D = "/derivatives/api/v3"
#: (symbol, size) traded in turn: a linear BTC, a linear ETH and an inverse contract.
CONTRACTS = (("PF_XBTUSD", "0.001"), ("PF_ETHUSD", "0.01"), ("PI_XBTUSD", "10"))
#: A limit price far below every contract's market, on every tick grid: the order rests.
RESTING_PRICE = "1000"
MAX_DURATION = 86_400.0
HOSTILE_MIB = (1, 2, 4)


def _hostile(mib: int) -> bytes:
    return b"a&" * (mib << 19) + b"{"


@dataclass
class Twin:
    process: subprocess.Popen[str]
    url: str
    key: str
    secret: bytes


def start_twin() -> Twin:
    """The twin in its own process on 127.0.0.1, and the key it printed."""
    command = [sys.executable, "-m", "kraken_futures_async.simulator", "--port", "0"]
    command += ["--no-rate-limits", "--seed", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    banner = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        banner.append(line)
        if line.startswith("Ctrl-C"):
            break
    text = "".join(banner)
    url = re.search(r"on (http://127\.0\.0\.1:\d+)", text)
    key = re.search(r"API key:\s+(\S+)", text)
    secret = re.search(r"API secret:\s+(\S+)", text)
    if url is None or key is None or secret is None:
        process.kill()
        raise RuntimeError(f"the twin did not start:\n{text}")
    return Twin(process, url.group(1), key.group(1), base64.b64decode(secret.group(1)))


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc (Linux)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc")


@dataclass
class Soak:
    duration: float
    rate: float
    cycles: int = 0
    calls: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    samples: list[tuple[float, float]] = field(default_factory=list)


class Trader:
    """Signed calls to the twin, one strictly rising nonce each."""

    def __init__(self, key: str, secret: bytes, client: httpx.AsyncClient, soak: Soak) -> None:
        self._key, self._secret, self._client, self._soak = key, secret, client, soak
        self._nonce = time.time_ns() // 1000

    def _headers(self, path: str, query: str = "", body: str = "") -> dict[str, str]:
        # a microsecond clock, as real clients send: the twin's nonce memory stays a window
        self._nonce = max(self._nonce + 1, time.time_ns() // 1000)
        nonce = str(self._nonce)
        signature = sign(self._secret, query + body, nonce, endpoint_path(path))
        headers = {"APIKey": self._key, "Nonce": nonce, "Authent": signature}
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return headers

    def _tally(self, response: httpx.Response) -> dict[str, Any]:
        self._soak.calls += 1
        try:
            document = response.json()
        except ValueError:
            self._soak.answers[f"HTTP {response.status_code}"] += 1
            return {}
        if not isinstance(document, dict):
            return {"items": document}
        result = document.get("result")
        label = f"error {document.get('error')}" if result == "error" else "ok"
        for status_key in ("sendStatus", "editStatus", "cancelStatus"):
            if status_key in document:
                label = f"{status_key} {document[status_key].get('status')}"
        self._soak.answers[label] += 1
        return document

    async def post(self, path: str, **params: str) -> dict[str, Any]:
        body = urlencode(params)
        headers = self._headers(path, body=body)
        return self._tally(await self._client.post(path, content=body, headers=headers))

    async def get(self, path: str, **params: str) -> dict[str, Any]:
        query = urlencode(params)
        target = f"{path}?{query}" if query else path
        return self._tally(await self._client.get(target, headers=self._headers(path, query)))

    async def cycle(self, number: int) -> None:
        symbol, size = CONTRACTS[number % len(CONTRACTS)]
        side = "buy" if number % 2 else "sell"
        await self.post(f"{D}/sendorder", orderType="mkt", symbol=symbol, side=side, size=size)
        placed = await self.post(
            f"{D}/sendorder",
            orderType="lmt",
            symbol=symbol,
            side="buy",
            size=size,
            limitPrice=RESTING_PRICE,
            cliOrdId=f"soak-{number}",
        )
        order_id = placed.get("sendStatus", {}).get("order_id")
        if order_id:
            await self.post(f"{D}/editorder", orderId=order_id, limitPrice="1001")
            await self.post(f"{D}/cancelorder", order_id=order_id)
        if number % 10 == 0:
            await self.get(f"{D}/openorders")
            await self.get(f"{D}/accounts")
            await self.get(f"{D}/fills")
            await self.get("/api/history/v3/executions", count="100")
            await self.get("/api/history/v3/account-log", count="100")
            self._tally(await self._client.get(f"{D}/tickers"))


async def _sample(twin: Twin, soak: Soak, every: float, started: float) -> None:
    while True:
        soak.samples.append((time.monotonic() - started, rss_mb(twin.process.pid)))
        await asyncio.sleep(every)


async def trade(twin: Twin, soak: Soak, every: float) -> None:
    limits = httpx.Limits(max_connections=4, max_keepalive_connections=4)
    async with httpx.AsyncClient(base_url=twin.url, timeout=30, limits=limits) as client:
        trader = Trader(twin.key, twin.secret, client, soak)
        await trader.cycle(0)  # warm up: the listing, the books, the first account records
        started = time.monotonic()
        sampler = asyncio.ensure_future(_sample(twin, soak, every, started))
        try:
            next_at = started
            while time.monotonic() - started < soak.duration:
                soak.cycles += 1
                await trader.cycle(soak.cycles)
                next_at += 1 / soak.rate
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        finally:
            sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampler
        soak.samples.append((time.monotonic() - started, rss_mb(twin.process.pid)))


def _slope(points: list[tuple[float, float]]) -> float:
    """Least-squares growth, MB per second."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_m = sum(m for _, m in points) / n
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    if spread == 0:
        return 0.0
    return sum((t - mean_t) * (m - mean_m) for t, m in points) / spread


def growth(samples: list[tuple[float, float]]) -> dict[str, float]:
    half = samples[len(samples) // 2 :]
    tail = samples[len(samples) * 2 // 3 :]
    whole, second_half, late = _slope(samples), _slope(half), _slope(tail)
    return {
        "start_mb": samples[0][1],
        "end_mb": samples[-1][1],
        "peak_mb": max(m for _, m in samples),
        "half_start_mb": half[0][1],
        "whole_mb_per_hour": whole * 3600,
        "whole_mb_per_24h": whole * 86_400,
        "second_half_mb_per_hour": second_half * 3600,
        "second_half_mb_per_24h": second_half * 86_400,
        "last_third_mb_per_hour": late * 3600,
        "last_third_mb_per_24h": late * 86_400,
    }


async def hostile(twin: Twin) -> list[dict[str, Any]]:
    """Each hostile body sent together with a tickers call: both latencies, and the status."""
    found = []
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    async with httpx.AsyncClient(base_url=twin.url, timeout=120) as client:
        for mib in HOSTILE_MIB:
            body = _hostile(mib)

            async def timed(request: Any) -> tuple[float, int]:
                started = time.perf_counter()
                response = await request
                return time.perf_counter() - started, response.status_code

            (bad_s, bad_status), (ok_s, ok_status) = await asyncio.gather(
                timed(client.post(f"{D}/sendorder", content=body, headers=headers)),
                timed(client.get(f"{D}/tickers")),
            )
            found.append(
                {
                    "mib": mib,
                    "hostile_status": bad_status,
                    "hostile_ms": round(bad_s * 1000, 1),
                    "other_call_status": ok_status,
                    "other_call_ms": round(ok_s * 1000, 1),
                }
            )
    return found


def parser_alone() -> list[dict[str, Any]]:
    """The parser itself on the hostile shape (past the ceiling; here, in this process)."""
    found = []
    for mib in HOSTILE_MIB:
        body = _hostile(mib)
        started = time.perf_counter()
        parse_pairs(body)
        found.append({"mib": mib, "parse_s": round(time.perf_counter() - started, 3)})
    return found


def report(soak: Soak, memory: dict[str, float], attacks: list[dict[str, Any]],
           parsing: list[dict[str, Any]]) -> str:  # fmt: skip
    lines = [
        f"twin soak: {soak.duration:.0f} s at {soak.rate:g} cycles/s, {soak.cycles} cycles, "
        f"{soak.calls} calls",
        f"  answers: {dict(soak.answers.most_common())}",
        f"  twin RSS: start {memory['start_mb']:.1f} MB, end {memory['end_mb']:.1f} MB, "
        f"peak {memory['peak_mb']:.1f} MB",
        f"  growth, whole run:  {memory['whole_mb_per_hour']:+.2f} MB/h "
        f"-> {memory['whole_mb_per_24h']:+.1f} MB per 24 h",
        f"  growth, second half (from {memory['half_start_mb']:.1f} MB): "
        f"{memory['second_half_mb_per_hour']:+.2f} MB/h "
        f"-> {memory['second_half_mb_per_24h']:+.1f} MB per 24 h",
        f"  growth, last third: {memory['last_third_mb_per_hour']:+.2f} MB/h "
        f"-> {memory['last_third_mb_per_24h']:+.1f} MB per 24 h",
        "  hostile bodies (a&a&...{) with a tickers call alongside:",
    ]
    for row in attacks:
        lines.append(
            f"    {row['mib']} MiB: {row['hostile_status']} in {row['hostile_ms']} ms; "
            f"tickers {row['other_call_status']} in {row['other_call_ms']} ms"
        )
    lines.append("  parser alone on the same bodies: " + ", ".join(
        f"{row['mib']} MiB {row['parse_s']} s" for row in parsing))  # fmt: skip
    return "\n".join(lines)


async def trace_in_process(cycles: int, rate: float, top: int = 12) -> list[str]:
    """Where the twin's memory goes: the same trading in this process, traced.

    A twin on a manual clock (``1 / rate`` simulated seconds a cycle, so far faster than real
    time), its record caps at 300, is traded for ``cycles`` cycles, then ``cycles`` more;
    tracemalloc runs from the start (what the caps drop must have been traced) and the lines
    whose memory grew most between the two snapshots are listed. Caches that empty when
    full make the total swing either way; a leak grows at the same lines run after run.
    About a minute per 1,000 cycles (tracing is slow).
    """
    from kraken_futures_async.simulator import Retention, TwinConfig
    from kraken_futures_async.simulator import Twin as InProcessTwin
    from kraken_futures_async.simulator.clock import ManualClock

    clock = ManualClock()
    # the per-record caps small, so that they are full before the first snapshot: what
    # still grows after it is what no cap holds
    small = dict.fromkeys(("history", "account_log", "fills", "closed_orders"), 300)
    small.update(market_events=300, market_executions=300, tape=300)
    config = TwinConfig(clock=clock, rate_limits=False, retention=Retention(**small))
    twin = InProcessTwin(config)
    soak = Soak(duration=2 * cycles / rate, rate=rate)
    secret = base64.b64decode(twin.key.secret)
    transport = twin.transport()
    tracemalloc.start()
    try:
        async with httpx.AsyncClient(base_url="http://127.0.0.1", transport=transport) as client:
            trader = Trader(twin.key.public_key, secret, client, soak)
            for number in range(1, 2 * cycles + 1):
                clock.advance(1 / rate)
                await trader.cycle(number)
                if number == cycles:
                    gc.collect()
                    before = tracemalloc.take_snapshot()
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    ignored = [tracemalloc.Filter(False, tracemalloc.__file__)]
    stats = after.filter_traces(ignored).compare_to(before.filter_traces(ignored), "lineno")
    total = sum(stat.size_diff for stat in stats)
    simulated = cycles / rate
    lines = [
        f"in-process trace: {cycles} cycles ({simulated:.0f} simulated s) after {cycles} more; "
        f"traced memory {total:+,} B ({total / simulated * 3600 / 1e6:+.2f} MB per simulated h)"
    ]
    for stat in stats[:top]:
        frame = stat.traceback[0]
        lines.append(
            f"  {stat.size_diff:+12,} B {stat.count_diff:+8,} blocks (now {stat.size:,} B) "
            f"{frame.filename}:{frame.lineno}"
        )
    return lines


def soak_arguments(
    prog: str,
    description: str | None,
    rate: float,
    argv: list[str] | None,
    extra: Callable[[argparse.ArgumentParser], None] | None = None,
) -> argparse.Namespace:
    """--duration, --rate, --sample and --json, checked: every soak is bounded in time."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    if extra is not None:
        extra(parser)
    parser.add_argument("--duration", type=float, default=600.0, help="seconds (default 600)")
    parser.add_argument("--rate", type=float, default=rate, help=f"cycles per second ({rate:g})")
    parser.add_argument("--sample", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    if not 0 < args.duration <= MAX_DURATION or not args.rate > 0 or not args.sample > 0:
        parser.error(f"--duration must be in (0, {MAX_DURATION:.0f}], --rate and --sample > 0")
    return args


def _trace_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--trace",
        type=int,
        metavar="CYCLES",
        help="instead: trade an in-process twin on a manual clock and list with tracemalloc "
        "what grew over CYCLES cycles after CYCLES more (1 to 100,000)",
    )


def main(argv: list[str] | None = None) -> int:
    args = soak_arguments("python -m benchmarks.twin_soak", __doc__, 30.0, argv, _trace_argument)
    if args.trace is not None:
        if not 1 <= args.trace <= 100_000:
            raise SystemExit("--trace takes 1 to 100,000 cycles")
        print("\n".join(asyncio.run(trace_in_process(args.trace, args.rate))), flush=True)
        return 0
    soak = Soak(duration=args.duration, rate=args.rate)
    twin = start_twin()
    try:
        asyncio.run(trade(twin, soak, args.sample))
        memory = growth(soak.samples)
        attacks = asyncio.run(hostile(twin))
    finally:
        twin.process.terminate()
        try:
            twin.process.wait(10)
        except subprocess.TimeoutExpired:
            twin.process.kill()
    parsing = parser_alone()
    print(report(soak, memory, attacks, parsing), flush=True)
    if args.json:
        figures = {**asdict(soak), "memory": memory, "hostile": attacks, "parser": parsing}
        figures["answers"] = dict(soak.answers)
        figures["command"] = " ".join(["python -m benchmarks.twin_soak", *(argv or sys.argv[1:])])
        figures["pid_platform"] = os.uname().sysname
        with open(args.json, "w") as out:
            json.dump(figures, out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
