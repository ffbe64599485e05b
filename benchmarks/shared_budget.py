"""Many processes, one key: the shared budget (issue 14) on a served twin with a real Redis.

``python -m benchmarks.shared_budget`` runs, on Kraken's own budget (500 units / 10 s):

1. four OS processes on one key, each sending orders, cancels and reads as fast as the
   library lets it, for 20 s: refusals (``apiLimitExceeded``), nonce errors, the share of
   the budget used in aggregate, and how long cancels took;
2. the same with Redis stopped (SIGSTOP) for 5 s in the middle: refusals, and the fallback
   and the return as each process logged them;
3. the client CPU per call with the shared budget and with the in-process limiter, in one
   interleaved run (and Redis's own CPU per call beside it).

``tests/test_shared_budget_proof.py`` runs 1 and 2 shorter, with a small budget. Each worker
is this module run as ``python -m benchmarks.shared_budget worker '<json>'``: it prints
``ready`` once its Session is open and starts on a ``go`` line on its stdin, so the run
never depends on the clocks of the processes agreeing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import attrs

from kraken_futures_async import Credentials, RateLimitPolicy, Session
from kraken_futures_async.errors import KrakenFuturesError, NonceError, RateLimitError
from kraken_futures_async.ratelimit import WindowLimit
from kraken_futures_async.retry import RetryPolicy
from kraken_futures_async.shared_budget import SharedBudget
from kraken_futures_async.simulator import RunningTwin, Twin, TwinConfig, run_in_thread
from kraken_futures_async.simulator.config import BucketLimit

SYMBOL = "PF_XBTUSD"
_NO_DISK = ("--save", "", "--appendonly", "no", "--loglevel", "warning")
ROOT = Path(__file__).resolve().parent.parent


@attrs.frozen(kw_only=True)
class RunPlan:
    """One multi-process run: the budget (the twin's and the clients'), how long, Redis's
    pause."""

    processes: int = 4
    seconds: float = 20.0
    capacity: int = 500
    period: float = 10.0
    margin: float = 0.2
    #: (start, length) in seconds from the go signal; None: Redis stays up.
    redis_pause: tuple[float, float] | None = None
    fallback_share: float = 0.25
    #: Concurrent loops of sends and reads per process.
    loops: int = 3
    #: Seconds between two cancels of one process (the processes take turns). Cancels come
    #: from the reserve (10 % of the budget) right after a burst; the rule that keeps them
    #: from starving sends caps how many a window holds, so they are kept to what one would
    #: send, not a stream.
    cancel_interval: float = 10.0


@attrs.frozen(kw_only=True)
class RunResult:
    plan: RunPlan
    units_admitted: int
    refusals: int
    nonce_errors: int
    other_errors: dict[str, int]
    calls: int
    cancels: int
    cancel_max: float
    cancel_p99: float
    switch_logged: int
    return_logged: int
    #: Units the twin admitted over capacity * seconds / period.
    used: float


# --- a worker process ------------------------------------------------------------------


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


async def _work(config: dict[str, Any]) -> dict[str, Any]:
    credentials = Credentials(config["key"], config["secret"])
    policy = RateLimitPolicy(
        public_requests=None,
        private_requests=None,
        derivatives_budget=WindowLimit(config["capacity"], config["period"]),
        history_budget=None,
        margin=config["margin"],
    )
    shared = SharedBudget(url=config["redis"], fallback_share=config["fallback_share"])
    collect = _Collect()
    logging.getLogger("kraken_futures_async.shared_budget").addHandler(collect)
    logging.getLogger("kraken_futures_async.shared_budget").setLevel(logging.INFO)
    errors: Counter[str] = Counter()
    cancel_times: list[float] = []
    calls = 0
    loop = asyncio.get_running_loop()
    session = Session(
        credentials,
        base_url=config["url"],
        rate_limits=policy,
        retry=RetryPolicy.never(),
        check_orders=False,
        shared_budget=shared,
        deadline=60.0,
    )
    async with session as kf:
        book = await kf.market.orderbook(SYMBOL)
        far = (book.bids[0].price * Decimal("0.5")).quantize(Decimal(1))
        print("ready", flush=True)
        await loop.run_in_executor(None, sys.stdin.readline)
        stop = loop.time() + config["seconds"]
        resting: list[str] = []

        async def one() -> None:
            nonlocal calls
            while loop.time() < stop:
                try:
                    placed = await kf.orders.send(
                        symbol=SYMBOL, side="buy", size=Decimal("0.001"), limit_price=far
                    )
                    if placed.order_id:
                        resting.append(placed.order_id)
                    await kf.account.open_positions()
                    await kf.account.accounts()
                    calls += 3
                except RateLimitError:
                    errors["refusal"] += 1
                except NonceError:
                    errors["nonce"] += 1
                except KrakenFuturesError as exc:
                    errors[type(exc).__name__] += 1

        async def cancels() -> None:
            """A cancel now and then, right in the middle of everyone's burst."""
            nonlocal calls
            await asyncio.sleep(config["cancel_offset"])
            while loop.time() < stop:
                if resting:
                    started = loop.time()
                    try:
                        await kf.orders.cancel(order_id=resting.pop())
                        cancel_times.append(loop.time() - started)
                        calls += 1
                    except RateLimitError:
                        errors["refusal"] += 1
                    except NonceError:
                        errors["nonce"] += 1
                await asyncio.sleep(config["cancel_interval"])

        await asyncio.gather(cancels(), *(one() for _ in range(config["loops"])))
    cancel_times.sort()
    return {
        "calls": calls,
        "errors": dict(errors),
        "cancels": len(cancel_times),
        "cancel_max": cancel_times[-1] if cancel_times else 0.0,
        "cancel_p99": cancel_times[int(0.99 * (len(cancel_times) - 1))] if cancel_times else 0.0,
        "logs": collect.lines,
    }


