"""Tables and progress bars for people (rich); only the command imports this module.

Progress goes to stderr and disappears when done, so stdout holds only the result.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from types import TracebackType

from rich import box
from rich.console import Console, Group, RenderableType
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from ..models import OrderBook, Ticker
from ..streams import BookView
from .backends import ROWS as BACKEND_ROWS
from .backends import BackendRun
from .backends import cells as backend_cells
from .jobs import DemoReport, OwnLevels, Snapshot, TradeLog, TradeStep, plural
from .meter import LatencySummary
from .quick_bench import BenchReport
from .watch import StreamStep, WatchState, spread

__all__ = [
    "RichProgress",
    "backends_table",
    "bench_table",
    "book_table",
    "demo_summary",
    "snapshot_table",
    "stream_table",
    "stream_view_table",
    "tickers_table",
    "trade_table",
    "watch_view",
]


class RichProgress:
    """A transient progress bar on ``console`` (the job's :class:`Progress`)."""

    def __init__(self, console: Console) -> None:
        self._bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> RichProgress:
        self._bar.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._bar.stop()

    def start(self, description: str, total: int | None = None) -> None:
        self.stop()
        self._task = self._bar.add_task(description, total=total)

    def advance(self, steps: int = 1) -> None:
        if self._task is not None:
            self._bar.advance(self._task, steps)

    def stop(self) -> None:
        if self._task is not None:
            self._bar.remove_task(self._task)
            self._task = None


def _num(value: Decimal | None) -> str:
    return "" if value is None else f"{value:f}"


def _compact(value: Decimal | None) -> str:
    """Big amounts for a glance: 1234567 -> 1.23M."""
    if value is None:
        return ""
    for size, suffix in ((Decimal("1e9"), "B"), (Decimal("1e6"), "M"), (Decimal("1e3"), "k")):
        if abs(value) >= size:
            return f"{value / size:.2f}{suffix}"
    return f"{value:.2f}"


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2f}"


def tickers_table(tickers: Sequence[Ticker], *, title: str) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAD)
    for name in ("symbol", "last", "mark", "bid", "ask", "24h volume (quote)", "funding rate"):
        table.add_column(name, justify="left" if name == "symbol" else "right")
    for t in tickers:
        table.add_row(
            t.symbol,
            _num(t.last),
            _num(t.mark_price),
            _num(t.bid),
            _num(t.ask),
            _compact(t.volume_quote),
            _num(t.funding_rate),
        )
    return table


def book_table(
    symbol: str,
    book: OrderBook,
    *,
    depth: int,
    own: OwnLevels | None = None,
) -> Table:
    """The top ``depth`` levels; with ``own`` (the account's resting size per level), a
    "yours" column each side says how much of a level is the account's."""
    table = Table(title=f"{symbol} order book (top {depth})", box=box.SIMPLE_HEAD)
    columns = [("bid size", "green"), ("bid", "green"), ("ask", "red"), ("ask size", "red")]
    if own:
        columns = [("yours", "bold green"), *columns, ("yours", "bold red")]
    for name, style in columns:
        table.add_column(name, justify="right", style=style)
    for i in range(depth):
        bid = book.bids[i] if i < len(book.bids) else None
        ask = book.asks[i] if i < len(book.asks) else None
        row = [
            _num(bid.size if bid else None),
            _num(bid.price if bid else None),
            _num(ask.price if ask else None),
            _num(ask.size if ask else None),
        ]
        if own:
            mine_bid = own.get((True, bid.price)) if bid else None
            mine_ask = own.get((False, ask.price)) if ask else None
            row = [_num(mine_bid) if mine_bid else "", *row, _num(mine_ask) if mine_ask else ""]
        table.add_row(*row)
    return table


# --- watch ------------------------------------------------------------------------------------


def stream_view_table(view: BookView | None, *, levels: int, symbol: str = "") -> Table:
    """A streamed book state: ``levels`` rows of bid size, bid, ask, ask size (best first)."""
    name = view.symbol if view is not None else symbol
    table = Table(title=f"{name} book (top {levels})", box=box.SIMPLE_HEAD)
    for column, style in (
        ("bid size", "green"),
        ("bid", "green"),
        ("ask", "red"),
        ("ask size", "red"),
    ):
        table.add_column(column, justify="right", style=style)
    if view is not None:
        for i in range(levels):
            bid = view.bids[i] if i < len(view.bids) else None
            ask = view.asks[i] if i < len(view.asks) else None
            table.add_row(
                _num(bid.size if bid else None),
                _num(bid.price if bid else None),
                _num(ask.price if ask else None),
                _num(ask.size if ask else None),
            )
    return table


