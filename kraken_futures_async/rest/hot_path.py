"""The default transport's short route: the same bytes on the wire, without httpx's objects.

httpx stays the configured client and the interface every injected transport plugs into.
When the client's transport is exactly the library's :class:`AiohttpTransport` and nothing is
configured that needs ``client.send`` (event hooks, client auth, cookies, redirects, default
query parameters, mounted transports or proxies), a call skips the ``httpx.Request``, the auth
generator, the send loops and the ``httpx.Response``: its headers come from a template made
once per route by httpx's own request building, it is signed inline by the same signer, and
the transport's aiohttp exchange is called directly. The bytes sent are the bytes the httpx
route sends (``tests/test_hot_path_wire.py`` holds the two to each other byte for byte).
"""

from __future__ import annotations

import codecs
import email.message
import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple, cast

import httpx

from .endpoints import Endpoint, ParamsIn, WireParams
from .signing import KrakenFuturesAuth
from .wire import json_object, urlencode_pairs

if TYPE_CHECKING:
    from .transports.aiohttp import AiohttpTransport

__all__ = ["Cookieless", "HotAnswer", "HotPath"]

_TRANSPORT_MODULE = "kraken_futures_async.rest.transports.aiohttp"
_FORM = {"Content-Type": "application/x-www-form-urlencoded"}
_JSON = {"Content-Type": "application/json"}
#: Distinct routes whose header template is kept (cleared when full).
_ROUTES_KEPT = 512
_HTTP_11 = "HTTP/1.1"

#: httpx's own logger: its per-request INFO line is written here too, as ``client.send`` does.
httpx_logger = logging.getLogger("httpx")

#: Builds a request the way the pipeline's httpx route does (method, URL, body, headers).
Build = Callable[[str, str, bytes | None, dict[str, str] | None], httpx.Request]


class Cookieless(httpx.Cookies):
    """A cookie store that keeps nothing.

    Kraken's REST API authenticates every call by its headers and needs no cookie; reading
    the ones a proxy or CDN sets (http.cookiejar) cost ~20 us per answer, and keeping them
    would only send them back.
    """

    def extract_cookies(self, response: httpx.Response) -> None:
        return None

    def set_cookie_header(self, request: httpx.Request) -> None:
        return None


class _Route(NamedTuple):
    """What every call to one path with one kind of body shares."""

    url: str
    #: The decoded URL path, as the signer reads ``request.url.path``.
    path: str
    headers: list[tuple[str, str]]
    #: Where the template's ``Content-Length`` stands (-1: none to fill in).
    length_at: int


class HotAnswer:
    """An answer as ``read_payload`` needs it: status, headers, decoded body, text.

    Headers become an ``httpx.Headers`` only when asked for (errors, header fields), and the
    text's encoding is chosen as ``httpx.Response`` chooses it.
    """

    def __init__(
        self,
        status_code: int,
        reason: str,
        raw_headers: tuple[tuple[bytes, bytes], ...],
        content: bytes,
    ) -> None:
        self.status_code = status_code
        self.reason_phrase = reason
        self._raw_headers = raw_headers
        self._headers: httpx.Headers | None = None
        self._content = content

    @property
    def headers(self) -> httpx.Headers:
        if self._headers is None:
            self._headers = httpx.Headers(list(self._raw_headers))
        return self._headers

    @property
    def content(self) -> bytes:
        return self._content

    @property
    def encoding(self) -> str | None:
        content_type = self.headers.get("Content-Type")
        charset = None if content_type is None else _charset(content_type)
        return charset if charset is not None and _known(charset) else "utf-8"

    @property
    def text(self) -> str:
        encoding = self.encoding or "utf-8"
        decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        return decoder.decode(self._content) + decoder.decode(b"", True)


def _charset(content_type: str) -> str | None:
    message = email.message.Message()
    message["content-type"] = content_type
    return message.get_content_charset(failobj=None)


def _known(encoding: str) -> bool:
    try:
        codecs.lookup(encoding)
    except LookupError:
        return False
    return True


