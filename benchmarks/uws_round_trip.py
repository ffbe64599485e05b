"""Order round trips over the Unified WebSocket against REST, on one served twin.

    python -m benchmarks.uws_round_trip [--rounds 10] [--orders 18] [--out DIR]
    python -m benchmarks --only uws

Two processes, so that the client's CPU is its own ``time.process_time``:

* the twin (``--role twin``): uvicorn on a loopback port, rate limits off, its REST face and
  its private socket (``/v2/private``, tokens from ``/0/private/GetWebSocketsToken``) on the
  same port; it answers ``cpu`` on stdin with its own process time;
* this process: two Sessions on the same account, ``Session(credentials)`` (REST, the
  default transport, no client rate limiter) and ``Session(credentials, backend="uws")``.

A round trip is ``orders.send`` of a limit buy 20 % under the market (it rests) until its ack,
then ``orders.cancel`` of it until its ack, so the book stays flat. A round runs ``--orders``
round trips on one backend, then as many on the other; which goes first alternates by round.

The round trips run back to back in bursts of :data:`BURST` (18 requests), one burst per
:data:`WINDOW` seconds on both backends: the UWS backend's own limiter admits 20 requests a
second (choice 11 of ``uws/routes.py``) and cannot be turned off, so longer bursts would
measure its waits as latency, and spacing every call instead measured the event loop's
wake-ups (about 1.2-2x the CPU of back-to-back calls, on REST alone). Client CPU is the
process time over the bursts alone (the waits between them left out), divided by their round
trips; the figure is the median over rounds, and the ratio UWS/REST is the median of the
rounds' own ratios (interleaved, so load on the machine hits both alike). The twin's CPU is
taken the same way from its process (its own market simulation included, alike for both).
Wall latency is each call's send-to-ack time, p50, p99 and max over every call.

Both Sessions run with ``check_orders=False``, so the client work compared is the wire's.
The UWS Session also receives its ``executions``, ``positions`` and ``balances`` pushes for
each order (its state for ``orders.open`` and order safety); that CPU is counted, as it is
part of what the backend costs (each burst's window stays open :data:`SETTLE` seconds after
its last ack, on both backends, for the pushes of its last order). Its heartbeats (once a
second when idle) rarely land in a burst.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import logging
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from .streams import Child, _commands, _run_loop, _say

HERE = Path(__file__).parent
SYMBOL = "PF_XBTUSD"
REST = "rest"
UWS = "uws"
BACKENDS = (REST, UWS)
LABELS = {REST: "REST (default transport)", UWS: 'UWS (backend="uws")'}
ROUNDS = 10
#: Round trips per backend per round.
ORDERS = 18
#: Round trips per burst (two requests each), and seconds from one burst's start to the
#: next: 18 requests a window, under the UWS limiter's 20 a second.
BURST = 9
WINDOW = 1.05
#: Seconds each burst's CPU window stays open after its last ack, on both backends, so the
#: UWS Session's pushes for that order are counted with it.
SETTLE = 0.02
#: A call slower than this (seconds) is listed by itself in the results.
SLOW = 1.0


# -- the twin ----------------------------------------------------------------------------------


class TwinChild(Child):
    """``python -m benchmarks.uws_round_trip --role twin``, spoken to in JSON lines."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.uws_round_trip", "--role", "twin"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )


async def _twin_role() -> None:
    import uvicorn

    from kraken_futures_async.simulator import Twin, TwinConfig
    from kraken_futures_async.simulator.twin import KEEP_ALIVE

    from .server import _bind

    twin = Twin(TwinConfig(seed=0, rate_limits=False))
    sock = _bind()
    config = uvicorn.Config(
        twin.app,
        access_log=False,
        log_level="warning",
        log_config=None,
        lifespan="on",
        timeout_keep_alive=KEEP_ALIVE,
    )
    server = uvicorn.Server(config)
    # the socket listens already: a client connecting before uvicorn is up waits in the backlog
    serving = asyncio.ensure_future(server.serve(sockets=[sock]))
    host, port = sock.getsockname()[:2]
    _say(
        {
            "url": f"http://{host}:{port}",
            "key": twin.key.public_key,
            "secret": twin.key.secret,
            "kraken_key": twin.kraken_key.public_key,
            "kraken_secret": twin.kraken_key.secret,
            "loop": type(asyncio.get_running_loop()).__module__.split(".")[0],
        }
    )
    commands = await _commands()
    try:
        while await commands.readline():
            _say({"cpu": time.process_time()})
    finally:
        server.should_exit = True
        await serving


