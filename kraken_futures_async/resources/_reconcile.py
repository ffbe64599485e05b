"""After an ambiguous failure, find out what really happened to an order before doing more.

A timeout, a dropped connection, a 5xx or a garbled answer after an order request does NOT
mean the order was refused: it may be on the book. Sending it again could double a position.
So the order is looked up by its client order id (``orders/status``, then fills) until the
truth is known; it is re-sent only once the lookups have proven that the first attempt cannot
have been executed: its ``processBefore`` deadline has passed on the exchange's clock and no
trace of it exists. When the truth cannot be established before ``deadline`` seconds, the
caller gets :class:`OrderStatusUnknownError` carrying the client order id.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import attrs

from .._pipeline import Backend
from .._wire import encode_params
from ..endpoints import endpoint
from ..errors import (
    ConnectionFailedError,
    KrakenFuturesError,
    OrderRejectedError,
    OrderStatusUnknownError,
    RequestTimeoutError,
    ResponseInvalidError,
    TransportError,
    UnavailableError,
)
from ..models import (
    CancelOrderResult,
    EditOrderResult,
    Fill,
    OrderRequestStatus,
    OrderStatus,
    SendOrderResult,
)

__all__ = ["Reconciler", "is_ambiguous"]

logger = logging.getLogger("kraken_futures_async.reconcile")

_STATUS = endpoint("order_status")
_FILLS = endpoint("fills")
_SEND = endpoint("send_order")
_EDIT = endpoint("edit_order")
_CANCEL = endpoint("cancel_order")

#: orders/status states that prove the order reached the book.
_ON_BOOK = {"ENTERED_BOOK", "TRIGGER_PLACED", "CANCELLED"}
_EXECUTED = {"FULLY_EXECUTED"}
_REFUSED = {"REJECTED", "TRIGGER_ACTIVATION_FAILURE"}


def is_ambiguous(error: BaseException) -> bool:
    """True when the exchange may or may not have acted on the request."""
    if isinstance(error, ConnectionFailedError):
        return False  # nothing was sent
    return isinstance(
        error, RequestTimeoutError | TransportError | UnavailableError | ResponseInvalidError
    )


@attrs.frozen(kw_only=True)
class Reconciler:
    """Looks orders up by client order id within the rate limits."""

    backend: Backend
    #: Seconds to keep looking before giving up with OrderStatusUnknownError.
    deadline: float = 60.0
    #: Seconds between lookups.
    poll_interval: float = 1.0
    #: Seconds of ``processBefore`` a re-sent order gets (None: never re-send).
    process_before_window: float | None = 10.0

    def _fresh_deadline(self) -> dt.datetime:
        window = self.process_before_window or 0.0
        return self.backend.server_now() + dt.timedelta(seconds=window)

    async def _lookup(
        self, cli_ord_id: str | None, order_id: str | None = None
    ) -> OrderStatus | Fill | None:
        """The order's state by either id: ``orders/status`` first, then the latest fills."""
        query = {"cliOrdIds": [cli_ord_id]} if cli_ord_id else {"orderIds": [order_id]}
        statuses: list[OrderStatus] = await self.backend.call(_STATUS, encode_params(query))
        for status in statuses:
            if (cli_ord_id and status.order.cli_ord_id == cli_ord_id) or (
                order_id and status.order.order_id == order_id
            ):
                return status
        fills: list[Fill] = await self.backend.call(_FILLS)
        return next(
            (
                f
                for f in fills
                if (cli_ord_id and f.cli_ord_id == cli_ord_id)
                or (order_id and f.order_id == order_id)
            ),
            None,
        )

    def _unknown(
        self, what: str, cli_ord_id: str | None, endpoint_name: str
    ) -> OrderStatusUnknownError:
        return OrderStatusUnknownError(
            f"could not establish within {self.deadline:g} s whether {what}; "
            "look the order up by its client order id",
            cli_ord_id=cli_ord_id,
            endpoint=endpoint_name,
        )

    async def resolve_cancel(
        self,
        params: dict[str, Any],
        first_error: KrakenFuturesError,
        resend: Callable[[dict[str, Any]], Awaitable[CancelOrderResult]],
    ) -> CancelOrderResult:
        """The truth about a ``cancelorder`` whose answer was lost.

        Cancelling twice cannot do harm, so the cancel is sent again; a ``notFound`` or
        ``filled`` answer to the repeat is checked against the order's state, because the
        first attempt may have been the one that cancelled it.
        """
        order_id, cli_ord_id = params.get("order_id"), params.get("cliOrdId")
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + self.deadline
        logger.info("cancel of %s: answer lost (%s)", order_id or cli_ord_id, first_error)
        while loop.time() < give_up_at:
            try:
                return await resend(params)
            except OrderRejectedError as refusal:
                try:
                    found = await self._lookup(cli_ord_id, order_id)
                except KrakenFuturesError:
                    found = None
                if isinstance(found, OrderStatus) and found.status == "CANCELLED":
                    return CancelOrderResult(
                        status=OrderRequestStatus.CANCELLED,
                        order_id=found.order.order_id,
                        cli_ord_id=found.order.cli_ord_id,
                        received_time=found.order.last_update_timestamp,
                    )
                raise refusal
            except KrakenFuturesError as exc:
                if not is_ambiguous(exc) and not exc.retry_safe:
                    raise
                logger.debug("cancel of %s: lost again (%s)", order_id or cli_ord_id, exc)
            await asyncio.sleep(self.poll_interval)
        raise self._unknown("the cancel went through", cli_ord_id, _CANCEL.name)

    async def resolve_edit(
        self,
        params: dict[str, Any],
        first_error: KrakenFuturesError,
        resend: Callable[[dict[str, Any]], Awaitable[EditOrderResult]],
    ) -> EditOrderResult:
        """The truth about an ``editorder`` whose answer was lost.

        An edit is not safe to repeat blindly (a fill in between changes what a size means),
        so the order is looked up first: if it already shows the requested prices and size
        the edit went through; if it is still as before, the edit is sent again.
        """
        order_id, cli_ord_id = params.get("orderId"), params.get("cliOrdId")
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + self.deadline
        logger.info("edit of %s: answer lost (%s)", order_id or cli_ord_id, first_error)
        while loop.time() < give_up_at:
            try:
                found = await self._lookup(cli_ord_id, order_id)
            except KrakenFuturesError as exc:
                logger.debug("edit of %s: lookup failed: %s", order_id or cli_ord_id, exc)
            else:
                if not isinstance(found, OrderStatus) or found.status not in (
                    "ENTERED_BOOK",
                    "TRIGGER_PLACED",
                ):
                    result = EditOrderResult(status=OrderRequestStatus.ORDER_FOR_EDIT_NOT_FOUND)
                    raise OrderRejectedError(
                        "the order is no longer open, so the edit cannot be confirmed",
                        status=OrderRequestStatus.ORDER_FOR_EDIT_NOT_FOUND.value,
                        result=result,
                        order_id=order_id,
                        cli_ord_id=cli_ord_id,
                        endpoint=_EDIT.name,
                    )
                if _shows_edit(found, params):
                    return EditOrderResult(
                        status=OrderRequestStatus.EDITED,
                        order_id=found.order.order_id,
                        cli_ord_id=found.order.cli_ord_id,
                        received_time=found.order.last_update_timestamp,
                    )
                try:
                    return await resend(params)
                except KrakenFuturesError as exc:
                    if not is_ambiguous(exc):
                        raise
                    logger.debug("edit of %s: lost again (%s)", order_id or cli_ord_id, exc)
            await asyncio.sleep(self.poll_interval)
        raise self._unknown("the edit went through", cli_ord_id, _EDIT.name)

    async def resolve_send(
        self,
        params: dict[str, Any],
        first_error: KrakenFuturesError,
        resend: Callable[[dict[str, Any]], Awaitable[SendOrderResult]],
    ) -> SendOrderResult:
        """The truth about a ``sendorder`` whose answer was lost."""
        cli_ord_id = str(params["cliOrdId"])
        process_before: dt.datetime | None = params.get("processBefore")
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + self.deadline
        logger.info("order %s: answer lost (%s); looking it up", cli_ord_id, first_error)
        while loop.time() < give_up_at:
            # The lookup must start after the deadline passed for "no trace" to prove anything.
            looked_at = self.backend.server_now()
            try:
                found = await self._lookup(cli_ord_id)
            except KrakenFuturesError as exc:
                logger.debug("order %s: lookup failed: %s", cli_ord_id, exc)
            else:
                if found is not None:
                    logger.info("order %s: found on the exchange", cli_ord_id)
                    return _result_from(found, cli_ord_id)
                if (
                    self.process_before_window is not None
                    and process_before is not None
                    and looked_at > process_before
                ):
                    # No trace, and the exchange refuses the earlier attempt by now: it never
                    # executed. Send it again under a new deadline.
                    logger.info("order %s: never reached the book; sending it again", cli_ord_id)
                    process_before = self._fresh_deadline()
                    params["processBefore"] = process_before
                    try:
                        return await resend(params)
                    except KrakenFuturesError as exc:
                        if not is_ambiguous(exc):
                            raise
                        logger.info("order %s: answer lost again (%s)", cli_ord_id, exc)
            await asyncio.sleep(self.poll_interval)
        raise self._unknown(f"order {cli_ord_id!r} was placed", cli_ord_id, _SEND.name)


