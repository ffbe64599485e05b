"""Reading an answer's body, never more than a cap, raw or decoded.

httpx would read a body whole and inflate gzip in one step, so a 0.2 MB gzip body could become
650 MB before anything looked at it. Here the raw bytes are counted as they arrive and gzip or
deflate is inflated with zlib's ``max_length``, so neither ever passes the cap by more than
one chunk. The Session asks only for gzip and deflate; any other encoding is refused.

Failures are httpx exceptions, as a transport's would be, so the pipeline maps them in one
place; :class:`BodyTooLargeError` is also what ``AiohttpTransport`` raises.
"""

from __future__ import annotations

import zlib
from typing import Protocol, cast

import httpx

__all__ = ["MAX_BODY_EXTENSION", "BodyTooLargeError", "decode_body", "read_body"]

#: The request extension that tells a transport the cap, so it can stop reading early too.
MAX_BODY_EXTENSION = "kraken_futures_async.max_response_bytes"

_ZLIB_WBITS = {
    "gzip": zlib.MAX_WBITS | 16,
    "x-gzip": zlib.MAX_WBITS | 16,
    "deflate": zlib.MAX_WBITS,
}


class BodyTooLargeError(httpx.TransportError):
    """The answer's body passed ``limit`` bytes (raw or decoded) and was not read further."""

    def __init__(
        self, limit: int, *, request: httpx.Request | None, declared: int | None = None
    ) -> None:
        size = f" ({declared:,} bytes declared)" if declared is not None else ""
        super().__init__(
            f"the answer is larger than the {limit:,}-byte cap{size} and was not read further",
            request=request,
        )
        self.limit = limit


class _OverflowError(Exception):
    pass


class _Decoder(Protocol):
    def decode(self, data: bytes) -> bytes: ...

    def flush(self) -> bytes: ...


class _Inflate:
    """zlib decompression that refuses to produce more than ``limit`` bytes in all."""

    def __init__(self, encoding: str, limit: int) -> None:
        self._raw_deflate_allowed = encoding == "deflate"
        self._zlib = zlib.decompressobj(_ZLIB_WBITS[encoding])
        self._room = limit

    def decode(self, data: bytes) -> bytes:
        try:
            out = self._zlib.decompress(data, self._room + 1)
        except zlib.error:
            if not self._raw_deflate_allowed:
                raise
            # Some servers send deflate without the zlib header (httpx accepts both).
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._zlib.decompress(data, self._room + 1)
        self._raw_deflate_allowed = False
        return self._take(out)

    def flush(self) -> bytes:
        return self._take(self._zlib.flush())

    def _take(self, out: bytes) -> bytes:
        # zlib stops at the room plus one byte, so a body that does not fit always shows
        self._room -= len(out)
        if self._room < 0:
            raise _OverflowError
        return out


class _Chain:
    """Encodings undone in turn (``gzip, deflate`` is undone deflate first)."""

    def __init__(self, decoders: list[_Decoder]) -> None:
        self._decoders = decoders

    def decode(self, data: bytes) -> bytes:
        for decoder in self._decoders:
            data = decoder.decode(data)
        return data

    def flush(self) -> bytes:
        data = b""
        for decoder in self._decoders:
            data = decoder.decode(data) + decoder.flush() if data else decoder.flush()
        return data


def _decoder(header: str, limit: int, request: httpx.Request | None) -> _Decoder | None:
    names = [name.strip().lower() for name in header.split(",")]
    names = [name for name in names if name and name != "identity"]
    if not names:
        return None
    for name in names:
        if name not in _ZLIB_WBITS:
            raise httpx.DecodingError(
                f"the answer uses Content-Encoding {name!r}, which was not asked for",
                request=request,
            )
    decoders: list[_Decoder] = [_Inflate(name, limit) for name in reversed(names)]
    return decoders[0] if len(decoders) == 1 else _Chain(decoders)


async def read_body(response: httpx.Response, limit: int) -> bytes:
    """Read a streamed ``response``'s decoded body, at most ``limit`` bytes of it.

    Afterwards ``response.content`` and ``response.text`` work as after ``aread()``. The
    response is closed on every path (a body left unread closes its connection). A declared
    ``Content-Length`` is not trusted nor looked at: the bytes are counted as they come.
    """
    request = response.request
    if response.is_stream_consumed:
        # built already read (httpx.Response(content=...), as test doubles do)
        if len(response.content) > limit:
            raise BodyTooLargeError(limit, request=request)
        return response.content
    encoding = response.headers.get("content-encoding")
    try:
        decoder = None if encoding is None else _decoder(encoding, limit, request)
        chunks: list[bytes] = []
        size = 0
        # The stream itself, as ``aiter_raw()`` reads it but without its per-chunk
        # bookkeeping (a third of an order book's read); marked consumed the same way.
        response.is_stream_consumed = True
        async for chunk in cast(httpx.AsyncByteStream, response.stream):
            size += len(chunk)
            if size > limit:
                raise BodyTooLargeError(limit, request=request)
            chunks.append(chunk if decoder is None else decoder.decode(chunk))
        if decoder is not None:
            rest = decoder.flush()
            if rest:
                chunks.append(rest)
    except _OverflowError:
        raise BodyTooLargeError(limit, request=request) from None
    except zlib.error as exc:
        raise httpx.DecodingError(
            f"the answer's {encoding} encoding is corrupt: {exc}", request=request
        ) from None
    finally:
        await response.aclose()
    body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    # What ``aread()`` does once it has the bytes; httpx has no public way to hand them over.
    response._content = body
    # httpx's bound stream points back at the response: without this cycle a response (and
    # its body) is freed at once, not whenever the cycle collector runs.
    response.stream = httpx.ByteStream(body)
    return body


def decode_body(raw: bytes, encoding: str | None, limit: int) -> bytes:
    """A body read whole (its raw size already capped) undone of ``encoding``, as
    :func:`read_body` would give it: the same cap on the inflated size, the same errors."""
    if len(raw) > limit:
        raise BodyTooLargeError(limit, request=None)
    if encoding is None:
        return raw
    try:
        decoder = _decoder(encoding, limit, None)
        if decoder is None:
            return raw
        body = decoder.decode(raw)
        rest = decoder.flush()
    except _OverflowError:
        raise BodyTooLargeError(limit, request=None) from None
    except zlib.error as exc:
        raise httpx.DecodingError(
            f"the answer's {encoding} encoding is corrupt: {exc}", request=None
        ) from None
    return body + rest if rest else body
