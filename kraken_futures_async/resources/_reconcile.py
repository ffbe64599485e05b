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
from ..models import Fill, OrderRequestStatus, OrderStatus, SendOrderResult

__all__ = ["Reconciler", "is_ambiguous"]

logger = logging.getLogger("kraken_futures_async.reconcile")

_STATUS = endpoint("order_status")
_FILLS = endpoint("fills")
_SEND = endpoint("send_order")

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

    async def _lookup(self, cli_ord_id: str) -> OrderStatus | Fill | None:
        statuses: list[OrderStatus] = await self.backend.call(
            _STATUS, encode_params({"cliOrdIds": [cli_ord_id]})
        )
        for status in statuses:
            if status.order.cli_ord_id == cli_ord_id:
                return status
        fills: list[Fill] = await self.backend.call(_FILLS)
        return next((f for f in fills if f.cli_ord_id == cli_ord_id), None)

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
        raise OrderStatusUnknownError(
            f"could not establish within {self.deadline:g} s whether order {cli_ord_id!r} "
            "was placed; look it up by its client order id",
            cli_ord_id=cli_ord_id,
            endpoint=_SEND.name,
        )


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
