"""Every program in ``examples/`` run as a trader would run it, against a served twin.

Each runs in a subprocess with the twin's address and keys in its environment (what
``kraken_twin_server.env()`` gives), so the examples never rot.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from kraken_futures_async.testing import ServedTwin

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TIMEOUT = 60


def run(script: str, served: ServedTwin | None, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **(served.env() if served else {})}
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def test_snapshot_books_reads_every_book(kraken_twin_server: ServedTwin) -> None:
    done = run("snapshot_books.py", kraken_twin_server)
    assert done.returncode == 0, done.stderr
    *rows, summary = done.stdout.splitlines()
    assert summary == f"{len(rows)} books"
    assert len(rows) > 100
    assert any(row.startswith("PF_XBTUSD ") for row in rows)


def test_market_maker_quotes_and_cancels(kraken_twin_server: ServedTwin) -> None:
    done = run("market_maker.py", kraken_twin_server, "--rounds", "2", "--pause", "0")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "posted and cancelled 4 quotes on PF_XBTUSD"
    twin = kraken_twin_server.twin
    assert twin.exchange.handle("open_orders", {}, twin.account_uid)["openOrders"] == []


def test_deadman_bot_stops_cleanly(kraken_twin_server: ServedTwin) -> None:
    done = run("deadman_bot.py", kraken_twin_server, "--run-for", "0")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].startswith("stopped cleanly")


def test_deadman_bot_killed_leaves_its_order_to_the_switch(
    kraken_twin_server: ServedTwin,
) -> None:
    env = {**os.environ, **kraken_twin_server.env()}
    bot = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "deadman_bot.py")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    deadline = threading.Timer(TIMEOUT, bot.kill)  # a bot that hangs ends the read with EOF
    deadline.start()
    try:
        assert bot.stdout is not None
        line = bot.stdout.readline()  # the bot prints it once armed and resting
    finally:
        deadline.cancel()
        bot.kill()
        bot.communicate(timeout=TIMEOUT)
    assert line.startswith("armed 60s, resting "), line
    order_id = line.split()[3]
    control = kraken_twin_server.control
    control.advance(59)
    assert control.is_open(order_id)  # the switch has not run out yet
    control.advance(2)
    assert not control.is_open(order_id)  # cancelled by the exchange: the bot is gone


def test_the_plugin_example_suite_passes() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=",
            "test_market_maker.py",
        ],
        cwd=EXAMPLES,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 passed" in done.stdout


def test_paper_session_fills_on_the_mirrored_market() -> None:
    done = run("paper_session.py", None)
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(None, 1) for line in done.stdout.splitlines() if line.strip())
    mirrored = lines["mirrored"].split()  # "book bid B / ask A"
    bid, ask = mirrored[2], mirrored[5]
    assert lines["market"] == f"buy      0.01 filled at {ask} (the source's best ask)"
    assert lines["source"] == f"traded   through {bid}: paper bid filled at {bid}"
    assert lines["position"].split()[:2] == ["long", "0.02"]
