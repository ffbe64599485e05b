"""The kraken-futures command: every subcommand on the in-process twin, JSON, errors, exits.

Commands run through ``cli.main`` (each starts its own event loop, so these tests are plain
functions); ``sim`` runs as a real process on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import httpx
import pytest

from kraken_futures_async.auth import API_KEY_ENV, API_SECRET_ENV
from kraken_futures_async.cli import jobs, main
from kraken_futures_async.simulator import ManualClock, RunningTwin, Twin, TwinConfig, run_in_thread


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    status, out, err = run(capsys, "--json", *argv)
    assert status == 0, err
    return json.loads(out)


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(API_KEY_ENV, raising=False)
    monkeypatch.delenv(API_SECRET_ENV, raising=False)


def one_error_line(err: str) -> str:
    """The command's whole stderr, which must be one ``kraken-futures: error:`` line."""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("kraken-futures: error: ")
    return lines[0]


@contextmanager
def serving(
    monkeypatch: pytest.MonkeyPatch, config: TwinConfig | None = None
) -> Iterator[RunningTwin]:
    """A twin on a loopback socket, its key in the environment as a user would set it."""
    running = run_in_thread(Twin(config or TwinConfig(seed=3)), port=0)
    key = running.twin.key
    monkeypatch.setenv(API_KEY_ENV, key.public_key)
    monkeypatch.setenv(API_SECRET_ENV, key.secret)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningTwin]:
    with serving(monkeypatch) as running:
        yield running


# --- the subcommands on the embedded twin -------------------------------------------------


def test_tickers_table_names_the_ones_asked_for(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "tickers", "PF_XBTUSD", "PF_ETHUSD")
    assert status == 0
    assert "2 tickers from the embedded twin" in out
    assert "PF_XBTUSD" in out
    assert "PF_ETHUSD" in out
    assert "PF_SOLUSD" not in out


def test_tickers_json_keeps_numbers_exact(capsys: pytest.CaptureFixture[str]) -> None:
    tickers = run_json(capsys, "tickers")
    assert len(tickers) > 250
    xbt = next(t for t in tickers if t["symbol"] == "PF_XBTUSD")
    assert isinstance(xbt["mark_price"], str)
    assert Decimal(xbt["bid"]) < Decimal(xbt["ask"])


def test_an_unknown_ticker_is_a_bad_argument(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "tickers", "PF_NOPEUSD")
    assert status == 2
    assert err.startswith("kraken-futures: error: unknown symbol PF_NOPEUSD (did you mean ")
    assert out == ""


