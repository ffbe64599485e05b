"""Results people can look at: one Markdown file, PNG plots and the raw numbers as JSON."""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from .calls import KINDS, LIB_AIOHTTP, LIB_HTTPX, RAW_AIOHTTP

PEERS = ("python-kraken-sdk", "ccxt")


def machine() -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": platform.platform(terse=True),
        "load_1min_at_start": round(load, 2),
        "commit": _git("rev-parse", "--short", "HEAD"),
    }


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return done.stdout.strip()


def _f(value: Any, digits: int = 0, suffix: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}{suffix}"


def _x(value: Any) -> str:
    return "-" if value is None else f"{value:.2f}x"


# --- targets ------------------------------------------------------------------------------


def default_library(results: dict[str, Any]) -> str:
    return LIB_AIOHTTP if results["meta"]["default_transport"] == "AiohttpTransport" else LIB_HTTPX


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    lib = default_library(results)
    calls = {(r["contender"], r["kind"]): r for r in results.get("calls", [])}
    if calls:
        book = calls[(lib, "order book")]
        overheads = [calls[(lib, k)]["x_own_raw"] for k in KINDS if (lib, k) in calls]
        worst = max(o for o in overheads if o is not None)
        rows.append(
            {
                "target": "library overhead over its own transport's raw request + parse",
                "goal": "<= 1.15x",
                "measured": f"order book {_x(book['x_own_raw'])}; worst of four kinds {_x(worst)}",
                "met": worst <= 1.15,
            }
        )
        peers = [
            r
            for (name, kind), r in calls.items()
            if kind == "order book" and name.startswith(PEERS) and "default rate" not in name
        ]
        ahead = all(book["cpu_us"] < p["cpu_us"] for p in peers)
        peer_text = ", ".join(f"{p['contender']} {_f(p['cpu_us'])} us" for p in peers)
        rows.append(
            {
                "target": "client CPU per order-book call vs raw aiohttp, and vs peers",
                "goal": "<= 1.5x raw aiohttp; ahead of python-kraken-sdk and ccxt",
                "measured": f"{_f(book['cpu_us'])} us = {_x(book['x_raw_aiohttp'])} raw aiohttp"
                + (f"; peers: {peer_text}" if peers else ""),
                "met": book["x_raw_aiohttp"] <= 1.5 and ahead,
            }
        )
    fan = results.get("fanout")
    if fan:
        mine = next(r for r in fan["rows"] if r["contender"] == lib)
        others = [r for r in fan["rows"] if r["contender"].startswith(PEERS)]
        ahead = all(mine["wall_ms"] < o["wall_ms"] for o in others)
        rows.append(
            {
                "target": f"fan-out of {fan['books']} books with {fan['latency_ms']:.0f} ms "
                "latency vs the ideal for the pool size",
                "goal": "<= 1.2x ideal; ahead of every peer",
                "measured": f"{_f(mine['wall_ms'])} ms vs ideal {_f(mine['ideal_ms'])} ms = "
                f"{_x(mine['x_ideal'])}"
                + (
                    "; peers: "
                    + ", ".join(f"{o['contender']} {_f(o['wall_ms'])} ms" for o in others)
                    if others
                    else ""
                ),
                "met": mine["x_ideal"] <= 1.2 and ahead,
            }
        )
    parsing = results.get("parsing")
    if parsing:
        lib_parse = next(r for r in parsing["rows"] if "cattrs" in r["contender"])
        rows.append(
            {
                "target": f"{parsing['tickers']} tickers to exact-Decimal models vs orjson.loads",
                "goal": "<= 6x",
                "measured": f"{_f(lib_parse['ms'], 2)} ms = {_x(lib_parse['x_orjson'])}",
                "met": lib_parse["x_orjson"] <= 6,
            }
        )
    sustained = results.get("sustained")
    if sustained:
        mine = sustained["rows"][0]
        rows.append(
            {
                "target": "sustained private calls: budget used, apiLimitExceeded from the twin",
                "goal": ">= 95 %, zero refusals",
                "measured": f"{mine['budget_used'] * 100:.1f} % over {mine['seconds']:.1f} s, "
                f"{mine['refusals']} refusals",
                "met": mine["budget_used"] >= 0.95 and mine["refusals"] == 0,
            }
        )
    return rows


