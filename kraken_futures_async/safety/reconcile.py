"""After an ambiguous failure, find out what really happened to an order before doing more.

A timeout, a dropped connection, a 5xx or a garbled answer after an order request does NOT
mean the order was refused: it may be on the book. Sending it again could double a position.
So the order is looked up by its client order id (through the backend's
:class:`~.lookup.OrderLookup`) until the truth is known. It is re-sent only once the lookups
have proven that no earlier attempt can have been executed: the ``processBefore`` of every
attempt has passed on the exchange's clock, the order is not open, and no fill of it exists
since it was first sent. When the truth cannot be established within ``patience`` seconds,
the caller gets :class:`OrderStatusUnknownError` carrying the client order id.

A ``processBefore`` the caller chose is never moved: an order proven to have missed it is
reported as refused (``wouldProcessAfterSpecifiedTime``), because sending it later is what
the caller asked the exchange to prevent. The library's own one
(:class:`~kraken_futures_async.operations.OwnDeadline`) is stamped afresh on every attempt.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

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
    OrderRequestStatus,
    SendOrderResult,
)
from ..operations.orders import CancelOrder, EditOrder, OwnDeadline, ProcessBefore, SendOrder
from .lookup import OrderLookup, OrderRecord
from .outcomes import LATE, late, result_from_history, result_from_trace, shows_edit

__all__ = ["LATE", "Reconciler", "is_ambiguous"]

logger = logging.getLogger("kraken_futures_async.reconcile")

#: Seconds the exchange's own record may take (its budget may be spent) before it is skipped.
_RECORD_PATIENCE = 2.0
#: Searched fills start this much before the first attempt, for clock-estimate error.
_SLACK = dt.timedelta(seconds=1)

_T = TypeVar("_T")
_R = TypeVar("_R")
_Req = TypeVar("_Req", SendOrder, EditOrder)

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


def process_before_of(value: ProcessBefore) -> dt.datetime | None:
    """The ``processBefore`` the latest attempt carried (the library's: as last stamped)."""
    return value.latest if isinstance(value, OwnDeadline) else value


@attrs.frozen
class _Again:
    """Not settled yet: look again after ``seconds``."""

    seconds: float


@attrs.frozen(kw_only=True)
class Reconciler:
    """Looks orders up by client order id, through the backend's lookup."""

    lookup: OrderLookup
    #: The exchange's current time (the lookup only decides once a deadline has passed there).
    clock: Callable[[], dt.datetime]
    #: Seconds to keep looking before giving up with OrderStatusUnknownError.
    patience: float = 60.0
    #: Seconds between lookups.
    poll_interval: float = 1.0

    async def send_in_time(self, request: _Req, send: Callable[[_Req], Awaitable[_T]]) -> _T:
        """Send; if the library's own ``processBefore`` was missed, send again (re-stamped).

        That refusal is final and proves the attempt did nothing: the request waited too long
        on this side (rate-limit queue, backoff) or the clocks disagreed. A caller's own
        deadline is never moved.
        """
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + self.patience
        own = request.process_before
        attempts = 1
        while True:
            try:
                return await send(request)
            except OrderRejectedError as exc:
                spent = attempts >= _LATE_ATTEMPTS or loop.time() >= give_up_at
                if not isinstance(own, OwnDeadline) or exc.status != LATE or spent:
                    raise
                logger.info(
                    "%s: refused for missing the library's own processBefore "
                    "(queued longer than %g s?); sending it again",
                    request.cli_ord_id
                    or (request.order_id if isinstance(request, EditOrder) else None),
                    own.window,
                )
                attempts += 1

    def _unknown(
        self, what: str, cli_ord_id: str | None, operation: str, why: str | None = None
    ) -> OrderStatusUnknownError:
        return OrderStatusUnknownError(
            f"could not establish {why or f'within {self.patience:g} s'} whether {what}; "
            "look the order up by its client order id",
            cli_ord_id=cli_ord_id,
            endpoint=operation,
        )

    async def _settle(
        self,
        look: Callable[[], Awaitable[_R | _Again]],
        question: str,
        cli_ord_id: str | None,
        operation: str,
    ) -> _R:
        """Ask ``look`` until it settles ``question`` or ``patience`` seconds have passed.

        Each look returns the truth, raises what the caller must see, or says how long to
        wait before looking again; the wait never runs past the end of the patience.
        """
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + self.patience
        while loop.time() < give_up_at:
            outcome = await look()
            if not isinstance(outcome, _Again):
                return outcome
            await asyncio.sleep(min(outcome.seconds, max(0.0, give_up_at - loop.time())))
        raise self._unknown(question, cli_ord_id, operation)

    async def resolve_cancel(
        self,
        request: CancelOrder,
        first_error: KrakenFuturesError,
        resend: Callable[[CancelOrder], Awaitable[CancelOrderResult]],
    ) -> CancelOrderResult:
        """The truth about a cancel whose answer was lost.

        Cancelling twice cannot do harm, so the cancel is sent again; a ``notFound`` or
        ``filled`` answer to the repeat is checked against the order's state, because the
        first attempt may have been the one that cancelled it. ``notFound`` means neither
        open nor filled: with the order forgotten by the lookup (closed orders show for a
        few seconds only), the lost attempt is taken to have cancelled it.
        """
        order_id, cli_ord_id = request.order_id, request.cli_ord_id
        label = order_id or cli_ord_id
        logger.info("cancel of %s: answer lost (%s); sending it again", label, first_error)

        async def attempt() -> CancelOrderResult | _Again:
            try:
                result = await resend(request)
            except OrderRejectedError as refusal:
                try:
                    found = await self.lookup.status(cli_ord_id=cli_ord_id, order_id=order_id)
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
                if found is None and await self._cancelled_unseen(refusal, cli_ord_id, order_id):
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

        return await self._settle(attempt, "the cancel went through", cli_ord_id, "cancel_order")

    async def _cancelled_unseen(
        self, refusal: OrderRejectedError, cli_ord_id: str | None, order_id: str | None
    ) -> bool:
        """Whether an order the lookup no longer shows was cancelled by a lost attempt.

        ``notFound`` says the exchange holds no such open order. A repeat refused for missing
        the caller's ``processBefore`` proves nothing about the first attempt, so the order
        is taken as cancelled only if it is not open and has no fill.
        """
        if refusal.status == OrderRequestStatus.NOT_FOUND.value:
            return True
        if refusal.status != LATE:
            return False
        try:
            trace = await self.lookup.trace(cli_ord_id=cli_ord_id, order_id=order_id, since=None)
        except KrakenFuturesError:
            return False
        return trace.status is None and not trace.fills

    async def resolve_edit(
        self,
        request: EditOrder,
        first_error: KrakenFuturesError,
        resend: Callable[[EditOrder], Awaitable[EditOrderResult]],
    ) -> EditOrderResult:
        """The truth about an edit whose answer was lost.

        An edit is not safe to repeat blindly (a fill in between changes what a size means),
        so the order is looked up first: if it shows the requested prices and size the edit
        went through. If it is still as before, the edit is sent again once its
        ``processBefore`` has passed (so the lost attempt can no longer land); without one
        at once.
        """
        order_id, cli_ord_id = request.order_id, request.cli_ord_id
        own = isinstance(request.process_before, OwnDeadline)
        label = order_id or cli_ord_id
        logger.info("edit of %s: answer lost (%s); looking the order up", label, first_error)

        async def look() -> EditOrderResult | _Again:
            looked_at = self.clock()
            try:
                found = await self.lookup.status(cli_ord_id=cli_ord_id, order_id=order_id)
            except KrakenFuturesError as exc:
                logger.debug("edit of %s: lookup failed: %s", label, exc)
                return _Again(self.poll_interval)
            if found is not None and shows_edit(found, request):
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
                    endpoint="edit_order",
                )
            deadline = process_before_of(request.process_before)
            if deadline is None or looked_at > deadline:
                if deadline is not None and not own:
                    raise late("the edit", cli_ord_id, order_id, "edit_order")
                logger.info("edit of %s: not applied; sending it again", label)
                try:
                    return await self.send_in_time(request, resend)
                except KrakenFuturesError as exc:
                    if not is_ambiguous(exc):
                        raise
                    logger.info("edit of %s: answer lost again (%s)", label, exc)
            return _Again(self.poll_interval)

        return await self._settle(look, "the edit went through", cli_ord_id, "edit_order")

    async def resolve_send(
        self,
        request: SendOrder,
        first_error: KrakenFuturesError,
        resend: Callable[[SendOrder], Awaitable[SendOrderResult]],
        *,
        since: dt.datetime | None = None,
    ) -> SendOrderResult:
        """The truth about a new order whose answer was lost.

        ``since`` is the exchange time before the first attempt: fills are searched back to
        it, so an executed order is found however many fills came after it. Without it,
        only the latest fills are searched and the order is never sent again.
        """
        cli_ord_id = request.cli_ord_id
        own = isinstance(request.process_before, OwnDeadline)
        search_from = None if since is None else since - _SLACK
        question = f"order {cli_ord_id!r} was placed"
        logger.info("order %s: answer lost (%s); looking it up", cli_ord_id, first_error)

        async def look() -> SendOrderResult | _Again:
            # The lookup must start after the deadline passed for "no trace" to prove anything.
            looked_at = self.clock()
            deadline = process_before_of(request.process_before)
            try:
                trace = await self.lookup.trace(
                    cli_ord_id=cli_ord_id, order_id=None, since=search_from
                )
            except KrakenFuturesError as exc:
                logger.debug("order %s: lookup failed: %s", cli_ord_id, exc)
                return _Again(self.poll_interval)
            if trace.found:
                logger.info("order %s: found on the exchange", cli_ord_id)
                return result_from_trace(trace, cli_ord_id, request.size)
            logger.debug(
                "order %s: no trace (fills searched completely: %s)", cli_ord_id, trace.complete
            )
            if deadline is not None and looked_at <= deadline:
                # Only a lookup after the deadline decides, and an attempt landing before then
                # is still seen by it: ask less often until then, saving the budget.
                until = (deadline - looked_at).total_seconds() + 0.001
                return _Again(max(self.poll_interval, min(until, 10 * self.poll_interval)))
            if not trace.complete and trace.final and deadline is not None:
                logger.info("order %s: the lookup cannot tell, now or later", cli_ord_id)
                raise self._unknown(
                    question, cli_ord_id, "send_order", "from what the exchange still shows"
                )
            if not trace.complete or deadline is None:
                return _Again(self.poll_interval)
            # No trace, and the exchange refuses every earlier attempt by now. Its own record
            # gets the last word before anything is sent again.
            if search_from is not None:
                recorded = await self._recorded(cli_ord_id, search_from)
                if recorded is not None:
                    logger.info("order %s: found in the exchange's record", cli_ord_id)
                    return result_from_history(recorded, cli_ord_id)
            if not own:
                logger.info("order %s: missed the caller's processBefore", cli_ord_id)
                raise late(f"order {cli_ord_id!r}", cli_ord_id, None, "send_order")
            logger.info("order %s: never reached the book; sending it again", cli_ord_id)
            try:
                return await self.send_in_time(request, resend)
            except KrakenFuturesError as exc:
                if not is_ambiguous(exc):
                    raise
                logger.info("order %s: answer lost again (%s)", cli_ord_id, exc)
            return _Again(self.poll_interval)

        return await self._settle(look, question, cli_ord_id, "send_order")

    async def _recorded(self, cli_ord_id: str, since: dt.datetime) -> OrderRecord | None:
        try:
            return await asyncio.wait_for(self.lookup.recorded(cli_ord_id, since), _RECORD_PATIENCE)
        except (KrakenFuturesError, TimeoutError) as exc:
            # The history budget is small (100 per 10 min): when it cannot answer promptly,
            # the order's state and its fills decide alone.
            logger.info("order %s: no record (%s)", cli_ord_id, type(exc).__name__)
            return None
