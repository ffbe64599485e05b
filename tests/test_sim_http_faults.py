"""Faults on demand, seen from the client: each kind surfaces as the library's exception."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from kraken_futures_async import (
    ConnectionFailedError,
    RateLimitError,
    RateLimitPolicy,
    RequestTimeoutError,
    ResponseInvalidError,
    Session,
    TransportError,
    UnavailableError,
)
from kraken_futures_async.retry import RetryPolicy
from kraken_futures_async.simulator import FaultKind, FaultRule, Twin, TwinConfig
from tests.test_sim_http_fake import FakeExchange, fake_twin, raw_client, signed_headers
from tests.virtual_clock import run_virtual

D = "/derivatives/api/v3"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def quiet(twin: Twin, timeout: httpx.Timeout | None = None) -> Session:
    """No client throttling and no retries, so every fault reaches the test once."""
    if timeout is None:
        return twin.session(rate_limits=RateLimitPolicy.unlimited(), retry=RetryPolicy.never())
    return twin.session(
        rate_limits=RateLimitPolicy.unlimited(), retry=RetryPolicy.never(), timeout=timeout
    )


async def test_no_faults_means_no_events() -> None:
    twin, _ = fake_twin()
    async with quiet(twin) as kf:
        await kf.market.tickers()
    assert twin.faults.events == []
    assert twin.faults.rules == ()


def _rule(kind: str, status: int | None = None, *, html: bool = True) -> FaultRule:
    return FaultRule(kind=kind, route="open_orders", times=1, status=status, html=html)


@pytest.mark.parametrize(
    ("rule", "error", "code"),
    [
        pytest.param(_rule("server_error"), UnavailableError, None, id="502-html"),
        pytest.param(
            _rule("server_error", 503, html=False), UnavailableError, "Unavailable", id="503-json"
        ),
        pytest.param(
            _rule("server_error", 500, html=False), UnavailableError, "Server Error", id="500-json"
        ),
        pytest.param(_rule("maintenance"), UnavailableError, None, id="maintenance-503"),
        pytest.param(_rule("maintenance", 200), UnavailableError, None, id="maintenance-200"),
        pytest.param(_rule("rate_limited"), RateLimitError, "apiLimitExceeded", id="rate-limited"),
    ],
)
async def test_answers_instead_of_the_engine(
    rule: FaultRule, error: type[Exception], code: str | None
) -> None:
    twin, exchange = fake_twin()
    twin.faults.add(rule)
    async with quiet(twin) as kf:
        with pytest.raises(error) as caught:
            await kf.orders.open()
        assert await kf.orders.open() == []  # fired once, then retired
    assert getattr(caught.value, "code", None) == code
    assert exchange.operations() == ["open_orders"]  # only the second call reached it
    assert twin.faults.fired(rule.kind) == 1
    assert twin.faults.rules == ()


async def test_html_pages_look_like_a_proxy_and_a_maintenance_screen() -> None:
    twin, _ = fake_twin()
    twin.faults.add(FaultKind.SERVER_ERROR, times=1)
    twin.faults.add(FaultKind.MAINTENANCE, times=1)
    async with raw_client(twin) as client:
        proxy = await client.get(f"{D}/tickers")
        maintenance = await client.get(f"{D}/tickers")
    assert proxy.status_code == 502
    assert proxy.headers["content-type"].startswith("text/html")
    assert "502 Bad Gateway" in proxy.text
    assert maintenance.status_code == 503
    assert "maintenance" in maintenance.text.lower()


async def test_drop_before_never_reaches_the_engine() -> None:
    twin, exchange = fake_twin()
    twin.faults.add("drop_before", "send_order", times=1)
    path = f"{D}/sendorder"
    body = "symbol=PF_XBTUSD&size=1"
    async with raw_client(twin) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post(
                path, content=body, headers=signed_headers(twin.key, path, body=body) | FORM
            )
    assert exchange.calls == []
    assert twin.faults.fired("drop_before", "send_order") == 1


async def test_drop_after_executes_but_loses_the_answer() -> None:
    twin, exchange = fake_twin()
    twin.faults.add("drop_after", "send_order", times=1)
    path = f"{D}/sendorder"
    body = "orderType=mkt&symbol=PF_XBTUSD&side=buy&size=1&cliOrdId=lost"
    async with raw_client(twin) as client:
        with pytest.raises(httpx.ReadError):
            await client.post(
                path, content=body, headers=signed_headers(twin.key, path, body=body) | FORM
            )
    assert exchange.operations() == ["send_order"]
    assert exchange.calls[0][1]["cliOrdId"] == ["lost"]


async def test_drops_are_transport_errors_for_the_library() -> None:
    twin, exchange = fake_twin()
    twin.faults.add("drop_before", "open_orders", times=1)
    twin.faults.add("drop_after", "fills", times=1)
    async with quiet(twin) as kf:
        with pytest.raises(TransportError) as before:
            await kf.orders.open()
        with pytest.raises(TransportError) as after:
            await kf.orders.fills()
    for caught in (before, after):
        assert not isinstance(caught.value, ConnectionFailedError)  # the request went out
        assert caught.value.retry_safe  # reads may be asked again
    assert exchange.operations() == ["fills"]  # drop-after ran it, drop-before did not


async def test_malformed_json_is_response_invalid_after_the_engine_ran() -> None:
    twin, exchange = fake_twin()
    twin.faults.add("malformed", "tickers", times=1)
    async with quiet(twin) as kf:
        with pytest.raises(ResponseInvalidError):
            await kf.market.tickers()
    assert exchange.operations() == ["tickers"]


def test_latency_delays_the_answer_on_virtual_time() -> None:
    twin, exchange = fake_twin()
    twin.faults.add("latency", delay=0.25)
    twin.faults.add("latency", "tickers", delay=0.5)

    async def run() -> None:
        async with quiet(twin) as kf:
            await kf.market.tickers()
            await kf.orders.open()

    _, elapsed = run_virtual(run)
    assert elapsed == pytest.approx(0.25 + 0.5 + 0.25)
    assert exchange.operations() == ["tickers", "open_orders"]
    assert twin.faults.fired("latency") == 3


def test_a_slow_answer_trips_the_client_timeout_after_the_engine_acted() -> None:
    twin, exchange = fake_twin()
    twin.faults.add("slow_response", "open_orders", delay=30.0, times=1)

    async def run() -> type[BaseException] | None:
        async with quiet(twin, timeout=httpx.Timeout(2.0)) as kf:
            try:
                await kf.orders.open()
            except RequestTimeoutError as exc:
                return type(exc.__cause__) if exc.__cause__ else None
        return None

    cause, elapsed = run_virtual(run)
    assert cause is httpx.ReadTimeout
    assert elapsed == pytest.approx(2.0)
    assert exchange.operations() == ["open_orders"]


def test_a_short_latency_within_the_timeout_is_only_slow() -> None:
    twin, _ = fake_twin()
    twin.faults.add("slow_response", delay=1.0)

    async def run() -> int:
        async with quiet(twin, timeout=httpx.Timeout(2.0)) as kf:
            return len(await kf.orders.open())

    result, elapsed = run_virtual(run)
    assert result == 0
    assert elapsed == pytest.approx(1.0)


async def test_routes_scope_faults_and_clear_removes_them() -> None:
    twin, exchange = fake_twin()
    twin.faults.add("server_error", "open_orders")
    async with quiet(twin) as kf:
        await kf.market.tickers()  # another route: untouched
        for _ in range(3):
            with pytest.raises(UnavailableError):
                await kf.orders.open()
        twin.faults.clear()
        assert await kf.orders.open() == []
    assert twin.faults.counts == {FaultKind.SERVER_ERROR: 3}
    assert exchange.operations() == ["tickers", "open_orders"]


def _pattern(seed: int, n: int = 40) -> list[bool]:
    twin, _ = fake_twin(seed=seed)
    twin.faults.add("rate_limited", probability=0.5)

    async def run() -> list[bool]:
        failed = []
        async with quiet(twin) as kf:
            for _ in range(n):
                try:
                    await kf.market.tickers()
                    failed.append(False)
                except RateLimitError:
                    failed.append(True)
        return failed

    return asyncio.run(run())


def test_probabilities_are_seeded() -> None:
    first = _pattern(1)
    assert first == _pattern(1)
    assert first != _pattern(2)
    assert 5 < sum(first) < 35


async def test_probability_and_times_together() -> None:
    twin, _ = fake_twin(seed=3)
    twin.faults.add("rate_limited", probability=0.5, times=3)
    failures = 0
    async with quiet(twin) as kf:
        for _ in range(40):
            try:
                await kf.market.tickers()
            except RateLimitError:
                failures += 1
    assert failures == 3
    assert twin.faults.rules == ()


async def test_faults_given_in_the_config_are_active_from_the_start() -> None:
    exchange = FakeExchange()
    twin = Twin(
        TwinConfig(clock=exchange.clock, faults=[FaultRule(kind="maintenance", times=2)]),
        exchange=exchange,
    )
    async with quiet(twin) as kf:
        for _ in range(2):
            with pytest.raises(UnavailableError):
                await kf.market.tickers()
        await kf.market.tickers()
    assert twin.faults.fired(FaultKind.MAINTENANCE) == 2


def test_rules_validate_their_numbers() -> None:
    with pytest.raises(ValueError, match="probability"):
        FaultRule(kind="latency", probability=1.5)
    with pytest.raises(ValueError, match="times"):
        FaultRule(kind="latency", times=0)
    with pytest.raises(ValueError, match="delay"):
        FaultRule(kind="latency", delay=-1)
    with pytest.raises(ValueError, match="meteor"):
        FaultRule(kind="meteor")
