"""Hostile requests neither freeze the twin nor leave memory behind (issue 17, items 6 to 8).

Times are asserted with generous bounds only (seconds where the fix takes milliseconds and the
old code took minutes); the precise figures are in ``benchmarks/twin_soak.py``.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import time
import tracemalloc
from collections import Counter
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import pytest

from kraken_futures_async.simulator import FaultKind, ManualClock, Twin, TwinConfig
from kraken_futures_async.simulator.rest import form
from kraken_futures_async.simulator.rest.form import parse_pairs
from tests.test_sim_http_fake import fake_twin, raw_client, signed_headers

D = "/derivatives/api/v3"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
#: 4 MiB of ``a&`` and one ``{``: the old parser spent about 108 s on it.
HOSTILE = b"a&" * (2 << 20) + b"{"
Message = MutableMapping[str, Any]
TINY_PRICE = {"orderType": "lmt", "symbol": "PF_XBTUSD", "side": "buy", "size": "1"}
TINY_PRICE["limitPrice"] = "1e-99999999"  # its remainder by the tick once passed for zero


def real_twin(**config: Any) -> Twin:
    return Twin(TwinConfig(clock=ManualClock(), rate_limits=False, **config))


def _too_large(response: Any) -> None:
    assert response.status_code == 413
    body = response.json()
    assert body["status"] == "PAYLOAD_TOO_LARGE"
    assert body["result"] == "error"
    assert body["errors"][0]["code"] == 0


# --- item 6: one request cannot freeze the twin ---------------------------------------------


async def test_a_4mb_hostile_body_is_refused_at_once_while_another_call_is_served() -> None:
    twin = real_twin()
    async with raw_client(twin) as client:
        async with asyncio.timeout(10):  # generous: the old parser took ~100 s on this body
            hostile, private, tickers = await asyncio.gather(
                client.post(f"{D}/sendorder", content=HOSTILE, headers=FORM),
                client.post(f"{D}/batchorder", content=HOSTILE, headers=FORM),
                client.get(f"{D}/tickers"),
            )
    _too_large(hostile)
    _too_large(private)
    assert tickers.json()["result"] == "success"
    assert twin.app.handled == 1  # only the tickers call reached the engine


def _endless_body(pulled: list[int]) -> Any:
    async def receive() -> Message:
        pulled.append(1)
        return {"type": "http.request", "body": b"a&" * 8192, "more_body": True}

    return receive


async def _call(twin: Twin, scope: dict[str, Any], receive: Any) -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    base = {"type": "http", "method": "POST", "query_string": b"", "headers": []}
    await asyncio.wait_for(twin.app({**base, **scope}, receive, send), 5)
    return sent


async def test_reading_stops_once_the_body_passes_the_ceiling() -> None:
    twin, exchange = fake_twin(max_request_bytes=100_000)
    pulled: list[int] = []
    sent = await _call(twin, {"path": f"{D}/sendorder"}, _endless_body(pulled))
    assert sent[0]["status"] == 413
    assert len(pulled) == 7  # 16 KiB a chunk: the seventh passes 100,000 bytes, no more read
    assert exchange.calls == []


async def test_a_declared_length_over_the_ceiling_is_refused_unread() -> None:
    twin, _ = fake_twin()

    async def receive() -> Message:
        raise AssertionError("the body must not be read")

    headers = [(b"content-length", str(4 << 20).encode())]
    sent = await _call(twin, {"path": f"{D}/sendorder", "headers": headers}, receive)
    assert sent[0]["status"] == 413


async def test_the_query_string_counts_and_so_does_the_number_of_parameters() -> None:
    twin, exchange = fake_twin(max_request_bytes=1000, max_request_params=50)
    async with raw_client(twin) as client:
        long_query = await client.get(f"{D}/tickers?x={'y' * 1000}")
        body = await client.post(f"{D}/sendorder", content=b"a" * 1001, headers=FORM)
        many = await client.post(f"{D}/sendorder", content=b"a&" * 50, headers=FORM)
        fits = await client.get(f"{D}/tickers?" + "&".join(["c=1"] * 50))
    _too_large(long_query)
    _too_large(body)
    _too_large(many)
    assert "parameters" in many.json()["errors"][0]["message"]
    assert fits.json()["result"] == "success"
    assert exchange.operations() == ["tickers"]


def test_parsing_is_a_fixed_number_of_linear_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    """By design: one regex scan, at most one JSON parse and two stdlib form passes a body."""
    calls: Counter[str] = Counter()
    real_decoder, real_qsl = form._decoder, parse_qsl

    class CountingDecoder:
        def raw_decode(self, text: str, start: int) -> tuple[Any, int]:
            calls["json"] += 1
            return real_decoder.raw_decode(text, start)

    def counting_qsl(text: str, **options: Any) -> list[tuple[str, str]]:
        calls["form"] += 1
        return real_qsl(text, **options)

    monkeypatch.setattr(form, "_decoder", CountingDecoder())
    monkeypatch.setattr(form, "parse_qsl", counting_qsl)
    for body in (
        HOSTILE[:100_001],
        b'json=["&' * 20_000,
        b"json={&" * 20_000,
        b"json=" + b"[" * 100_000,
        b"a=[&" * 20_000 + b"json={}",
    ):
        calls.clear()
        parse_pairs(body)
        assert calls["json"] <= 1
        assert calls["form"] <= 2
    assert parse_pairs(b'a=1&json={"k":"a&b"}&json=[2]') == [
        ("a", "1"),
        ("json", '{"k":"a&b"}'),
        ("json", "[2]"),
    ]


def test_the_old_worst_case_parses_in_linear_time() -> None:
    # over the request ceiling on purpose: the parser alone, on the shape that froze the twin
    started = time.perf_counter()
    assert len(parse_pairs(HOSTILE)) == (2 << 20) + 1
    assert time.perf_counter() - started < 10  # generous: ~1 s here, ~108 s before


# --- item 7: malformed input is Kraken's error, and nothing of it is kept ------------------


async def _signed_post(client: Any, twin: Twin, path: str, body: str, **headers: str) -> Any:
    signed = signed_headers(twin.key, path, body=body)
    return await client.post(path, content=body, headers={**FORM, **signed, **headers})


async def test_deeply_nested_json_is_a_parse_error_not_a_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    twin = real_twin()
    deep = "[" * 100_000
    caplog.set_level(logging.ERROR)
    async with raw_client(twin) as client:
        answers = [
            await _signed_post(client, twin, f"{D}/batchorder", "json=" + deep),
            await _signed_post(client, twin, f"{D}/batchorder", "json=" + quote(deep)),
            await _signed_post(
                client, twin, f"{D}/batchorder", "json=" + quote('{"batchOrder":' + deep)
            ),
        ]
        path = f"{D}/rfqs/{'0' * 8}/place-offer"
        answers.append(
            await _signed_post(client, twin, path, deep, **{"Content-Type": "application/json"})
        )
        query = "json=" + quote('{"positions":' + "[" * 10_000)  # URLs stay under 64 KB
        path = f"{D}/portfolio-margining/simulate"
        signed = signed_headers(twin.key, path, query=query)
        answers.append(await client.post(f"{path}?{query}", headers=signed))
    assert [(a.status_code, a.json()["error"]) for a in answers] == [(200, "Json Parse Error")] * 5
    assert twin.app.internal_errors == []
    assert caplog.records == []  # no traceback logged


async def test_odd_values_inside_a_batch_are_statuses_not_500s() -> None:
    twin = real_twin()
    items = [
        {"order": "send", "order_tag": "1", "orderType": "lmt", "symbol": "PF_XBTUSD",
         "side": "buy", "size": [1.5], "limitPrice": {"x": 1}},
        {"order": "send", "order_tag": "2", "orderType": "lmt", "symbol": "PF_XBTUSD",
         "side": "buy", "size": "1e999999999", "limitPrice": 1},
    ]  # fmt: skip
    body = urlencode({"json": json.dumps({"batchOrder": items})})
    async with raw_client(twin) as client:
        answer = await _signed_post(client, twin, f"{D}/batchorder", body)
    statuses = [item["status"] for item in answer.json()["batchStatus"]]
    assert statuses == ["invalidSize", "invalidSize"]
    assert twin.app.internal_errors == []


async def test_numbers_too_large_to_be_real_are_refused_at_once() -> None:
    """``int(Decimal("1e999999999"))`` would take the twin minutes and gigabytes."""
    twin = real_twin()
    huge = "1e999999999"
    async with raw_client(twin) as client, asyncio.timeout(10):
        refused = [
            await _signed_post(client, twin, f"{D}/assignmentprogram/delete", f"id={huge}"),
            await _signed_post(client, twin, f"{D}/cancelallordersafter", f"timeout={huge}"),
            await _signed_post(client, twin, f"{D}/sendorder", urlencode(TINY_PRICE)),
        ]
        path = "/api/history/v3/account-log"
        log = await client.get(
            f"{path}?count={huge}", headers=signed_headers(twin.key, path, query=f"count={huge}")
        )
        candles = await client.get(f"/api/charts/v1/trade/PF_XBTUSD/1m?count={huge}")
    assert [a.json()["error"] for a in refused] == ["invalidArgument"] * 3
    assert log.status_code == 400
    assert candles.status_code == 400
    assert twin.app.internal_errors == []


class _FailingBatch:
    """An engine whose batch handling has a bug: every call is a 500."""

    TWIN_SCHEMA_EXEMPT = "an engine that fails on purpose"

    def open_account(self, account_uid: str, balances: Any, /) -> None:
        pass

    def handle(self, operation: str, params: Any, account_uid: Any, /) -> Any:
        raise RuntimeError(f"engine bug in {operation}")


async def test_engine_failures_are_kept_few_and_without_their_requests(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Ten 512 KB requests that each fail keep neither their bodies nor more than the cap."""
    twin = Twin(TwinConfig(clock=ManualClock(), kept_failures=3), exchange=_FailingBatch())
    caplog.set_level(logging.CRITICAL)  # the failures are logged; not this test's business
    body = "json=" + "x" * (512 << 10)
    async with raw_client(twin) as client:
        await _signed_post(client, twin, f"{D}/batchorder", body)  # warm up
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for _ in range(10):
                answer = await _signed_post(client, twin, f"{D}/batchorder", body)
                assert answer.status_code == 500
            del answer  # it holds its request, and so the last body
            caplog.clear()
            gc.collect()
            grown = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
    assert len(twin.app.internal_errors) == 3
    assert all(e.__traceback__ is None for e in twin.app.internal_errors)
    assert grown < 128 << 10, f"{grown} bytes kept after ten failed 512 KB requests"


