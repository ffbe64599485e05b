"""What the command prints: the demo's request lines add up, words agree with numbers, tables
on a pipe keep their rows whole, and ``book --json`` keeps to ``--depth``.
"""

from __future__ import annotations

import pytest

from kraken_futures_async.cli.jobs import plural
from kraken_futures_async.cli.output import PIPE_WIDTH, Output
from kraken_futures_async.cli.render import request_lines
from tests.test_cli import run, run_json


def test_book_json_keeps_to_the_depth(capsys: pytest.CaptureFixture[str]) -> None:
    book = run_json(capsys, "book", "PF_XBTUSD", "--depth", "2")
    assert 1 <= len(book["bids"]) <= 2
    assert 1 <= len(book["asks"]) <= 2
    default = run_json(capsys, "book", "PF_XBTUSD")
    assert len(default["bids"]) <= 10
    assert len(default["asks"]) <= 10


# --- the demo's summary and its words ---------------------------------------------------------


def test_demo_request_lines_add_up_to_the_total(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "demo", "--rows", "1")
    assert status == 0, err
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if "requests made" in line)
    total = int(lines[start].split()[-1])
    shown = []
    for line in lines[start + 1 :]:
        if "latency" in line:
            break
        shown.append(int(line.split()[0]))
    assert len(shown) >= 2
    assert sum(shown) == total


def test_request_lines_sum_the_rest() -> None:
    by_path = {f"GET /derivatives/api/v3/e{n}": 10 - n for n in range(8)}
    lines = request_lines(by_path, shown=4)
    assert lines == [
        "  10  GET /derivatives/api/v3/e0",
        "   9  GET /derivatives/api/v3/e1",
        "   8  GET /derivatives/api/v3/e2",
        "  25  on 5 other endpoints (e3, e4, e5, e6, e7)",
    ]
    four = dict(list(by_path.items())[:4])
    assert request_lines(four, shown=4)[-1] == "   7  GET /derivatives/api/v3/e3"
    assert request_lines({"GET /a": 1, "GET /b": 1}, shown=1) == [
        "   2  on 2 other endpoints (a, b)"
    ]


def test_plural() -> None:
    assert [plural(n, "ticker") for n in (0, 1, 2)] == ["0 tickers", "1 ticker", "2 tickers"]
    assert plural(2, "index", "indices") == "2 indices"


def test_one_ticker_is_not_tickers(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "tickers", "PF_XBTUSD")
    assert status == 0
    assert "1 ticker from the embedded twin" in out


# --- tables on a pipe ------------------------------------------------------------------------


def test_piped_tables_do_not_wrap(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    status, out, _ = run(capsys, "tickers", "PF_XBTUSD", "PF_ETHUSD")
    assert status == 0
    lines = out.splitlines()
    header = next(line for line in lines if "symbol" in line)
    assert header.split() == [
        "symbol", "last", "mark", "bid", "ask", "24h", "volume", "(quote)", "funding", "rate"
    ]  # fmt: skip
    rows = [line.split() for line in lines if line.strip().startswith("PF_")]
    assert len(rows) == 2
    assert all(len(cells) == 7 for cells in rows), rows
    assert "…" not in out
    assert max(len(line) for line in lines) > 80  # wide enough to have wrapped before

    status, out, _ = run(capsys, "demo", "--rows", "2")
    assert status == 0
    assert any("derivatives budget" in line and "window now (" in line for line in out.splitlines())


class Terminal:
    """A stdout that says it is a terminal."""

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def test_a_terminal_gets_the_terminal_width() -> None:
    terminal = Terminal()
    out = Output(as_json=False, progress=False, stdout=terminal, stderr=terminal)  # type: ignore[arg-type]
    assert out.console().width < PIPE_WIDTH
