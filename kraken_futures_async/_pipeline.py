"""The one way a request travels: check, wait for the budget, send signed, read, structure.

Resources hand over an endpoint row and wire parameters; nothing here is endpoint-specific.
This is the seam where another backend (say Kraken's Unified WebSocket after the REST API is
switched off) would plug in: resources only need something with ``call``.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

import cattrs
import httpx

from ._envelope import check_order_status, read_payload
from ._wire import urlencode_pairs
from .endpoints import Endpoint, ParamsIn, WireParams
from .errors import (
    ConnectionFailedError,
    KrakenFuturesError,
    MissingCredentialsError,
    RateLimitError,
    RequestTimeoutError,
    ResponseInvalidError,
    TransportError,
)
from .ratelimit import RateLimiter

__all__ = ["Backend", "HttpPipeline"]

logger = logging.getLogger("kraken_futures_async")

_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Backend(Protocol):
    """What resources need from a Session: one awaitable call per operation."""

    async def call(
        self,
        endpoint: Endpoint,
        params: WireParams = (),
        *,
        path_params: dict[str, str] | None = None,
    ) -> Any: ...


class HttpPipeline:
    """Kraken's REST API over a pooled ``httpx.AsyncClient``."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        auth: httpx.Auth | None,
        limiter: RateLimiter,
        converter: cattrs.Converter,
    ) -> None:
        self._client = client
        self._auth = auth
        self.limiter = limiter
        self._converter = converter
        self._hooks: dict[str, Any] = {}
        #: Requests sent, for budget and latency reports.
        self.requests_sent = 0

    def _hook(self, endpoint: Endpoint) -> Any:
        hook = self._hooks.get(endpoint.name)
        if hook is None:
            hook = self._hooks[endpoint.name] = self._converter.get_structure_hook(endpoint.result)
        return hook

    def build_request(
        self, endpoint: Endpoint, params: WireParams, path_params: dict[str, str] | None
    ) -> httpx.Request:
        path = endpoint.url_path(path_params)
        encoded = urlencode_pairs(list(params))
        if endpoint.params_in is ParamsIn.FORM:
            return self._client.build_request(
                endpoint.method, path, content=encoded.encode(), headers=_FORM
            )
        url = f"{path}?{encoded}" if encoded else path
        return self._client.build_request(endpoint.method, url)

    async def call(
        self,
        endpoint: Endpoint,
        params: WireParams = (),
        *,
        path_params: dict[str, str] | None = None,
    ) -> Any:
        if endpoint.private and self._auth is None:
            raise MissingCredentialsError(
                "this endpoint needs API credentials: Session(Credentials(...))",
                endpoint=endpoint.name,
            )
        cost = endpoint.cost_of(params)
        self.limiter.check(endpoint.budget, cost)
        request = self.build_request(endpoint, params, path_params)
        await self.limiter.acquire(private=endpoint.private, budget=endpoint.budget, cost=cost)
        response = await self._send(endpoint, request)
        try:
            payload = read_payload(endpoint, response)
        except RateLimitError as exc:
            self.limiter.cool_down(endpoint.budget, exc.retry_after)
            raise
        result = self._structure(endpoint, payload)
        check_order_status(endpoint, payload, result)
        return result

    async def _send(self, endpoint: Endpoint, request: httpx.Request) -> httpx.Response:
        auth = self._auth if endpoint.private else None
        self.requests_sent += 1
        try:
            response = await self._client.send(request, auth=auth or httpx.USE_CLIENT_DEFAULT)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise ConnectionFailedError(
                f"could not connect: {type(exc).__name__}", endpoint=endpoint.name
            ) from exc
        except httpx.TimeoutException as exc:
            raise RequestTimeoutError(
                f"no answer in time ({type(exc).__name__})",
                endpoint=endpoint.name,
                retry_safe=endpoint.idempotent,
            ) from exc
        except httpx.HTTPError as exc:
            raise TransportError(
                f"the exchange dropped the request: {type(exc).__name__}",
                endpoint=endpoint.name,
                retry_safe=endpoint.idempotent,
            ) from exc
        logger.debug("%s %s -> %s", request.method, request.url.path, response.status_code)
        return response

    def _structure(self, endpoint: Endpoint, payload: Any) -> Any:
        try:
            return self._hook(endpoint)(payload, endpoint.result)
        except KrakenFuturesError:
            raise
        except Exception as exc:  # cattrs and hooks raise many kinds; all mean "bad shape"
            raise ResponseInvalidError(
                f"the answer does not have the documented shape: {_describe(exc)}",
                endpoint=endpoint.name,
                payload=payload,
            ) from exc


def _describe(exc: Exception) -> str:
    if isinstance(exc, cattrs.BaseValidationError):
        notes = cattrs.transform_error(exc)
        return "; ".join(notes[:3])
    return f"{type(exc).__name__}: {exc}"
