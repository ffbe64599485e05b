"""``kraken-futures watch`` and the demo's streaming step, over the twin's real loopback socket.

The checksum of every printed book is computed again here from the reference (kraken-uws-api
§2.4: asks then bids, best ten each, each price then qty with the dot and leading zeros
dropped, CRC32 unsigned), not with the library's code. Ctrl-C is simulated in-process (a real
SIGINT, which ``asyncio.run`` turns into a cancellation) and in a child process.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import signal
import socket
import subprocess
import sys
import threading
import zlib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
from rich.console import Console
from rich.table import Table

from kraken_futures_async.cli import jobs, main, target
from kraken_futures_async.cli.output import Output
from kraken_futures_async.cli.render import stream_table, stream_view_table, watch_view
from kraken_futures_async.cli.target import Connection, Target, connect
from kraken_futures_async.cli.watch import (
    StreamStep,
    WatchState,
    _order_in_view,
    _Recorder,
    checksum_ok,
    subscription_depth,
)
from kraken_futures_async.simulator import RunningTwin
from kraken_futures_async.streams import BookLevel, BookView
from kraken_futures_async.testing import ControlledTwin
from tests.test_cli import run, run_json, served

__all__ = ["served"]  # the fixture of test_cli: a twin on a loopback socket, its key set


def reference_checksum(asks: list[dict[str, str]], bids: list[dict[str, str]]) -> int:
    def digits(level: dict[str, str]) -> str:
        return level["price"].replace(".", "").lstrip("0") + level["size"].replace(".", "").lstrip(
            "0"
        )

    text = "".join(digits(a) for a in asks[:10]) + "".join(digits(b) for b in bids[:10])
    return zlib.crc32(text.encode())


def lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def refused(url: str) -> bool:
    """Whether nothing listens at ``url``'s host and port any more."""
    parts = urlsplit(url)
    assert parts.hostname == "127.0.0.1"
    assert parts.port is not None
    with socket.socket() as sock:
        return sock.connect_ex((parts.hostname, parts.port)) != 0


# --- watch --json on the embedded twin ---------------------------------------------------------


def test_watch_json_prints_verified_books_and_trades(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "--json", "watch", "PF_XBTUSD", "--seconds", "2")
    assert status == 0, err
    assert err == ""
    updates = lines(out)  # every line is one JSON document
    books = [u for u in updates if u["type"] == "book"]
    trades = [u for u in updates if u["type"] == "trade"]
    assert books, out
    assert trades  # the snapshot of the latest trades at least
    assert {u["type"] for u in updates} <= {"book", "trade", "reconnected"}
    for n, book in enumerate(books, 1):
        assert book["symbol"] == "PF_XBTUSD"
        assert book["update"] == n
        assert book["checksum_ok"] is True
        assert book["resyncs"] == 0
        assert book["checksum"] == reference_checksum(book["asks"], book["bids"])
        bid, ask = book["best_bid"], book["best_ask"]
        assert isinstance(bid["price"], str)
        assert isinstance(ask["size"], str)
        assert Decimal(bid["price"]) < Decimal(ask["price"])
        assert Decimal(book["spread"]) == Decimal(ask["price"]) - Decimal(bid["price"])
        assert book["bids"][0] == bid
        assert book["asks"][0] == ask
        assert 1 <= len(book["bids"]) <= 10
        assert 1 <= len(book["asks"]) <= 10
        prices = [Decimal(level["price"]) for level in book["bids"]]
        assert prices == sorted(prices, reverse=True)
        dt.datetime.fromisoformat(book["timestamp"])
    for trade in trades:
        assert trade["side"] in ("buy", "sell")
        assert Decimal(trade["qty"]) > 0
        assert isinstance(trade["price"], str)


def test_watch_depth_shows_that_many_levels(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "--json", "watch", "PF_ETHUSD", "--depth", "3", "--seconds", "1")
    assert status == 0, err
    books = [u for u in lines(out) if u["type"] == "book"]
    assert books
    assert all(len(b["bids"]) == 3 and len(b["asks"]) == 3 for b in books)


def test_watch_an_unknown_symbol_is_a_bad_argument(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "watch", "PF_NOPEUSD", "--seconds", "5")
    assert status == 2
    assert out == ""
    assert err.startswith("kraken-futures: error: unknown symbol PF_NOPEUSD")


