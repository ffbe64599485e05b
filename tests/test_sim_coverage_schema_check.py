"""The OpenAPI check every twin-based test runs under (``twin_checks.py``, wired in conftest)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

from kraken_futures_async.simulator import ManualClock, Twin, TwinConfig, run_in_thread
from kraken_futures_async.simulator.engine import Exchange

from .twin_checks import DEPARTURES, ResponseChecker, checking

D = "/derivatives/api/v3"


class _WrongAnswers(Exchange):
    """The real engine, except that its tickers lose a required field."""

    def handle(self, operation: str, params: Any, account_uid: str | None) -> dict[str, Any]:
        payload: dict[str, Any] = super().handle(operation, params, account_uid)
        if operation == "tickers":
            return {"tickers": [{"symbol": "PF_XBTUSD", "last": Decimal(1), "vol24h": 1}]}
        return payload


def _client(twin: Twin) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=twin.transport(), base_url="http://127.0.0.1")


async def test_every_answer_of_a_test_is_validated(twin_schema_check: ResponseChecker) -> None:
    twin = Twin(TwinConfig(clock=ManualClock()))
    before = twin_schema_check.checked
    async with _client(twin) as client:
        assert (await client.get(f"{D}/tickers")).status_code == 200
        assert (await client.get(f"{D}/instruments")).status_code == 200
    assert twin_schema_check.checked == before + 2
    assert twin_schema_check.report() is None


async def test_a_mismatch_is_reported_with_its_operation_and_body(
    twin_schema_check: ResponseChecker,
) -> None:
    clock = ManualClock()
    twin = Twin(TwinConfig(clock=clock), exchange=_WrongAnswers(clock=clock))
    async with _client(twin) as client:
        assert (await client.get(f"{D}/tickers")).status_code == 200
    report = twin_schema_check.report()  # taken here, so this test itself does not fail
    assert report is not None
    assert "GET /derivatives/api/v3/tickers -> 200: getTickers 200" in report
    assert '"vol24h":1' in report
    assert twin_schema_check.report() is None  # reporting clears


async def test_a_twin_served_on_loopback_is_checked_too(twin_schema_check: ResponseChecker) -> None:
    clock = ManualClock()
    twin = Twin(TwinConfig(clock=clock), exchange=_WrongAnswers(clock=clock))
    with run_in_thread(twin) as running:
        async with httpx.AsyncClient(base_url=running.url) as client:
            assert (await client.get(f"{D}/tickers")).status_code == 200
    report = twin_schema_check.report()
    assert report is not None
    assert "getTickers 200" in report


async def test_answers_without_a_json_schema_are_left_alone() -> None:
    twin = Twin(TwinConfig(clock=ManualClock()))
    with checking() as mine:
        async with _client(twin) as client:
            # a routing refusal, a plain-text charts refusal and an unknown ticker (classic 404)
            assert (await client.get(f"{D}/nowhere")).status_code == 404
            bad = await client.get("/api/charts/v1/trade/PF_XBTUSD/7m")
            assert (bad.status_code, bad.text) == (400, "Invalid resolution")
            assert (await client.get(f"{D}/tickers/PF_NOPE")).status_code == 404
    assert mine.report() is None
    assert mine.checked == 1  # only the 404 of getTicker has a schema (and meets it)


def test_departures_are_few_and_each_has_a_reason() -> None:
    assert len(DEPARTURES) <= 6
    for departure in DEPARTURES:
        assert departure.reason
        assert departure.values
        assert all(value != departure.stands_for for value in departure.values)


@pytest.mark.parametrize("status", ["notFound", "requiredArgumentMissing"])
def test_a_listed_departure_passes_and_anything_else_does_not(status: str) -> None:
    twin = Twin(TwinConfig(clock=ManualClock()))
    checker = ResponseChecker()
    path = f"{D}/batchorder"
    item = {"status": status, "orderEvents": []}
    body = b'{"result":"success","batchStatus":[%s],"serverTime":"2026-11-24T00:00:00.000Z"}'
    checker.check(
        twin.app.router, "POST", path, 200, body % json.dumps(item).encode(), json_body=True
    )
    assert checker.report() is None
    wrong = {"status": "somethingElse", "orderEvents": []}
    checker.check(
        twin.app.router, "POST", path, 200, body % json.dumps(wrong).encode(), json_body=True
    )
    report = checker.report()
    assert report is not None
    assert "somethingElse" in report
