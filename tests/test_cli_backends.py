"""The demo's trading session over both backends (REST, then ``backend="uws"`` on the served
twin), printed side by side; what UWS cannot do is skipped with its reason, never failed."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from kraken_futures_async import Credentials, KrakenFuturesError, Session
from kraken_futures_async.cli import jobs, target
from kraken_futures_async.cli.backends import NO_KRAKEN_KEY, ROWS, BackendRun, cells, uws_run
from kraken_futures_async.cli.meter import TrafficMeter
from kraken_futures_async.cli.target import Connection, Target
from kraken_futures_async.operations import catalog as ops
from tests.fake_backend import FakeBackend
from tests.test_cli import run, run_json

#: What the UWS backend may skip in the session (market data and fills have no UWS call).
UWS_MAY_SKIP = {"instruments", "order book", "fills"}


def _row(lines: list[str], name: str) -> str:
    return next(line for line in lines if line.strip().startswith(name))


def test_the_demo_prints_both_sessions_side_by_side(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "demo", "--rows", "1")
    assert status == 0, err
    lines = out.splitlines()
    assert "trading session on PF_XBTUSD over rest and uws" in out
    header = next(line for line in lines if "rest: what happened" in line)
    assert "uws: what happened" in header
    assert "the trading session over each backend" in out
    wire = _row(lines, "wire").split()
    assert wire[1:3] == ["HTTP,", "in-process"]
    assert wire[3].startswith("ws://127.0.0.1:")
    assert wire[3].endswith("/v2/private")
    assert _row(lines, "orders placed / edited / cancelled").count("1 / 1 / 1") == 2
    assert _row(lines, "market orders (fill, close)").split()[-2:] == ["2", "2"]
    assert _row(lines, "refusals").split()[-2:] == ["0", "0"]
    assert _row(lines, "final position").count("0 PF_XBTUSD") == 2
    assert _row(lines, "verdict").count("flat, no refusals") == 2
    assert "main job done: every book fetched, the session went flat over rest and uws" in out
    # every skipped step says why, in the backend's own words
    for line in lines:
        if line.startswith("uws skipped "):
            assert "is not available over the uws backend" in line


def test_the_demo_json_has_both_backends(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_json(capsys, "demo", "--rows", "1")
    assert report["ok"] is True
    rest, uws = report["backends"]
    assert [rest["backend"], uws["backend"]] == ["rest", "uws"]
    assert uws["wire"].startswith("ws://127.0.0.1:")
    assert uws["wire"].split()[0].endswith("/v2/private")
    for column in (rest, uws):
        assert column["ok"] is True
        assert column["not_run"] is None
        assert column["error"] is None
        log = column["trade"]
        assert log["backend"] == column["backend"]
        assert (log["placed"], log["edited"], log["cancelled"]) == (1, 1, 1)
        assert log["market_orders"] == 2
        assert log["refused"] == 0
        assert Decimal(log["final_position"]) == 0
        assert 0 < log["seconds"] < 30
        latency = column["order_latency"]
        assert latency["count"] == 5  # place, edit, cancel, fill, close
        assert 0 < latency["p50_ms"] <= latency["max_ms"]
    assert rest["skipped"] == {}
    assert rest["local_checks"] is True
    assert rest["requests"] >= len(rest["trade"]["steps"])
    assert uws["requests"] is None
    # on where the backend serves the instrument list, off (and said so) where it does not
    assert uws["local_checks"] is ("instruments" not in uws["skipped"])
    assert set(uws["skipped"]) <= UWS_MAY_SKIP
    for step, reason in uws["skipped"].items():
        assert "not available over the uws backend" in reason, step
    steps = [s["step"] for s in uws["trade"]["steps"]]
    assert steps == [s["step"] for s in rest["trade"]["steps"]]
    # the REST column is the demo's own trading session
    assert rest["trade"] == report["trade"]


def test_without_a_socket_the_uws_column_says_why(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(target, "streams_available", lambda: False)
    report = run_json(capsys, "demo", "--rows", "1")
    assert report["ok"] is True
    uws = report["backends"][1]
    assert uws["trade"] is None
    assert "pip install 'kraken_futures_async[sim]'" in uws["not_run"]
    status, out, _ = run(capsys, "demo", "--rows", "1")
    assert status == 0
    assert "not run: needs the exchange on a socket" in out
    assert "trading session on PF_XBTUSD" in out
    assert "over rest and uws" not in out


async def test_a_remote_exchange_without_a_kraken_key_is_not_traded_over_uws() -> None:
    url = "http://127.0.0.1:9"
    async with Session(base_url=url) as session:
        conn = Connection(
            session=session,
            meter=TrafficMeter(),
            target=Target(base_url=url),
            served_url=url,
            credentials=Credentials("key", "c2VjcmV0"),
        )
        column = await uws_run(conn, "PF_XBTUSD", jobs.NoProgress())
    assert column.not_run == NO_KRAKEN_KEY
    assert column.wire == "ws://127.0.0.1:9/v2/private"
    assert column.ok  # not run is not a failure
    shown = cells(column)
    assert len(shown) == len(ROWS)
    assert shown[1] == f"not run: {NO_KRAKEN_KEY}"


def test_a_failed_column_is_not_ok() -> None:
    failed = BackendRun("uws", "ws://127.0.0.1:1/v2/private", error="the socket closed")
    assert not failed.ok
    assert cells(failed)[1] == "failed: the socket closed"
    assert failed.order_latency.count == 0


async def test_a_session_that_cannot_read_the_market_needs_one_that_can() -> None:
    """A backend without the instrument list and no other Session beside it: the step is
    logged as skipped and the session stops before any order."""
    fake = FakeBackend(without=(ops.INSTRUMENTS,))
    async with Session(backend=fake) as kf:
        with pytest.raises(KrakenFuturesError, match="no instrument list to trade PF_XBTUSD"):
            await jobs.trade(kf, "PF_XBTUSD", jobs.NoProgress())
    assert fake.calls["send_order"] == 0


def test_an_average_fill_price_is_written_out() -> None:
    fill = SimpleNamespace(
        size=Decimal("0.0010"), price=Decimal("82480"), fill_type=SimpleNamespace(value="taker")
    )
    assert jobs._describe_fills([fill]) == "1 fill, 0.0010 @ 82480 (taker)"
