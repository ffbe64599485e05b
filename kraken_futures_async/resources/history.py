"""The history API v3: the account's own events and the public market's, page by page.

Own events (executions, orders, triggers, positions, the account log) need a read-only key
and draw on the history budget (100 tokens per 10 minutes); public market events are free.
Each listing has a one-page method and an ``iter_`` async iterator that follows Kraken's
continuation token, keeping every other parameter (``sort`` included) unchanged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import TypeVar

import attrs

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
from ..operations import Operation
from ..operations import catalog as ops
from ..operations.history import (
    AccountLogCsvQuery,
    AccountLogQuery,
    ExecutionsQuery,
    MarketHistoryQuery,
    OrderEventsQuery,
    PositionEventsQuery,
    Sort,
)
from ..paging import check_max_pages, continuation_pages, follow
from ._base import Resource

__all__ = ["HistoryResource", "Sort"]

#: Kraken's account-log page size when ``count`` is not given.
ACCOUNT_LOG_DEFAULT_COUNT = 500

_Q = TypeVar("_Q", ExecutionsQuery, OrderEventsQuery, PositionEventsQuery, MarketHistoryQuery)
_E = TypeVar("_E")


class HistoryResource(Resource):
    """``kf.history``: the history API (executions, orders, triggers, positions, the account
    log, a contract's public history); one page at a time, or every page with the
    ``iter_*`` methods."""

    def _items(
        self,
        operation: Operation[_Q, HistoryPage[_E]],
        request: _Q,
        max_pages: int | None,
    ) -> AsyncIterator[_E]:
        """Every element of every page, each page asked for with the previous one's token."""
        check_max_pages(max_pages)

        async def fetch(token: str | None) -> HistoryPage[_E]:
            page_request = attrs.evolve(request, continuation_token=token)
            return await self._session.execute(operation, page_request)

        async def items() -> AsyncIterator[_E]:
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
        request = ExecutionsQuery(
            since=since,
            before=before,
            sort=sort,
            count=count,
            tradeable=tradeable,
            continuation_token=continuation_token,
        )
        return await self._session.execute(ops.HISTORY_EXECUTIONS, request)

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
        request = ExecutionsQuery(
            since=since, before=before, sort=sort, count=count, tradeable=tradeable
        )
        return self._items(ops.HISTORY_EXECUTIONS, request, max_pages)

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
        request = OrderEventsQuery(
            since=since,
            before=before,
            sort=sort,
            count=count,
            tradeable=tradeable,
            opened=opened,
            closed=closed,
            continuation_token=continuation_token,
        )
        return await self._session.execute(ops.HISTORY_ORDERS, request)

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
        """Every order event in the window, page after page."""
        request = OrderEventsQuery(
            since=since,
            before=before,
            sort=sort,
            count=count,
            tradeable=tradeable,
            opened=opened,
            closed=closed,
        )
        return self._items(ops.HISTORY_ORDERS, request, max_pages)

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
        request = OrderEventsQuery(
            since=since,
            before=before,
            sort=sort,
            count=count,
            tradeable=tradeable,
            opened=opened,
            closed=closed,
            continuation_token=continuation_token,
        )
        return await self._session.execute(ops.HISTORY_TRIGGERS, request)

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
        """Every trigger-order event in the window, page after page."""
        request = OrderEventsQuery(
            since=since,
            before=before,
            sort=sort,
            count=count,
            tradeable=tradeable,
            opened=opened,
            closed=closed,
        )
        return self._items(ops.HISTORY_TRIGGERS, request, max_pages)

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
        request = PositionEventsQuery(
            since=since,
            before=before,
            sort=sort,
            count=count,
            tradeable=tradeable,
            opened=opened,
            closed=closed,
            increased=increased,
            decreased=decreased,
            reversed=reversed,
            no_change=no_change,
            trades=trades,
            funding_realization=funding_realization,
            settlement=settlement,
            continuation_token=continuation_token,
        )
        return await self._session.execute(ops.HISTORY_POSITIONS, request)

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
        """Every position update in the window, page after page."""
        request = PositionEventsQuery(
            since=since,
            before=before,
            sort=sort,
            count=count,
            tradeable=tradeable,
            opened=opened,
            closed=closed,
            increased=increased,
            decreased=decreased,
            reversed=reversed,
            no_change=no_change,
            trades=trades,
            funding_realization=funding_realization,
            settlement=settlement,
        )
        return self._items(ops.HISTORY_POSITIONS, request, max_pages)

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
        request = AccountLogQuery(
            since=since,
            before=before,
            from_id=from_id,
            to_id=to_id,
            sort=sort,
            info=info,
            count=count,
            conversion_details=conversion_details,
        )
        return await self._session.execute(ops.ACCOUNT_LOG, request)

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
        first = AccountLogQuery(
            since=since,
            sort=sort,
            before=before,
            info=info,
            count=count,
            conversion_details=conversion_details,
        )
        check_max_pages(max_pages)
        size = count or ACCOUNT_LOG_DEFAULT_COUNT
        descending = sort == "desc"

        async def fetch(bound: int | None) -> AccountLog:
            page = (
                attrs.evolve(first, to_id=bound)
                if descending
                else attrs.evolve(first, from_id=bound)
            )
            return await self._session.execute(ops.ACCOUNT_LOG, page)

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
        request = AccountLogCsvQuery(conversion_details=conversion_details)
        return await self._session.execute(ops.ACCOUNT_LOG_CSV, request)

    # --- public market events (no key, no budget) ------------------------------------

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
        request = MarketHistoryQuery(
            symbol,
            since=since,
            before=before,
            sort=sort,
            count=count,
            continuation_token=continuation_token,
        )
        return await self._session.execute(ops.MARKET_EXECUTIONS, request)

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
        """Every public trade of a contract in the window, page after page."""
        request = MarketHistoryQuery(symbol, since=since, before=before, sort=sort, count=count)
        return self._items(ops.MARKET_EXECUTIONS, request, max_pages)

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
        request = MarketHistoryQuery(
            symbol,
            since=since,
            before=before,
            sort=sort,
            count=count,
            continuation_token=continuation_token,
        )
        return await self._session.execute(ops.MARKET_ORDERS, request)

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
        """Every public order event of a contract in the window, page after page."""
        request = MarketHistoryQuery(symbol, since=since, before=before, sort=sort, count=count)
        return self._items(ops.MARKET_ORDERS, request, max_pages)

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
        request = MarketHistoryQuery(
            symbol,
            since=since,
            before=before,
            sort=sort,
            count=count,
            continuation_token=continuation_token,
        )
        return await self._session.execute(ops.MARKET_PRICES, request)

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
        """Every mark-price change of a contract in the window, page after page."""
        request = MarketHistoryQuery(symbol, since=since, before=before, sort=sort, count=count)
        return self._items(ops.MARKET_PRICES, request, max_pages)