def test_watch_refuses_a_depth_past_the_deepest_book(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "watch", "PF_XBTUSD", "--depth", "1001")
    assert status == 2
    assert "at most 1000 levels" in err


def test_subscription_depth_is_the_smallest_that_holds_the_levels() -> None:
    assert [subscription_depth(n) for n in (1, 10, 11, 25, 26, 999, 1000, 5000)] == [
        10, 10, 25, 25, 100, 1000, 1000, 1000,
    ]  # fmt: skip


def test_the_table_of_watch_needs_rich_only_without_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, err = run(capsys, "watch", "PF_XBTUSD", "--seconds", "1", "--depth", "2")
    assert status == 0, err
    assert "PF_XBTUSD book (top 2)" in out
    assert "latest trades" in out
    assert "checksum" in out
    assert " OK " in out
    assert "0 resyncs" in out


# --- the rendering, pure ------------------------------------------------------------------------


def level(price: str, size: str) -> BookLevel:
    return BookLevel(Decimal(price), Decimal(size))


def a_view() -> BookView:
    bids = (level("100.5", "2.0"), level("100.0", "1.25"), level("99.5", "0.0100"))
    asks = (level("101.0", "3"), level("101.5", "0.5"))
    digits = "10103" + "10155" + "100520" + "1000125" + "995100"  # asks then bids, reference
    return BookView(
        symbol="PF_TESTUSD",
        depth=10,
        bids=bids,
        asks=asks,
        checksum=zlib.crc32(digits.encode()),
        timestamp=dt.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC),
    )


def rendered(renderable: Any) -> str:
    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(renderable)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(text, str)
    return text


def test_a_book_view_renders_into_a_table() -> None:
    view = a_view()
    assert checksum_ok(view)
    table = stream_view_table(view, levels=3)
    assert isinstance(table, Table)
    assert [c.header for c in table.columns] == ["bid size", "bid", "ask", "ask size"]
    assert table.row_count == 3
    text = rendered(table)
    assert "PF_TESTUSD book (top 3)" in text
    rows = [line.split() for line in text.splitlines() if line.strip()[:1].isdigit()]
    assert rows == [
        ["2.0", "100.5", "101.0", "3"],
        ["1.25", "100.0", "101.5", "0.5"],
        ["0.0100", "99.5"],  # the exact digits, and an empty ask side past its two levels
    ]


def test_the_watch_view_shows_best_prices_checksum_and_counts() -> None:
    state = WatchState("PF_TESTUSD", levels=2, source="ws://127.0.0.1:1/v2/public")
    text = rendered(watch_view(state))
    assert "waiting for the book" in text
    state.on_book(a_view(), resyncs=1)
    text = rendered(watch_view(state))
    assert "best bid 100.5 · best ask 101.0 · spread 0.5" in text
    assert f"checksum {a_view().checksum} OK at 03:04:05.678" in text
    assert "1 book update · 1 resync · 0 reconnects" in text
    assert "from ws://127.0.0.1:1/v2/public" in text
    wrong = BookView(
        symbol="PF_TESTUSD",
        depth=10,
        bids=a_view().bids,
        asks=a_view().asks,
        checksum=a_view().checksum ^ 1,
        timestamp=a_view().timestamp,
    )
    state.on_book(wrong, resyncs=1)
    text = rendered(watch_view(state))
    assert "MISMATCH" in text
    assert "1 shown book failed the checksum" in text


def test_the_demo_stream_table_says_what_was_checked() -> None:
    step = StreamStep(
        symbol="PF_XBTUSD",
        url="ws://127.0.0.1:9/v2/public",
        seconds=3.0,
        updates=5,
        checksums_verified=5,
        distinct_states=4,
        first_bid=Decimal("1"),
        first_ask=Decimal("2"),
        last_bid=Decimal("3"),
        last_ask=Decimal("4"),
        order="post-only buy 1 @ 1: seen in the streamed book; cancelled, gone from the book",
    )
    text = rendered(stream_table(step))
    assert "5 of 5 verified, 0 failures" in text
    assert "1 / 2 -> 3 / 4" in text
    assert step.ok
    assert step.moved
    assert "skipped" in rendered(stream_table(StreamStep(symbol="X", skipped="no uvicorn")))
    assert not StreamStep(symbol="X", url="ws://x", updates=0).ok
    assert not StreamStep(symbol="X", url="ws://x", updates=3, checksum_failures=1).ok