def _trades_table(state: WatchState) -> Table:
    table = Table(title=f"latest trades ({state.trade_count} seen)", box=box.SIMPLE_HEAD)
    table.add_column("time")
    table.add_column("side")
    table.add_column("price", justify="right")
    table.add_column("qty", justify="right")
    for trade in state.trades:
        side = trade.side.value
        table.add_row(
            trade.timestamp.strftime("%H:%M:%S.%f")[:-3],
            Text(side, "green" if side == "buy" else "red"),
            _num(trade.price),
            _num(trade.qty),
        )
    return table


def watch_view(state: WatchState) -> Group:
    """What ``watch`` shows: the book, the latest trades and one status line."""
    view = state.book
    status = Text()
    if view is None:
        status.append("waiting for the book", "yellow")
    else:
        bid, ask, gap = view.best_bid, view.best_ask, spread(view)
        status.append(
            f"best bid {_num(bid.price if bid else None) or '-'} · "
            f"best ask {_num(ask.price if ask else None) or '-'} · "
            f"spread {_num(gap) if gap is not None else '-'}\n",
            "bold",
        )
        status.append(f"checksum {view.checksum} ")
        if state.last_checksum_ok:
            status.append("OK", "bold green")
        else:
            status.append("MISMATCH", "bold red")
        status.append(f" at {view.timestamp.strftime('%H:%M:%S.%f')[:-3]}")
    status.append(
        f" · {plural(state.book_updates, 'book update')}"
        f" · {plural(state.resyncs, 'resync')}"
        f" · {plural(state.reconnects, 'reconnect')}"
        f" · {state.elapsed:.1f} s"
    )
    if state.checksum_mismatches:
        failed = plural(state.checksum_mismatches, "shown book")
        status.append(f" · {failed} failed the checksum", "red")
    parts: list[RenderableType] = [
        stream_view_table(view, levels=state.levels, symbol=state.symbol),
        _trades_table(state),
        status,
    ]
    if state.source:
        parts.append(Text(f"from {state.source} · Ctrl-C stops", "dim"))
    return Group(*parts)


def stream_table(step: StreamStep) -> Table:
    """The demo's streaming step, one line a figure."""
    table = Table(title=f"streaming the {step.symbol} book", box=box.SIMPLE_HEAD, show_header=False)
    table.add_column("what")
    table.add_column("value")
    if step.skipped is not None:
        table.add_row("skipped", step.skipped)
        return table
    table.add_row("socket", step.url or "-")
    table.add_row(
        "book updates",
        f"{step.updates} in {step.seconds:.1f} s "
        f"({plural(step.distinct_states, 'distinct state')})",
    )
    verified = Text(
        f"{step.checksums_verified} of {step.updates} verified, "
        f"{plural(step.checksum_failures, 'failure')}",
        "green" if step.checksum_failures == 0 and step.updates else "red",
    )
    table.add_row("checksums", verified)
    table.add_row(
        "best bid / ask",
        f"{_num(step.first_bid) or '-'} / {_num(step.first_ask) or '-'} -> "
        f"{_num(step.last_bid) or '-'} / {_num(step.last_ask) or '-'}",
    )
    if step.order:
        table.add_row("order", step.order)
    if step.error:
        table.add_row("error", Text(step.error, "red"))
    return table


def _spread_bps(book: OrderBook) -> str:
    bid, ask = book.best_bid, book.best_ask
    if bid is None or ask is None or not bid.price:
        return ""
    mid = (bid.price + ask.price) / 2
    return f"{(ask.price - bid.price) / mid * 10_000:.1f}"