# -- the client ----------------------------------------------------------------------------------


class Bursts:
    """Starts bursts at least ``window`` seconds apart (the wait is outside every measure)."""

    def __init__(self, window: float) -> None:
        self.window = window
        self._last = -math.inf

    async def next(self) -> None:
        left = self._last + self.window - time.perf_counter()
        if left > 0:
            await asyncio.sleep(left)
        self._last = time.perf_counter()


class Tally:
    """One backend's measurements across the rounds."""

    def __init__(self) -> None:
        self.cpu: list[float] = []  # seconds per round trip, one per round
        self.twin_cpu: list[float] = []
        self.send: list[float] = []
        self.cancel: list[float] = []
        self.round_trip: list[float] = []
        self.refused = 0
        #: Calls that took over :data:`SLOW` seconds: (round, call, seconds).
        self.slow: list[tuple[int, str, float]] = []

    def add(self, number: int, kind: str, seconds: float) -> None:
        (self.send if kind == "send" else self.cancel).append(seconds)
        if seconds > SLOW:
            self.slow.append((number, kind, round(seconds, 3)))


class Incidents(logging.Handler):
    """What the library logged at INFO or above during the run (retries, lookups, drops)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname} {record.name}: {record.getMessage()}")


async def _round_trips(kf: Any, tally: Tally, count: int, price: Decimal, number: int) -> None:
    """``count`` round trips (send, then cancel) on one Session, back to back."""
    from kraken_futures_async.models import OrderRequestStatus

    for _ in range(count):
        started = time.perf_counter()
        placed = await kf.orders.send(
            symbol=SYMBOL, side="buy", size=Decimal("0.0001"), limit_price=price
        )
        acked = time.perf_counter()
        tally.add(number, "send", acked - started)
        if placed.status is not OrderRequestStatus.PLACED or not placed.order_id:
            tally.refused += 1
            continue
        started_cancel = time.perf_counter()
        cancelled = await kf.orders.cancel(order_id=placed.order_id)
        done = time.perf_counter()
        tally.add(number, "cancel", done - started_cancel)
        tally.round_trip.append((acked - started) + (done - started_cancel))
        if cancelled.status is not OrderRequestStatus.CANCELLED:
            tally.refused += 1


async def _block(
    kf: Any,
    tally: Tally,
    orders: int,
    price: Decimal,
    bursts: Bursts,
    twin: Child | None = None,
    number: int = -1,
) -> tuple[float, float]:
    """``orders`` round trips in bursts of :data:`BURST`; the client's and the twin's CPU
    seconds over the bursts alone (never over the waits between them)."""
    cpu = twin_cpu = 0.0
    left = orders
    while left > 0:
        count = min(BURST, left)
        left -= count
        await bursts.next()
        gc.collect()
        twin_before = twin.ask(cpu=True)["cpu"] if twin is not None else 0.0
        started = time.process_time()
        await _round_trips(kf, tally, count, price, number)
        await asyncio.sleep(SETTLE)  # the pushes for the burst's last order, on UWS
        cpu += time.process_time() - started
        if twin is not None:
            twin_cpu += twin.ask(cpu=True)["cpu"] - twin_before
    return cpu, twin_cpu


async def _measure(
    hello: dict[str, Any], twin: Child, *, rounds: int, orders: int
) -> tuple[dict[str, Tally], list[float]]:
    from kraken_futures_async import Credentials, RateLimitPolicy, Session

    credentials = Credentials(
        hello["key"],
        hello["secret"],
        kraken_api_key=hello["kraken_key"],
        kraken_api_secret=hello["kraken_secret"],
    )
    url = hello["url"]
    sessions = {
        REST: Session(
            credentials,
            base_url=url,
            rate_limits=RateLimitPolicy.unlimited(),
            check_orders=False,
        ),
        UWS: Session(credentials, base_url=url, backend="uws", check_orders=False),
    }
    tallies = {name: Tally() for name in BACKENDS}
    ratios: list[float] = []
    bursts = Bursts(WINDOW)
    async with sessions[REST], sessions[UWS]:
        book = await sessions[REST].market.orderbook(SYMBOL)
        if book.best_bid is None:
            raise RuntimeError(f"the twin has no bid on {SYMBOL}")
        price = (book.best_bid.price * Decimal("0.8")).quantize(Decimal(1))
        for name in BACKENDS:  # warm up: pools, the socket, its token and subscriptions
            await _block(sessions[name], Tally(), BURST, price, bursts)
        for number in range(rounds):
            order = BACKENDS if number % 2 == 0 else BACKENDS[::-1]
            per_round: dict[str, float] = {}
            for name in order:
                tally = tallies[name]
                trips = len(tally.round_trip)
                cpu, twin_cpu = await _block(
                    sessions[name], tally, orders, price, bursts, twin, number
                )
                done = max(1, len(tally.round_trip) - trips)
                per_round[name] = cpu / done
                tally.cpu.append(cpu / done)
                tally.twin_cpu.append(twin_cpu / done)
            ratios.append(per_round[UWS] / per_round[REST])
        await sessions[REST].orders.cancel_all(SYMBOL)
    return tallies, ratios


def _pct(values: Sequence[float], fraction: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, math.ceil(fraction * len(ordered)))) - 1]


def _row(name: str, tally: Tally) -> dict[str, Any]:
    return {
        "backend": name,
        "label": LABELS[name],
        "round_trips": len(tally.round_trip),
        "refused": tally.refused,
        "cpu_us": statistics.median(tally.cpu) * 1e6,
        "cpu_us_rounds": [c * 1e6 for c in tally.cpu],
        "twin_cpu_us": statistics.median(tally.twin_cpu) * 1e6,
        "send_max_ms": max(tally.send, default=math.nan) * 1e3,
        "cancel_max_ms": max(tally.cancel, default=math.nan) * 1e3,
        "slow_calls": tally.slow,
        **{
            f"{kind}_p{int(q * 100)}_ms": _pct(values, q) * 1e3
            for kind, values in (
                ("send", tally.send),
                ("cancel", tally.cancel),
                ("round_trip", tally.round_trip),
            )
            for q in (0.5, 0.99)
        },
    }


def run(
    *,
    rounds: int = ROUNDS,
    orders: int = ORDERS,
    say: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Serve a twin in a child process, measure both backends in alternating rounds."""
    twin = TwinChild()
    incidents = Incidents()
    library = logging.getLogger("kraken_futures_async")
    level = library.level
    library.setLevel(logging.INFO)
    library.addHandler(incidents)
    try:
        hello = twin.answer()
        if say is not None:
            say(
                f"uws: {rounds} rounds of {orders} round trips per backend, "
                f"in bursts of {BURST}, twin at {hello['url']}"
            )
        tallies, ratios = asyncio.run(_measure(hello, twin, rounds=rounds, orders=orders))
    finally:
        library.removeHandler(incidents)
        library.setLevel(level)
        twin.close()
    rows = {name: _row(name, tallies[name]) for name in BACKENDS}
    rest, uws = rows[REST], rows[UWS]
    return {
        "symbol": SYMBOL,
        "rounds": rounds,
        "orders": orders,
        "burst": BURST,
        "window_s": WINDOW,
        "twin_loop": hello["loop"],
        "rows": [rest, uws],
        "x_cpu": statistics.median(ratios) if ratios else math.nan,
        "x_cpu_rounds": ratios,
        "logged": incidents.lines[:20],
        "logged_count": len(incidents.lines),
        "x": {
            key: uws[key] / rest[key]
            for key in rest
            if key.endswith("_ms") or key in ("cpu_us", "twin_cpu_us")
        },
    }