# --- Ctrl-C -------------------------------------------------------------------------------------


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[Connection]:
    """Every Connection a command opens, kept for a look after the command returned."""
    opened: list[Connection] = []
    real = target.connect

    @asynccontextmanager
    async def spy(where: Target, **options: Any) -> AsyncIterator[Connection]:
        async with real(where, **options) as conn:
            opened.append(conn)
            yield conn

    monkeypatch.setattr("kraken_futures_async.cli.commands.connect", spy)
    return opened


@pytest.fixture
def default_sigint() -> Iterator[None]:
    """Ctrl-C as an interactive shell gives it: a run started in the background (``cmd &``)
    inherits SIGINT ignored, and Python then leaves it ignored."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


def _sigint_default_in_child() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_ends_watch_cleanly(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    connections: list[Connection],
    default_sigint: None,
) -> None:
    """A real SIGINT after the first book: exit 0, whole lines, Session and server closed."""
    assert threading.current_thread() is threading.main_thread()  # where SIGINT lands
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    real_line = Output.line
    sent: list[bool] = []

    def line_then_interrupt(self: Output, value: Any) -> None:
        real_line(self, value)
        if value["type"] == "book" and not sent:
            sent.append(True)
            signal.raise_signal(signal.SIGINT)  # what Ctrl-C does

    monkeypatch.setattr(Output, "line", line_then_interrupt)
    status, out, err = run(capsys, "--json", "watch", "PF_XBTUSD", "--seconds", "30")
    assert sent
    assert status == 0, err
    assert err == ""
    updates = lines(out)
    assert any(u["type"] == "book" for u in updates)
    (conn,) = connections
    assert repr(conn.session).endswith("closed>")
    assert conn.stream_url is not None
    assert refused(conn.stream_url)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


async def test_a_cancelled_watch_unsubscribes_and_closes() -> None:
    """Cancellation (what Ctrl-C becomes under asyncio.run) unwinds through both streams."""
    from kraken_futures_async.cli.watch import watch

    first = asyncio.Event()
    state = WatchState("PF_XBTUSD")

    def on_update(state: WatchState, kind: str, item: Any) -> None:
        if kind == "book":
            first.set()

    async with asyncio.timeout(30):
        async with connect(Target(), streams=True) as conn:
            task = asyncio.create_task(
                watch(conn.session, state, seconds=None, on_update=on_update)
            )
            await first.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert conn.twin is not None
            feed = conn.twin.app.uws.feed
            # both subscriptions were left (unsubscribed, acks awaited): the feed serves none
            assert not feed.books
            assert not feed.trades
            url = conn.stream_url
        assert repr(conn.session).endswith("closed>")
    assert url is not None
    assert refused(url)
    assert state.book_updates >= 1


def test_ctrl_c_in_a_real_process() -> None:
    """The console script under SIGINT: exit 0, nothing on stderr, every line whole JSON."""
    child = subprocess.Popen(
        [sys.executable, "-m", "kraken_futures_async", "--json", "watch", "PF_XBTUSD"],
        preexec_fn=_sigint_default_in_child,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines_out: list[str] = []
    first = threading.Event()

    def pump() -> None:  # one reader for all of stdout, so no line is split between two
        assert child.stdout is not None
        for line in child.stdout:
            lines_out.append(line)
            first.set()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        # the first update (the interpreter starts slowly on a busy machine)
        assert first.wait(60), "no update within 60 s"
        child.send_signal(signal.SIGINT)
        child.wait(timeout=30)
        reader.join(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.stderr is not None
    assert child.stdout is not None
    err = child.stderr.read()
    child.stderr.close()
    child.stdout.close()
    assert child.returncode == 0, err
    assert err == ""
    assert lines_out
    for text in lines_out:
        json.loads(text)


# --- the demo's streaming step ------------------------------------------------------------------


def test_the_demo_json_has_the_streaming_step(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_json(capsys, "demo", "--rows", "1")
    assert report["ok"] is True
    stream = report["stream"]
    assert stream["ok"] is True
    assert stream["skipped"] is None
    assert stream["error"] is None
    assert stream["url"].startswith("ws://127.0.0.1:")
    assert stream["url"].endswith("/v2/public")
    assert stream["updates"] >= 1
    assert stream["checksum_failures"] == 0
    assert stream["checksums_verified"] == stream["updates"]
    assert stream["moved"] is True  # our order alone moves the top of the book
    assert stream["order_seen"] is True
    assert stream["order_gone"] is True
    assert Decimal(stream["first_bid"]) < Decimal(stream["first_ask"])
    assert 2.5 < stream["seconds"] < 20
    # the step's orders went through the same metered Session: place (tried again if the
    # book moved under the post-only price) and cancel
    assert report["requests_by_path"]["POST /derivatives/api/v3/sendorder"] >= 4
    assert report["requests_by_path"]["POST /derivatives/api/v3/cancelorder"] == 2


def test_the_demo_summary_names_the_stream(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _err = run(capsys, "demo", "--rows", "1")
    assert status == 0, out
    assert "streaming the PF_XBTUSD book" in out
    assert "0 checksum failures, moved" in out
    assert "every streamed checksum verified" in out


async def test_the_main_job_with_streams_counts_the_steps_orders() -> None:
    progress = jobs.NoProgress()
    async with asyncio.timeout(60), connect(Target(), streams=True) as conn:
        report = await jobs.demo(conn, progress, stream_seconds=1.0)
        twin = conn.twin
    assert twin is not None
    assert report.ok
    assert report.stream.updates >= 1
    assert report.stream.checksum_failures == 0
    derivatives = next(b for b in report.budgets if b.name == "derivatives")
    # the trading session's 60 units, then the streaming step's order and cancel at 10 each
    # (and 10 more for each post-only order refused because the book moved under it)
    assert derivatives.units_admitted >= 80
    assert derivatives.units_admitted % 10 == 0
    assert sum(twin.meter.admitted.values()) == derivatives.units_admitted


async def test_an_order_the_market_fills_before_the_cancel_is_no_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The twin's market moves on its own: the streamed buy may be taken before the cancel."""
    twin = ControlledTwin()
    async with twin.session() as kf:
        cancel = kf.orders.cancel

        async def filled_first(**kwargs: Any) -> Any:
            twin.control.fill(kwargs["order_id"])  # a counterparty takes it first
            return await cancel(**kwargs)

        monkeypatch.setattr(kf.orders, "cancel", filled_first)
        recorder = _Recorder()
        text, seen, _gone = await _order_in_view(kf, "PF_XBTUSD", recorder, None, 0.01)
        placed = await kf.orders.open()
    assert "filled by the market before the cancel" in text
    assert not seen  # nothing streamed to the recorder in this test
    assert placed == []  # the order left the book by its fill, nothing is left behind