def test_book_json_and_table(capsys: pytest.CaptureFixture[str]) -> None:
    book = run_json(capsys, "book", "PF_XBTUSD")
    bids = [Decimal(level["price"]) for level in book["bids"]]
    asks = [Decimal(level["price"]) for level in book["asks"]]
    assert book["symbol"] == "PF_XBTUSD"
    assert bids == sorted(bids, reverse=True)
    assert asks == sorted(asks)
    assert bids[0] < asks[0]

    status, out, _ = run(capsys, "book", "pf_xbtusd", "--depth", "3")
    assert status == 0
    assert "PF_XBTUSD order book (top 3)" in out
    rows = [line for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert len(rows) == 3


def test_snapshot_fetches_every_tradeable_book(capsys: pytest.CaptureFixture[str]) -> None:
    snap = run_json(capsys, "snapshot")
    instruments = asyncio.run(_tradeable())
    assert set(snap["books"]) == instruments
    assert snap["failed"] == {}
    assert len(snap["tickers"]) >= len(instruments)
    assert all(book["levels"] > 0 for book in snap["books"].values())


async def _tradeable() -> set[str]:
    async with Twin().session() as kf:
        return {i.symbol for i in await kf.market.instruments() if i.tradeable}


def test_trade_places_edits_cancels_fills_and_goes_flat(
    capsys: pytest.CaptureFixture[str],
) -> None:
    log = run_json(capsys, "trade")
    steps = [s["step"] for s in log["steps"]]
    assert steps == [
        "instruments",
        "accounts",
        "order book",
        "place",
        "edit",
        "open orders",
        "cancel",
        "fill",
        "fills",
        "positions",
        "close",
        "positions",
    ]
    details = {s["step"]: s["detail"] for s in log["steps"]}
    assert "placed" in details["place"]
    assert "edited" in details["edit"]
    assert details["cancel"] == "cancelled"
    assert "1 fill, 0.0010 @" in details["fills"]
    positions = [s["detail"] for s in log["steps"] if s["step"] == "positions"]
    assert positions[0].startswith("PF_XBTUSD long 0.0010 @ ")
    assert positions[1] == "flat"
    assert log["size"] == "0.0010"
    assert log["final_position"] == "0"


def test_trade_takes_a_symbol_and_a_size(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "trade", "--symbol", "PF_ETHUSD", "--size", "0.02")
    assert status == 0
    assert "trading session on PF_ETHUSD" in out
    assert "market buy 0.02: placed" in out


def test_bench_reports_every_kind_of_call(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_json(capsys, "bench", "--calls", "3")
    kinds = [row["kind"] for row in report["rows"]]
    assert kinds[:4] == ["tickers", "order book", "signed GET (open orders)", "order (send)"]
    assert kinds[4].startswith("fan-out (")
    assert report["in_process"] is True
    for row in report["rows"]:
        assert row["latency"]["p50_ms"] > 0
        assert row["calls_per_second"] > 0
    assert report["rows"][0]["calls"] == 3


def test_demo_command_prints_the_summary(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "demo", "--rows", "3")
    assert status == 0, err
    for text in (
        "order books: the 3 busiest",
        "trading session on PF_XBTUSD",
        "requests made",
        "latency p50 / p90 / p99",
        "derivatives budget",
        "0 seen by the client, twin counted 0",
        "main job done",
    ):
        assert text in out


# --- the main job as a function -----------------------------------------------------------


class Recorder:
    """A Progress that remembers what it was told."""

    def __init__(self) -> None:
        self.tasks: list[tuple[str, int | None]] = []
        self.advanced = 0
        self.stopped = 0

    def start(self, description: str, total: int | None = None) -> None:
        self.tasks.append((description, total))

    def advance(self, steps: int = 1) -> None:
        self.advanced += steps

    def stop(self) -> None:
        self.stopped += 1


async def test_the_main_job_end_to_end_in_process() -> None:
    from kraken_futures_async.cli.target import Target, connect

    progress = Recorder()
    async with asyncio.timeout(30), connect(Target()) as conn:
        report = await jobs.demo(conn, progress)
        twin = conn.twin
    assert twin is not None
    books = len(report.snapshot.books)
    assert report.ok
    assert books > 250
    assert report.snapshot.failed == {}
    assert report.trade.final_position == 0
    assert report.requests == sum(report.requests_by_path.values())
    assert report.requests >= books + 10
    assert report.latency.count == report.requests
    assert report.latency.p50_ms <= report.latency.p90_ms <= report.latency.p99_ms
    assert report.client_refusals == 0
    assert report.twin_refusals == 0
    derivatives = next(b for b in report.budgets if b.name == "derivatives")
    # three orders, one edit, one cancel at 10; accounts, open orders, fills, positions x2 at 2
    assert derivatives.units_admitted == 60
    assert sum(twin.meter.admitted.values()) == derivatives.units_admitted
    # progress: 2 for tickers and instruments, one per book, one per trading step
    assert progress.advanced == 2 + books + len(report.trade.steps)
    assert progress.tasks[1] == (f"order books of {books} contracts", books)


# --- talking to a twin on a socket --------------------------------------------------------


def test_trade_on_a_served_twin_with_credentials_from_the_environment(
    served: RunningTwin, capsys: pytest.CaptureFixture[str]
) -> None:
    log = run_json(capsys, "--base-url", served.url, "trade")
    assert log["final_position"] == "0"
    assert served.twin.meter.admitted  # the orders reached the served twin, signed
    assert sum(served.twin.meter.refused.values()) == 0


def test_private_calls_without_credentials_say_which_variables(
    served: RunningTwin, capsys: pytest.CaptureFixture[str], no_credentials: None
) -> None:
    status, out, err = run(capsys, "--base-url", served.url, "trade", "--retries", "1")
    assert status == 1
    assert out == ""
    assert API_KEY_ENV in err
    assert API_SECRET_ENV in err
    assert "Traceback" not in err


@pytest.mark.parametrize("as_json", [False, True])
def test_a_refused_connection_exits_1_with_a_clear_message(
    capsys: pytest.CaptureFixture[str], as_json: bool, no_credentials: None
) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    argv = ["--base-url", url, "--retries", "1", "tickers"]
    status, out, err = run(capsys, *(["--json", *argv] if as_json else argv))
    assert status == 1
    assert out == ""
    assert err.startswith(f"kraken-futures: error: could not connect to {url} (")
    assert "kraken-futures sim" in err
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1


# --- bad arguments ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["nosuch"], "invalid choice: 'nosuch'"),
        (["book"], "the following arguments are required: SYMBOL"),
        (["book", "PF_XBTUSD", "--depth", "0"], "expected a whole number of at least 1"),
        (["--base-url", "ftp://x", "tickers"], "expected http(s)://host[:port]"),
        (["--base-url", "http://127.0.0.1:99999", "tickers"], "bad port"),
        (["--base-url", "http://127.0.0.1:1/api", "tickers"], "expected the server's root URL"),
        (["--base-url", "http://127.0.0.1:1/derivatives/x", "tickers"], "the server's root URL"),
        (["--base-url", "http://127.0.0.1:1/?a=1", "tickers"], "expected the server's root URL"),
        (["--env", "demo", "tickers"], "invalid choice: 'demo'"),
        (["--timeout", "-1", "tickers"], "expected a positive number of seconds"),
        (["trade", "--size", "0"], "expected a positive size"),
        (["trade", "--size", "lots"], "expected a positive size"),
        (["sim", "--port", "70000"], "expected a port from 0 to 65535"),
        (["book", "PF XBT"], "not a contract symbol"),
        (["--base-url", "http://127.0.0.1:1", "--env", "production", "tickers"], "not both"),
        (["--env", "production", "trade"], "add --allow-production"),
        (["--env", "production", "bench"], "add --allow-production"),
        (["--env", "production", "demo"], "`demo` trades"),
        (["sim", "--base-url", "http://127.0.0.1:1"], "--base-url and --env do not apply"),
        (["sim", "--mirror-symbol", "PF_XBTUSD"], "--mirror-symbol needs --mirror URL"),
        (["paper", "--source", "ftp://x"], "a mirror's source is a ws://, wss:// or http://"),
        (["paper", "--mirror-symbol", "PF_NOPEUSD"], "cannot mirror PF_NOPEUSD"),
    ],
)
def test_bad_arguments_exit_2_with_the_reason(
    capsys: pytest.CaptureFixture[str], argv: list[str], reason: str
) -> None:
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert out == ""
    assert "usage: kraken-futures" in err
    assert reason in err
    assert "Traceback" not in err


