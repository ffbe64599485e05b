"""Argument checks shared by the resources added for full coverage.

Like ``_order_args``, each rule refuses locally what the exchange would refuse, so a bad call
costs no round trip and no rate-limit budget.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import TypeVar

from ..errors import InvalidArgumentError
from ._order_args import check_aware, optional_number

__all__ = [
    "check_bool",
    "check_choice",
    "check_count",
    "check_text",
    "epoch_ms",
    "epoch_seconds",
    "optional_number",
]

_T = TypeVar("_T")


def epoch_ms(name: str, value: dt.datetime | None) -> int | None:
    """The history API's time form: epoch milliseconds."""
    if value is None:
        return None
    return int(check_aware(name, value).timestamp() * 1000)


def epoch_seconds(name: str, value: dt.datetime | None) -> int | None:
    """The charts API's time form: epoch seconds."""
    if value is None:
        return None
    return int(check_aware(name, value).timestamp())


def check_text(name: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(f"{name} must be a non-empty string, got {value!r}")
    return value


def check_choice(name: str, value: _T, choices: Collection[_T]) -> _T:
    if value not in choices:
        listed = ", ".join(sorted(str(c) for c in choices))
        raise InvalidArgumentError(f"{name} must be one of {listed}; got {value!r}")
    return value


def check_count(name: str, value: int | None, *, minimum: int = 1) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidArgumentError(f"{name} must be an integer of {minimum} or more, got {value!r}")
    return value


def check_bool(name: str, value: bool | None) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise InvalidArgumentError(f"{name} must be True or False, got {value!r}")
    return value
