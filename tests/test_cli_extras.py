"""``sim`` and the optional extras: a missing uvicorn or rich ends in one line that names the
extra to install, and a busy port names the host and port.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable

import pytest

from kraken_futures_async.auth import API_KEY_ENV
from kraken_futures_async.simulator import Twin
from tests.test_cli import one_error_line, run, run_json


def hide(monkeypatch: pytest.MonkeyPatch, *packages: str) -> None:
    """Make ``packages`` (and their submodules) fail to import, as if not installed."""
    for package in packages:
        for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
            monkeypatch.setitem(sys.modules, name, None)
        monkeypatch.setitem(sys.modules, package, None)


@pytest.mark.parametrize("missing", [("uvicorn",), ("uvicorn", "rich")])
def test_sim_without_uvicorn_names_the_sim_extra(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, missing: tuple[str, ...]
) -> None:
    hide(monkeypatch, *missing)
    status, out, err = run(capsys, "sim", "--port", "0")
    assert status == 1
    assert out == ""
    line = one_error_line(err)
    assert "uvicorn" in line
    assert "pip install 'kraken_futures_async[sim]'" in line
    assert "tables" not in line


def test_sim_without_rich_prints_its_banner_as_plain_text(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def serve(twin: Twin, *, port: int, on_ready: Callable[[str], None]) -> None:
        on_ready(f"http://127.0.0.1:{port or 18081}")

    hide(monkeypatch, "rich")
    monkeypatch.setattr("kraken_futures_async.simulator.serve", serve)
    status, out, err = run(capsys, "sim", "--port", "0")
    assert (status, err) == (0, "")
    assert out.startswith("Kraken Futures twin on http://127.0.0.1:18081 (seed 0)\n")
    assert f"export {API_KEY_ENV}='" in out
    assert "[bold]" not in out


def test_tables_without_rich_name_the_cli_extra(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    hide(monkeypatch, "rich")
    status, out, err = run(capsys, "tickers", "PF_XBTUSD")
    assert (status, out) == (1, "")
    assert "pip install 'kraken_futures_async[cli]'" in one_error_line(err)
    assert run_json(capsys, "tickers", "PF_XBTUSD")[0]["symbol"] == "PF_XBTUSD"


@pytest.mark.parametrize("as_json", [False, True])
def test_sim_on_a_busy_port_names_host_and_port(
    capsys: pytest.CaptureFixture[str], as_json: bool
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        argv = ["sim", "--port", str(port)] + (["--json"] if as_json else [])
        status, out, err = run(capsys, *argv)
    assert status == 1
    assert out == ""
    line = one_error_line(err)
    assert f"127.0.0.1:{port}" in line
    assert "already in use" in line
    assert "--port 0" in line