def test_options_go_before_or_after_the_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    before = run_json(capsys, "book", "PF_ETHUSD")
    status, out, _ = run(capsys, "book", "PF_ETHUSD", "--json")
    assert status == 0
    assert json.loads(out)["symbol"] == before["symbol"] == "PF_ETHUSD"


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--help")
    assert status == 0
    for name in ("tickers", "book", "snapshot", "trade", "demo", "sim", "bench"):
        assert name in out


# --- sim, python -m and the real process --------------------------------------------------


def _read_json_document(stream: Any, deadline: float) -> dict[str, Any]:
    text = ""
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            break
        text += line
        if line.startswith("}"):
            return dict(json.loads(text))
    raise AssertionError(f"no JSON document from the twin: {text!r}")


@contextlib.contextmanager
def served_sim(*extra: str, command_name: str = "sim") -> Iterator[dict[str, Any]]:
    """``kraken-futures sim`` (or ``paper``) in a process of its own, yielding its JSON
    banner; interrupted when the block ends, it must exit cleanly."""
    command = [sys.executable, "-m", "kraken_futures_async", command_name, "--port", "0", "--json"]
    env = {k: v for k, v in os.environ.items() if k not in (API_KEY_ENV, API_SECRET_ENV)}
    with subprocess.Popen(
        [*command, *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    ) as process:
        try:
            assert process.stdout is not None
            yield _read_json_document(process.stdout, time.monotonic() + 30)
        finally:
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    assert "Traceback" not in err


def test_sim_serves_a_twin_until_interrupted(capsys: pytest.CaptureFixture[str]) -> None:
    with served_sim() as served:
        assert served["url"].startswith("http://127.0.0.1:")
        assert served["api_key"] == Twin(TwinConfig(seed=0)).key.public_key
        book = run_json(capsys, "--base-url", served["url"], "book", "PF_XBTUSD")
        assert book["bids"]


def test_paper_serves_a_twin_over_the_market_of_its_source(
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = run_in_thread(Twin(TwinConfig(clock=ManualClock())))  # a frozen market
    try:
        real = run_json(capsys, "--base-url", source.url, "book", "PF_ETHUSD", "--depth", "5")
        with served_sim(
            "--source", source.url, "--mirror-symbol", "PF_ETHUSD", command_name="paper"
        ) as served:
            assert served["mirror"] == {"source": source.url, "symbols": ["PF_ETHUSD"]}
            deadline = time.monotonic() + 20
            while True:  # the mirror shows the source's book once its socket delivered it
                status, out, _ = run(
                    capsys,
                    "--base-url",
                    served["url"],
                    "book",
                    "PF_ETHUSD",
                    "--depth",
                    "5",
                    "--json",
                )
                if status == 0 and json.loads(out)["bids"] == real["bids"]:
                    break
                assert time.monotonic() < deadline, out
                time.sleep(0.1)
            assert json.loads(out)["asks"] == real["asks"]
    finally:
        source.stop()


def test_sim_takes_the_twins_request_limits() -> None:
    path = "/derivatives/api/v3/sendorder"
    limits = ("--max-request-bytes", "1000", "--read-timeout", "2")
    with served_sim(*limits) as served, httpx.Client(base_url=served["url"], timeout=10) as client:
        small = client.post(path, content=b"a=1" * 100)
        large = client.post(path, content=b"a=1" * 400)
    assert small.status_code != 413
    assert large.status_code == 413
