"""Placing, changing and cancelling orders, and reading open orders and fills."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from ..errors import KrakenFuturesError
from ..models import (
    BatchItemResult,
    CancelAllResult,
    CancelOrderResult,
    DeadManSwitchStatus,
    EditOrderResult,
    Fill,
    OpenOrder,
    OrderStatus,
    SendOrderResult,
)
from ..models.enums import OrderType, Side, TrailingStopDeviationUnit, TriggerSignal
from ..models.orders import FILLS_PAGE_SIZE
from ..operations import (
    NO_ARGUMENTS,
    BatchRequest,
    BatchSend,
    CancelAll,
    CancelAllAfter,
    CancelOrder,
    EditOrder,
    FillsQuery,
    Operation,
    OrderStatusQuery,
    OwnDeadline,
    SendOrder,
)
from ..operations import catalog as ops
from ..operations.checks import Number, check_aware, new_cli_ord_id
from ..paging import check_max_pages, follow
from ..safety import Reconciler, is_ambiguous
from ._base import Resource
from ._batch import BatchOrder

__all__ = ["BatchOrder", "OrdersResource", "new_cli_ord_id"]

_Order = TypeVar("_Order", SendOrder, EditOrder, CancelOrder)
_Result = TypeVar("_Result")


class OrdersResource(Resource):
    """``kf.orders``: placing, editing and cancelling orders, the dead man's switch, batches,
    order status, open orders and fills, with the library's order safety."""

    async def send(
        self,
        *,
        symbol: str,
        side: Side | str,
        size: Number,
        order_type: OrderType | str = OrderType.LIMIT,
        limit_price: Number | None = None,
        stop_price: Number | None = None,
        trigger_signal: TriggerSignal | str | None = None,
        reduce_only: bool | None = None,
        cli_ord_id: str | None = None,
        trailing_stop_max_deviation: Number | None = None,
        trailing_stop_deviation_unit: TrailingStopDeviationUnit | str | None = None,
        limit_price_offset_value: Number | None = None,
        limit_price_offset_unit: TrailingStopDeviationUnit | str | None = None,
        process_before: dt.datetime | None = None,
    ) -> SendOrderResult:
        """Place an order. A refused order raises :class:`OrderRejectedError` with the reason.

        Without ``cli_ord_id`` one is generated, so the order can always be looked up.
        """
        order = SendOrder(
            symbol=symbol,
            side=side,
            size=size,
            order_type=order_type,
            limit_price=limit_price,
            stop_price=stop_price,
            trigger_signal=trigger_signal,
            reduce_only=reduce_only,
            cli_ord_id=cli_ord_id,
            trailing_stop_max_deviation=trailing_stop_max_deviation,
            trailing_stop_deviation_unit=trailing_stop_deviation_unit,
            limit_price_offset_value=limit_price_offset_value,
            limit_price_offset_unit=limit_price_offset_unit,
            process_before=process_before if process_before is not None else self._own_deadline(),
        )
        await self._session.instrument_rules.check(order)
        # fills are searched back to here if the answer is lost
        started = self._session.server_now()
        reconciler = self._reconciler()
        return await self._submit(
            ops.SEND_ORDER,
            order,
            reconciler,
            lambda exc, resend: reconciler.resolve_send(order, exc, resend, since=started),
        )

    async def edit(
        self,
        *,
        order_id: str | None = None,
        cli_ord_id: str | None = None,
        size: Number | None = None,
        limit_price: Number | None = None,
        stop_price: Number | None = None,
        trailing_stop_max_deviation: Number | None = None,
        trailing_stop_deviation_unit: TrailingStopDeviationUnit | str | None = None,
        process_before: dt.datetime | None = None,
    ) -> EditOrderResult:
        """Change a resting order's size or prices, keeping its place where Kraken allows."""
        check_aware("process_before", process_before)
        edit = EditOrder(
            order_id=order_id,
            cli_ord_id=cli_ord_id,
            size=size,
            limit_price=limit_price,
            stop_price=stop_price,
            trailing_stop_max_deviation=trailing_stop_max_deviation,
            trailing_stop_deviation_unit=trailing_stop_deviation_unit,
            process_before=process_before if process_before is not None else self._own_deadline(),
        )
        reconciler = self._reconciler()
        return await self._submit(
            ops.EDIT_ORDER,
            edit,
            reconciler,
            lambda exc, resend: reconciler.resolve_edit(edit, exc, resend),
        )

    def _own_deadline(self) -> OwnDeadline | None:
        """The library's own ``processBefore`` for an order call, if order safety sets one."""
        window = self._session.order_safety.process_before
        return None if window is None else OwnDeadline(window)

    async def _submit(
        self,
        operation: Operation[_Order, _Result],
        request: _Order,
        reconciler: Reconciler,
        resolve: Callable[
            [KrakenFuturesError, Callable[[_Order], Awaitable[_Result]]], Awaitable[_Result]
        ],
    ) -> _Result:
        """Send an order-changing request; after an ambiguous failure, ``resolve`` finds out."""

        async def send(attempt: _Order) -> _Result:
            return await self._session.execute(operation, attempt)

        try:
            if isinstance(request, SendOrder | EditOrder):
                return await reconciler.send_in_time(request, send)
            return await send(request)
        except KrakenFuturesError as exc:
            if not is_ambiguous(exc):
                raise
            return await resolve(exc, send)

    def _reconciler(self) -> Reconciler:
        safety = self._session.order_safety
        return Reconciler(
            lookup=self._session.order_lookup,
            clock=self._session.server_now,
            patience=safety.patience,
            poll_interval=safety.poll_interval,
        )

    async def cancel(
        self,
        *,
        order_id: str | None = None,
        cli_ord_id: str | None = None,
        process_before: dt.datetime | None = None,
    ) -> CancelOrderResult:
        """Cancel one order by its id or client order id."""
        cancel = CancelOrder(
            order_id=order_id, cli_ord_id=cli_ord_id, process_before=process_before
        )
        reconciler = self._reconciler()
        return await self._submit(
            ops.CANCEL_ORDER,
            cancel,
            reconciler,
            lambda exc, resend: reconciler.resolve_cancel(cancel, exc, resend),
        )

    async def cancel_all(self, symbol: str | None = None) -> CancelAllResult:
        """Cancel every open order (triggers included), or those of one contract."""
        return await self._session.execute(ops.CANCEL_ALL_ORDERS, CancelAll(symbol))

    async def cancel_all_after(self, delay: int | dt.timedelta) -> DeadManSwitchStatus:
        """Arm (or with 0, disarm) the dead man's switch: cancel everything after ``delay``.

        ``delay`` is Kraken's ``timeout`` parameter, in whole seconds.
        """
        return await self._session.execute(ops.CANCEL_ALL_ORDERS_AFTER, CancelAllAfter(delay))

    async def open(self) -> list[OpenOrder]:
        """Resting orders and untriggered stops, newest first."""
        return await self._session.execute(ops.OPEN_ORDERS, NO_ARGUMENTS)

    async def fills(self, *, before: dt.datetime | None = None) -> list[Fill]:
        """The latest 100 fills, or the 100 before ``before`` (which costs 25 budget units)."""
        return await self._session.execute(ops.FILLS, FillsQuery(before))

    async def batch(
        self, batch: BatchOrder, *, process_before: dt.datetime | None = None
    ) -> list[BatchItemResult]:
        """Send, edit and cancel in one request (cost 9 + n); one result per instruction.

        A rejected instruction shows in its own result's ``status``; it does not raise.
        """
        request = BatchRequest(batch, process_before=process_before)
        for item in request.instructions:
            if isinstance(item, BatchSend):
                await self._session.instrument_rules.check(item.order)
        return await self._session.execute(ops.BATCH_ORDER, request)

    async def status(
        self, *, order_ids: list[str] | None = None, cli_ord_ids: list[str] | None = None
    ) -> list[OrderStatus]:
        """Open orders, and those closed in the last few seconds, by id or client id."""
        request = OrderStatusQuery(order_ids=order_ids or (), cli_ord_ids=cli_ord_ids or ())
        return await self._session.execute(ops.ORDER_STATUS, request)

    def iter_fills(
        self,
        *,
        before: dt.datetime | None = None,
        since: dt.datetime | None = None,
        max_pages: int | None = None,
    ) -> AsyncIterator[Fill]:
        """Fills newest first, paging back from the oldest fill of each page.

        Each page after the first costs 25 budget units (the first costs 2 unless ``before``
        is given). Iteration stops at the first fill older than ``since``, after a page of
        fewer than 100 fills, or after ``max_pages``. For long backfills the history API's
        ``iter_executions`` is cheaper.
        """
        for name, value in (("before", before), ("since", since)):
            check_aware(name, value)
        check_max_pages(max_pages)

        def next_before(page: list[Fill]) -> dt.datetime | None:
            if len(page) < FILLS_PAGE_SIZE:
                return None
            oldest = page[-1].fill_time
            return None if since is not None and oldest < since else oldest

        async def fills() -> AsyncIterator[Fill]:
            seen: set[str] = set()
            async for page in follow(
                lambda cursor: self.fills(before=cursor),
                next_before,
                first=before,
                max_pages=max_pages,
            ):
                for fill in page:
                    if since is not None and fill.fill_time < since:
                        return
                    if fill.fill_id not in seen:
                        seen.add(fill.fill_id)
                        yield fill

        return fills()
