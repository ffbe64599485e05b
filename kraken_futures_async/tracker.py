"""A local picture of open orders, positions and balances, kept in sync within the rate limits.

Kraken's advice for REST clients is to keep order state locally instead of asking for it on
every decision. The tracker polls ``openorders``, ``openpositions`` and ``accounts`` every few
seconds (6 cost units per round, about 1 % of the budget at the default 5 s) and, between
polls, applies the results of the order calls the Session makes, so a snapshot reflects an
order the moment its ``sendorder`` returns. ``orders/status`` answers count too: they are
how a lost answer is reconciled, so an order found that way shows at once. A poll that
started before a local change does not undo it: changes made while a poll was in flight are
applied again on top of its answer.

A failed poll never ends the polling: it is logged, counted in ``failures`` and kept in
``last_error``, and the next poll comes at the usual interval.

When the Session can stream its account (it has a Kraken key: ``kf.stream.executions()``),
the tracker polls no orders at all: the ``executions`` stream's snapshot is its first picture
of the open orders and every order event moves it, the ``positions`` stream does the same
for positions, and only ``accounts`` is still polled every ``interval`` (the wallets REST
shows are richer than the ``balances`` channel). A dropped socket heals with a new snapshot;
a stream that cannot start, or ends for good, leaves the tracker polling as above.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Mapping
from decimal import Decimal
from types import MappingProxyType, TracebackType
from typing import Any

import attrs

from .errors import KrakenFuturesError
from .models import (
    Accounts,
    BatchItemResult,
    CancelAllResult,
    CancelEvent,
    CancelOrderResult,
    EditEvent,
    EditOrderResult,
    ExecutionEvent,
    OpenOrder,
    OpenPosition,
    OrderEvent,
    OrderSnapshot,
    OrderStatus,
    PlaceEvent,
    RejectEvent,
    SendOrderResult,
)
from .operations import CancelAll
from .streams.errors import StreamTimeoutError
from .streams.private import PrivateStreams
from .streams.source import Feed
from .uws.order_lookup import ExecutionsState, PositionsState

__all__ = ["AccountSnapshot", "OrderTracker"]

logger = logging.getLogger("kraken_futures_async.tracker")

_Change = Callable[[dict[str, OpenOrder]], None]

#: Seconds the executions and positions snapshots may take when the tracker starts.
STREAM_START_PATIENCE = 10.0


@attrs.frozen(kw_only=True)
class AccountSnapshot:
    """One consistent view: open orders by id, positions by symbol, wallets, poll count."""

    open_orders: Mapping[str, OpenOrder]
    positions: Mapping[str, OpenPosition]
    accounts: Accounts | None
    polls: int

    def orders_for(self, symbol: str) -> list[OpenOrder]:
        return [o for o in self.open_orders.values() if o.symbol.upper() == symbol.upper()]

    def by_cli_ord_id(self, cli_ord_id: str) -> OpenOrder | None:
        return next((o for o in self.open_orders.values() if o.cli_ord_id == cli_ord_id), None)


def _open_order_from(order: OrderSnapshot) -> OpenOrder | None:
    """What ``/openorders`` would list for this order, or None once nothing is left open."""
    quantity = order.quantity or Decimal(0)
    filled = order.filled or Decimal(0)
    if quantity - filled <= 0 or order.type == "ioc":
        return None
    return OpenOrder(
        order_id=order.order_id,
        status="partiallyFilled" if filled else "untouched",
        side=order.side,
        order_type="lmt",
        symbol=order.symbol,
        filled_size=filled,
        reduce_only=order.reduce_only,
        received_time=order.timestamp,
        last_update_time=order.last_update_timestamp or order.timestamp,
        cli_ord_id=order.cli_ord_id,
        limit_price=order.limit_price,
        unfilled_size=quantity - filled,
    )


def _open_order_from_status(found: OrderStatus) -> OpenOrder | None:
    """What ``/openorders`` would list for an order ``orders/status`` reports, or None."""
    if not found.is_open:
        return None
    order = found.order
    quantity = order.quantity or Decimal(0)
    filled = order.filled or Decimal(0)
    trigger = order.price_trigger_options
    return OpenOrder(
        order_id=order.order_id,
        status="partiallyFilled" if filled else "untouched",
        side=order.side,
        order_type="stop" if order.type == "TRIGGER_ORDER" else "lmt",
        symbol=order.symbol,
        filled_size=filled,
        reduce_only=order.reduce_only,
        received_time=order.timestamp,
        last_update_time=order.last_update_timestamp or order.timestamp,
        cli_ord_id=order.cli_ord_id,
        limit_price=order.limit_price,
        stop_price=None if trigger is None else trigger.trigger_price,
        unfilled_size=quantity - filled,
    )


def _status_changes(statuses: list[OrderStatus]) -> list[_Change]:
    """Lookups (the reconciler's among them) say which orders are open now, and how."""
    changes: list[_Change] = []
    for found in statuses:
        open_order = _open_order_from_status(found)
        if open_order is None:
            changes.append(_remove(found.order.order_id))
        else:
            changes.append(_put(open_order))
    return changes


def _put(open_order: OpenOrder) -> _Change:
    def apply(orders: dict[str, OpenOrder]) -> None:
        orders[open_order.order_id] = open_order

    return apply


def _event_changes(events: tuple[OrderEvent, ...]) -> list[_Change]:
    changes: list[_Change] = []
    for event in events:
        order: OrderSnapshot | None = None
        if isinstance(event, PlaceEvent):
            order = event.order
        elif isinstance(event, EditEvent):
            order = event.new
        elif isinstance(event, ExecutionEvent):
            before = event.order_prior_execution
            order = attrs.evolve(before, filled=(before.filled or Decimal(0)) + event.amount)
        if order is not None:
            changes.append(_upsert(order))
        elif isinstance(event, CancelEvent | RejectEvent):
            changes.append(_remove(event.uid))
    return changes


def _upsert(order: OrderSnapshot) -> _Change:
    def apply(orders: dict[str, OpenOrder]) -> None:
        open_order = _open_order_from(order)
        if open_order is None:
            orders.pop(order.order_id, None)
        else:
            orders[order.order_id] = open_order

    return apply


def _remove(order_id: str) -> _Change:
    def apply(orders: dict[str, OpenOrder]) -> None:
        orders.pop(order_id, None)

    return apply


def _replace_all(open_orders: dict[str, OpenOrder]) -> _Change:
    def apply(orders: dict[str, OpenOrder]) -> None:
        orders.clear()
        orders.update(open_orders)

    return apply


class _OrderStream(ExecutionsState):
    """The ``executions`` channel as the tracker hears it."""

    def __init__(self, tracker: OrderTracker) -> None:
        super().__init__(lambda: dt.datetime.now(dt.UTC))
        self._tracker = tracker

    def deliver(self, kind: str, data: Any) -> None:
        super().deliver(kind, data)
        if kind == "snapshot":
            orders = {str(o["order_id"]): self.open_order(o) for o in self.open_orders()}
            self._tracker._apply([_replace_all(orders)])
            return
        changes: list[_Change] = []
        for element in data if isinstance(data, list) else []:
            order_id = element.get("order_id") if isinstance(element, dict) else None
            if not isinstance(order_id, str):
                continue
            order = self.find(cli_ord_id=None, order_id=order_id)
            if order is not None and self.is_open(order):
                changes.append(_put(self.open_order(order)))
            else:
                changes.append(_remove(order_id))
        self._tracker._apply(changes)

    def fail(self, error: KrakenFuturesError) -> None:
        super().fail(error)
        self._tracker._stream_ended(error)


class _PositionStream(PositionsState):
    """The ``positions`` channel as the tracker hears it."""

    def __init__(self, tracker: OrderTracker) -> None:
        super().__init__()
        self._tracker = tracker

    def deliver(self, kind: str, data: Any) -> None:
        super().deliver(kind, data)
        self._tracker._positions = dict(self.positions)
        self._tracker._snapshot = self._tracker._freeze()

    def fail(self, error: KrakenFuturesError) -> None:
        super().fail(error)
        self._tracker._stream_ended(error)


def _remove_symbol(symbol: str | None) -> _Change:
    def apply(orders: dict[str, OpenOrder]) -> None:
        for order_id, order in list(orders.items()):
            if symbol is None or order.symbol.upper() == symbol.upper():
                del orders[order_id]

    return apply


class OrderTracker:
    """Follows the Session's order calls, and the account's streams or polls every
    ``interval`` seconds.

    ``session`` is anything with ``account`` and ``orders`` resources (a :class:`Session`).
    Use ``async with OrderTracker(kf) as tracker`` or :meth:`start`/:meth:`stop`; read
    :meth:`snapshot` at any time. Register :meth:`observe` with the Session to follow calls
    (``Session.track_orders()`` does both). ``running``, ``failures`` and ``last_error`` tell
    whether polling goes on and how it fares. ``stream``: follow the ``executions`` and
    ``positions`` streams (True; a failure to start them raises), poll (False), or stream
    when ``session.stream.private`` is preferred and fall back to polling (None).
    ``streaming`` says which it does.
    """

    def __init__(self, session: Any, *, interval: float = 5.0, stream: bool | None = None) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self._session = session
        self.interval = interval
        self._orders: dict[str, OpenOrder] = {}
        self._positions: dict[str, OpenPosition] = {}
        self._accounts: Accounts | None = None
        self._polls = 0
        self._in_flight_changes: list[_Change] | None = None
        self._task: asyncio.Task[None] | None = None
        self._snapshot = self._freeze()
        #: Polls that failed since the start, and the latest failure (kept after a success).
        self.failures = 0
        self.last_error: Exception | None = None
        self._stream_wanted = stream
        self._feeds: list[Feed] = []
        #: Whether open orders and positions follow the streams (else they are polled).
        self.streaming = False

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def _freeze(self) -> AccountSnapshot:
        return AccountSnapshot(
            open_orders=MappingProxyType(dict(self._orders)),
            positions=MappingProxyType(dict(self._positions)),
            accounts=self._accounts,
            polls=self._polls,
        )

    def snapshot(self) -> AccountSnapshot:
        return self._snapshot

    def _apply(self, changes: list[_Change]) -> None:
        for change in changes:
            change(self._orders)
        if self._in_flight_changes is not None:
            self._in_flight_changes.extend(changes)
        self._snapshot = self._freeze()

    def observe(self, operation: str, request: Any, result: Any) -> None:
        """Apply the result of an order call the Session just made."""
        changes: list[_Change] = []
        if isinstance(result, SendOrderResult | EditOrderResult | CancelOrderResult):
            changes = _event_changes(result.order_events)
            if isinstance(result, CancelOrderResult) and result.order_id:
                changes.append(_remove(result.order_id))
        elif isinstance(result, CancelAllResult):
            changes = [_remove(c.order_id) for c in result.cancelled_orders]
            if not changes and isinstance(request, CancelAll):
                changes = [_remove_symbol(request.symbol)]
        elif isinstance(result, list) and result and isinstance(result[0], BatchItemResult):
            for item in result:
                changes.extend(_event_changes(item.order_events))
        elif isinstance(result, list) and result and isinstance(result[0], OrderStatus):
            changes = _status_changes(result)
        if changes:
            self._apply(changes)

    async def refresh(self) -> AccountSnapshot:
        """Poll the exchange once and replace the picture with its answer."""
        self._in_flight_changes = []
        try:
            orders, positions, accounts = await asyncio.gather(
                self._session.orders.open(),
                self._session.account.open_positions(),
                self._session.account.accounts(),
            )
            late = self._in_flight_changes
            self._orders = {o.order_id: o for o in orders}
            self._positions = {p.symbol: p for p in positions}
            self._accounts = accounts
            self._polls += 1
        finally:
            self._in_flight_changes = None
        for change in late:
            change(self._orders)
        self._snapshot = self._freeze()
        return self._snapshot

    async def _poll_accounts(self) -> None:
        """The one poll left while streaming: the wallets."""
        accounts = await self._session.account.accounts()
        self._accounts = accounts
        self._polls += 1
        self._snapshot = self._freeze()

    async def _poll_forever(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                if self.streaming:
                    await self._poll_accounts()
                else:
                    await self.refresh()
            except Exception as exc:
                # anything, not only the library's errors: a dead poller is a silent stale picture
                self.failures += 1
                self.last_error = exc
                if isinstance(exc, KrakenFuturesError):
                    logger.warning("order tracker poll failed: %s", exc)
                else:
                    logger.exception("order tracker poll failed unexpectedly")

    def _private_streams(self) -> PrivateStreams | None:
        if self._stream_wanted is False:
            return None
        private = getattr(getattr(self._session, "stream", None), "private", None)
        if not isinstance(private, PrivateStreams):
            return None
        return private if self._stream_wanted or private.preferred else None

    async def _start_streams(self, private: PrivateStreams) -> None:
        orders, positions = _OrderStream(self), _PositionStream(self)
        try:
            async with asyncio.timeout(STREAM_START_PATIENCE):
                self._feeds.append(await private.attach("executions", orders))
                self._feeds.append(await private.attach("positions", positions))
                for state in (orders, positions):
                    while not state.live:
                        if state.error is not None:
                            raise state.error
                        await state.changed.wait()
        except TimeoutError:
            raise StreamTimeoutError(
                f"the executions and positions snapshots did not come within "
                f"{STREAM_START_PATIENCE:g} s",
                endpoint="uws",
            ) from None
        self.streaming = True

    def _stream_ended(self, error: KrakenFuturesError) -> None:
        """A stream ended for good: the next rounds poll everything again."""
        if self.streaming:
            self.streaming = False
            self.failures += 1
            self.last_error = error
            logger.warning("order tracker: the account stream ended (%s); polling instead", error)

    async def _close_feeds(self) -> None:
        feeds, self._feeds = self._feeds, []
        for feed in feeds:
            with contextlib.suppress(Exception):
                await feed.close()

    async def start(self) -> None:
        if self._task is None or self._task.done():
            private = self._private_streams()
            if private is not None:
                try:
                    await self._start_streams(private)
                except KrakenFuturesError as exc:
                    self.streaming = False
                    await self._close_feeds()
                    if self._stream_wanted:
                        raise
                    self.last_error = exc
                    logger.warning("order tracker: cannot stream (%s); polling instead", exc)
            try:
                await (self._poll_accounts() if self.streaming else self.refresh())
            except BaseException:
                self.streaming = False
                await self._close_feeds()
                raise
            self._task = asyncio.create_task(self._poll_forever(), name="kraken-order-tracker")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            # a task that ended with an error already logged it: stopping does not raise it
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.streaming = False
        await self._close_feeds()

    async def __aenter__(self) -> OrderTracker:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
