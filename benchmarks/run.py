"""``make bench``: every suite against one twin process, then the tables and the plots.

    python -m benchmarks [--quick] [--no-peers] [--only calls,fanout,...] [--out DIR]

Suites, in order (a few minutes in all on 2 cores):

* ``calls``     (a) client CPU and latency per call, library vs raw httpx/aiohttp vs peers
* ``fanout``    (b) every order book at once with 20 ms injected latency, vs the ideal
* ``sustained`` (c) private calls held against Kraken's budget: budget used, refusals
* ``parsing``   (d) ~300 tickers into models vs ``orjson.loads``
* ``cancel``    (e) a cancel right after a burst that spends the whole private budget
* ``transport``     httpx's own pool vs AiohttpTransport on a minimal server (bench_transport)
* ``streams``       client CPU per book update vs raw aiohttp + json.loads, and 50 books
                    sustained (benchmarks/streams.py; its own twin process)
* ``uws``           client CPU and latency of an order round trip (send, cancel) over UWS
                    against REST (benchmarks/uws_round_trip.py; its own twin process)

Peers (python-kraken-sdk, ccxt) join when the ``bench`` extra is installed. Results go to
``benchmarks/results/`` (results.md, headline.md, results.json, PNGs; not committed); a full
run also refreshes the committed copy: ``benchmarks/RESULTS.md`` and its plots in
``benchmarks/plots/``. ``--only cancel`` runs one suite alone (any comma-separated list).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from . import (
    bench_transport,
    calls,
    cancel,
    fanout,
    parsing,
    report,
    streams,
    sustained,
    uws_round_trip,
)
from .contenders import peers_installed
from .harness import Control, Served, median, twin_process

HERE = Path(__file__).parent
SUITES = ("calls", "fanout", "sustained", "parsing", "cancel", "transport", "streams", "uws")


def _default_transport() -> str:
    """What ``Session()`` builds when no transport is given."""
    from kraken_futures_async import Session

    async def probe() -> str:
        async with Session(base_url="http://127.0.0.1:9") as kf:
            transport = kf.backend.client._transport  # type: ignore[attr-defined]  # report only
            return type(transport).__name__

    name = asyncio.run(probe())
    return "httpx pool (AsyncHTTPTransport)" if name == "AsyncHTTPTransport" else name


async def _suites(served: Served, args: argparse.Namespace, results: dict[str, Any]) -> None:
    control = Control(served.url)
    peers = not args.no_peers and peers_installed()
    quick = args.quick
    try:
        if "calls" in args.only:
            _say("(a) client CPU and latency per call")
            results["calls"] = await calls.run(
                control,
                rounds=3 if quick else 9,
                calls=8 if quick else 30,
                ticker_calls=2 if quick else 6,
                limited_calls=2 if quick else 4,
                peers=peers,
            )
        if "fanout" in args.only:
            _say("(b) fan-out of every order book with 20 ms latency")
            results["fanout"] = await fanout.run(control, rounds=2 if quick else 7, peers=peers)
        if "sustained" in args.only:
            _say("(c) sustained private calls against the budget")
            results["sustained"] = await sustained.run(
                control,
                units=700 if quick else 1500,
                peer_seconds=3.0 if quick else 20.0,
                peers=peers,
            )
        if "parsing" in args.only:
            _say("(d) tickers into models")
            results["parsing"] = await parsing.run(
                control, rounds=3 if quick else 15, repeat=5 if quick else 30
            )
        if "cancel" in args.only:
            _say("(e) a cancel right after a burst of orders")
            results["cancel"] = await cancel.run(control, rounds=1 if quick else 3)
    finally:
        await control.aclose()


def _transport(quick: bool) -> list[dict[str, Any]]:
    _say("transport: httpx pool vs AiohttpTransport")
    measured = bench_transport.measure_transports(3 if quick else 15, 50 if quick else 200)
    medians = {name: median(values) for name, values in measured.items()}
    raw = medians["raw aiohttp.ClientSession"]
    return [
        {
            "contender": name,
            "cpu_us": value * 1e6,
            "cpu_us_min": min(measured[name]) * 1e6,
            "x_raw_aiohttp": value / raw,
        }
        for name, value in medians.items()
    ]


def _say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="few rounds: a smoke test")
    parser.add_argument("--no-peers", action="store_true", help="leave out ccxt and the sdk")
    parser.add_argument(
        "--only",
        type=lambda s: tuple(s.split(",")),
        default=SUITES,
        help=f"comma-separated suites (default: {','.join(SUITES)})",
    )
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    unknown = set(args.only) - set(SUITES)
    if unknown:
        parser.error(f"unknown suite(s): {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    command = (
        "make bench"
        if argv is None and not sys.argv[1:]
        else "python -m benchmarks " + (" ".join(sys.argv[1:] if argv is None else argv))
    )
    results: dict[str, Any] = {
        "meta": {
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": report.machine(),
            "command": command,
            "peers": peers_installed() and not args.no_peers,
            "default_transport": _default_transport(),
        }
    }
    with twin_process() as served:
        results["meta"]["server_loop"] = served.loop
        _wait_ready(served.url)
        asyncio.run(_suites(served, args, results))
    if "transport" in args.only:
        results["transport"] = _transport(args.quick)
    if "streams" in args.only:
        _say("streams: client CPU per book update, and 50 books sustained")
        results["streams"] = streams.run(
            seconds=3.0 if args.quick else 10.0,
            rounds=2 if args.quick else 5,
            round_seconds=2.0 if args.quick else 3.0,
            say=_say,
        )
    if "uws" in args.only:
        _say("uws: order round trips over UWS vs REST")
        results["uws"] = uws_round_trip.run(
            rounds=2 if args.quick else uws_round_trip.ROUNDS,
            orders=5 if args.quick else uws_round_trip.ORDERS,
            say=_say,
        )
    results["meta"]["seconds"] = time.perf_counter() - started
    results["meta"]["machine"]["load_1min_at_end"] = round(os.getloadavg()[0], 2)
    md = report.write(results, args.out)
    if not args.quick and set(args.only) == set(SUITES):
        _commit_copy(results, args.out)
    print(md.read_text())
    print(f"\nwritten to {args.out}/ in {results['meta']['seconds']:.0f} s", file=sys.stderr)
    return 0


def _commit_copy(results: dict[str, Any], out: Path) -> None:
    """The committed copy: ``benchmarks/RESULTS.md`` and its plots in ``benchmarks/plots/``
    (the raw per-run results in ``out`` stay out of git)."""
    plots = HERE / "plots"
    plots.mkdir(exist_ok=True)
    for old in plots.glob("*.png"):
        old.unlink()
    for name in results["meta"]["plots"]:
        shutil.copyfile(out / name, plots / name)
    (HERE / "RESULTS.md").write_text(report.markdown(results, plots_prefix="plots/"))


def _wait_ready(url: str) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(f"{url}/_bench/meter", timeout=2).raise_for_status()
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
