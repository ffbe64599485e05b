"""The charts API's analytics: time series of open interest, volumes, book liquidity, ...

An analytics answer is a list of timestamps (epoch seconds) and, depending on the type, one
value per timestamp (a number, ``None`` or a four-number OHLC tuple) or an object of named
series. Values are turned into Decimals (counts stay int) whatever their wire spelling.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs
import cattrs

from .._values import to_decimal
from ._base import wire

__all__ = ["Analytics", "AnalyticsIssue", "AnalyticsSeries", "analytics_values", "register_hooks"]


def analytics_values(value: Any) -> Any:
    """Decimals for numbers and numeric text, tuples for lists, dicts kept, at any depth."""
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, list):
        return tuple(analytics_values(item) for item in value)
    if isinstance(value, dict):
        return {str(key): analytics_values(item) for key, item in value.items()}
    if isinstance(value, str):
        try:
            return to_decimal(value)
        except ValueError:
            return value  # a label, not a number: keep it as sent
    if isinstance(value, Decimal | float):
        return to_decimal(value)
    raise TypeError(f"an analytics value must be a number, text, list or object, got {value!r}")


@attrs.frozen(kw_only=True)
class AnalyticsSeries:
    """``data`` is a tuple aligned with ``timestamp``, or a mapping of named such tuples."""

    timestamp: tuple[int, ...]
    more: bool
    data: Any

    @property
    def times(self) -> tuple[dt.datetime, ...]:
        """The timestamps as aware UTC datetimes."""
        return tuple(dt.datetime.fromtimestamp(t, dt.UTC) for t in self.timestamp)


@attrs.frozen(kw_only=True)
class AnalyticsIssue:
    """A problem the analytics service reports alongside (or instead of) a result."""

    severity: str
    error_class: str = attrs.field(metadata=wire("error_class"))
    type: str
    msg: str | None = None
    value: str | None = None
    field: str | None = None


@attrs.frozen(kw_only=True)
class Analytics:
    """One analytics series from the charts API, with any issues Kraken reported with it."""

    result: AnalyticsSeries
    errors: tuple[AnalyticsIssue, ...] = ()


def register_hooks(conv: cattrs.Converter) -> None:
    base = conv.get_structure_hook(AnalyticsSeries)

    def structure_series(value: Any, _: Any) -> AnalyticsSeries:
        if not isinstance(value, dict):
            raise TypeError(f"an analytics result must be an object, got {value!r}")
        raw = dict(value)
        if "data" in raw:
            raw["data"] = analytics_values(raw["data"])
        return base(raw, AnalyticsSeries)  # type: ignore[no-any-return]

    conv.register_structure_hook(AnalyticsSeries, structure_series)
