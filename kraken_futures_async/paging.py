"""Async iterators over Kraken's paged listings.

Each page is one ordinary call through the backend, so it waits for the rate limiter at its
real cost (a ``lastFillTime`` page of fills costs 25, a history page 1 token). Iteration
stops when the listing says it is complete, when a cursor repeats (a server that hands back
the same token would otherwise loop forever), or after ``max_pages``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from typing import Any, Protocol, TypeVar

from .errors import InvalidArgumentError

__all__ = ["TokenPage", "check_max_pages", "continuation_pages", "follow"]

P = TypeVar("P")
C = TypeVar("C", bound=Hashable)


class TokenPage(Protocol):
    """A history API page: some elements and, if there are more, the token for the next."""

    @property
    def elements(self) -> tuple[Any, ...]: ...

    @property
    def continuation_token(self) -> str | None: ...


TP = TypeVar("TP", bound=TokenPage)


def check_max_pages(max_pages: int | None) -> int | None:
    if max_pages is not None and (isinstance(max_pages, bool) or max_pages < 1):
        raise InvalidArgumentError(f"max_pages must be 1 or more, got {max_pages!r}")
    return max_pages


async def follow(
    fetch: Callable[[C | None], Awaitable[P]],
    next_cursor: Callable[[P], C | None],
    *,
    first: C | None = None,
    max_pages: int | None = None,
) -> AsyncIterator[P]:
    """Pages from ``fetch(first)``, then ``fetch(next_cursor(page))`` until it says ``None``."""
    check_max_pages(max_pages)
    cursor, seen, fetched = first, set[C](), 0
    while True:
        page = await fetch(cursor)
        fetched += 1
        yield page
        cursor = next_cursor(page)
        if cursor is None or cursor in seen or (max_pages is not None and fetched >= max_pages):
            return
        seen.add(cursor)


def _token(page: TokenPage) -> str | None:
    return page.continuation_token if page.elements else None


def continuation_pages(
    fetch: Callable[[str | None], Awaitable[TP]], *, max_pages: int | None = None
) -> AsyncIterator[TP]:
    """History pages, each asked for with the previous page's continuation token."""
    return follow(fetch, _token, max_pages=max_pages)