def worker(raw: str) -> None:
    """Entry point of one worker process: its result as one JSON line on stdout."""
    result = asyncio.run(_work(json.loads(raw)))
    print(json.dumps(result), flush=True)


# --- the orchestra -----------------------------------------------------------------------


class LocalRedis:
    """``redis-server`` on a free loopback port, nothing saved to disk."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install -y redis-server)")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", *_NO_DISK],
            stdout=subprocess.DEVNULL,
        )
        give_up = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if time.monotonic() > give_up:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.01)

    def pause(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGCONT)
        self.process.terminate()
        self.process.wait(5)


def serve_twin(plan: RunPlan) -> RunningTwin:
    config = TwinConfig(derivatives_budget=BucketLimit(plan.capacity, plan.period))
    return run_in_thread(Twin(config), port=0)


class Pausable(Protocol):
    """A Redis server the run can stop for a while (SIGSTOP) and let go on."""

    url: str

    def pause(self) -> None: ...

    def resume(self) -> None: ...


def run_processes(plan: RunPlan, twin: RunningTwin, redis: Pausable) -> RunResult:
    """Start the workers, let them run together, pause Redis if asked, collect."""
    key = twin.twin.key
    config: dict[str, Any] = {
        "url": twin.url,
        "redis": redis.url,
        "key": key.public_key,
        "secret": key.secret,
        "capacity": plan.capacity,
        "period": plan.period,
        "margin": plan.margin,
        "seconds": plan.seconds,
        "fallback_share": plan.fallback_share,
        "loops": plan.loops,
        "cancel_interval": plan.cancel_interval,
    }
    environment = dict(os.environ, PYTHONPATH=str(ROOT))
    turn = plan.cancel_interval / plan.processes
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.shared_budget",
                "worker",
                json.dumps(config | {"cancel_offset": turn * (index + 0.5)}),
            ],
            cwd=ROOT,
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for index in range(plan.processes)
    ]
    try:
        for process in workers:
            assert process.stdout is not None
            line = process.stdout.readline()
            if line.strip() != "ready":
                raise RuntimeError(f"a worker did not start: {line!r}")
        meter = twin.twin.meter
        before = sum(meter.admitted.values())
        refused_before = sum(meter.refused.values())
        for process in workers:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        went = time.monotonic()
        if plan.redis_pause is not None:
            start, length = plan.redis_pause
            time.sleep(start)
            redis.pause()
            time.sleep(length)
            redis.resume()
        # the budget used is counted over the run's seconds (calls waiting at the end leave
        # after it)
        time.sleep(max(0.0, went + plan.seconds - time.monotonic()))
        units = sum(meter.admitted.values()) - before
        results = []
        for process in workers:
            out, _ = process.communicate(timeout=plan.seconds + 120)
            results.append(json.loads(out.strip().splitlines()[-1]))
            if process.returncode != 0:
                raise RuntimeError(f"a worker failed with {process.returncode}")
        twin_refusals = sum(meter.refused.values()) - refused_before
    finally:
        for process in workers:
            if process.poll() is None:
                process.kill()
                process.wait()
    errors: Counter[str] = Counter()
    for result in results:
        errors.update(result["errors"])
    logs = [line for result in results for line in result["logs"]]
    return RunResult(
        plan=plan,
        units_admitted=units,
        refusals=max(errors.pop("refusal", 0), twin_refusals),
        nonce_errors=errors.pop("nonce", 0),
        other_errors=dict(errors),
        calls=sum(result["calls"] for result in results),
        cancels=sum(result["cancels"] for result in results),
        cancel_max=max(result["cancel_max"] for result in results),
        cancel_p99=max(result["cancel_p99"] for result in results),
        switch_logged=sum("switching to the local fallback" in line for line in logs),
        return_logged=sum("answers again" in line for line in logs),
        used=units / (plan.capacity * plan.seconds / plan.period),
    )


# --- client CPU per call ----------------------------------------------------------------


def cpu_per_call(redis: LocalRedis) -> dict[str, float]:
    """:func:`_cpu_per_call` against ``python -m benchmarks.server`` in its own process."""
    server = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.server"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = json.loads(server.stdout.readline())["url"]
        return asyncio.run(_cpu_per_call(url, redis))
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(15)


async def _cpu_per_call(url: str, redis: LocalRedis) -> dict[str, float]:
    """Client CPU per private call, shared budget against in-process limiter, interleaved
    in rounds so both see the same machine. The twin serves in a process of its own (its
    CPU is not the client's) and meters nothing here."""
    import httpx
    from redis.asyncio import Redis

    policy = RateLimitPolicy(
        public_requests=None,
        private_requests=None,
        derivatives_budget=WindowLimit(10**6, 10.0),
        history_budget=None,
    )
    async with httpx.AsyncClient(base_url=url) as control:
        (await control.post("/_bench/limits", params={"on": "0"})).raise_for_status()
        body = (await control.post("/_bench/key")).json()
    credentials = Credentials(body["key"], body["secret"])
    local = Session(credentials, base_url=url, rate_limits=policy)
    shared = Session(credentials, base_url=url, rate_limits=policy, shared_budget=redis.url)
    spent = {"in-process": 0.0, "shared": 0.0}
    count = {"in-process": 0, "shared": 0}
    client = Redis.from_url(redis.url)
    redis_cpu = 0.0
    async with local, shared:
        for session in (local, shared):
            for _ in range(50):  # warm both pools and code paths
                await session.account.open_positions()
        for _ in range(10):
            for name, session in (("in-process", local), ("shared", shared)):
                info = await client.info("cpu")
                started = time.process_time()
                for _ in range(200):
                    await session.account.open_positions()
                spent[name] += time.process_time() - started
                count[name] += 200
                if name == "shared":
                    after = await client.info("cpu")
                    redis_cpu += sum(
                        float(after[field]) - float(info[field])
                        for field in ("used_cpu_user", "used_cpu_sys")
                    )
    await client.aclose()
    local_us = 1e6 * spent["in-process"] / count["in-process"]
    shared_us = 1e6 * spent["shared"] / count["shared"]
    return {
        "in_process_us": local_us,
        "shared_us": shared_us,
        "added_us": shared_us - local_us,
        "redis_us": 1e6 * redis_cpu / count["shared"],
    }


def _show(title: str, result: RunResult) -> None:
    plan = result.plan
    print(
        f"{title}: {plan.processes} processes, {plan.seconds:g} s, budget {plan.capacity} "
        f"units / {plan.period:g} s"
    )
    print(
        f"  calls {result.calls}, units admitted by the twin {result.units_admitted} "
        f"({100 * result.used:.1f} % of the budget), refusals {result.refusals}, "
        f"nonce errors {result.nonce_errors}, other errors {result.other_errors or 0}"
    )
    print(
        f"  cancels {result.cancels}: slowest {1000 * result.cancel_max:.1f} ms, "
        f"p99 {1000 * result.cancel_p99:.1f} ms; fallback logged {result.switch_logged}x, "
        f"return logged {result.return_logged}x"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.shared_budget",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=RunPlan().processes,
        help="OS processes on the one key (default: %(default)s)",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=RunPlan().seconds,
        help="seconds of each multi-process run; in the second, Redis is stopped for a "
        "quarter of it (at most 5 s) in the middle; runs of only a few 10 s windows "
        "overstate the share of the budget used (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    redis = LocalRedis()
    try:
        plan = RunPlan(processes=args.processes, seconds=args.seconds)
        twin = serve_twin(plan)
        try:
            _show("Redis up", run_processes(plan, twin, redis))
        finally:
            twin.stop()
        length = min(5.0, plan.seconds / 4)
        start = (plan.seconds - length) / 2
        paused = attrs.evolve(plan, redis_pause=(start, length))
        twin = serve_twin(paused)
        try:
            _show(
                f"Redis stopped {length:g} s (SIGSTOP at {start:g} s)",
                run_processes(paused, twin, redis),
            )
        finally:
            twin.stop()
        cpu = cpu_per_call(redis)
        print(
            "client CPU per call (open_positions, 2,000 calls each, interleaved; the twin in "
            "its own process): "
            f"in-process limiter {cpu['in_process_us']:.0f} us, shared budget "
            f"{cpu['shared_us']:.0f} us, added {cpu['added_us']:.0f} us; "
            f"Redis's own CPU {cpu['redis_us']:.0f} us per call"
        )
    finally:
        redis.stop()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "worker":  # internal: see the docstring
        worker(sys.argv[2])
    else:
        main()