def _shows_edit(found: OrderStatus, params: dict[str, Any]) -> bool:
    """Whether the order already carries every value the edit asked for."""
    order = found.order
    size, limit_price = params.get("size"), params.get("limitPrice")
    stop_price = params.get("stopPrice")
    if limit_price is not None and order.limit_price != limit_price:
        return False
    if stop_price is not None and (
        order.price_trigger_options is None
        or order.price_trigger_options.trigger_price != stop_price
    ):
        return False
    if size is not None:
        quantity, filled = order.quantity or Decimal(0), order.filled or Decimal(0)
        return size in (quantity, quantity - filled)
    return True


def _result_from(found: OrderStatus | Fill, cli_ord_id: str) -> SendOrderResult:
    if isinstance(found, Fill):
        return SendOrderResult(
            status=OrderRequestStatus.FILLED,
            order_id=found.order_id,
            cli_ord_id=cli_ord_id,
            received_time=found.fill_time,
        )
    state = found.status
    if state in _REFUSED:
        result = SendOrderResult(
            status=OrderRequestStatus.UNKNOWN,
            order_id=found.order.order_id,
            cli_ord_id=cli_ord_id,
            received_time=found.order.timestamp,
        )
        raise OrderRejectedError(
            f"order request refused ({found.error or state})",
            status=str(found.error or state),
            result=result,
            order_id=found.order.order_id,
            cli_ord_id=cli_ord_id,
            endpoint=_SEND.name,
        )
    filled = found.order.filled or Decimal(0)
    if state in _EXECUTED:
        status = OrderRequestStatus.FILLED
    elif filled > 0:
        status = OrderRequestStatus.PARTIALLY_FILLED
    else:
        status = OrderRequestStatus.PLACED
    return SendOrderResult(
        status=status,
        order_id=found.order.order_id,
        cli_ord_id=cli_ord_id,
        received_time=found.order.timestamp,
    )
