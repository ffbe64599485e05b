"""The subcommands: each runner parses nothing and prints through an :class:`Output`.

A runner returns the exit status (``OK`` or ``FAILED``) or raises :class:`UsageError` (status
2) or :class:`CommandFailedError` (status 1); :func:`~.entry.main` turns those into messages.
"""

from __future__ import annotations

import argparse
import errno
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from ..auth import API_KEY_ENV, API_SECRET_ENV
from . import jobs, quick_bench
from .output import Output
from .target import TWIN, Target, connect

if TYPE_CHECKING:
    from rich.console import RenderableType

    from ..simulator import Twin, TwinConfig

__all__ = ["COMMANDS", "FAILED", "INTERRUPTED", "OK", "USAGE", "CommandFailedError", "UsageError"]

#: Exit statuses.
OK, FAILED, USAGE, INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """Arguments that parse but do not make sense together."""


class CommandFailedError(Exception):
    """The command cannot do its job here (exit status 1); the message says why and what to do."""


def _target(args: argparse.Namespace) -> Target:
    if args.base_url and args.env != TWIN:
        raise UsageError("give --base-url or --env production, not both")
    return Target(
        environment=args.env,
        base_url=args.base_url,
        seed=args.seed,
        timeout=args.timeout,
        retries=args.retries,
    )


def _no_real_orders(target: Target, allowed: bool, command: str) -> None:
    if target.production and not allowed:
        raise UsageError(
            f"`{command}` places real orders on Kraken production; "
            "add --allow-production if that is what you want"
        )


async def run_tickers(args: argparse.Namespace, out: Output) -> int:
    async with connect(_target(args)) as conn:
        tickers = await conn.session.market.tickers()
    if args.symbols:
        by_symbol = {t.symbol.upper(): t for t in tickers}
        wanted = list(dict.fromkeys(s.upper() for s in args.symbols))
        missing = [s for s in wanted if s not in by_symbol]
        if missing:
            raise jobs.UnknownSymbolError(missing, [t.symbol for t in tickers])
        tickers = [by_symbol[s] for s in wanted]
    title = f"{jobs.plural(len(tickers), 'ticker')} from the {conn.target.describe()}"

    def table() -> RenderableType:
        from .render import tickers_table

        return tickers_table(tickers, title=title)

    out.show(tickers, table)
    return OK


async def run_book(args: argparse.Namespace, out: Output) -> int:
    async with connect(_target(args)) as conn:
        book = await jobs.order_book(conn.session, args.symbol)
        own = await jobs.own_levels(conn.session, args.symbol)
    value: dict[str, Any] = {
        "symbol": args.symbol,
        "bids": book.bids[: args.depth],
        "asks": book.asks[: args.depth],
    }
    if own:  # the account's own orders in the levels shown (a paper trader's, on a mirror)
        value["yours"] = {
            side: [
                {"price": level.price, "size": own[(side == "bids", level.price)]}
                for level in levels[: args.depth]
                if (side == "bids", level.price) in own
            ]
            for side, levels in (("bids", book.bids), ("asks", book.asks))
        }

    def table() -> RenderableType:
        from .render import book_table

        return book_table(args.symbol, book, depth=args.depth, own=own)

    out.show(value, table)
    return OK


async def run_snapshot(args: argparse.Namespace, out: Output) -> int:
    async with connect(_target(args)) as conn:
        with out.progress() as progress:
            snap = await jobs.snapshot(conn.session, progress)
    value = {
        "seconds": snap.seconds,
        "tickers": snap.tickers,
        "books": {
            s: {"best_bid": b.best_bid, "best_ask": b.best_ask, "levels": len(b.bids) + len(b.asks)}
            for s, b in snap.books.items()
        },
        "failed": snap.failed,
    }

    def table() -> RenderableType:
        from .render import snapshot_table

        return snapshot_table(snap, rows=args.rows)

    out.show(value, table)
    return FAILED if snap.failed else OK