def test_without_the_sim_extra_the_demo_skips_streaming_and_watch_says_why(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(target, "streams_available", lambda: False)
    report = run_json(capsys, "demo", "--rows", "1")
    assert report["ok"] is True
    assert "pip install 'kraken_futures_async[sim]'" in report["stream"]["skipped"]
    assert report["stream"]["updates"] == 0
    status, out, err = run(capsys, "--json", "watch", "PF_XBTUSD", "--seconds", "1")
    assert status == 1
    assert out == ""
    assert "pip install 'kraken_futures_async[sim]'" in err


# --- other targets and readers ------------------------------------------------------------------


def test_watch_a_served_twin_by_its_url(
    capsys: pytest.CaptureFixture[str], served: RunningTwin
) -> None:
    status, out, err = run(
        capsys, "--base-url", served.url, "--json", "watch", "PF_XBTUSD", "--seconds", "1.5"
    )
    assert status == 0, err
    books = [u for u in lines(out) if u["type"] == "book"]
    assert books
    assert all(b["checksum"] == reference_checksum(b["asks"], b["bids"]) for b in books)


class ClosedAfterOneLine(io.StringIO):
    """A stdout whose reader goes away after the first line (``| head -1``)."""

    def write(self, text: str) -> int:
        if "\n" in self.getvalue():
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(text)


def test_a_reader_that_goes_away_ends_watch_quietly() -> None:
    stdout, stderr = ClosedAfterOneLine(), io.StringIO()
    status = main(["--json", "watch", "PF_XBTUSD", "--seconds", "20"], stdout=stdout, stderr=stderr)
    assert status == 0
    assert stderr.getvalue() == ""
    json.loads(stdout.getvalue().splitlines()[0])
