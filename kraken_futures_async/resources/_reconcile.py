"""After an ambiguous failure, find out what really happened to an order before doing more.

A timeout, a dropped connection, a 5xx or a garbled answer after an order request does NOT
mean the order was refused: it may be on the book. Sending it again could double a position.
So the order is looked up by its client order id (``orders/status``, then the fills since it
was sent) until the truth is known. It is re-sent only once the lookups have proven that no
earlier attempt can have been executed: the ``processBefore`` of every attempt has passed on
the exchange's clock, the order is not open, and no fill of it exists since it was first sent.
When the truth cannot be established before ``deadline`` seconds, the caller gets
:class:`OrderStatusUnknownError` carrying the client order id.

A deadline the caller chose is never moved: an order proven to have missed it is reported as
refused (``wouldProcessAfterSpecifiedTime``), because sending it later is what the caller
asked the exchange to prevent.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar

import attrs

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
from ..models.history import OrderCancelled, OrderPlaced, OrderRejected, OrderUpdated
from ..models.orders import FILLS_PAGE_SIZE
from ..rest.endpoints import endpoint
from ..rest.pipeline import Backend
from ..rest.wire import encode_params
from .history import HistoryResource

__all__ = ["LATE", "OwnDeadlineParams", "Reconciler", "is_ambiguous"]

logger = logging.getLogger("kraken_futures_async.reconcile")

_STATUS = endpoint("order_status")
_FILLS = endpoint("fills")
_SEND = endpoint("send_order")
_EDIT = endpoint("edit_order")
_CANCEL = endpoint("cancel_order")

#: The refusal of a request that arrived after its ``processBefore``.
LATE = OrderRequestStatus.WOULD_PROCESS_AFTER_SPECIFIED_TIME.value

_EXECUTED = {"FULLY_EXECUTED"}
_REFUSED = {"REJECTED", "TRIGGER_ACTIVATION_FAILURE"}

#: Pages of fills (25 budget units each after the first) searched for one order at most.
_MAX_FILL_PAGES = 20
#: Pages of order history (one history-budget token each) searched for one order at most.
_MAX_HISTORY_PAGES = 5
#: Seconds the order history may take (its budget may be spent) before it is skipped.
_HISTORY_PATIENCE = 2.0
#: Searched fills start this much before the first attempt, for clock-estimate error.
_SLACK = dt.timedelta(seconds=1)
_MS = dt.timedelta(milliseconds=1)

#: ``orders/status.error`` (OrderError) spelled as ``sendStatus.status`` spells the refusal, so
#: a refusal found by lookup reads the same as one the exchange answered directly.
_REFUSAL_STATUS = {
    "MARKET_SUSPENDED": OrderRequestStatus.MARKET_SUSPENDED,
    "MARKET_NOT_FOUND": OrderRequestStatus.MARKET_INACTIVE,
    "INVALID_PRICE": OrderRequestStatus.INVALID_PRICE,
    "INVALID_QUANTITY": OrderRequestStatus.INVALID_SIZE,
    "SMALL_ORDER_LIMIT_EXCEEDED": OrderRequestStatus.TOO_MANY_SMALL_ORDERS,
    "INSUFFICIENT_MARGIN": OrderRequestStatus.INSUFFICIENT_AVAILABLE_FUNDS,
    "WOULD_CAUSE_LIQUIDATION": OrderRequestStatus.WOULD_CAUSE_LIQUIDATION,
    "CLIENT_ORDER_ID_IN_USE": OrderRequestStatus.CLIENT_ORDER_ID_ALREADY_EXIST,
    "CLIENT_ORDER_ID_TOO_LONG": OrderRequestStatus.CLIENT_ORDER_ID_TOO_LONG,
    "MAX_POSITION_EXCEEDED": OrderRequestStatus.MAX_POSITION_VIOLATION,
    "PRICE_COLLAR": OrderRequestStatus.OUTSIDE_PRICE_COLLAR,
    "PRICE_DISLOCATION": OrderRequestStatus.WOULD_INCREASE_PRICE_DISLOCATION,
    "POST_WOULD_EXECUTE": OrderRequestStatus.POST_WOULD_EXECUTE,
    "IOC_WOULD_NOT_EXECUTE": OrderRequestStatus.IOC_WOULD_NOT_EXECUTE,
    "WOULD_EXECUTE_SELF": OrderRequestStatus.SELF_FILL,
    "WOULD_NOT_REDUCE_POSITION": OrderRequestStatus.WOULD_NOT_REDUCE_POSITION,
    "MARKET_IS_POST_ONLY": OrderRequestStatus.MARKET_IS_POST_ONLY,
    "ORDER_LIMIT_EXCEEDED": OrderRequestStatus.TOO_MANY_ORDERS,
    "FIXED_LEVERAGE_TOO_HIGH": OrderRequestStatus.FIXED_LEVERAGE_TOO_HIGH,
}

_T = TypeVar("_T")

#: Attempts an order request gets when the library's own ``processBefore`` is missed: each
#: refusal is final and harmless, but one that keeps coming means the window is too short
#: for the queue in front of it (``OrderSafety.process_before``), and the caller should know.
_LATE_ATTEMPTS = 3


def is_ambiguous(error: BaseException) -> bool:
    """True when the exchange may or may not have acted on the request.

    A call's deadline passing after the request left the rate limiter is ambiguous like any
    timeout; passing while it still waited there (``sent`` False) proves nothing was sent.
    """
    if isinstance(error, ConnectionFailedError):
        return False  # nothing was sent
    if isinstance(error, RequestTimeoutError) and not error.sent:
        return False
    return isinstance(
        error, RequestTimeoutError | TransportError | UnavailableError | ResponseInvalidError
    )


@attrs.frozen
class _Trace:
    """What the exchange shows of one order: its state, its fills, and whether that is all."""

    status: OrderStatus | None
    fills: tuple[Fill, ...]
    #: The fills searched reach back to the first attempt, so "no fill" means none exists.
    complete: bool

    @property
    def found(self) -> bool:
        return self.status is not None or bool(self.fills)


def _late(what: str, cli_ord_id: str | None, order_id: str | None, endpoint_name: str) -> Any:
    return OrderRejectedError(
        f"{what} missed its processBefore and was not executed; it is not sent again",
        status=LATE,
        order_id=order_id,
        cli_ord_id=cli_ord_id,
        endpoint=endpoint_name,
    )


class OwnDeadlineParams(list[tuple[str, str]]):
    """Wire parameters whose ``processBefore`` is set at the moment the request leaves.

    The pipeline calls :meth:`stamp_before_sending` once the rate-limit budget admits the
    request, so time spent queueing never eats into the library's own window; the dict it
    was built from then holds the deadline actually sent, for the reconciler to reason with.
    """

    def __init__(self, params: dict[str, Any], deadline: Callable[[], dt.datetime]) -> None:
        super().__init__(encode_params(params))
        self._params = params
        self._deadline = deadline

    def stamp_before_sending(self) -> None:
        self._params["processBefore"] = self._deadline()
        self[:] = encode_params(self._params)


@attrs.frozen
class _Again:
    """Not settled yet: look again after ``seconds``."""

    seconds: float


_R = TypeVar("_R")


@attrs.frozen(kw_only=True)
class Reconciler:
    """Looks orders up by client order id within the rate limits."""

    backend: Backend
    #: Seconds to keep looking before giving up with OrderStatusUnknownError.
    deadline: float = 60.0
    #: Seconds between lookups.
    poll_interval: float = 1.0
    #: Seconds of ``processBefore`` the library's own deadlines get (None: none are set).
    process_before_window: float | None = 10.0

    def fresh_deadline(self) -> dt.datetime:
        window = self.process_before_window or 0.0
        return self.backend.server_now() + dt.timedelta(seconds=window)

    def wire(self, params: dict[str, Any], *, own_deadline: bool) -> list[tuple[str, str]]:
        """The request's wire parameters; the library's own deadline is stamped on sending."""
        if own_deadline:
            return OwnDeadlineParams(params, self.fresh_deadline)
        return encode_params(params)

    async def send_in_time(
        self,
        params: dict[str, Any],
        send: Callable[[dict[str, Any]], Awaitable[_T]],
        *,
        own_deadline: bool,
    ) -> _T:
        """Send; if the library's own ``processBefore`` was missed, send again under a new one.

        That refusal is final and proves the attempt did nothing: the request waited too long
        on this side (rate-limit queue, backoff) or the clocks disagreed. A caller's own
        deadline is never moved.
        """
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + self.deadline
        attempts = 1
        while True:
            try:
                return await send(params)
            except OrderRejectedError as exc:
                spent = attempts >= _LATE_ATTEMPTS or loop.time() >= give_up_at
                if not own_deadline or exc.status != LATE or spent:
                    raise
                logger.info(
                    "%s: refused for missing the library's own processBefore "
                    "(queued longer than %g s?); sending again under a new one",
                    params.get("cliOrdId") or params.get("orderId") or params.get("order_id"),
                    self.process_before_window,
                )
                params["processBefore"] = self.fresh_deadline()
                attempts += 1

    async def _status(self, cli_ord_id: str | None, order_id: str | None) -> OrderStatus | None:
        query = {"cliOrdIds": [cli_ord_id]} if cli_ord_id else {"orderIds": [order_id]}
        statuses: list[OrderStatus] = await self.backend.call(_STATUS, encode_params(query))
        for status in statuses:
            if (cli_ord_id and status.order.cli_ord_id == cli_ord_id) or (
                order_id and status.order.order_id == order_id
            ):
                return status
        return None

    async def _fills(self, since: dt.datetime | None) -> tuple[list[Fill], bool]:
        """Fills newest first back to ``since`` (without it, the latest page), and whether
        they reach that far. Each further page asks for fills up to the oldest one seen
        (that millisecond included, duplicates dropped), so none is skipped."""
        page: list[Fill] = await self.backend.call(_FILLS)
        fills = list(page)
        seen = {fill.fill_id for fill in page}
        for _ in range(_MAX_FILL_PAGES):
            if len(page) < FILLS_PAGE_SIZE:
                return fills, True
            oldest = min(fill.fill_time for fill in page)
            if since is None or oldest < since:
                return fills, since is not None
            page = await self.backend.call(_FILLS, encode_params({"lastFillTime": oldest + _MS}))
            new = [fill for fill in page if fill.fill_id not in seen]
            if not new:
                return fills, False  # a full page in one millisecond: cannot page past it
            seen.update(fill.fill_id for fill in new)
            fills.extend(new)
        return fills, False

    async def _trace(
        self, cli_ord_id: str | None, order_id: str | None, since: dt.datetime | None
    ) -> _Trace:
        """The order's state by either id: ``orders/status`` first, then its fills."""
        status = await self._status(cli_ord_id, order_id)
        if status is not None:
            return _Trace(status, (), True)
        fills, complete = await self._fills(since)
        mine = tuple(
            fill
            for fill in fills
            if (cli_ord_id and fill.cli_ord_id == cli_ord_id)
            or (order_id and fill.order_id == order_id)
        )
        return _Trace(None, mine, complete)

    async def _recorded(self, cli_ord_id: str, since: dt.datetime) -> Any:
        """The first order-history event of this client order id since ``since``, if any.

        The history API is the exchange's own record: it remembers an order that was placed
        and cancelled (no longer in ``orders/status``, no fills), or refused.
        """
        history = HistoryResource(self.backend)
        entries = history.iter_orders(since=since, sort="asc", max_pages=_MAX_HISTORY_PAGES)
        async for entry in entries:
            event = entry.event
            if isinstance(event, OrderPlaced | OrderRejected | OrderCancelled):
                if event.order.client_id == cli_ord_id:
                    return event
            elif isinstance(event, OrderUpdated) and event.new_order.client_id == cli_ord_id:
                return event
        return None

    def _unknown(
        self, what: str, cli_ord_id: str | None, endpoint_name: str
    ) -> OrderStatusUnknownError:
        return OrderStatusUnknownError(
            f"could not establish within {self.deadline:g} s whether {what}; "
            "look the order up by its client order id",
            cli_ord_id=cli_ord_id,
            endpoint=endpoint_name,
        )

    async def _settle(
        self,
        look: Callable[[], Awaitable[_R | _Again]],
        question: str,
        cli_ord_id: str | None,
        endpoint_name: str,
    ) -> _R:
        """Ask ``look`` until it settles ``question`` or ``deadline`` seconds have passed.

        Each look returns the truth, raises what the caller must see, or says how long to
        wait before looking again; the wait never runs past the end of the patience.
        """
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + self.deadline
        while loop.time() < give_up_at:
            outcome = await look()
            if not isinstance(outcome, _Again):
                return outcome
            await asyncio.sleep(min(outcome.seconds, max(0.0, give_up_at - loop.time())))
        raise self._unknown(question, cli_ord_id, endpoint_name)

    async def resolve_cancel(
        self,
        params: dict[str, Any],
        first_error: KrakenFuturesError,
        resend: Callable[[dict[str, Any]], Awaitable[CancelOrderResult]],
    ) -> CancelOrderResult:
        """The truth about a ``cancelorder`` whose answer was lost.

        Cancelling twice cannot do harm, so the cancel is sent again; a ``notFound`` or
        ``filled`` answer to the repeat is checked against the order's state, because the
        first attempt may have been the one that cancelled it. ``notFound`` means neither
        open nor filled: with the order forgotten by ``orders/status`` (it shows closed
        orders for a few seconds only), the lost attempt is taken to have cancelled it.
        """
        order_id, cli_ord_id = params.get("order_id"), params.get("cliOrdId")
        label = order_id or cli_ord_id
        logger.info("cancel of %s: answer lost (%s); sending it again", label, first_error)

        async def attempt() -> CancelOrderResult | _Again:
            try:
                result = await resend(params)
            except OrderRejectedError as refusal:
                try:
                    found = await self._status(cli_ord_id, order_id)
                except KrakenFuturesError:
                    found = None
                if found is not None and found.status == "CANCELLED":
                    logger.info("cancel of %s: the lost attempt cancelled it", label)
                    return CancelOrderResult(
                        status=OrderRequestStatus.CANCELLED,
                        order_id=found.order.order_id,
                        cli_ord_id=found.order.cli_ord_id,
                        received_time=found.order.last_update_timestamp,
                    )
                if found is None and refusal.status == OrderRequestStatus.NOT_FOUND.value:
                    logger.info("cancel of %s: no longer open nor filled: cancelled", label)
                    return CancelOrderResult(
                        status=OrderRequestStatus.CANCELLED,
                        order_id=order_id,
                        cli_ord_id=cli_ord_id,
                    )
                raise refusal
            except KrakenFuturesError as exc:
                if not is_ambiguous(exc) and not exc.retry_safe:
                    raise
                logger.info("cancel of %s: answer lost again (%s)", label, exc)
                return _Again(self.poll_interval)
            logger.info("cancel of %s: confirmed", label)
            return result

        return await self._settle(attempt, "the cancel went through", cli_ord_id, _CANCEL.name)

    async def resolve_edit(
        self,
        params: dict[str, Any],
        first_error: KrakenFuturesError,
        resend: Callable[[dict[str, Any]], Awaitable[EditOrderResult]],
        *,
        own_deadline: bool = True,
    ) -> EditOrderResult:
        """The truth about an ``editorder`` whose answer was lost.

        An edit is not safe to repeat blindly (a fill in between changes what a size means),
        so the order is looked up first: if it shows the requested prices and size the edit
        went through. If it is still as before, the edit is sent again once its
        ``processBefore`` has passed (so the lost attempt can no longer land); without a
        deadline at once.
        """
        order_id, cli_ord_id = params.get("orderId"), params.get("cliOrdId")
        label = order_id or cli_ord_id
        logger.info("edit of %s: answer lost (%s); looking the order up", label, first_error)

        async def look() -> EditOrderResult | _Again:
            looked_at = self.backend.server_now()
            try:
                found = await self._status(cli_ord_id, order_id)
            except KrakenFuturesError as exc:
                logger.debug("edit of %s: lookup failed: %s", label, exc)
            else:
                if found is not None and _shows_edit(found, params):
                    logger.info("edit of %s: found applied", label)
                    return EditOrderResult(
                        status=OrderRequestStatus.EDITED,
                        order_id=found.order.order_id,
                        cli_ord_id=found.order.cli_ord_id,
                        received_time=found.order.last_update_timestamp,
                    )
                if found is None or not found.is_open:
                    logger.info("edit of %s: the order is no longer open", label)
                    raise OrderRejectedError(
                        "the order is no longer open, so the edit cannot apply",
                        status=OrderRequestStatus.ORDER_FOR_EDIT_NOT_FOUND.value,
                        result=EditOrderResult(status=OrderRequestStatus.ORDER_FOR_EDIT_NOT_FOUND),
                        order_id=order_id,
                        cli_ord_id=cli_ord_id,
                        endpoint=_EDIT.name,
                    )
                deadline: dt.datetime | None = params.get("processBefore")
                if deadline is None or looked_at > deadline:
                    if deadline is not None and not own_deadline:
                        raise _late("the edit", cli_ord_id, order_id, _EDIT.name)
                    logger.info("edit of %s: not applied; sending it again", label)
                    if deadline is not None:
                        params["processBefore"] = self.fresh_deadline()
                    try:
                        return await self.send_in_time(params, resend, own_deadline=own_deadline)
                    except KrakenFuturesError as exc:
                        if not is_ambiguous(exc):
                            raise
                        logger.info("edit of %s: answer lost again (%s)", label, exc)
            return _Again(self.poll_interval)

        return await self._settle(look, "the edit went through", cli_ord_id, _EDIT.name)

    async def resolve_send(
        self,
        params: dict[str, Any],
        first_error: KrakenFuturesError,
        resend: Callable[[dict[str, Any]], Awaitable[SendOrderResult]],
        *,
        own_deadline: bool = True,
        since: dt.datetime | None = None,
    ) -> SendOrderResult:
        """The truth about a ``sendorder`` whose answer was lost.

        ``since`` is the exchange time before the first attempt: fills are searched back to
        it, so an executed order is found however many fills came after it. Without it,
        only the latest page of fills is searched and the order is never sent again.
        """
        cli_ord_id = str(params["cliOrdId"])
        search_from = None if since is None else since - _SLACK
        logger.info("order %s: answer lost (%s); looking it up", cli_ord_id, first_error)

        async def look() -> SendOrderResult | _Again:
            # The lookup must start after the deadline passed for "no trace" to prove anything.
            looked_at = self.backend.server_now()
            deadline: dt.datetime | None = params.get("processBefore")
            wait = self.poll_interval
            try:
                trace = await self._trace(cli_ord_id, None, search_from)
            except KrakenFuturesError as exc:
                logger.debug("order %s: lookup failed: %s", cli_ord_id, exc)
            else:
                if trace.found:
                    logger.info("order %s: found on the exchange", cli_ord_id)
                    return _result_from(trace, cli_ord_id, params.get("size"))
                logger.debug(
                    "order %s: no trace (fills searched completely: %s)", cli_ord_id, trace.complete
                )
                if deadline is not None and looked_at <= deadline:
                    # Only a lookup after the deadline decides, and an attempt landing before
                    # then is still seen by it: ask less often until then, saving the budget.
                    until = (deadline - looked_at).total_seconds() + 0.001
                    wait = max(wait, min(until, 10 * self.poll_interval))
                elif trace.complete and deadline is not None:
                    # No trace, and the exchange refuses every earlier attempt by now. Its own
                    # order history gets the last word before anything is sent again.
                    if search_from is not None:
                        try:
                            recorded = await asyncio.wait_for(
                                self._recorded(cli_ord_id, search_from), _HISTORY_PATIENCE
                            )
                        except (KrakenFuturesError, TimeoutError) as exc:
                            # Its budget is small (100 per 10 min): when it cannot answer
                            # promptly, orders/status and the fills decide alone.
                            logger.info(
                                "order %s: no order history (%s)", cli_ord_id, type(exc).__name__
                            )
                            recorded = None
                        if recorded is not None:
                            logger.info("order %s: found in the order history", cli_ord_id)
                            return _from_history(recorded, cli_ord_id)
                    if not own_deadline:
                        logger.info("order %s: missed the caller's processBefore", cli_ord_id)
                        raise _late(f"order {cli_ord_id!r}", cli_ord_id, None, _SEND.name)
                    logger.info("order %s: never reached the book; sending it again", cli_ord_id)
                    params["processBefore"] = self.fresh_deadline()
                    try:
                        return await self.send_in_time(params, resend, own_deadline=True)
                    except KrakenFuturesError as exc:
                        if not is_ambiguous(exc):
                            raise
                        logger.info("order %s: answer lost again (%s)", cli_ord_id, exc)
            return _Again(wait)

        return await self._settle(look, f"order {cli_ord_id!r} was placed", cli_ord_id, _SEND.name)