# --- Markdown -----------------------------------------------------------------------------


def markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    m = meta["machine"]
    out = [
        "# Benchmark results",
        "",
        f"- date: {meta['date']}",
        f"- machine: {m['cpu']}, {m['cores']} cores, {m['system']}, Python {m['python']} "
        f"(1-minute load at start: {m['load_1min_at_start']})",
        f"- command: `{meta['command']}` (commit {m['commit']}, {meta['seconds']:.0f} s)",
        f"- twin: `python -m benchmarks.server`, uvicorn on 127.0.0.1 in its own process "
        f"({meta['server_loop']} loop); clients on asyncio in this process",
        f"- the library's default transport: {meta['default_transport']}",
        "",
        "Medians of interleaved rounds; compare ratios within this run, not across machines.",
        "",
        "## Targets (design.md section 7)",
        "",
        "| target | goal | measured | met |",
        "|---|---|---|---|",
    ]
    for t in targets(results):
        out.append(
            f"| {t['target']} | {t['goal']} | {t['measured']} | {'yes' if t['met'] else 'NO'} |"
        )
    if results.get("calls"):
        out += _calls_md(results)
    if results.get("fanout"):
        out += _fanout_md(results["fanout"])
    if results.get("sustained"):
        out += _sustained_md(results["sustained"])
    if results.get("parsing"):
        out += _parsing_md(results["parsing"])
    if results.get("transport"):
        out += _transport_md(results["transport"])
    out += ["", "Plots: " + ", ".join(f"[{p}]({p})" for p in results["meta"]["plots"]), ""]
    return "\n".join(out)


def _calls_md(results: dict[str, Any]) -> list[str]:
    rows = results["calls"]
    names = list(dict.fromkeys(r["contender"] for r in rows))
    by = {(r["contender"], r["kind"]): r for r in rows}
    out = [
        "",
        "## (a) Client CPU per call (us, median), and its ratio to raw aiohttp",
        "",
        "Same twin, same calls, sequential. Raw clients parse with `json.loads`; the library "
        "returns typed models with exact Decimals. 'x own raw' is the library over raw httpx on "
        "the same transport doing request + `json.loads`.",
        "",
        "| client | " + " | ".join(KINDS) + " | x own raw (order book) | note |",
        "|---|" + "---:|" * len(KINDS) + "---:|---|",
    ]
    for name in names:
        cells = []
        for kind in KINDS:
            r = by.get((name, kind))
            cells.append("-" if r is None else f"{_f(r['cpu_us'])} ({_x(r['x_raw_aiohttp'])})")
        book = by.get((name, "order book"), {})
        note = next((by[(name, k)]["note"] for k in KINDS if (name, k) in by), "")
        out.append(
            f"| {name} | " + " | ".join(cells) + f" | {_x(book.get('x_own_raw'))} | {note} |"
        )
    out += [
        "",
        "### Latency per call (ms, p50 / p90)",
        "",
        "| client | " + " | ".join(KINDS) + " |",
        "|---|" + "---:|" * len(KINDS),
    ]
    for name in names:
        cells = []
        for kind in KINDS:
            r = by.get((name, kind))
            cells.append("-" if r is None else f"{_f(r['p50_ms'], 2)} / {_f(r['p90_ms'], 2)}")
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    return out