# -- the report ---------------------------------------------------------------------------------


def markdown(result: dict[str, Any]) -> list[str]:
    rest, uws = result["rows"]
    x = result["x"]

    def line(what: str, key: str, unit: str, digits: int) -> str:
        return (
            f"| {what} | {rest[key]:,.{digits}f} {unit} | {uws[key]:,.{digits}f} {unit} | "
            f"{x[key]:.2f}x |"
        )

    return [
        "",
        "## Order round trips: UWS vs REST on one served twin (benchmarks/uws_round_trip.py)",
        "",
        f"The twin in its own process ({result['twin_loop']} loop, rate limits off), both "
        "Sessions in this one on the same account: a limit buy 20 % under the market "
        f"({result['symbol']}) sent until its ack, then cancelled until its ack. "
        f"{result['rounds']} rounds of {result['orders']} round trips per backend, the order "
        f"of the backends alternating by round; back to back in bursts of {result['burst']} "
        f"round trips, one burst per {result['window_s']:g} s on both (the UWS backend's "
        "limiter admits 20 requests/s). Client CPU is this process's `time.process_time` over "
        "the bursts per round trip (send + cancel; the UWS Session's pushes for each order "
        "included), median of the rounds; the twin's likewise from its process. Latency is "
        "each call's send-to-ack wall time over every call. Lower is better.",
        "",
        f"UWS / REST client CPU per round trip (median of the rounds' ratios): "
        f"**{result['x_cpu']:.2f}x** (rounds: "
        f"{', '.join(f'{r:.2f}' for r in result['x_cpu_rounds'])}).",
        "",
        "| per order round trip | REST | UWS | UWS / REST |",
        "|---|---:|---:|---:|",
        line("client CPU (send + cancel), median of rounds", "cpu_us", "us", 0),
        line("send: wall p50", "send_p50_ms", "ms", 2),
        line("send: wall p99", "send_p99_ms", "ms", 2),
        line("cancel: wall p50", "cancel_p50_ms", "ms", 2),
        line("cancel: wall p99", "cancel_p99_ms", "ms", 2),
        line("send + cancel: wall p50", "round_trip_p50_ms", "ms", 2),
        line("send + cancel: wall p99", "round_trip_p99_ms", "ms", 2),
        line("send: wall max", "send_max_ms", "ms", 2),
        line("cancel: wall max", "cancel_max_ms", "ms", 2),
        line("twin's CPU (its own process)", "twin_cpu_us", "us", 0),
        f"| round trips measured (refused) | {rest['round_trips']} ({rest['refused']}) | "
        f"{uws['round_trips']} ({uws['refused']}) | |",
        f"| calls over {SLOW:g} s | {len(rest['slow_calls'])} | {len(uws['slow_calls'])} | |",
        *_notes(result),
    ]