def _refusal(
    reason: str, order_id: str | None, cli_ord_id: str, received: dt.datetime | None
) -> OrderRejectedError:
    """A refusal found by lookup, spelled as the exchange's direct answer spells it."""
    refusal = _REFUSAL_STATUS.get(reason, OrderRequestStatus.UNKNOWN)
    status = refusal.value if refusal is not OrderRequestStatus.UNKNOWN else reason
    result = SendOrderResult(
        status=refusal, order_id=order_id, cli_ord_id=cli_ord_id, received_time=received
    )
    return OrderRejectedError(
        f"order request refused ({reason})",
        status=status,
        result=result,
        order_id=order_id,
        cli_ord_id=cli_ord_id,
        endpoint=_SEND.name,
    )


def _from_history(event: Any, cli_ord_id: str) -> SendOrderResult:
    """The outcome an order-history event proves: placed (open, cancelled or edited since)."""
    if isinstance(event, OrderRejected):
        raise _refusal(
            event.order_error or "REJECTED", event.order.uid, cli_ord_id, event.order.timestamp
        )
    order = event.new_order if isinstance(event, OrderUpdated) else event.order
    return SendOrderResult(
        status=OrderRequestStatus.PLACED,
        order_id=order.uid,
        cli_ord_id=cli_ord_id,
        received_time=order.timestamp,
    )


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


def _result_from(trace: _Trace, cli_ord_id: str, size: Any) -> SendOrderResult:
    found = trace.status
    if found is None:
        executed = sum((fill.size for fill in trace.fills), Decimal(0))
        whole = isinstance(size, Decimal) and executed >= size
        first = min(trace.fills, key=lambda fill: fill.fill_time)
        return SendOrderResult(
            status=OrderRequestStatus.FILLED if whole else OrderRequestStatus.PARTIALLY_FILLED,
            order_id=first.order_id,
            cli_ord_id=cli_ord_id,
            received_time=first.fill_time,
        )
    state = found.status
    if state in _REFUSED:
        raise _refusal(
            found.error or state, found.order.order_id, cli_ord_id, found.order.timestamp
        )
    filled = found.order.filled or Decimal(0)
    if state in _EXECUTED:
        status_value = OrderRequestStatus.FILLED
    elif filled > 0:
        status_value = OrderRequestStatus.PARTIALLY_FILLED
    else:
        status_value = OrderRequestStatus.PLACED
    return SendOrderResult(
        status=status_value,
        order_id=found.order.order_id,
        cli_ord_id=cli_ord_id,
        received_time=found.order.timestamp,
    )
