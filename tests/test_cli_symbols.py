"""Typos and wrong keys: an unknown symbol reads the same in every command (exit 2, with the
nearest real symbols), and refused credentials say what to check without showing the secret.
"""

from __future__ import annotations

import base64

import pytest

from kraken_futures_async.auth import API_KEY_ENV, API_SECRET_ENV
from kraken_futures_async.cli.jobs import UnknownSymbolError, nearest_symbols
from tests.test_cli import one_error_line, run, run_json, serving


def test_an_unknown_symbol_is_one_message_and_status_for_every_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    answers = [
        run(capsys, *argv)
        for argv in (
            ("tickers", "PF_NOPE"),
            ("book", "PF_NOPE"),
            ("--json", "book", "PF_NOPE"),
            ("trade", "--symbol", "PF_NOPE"),
        )
    ]
    lines = set()
    for status, out, err in answers:
        assert (status, out) == (2, "")
        lines.add(one_error_line(err))
    assert len(lines) == 1, lines
    (line,) = lines
    assert line.startswith("kraken-futures: error: unknown symbol PF_NOPE (did you mean PF_")
    assert line.endswith("?)")


def test_unknown_symbols_on_a_served_twin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with serving(monkeypatch) as served:
        status, _, err = run(capsys, "--base-url", served.url, "book", "pf_ethusdx")
        assert status == 2
        line = one_error_line(err)
        assert line.startswith("kraken-futures: error: unknown symbol PF_ETHUSDX (did you mean ")
        assert "PF_ETHUSD" in line
        argv = ("--base-url", served.url, "tickers", "PF_XBTUSD", "PF_NOPE", "PF_NADA")
        status, _, err = run(capsys, *argv)
    assert status == 2
    line = one_error_line(err)
    assert "unknown symbol PF_NOPE (" in line
    assert "; unknown symbol PF_NADA (" in line


def test_nearest_symbols() -> None:
    known = ["PF_XBTUSD", "PF_ETHUSD", "PI_XBTUSD", "in_xbtusd"]
    assert nearest_symbols("pf_xbtusdt", known)[0] == "PF_XBTUSD"
    assert nearest_symbols("IN_XBTUSDX", known)[0] == "in_xbtusd"
    assert nearest_symbols("QQQ", known) == []
    assert str(UnknownSymbolError(["QQQ"], known)) == (
        "unknown symbol QQQ (nothing like it on this exchange)"
    )
    assert str(UnknownSymbolError(["PF_ETHUSDX"], ["PF_ETHUSD"])) == (
        "unknown symbol PF_ETHUSDX (did you mean PF_ETHUSD?)"
    )


def test_symbols_are_listed_in_the_order_asked(capsys: pytest.CaptureFixture[str]) -> None:
    tickers = run_json(capsys, "tickers", "PF_SOLUSD", "pf_xbtusd", "PF_SOLUSD")
    assert [t["symbol"] for t in tickers] == ["PF_SOLUSD", "PF_XBTUSD"]


@pytest.mark.parametrize("wrong", ["secret", "key"])
def test_refused_credentials_say_what_to_check_and_never_the_secret(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, wrong: str
) -> None:
    wrong_secret = base64.b64encode(b"not the twin's secret, but valid base64" * 2).decode()
    with serving(monkeypatch) as served:
        real_secret = served.twin.key.secret
        if wrong == "secret":
            monkeypatch.setenv(API_SECRET_ENV, wrong_secret)
        else:
            monkeypatch.setenv(API_KEY_ENV, "no-such-key")
        status, out, err = run(capsys, "--base-url", served.url, "--retries", "1", "trade")
    assert (status, out) == (1, "")
    line = one_error_line(err)
    assert line.startswith("kraken-futures: error: the exchange refused the credentials (")
    for hint in (API_KEY_ENV, API_SECRET_ENV, "clock", "permissions"):
        assert hint in line
    assert real_secret not in err
    assert wrong_secret not in err
    assert wrong_secret[:12] not in err
