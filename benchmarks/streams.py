"""Streams: client CPU per book update against raw aiohttp + ``json.loads``, and a sustained run.

    python -m benchmarks.streams [--seconds 10] [--symbols 50] [--depth 25] [--out DIR]
    python -m benchmarks --only streams

Four processes, so that each CPU figure is one process's own ``time.process_time``:

* the twin (``--role twin``): uvicorn on a loopback port, wall clock, rate limits off, its
  ``UwsConfig`` at the defaults. A driver task in the same process keeps its books moving
  through its REST face (the twin's in-process transport, the library's ``orders.batch``):
  each batch cancels every symbol's previous order and places a new one a few ticks behind
  the best bid or ask, so every symbol's top 25 levels change once per batch (one or two
  levels, as Kraken's own updates mostly are). Left alone the twin pushes one update per
  symbol per second (its makers requote every second, moving the whole ladder), far too few;
  ``tick_interval`` cannot make it faster, orders can.
* the library (``--role lib``): ``kf.stream.book(symbol, depth)`` for each symbol, one task
  per iterator consuming the verified ``BookView`` states.
* raw aiohttp (``--role raw``): one websocket, the same subscribe frames (the library's own
  ``encode_request``), ``ws.receive()`` + ``json.loads`` of every message.

Both clients are subscribed at once and receive the same pushes from the same twin (one
update text per symbol and depth, sent to every subscriber). A round opens a window in both
(``start``), lets it run, closes it (``stop``): each reports its CPU, its updates and the
latency of each update. Which client hears ``start``/``stop`` first alternates by round.

CPU per update is CPU / book pushes received. The library's pushes are counted by a thin
wrapper around each subscription's sink ``deliver`` (charged to the library), its consumed
states by the iterators; the difference is conflation (states replaced before the consumer
asked). Latency: the twin stamps each book update with its wall clock (``SystemClock``) when
it makes the push, just before queueing it to every subscriber; the clients, on the same
machine, take ``time.time()`` when the update reaches the user (the library: the iterator
yields it; raw: ``json.loads`` returned). Both include the twin's own queueing and sending,
so the library's added latency is the difference between the two.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import itertools
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
LIB = "kraken_futures_async kf.stream.book"
RAW = "raw aiohttp ws.receive + json.loads"
#: The project's target: library CPU per book update at most this many times raw's.
TARGET_X = 3.0
#: Book updates per second the driver aims at in the CPU rounds (the sustained run: no aim).
CPU_RATE = 250
#: Symbols per account of the driver (see :class:`Driver`).
PER_ACCOUNT = 5
#: Frames queued to a client above which the driver waits (the twin's queue holds 1024).
BACKLOG = 20


# -- the line protocol between the parent and its children ------------------------------------


def _say(line: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


async def _commands() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


class Child:
    """A child process spoken to with JSON lines on stdin and stdout."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.streams", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, **command: Any) -> dict[str, Any]:
        self.send(**command)
        return self.answer()

    def send(self, **command: Any) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        stdin.write(json.dumps(command) + "\n")
        stdin.flush()

    def answer(self) -> dict[str, Any]:
        stdout = self.process.stdout
        assert stdout is not None
        line = stdout.readline()
        if not line:
            raise RuntimeError(f"{self.process.args!r} ended (exit {self.process.wait()})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# -- the twin and its driver -----------------------------------------------------------------


class Driver:
    """Keeps every symbol's book moving through the twin's REST face (``orders.batch``).

    Symbols are split between accounts of :data:`PER_ACCOUNT` symbols each: the twin checks
    an order's margin against every open order of its account, so one account holding an
    order on each of 50 symbols would make each placement several times dearer. Each account
    runs its own loop of rounds; a round cancels the account's previous orders and places one
    post-only order per symbol, a few ticks behind the best bid (even rounds) or ask (odd).

    The driver shares the twin's loop with its socket's senders; left unchecked it starves
    them, their queues fill and the twin closes both clients as slow consumers (1013) while
    the clients idle. So before each round a loop waits while any open connection has more
    than :data:`BACKLOG` frames queued: "as fast as it goes" is as fast as the twin delivers.
    """

    def __init__(self, twin: Any) -> None:
        self.twin = twin
        self.rounds = 0
        self.rejected = 0
        self.error: str | None = None
        self._sessions: list[Any] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._ids = itertools.count(1)
        self._rng = random.Random(0)
        self._rules: dict[str, Any] = {}

    async def start(self, symbols: Sequence[str], per_second: float) -> None:
        await self.stop()
        groups = [symbols[i : i + PER_ACCOUNT] for i in range(0, len(symbols), PER_ACCOUNT)]
        while len(self._sessions) < len(groups):
            self._sessions.append(await self._session())
        if not self._rules:
            self._rules = {i.symbol: i for i in await self._sessions[0].market.instruments()}
        for kf, group in zip(self._sessions, groups, strict=False):
            task = asyncio.create_task(self._run(kf, list(group), per_second))
            task.add_done_callback(self._ended)
            self._tasks.append(task)

    async def _session(self) -> Any:
        from kraken_futures_async import RateLimitPolicy
        from kraken_futures_async.retry import RetryPolicy

        key = self.twin.issue_key(self.twin.open_account())
        kf = self.twin.session(
            key, rate_limits=RateLimitPolicy.unlimited(), retry=RetryPolicy.never(), timeout=30.0
        )
        await kf.__aenter__()
        return kf

    async def _drained(self) -> None:
        """Wait while an open connection of the twin has more than BACKLOG frames queued (its
        queues have no event to wait on: poll every millisecond)."""
        connections = self.twin.app.uws.connections
        while True:
            backlog = (c.queue.qsize() for c in connections if c.close_code is None)
            if max(backlog, default=0) <= BACKLOG:
                return
            await asyncio.sleep(0.001)

    def _ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self.error = repr(task.exception())

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, kf: Any, symbols: list[str], per_second: float) -> None:
        from kraken_futures_async.resources._batch import BatchOrder

        live: dict[str, str] = {}
        quotes: dict[str, tuple[Decimal, Decimal]] = {}
        loop = asyncio.get_running_loop()
        quoted_at = -math.inf
        next_round = loop.time()
        for number in itertools.count():
            await self._drained()
            if loop.time() - quoted_at > 1.0:  # the makers requote every second
                for symbol in symbols:
                    ticker = await kf.market.ticker(symbol)
                    if ticker.bid and ticker.ask:
                        quotes[symbol] = (ticker.bid, ticker.ask)
                quoted_at = loop.time()
            batch = BatchOrder()
            buy = number % 2 == 0
            for symbol in symbols:
                if symbol in live:
                    batch.cancel(cli_ord_id=live.pop(symbol))
                rule, quote = self._rules[symbol], quotes.get(symbol)
                if quote is None or rule.tick_size is None or rule.size_step is None:
                    continue
                ticks = rule.tick_size * self._rng.randint(2, 12)
                cli_ord_id = f"bench-{next(self._ids)}"
                batch.send(
                    symbol=symbol,
                    side="buy" if buy else "sell",
                    size=rule.size_step,
                    limit_price=quote[0] - ticks if buy else quote[1] + ticks,
                    order_type="post",
                    cli_ord_id=cli_ord_id,
                )
                live[symbol] = cli_ord_id
            results = await kf.orders.batch(batch)
            self.rounds += 1
            self.rejected += sum(1 for r in results if not r.ok)
            if per_second > 0:
                next_round = max(next_round + 1 / per_second, loop.time() - 1)
                await asyncio.sleep(max(0.0, next_round - loop.time()))
            else:
                await asyncio.sleep(0)  # as fast as it goes: let the feed push in between

    async def aclose(self) -> None:
        await self.stop()
        for kf in self._sessions:
            with contextlib.suppress(Exception):
                await kf.orders.cancel_all()
            await kf.__aexit__(None, None, None)


