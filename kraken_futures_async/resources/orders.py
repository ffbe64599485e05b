"""Placing, changing and cancelling orders, and reading open orders and fills."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from ..errors import InvalidArgumentError, KrakenFuturesError
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
from ..rest.endpoints import Endpoint, endpoint
from ..rest.pagination import check_max_pages, follow
from ..rest.wire import encode_params
from ._base import Resource
from ._batch import BatchOrder, batch_json
from ._order_args import (
    Number,
    check_aware,
    check_cli_ord_id,
    check_one_id,
    check_symbol,
    edit_changes,
    new_cli_ord_id,
    send_order_params,
)
from ._reconcile import Reconciler, is_ambiguous

__all__ = ["BatchOrder", "OrdersResource", "new_cli_ord_id"]

#: Sends one attempt of an order-changing request.
Submit = Callable[[dict[str, Any]], Awaitable[Any]]

_SEND = endpoint("send_order")
_EDIT = endpoint("edit_order")
_CANCEL = endpoint("cancel_order")
_CANCEL_ALL = endpoint("cancel_all_orders")
_CANCEL_ALL_AFTER = endpoint("cancel_all_orders_after")
_OPEN = endpoint("open_orders")
_FILLS = endpoint("fills")
_BATCH = endpoint("batch_order")
_STATUS = endpoint("order_status")

#: Kraken's dead man's switch takes a uint32 number of seconds.
_MAX_TIMEOUT = 2**32 - 1


class OrdersResource(Resource):
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
        params = send_order_params(
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
            process_before=process_before,
        )
        await self._backend.instrument_rules.check(params)
        safety = self._backend.order_safety
        own_deadline = params["processBefore"] is None and safety.process_before is not None
        reconciler = self._reconciler()
        # fills are searched back to here if the answer is lost
        started = self._backend.server_now()
        if own_deadline:
            params["processBefore"] = reconciler.fresh_deadline()

        result: SendOrderResult = await self._submit(
            _SEND,
            params,
            reconciler,
            own_deadline,
            lambda exc, submit: reconciler.resolve_send(
                params, exc, submit, own_deadline=own_deadline, since=started
            ),
        )
        return result

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
        check_one_id(order_id, cli_ord_id)
        changes = edit_changes(
            size=size,
            limit_price=limit_price,
            stop_price=stop_price,
            trailing_stop_max_deviation=trailing_stop_max_deviation,
            trailing_stop_deviation_unit=trailing_stop_deviation_unit,
        )
        check_aware("process_before", process_before)
        reconciler = self._reconciler()
        own_deadline = process_before is None and reconciler.process_before_window is not None
        params = {
            "orderId": order_id,
            "cliOrdId": cli_ord_id,
            **changes,
            "processBefore": reconciler.fresh_deadline() if own_deadline else process_before,
        }

        result: EditOrderResult = await self._submit(
            _EDIT,
            params,
            reconciler,
            own_deadline,
            lambda exc, submit: reconciler.resolve_edit(
                params, exc, submit, own_deadline=own_deadline
            ),
        )
        return result

    async def _submit(
        self,
        row: Endpoint,
        params: dict[str, Any],
        reconciler: Reconciler,
        own_deadline: bool,
        resolve: Callable[[KrakenFuturesError, Submit], Awaitable[Any]],
    ) -> Any:
        """Send an order-changing request; after an ambiguous failure, ``resolve`` finds out."""

        async def submit(attempt: dict[str, Any]) -> Any:
            return await self._backend.call(
                row, reconciler.wire(attempt, own_deadline=own_deadline)
            )

        try:
            return await reconciler.send_in_time(params, submit, own_deadline=own_deadline)
        except KrakenFuturesError as exc:
            if not is_ambiguous(exc):
                raise
            return await resolve(exc, submit)

    def _reconciler(self) -> Reconciler:
        safety = self._backend.order_safety
        return Reconciler(
            backend=self._backend,
            deadline=safety.deadline,
            poll_interval=safety.poll_interval,
            process_before_window=safety.process_before,
        )

    async def cancel(
        self,
        *,
        order_id: str | None = None,
        cli_ord_id: str | None = None,
        process_before: dt.datetime | None = None,
    ) -> CancelOrderResult:
        """Cancel one order by its id or client order id."""
        check_one_id(order_id, cli_ord_id)
        check_aware("process_before", process_before)
        params = {"order_id": order_id, "cliOrdId": cli_ord_id, "processBefore": process_before}
        try:
            return await self._cancel(params)
        except KrakenFuturesError as exc:
            if not is_ambiguous(exc):
                raise
            return await self._reconciler().resolve_cancel(params, exc, self._cancel)

    async def _cancel(self, params: dict[str, Any]) -> CancelOrderResult:
        result: CancelOrderResult = await self._backend.call(_CANCEL, encode_params(params))
        return result

    async def cancel_all(self, symbol: str | None = None) -> CancelAllResult:
        """Cancel every open order (triggers included), or those of one contract."""
        params = {"symbol": None if symbol is None else check_symbol(symbol)}
        result: CancelAllResult = await self._backend.call(_CANCEL_ALL, encode_params(params))
        return result

    async def cancel_all_after(self, delay: int | dt.timedelta) -> DeadManSwitchStatus:
        """Arm (or with 0, disarm) the dead man's switch: cancel everything after ``delay``.

        ``delay`` is Kraken's ``timeout`` parameter, in whole seconds.
        """
        seconds = int(delay.total_seconds()) if isinstance(delay, dt.timedelta) else delay
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int)
            or not (0 <= seconds <= _MAX_TIMEOUT)
        ):
            raise InvalidArgumentError(f"delay must be 0 to {_MAX_TIMEOUT} seconds")
        result: DeadManSwitchStatus = await self._backend.call(
            _CANCEL_ALL_AFTER, encode_params({"timeout": seconds})
        )
        return result

    async def open(self) -> list[OpenOrder]:
        """Resting orders and untriggered stops, newest first."""
        result: list[OpenOrder] = await self._backend.call(_OPEN)
        return result

    async def fills(self, *, before: dt.datetime | None = None) -> list[Fill]:
        """The latest 100 fills, or the 100 before ``before`` (which costs 25 budget units)."""
        check_aware("before", before)
        result: list[Fill] = await self._backend.call(
            _FILLS, encode_params({"lastFillTime": before})
        )
        return result

    async def batch(
        self, batch: BatchOrder, *, process_before: dt.datetime | None = None
    ) -> list[BatchItemResult]:
        """Send, edit and cancel in one request (cost 9 + n); one result per instruction.

        A rejected instruction shows in its own result's ``status``; it does not raise.
        """
        if not len(batch):
            raise InvalidArgumentError("the batch is empty")
        check_aware("process_before", process_before)
        for item in batch:
            if item["order"] == "send":
                await self._backend.instrument_rules.check(item)
        params = encode_params({"json": batch_json(list(batch)), "processBefore": process_before})
        result: list[BatchItemResult] = await self._backend.call(_BATCH, params)
        return result

    async def status(
        self, *, order_ids: list[str] | None = None, cli_ord_ids: list[str] | None = None
    ) -> list[OrderStatus]:
        """Open orders, and those closed in the last few seconds, by id or client id."""
        ids, cli_ids = list(order_ids or ()), list(cli_ord_ids or ())
        if not ids and not cli_ids:
            raise InvalidArgumentError("give at least one order id or client order id")
        for cli in cli_ids:
            check_cli_ord_id(cli)
        if any(not isinstance(i, str) or not i for i in ids):
            raise InvalidArgumentError("order ids must be non-empty strings")
        params = encode_params({"orderIds": ids, "cliOrdIds": cli_ids})
        result: list[OrderStatus] = await self._backend.call(_STATUS, params)
        return result

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
