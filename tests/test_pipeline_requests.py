"""The pipeline's cheaper request building sends what httpx's ``build_request`` built (issue 6).

The pipeline merges each relative URL with the base URL once and keeps the client's merged
headers; every request must still match, byte for byte, what ``client.build_request`` makes.
The Session's client keeps no cookies.
"""

from __future__ import annotations

import json
import string
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kraken_futures_async import RateLimitPolicy, Session
from kraken_futures_async.config import DEFAULT_MAX_RESPONSE_BYTES
from kraken_futures_async.rest.body import MAX_BODY_EXTENSION
from kraken_futures_async.rest.endpoints import ENDPOINTS, Endpoint, ParamsIn
from kraken_futures_async.rest.pipeline import HttpPipeline
from kraken_futures_async.rest.wire import urlencode_pairs
from kraken_futures_async.retry import RetryPolicy
from tests.conftest import BASE_URL
from tests.rest_access import rest

_FORM = {"Content-Type": "application/x-www-form-urlencoded"}
_JSON = {"Content-Type": "application/json"}


def _reference(
    client: httpx.AsyncClient,
    endpoint: Endpoint,
    params: list[tuple[str, str]],
    path_params: dict[str, str] | None,
) -> httpx.Request:
    """The request as the pipeline built it before: httpx's own ``build_request``."""
    path = endpoint.url_path(path_params)
    encoded = urlencode_pairs(params)
    if endpoint.params_in is ParamsIn.FORM:
        return client.build_request(endpoint.method, path, content=encoded.encode(), headers=_FORM)
    if endpoint.params_in is ParamsIn.JSON:
        body = "{" + ",".join(f"{json.dumps(key)}:{value}" for key, value in params) + "}"
        return client.build_request(endpoint.method, path, content=body.encode(), headers=_JSON)
    url = f"{path}?{encoded}" if encoded else path
    return client.build_request(endpoint.method, url)


def _same(built: httpx.Request, reference: httpx.Request) -> None:
    assert built.method == reference.method
    assert str(built.url) == str(reference.url)
    assert built.url.raw_path == reference.url.raw_path
    assert built.headers.raw == reference.headers.raw
    assert built.read() == reference.read()
    # plus the size cap, for transports that stop reading early (issue 17)
    extensions = dict(built.extensions)
    assert extensions.pop(MAX_BODY_EXTENSION) == DEFAULT_MAX_RESPONSE_BYTES
    assert extensions == reference.extensions


def _path_params(endpoint: Endpoint, value: str) -> dict[str, str] | None:
    names = [field for _, field, _, _ in string.Formatter().parse(endpoint.path) if field]
    return {name: value for name in names} or None


def _params(endpoint: Endpoint) -> list[tuple[str, str]]:
    if endpoint.params_in is ParamsIn.JSON:
        return [("price", "100.5"), ("note", json.dumps("a b/c"))]
    return [("symbol", "PF_XBTUSD"), ("time", "2024-05-01T12:00:00.000Z"), ("tag", "a b&c=d%")]


@pytest.fixture
async def session() -> AsyncIterator[Session]:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"unexpected request {request.url}")

    async with Session(
        base_url=BASE_URL + "/",
        transport=httpx.MockTransport(refuse),
        rate_limits=RateLimitPolicy.unlimited(),
        timeout=httpx.Timeout(3.0, connect=1.0),
    ) as kf:
        yield kf


def _pipeline(kf: Session) -> HttpPipeline:
    return rest(kf).pipeline


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
async def test_every_row_builds_what_httpx_built(session: Session, endpoint: Endpoint) -> None:
    pipeline = _pipeline(session)
    for params in (_params(endpoint), []):
        for value in ("PF_XBTUSD", "a b/ü"):
            path_params = _path_params(endpoint, value)
            for _ in range(2):  # the second time from the kept URL and headers
                built = pipeline.build_request(endpoint, params, path_params)
                _same(built, _reference(rest(session).client, endpoint, params, path_params))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    row=st.sampled_from(ENDPOINTS),
    params=st.lists(st.tuples(st.text(min_size=1, max_size=6), st.text(max_size=8)), max_size=3),
    value=st.text(min_size=1, max_size=8),
)
async def test_any_parameters_build_what_httpx_built(
    row: Endpoint, params: list[tuple[str, str]], value: str
) -> None:
    if row.params_in is ParamsIn.JSON:
        params = [(key, json.dumps(text)) for key, text in params]
    async with Session(base_url=BASE_URL, rate_limits=RateLimitPolicy.unlimited()) as kf:
        built = _pipeline(kf).build_request(row, params, _path_params(row, value))
        _same(built, _reference(rest(kf).client, row, params, _path_params(row, value)))


def _client_with(**kwargs: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=BASE_URL, **kwargs)


@pytest.mark.parametrize(
    "extra",
    [{"cookies": {"session": "abc"}}, {"params": {"always": "1"}}],
    ids=["cookies", "params"],
)
async def test_a_client_with_cookies_or_default_params_gets_httpx_build(
    session: Session, extra: dict[str, Any]
) -> None:
    async with _client_with(**extra) as client:
        pipeline = HttpPipeline(
            client, auth=None, limiter=_pipeline(session).limiter, converter=rest(session).converter
        )
        row = next(e for e in ENDPOINTS if e.name == "orderbook")
        built = pipeline.build_request(row, [("symbol", "PF_XBTUSD")], None)
        _same(built, _reference(client, row, [("symbol", "PF_XBTUSD")], None))
        assert ("Cookie" in built.headers) is ("cookies" in extra)


async def test_kept_urls_are_bounded(session: Session) -> None:
    pipeline = _pipeline(session)
    row = next(e for e in ENDPOINTS if e.name == "orderbook")
    for index in range(1300):
        request = pipeline.build_request(row, [("symbol", f"PF_{index}")], None)
        assert request.url.params["symbol"] == f"PF_{index}"
    assert 0 < len(pipeline._urls) <= 512


async def test_the_session_keeps_and_sends_no_cookies() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            json={"result": "success", "orderBook": {"bids": [[1, 2]], "asks": []}},
            headers={"Set-Cookie": "__cf_bm=abc; Path=/; Domain=twin.test"},
        )

    async with Session(
        base_url=BASE_URL,
        transport=httpx.MockTransport(answer),
        rate_limits=RateLimitPolicy.unlimited(),
        retry=RetryPolicy.never(),
    ) as kf:
        await kf.market.orderbook("PF_XBTUSD")
        book = await kf.market.orderbook("PF_XBTUSD")
        assert not rest(kf).client.cookies
    assert book.bids[0].price == 1
    assert len(seen) == 2
    assert all("Cookie" not in request.headers for request in seen)