async def _twin_role() -> None:
    import uvicorn

    from kraken_futures_async.simulator import Twin, TwinConfig

    from .server import _bind

    twin = Twin(TwinConfig(seed=0, rate_limits=False))
    sock = _bind()
    config = uvicorn.Config(
        twin.app, access_log=False, log_level="warning", log_config=None, lifespan="on"
    )
    server = uvicorn.Server(config)
    serving = asyncio.ensure_future(server.serve(sockets=[sock]))
    host, port = sock.getsockname()[:2]
    _say({"url": f"http://{host}:{port}", "config": repr(twin.app.uws.config)})
    driver = Driver(twin)
    feed = twin.app.uws.feed
    commands = await _commands()
    try:
        while line := await commands.readline():
            command = json.loads(line)
            if "drive" in command:
                await driver.start(command["drive"], command.get("per_second", 0))
            elif command.get("halt"):
                await driver.stop()
            _say(
                {
                    "sent": feed.updates_sent,
                    "batches": driver.rounds,
                    "rejected": driver.rejected,
                    "error": driver.error,
                    "cpu": time.process_time(),
                    "wall": time.perf_counter(),
                }
            )
    finally:
        await driver.aclose()
        server.should_exit = True
        await serving


# -- the clients -----------------------------------------------------------------------------


