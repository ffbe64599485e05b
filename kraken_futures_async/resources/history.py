"""The history API v3: the account's own events and the public market's, page by page.

Own events (executions, orders, triggers, positions, the account log) need a read-only key
and draw on the history budget (100 tokens per 10 minutes); public market events are free.
Each listing has a one-page method and an ``iter_`` async iterator that follows Kraken's
continuation token, keeping every other parameter (``sort`` included) unchanged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Mapping
from typing import Any, Literal

from ..errors import InvalidArgumentError
from ..models import (
    AccountLog,
    AccountLogEntry,
    ExecutionEntry,
    HistoryPage,
    OrderEntry,
    PositionUpdate,
    PriceEntry,
    TriggerEntry,
)
from ..models.account_log import AccountLogInfo
from ..rest.endpoints import Endpoint, endpoint
from ..rest.pagination import check_max_pages, continuation_pages, follow
from ..rest.wire import encode_params
from ._args import check_bool, check_choice, check_count, epoch_ms
from ._base import Resource
from ._order_args import check_symbol

__all__ = ["HistoryResource", "Sort"]

Sort = Literal["asc", "desc"]
_SORTS = ("asc", "desc")

_EXECUTIONS = endpoint("history_executions")
_ORDERS = endpoint("history_orders")
_TRIGGERS = endpoint("history_triggers")
_POSITIONS = endpoint("history_positions")
_ACCOUNT_LOG = endpoint("account_log")
_ACCOUNT_LOG_CSV = endpoint("account_log_csv")
_MARKET_EXECUTIONS = endpoint("market_executions")
_MARKET_ORDERS = endpoint("market_orders")
_MARKET_PRICES = endpoint("market_prices")

#: Kraken's account-log page size when ``count`` is not given.
ACCOUNT_LOG_DEFAULT_COUNT = 500


def _window(
    since: dt.datetime | None, before: dt.datetime | None, sort: Sort, count: int | None
) -> dict[str, Any]:
    start, end = epoch_ms("since", since), epoch_ms("before", before)
    if start is not None and end is not None and start >= end:
        raise InvalidArgumentError("since must be earlier than before")
    return {
        "since": start,
        "before": end,
        "sort": check_choice("sort", sort, _SORTS),
        "count": check_count("count", count),
    }


def _flags(**flags: bool | None) -> dict[str, bool | None]:
    return {name: check_bool(name, value) for name, value in flags.items()}


def _tradeable(value: str | None) -> str | None:
    return None if value is None else check_symbol(value)


class HistoryResource(Resource):
    async def _page(
        self,
        row: Endpoint,
        params: Mapping[str, Any],
        token: str | None,
        path_params: dict[str, str] | None = None,
    ) -> Any:
        wire = encode_params({**params, "continuation_token": token})
        return await self._backend.call(row, wire, path_params=path_params)

    def _items(
        self,
        row: Endpoint,
        params: Mapping[str, Any],
        max_pages: int | None,
        path_params: dict[str, str] | None = None,
    ) -> AsyncIterator[Any]:
        check_max_pages(max_pages)

        async def fetch(token: str | None) -> HistoryPage[Any]:
            page: HistoryPage[Any] = await self._page(row, params, token, path_params)
            return page

        async def items() -> AsyncIterator[Any]:
            async for page in continuation_pages(fetch, max_pages=max_pages):
                for element in page.elements:
                    yield element

        return items()

    # --- own executions, orders, triggers, positions ------------------------------------

    async def executions(
        self,
        *,
        since: dt.datetime | None = None,
        before: dt.datetime | None = None,
        sort: Sort = "desc",
        count: int | None = None,
        tradeable: str | None = None,
        continuation_token: str | None = None,
    ) -> HistoryPage[ExecutionEntry]:
        """One page of the account's executions, with the fee each of its sides paid."""
        params = {**_window(since, before, sort, count), "tradeable": _tradeable(tradeable)}
        page: HistoryPage[ExecutionEntry] = await self._page(
            _EXECUTIONS, params, continuation_token
        )
        return page

    def iter_executions(
        self,
        *,
        since: dt.datetime | None = None,
        before: dt.datetime | None = None,
        sort: Sort = "desc",
        count: int | None = None,
        tradeable: str | None = None,
        max_pages: int | None = None,
    ) -> AsyncIterator[ExecutionEntry]:
        """Every execution in the window, page after page (1 history token each)."""
        params = {**_window(since, before, sort, count), "tradeable": _tradeable(tradeable)}
        return self._items(_EXECUTIONS, params, max_pages)

    async def orders(
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
    ) -> HistoryPage[OrderEntry]:
        """One page of order events (placed, updated, cancelled, rejected, ...)."""
        params = {
            **_window(since, before, sort, count),
            "tradeable": _tradeable(tradeable),
            **_flags(opened=opened, closed=closed),
        }
        page: HistoryPage[OrderEntry] = await self._page(_ORDERS, params, continuation_token)
        return page

    def iter_orders(
        self,
        *,
        since: dt.datetime | None = None,
        before: dt.datetime | None = None,
        sort: Sort = "desc",
        count: int | None = None,
        tradeable: str | None = None,
        opened: bool | None = None,
        closed: bool | None = None,
        max_pages: int | None = None,
    ) -> AsyncIterator[OrderEntry]:
        params = {
            **_window(since, before, sort, count),
            "tradeable": _tradeable(tradeable),
            **_flags(opened=opened, closed=closed),
        }
        return self._items(_ORDERS, params, max_pages)

    async def triggers(
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
    ) -> HistoryPage[TriggerEntry]:
        """One page of trigger-order events (placed, updated, activated, cancelled, ...)."""
        params = {
            **_window(since, before, sort, count),
            "tradeable": _tradeable(tradeable),
            **_flags(opened=opened, closed=closed),
        }
        page: HistoryPage[TriggerEntry] = await self._page(_TRIGGERS, params, continuation_token)
        return page

    def iter_triggers(
        self,
        *,
        since: dt.datetime | None = None,
        before: dt.datetime | None = None,
        sort: Sort = "desc",
        count: int | None = None,
        tradeable: str | None = None,
        opened: bool | None = None,
        closed: bool | None = None,
        max_pages: int | None = None,
    ) -> AsyncIterator[TriggerEntry]:
        params = {
            **_window(since, before, sort, count),
            "tradeable": _tradeable(tradeable),
            **_flags(opened=opened, closed=closed),
        }
        return self._items(_TRIGGERS, params, max_pages)

    async def positions(
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
    ) -> HistoryPage[PositionUpdate]:
        """One page of position updates.

        The change filters (``opened`` ... ``no_change``) and the reason filters (``trades``,
        ``funding_realization``, ``settlement``) each select any of those given; with both
        kinds an update must match one of each. No filter means every update.
        """
        params = {
            **_window(since, before, sort, count),
            **_flags(
                opened=opened,
                closed=closed,
                increased=increased,
                decreased=decreased,
                reversed=reversed,
                no_change=no_change,
                trades=trades,
                funding_realization=funding_realization,
                settlement=settlement,
            ),
            "tradeable": _tradeable(tradeable),
        }
        page: HistoryPage[PositionUpdate] = await self._page(_POSITIONS, params, continuation_token)
        return page

    def iter_positions(
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
        max_pages: int | None = None,
    ) -> AsyncIterator[PositionUpdate]:
        params = {
            **_window(since, before, sort, count),
            **_flags(
                opened=opened,
                closed=closed,
                increased=increased,
                decreased=decreased,
                reversed=reversed,
                no_change=no_change,
                trades=trades,
                funding_realization=funding_realization,
                settlement=settlement,
            ),
            "tradeable": _tradeable(tradeable),
        }
        return self._items(_POSITIONS, params, max_pages)

    # --- the account log -------------------------------------------------------------

    async def account_log(
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
    ) -> AccountLog:
        """Bookings on every wallet; ``from_id``/``to_id`` bound entry ids (inclusive).

        The cost depends on ``count``: up to 25 entries 1 token, 50 2, 1000 3, 5000 6, more
        10; Kraken's default of 500 costs 3.
        """
        params = self._account_log_params(
            since, before, from_id, to_id, sort, info, count, conversion_details
        )
        result: AccountLog = await self._backend.call(_ACCOUNT_LOG, encode_params(params))
        return result

    @staticmethod
    def _account_log_params(
        since: dt.datetime | None,
        before: dt.datetime | None,
        from_id: int | None,
        to_id: int | None,
        sort: Sort,
        info: AccountLogInfo | str | None,
        count: int | None,
        conversion_details: bool | None,
    ) -> dict[str, Any]:
        kind = None if info is None else AccountLogInfo(info)
        if kind is AccountLogInfo.UNKNOWN:
            known = ", ".join(i.value for i in AccountLogInfo if i is not AccountLogInfo.UNKNOWN)
            raise InvalidArgumentError(f"info must be one of {known}; got {info!r}")
        first, last = check_count("from_id", from_id), check_count("to_id", to_id)
        if first is not None and last is not None and first > last:
            raise InvalidArgumentError("from_id must not be greater than to_id")
        window = _window(since, before, sort, count)
        return {
            "since": window["since"],
            "before": window["before"],
            "from": first,
            "to": last,
            "sort": window["sort"],
            "info": kind,
            "count": window["count"],
            "conversion_details": check_bool("conversion_details", conversion_details),
        }

    def iter_account_log(
        self,
        *,
        since: dt.datetime | None = None,
        before: dt.datetime | None = None,
        sort: Sort = "desc",
        info: AccountLogInfo | str | None = None,
        count: int | None = None,
        conversion_details: bool | None = None,
        max_pages: int | None = None,
    ) -> AsyncIterator[AccountLogEntry]:
        """Every entry in the window, paged by entry id (the account log has no token).

        A page shorter than ``count`` (default 500) is the last one.
        """
        self._account_log_params(since, before, None, None, sort, info, count, conversion_details)
        check_max_pages(max_pages)
        size = count or ACCOUNT_LOG_DEFAULT_COUNT
        descending = sort == "desc"

        async def fetch(bound: int | None) -> AccountLog:
            return await self.account_log(
                since=since,
                before=before,
                from_id=None if descending else bound,
                to_id=bound if descending else None,
                sort=sort,
                info=info,
                count=count,
                conversion_details=conversion_details,
            )

        def next_bound(page: AccountLog) -> int | None:
            if len(page.logs) < size:
                return None
            last = page.logs[-1].id
            return (last - 1 or None) if descending else last + 1

        async def entries() -> AsyncIterator[AccountLogEntry]:
            async for page in follow(fetch, next_bound, max_pages=max_pages):
                for entry in page.logs:
                    yield entry

        return entries()

    async def account_log_csv(self, *, conversion_details: bool | None = None) -> str:
        """The most recent account-log entries as Kraken's CSV text (6 history tokens)."""
        params = {"conversion_details": check_bool("conversion_details", conversion_details)}
        result: str = await self._backend.call(_ACCOUNT_LOG_CSV, encode_params(params))
        return result

    # --- public market events (no key, no budget) ------------------------------------

    async def _market_page(
        self,
        row: Endpoint,
        symbol: str,
        since: dt.datetime | None,
        before: dt.datetime | None,
        sort: Sort,
        count: int | None,
        continuation_token: str | None,
    ) -> Any:
        params = _window(since, before, sort, count)
        return await self._page(
            row, params, continuation_token, path_params={"tradeable": check_symbol(symbol)}
        )

    def _market_items(
        self,
        row: Endpoint,
        symbol: str,
        since: dt.datetime | None,
        before: dt.datetime | None,
        sort: Sort,
        count: int | None,
        max_pages: int | None,
    ) -> AsyncIterator[Any]:
        params = _window(since, before, sort, count)
        return self._items(row, params, max_pages, {"tradeable": check_symbol(symbol)})

    async def market_executions(
        self,
        symbol: str,
        *,
        since: dt.datetime | None = None,
        before: dt.datetime | None = None,
        sort: Sort = "desc",
        count: int | None = None,
        continuation_token: str | None = None,
    ) -> HistoryPage[ExecutionEntry]:
        """One page of a contract's public trades (orders in their reduced, public form)."""
        page: HistoryPage[ExecutionEntry] = await self._market_page(
            _MARKET_EXECUTIONS, symbol, since, before, sort, count, continuation_token
        )
        return page

    def iter_market_executions(
        self,
        symbol: str,
        *,
        since: dt.datetime | None = None,
        before: dt.datetime | None = None,
        sort: Sort = "desc",
        count: int | None = None,
        max_pages: int | None = None,
    ) -> AsyncIterator[ExecutionEntry]:
        return self._market_items(_MARKET_EXECUTIONS, symbol, since, before, sort, count, max_pages)

    async def market_orders(
        self,
        symbol: str,
        *,
        since: dt.datetime | None = None,
        before: dt.datetime | None = None,
        sort: Sort = "desc",
        count: int | None = None,
        continuation_token: str | None = None,
    ) -> HistoryPage[OrderEntry]:
        """One page of a contract's public order events (placed, updated, cancelled)."""
        page: HistoryPage[OrderEntry] = await self._market_page(
            _MARKET_ORDERS, symbol, since, before, sort, count, continuation_token
        )
        return page

    def iter_market_orders(
        self,
        symbol: str,
        *,
        since: dt.datetime | None = None,
        before: dt.datetime | None = None,
        sort: Sort = "desc",
        count: int | None = None,
        max_pages: int | None = None,
    ) -> AsyncIterator[OrderEntry]:
        return self._market_items(_MARKET_ORDERS, symbol, since, before, sort, count, max_pages)

    async def market_prices(
        self,
        symbol: str,
        *,
        since: dt.datetime | None = None,
        before: dt.datetime | None = None,
        sort: Sort = "desc",
        count: int | None = None,
        continuation_token: str | None = None,
    ) -> HistoryPage[PriceEntry]:
        """One page of a contract's mark-price changes."""
        page: HistoryPage[PriceEntry] = await self._market_page(
            _MARKET_PRICES, symbol, since, before, sort, count, continuation_token
        )
        return page

    def iter_market_prices(
        self,
        symbol: str,
        *,
        since: dt.datetime | None = None,
        before: dt.datetime | None = None,
        sort: Sort = "desc",
        count: int | None = None,
        max_pages: int | None = None,
    ) -> AsyncIterator[PriceEntry]:
        return self._market_items(_MARKET_PRICES, symbol, since, before, sort, count, max_pages)
