"""The history API's windows and continuation tokens.

Every listing is ordered by a key ``(epoch ms, sequence)``; a continuation token is that key of
the last element sent, base64-encoded, and the next page starts strictly after it in the
listing's direction (so the caller must keep ``sort``, as Kraken asks). ``since`` is inclusive,
``before`` exclusive, both epoch milliseconds. ``count`` defaults to ``DEFAULT_COUNT`` and is
capped at ``MAX_COUNT`` (a silent cap, as measured on Kraken).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from ..errors import ExchangeError, Reason
from .params import Params, parse_decimal

__all__ = ["DEFAULT_COUNT", "MAX_COUNT", "Key", "Window", "page", "token", "whole_number"]

DEFAULT_COUNT = 500
MAX_COUNT = 1000

Key = tuple[int, int]
T = TypeVar("T")


def _refused() -> ExchangeError:
    return ExchangeError("invalidArgument", reason=Reason.INVALID_ARGUMENT)


def whole_number(params: Params, name: str) -> int | None:
    """An integer parameter of the history API; anything else is ``invalidArgument``."""
    text = params.text(name)
    if text is None:
        return None
    value = parse_decimal(text)
    if value is None or value != value.to_integral_value():
        raise _refused()
    return int(value)


def token(key: Key) -> str:
    return base64.b64encode(f"{key[0]}:{key[1]}".encode()).decode()


def _untoken(text: str) -> Key:
    try:
        first, _, second = base64.b64decode(text, validate=True).decode().partition(":")
        return int(first), int(second)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _refused() from None


@dataclass(frozen=True, slots=True)
class Window:
    since: int | None
    before: int | None
    ascending: bool
    count: int
    after: Key | None

    @classmethod
    def read(cls, params: Params) -> Window:
        sort = (params.text("sort") or "desc").strip().lower()
        if sort not in ("asc", "desc"):
            raise _refused()
        count = whole_number(params, "count")
        if count is not None and count < 1:
            raise _refused()
        cursor = params.text("continuation_token") or params.text("continuationToken")
        return cls(
            since=whole_number(params, "since"),
            before=whole_number(params, "before"),
            ascending=sort == "asc",
            count=min(count or DEFAULT_COUNT, MAX_COUNT),
            after=None if cursor is None else _untoken(cursor),
        )

    def admits(self, key: Key) -> bool:
        """Inside the time window and past the continuation point."""
        if self.since is not None and key[0] < self.since:
            return False
        if self.before is not None and key[0] >= self.before:
            return False
        if self.after is None:
            return True
        return key > self.after if self.ascending else key < self.after


def page(
    items: Iterable[T],
    window: Window,
    key: Callable[[T], Key],
    render: Callable[[T], dict[str, Any]],
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of ``items`` (given in the listing's direction) and the token for the next."""
    chosen: list[T] = []
    more = False
    for item in items:
        if not window.admits(key(item)):
            continue
        if len(chosen) == window.count:
            more = True
            break
        chosen.append(item)
    next_token = token(key(chosen[-1])) if more and chosen else None
    return [render(item) for item in chosen], next_token
