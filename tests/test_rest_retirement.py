"""Kraken retires its Futures REST API on 2027-03-01: one warning per production Session from
2027-02-01, and a "gone" answer that says to use ``backend="uws"``. Every test that depends on
the day sets the clock itself (time-machine, or the backend's injected ``today``)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import httpx
import pytest
import time_machine

from kraken_futures_async import RateLimitPolicy, Session
from kraken_futures_async.config import PRODUCTION
from kraken_futures_async.errors import APIError, NotFoundError, UnavailableError
from kraken_futures_async.rest.retirement import (
    REST_SWITCH_OFF,
    WARNING_FROM,
    RestApiRetiredError,
    warn_if_retiring,
)
from kraken_futures_async.retry import RetryPolicy

_LOGGER = "kraken_futures_async.rest"
_TICKERS = {"result": "success", "tickers": [], "serverTime": "2027-02-01T00:00:00.000Z"}

Handler = Callable[[httpx.Request], httpx.Response]


def _noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


def _session(handler: Handler, *, base_url: str | None = None) -> Session:
    return Session(
        base_url=base_url,
        transport=httpx.MockTransport(handler),
        rate_limits=RateLimitPolicy.unlimited(),
        retry=RetryPolicy(max_attempts=3, base_delay=0.0),
    )


def _answer(_request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=_TICKERS)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == _LOGGER and r.levelno == logging.WARNING
    ]


def test_the_dates_are_one_constant_each_in_order() -> None:
    assert (REST_SWITCH_OFF.year, REST_SWITCH_OFF.month, REST_SWITCH_OFF.day) == (2027, 3, 1)
    assert (WARNING_FROM.year, WARNING_FROM.month, WARNING_FROM.day) == (2027, 2, 1)
    assert WARNING_FROM < REST_SWITCH_OFF


@pytest.mark.parametrize(
    ("day", "warned"),
    [
        (WARNING_FROM - dt.timedelta(days=1), False),
        (WARNING_FROM, True),
        (REST_SWITCH_OFF + dt.timedelta(days=30), True),
    ],
)
async def test_a_production_session_warns_once_from_the_date(
    caplog: pytest.LogCaptureFixture, day: dt.date, warned: bool
) -> None:
    caplog.set_level(logging.WARNING, logger=_LOGGER)
    with time_machine.travel(_noon(day), tick=False):
        async with _session(_answer) as kf:
            assert kf.base_url == PRODUCTION.base_url
            await kf.market.tickers()
            await kf.market.tickers()
    messages = _warnings(caplog)
    assert len(messages) == (1 if warned else 0)
    if warned:
        assert REST_SWITCH_OFF.isoformat() in messages[0]
        assert 'backend="uws"' in messages[0]
        tense = "switched" if day >= REST_SWITCH_OFF else "switches"
        assert tense in messages[0]


async def test_each_session_warns_once_and_other_hosts_never(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger=_LOGGER)
    with time_machine.travel(_noon(WARNING_FROM + dt.timedelta(days=3)), tick=False):
        for _ in range(2):
            async with _session(_answer):
                pass
        async with _session(_answer, base_url="http://127.0.0.1:9"):
            pass
        async with _session(_answer, base_url="https://futures.example.com"):
            pass
    assert len(_warnings(caplog)) == 2


def test_an_injected_clock_decides_without_the_wall_clock(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger=_LOGGER)
    assert not warn_if_retiring(PRODUCTION.base_url, lambda: dt.date(2027, 1, 31))
    assert warn_if_retiring(PRODUCTION.base_url + "/", lambda: dt.date(2027, 2, 1))
    assert not warn_if_retiring("http://127.0.0.1:8080", lambda: dt.date(2030, 1, 1))
    assert len(_warnings(caplog)) == 1


def _gone(status: int, text: str, calls: list[str]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(status, text=text, headers={"content-type": "text/plain"})

    return handler


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (410, "Gone"),
        (404, "This API was retired; use the Unified WebSocket"),
        (503, '{"error":"Futures REST has been decommissioned"}'),
    ],
)
async def test_the_production_gone_answer_says_use_uws(status: int, text: str) -> None:
    calls: list[str] = []
    # the day does not matter: the answer is authoritative; the clock is set all the same
    with time_machine.travel(_noon(REST_SWITCH_OFF), tick=False):
        async with _session(_gone(status, text, calls)) as kf:
            with pytest.raises(RestApiRetiredError) as caught:
                await kf.market.tickers()
    message = str(caught.value)
    assert 'backend="uws"' in message
    assert REST_SWITCH_OFF.isoformat() in message
    assert caught.value.http_status == status
    assert caught.value.retry_safe is False
    assert len(calls) == 1  # a read, yet not retried: the same answer would come back


@pytest.mark.parametrize(
    ("status", "text", "expected"),
    [
        (404, "Not Found", NotFoundError),
        (503, "Service Unavailable: maintenance", UnavailableError),
    ],
)
async def test_other_404s_and_503s_keep_their_meaning(
    status: int, text: str, expected: type[Exception]
) -> None:
    calls: list[str] = []
    with time_machine.travel(_noon(REST_SWITCH_OFF), tick=False):
        async with _session(_gone(status, text, calls)) as kf:
            with pytest.raises(expected) as caught:
                await kf.market.tickers()
    assert not isinstance(caught.value, RestApiRetiredError)
    assert "uws" not in str(caught.value)


async def test_a_410_from_another_host_is_not_judged() -> None:
    calls: list[str] = []
    with time_machine.travel(_noon(REST_SWITCH_OFF), tick=False):
        async with _session(_gone(410, "Gone", calls), base_url="http://127.0.0.1:9") as kf:
            with pytest.raises(APIError) as caught:
                await kf.market.tickers()
    assert not isinstance(caught.value, RestApiRetiredError)
    assert "uws" not in str(caught.value)