def snapshot_table(snap: Snapshot, *, rows: int) -> Group:
    """The busiest contracts' books (by 24 h quote volume), then one line about them all."""
    volume = {t.symbol: t.volume_quote or Decimal(0) for t in snap.tickers}
    busiest = sorted(snap.books, key=lambda s: volume.get(s, Decimal(0)), reverse=True)
    table = Table(
        title=f"order books: the {min(rows, len(busiest))} busiest of {len(snap.books)}",
        box=box.SIMPLE_HEAD,
    )
    for name in ("symbol", "bid", "ask", "spread (bps)", "levels", "24h volume (quote)"):
        table.add_column(name, justify="left" if name == "symbol" else "right")
    for symbol in busiest[:rows]:
        book = snap.books[symbol]
        table.add_row(
            symbol,
            _num(book.best_bid.price if book.best_bid else None),
            _num(book.best_ask.price if book.best_ask else None),
            _spread_bps(book),
            str(len(book.bids) + len(book.asks)),
            _compact(volume.get(symbol)),
        )
    line = Text(
        f"{plural(len(snap.tickers), 'ticker')} and {plural(len(snap.books), 'order book')} "
        f"({plural(snap.levels, 'price level')}) in {snap.seconds * 1e3:.0f} ms"
    )
    parts: list[RenderableType] = [table, line]
    if snap.failed:
        failed = f"{plural(len(snap.failed), 'book')} failed: {_first(snap.failed)}"
        parts.append(Text(failed, "red"))
    return Group(*parts)


def _first(failed: dict[str, str]) -> str:
    symbol, reason = next(iter(failed.items()))
    return f"{symbol}: {reason}"


def trade_table(log: TradeLog, *others: TradeLog) -> RenderableType:
    """The session's steps; with ``others`` (the same session over other backends), one
    column of what happened and one of milliseconds per backend, and below the table why
    each skipped step was skipped."""
    if not others:
        table = Table(title=f"trading session on {log.symbol}", box=box.SIMPLE_HEAD)
        table.add_column("#", justify="right")
        table.add_column("step")
        table.add_column("what happened")
        table.add_column("ms", justify="right")
        for n, step in enumerate(log.steps, 1):
            table.add_row(str(n), step.step, step.detail, f"{step.ms:.1f}")
        return table
    logs = [log, *others]
    names = " and ".join(one.backend for one in logs)
    table = Table(title=f"trading session on {log.symbol} over {names}", box=box.SIMPLE_HEAD)
    table.add_column("#", justify="right")
    table.add_column("step")
    for one in logs:
        table.add_column(f"{one.backend}: what happened")
        table.add_column(f"{one.backend} ms", justify="right")
    for n in range(max(len(one.steps) for one in logs)):
        row: list[RenderableType] = [str(n + 1), _step_name(logs, n)]
        for one in logs:
            row += _step_cells(one.steps[n] if n < len(one.steps) else None)
        table.add_row(*row)
    notes = [
        Text(f"{one.backend} skipped {step.step}: {step.skipped}", "yellow")
        for one in logs
        for step in one.skipped
    ]
    return Group(table, *notes)


def _step_name(logs: Sequence[TradeLog], n: int) -> str:
    return next(one.steps[n].step for one in logs if n < len(one.steps))


def _step_cells(step: TradeStep | None) -> list[RenderableType]:
    if step is None:
        return ["", ""]
    if step.skipped is None:
        return [step.detail, f"{step.ms:.1f}"]
    instead = "" if step.detail == "skipped" else f"; {step.detail}"
    return [Text(f"skipped (see below){instead}", "yellow"), "-"]


def backends_table(runs: Sequence[BackendRun]) -> Table:
    """The trading session's figures with a column per backend."""
    table = Table(title="the trading session over each backend", box=box.SIMPLE_HEAD)
    table.add_column("")
    for run in runs:
        table.add_column(run.backend)
    columns = [backend_cells(run) for run in runs]
    for i, name in enumerate(BACKEND_ROWS):
        table.add_row(name, *(column[i] for column in columns))
    verdicts = [
        Text(
            ("flat, no refusals" if run.not_run is None else "not run")
            if run.ok
            else "problems (see above)",
            "green" if run.ok else "red",
        )
        for run in runs
    ]
    table.add_row("verdict", *verdicts)
    return table


#: Endpoints the summary names one by one; the rest share a line.
SUMMARY_ENDPOINTS = 6