async def run_trade(args: argparse.Namespace, out: Output) -> int:
    target = _target(args)
    _no_real_orders(target, args.allow_production, "trade")
    async with connect(target) as conn:
        with out.progress() as progress:
            log = await jobs.trade(conn.session, args.symbol, progress, size=args.size)

    def table() -> RenderableType:
        from .render import trade_table

        return trade_table(log)

    out.show(log, table)
    return OK


async def run_demo(args: argparse.Namespace, out: Output) -> int:
    target = _target(args)
    if target.production:
        raise UsageError("`demo` trades; run it on the twin (the default) or a --base-url")
    out.note(f"[bold]kraken-futures demo[/] on the {target.describe()}")
    async with connect(target, streams=True) as conn:
        with out.progress() as progress:
            report = await jobs.demo(conn, progress, symbol=args.symbol)
    value = {
        "ok": report.ok,
        "target": report.target,
        "seconds": report.seconds,
        "snapshot": {
            "tickers": len(report.snapshot.tickers),
            "books": len(report.snapshot.books),
            "levels": report.snapshot.levels,
            "seconds": report.snapshot.seconds,
            "failed": report.snapshot.failed,
        },
        "trade": report.trade,
        "requests": report.requests,
        "requests_by_path": report.requests_by_path,
        "latency": report.latency,
        "budgets": report.budgets,
        "client_refusals": report.client_refusals,
        "twin_refusals": report.twin_refusals,
        "stream": {
            "ok": report.stream.ok,
            "moved": report.stream.moved,
            **attrs.asdict(report.stream, recurse=False),
        },
        "backends": [
            {
                **attrs.asdict(run, recurse=False),
                "ok": run.ok,
                "order_latency": run.order_latency,
                "skipped": {s.step: s.skipped for s in run.trade.skipped} if run.trade else {},
            }
            for run in report.backends
        ],
    }

    def table() -> RenderableType:
        from rich.console import Group

        from .render import (
            backends_table,
            demo_summary,
            snapshot_table,
            stream_table,
            trade_table,
        )

        others = [run.trade for run in report.backends[1:] if run.trade is not None]
        return Group(
            snapshot_table(report.snapshot, rows=args.rows),
            trade_table(report.trade, *others),
            stream_table(report.stream),
            backends_table(report.backends),
            demo_summary(report),
        )

    out.show(value, table)
    return OK if report.ok else FAILED


async def run_watch(args: argparse.Namespace, out: Output) -> int:
    """The book and trades of one contract as they stream, until ``--seconds`` or Ctrl-C.

    Ctrl-C (the task cancelled by ``asyncio.run``) unwinds through the subscriptions and the
    Session, which unsubscribe and close; :func:`~.entry.main` then exits 0.
    """
    from .watch import WatchState, update_line, watch

    target = _target(args)
    async with connect(target, streams=True) as conn:
        if conn.stream_url is None:
            raise CommandFailedError(conn.no_streams or "no stream URL for this target")
        state = WatchState(
            args.symbol, levels=args.depth, trades_kept=args.trades, source=conn.stream_url
        )
        if out.as_json:

            def print_line(state: WatchState, kind: str, item: Any) -> None:
                out.line(update_line(state, kind, item))

            await watch(conn.session, state, seconds=args.seconds, on_update=print_line)
            return OK
        from rich.live import Live

        from .render import watch_view

        console = out.console()
        # Started by the first update, so that a refusal (an unknown symbol) prints no frame.
        live = Live(console=console, refresh_per_second=8, redirect_stdout=False)

        def redraw(state: WatchState, kind: str, item: Any) -> None:
            live.update(watch_view(state))
            if not live.is_started:
                live.start()

        try:
            await watch(conn.session, state, seconds=args.seconds, on_update=redraw)
        finally:
            if live.is_started:
                live.update(watch_view(state))
                live.stop()
                if not console.is_terminal:  # rich ends the frame with a newline on terminals
                    console.line()
    return OK


async def run_bench(args: argparse.Namespace, out: Output) -> int:
    target = _target(args)
    orders = not args.no_orders
    if orders:
        _no_real_orders(target, args.allow_production, "bench")
    async with connect(target) as conn:
        with out.progress() as progress:
            report = await quick_bench.bench(
                conn, progress, calls=args.calls, symbol=args.symbol, orders=orders
            )

    def table() -> RenderableType:
        from .render import bench_table

        return bench_table(report)

    out.show(report, table)
    return OK


