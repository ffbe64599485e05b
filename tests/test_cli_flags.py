"""Flags met on first contact: ``--base-url`` as pasted, ``--version``, ``-v``/``-vv``."""

from __future__ import annotations

import base64
import importlib.metadata
import logging

import pytest

from kraken_futures_async import retry
from kraken_futures_async.auth import API_SECRET_ENV
from kraken_futures_async.simulator import FaultRule, TwinConfig
from tests.test_cli import closed_port, one_error_line, run, run_json, serving

# --- --base-url as pasted -------------------------------------------------------------------


def test_base_url_with_the_api_path_is_accepted(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with serving(monkeypatch) as served:
        for suffix in ("/derivatives", "/derivatives/", "/derivatives/api/v3/", "/"):
            argv = ("--base-url", served.url + suffix, "tickers", "PF_XBTUSD")
            assert [t["symbol"] for t in run_json(capsys, *argv)] == ["PF_XBTUSD"], suffix


def test_base_url_with_the_api_path_and_nobody_listening_is_a_connection_failure(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = f"http://127.0.0.1:{closed_port()}"
    status, out, err = run(capsys, "--base-url", root + "/derivatives", "--retries", "1", "tickers")
    assert (status, out) == (1, "")
    assert one_error_line(err).startswith(f"kraken-futures: error: could not connect to {root} (")


# --- --version ------------------------------------------------------------------------------


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--version")
    assert status == 0
    assert out == f"kraken-futures {importlib.metadata.version('kraken_futures_async')}\n"


# --- -v and -vv -----------------------------------------------------------------------------

REQUEST_LINE = "kraken_futures_async DEBUG: GET /derivatives/api/v3/tickers -> 200"


@pytest.mark.parametrize(
    ("flags", "debug"),
    [
        (["-vv", "tickers"], True),
        (["-v", "tickers", "-v"], True),
        (["tickers", "--verbose"], False),
    ],
)
def test_verbose_shows_the_library_log_on_stderr(
    capsys: pytest.CaptureFixture[str], flags: list[str], debug: bool
) -> None:
    logger = logging.getLogger("kraken_futures_async")
    handlers, level = list(logger.handlers), logger.level
    status, out, err = run(capsys, *flags, "PF_XBTUSD")
    assert status == 0
    assert "PF_XBTUSD" in out
    assert (REQUEST_LINE in err) is debug
    assert (logger.handlers, logger.level) == (handlers, level)  # nothing left behind


def test_without_verbose_stderr_stays_quiet(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "tickers", "PF_XBTUSD")
    assert (status, err) == (0, "")


def test_verbose_shows_retries(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retry.RetryPolicy, "delay", lambda *_, **__: 0.0)  # no real waiting
    fault = FaultRule(kind="server_error", route="tickers", times=1)
    with serving(monkeypatch, TwinConfig(seed=3, faults=(fault,))) as served:
        status, _, err = run(capsys, "-v", "--base-url", served.url, "tickers", "PF_XBTUSD")
    assert status == 0
    assert "kraken_futures_async INFO: tickers: attempt 1 failed (" in err
    assert "retrying in 0.000 s" in err
    assert "DEBUG" not in err


def test_verbose_never_logs_the_secret(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = base64.b64encode(b"a wrong secret that decodes" * 3).decode()
    with serving(monkeypatch) as served:
        secret = served.twin.key.secret
        status, _, err = run(capsys, "-vv", "--base-url", served.url, "trade")
        monkeypatch.setenv(API_SECRET_ENV, wrong)
        refused, _, refused_err = run(
            capsys, "-vv", "--base-url", served.url, "--retries", "1", "trade"
        )
    assert status == 0
    assert "POST /derivatives/api/v3/sendorder -> 200" in err
    assert refused == 1
    assert "GET /derivatives/api/v3/accounts -> 200" in refused_err  # Kraken's refusal: a 200
    for text in (err, refused_err):
        assert secret not in text
        assert wrong not in text
        assert wrong[:12] not in text
