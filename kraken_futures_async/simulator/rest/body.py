"""A request's body, read up to a ceiling: past it the twin stops reading and refuses.

Kraken's largest real request, a batch of 100 orders, is about 40 KB; a body far beyond any
real one is refused before a byte of it is parsed, and reading stops as soon as the ceiling is
passed (a declared ``Content-Length`` over it is refused without reading at all), so no client
can make the twin hold or parse an unbounded body (issue 17). The number of parameters is
capped the same way, counted by one scan for ``&`` before parsing: parsing costs about a
microsecond per parameter, and a megabyte of ``a&a&...`` holds half a million of them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from .faults import ConnectionDroppedError

__all__ = ["RequestTooLargeError", "check_fields", "read_body"]

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]


class RequestTooLargeError(Exception):
    """The request's parameters (query string and body) exceed the twin's ceiling."""

    def __init__(self, limit: int, unit: str = "bytes") -> None:
        super().__init__(f"request parameters over {limit} {unit}")
        self.limit = limit


def check_fields(query: bytes, body: bytes, limit: int) -> None:
    """Refuse more than ``limit`` ``&``-separated fields in query and body, before parsing."""
    if _fields(query) + _fields(body) > limit:
        raise RequestTooLargeError(limit, "parameters")


def _fields(part: bytes) -> int:
    return part.count(b"&") + 1 if part else 0


def _declared_length(headers: Iterable[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name.lower() == b"content-length":
            text = value.strip()
            return int(text) if text.isdigit() and len(text) < 20 else None
    return None


async def read_body(
    receive: Receive, headers: Iterable[tuple[bytes, bytes]], room: int, limit: int
) -> bytes:
    """The whole body if it fits in ``room`` bytes; :class:`RequestTooLargeError` otherwise.

    ``limit`` is the configured ceiling the refusal names (``room`` is what the query string
    left of it).
    """
    declared = _declared_length(headers)
    if room < 0 or (declared is not None and declared > room):
        raise RequestTooLargeError(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionDroppedError(after_processing=False)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > room:
            raise RequestTooLargeError(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)
