"""Order safety's lookup over REST: ``orders/status``, the fills, then the order history.

``orders/status`` shows open orders and those closed in the last few seconds; fills are
paged back by ``lastFillTime`` to the moment asked for; the history API is the exchange's own
record (an order placed and cancelled since, or refused) and the last word.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol, TypeVar

from ..models import Fill, OrderStatus
from ..models.history import OrderCancelled, OrderPlaced, OrderRejected, OrderUpdated
from ..models.orders import FILLS_PAGE_SIZE
from ..operations import FillsQuery, Operation, OrderStatusQuery
from ..operations import catalog as ops
from ..operations.history import OrderEventsQuery
from ..paging import continuation_pages
from ..safety.lookup import OrderRecord, OrderTrace

__all__ = ["RestOrderLookup"]

#: Pages of fills (25 budget units each after the first) searched for one order at most.
_MAX_FILL_PAGES = 20
#: Pages of order history (one history-budget token each) searched for one order at most.
_MAX_HISTORY_PAGES = 5
_MS = dt.timedelta(milliseconds=1)

_Req = TypeVar("_Req")
_Res = TypeVar("_Res")


class _Executes(Protocol):
    async def execute(self, operation: Operation[_Req, _Res], request: _Req) -> _Res: ...


class RestOrderLookup:
    """Finds orders with the REST operations of the backend it is given."""

    def __init__(self, backend: _Executes) -> None:
        self._backend = backend

    async def status(self, *, cli_ord_id: str | None, order_id: str | None) -> OrderStatus | None:
        query = (
            OrderStatusQuery(cli_ord_ids=[cli_ord_id])
            if cli_ord_id
            else OrderStatusQuery(order_ids=[order_id or ""])
        )
        for status in await self._backend.execute(ops.ORDER_STATUS, query):
            if (cli_ord_id and status.order.cli_ord_id == cli_ord_id) or (
                order_id and status.order.order_id == order_id
            ):
                return status
        return None

    async def trace(
        self, *, cli_ord_id: str | None, order_id: str | None, since: dt.datetime | None
    ) -> OrderTrace:
        status = await self.status(cli_ord_id=cli_ord_id, order_id=order_id)
        if status is not None:
            return OrderTrace(status, (), True)
        fills, complete = await self._fills(since)
        mine = tuple(
            fill
            for fill in fills
            if (cli_ord_id and fill.cli_ord_id == cli_ord_id)
            or (order_id and fill.order_id == order_id)
        )
        return OrderTrace(None, mine, complete)

    async def _fills(self, since: dt.datetime | None) -> tuple[list[Fill], bool]:
        """Fills newest first back to ``since`` (without it, the latest page), and whether
        they reach that far. Each further page asks for fills up to the oldest one seen
        (that millisecond included, duplicates dropped), so none is skipped."""
        page = await self._backend.execute(ops.FILLS, FillsQuery())
        fills = list(page)
        seen = {fill.fill_id for fill in page}
        for _ in range(_MAX_FILL_PAGES):
            if len(page) < FILLS_PAGE_SIZE:
                return fills, True
            oldest = min(fill.fill_time for fill in page)
            if since is None or oldest < since:
                return fills, since is not None
            page = await self._backend.execute(ops.FILLS, FillsQuery(oldest + _MS))
            new = [fill for fill in page if fill.fill_id not in seen]
            if not new:
                return fills, False  # a full page in one millisecond: cannot page past it
            seen.update(fill.fill_id for fill in new)
            fills.extend(new)
        return fills, False

    async def recorded(self, cli_ord_id: str, since: dt.datetime) -> OrderRecord | None:
        """The first order-history event of this client order id since ``since``, if any."""

        async def page(token: str | None) -> Any:
            query = OrderEventsQuery(since=since, sort="asc", continuation_token=token)
            return await self._backend.execute(ops.HISTORY_ORDERS, query)

        async for found in continuation_pages(page, max_pages=_MAX_HISTORY_PAGES):
            for entry in found.elements:
                event = entry.event
                if isinstance(event, OrderPlaced | OrderRejected | OrderCancelled):
                    if event.order.client_id == cli_ord_id:
                        return event
                elif isinstance(event, OrderUpdated) and event.new_order.client_id == cli_ord_id:
                    return event
        return None