class Window:
    """What one client counts between ``start`` and ``stop``."""

    def __init__(self) -> None:
        self.on = False
        self.pushes = 0  # book updates received
        self.snapshots = 0
        self.consumed = 0  # states the user got
        self.stamps: list[tuple[float, Any]] = []  # (received, the update's timestamp)
        self.cpu = 0.0
        self.wall = 0.0

    def start(self) -> None:
        self.pushes = self.snapshots = self.consumed = 0
        self.stamps = []
        self.on = True
        self.wall = time.perf_counter()
        self.cpu = time.process_time()

    def stop(self, sent_at: Callable[[Any], float], **extra: Any) -> dict[str, Any]:
        cpu = time.process_time() - self.cpu
        wall = time.perf_counter() - self.wall
        self.on = False
        latencies = sorted(received - sent_at(stamp) for received, stamp in self.stamps)
        return {
            "cpu": cpu,
            "wall": wall,
            "pushes": self.pushes,
            "snapshots": self.snapshots,
            "consumed": self.consumed,
            "latency_p50": _pct(latencies, 0.5),
            "latency_p99": _pct(latencies, 0.99),
            "latency_max": latencies[-1] if latencies else math.nan,
            **extra,
        }


async def _serve_window(window: Window, sent_at: Callable[[Any], float], extra: Any) -> None:
    commands = await _commands()
    while line := await commands.readline():
        command = json.loads(line)
        if command.get("start"):
            window.start()
            _say({"started": True})
        elif command.get("stop"):
            _say(window.stop(sent_at, **extra()))


async def _lib_role(url: str, symbols: list[str], depth: int) -> None:
    from kraken_futures_async import Session

    window = Window()
    async with Session(base_url=url) as kf:
        subscriptions = [kf.stream.book(symbol, depth) for symbol in symbols]
        async with contextlib.AsyncExitStack() as stack:
            await asyncio.gather(*(stack.enter_async_context(s) for s in subscriptions))
            for subscription in subscriptions:
                _count_pushes(subscription, window)

            async def consume(subscription: Any) -> None:
                async for view in subscription:
                    window.consumed += 1
                    if window.on:
                        window.stamps.append((time.time(), view.timestamp))

            tasks = [asyncio.create_task(consume(s)) for s in subscriptions]
            source = kf.stream.source

            def extra() -> dict[str, Any]:
                return {
                    "resyncs": sum(s.resyncs for s in subscriptions),
                    "reconnects": getattr(source, "reconnects", 0),
                    "failed": sum(1 for t in tasks if t.done()),
                }

            _say({"ready": True})
            await _serve_window(window, lambda stamp: stamp.timestamp(), extra)
            for task in tasks:
                task.cancel()


def _count_pushes(subscription: Any, window: Window) -> None:
    """Count book pushes as the library receives them (a wrapper on the sink's ``deliver``)."""
    sink = subscription._sink
    deliver = sink.deliver

    def counted(kind: str, data: Any) -> None:
        if kind == "update":
            window.pushes += 1
        else:
            window.snapshots += 1
        deliver(kind, data)

    sink.deliver = counted