class HotPath:
    """Per-pipeline templates for the short route, and the test of whether it may be taken."""

    def __init__(self, client: httpx.AsyncClient, build: Build) -> None:
        self._client = client
        self._build = build
        self._routes: dict[tuple[str, str, str | None, int], _Route | None] = {}
        self._timeout: httpx.Timeout | None = None
        self._timeouts: dict[str, float | None] = {}

    def transport(self, auth: httpx.Auth | None) -> AiohttpTransport | None:
        """The library's own transport when this call may skip ``client.send``, else None."""
        client = self._client
        module = sys.modules.get(_TRANSPORT_MODULE)
        # The lookup itself, not ``_transport``: respx's "httpx" mocker replaces the lookup.
        transport = client._transport_for_url(client.base_url)
        if module is None or type(transport) is not module.AiohttpTransport:
            return None
        hooks = client.event_hooks
        if (
            client._mounts
            or hooks["request"]
            or hooks["response"]
            or client.auth is not None
            or client.follow_redirects
            or client.params
            or type(client.cookies) is not Cookieless
            or client.is_closed
            or client._default_encoding != "utf-8"
            or (auth is not None and type(auth) is not KrakenFuturesAuth)
        ):
            return None
        return cast("AiohttpTransport", transport)

    def timeouts(self) -> dict[str, float | None]:
        timeout = self._client.timeout
        if timeout is not self._timeout:
            self._timeout, self._timeouts = timeout, timeout.as_dict()
        return self._timeouts

    def _route(
        self, method: str, path: str, headers: dict[str, str] | None, content: bytes | None
    ) -> _Route | None:
        kind = None if headers is None else headers["Content-Type"]
        shape = -1 if content is None else min(len(content), 1)
        key = (method, path, kind, shape)
        try:
            return self._routes[key]
        except KeyError:
            pass
        if len(self._routes) >= _ROUTES_KEPT:
            self._routes.clear()
        sample = None if content is None else b"x" * shape
        request = self._build(method, path, sample, headers)
        url = request.url
        route: _Route | None = None
        if not url.query:  # a base URL with its own query takes httpx's route
            encoding = request.headers.encoding
            template = [(k.decode(encoding), v.decode(encoding)) for k, v in request.headers.raw]
            length_at = -1
            if shape == 1:
                names = [name.lower() for name, _ in template]
                length_at = names.index("content-length")
            route = _Route(str(url), url.path, template, length_at)
        self._routes[key] = route
        return route

    def prepare(
        self,
        endpoint: Endpoint,
        params: WireParams,
        path_params: dict[str, str] | None,
        auth: KrakenFuturesAuth | None,
    ) -> tuple[str, list[tuple[str, str]], bytes | None] | None:
        """URL, headers (signed when ``auth`` is given) and body, as the httpx route would
        send them; None when this route cannot be built without httpx."""
        path = endpoint.url_path(path_params)
        encoded = urlencode_pairs(list(params))
        query = ""
        if endpoint.params_in is ParamsIn.FORM:
            text, kind = encoded, _FORM
        elif endpoint.params_in is ParamsIn.JSON:
            text, kind = json_object(params), _JSON
        else:
            text, kind, query = "", None, encoded
        content = None if kind is None else text.encode()
        route = self._route(endpoint.method, path, kind, content)
        if route is None:
            return None
        headers = route.headers.copy()
        if route.length_at >= 0 and content is not None:
            headers[route.length_at] = (headers[route.length_at][0], str(len(content)))
        if auth is not None:
            headers += auth.signed_headers(query + text, route.path)
        url = f"{route.url}?{query}" if query else route.url
        return url, headers, content


def log_like_httpx(method: str, url: str, answer: HotAnswer) -> None:
    """httpx's INFO line for a request, when its logger would write one."""
    if httpx_logger.isEnabledFor(logging.INFO):
        httpx_logger.info(
            'HTTP Request: %s %s "%s %d %s"',
            method,
            httpx.URL(url),
            _HTTP_11,
            answer.status_code,
            answer.reason_phrase,
        )