async def run_sim(args: argparse.Namespace, out: Output) -> int:
    from ..simulator import Twin, TwinConfig, serve

    if args.base_url or args.env != TWIN:
        raise UsageError(f"`{args.command}` serves a twin; --base-url and --env do not apply")
    source: str | None = args.source if args.command == "paper" else args.mirror
    if source is None and args.mirror_symbols:
        raise UsageError("--mirror-symbol needs --mirror URL (or the `paper` command)")
    limits = {
        "request_read_timeout": args.read_timeout,
        "max_request_bytes": args.max_request_bytes,
    }
    given = {name: value for name, value in limits.items() if value is not None}
    config = TwinConfig(seed=args.seed, rate_limits=not args.no_rate_limits, **given)
    mirrored: list[str] = []
    if source is None:
        twin = Twin(config)
    else:
        twin, mirrored = _mirror_twin(source, args.mirror_symbols, config)
    listening = False

    def ready(url: str) -> None:
        nonlocal listening
        listening = True
        key = twin.key
        value: dict[str, Any] = {
            "url": url,
            "api_key": key.public_key,
            "api_secret": key.secret,
            "account": twin.account_uid,
            "seed": args.seed,
        }
        if source is not None:
            value["mirror"] = {"source": source, "symbols": mirrored}
        lines = _sim_banner(value)
        out.show(value, lambda: _bold_first(lines), text=lambda: "\n".join(lines))

    try:
        await serve(twin, port=args.port, on_ready=ready)
    except OSError as exc:
        if listening:
            raise
        raise CommandFailedError(_cannot_listen(args.port, exc)) from exc
    return OK


def _mirror_twin(
    source: str, symbols: list[str] | None, config: TwinConfig
) -> tuple[Twin, list[str]]:
    """A twin over the live market at ``source`` (``paper``, ``sim --mirror``)."""
    from ..simulator.mirror import DEFAULT_SYMBOLS, mirror_twin

    try:
        twin = mirror_twin(source, symbols=symbols or DEFAULT_SYMBOLS, config=config)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    return twin, list(twin.market.symbols)


def _cannot_listen(port: int, exc: OSError) -> str:
    from ..simulator.twin import LOOPBACK

    if exc.errno == errno.EADDRINUSE:
        reason = "the port is already in use"
    elif exc.errno == errno.EACCES:
        reason = "permission denied (ports below 1024 need privileges)"
    else:
        reason = exc.strerror or str(exc)
    return (
        f"cannot serve on {LOOPBACK}:{port}: {reason}; "
        "choose another port with --port, or --port 0 for any free one"
    )


def _sim_banner(value: dict[str, Any]) -> list[str]:
    mirror = value.get("mirror")
    market = (
        []
        if mirror is None
        else [
            f"  market:     {', '.join(mirror['symbols'])} mirrored from {mirror['source']}",
            "              (paper trading: nothing is ever sent there but public subscriptions)",
        ]
    )
    return [
        f"Kraken Futures twin on {value['url']} (seed {value['seed']})",
        *market,
        f"  API key:    {value['api_key']}",
        f"  API secret: {value['api_secret']}  (the twin's own; it opens nothing else)",
        "Try, in another shell:",
        f"  export {API_KEY_ENV}='{value['api_key']}'",
        f"  export {API_SECRET_ENV}='{value['api_secret']}'",
        f"  kraken-futures --base-url {value['url']} trade",
        "Ctrl-C stops it.",
    ]


def _bold_first(lines: Sequence[str]) -> RenderableType:
    from rich.text import Text

    text = Text("\n".join(lines))
    text.stylize("bold", 0, len(lines[0]))
    return text


COMMANDS: dict[str, Callable[[argparse.Namespace, Output], Coroutine[Any, Any, int]]] = {
    "tickers": run_tickers,
    "book": run_book,
    "watch": run_watch,
    "snapshot": run_snapshot,
    "trade": run_trade,
    "demo": run_demo,
    "sim": run_sim,
    "paper": run_sim,
    "bench": run_bench,
}