def _fanout_md(fan: dict[str, Any]) -> list[str]:
    out = [
        "",
        f"## (b) Fan-out: all {fan['books']} order books at once, "
        f"{fan['latency_ms']:.0f} ms added per request",
        "",
        "Ideal = ceil(books / pool) x latency: what a client with that many connections "
        "cannot beat.",
        "",
        "The twin's own CPU per fan-out is shown too: on one core it bounds what any client "
        "can reach (the ideal assumes a server with no CPU cost).",
        "",
        "| client | pool | wall ms (median) | best | ideal ms | x ideal | twin CPU ms | note |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in fan["rows"]:
        wall = _f(r["wall_ms"]) + (" (projected)" if r["projected"] else "")
        out.append(
            f"| {r['contender']} | {r['pool']} | {wall} | {_f(r['wall_ms_min'])} | "
            f"{_f(r['ideal_ms'])} | {_x(r['x_ideal'])} | {_f(r.get('server_cpu_ms'))} | "
            f"{r['note']} |"
        )
    return out


def _sustained_md(sus: dict[str, Any]) -> list[str]:
    out = [
        "",
        f"## (c) Sustained private calls ({sus['workers']} workers placing and cancelling "
        f"orders, {sus['cost_per_call']} units each)",
        "",
        "Budget used = units the twin admitted / (500 + 50 x seconds), the most Kraken's "
        "500 units per 10 s allows in that time.",
        "",
        "| client | seconds | calls done | requests sent | units admitted | budget used | "
        "apiLimitExceeded (twin) | errors seen by the client | note |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in sus["rows"]:
        out.append(
            f"| {r['contender']} | {r['seconds']:.1f} | {r['calls_ok']} | "
            f"{r['requests_sent']} | {_f(r['units_admitted'])} | "
            f"{r['budget_used'] * 100:.1f} % | {r['refusals']} | "
            f"{r['client_errors']} | {r['note']} |"
        )
    return out


def _parsing_md(parsing: dict[str, Any]) -> list[str]:
    out = [
        "",
        f"## (d) {parsing['tickers']} tickers ({parsing['bytes']:,} bytes) to Python objects",
        "",
        "| path | ms per parse (median) | x orjson.loads |",
        "|---|---:|---:|",
    ]
    for r in parsing["rows"]:
        out.append(f"| {r['contender']} | {_f(r['ms'], 3)} | {_x(r['x_orjson'])} |")
    return out


def _transport_md(rows: list[dict[str, Any]]) -> list[str]:
    out = [
        "",
        "## Transport: client CPU per order-book call on a minimal server "
        "(benchmarks/bench_transport.py)",
        "",
        "| client | CPU us/call (median) | min | x raw aiohttp |",
        "|---|---:|---:|---:|",
    ]
    for r in rows:
        out.append(
            f"| {r['contender']} | {_f(r['cpu_us'])} | {_f(r['cpu_us_min'])} | "
            f"{_x(r['x_raw_aiohttp'])} |"
        )
    return out


def headline(results: dict[str, Any]) -> str:
    """The short table for the README."""
    lines = [
        "| measure (medians, one run) | kraken_futures_async | raw aiohttp | "
        "python-kraken-sdk | ccxt (no limiter) |",
        "|---|---:|---:|---:|---:|",
    ]
    lib = default_library(results)
    calls = {(r["contender"], r["kind"]): r for r in results.get("calls", [])}

    def cpu(name: str, kind: str) -> str:
        r = calls.get((name, kind))
        return "-" if r is None else f"{_f(r['cpu_us'])} us"

    sdk, ccxt = "python-kraken-sdk (async)", "ccxt krakenfutures, no rate limiter"
    for kind in KINDS:
        lines.append(
            f"| client CPU per call: {kind} | {cpu(lib, kind)} | {cpu(RAW_AIOHTTP, kind)} | "
            f"{cpu(sdk, kind)} | {cpu(ccxt, kind)} |"
        )
    fan = results.get("fanout")
    if fan:
        walls = {r["contender"]: r for r in fan["rows"]}

        def wall(name: str) -> str:
            r = walls.get(name)
            return "-" if r is None else f"{_f(r['wall_ms'])} ms ({_x(r['x_ideal'])})"

        lines.append(
            f"| {fan['books']} books at once, +{fan['latency_ms']:.0f} ms each (x ideal) | "
            f"{wall(lib)} | {wall('raw aiohttp + json.loads')} | {wall(sdk)} | {wall(ccxt)} |"
        )
    sustained = results.get("sustained")
    if sustained:
        rows = {r["contender"]: r for r in sustained["rows"]}

        def used(name: str) -> str:
            r = rows.get(name)
            if r is None:
                return "-"
            return f"{r['budget_used'] * 100:.0f} %, {r['refusals']} refused"

        lines.append(
            "| private budget used, apiLimitExceeded | "
            f"{used('kraken_futures_async, default policy')} | - | "
            f"{used('python-kraken-sdk (async)')} | "
            f"{used('ccxt krakenfutures, default rate limiter')} (with its limiter) |"
        )
    parsing = results.get("parsing")
    if parsing:
        lib_parse = next(r for r in parsing["rows"] if "cattrs" in r["contender"])
        lines.append(
            f"| {parsing['tickers']} tickers to models (x orjson.loads) | "
            f"{_f(lib_parse['ms'], 1)} ms ({_x(lib_parse['x_orjson'])}) | - | - | - |"
        )
    return "\n".join(lines)


# --- plots --------------------------------------------------------------------------------


def plots(results: dict[str, Any], folder: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []

    def save(fig: Any, name: str) -> None:
        fig.tight_layout()
        fig.savefig(folder / name, dpi=110)
        plt.close(fig)
        written.append(name)

    if results.get("calls"):
        rows = [r for r in results["calls"] if "default rate" not in r["contender"]]
        names = list(dict.fromkeys(r["contender"] for r in rows))
        by = {(r["contender"], r["kind"]): r for r in rows}
        for metric, label, name in (
            ("cpu_us", "client CPU per call (us)", "calls_cpu.png"),
            ("p50_ms", "latency per call, p50 (ms)", "calls_latency.png"),
        ):
            fig, axes = plt.subplots(1, len(KINDS), figsize=(16, 4.5), sharey=True)
            for ax, kind in zip(axes, KINDS, strict=True):
                values = [by[(n, kind)][metric] if (n, kind) in by else 0 for n in names]
                ax.barh(range(len(names)), values, color=[_colour(n) for n in names])
                ax.set_title(kind)
                ax.set_xlabel(label)
                ax.set_yticks(range(len(names)), names, fontsize=8)
                ax.invert_yaxis()
            save(fig, name)
    if results.get("fanout"):
        fan = results["fanout"]["rows"]
        fig, ax = plt.subplots(figsize=(9, 4.5))
        names = [r["contender"] + (" (projected)" if r["projected"] else "") for r in fan]
        ax.barh(range(len(fan)), [r["wall_ms"] for r in fan], color=[_colour(n) for n in names])
        ax.scatter([r["ideal_ms"] for r in fan], range(len(fan)), marker="|", s=400, c="black")
        ax.set_xscale("log")
        ax.set_yticks(range(len(fan)), names, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("wall time, ms (log); black mark: ideal for the pool size")
        ax.set_title(f"all {results['fanout']['books']} order books, +20 ms each")
        save(fig, "fanout.png")
    if results.get("sustained"):
        sus = results["sustained"]["rows"]
        fig, ax = plt.subplots(figsize=(9, 4.5))
        longest = max(r["seconds"] for r in sus)
        ax.plot([0, longest], [500, 500 + 50 * longest], "k--", label="Kraken allows 500 + 50 t")
        for r in sus:
            t = r["timeline"]
            ax.plot(t, [10 * (i + 1) for i in range(len(t))], label=r["contender"])
        ax.set_xlabel("seconds")
        ax.set_ylabel("cost units of successful calls")
        ax.set_title("sustained private calls (10 units each)")
        ax.legend(fontsize=8)
        save(fig, "sustained.png")
    if results.get("parsing"):
        rows = results["parsing"]["rows"]
        fig, ax = plt.subplots(figsize=(9, 3.5))
        ax.barh(range(len(rows)), [r["x_orjson"] for r in rows])
        ax.axvline(6, color="red", linestyle="--", label="target: 6x")
        ax.set_yticks(range(len(rows)), [r["contender"] for r in rows], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("CPU per parse, x orjson.loads")
        ax.legend(fontsize=8)
        save(fig, "parsing.png")
    return written


def _colour(name: str) -> str:
    if name.startswith("kraken_futures_async"):
        return "tab:blue"
    if name.startswith("raw"):
        return "tab:gray"
    return "tab:orange"


def write(results: dict[str, Any], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    results["meta"]["plots"] = plots(results, folder)
    (folder / "results.json").write_text(json.dumps(results, indent=1, default=str))
    md = folder / "results.md"
    md.write_text(markdown(results))
    (folder / "headline.md").write_text(headline(results) + "\n")
    return md