def _notes(result: dict[str, Any]) -> list[str]:
    """The slow calls one by one, and what the library logged, if anything."""
    out: list[str] = []
    for row in result["rows"]:
        for number, kind, seconds in row["slow_calls"]:
            out.append(f"- {row['label']}: a {kind} in round {number} took {seconds:.3f} s")
    if result["logged_count"]:
        out.append(f"- the library logged {result['logged_count']} line(s) at INFO or above:")
        out += [f"  - `{text}`" for text in result["logged"]]
    return ["", *out] if out else []


def write(result: dict[str, Any], folder: Path, command: str) -> Path:
    """``uws_round_trip.md`` and ``uws_round_trip.json`` in ``folder`` (the suite run alone)."""
    folder.mkdir(parents=True, exist_ok=True)
    meta = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": command,
        "cores": os.cpu_count(),
        "load_1min_at_end": round(os.getloadavg()[0], 2),
    }
    (folder / "uws_round_trip.json").write_text(
        json.dumps({"meta": meta, "uws": result}, indent=1, default=str)
    )
    md = folder / "uws_round_trip.md"
    header = [
        "# Order round trip benchmark: UWS vs REST",
        "",
        f"- date: {meta['date']}, {meta['cores']} cores, 1-minute load at the end "
        f"{meta['load_1min_at_end']} (other work on the machine shows as noise: compare the "
        "ratio, from interleaved rounds)",
        f"- command: `{command}`",
    ]
    md.write_text("\n".join([*header, *markdown(result), ""]))
    return md


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.uws_round_trip",
        description=(__doc__ or "").split("\n\n")[0],
    )
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="alternating rounds")
    parser.add_argument(
        "--orders", type=int, default=ORDERS, help="round trips per backend per round"
    )
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--role", choices=("twin",), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.role == "twin":
        _run_loop(_twin_role(), uvloop=True)
        return 0
    result = run(
        rounds=args.rounds,
        orders=args.orders,
        say=lambda text: print(text, file=sys.stderr, flush=True),
    )
    command = "python -m benchmarks.uws_round_trip " + " ".join(
        sys.argv[1:] if argv is None else list(argv)
    )
    md = write(result, args.out, command.strip())
    print(md.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
