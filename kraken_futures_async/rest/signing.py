"""Kraken's ``Authent`` signature and the ``httpx.Auth`` that puts it on every private request.

Kraken signs ``postData + nonce + endpointPath``: the query and body exactly as they go on
the wire (already URL-encoded), the Nonce header (or nothing) and the path with its leading
``/derivatives`` removed. Signing happens inside :class:`KrakenFuturesAuth`, on the final
request, so the signed bytes are the sent bytes and every attempt gets a fresh nonce.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Generator

import httpx

from ..auth import Credentials, NonceSource, nonce_source_for

__all__ = ["KrakenFuturesAuth", "endpoint_path", "sign"]

_DERIVATIVES_PREFIX = "/derivatives"


def endpoint_path(url_path: str) -> str:
    """The path Kraken hashes: the URL path minus a leading ``/derivatives``, nothing else."""
    if url_path.startswith(_DERIVATIVES_PREFIX + "/"):
        return url_path[len(_DERIVATIVES_PREFIX) :]
    return url_path


def sign(secret: bytes, post_data: str, nonce: str, path: str) -> str:
    """Authent = base64(HMAC-SHA512(secret, SHA256(postData + nonce + endpointPath)))."""
    digest = hashlib.sha256((post_data + nonce + path).encode()).digest()
    return base64.b64encode(hmac.digest(secret, digest, "sha512")).decode()


class KrakenFuturesAuth(httpx.Auth):
    """Adds ``APIKey``, ``Nonce`` and ``Authent`` to the request that is about to be sent."""

    requires_request_body = True

    def __init__(self, credentials: Credentials, nonces: NonceSource | None = None) -> None:
        self._credentials = credentials
        self._nonces = nonces or nonce_source_for(credentials.api_key)

    def __repr__(self) -> str:
        return f"KrakenFuturesAuth({self._credentials!r})"

    def signed_headers(self, post_data: str, url_path: str) -> list[tuple[str, str]]:
        """``APIKey``, ``Nonce`` (unless the source gives none) and ``Authent``, in the order
        they are added to a request, for ``post_data`` sent to ``url_path``."""
        nonce = self._nonces.next()
        authent = sign(self._credentials.secret, post_data, nonce, endpoint_path(url_path))
        headers = [("APIKey", self._credentials.api_key)]
        if nonce:
            headers.append(("Nonce", nonce))
        headers.append(("Authent", authent))
        return headers

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        post_data = request.url.query.decode("ascii") + request.content.decode()
        for name, value in self.signed_headers(post_data, request.url.path):
            request.headers[name] = value
        yield request