async def _raw_role(url: str, symbols: list[str], depth: int) -> None:
    import aiohttp

    from kraken_futures_async.uws.protocol import ASSET_CLASS, encode_request

    window = Window()
    closed: list[int | None] = []
    ws_url = url.replace("http://", "ws://") + "/v2/public"
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(ws_url, max_msg_size=4 * 1024 * 1024) as ws,
    ):
        for req_id, symbol in enumerate(symbols, 1):
            params = {
                "channel": "book",
                "symbol": [symbol],
                "depth": depth,
                "snapshot": True,
                "asset_class": ASSET_CLASS,
            }
            await ws.send_str(encode_request("subscribe", params, req_id))

        async def read() -> None:
            while True:
                message = await ws.receive()
                if message.type is aiohttp.WSMsgType.TEXT:
                    frame = json.loads(message.data)
                    if frame.get("channel") == "book":
                        if frame.get("type") == "update":
                            window.pushes += 1
                        else:
                            window.snapshots += 1
                        window.consumed += 1
                        if window.on:
                            window.stamps.append((time.time(), frame["data"][0]["timestamp"]))
                elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                    closed.append(ws.close_code)
                    return
                elif message.type is aiohttp.WSMsgType.ERROR:
                    closed.append(None)
                    return

        reader = asyncio.create_task(read())
        _say({"ready": True})
        await _serve_window(
            window,
            lambda stamp: dt.datetime.fromisoformat(stamp).timestamp(),
            lambda: {"closed": list(closed)},
        )
        reader.cancel()


# -- the parent --------------------------------------------------------------------------------


def _pct(values: Sequence[float], fraction: float) -> float:
    if not values:
        return math.nan
    return values[min(len(values), max(1, math.ceil(fraction * len(values)))) - 1]


def _window(
    twin: Child, clients: dict[str, Child], seconds: float, order: list[str]
) -> dict[str, Any]:
    """One window in every client; the twin's counters read just around it."""
    before = twin.ask(stats=True)
    for name in order:
        clients[name].send(start=True)
    for name in order:
        clients[name].answer()
    time.sleep(seconds)
    for name in order:
        clients[name].send(stop=True)
    results = {name: clients[name].answer() for name in order}
    after = twin.ask(stats=True)
    wall = after["wall"] - before["wall"]
    return {
        "twin_sent": after["sent"] - before["sent"],
        "twin_batches": after["batches"] - before["batches"],
        "twin_rejected": after["rejected"] - before["rejected"],
        "twin_cpu_share": (after["cpu"] - before["cpu"]) / wall,
        "seconds": wall,
        **results,
    }


def _row(name: str, windows: list[dict[str, Any]]) -> dict[str, Any]:
    """One client over several windows: sums, and CPU per update per window (median)."""
    mine = [w[name] for w in windows]
    pushes = sum(m["pushes"] for m in mine)
    seconds = sum(m["wall"] for m in mine)
    per_update = [m["cpu"] / m["pushes"] for m in mine if m["pushes"]]
    return {
        "contender": name,
        "pushes": pushes,
        "consumed": sum(m["consumed"] for m in mine),
        "pushes_per_s": pushes / seconds,
        "consumed_per_s": sum(m["consumed"] for m in mine) / seconds,
        "cpu_us": statistics.median(per_update) * 1e6 if per_update else math.nan,
        "cpu_share": sum(m["cpu"] for m in mine) / seconds,
        "latency_p50_ms": statistics.median(m["latency_p50"] for m in mine) * 1e3,
        "latency_p99_ms": max(m["latency_p99"] for m in mine) * 1e3,
        "latency_max_ms": max(m["latency_max"] for m in mine) * 1e3,
        "resyncs": mine[-1].get("resyncs"),
        "reconnects": mine[-1].get("reconnects"),
        "closed": mine[-1].get("closed"),
    }


def _ratios(windows: list[dict[str, Any]]) -> list[float]:
    return [
        (w[LIB]["cpu"] / w[LIB]["pushes"]) / (w[RAW]["cpu"] / w[RAW]["pushes"])
        for w in windows
        if w[LIB]["pushes"] and w[RAW]["pushes"]
    ]