def request_lines(by_path: dict[str, int], shown: int = SUMMARY_ENDPOINTS) -> list[str]:
    """One line per endpoint, busiest first, the rest summed on a last line.

    The counts on the lines add up to the total the summary gives above them.
    """
    ordered = sorted(by_path.items(), key=lambda item: item[1], reverse=True)
    if len(ordered) > shown:  # a last line for one endpoint would be no shorter than its own
        shown -= 1
    lines = [f"{count:>4}  {path}" for path, count in ordered[:shown]]
    rest = ordered[shown:]
    if rest:
        names = ", ".join(path.rsplit("/", 1)[-1] for path, _ in rest)
        count = sum(n for _, n in rest)
        lines.append(f"{count:>4}  on {plural(len(rest), 'other endpoint')} ({names})")
    return lines


def _latency_cells(latency: LatencySummary) -> list[str]:
    return [_ms(latency.p50_ms), _ms(latency.p90_ms), _ms(latency.p99_ms)]


def demo_summary(report: DemoReport) -> Group:
    table = Table(title="summary", box=box.SIMPLE_HEAD, show_header=False)
    table.add_column("what")
    table.add_column("value")
    lat = report.latency
    table.add_row("exchange", report.target)
    table.add_row("wall time", f"{report.seconds:.2f} s")
    table.add_row("requests made", str(report.requests))
    for line in request_lines(report.requests_by_path):
        table.add_row("", line)
    table.add_row(
        "latency p50 / p90 / p99",
        f"{_ms(lat.p50_ms)} / {_ms(lat.p90_ms)} / {_ms(lat.p99_ms)} ms (max {_ms(lat.max_ms)})",
    )
    for b in report.budgets:
        share = b.in_window / b.capacity * 100
        table.add_row(
            f"{b.name} budget",
            f"{b.units_admitted} units spent; {b.in_window} of {b.capacity} in the "
            f"{b.period:g} s window now ({share:.0f}%)",
        )
    twin = "" if report.twin_refusals is None else f", twin counted {report.twin_refusals}"
    refusals = report.client_refusals + (report.twin_refusals or 0)
    table.add_row(
        "apiLimitExceeded refusals",
        Text(
            f"{report.client_refusals} seen by the client{twin}",
            "green" if refusals == 0 else "red",
        ),
    )
    table.add_row("final position", f"{report.trade.final_position} {report.trade.symbol}")
    stream = report.stream
    if stream.skipped is None:
        table.add_row(
            "streamed book",
            Text(
                f"{plural(stream.updates, 'update')}, "
                f"{plural(stream.checksum_failures, 'checksum failure')}"
                f"{', moved' if stream.moved else ', did not move'}"
                + (f"; {stream.error}" if stream.error else ""),
                "green" if stream.ok else "red",
            ),
        )
    else:
        table.add_row("streamed book", f"skipped ({stream.skipped})")
    ran = [run.backend for run in report.backends if run.not_run is None and run.trade]
    over = f" over {' and '.join(ran)}" if len(ran) > 1 else ""
    verdict = Text(
        f"main job done: every book fetched, the session went flat{over}, no refusals"
        + (", every streamed checksum verified" if stream.skipped is None else "")
        if report.ok
        else "main job finished with problems (see above)",
        "bold green" if report.ok else "bold red",
    )
    return Group(table, verdict)


def bench_table(report: BenchReport) -> Group:
    table = Table(title=f"kraken-futures bench: {report.target}", box=box.SIMPLE_HEAD)
    for name in ("call", "calls", "p50 ms", "p90 ms", "p99 ms", "CPU us/call", "calls/s"):
        table.add_column(name, justify="left" if name == "call" else "right")
    for row in report.rows:
        table.add_row(
            row.kind,
            str(row.calls),
            *_latency_cells(row.latency),
            f"{row.cpu_us_per_call:.0f}",
            f"{row.calls_per_second:.0f}",
        )
    parts: list[RenderableType] = [table]
    if report.in_process:
        parts.append(
            Text(
                "The twin runs in this process, so CPU includes the exchange's own work. "
                "For the client alone: `kraken-futures sim` in another shell, then "
                "`kraken-futures --base-url URL bench`; `make bench` compares clients.",
                "dim",
            )
        )
    return Group(*parts)
