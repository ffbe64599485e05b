"""History requests: the account's own events, the public market's, and the account log.

Every listing takes a time window (``since`` inclusive, ``before`` exclusive), a sort order
and a page size; the continuation token of the previous page continues it.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import attrs

from ..errors import InvalidArgumentError
from ..models.account_log import AccountLogInfo
from .checks import (
    check_bool,
    check_choice,
    check_count,
    check_symbol,
    check_window,
    optional_symbol,
    optional_text,
)

__all__ = [
    "AccountLogCsvQuery",
    "AccountLogQuery",
    "ExecutionsQuery",
    "MarketHistoryQuery",
    "OrderEventsQuery",
    "PositionEventsQuery",
    "Sort",
]

Sort = Literal["asc", "desc"]
_SORTS = ("asc", "desc")


def _check_window(
    since: dt.datetime | None, before: dt.datetime | None, sort: Sort, count: int | None
) -> None:
    check_window(since, before)
    check_choice("sort", sort, _SORTS)
    check_count("count", count)


def _check_flags(**flags: bool | None) -> None:
    for name, value in flags.items():
        check_bool(name, value)


@attrs.frozen(init=False)
class ExecutionsQuery:
    """One page of the account's executions."""

    since: dt.datetime | None
    before: dt.datetime | None
    sort: Sort
    count: int | None
    tradeable: str | None
    continuation_token: str | None

    def __init__(
        self,
        *,
        since: dt.datetime | None = None,
        before: dt.datetime | None = None,
        sort: Sort = "desc",
        count: int | None = None,
        tradeable: str | None = None,
        continuation_token: str | None = None,
    ) -> None:
        _check_window(since, before, sort, count)
        self.__attrs_init__(
            since=since,
            before=before,
            sort=sort,
            count=count,
            tradeable=optional_symbol(tradeable),
            continuation_token=optional_text("continuation_token", continuation_token),
        )


@attrs.frozen(init=False)
class OrderEventsQuery:
    """One page of order (or trigger-order) events."""

    since: dt.datetime | None
    before: dt.datetime | None
    sort: Sort
    count: int | None
    tradeable: str | None
    opened: bool | None
    closed: bool | None
    continuation_token: str | None

    def __init__(
        self,
        *,
        since: dt.datetime | None = None,
        before: dt.datetime | None = None,
        sort: Sort = "desc",
        count: int | None = None,
        tradeable: str | None = None,
        opened: bool | None = None,
        closed: bool | None = None,
        continuation_token: str | None = None,
    ) -> None:
        _check_window(since, before, sort, count)
        _check_flags(opened=opened, closed=closed)
        self.__attrs_init__(
            since=since,
            before=before,
            sort=sort,
            count=count,
            tradeable=optional_symbol(tradeable),
            opened=opened,
            closed=closed,
            continuation_token=optional_text("continuation_token", continuation_token),
        )


@attrs.frozen(init=False)
class PositionEventsQuery:
    """One page of position updates, filtered by change and by reason."""

    since: dt.datetime | None
    before: dt.datetime | None
    sort: Sort
    count: int | None
    opened: bool | None
    closed: bool | None
    increased: bool | None
    decreased: bool | None
    reversed: bool | None
    no_change: bool | None
    trades: bool | None
    funding_realization: bool | None
    settlement: bool | None
    tradeable: str | None
    continuation_token: str | None

    def __init__(
        self,
        *,
        since: dt.datetime | None = None,
        before: dt.datetime | None = None,
        sort: Sort = "desc",
        count: int | None = None,
        tradeable: str | None = None,
        opened: bool | None = None,
        closed: bool | None = None,
        increased: bool | None = None,
        decreased: bool | None = None,
        reversed: bool | None = None,
        no_change: bool | None = None,
        trades: bool | None = None,
        funding_realization: bool | None = None,
        settlement: bool | None = None,
        continuation_token: str | None = None,
    ) -> None:
        _check_window(since, before, sort, count)
        flags = {
            "opened": opened,
            "closed": closed,
            "increased": increased,
            "decreased": decreased,
            "reversed": reversed,
            "no_change": no_change,
            "trades": trades,
            "funding_realization": funding_realization,
            "settlement": settlement,
        }
        _check_flags(**flags)
        self.__attrs_init__(
            since=since,
            before=before,
            sort=sort,
            count=count,
            opened=opened,
            closed=closed,
            increased=increased,
            decreased=decreased,
            reversed=reversed,
            no_change=no_change,
            trades=trades,
            funding_realization=funding_realization,
            settlement=settlement,
            tradeable=optional_symbol(tradeable),
            continuation_token=optional_text("continuation_token", continuation_token),
        )


@attrs.frozen(init=False)
class MarketHistoryQuery:
    """One page of a contract's public executions, order events or mark prices."""

    since: dt.datetime | None
    before: dt.datetime | None
    sort: Sort
    count: int | None
    symbol: str
    continuation_token: str | None

    def __init__(
        self,
        symbol: str,
        *,
        since: dt.datetime | None = None,
        before: dt.datetime | None = None,
        sort: Sort = "desc",
        count: int | None = None,
        continuation_token: str | None = None,
    ) -> None:
        _check_window(since, before, sort, count)
        self.__attrs_init__(
            since=since,
            before=before,
            sort=sort,
            count=count,
            symbol=check_symbol(symbol),
            continuation_token=optional_text("continuation_token", continuation_token),
        )


@attrs.frozen(init=False)
class AccountLogQuery:
    """Bookings on every wallet; ``from_id``/``to_id`` bound entry ids (inclusive)."""

    since: dt.datetime | None
    before: dt.datetime | None
    from_id: int | None
    to_id: int | None
    sort: Sort
    info: AccountLogInfo | None
    count: int | None
    conversion_details: bool | None

    def __init__(
        self,
        *,
        since: dt.datetime | None = None,
        before: dt.datetime | None = None,
        from_id: int | None = None,
        to_id: int | None = None,
        sort: Sort = "desc",
        info: AccountLogInfo | str | None = None,
        count: int | None = None,
        conversion_details: bool | None = None,
    ) -> None:
        kind = None if info is None else AccountLogInfo(info)
        if kind is AccountLogInfo.UNKNOWN:
            known = ", ".join(i.value for i in AccountLogInfo if i is not AccountLogInfo.UNKNOWN)
            raise InvalidArgumentError(f"info must be one of {known}; got {info!r}")
        first, last = check_count("from_id", from_id), check_count("to_id", to_id)
        if first is not None and last is not None and first > last:
            raise InvalidArgumentError("from_id must not be greater than to_id")
        _check_window(since, before, sort, count)
        self.__attrs_init__(
            since=since,
            before=before,
            from_id=first,
            to_id=last,
            sort=sort,
            info=kind,
            count=count,
            conversion_details=check_bool("conversion_details", conversion_details),
        )


@attrs.frozen(init=False)
class AccountLogCsvQuery:
    """The most recent account-log entries as Kraken's CSV text."""

    conversion_details: bool | None

    def __init__(self, *, conversion_details: bool | None = None) -> None:
        self.__attrs_init__(conversion_details=check_bool("conversion_details", conversion_details))