def run(
    *,
    seconds: float = 10.0,
    symbols: int = 50,
    depth: int = 25,
    rounds: int = 5,
    round_seconds: float = 3.0,
    cpu_rate: float = CPU_RATE,
    say: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    def log(text: str) -> None:
        if say is not None:
            say(text)

    twin = Child("--role", "twin")
    clients: dict[str, Child] = {}
    try:
        hello = twin.answer()
        url = hello["url"]
        names = _symbols(url, symbols)
        for name, role in ((LIB, "lib"), (RAW, "raw")):
            clients[name] = Child(
                "--role", role, "--url", url, "--depth", str(depth), "--names", ",".join(names)
            )
        for client in clients.values():
            if not client.answer().get("ready"):
                raise RuntimeError("a client did not subscribe")
        log(f"streams: {len(names)} books at depth {depth}, CPU rounds at {cpu_rate:g} updates/s")
        twin.ask(drive=names, per_second=cpu_rate / len(names))
        time.sleep(1.0)  # warm up: the first batches, the quotes
        cpu_windows = []
        for number in range(rounds):
            order = [LIB, RAW] if number % 2 == 0 else [RAW, LIB]
            cpu_windows.append(_window(twin, clients, round_seconds, order))
        log(f"streams: sustained, the twin as fast as it goes, {seconds:g} s")
        twin.ask(drive=names, per_second=0)
        time.sleep(1.0)
        sustained = _window(twin, clients, seconds, [LIB, RAW])
        twin.ask(halt=True)
    finally:
        for client in clients.values():
            client.close()
        twin.close()
    ratios = _ratios(cpu_windows)
    return {
        "symbols": len(names),
        "depth": depth,
        "twin_config": hello["config"],
        "cpu": {
            "rounds": rounds,
            "round_seconds": round_seconds,
            "aimed_per_s": cpu_rate,
            "twin_sent_per_s": sum(w["twin_sent"] for w in cpu_windows)
            / sum(w["seconds"] for w in cpu_windows),
            "rows": [_row(LIB, cpu_windows), _row(RAW, cpu_windows)],
            "x_raw": statistics.median(ratios) if ratios else math.nan,
            "x_raw_rounds": ratios,
            "target_x": TARGET_X,
            "windows": cpu_windows,
        },
        "sustained": {
            "seconds": sustained["seconds"],
            "twin_sent_per_s": sustained["twin_sent"] / sustained["seconds"],
            "twin_batches": sustained["twin_batches"],
            "twin_rejected": sustained["twin_rejected"],
            "twin_cpu_share": sustained["twin_cpu_share"],
            "rows": [_row(LIB, [sustained]), _row(RAW, [sustained])],
            "x_raw": (_ratios([sustained]) or [math.nan])[0],
            "window": sustained,
        },
    }


def _symbols(url: str, count: int) -> list[str]:
    """The first ``count`` tradeable perpetuals (PF_), as the twin lists them."""
    import httpx

    answer = httpx.get(f"{url}/derivatives/api/v3/instruments", timeout=30)
    answer.raise_for_status()
    listed = [i["symbol"] for i in answer.json()["instruments"] if i.get("tradeable")]
    perpetuals = [s for s in listed if s.startswith("PF_")]
    if len(perpetuals) < count:
        raise RuntimeError(f"the twin lists {len(perpetuals)} perpetuals, fewer than {count}")
    return perpetuals[:count]


# -- the report ---------------------------------------------------------------------------------


def markdown(streams: dict[str, Any]) -> list[str]:
    cpu, sus = streams["cpu"], streams["sustained"]
    met = "met" if cpu["x_raw"] <= cpu["target_x"] else "NOT met"
    out = [
        "",
        f"## Streams: {streams['symbols']} books at depth {streams['depth']} "
        "(benchmarks/streams.py)",
        "",
        "The twin in its own process (wall clock, its UWS defaults), its books kept moving by "
        "batches of orders through its REST face (one update per symbol per batch); the "
        "library (`kf.stream.book`, one iterator per symbol) and a raw aiohttp client "
        "(`ws.receive()` + `json.loads`, the same subscribe frames) each in a process of its "
        "own, subscribed at once, receiving the same pushes. CPU is each client process's "
        "`time.process_time` over the same window, per book update received. Latency is from "
        "the twin's timestamp on the update (its wall clock when it made the push) to the "
        "update reaching the user (the library: yielded by the iterator; raw: `json.loads` "
        "returned); it includes the twin's own queueing. Lower is better, except updates/s.",
        "",
        f"### CPU per book update ({cpu['rounds']} rounds of {cpu['round_seconds']:g} s, "
        f"the driver aiming at {cpu['aimed_per_s']:g} updates/s: "
        f"{cpu['twin_sent_per_s']:.0f} sent)",
        "",
        f"Library / raw (median of the rounds' ratios): **{cpu['x_raw']:.2f}x** "
        f"(target <= {cpu['target_x']:g}x: {met}"
        f"; rounds: {', '.join(f'{x:.2f}' for x in cpu['x_raw_rounds'])}).",
        "",
        *_table(cpu["rows"]),
        "",
        f"### Sustained: the twin as fast as it goes, {sus['seconds']:.1f} s",
        "",
        f"The twin sent {sus['twin_sent_per_s']:.0f} book updates/s ({sus['twin_batches']} "
        f"batches, {sus['twin_rejected']} rejected instructions; the twin's process used "
        f"{sus['twin_cpu_share'] * 100:.0f} % of a core). Library / raw CPU per update in this "
        f"window: {sus['x_raw']:.2f}x.",
        "",
        *_table(sus["rows"]),
    ]
    return out


def _table(rows: list[dict[str, Any]]) -> list[str]:
    out = [
        "| client | updates received/s | states consumed/s | CPU us/update (median) "
        "| CPU share of a core | latency p50 | p99 | max | resyncs | reconnects / closes |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        links = r["reconnects"] if r["closed"] is None else (r["closed"] or 0)
        out.append(
            f"| {r['contender']} | {r['pushes_per_s']:.0f} | {r['consumed_per_s']:.0f} | "
            f"{r['cpu_us']:.1f} | {r['cpu_share'] * 100:.0f} % | "
            f"{r['latency_p50_ms']:.2f} ms | {r['latency_p99_ms']:.2f} ms | "
            f"{r['latency_max_ms']:.1f} ms | {'-' if r['resyncs'] is None else r['resyncs']} | "
            f"{links} |"
        )
    return out


def write(streams: dict[str, Any], folder: Path, command: str) -> Path:
    """``streams.md`` and ``streams.json`` in ``folder`` (the suite run alone)."""
    folder.mkdir(parents=True, exist_ok=True)
    meta = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": command,
        "cores": os.cpu_count(),
        "load_1min_at_end": round(os.getloadavg()[0], 2),
    }
    (folder / "streams.json").write_text(
        json.dumps({"meta": meta, "streams": streams}, indent=1, default=str)
    )
    md = folder / "streams.md"
    header = [
        "# Stream benchmark",
        "",
        f"- date: {meta['date']}, {meta['cores']} cores, 1-minute load at the end "
        f"{meta['load_1min_at_end']}",
        f"- command: `{command}`",
    ]
    md.write_text("\n".join([*header, *markdown(streams), ""]))
    return md


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.streams", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="sustained run (s)")
    parser.add_argument("--symbols", type=int, default=50, help="books subscribed")
    parser.add_argument("--depth", type=int, default=25, help="levels a side (10, 25, ...)")
    parser.add_argument("--rounds", type=int, default=5, help="CPU rounds (median)")
    parser.add_argument("--round-seconds", type=float, default=3.0, help="one CPU round (s)")
    parser.add_argument(
        "--cpu-rate", type=float, default=CPU_RATE, help="book updates/s in the CPU rounds"
    )
    parser.add_argument("--out", type=Path, default=HERE / "results")
    # The children: the twin, and the two clients (not for people).
    parser.add_argument("--role", choices=("twin", "lib", "raw"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--names", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.role is not None:
        return _child(args)
    streams = run(
        seconds=args.seconds,
        symbols=args.symbols,
        depth=args.depth,
        rounds=args.rounds,
        round_seconds=args.round_seconds,
        cpu_rate=args.cpu_rate,
        say=lambda text: print(text, file=sys.stderr, flush=True),
    )
    command = "python -m benchmarks.streams " + " ".join(
        sys.argv[1:] if argv is None else list(argv)
    )
    md = write(streams, args.out, command.strip())
    print(md.read_text())
    return 0


def _child(args: argparse.Namespace) -> int:
    if args.role == "twin":
        _run_loop(_twin_role(), uvloop=True)
    else:
        role = _lib_role if args.role == "lib" else _raw_role
        _run_loop(role(args.url, args.names.split(","), args.depth), uvloop=False)
    return 0


def _run_loop(main: Any, *, uvloop: bool) -> None:
    """The twin on uvloop when installed (as uvicorn picks); both clients on plain asyncio."""
    if uvloop:
        try:
            import uvloop as fast
        except ImportError:
            pass
        else:
            fast.run(main)
            return
    asyncio.run(main)


if __name__ == "__main__":
    sys.exit(main())
