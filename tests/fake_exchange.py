"""The tiny exchange behind :class:`~tests.fake_backend.FakeBackend`: resting orders (by id
and client order id), fills, positions, wallets, the order statuses Kraken shows (open
orders and those closed a few seconds ago), its own record of placed orders, and the dead
man's switch timer, on a clock (:class:`FakeClock`) that follows the event loop's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

import attrs

from kraken_futures_async.errors import (
    OrderRejectedError,
)
from kraken_futures_async.models import (
    Accounts,
    CachedOrder,
    CancelAllResult,
    CancelEvent,
    CancelledOrderId,
    CancelOrderResult,
    DeadManSwitchStatus,
    EditEvent,
    EditOrderResult,
    ExecutionEvent,
    Fill,
    FillType,
    FlexAccount,
    FlexCurrency,
    Instrument,
    OpenOrder,
    OpenPosition,
    OrderEvent,
    OrderRequestStatus,
    OrderSnapshot,
    OrderStatus,
    PlaceEvent,
    PositionSide,
    PriceTriggerOptions,
    SendOrderResult,
    Side,
    Ticker,
)
from kraken_futures_async.models.enums import OrderType
from kraken_futures_async.models.history import (
    Direction,
    HistoricalOrder,
    HistoricalOrderType,
    OrderCancelled,
    OrderPlaced,
)
from kraken_futures_async.models.orders import FILLS_PAGE_SIZE
from kraken_futures_async.operations import (
    CancelOrder,
    EditOrder,
    OrderStatusQuery,
    SendOrder,
)
from kraken_futures_async.safety.lookup import OrderRecord

__all__ = ["START", "FakeClock", "FakeExchange", "FakeOrder"]

_TRIGGERS = frozenset({OrderType.STOP, OrderType.TAKE_PROFIT})


#: When every fake exchange's clock starts.
START = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
#: Seconds a closed order still shows in the order status (Kraken: a few seconds).
STATUS_RETENTION = 5.0
_OPEN = "ENTERED_BOOK"


class FakeClock:
    """The exchange's time: ``start``, plus the event loop's seconds since it was first read
    inside a loop, plus whatever :meth:`advance` added."""

    def __init__(self, start: dt.datetime = START) -> None:
        self._start = start
        self._added = 0.0
        self._anchor: float | None = None
        self._loop_seconds = 0.0

    def _followed(self) -> float:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return self._loop_seconds  # outside a loop: where the last one left it
        if self._anchor is None:
            self._anchor = loop.time() - self._loop_seconds
        self._loop_seconds = loop.time() - self._anchor
        return self._loop_seconds

    def now(self) -> dt.datetime:
        return self._start + dt.timedelta(seconds=self._followed() + self._added)

    def advance(self, seconds: float) -> None:
        self._added += seconds


@attrs.define
class FakeOrder:
    """One order on the fake exchange (open or closed)."""

    order_id: str
    cli_ord_id: str
    symbol: str
    side: Side
    order_type: OrderType
    size: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    reduce_only: bool
    placed_at: dt.datetime
    updated_at: dt.datetime
    filled: Decimal = Decimal(0)
    #: ``orders/status`` state: ENTERED_BOOK, TRIGGER_PLACED, FULLY_EXECUTED, CANCELLED.
    state: str = _OPEN
    closed_at: dt.datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def is_trigger(self) -> bool:
        return self.order_type in (OrderType.STOP, OrderType.TAKE_PROFIT)

    def snapshot(self) -> OrderSnapshot:
        return OrderSnapshot(
            order_id=self.order_id,
            type=self.order_type.value,
            symbol=self.symbol,
            side=self.side,
            quantity=self.size,
            filled=self.filled,
            limit_price=self.limit_price,
            reduce_only=self.reduce_only,
            timestamp=self.placed_at,
            cli_ord_id=self.cli_ord_id,
            last_update_timestamp=self.updated_at,
            stop_price=self.stop_price,
        )

    def status(self) -> OrderStatus:
        trigger = None
        if self.is_trigger and self.stop_price is not None:
            trigger = PriceTriggerOptions(
                trigger_price=self.stop_price, trigger_side="TRIGGER_ABOVE", trigger_signal="MARK"
            )
        cached = CachedOrder(
            type="TRIGGER_ORDER" if self.is_trigger else "ORDER",
            order_id=self.order_id,
            symbol=self.symbol,
            side=self.side,
            reduce_only=self.reduce_only,
            timestamp=self.placed_at,
            cli_ord_id=self.cli_ord_id,
            quantity=self.size,
            filled=self.filled,
            limit_price=self.limit_price,
            last_update_timestamp=self.updated_at,
            price_trigger_options=trigger,
        )
        return OrderStatus(order=cached, status=self.state)

    def open_order(self) -> OpenOrder:
        return OpenOrder(
            order_id=self.order_id,
            status="partiallyFilled" if self.filled else "untouched",
            side=self.side,
            order_type="stop" if self.is_trigger else "lmt",
            symbol=self.symbol,
            filled_size=self.filled,
            reduce_only=self.reduce_only,
            received_time=self.placed_at,
            last_update_time=self.updated_at,
            cli_ord_id=self.cli_ord_id,
            limit_price=self.limit_price,
            stop_price=self.stop_price,
            unfilled_size=self.size - self.filled,
        )

    def historical(self) -> HistoricalOrder:
        return HistoricalOrder(
            uid=self.order_id,
            tradeable=self.symbol,
            direction=Direction.BUY if self.side is Side.BUY else Direction.SELL,
            quantity=self.size,
            timestamp=self.placed_at,
            order_type=HistoricalOrderType.MARKET
            if self.order_type is OrderType.MARKET
            else HistoricalOrderType.LIMIT,
            reduce_only=self.reduce_only,
            last_update_timestamp=self.updated_at,
            limit_price=self.limit_price,
            filled=self.filled,
            client_id=self.cli_ord_id,
        )


def _refused(
    operation: str, status: OrderRequestStatus, result: Any, cli_ord_id: str | None = None
) -> OrderRejectedError:
    return OrderRejectedError(
        f"order request {status.value}",
        status=status.value,
        result=result,
        order_id=getattr(result, "order_id", None),
        cli_ord_id=cli_ord_id,
        endpoint=operation,
    )


class FakeExchange:
    """The exchange's state and rules; every method takes the exchange time ``now``."""

    def __init__(
        self,
        *,
        instruments: list[Instrument] | None = None,
        marks: dict[str, Decimal] | None = None,
        balance: Decimal = Decimal(10_000),
    ) -> None:
        self.instruments = instruments or [
            Instrument(
                symbol="PF_XBTUSD",
                tradeable=True,
                type="flexible_futures",
                tick_size=Decimal(1),
                contract_value_trade_precision=4,
            ),
            Instrument(
                symbol="PF_ETHUSD",
                tradeable=True,
                type="flexible_futures",
                tick_size=Decimal("0.1"),
                contract_value_trade_precision=3,
            ),
        ]
        self.marks = marks or {"PF_XBTUSD": Decimal(50_000), "PF_ETHUSD": Decimal(3_000)}
        self.balance = balance
        self.orders: dict[str, FakeOrder] = {}
        #: Every order that ever reached the book, in order: a duplicate shows here.
        self.placements: list[FakeOrder] = []
        self.fills: list[Fill] = []
        #: Net signed size and average entry price by symbol.
        self.positions: dict[str, tuple[Decimal, Decimal]] = {}
        #: The exchange's own record (what the history API would answer), oldest first.
        self.record: list[tuple[dt.datetime, OrderRecord]] = []
        #: Requests refused for arriving after their processBefore: (operation, time).
        self.late_refusals: list[tuple[str, dt.datetime]] = []
        self.dms_trigger: dt.datetime | None = None
        #: When the dead man's switch fired, and the ids it cancelled.
        self.dms_fired: list[tuple[dt.datetime, list[str]]] = []
        self._ids = itertools.count(1)

    # --- looking things up -------------------------------------------------------------

    def by_cli(self, cli_ord_id: str) -> list[FakeOrder]:
        return [o for o in self.placements if o.cli_ord_id == cli_ord_id]

    def find(self, *, order_id: str | None, cli_ord_id: str | None) -> FakeOrder | None:
        """The order with this id, or the latest one with this client order id."""
        if order_id is not None:
            return self.orders.get(order_id)
        found = self.by_cli(cli_ord_id or "")
        return found[-1] if found else None

    def open_orders(self) -> list[FakeOrder]:
        return [o for o in reversed(self.placements) if o.is_open]

    def shown(self, order: FakeOrder, now: dt.datetime) -> bool:
        """Whether ``orders/status`` still shows it: open, or closed a few seconds ago."""
        return order.closed_at is None or (now - order.closed_at).total_seconds() <= (
            STATUS_RETENTION
        )

    def statuses(self, query: OrderStatusQuery, now: dt.datetime) -> list[OrderStatus]:
        wanted = [self.orders.get(i) for i in query.order_ids]
        wanted += [self.find(order_id=None, cli_ord_id=c) for c in query.cli_ord_ids]
        return [o.status() for o in wanted if o is not None and self.shown(o, now)]

    def fills_before(self, before: dt.datetime | None) -> list[Fill]:
        older = [f for f in self.fills if before is None or f.fill_time < before]
        return sorted(older, key=lambda f: f.fill_time, reverse=True)[:FILLS_PAGE_SIZE]

    def open_positions(self) -> list[OpenPosition]:
        return [
            OpenPosition(
                symbol=symbol,
                side=PositionSide.LONG if size > 0 else PositionSide.SHORT,
                size=abs(size),
                price=price,
            )
            for symbol, (size, price) in sorted(self.positions.items())
            if size != 0
        ]

    def accounts(self) -> Accounts:
        pnl = sum(((self.marks[s] - p) * n for s, (n, p) in self.positions.items()), Decimal(0))
        value = self.balance + pnl
        zero = Decimal(0)
        flex = FlexAccount(
            type="multiCollateralMarginAccount",
            currencies={
                "USD": FlexCurrency(
                    quantity=self.balance,
                    value=self.balance,
                    collateral=self.balance,
                    available=self.balance,
                )
            },
            balance_value=self.balance,
            portfolio_value=value,
            collateral_value=value,
            pnl=pnl,
            total_unrealized=pnl,
            total_unrealized_as_margin=pnl,
            available_margin=value,
            margin_equity=value,
            initial_margin=zero,
            initial_margin_with_orders=zero,
            maintenance_margin=zero,
            unrealized_funding=zero,
        )
        return Accounts(flex=flex)

    def tickers(self) -> list[Ticker]:
        return [Ticker(symbol=s, mark_price=p, last=p) for s, p in sorted(self.marks.items())]

    # --- changing things ---------------------------------------------------------------

    def _late(self, operation: str, deadline: dt.datetime | None, now: dt.datetime) -> bool:
        if deadline is not None and now > deadline:
            self.late_refusals.append((operation, now))
            return True
        return False

    def place(self, request: SendOrder, deadline: dt.datetime | None, now: dt.datetime) -> Any:
        cli = request.cli_ord_id
        if self._late("send_order", deadline, now):
            status = OrderRequestStatus.WOULD_PROCESS_AFTER_SPECIFIED_TIME
            result = SendOrderResult(status=status, cli_ord_id=cli, received_time=now)
            raise _refused("send_order", status, result, cli)
        if request.symbol not in self.marks:
            status = OrderRequestStatus.MARKET_INACTIVE
            raise _refused("send_order", status, SendOrderResult(status=status), cli)
        if any(o.cli_ord_id == cli for o in self.open_orders()):
            status = OrderRequestStatus.CLIENT_ORDER_ID_ALREADY_EXIST
            raise _refused("send_order", status, SendOrderResult(status=status), cli)
        order = FakeOrder(
            order_id=f"fake-order-{next(self._ids)}",
            cli_ord_id=cli,
            symbol=request.symbol,
            side=request.side,
            order_type=request.order_type,
            size=request.size,
            limit_price=request.limit_price,
            stop_price=request.stop_price,
            reduce_only=bool(request.reduce_only),
            placed_at=now,
            updated_at=now,
            state="TRIGGER_PLACED" if request.order_type in _TRIGGERS else _OPEN,
        )
        self.orders[order.order_id] = order
        self.placements.append(order)
        self.record.append((now, OrderPlaced(order=order.historical(), reason="new_user_order")))
        events: list[OrderEvent] = [PlaceEvent(type="PLACE", order=order.snapshot())]
        if self._marketable(order):
            events.append(self.fill(order, order.size, self.marks[order.symbol], now, taker=True))
        status = OrderRequestStatus.FILLED if not order.is_open else OrderRequestStatus.PLACED
        return SendOrderResult(
            status=status,
            order_id=order.order_id,
            cli_ord_id=cli,
            received_time=now,
            order_events=tuple(events),
        )

    def _marketable(self, order: FakeOrder) -> bool:
        if order.order_type in (OrderType.MARKET, OrderType.IMMEDIATE_OR_CANCEL):
            return True
        mark, price = self.marks[order.symbol], order.limit_price
        if order.order_type is not OrderType.LIMIT or price is None:
            return False
        return price >= mark if order.side is Side.BUY else price <= mark

    def fill(
        self, order: FakeOrder, size: Decimal, price: Decimal, now: dt.datetime, *, taker: bool
    ) -> ExecutionEvent:
        """Execute ``size`` of an open order at ``price`` (a test's counterparty, or a taker)."""
        prior = order.snapshot()
        order.filled += size
        order.updated_at = now
        if order.filled >= order.size:
            order.state, order.closed_at = "FULLY_EXECUTED", now
        fill = Fill(
            fill_id=f"fake-fill-{next(self._ids)}",
            order_id=order.order_id,
            symbol=order.symbol,
            side=order.side,
            size=size,
            price=price,
            fill_time=now,
            fill_type=FillType.TAKER if taker else FillType.MAKER,
            cli_ord_id=order.cli_ord_id,
        )
        self.fills.append(fill)
        signed = size if order.side is Side.BUY else -size
        held, entry = self.positions.get(order.symbol, (Decimal(0), Decimal(0)))
        total = held + signed
        if total == 0:
            entry = Decimal(0)
        elif held == 0 or (held > 0) == (signed > 0):
            entry = (held * entry + signed * price) / total
        self.positions[order.symbol] = (total, entry)
        return ExecutionEvent(
            type="EXECUTION",
            execution_id=fill.fill_id,
            price=price,
            amount=size,
            order_prior_execution=prior,
        )

    def edit(self, request: EditOrder, deadline: dt.datetime | None, now: dt.datetime) -> Any:
        if self._late("edit_order", deadline, now):
            status = OrderRequestStatus.WOULD_PROCESS_AFTER_SPECIFIED_TIME
            raise _refused("edit_order", status, EditOrderResult(status=status))
        order = self.find(order_id=request.order_id, cli_ord_id=request.cli_ord_id)
        if order is None or not order.is_open:
            status = OrderRequestStatus.ORDER_FOR_EDIT_NOT_FOUND
            raise _refused("edit_order", status, EditOrderResult(status=status))
        old = order.snapshot()
        if request.size is not None:
            order.size = request.size
        if request.limit_price is not None:
            order.limit_price = request.limit_price
        if request.stop_price is not None:
            order.stop_price = request.stop_price
        order.updated_at = now
        return EditOrderResult(
            status=OrderRequestStatus.EDITED,
            order_events=(EditEvent(type="EDIT", old=old, new=order.snapshot()),),
            order_id=order.order_id,
            cli_ord_id=order.cli_ord_id,
            received_time=now,
        )

    def cancel(self, order: FakeOrder, now: dt.datetime, reason: str) -> CancelEvent:
        order.state, order.closed_at, order.updated_at = "CANCELLED", now, now
        self.record.append((now, OrderCancelled(order=order.historical(), reason=reason)))
        return CancelEvent(type="CANCEL", uid=order.order_id, order=order.snapshot())

    def cancel_one(self, request: CancelOrder, now: dt.datetime) -> Any:
        if self._late("cancel_order", request.process_before, now):
            status = OrderRequestStatus.WOULD_PROCESS_AFTER_SPECIFIED_TIME
            raise _refused("cancel_order", status, CancelOrderResult(status=status))
        order = self.find(order_id=request.order_id, cli_ord_id=request.cli_ord_id)
        if order is None or not order.is_open:
            status = OrderRequestStatus.NOT_FOUND
            result = CancelOrderResult(status=status, received_time=now)
            raise _refused("cancel_order", status, result, request.cli_ord_id)
        event = self.cancel(order, now, "cancelled_by_user")
        return CancelOrderResult(
            status=OrderRequestStatus.CANCELLED,
            order_id=order.order_id,
            cli_ord_id=order.cli_ord_id,
            received_time=now,
            order_events=(event,),
        )

    def cancel_all(self, symbol: str | None, now: dt.datetime, reason: str) -> CancelAllResult:
        gone = [o for o in self.open_orders() if symbol is None or o.symbol == symbol]
        events = tuple(self.cancel(o, now, reason) for o in gone)
        return CancelAllResult(
            status=OrderRequestStatus.CANCELLED if gone else OrderRequestStatus.NO_ORDERS_TO_CANCEL,
            cancel_only=symbol or "all",
            cancelled_orders=tuple(
                CancelledOrderId(order_id=o.order_id, cli_ord_id=o.cli_ord_id) for o in gone
            ),
            received_time=now,
            order_events=events,
        )

    def arm(self, timeout: int, now: dt.datetime) -> DeadManSwitchStatus:
        self.dms_trigger = None if timeout == 0 else now + dt.timedelta(seconds=timeout)
        return DeadManSwitchStatus(current_time=now, trigger_time=self.dms_trigger)

    def tick(self, now: dt.datetime) -> None:
        """Let time pass: the dead man's switch fires once its trigger time is reached."""
        trigger = self.dms_trigger
        if trigger is not None and now >= trigger:
            self.dms_trigger = None
            result = self.cancel_all(None, trigger, "dead_man_switch")
            self.dms_fired.append((trigger, [c.order_id for c in result.cancelled_orders]))