async def test_fired_faults_are_counted_exactly_but_kept_few() -> None:
    twin, _ = fake_twin(kept_fault_events=8)
    twin.faults.add(FaultKind.LATENCY, "tickers", delay=0.0)
    async with raw_client(twin) as client:
        for _ in range(40):
            await client.get(f"{D}/tickers")
    assert twin.faults.fired(FaultKind.LATENCY) == 40
    assert twin.faults.fired("latency", "tickers") == 40
    assert twin.faults.counts[FaultKind.LATENCY] == 40
    assert 8 <= len(twin.faults.events) <= 9


# --- item 8: a nonce no clock produces ------------------------------------------------------


async def test_a_validly_signed_5000_digit_nonce_is_invalid_argument() -> None:
    twin, exchange = fake_twin(max_nonce_digits=32)
    path = f"{D}/openorders"
    async with raw_client(twin) as client:
        answers = [
            await client.get(path, headers=signed_headers(twin.key, path, nonce=nonce))
            for nonce in ("7" * 5000, "1" * 33, "1" * 32)
        ]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json()["result"] for a in answers] == ["error", "error", "success"]
    assert [a.json().get("error") for a in answers[:2]] == ["invalidArgument"] * 2
    assert exchange.operations() == ["open_orders"]
    assert twin.app.internal_errors == []
