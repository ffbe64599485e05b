"""The private streams' live state, and order safety's lookup over it.

:class:`ExecutionsState` follows the ``executions`` channel (snapshot of open orders and the
last 50 fills, then every order event) and answers :class:`UwsOrderLookup`: an order's state
by client order id or id, and the fills seen of it. It knows since when it has seen every
fill (``covered_from``): a snapshot with fewer than 50 fills shows all of them, one with 50
reaches back to its oldest; a dropped socket breaks the cover until the next snapshot. It
also knows which order requests left while the live subscription was already live
(:meth:`ExecutionsState.sending`), and since when it has seen every order event
(``events_from``, for requests it was not told about): the snapshot shows open orders only,
so an order that closed without a fill (an IOC that found nothing, a cancel) while the
socket was down is invisible after it. So a trace is ``complete`` only when the stream is
live and every order event and fill since the request left has been seen, which is what
lets order safety re-send a lost order (kraken-uws-api.md §5.1, §10; the choices are in
:mod:`.routes`, 8-10). UWS keeps no order record beyond this: ``recorded`` is None.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from ..errors import ConnectionFailedError, KrakenFuturesError, UnsupportedOperationError
from ..models import (
    Accounts,
    CachedOrder,
    Fill,
    OpenOrder,
    OpenPosition,
    OrderStatus,
)
from ..models.account import CashAccount
from ..models.enums import FillType, PositionSide, Side
from ..models.orders import FILLS_PAGE_SIZE, PriceTriggerOptions
from ..safety.lookup import OrderRecord, OrderTrace

__all__ = [
    "BalancesState",
    "ExecutionsState",
    "PositionsState",
    "UwsOrderLookup",
]

logger = logging.getLogger("kraken_futures_async.uws")

#: The executions snapshot carries the last 50 fills at most (§5.1).
SNAPSHOT_FILLS = 50
#: Fills kept in memory for lookups.
MAX_FILLS = 5000
#: Closed orders kept in memory for lookups.
MAX_CLOSED = 5000
#: Client order ids whose sending is remembered (the latest ones).
MAX_SENT = 5000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

_OPEN = {"new", "partially_filled", "pending_new"}
_TRIGGER_TYPES = {
    "stop-loss",
    "stop-loss-limit",
    "take-profit",
    "take-profit-limit",
    "trailing-stop",
    "trailing-stop-limit",
}
#: UWS order types as REST's open orders name them.
_REST_TYPE = {
    "limit": "lmt",
    "market": "mkt",
    "stop-loss": "stop",
    "stop-loss-limit": "stop",
    "take-profit": "take_profit",
    "take-profit-limit": "take_profit",
    "trailing-stop": "trailing_stop",
    "trailing-stop-limit": "trailing_stop",
}

#: REST's open orders know only ``lmt``/``stop``/``take_profit`` types and ``mark``/``last``/
#: ``spot`` signals: a trailing stop is a ``stop``, UWS's ``index`` is ``spot``.
_OPEN_TYPE = {"trailing_stop": "stop"}
_OPEN_SIGNAL = {"index": "spot"}


def dec(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def when(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _side(value: Any) -> Side:
    return Side.BUY if value == "buy" else Side.SELL if value == "sell" else Side.UNKNOWN


class _Live:
    """What every private channel's sink does with the socket's comings and goings."""

    def __init__(self) -> None:
        self.live = False
        self.error: KrakenFuturesError | None = None
        self.changed = asyncio.Event()

    def link_lost(self) -> None:
        self.live = False

    def link_restored(self) -> None:
        """Live again once the new snapshot arrives."""

    def fail(self, error: KrakenFuturesError) -> None:
        self.live = False
        self.error = error

    def end(self) -> None:
        self.live = False

    def _snapshot_done(self) -> None:
        self.live = True
        self.error = None
        self.changed.set()
        self.changed = asyncio.Event()


class ExecutionsState(_Live):
    """Orders and fills as the ``executions`` channel shows them."""

    def __init__(self, clock: Callable[[], dt.datetime]) -> None:
        super().__init__()
        self._clock = clock
        self.orders: dict[str, dict[str, Any]] = {}
        self._by_cl: dict[str, str] = {}
        self._closed: deque[str] = deque()
        self.fills: deque[Fill] = deque(maxlen=MAX_FILLS)
        self._fill_ids: set[str] = set()
        #: Every fill since this time has been seen (None: no cover, the stream is not live).
        self.covered_from: dt.datetime | None = None
        #: Every order event since this time has been seen: the live subscription's snapshot
        #: arrived then (exchange clock); None: not live.
        self.events_from: dt.datetime | None = None
        self.snapshots = 0
        #: Client order id -> the snapshot count its requests left under (None: not live,
        #: or not all under the same one).
        self._sent: OrderedDict[str, int | None] = OrderedDict()

    # -- the sink -------------------------------------------------------------------------

    def deliver(self, kind: str, data: Any) -> None:
        elements = [e for e in data if isinstance(e, dict)] if isinstance(data, list) else []
        if kind == "snapshot":
            self._snapshot(elements)
            return
        for element in elements:
            self._apply(element)

    def link_lost(self) -> None:
        super().link_lost()
        self.covered_from = self.events_from = None

    def fail(self, error: KrakenFuturesError) -> None:
        super().fail(error)
        self.covered_from = self.events_from = None

    def _snapshot(self, elements: list[dict[str, Any]]) -> None:
        # orders that were open and are not in the snapshot closed unseen: forget them
        for order_id in [i for i, o in self.orders.items() if o.get("order_status") in _OPEN]:
            self._forget(order_id)
        trades = 0
        oldest: dt.datetime | None = None
        for element in elements:
            if element.get("exec_type") == "trade":
                trades += 1
                moment = when(element.get("timestamp"))
                if moment is not None and (oldest is None or moment < oldest):
                    oldest = moment
            self._apply(element, snapshot=True)
        self.covered_from = _EPOCH if trades < SNAPSHOT_FILLS else oldest
        self.events_from = self._clock()
        self.snapshots += 1
        self._snapshot_done()

    def sending(self, cl_ord_id: str) -> None:
        """An order request with this client order id is about to leave."""
        epoch = self.snapshots if self.live else None
        if self._sent.get(cl_ord_id, epoch) != epoch:
            epoch = None  # an earlier attempt left under another subscription
        self._sent[cl_ord_id] = epoch
        self._sent.move_to_end(cl_ord_id)
        while len(self._sent) > MAX_SENT:
            self._sent.popitem(last=False)

    def watched(self, cl_ord_id: str) -> bool | None:
        """Whether the stream has been live without a break since every request with this
        client order id left (None: no request with it was announced)."""
        if cl_ord_id not in self._sent:
            return None
        epoch = self._sent[cl_ord_id]
        return self.live and epoch is not None and epoch == self.snapshots

    def _forget(self, order_id: str) -> None:
        order = self.orders.pop(order_id, None)
        if order is not None and self._by_cl.get(order.get("cl_ord_id") or "") == order_id:
            del self._by_cl[order["cl_ord_id"]]

    def _apply(self, element: dict[str, Any], *, snapshot: bool = False) -> None:
        order_id = element.get("order_id")
        if not isinstance(order_id, str) or not order_id:
            return
        order = self.orders.get(order_id)
        if order is None:
            order = self.orders[order_id] = {"_received": element.get("timestamp")}
        was_open = order.get("order_status") in _OPEN
        exec_type = element.get("exec_type")
        for key, value in element.items():
            if value is not None and key not in ("last_qty", "last_price", "exec_id"):
                order[key] = value
        if exec_type == "new" and "order_status" not in element:
            order["order_status"] = "new"
        cl_ord_id = order.get("cl_ord_id")
        if isinstance(cl_ord_id, str) and cl_ord_id:
            self._by_cl[cl_ord_id] = order_id
        if exec_type == "trade":
            self._fill(element, order)
        if was_open and order.get("order_status") not in _OPEN:
            self._closed.append(order_id)
            while len(self._closed) > MAX_CLOSED:
                self._forget(self._closed.popleft())

    def _fill(self, element: dict[str, Any], order: dict[str, Any]) -> None:
        fill_id = element.get("exec_id") or element.get("trade_id")
        size, price = dec(element.get("last_qty")), dec(element.get("last_price"))
        moment = when(element.get("timestamp"))
        if fill_id is None or size is None or price is None or moment is None:
            return
        fill_id = str(fill_id)
        if fill_id in self._fill_ids:
            return
        if len(self._fill_ids) >= MAX_FILLS:
            self._fill_ids = {f.fill_id for f in self.fills}
        self._fill_ids.add(fill_id)
        self.fills.append(
            Fill(
                fill_id=fill_id,
                order_id=str(element["order_id"]),
                symbol=str(order.get("symbol", "")),
                side=_side(order.get("side")),
                size=size,
                price=price,
                fill_time=moment,
                fill_type=FillType.MAKER if element.get("liquidity_ind") == "m" else FillType.TAKER,
                cli_ord_id=order.get("cl_ord_id"),
            )
        )

    # -- what the backend asks ------------------------------------------------------------

    def fills_page(self, before: dt.datetime | None) -> list[Fill]:
        """REST's page of fills from what the stream has shown: the latest ``FILLS_PAGE_SIZE``,
        or the ``FILLS_PAGE_SIZE`` before ``before``, newest first (routes choice 14).

        A first page may hold fewer fills than older ones there are (the snapshot's last 50
        and every one since); a page asking back past what the stream has shown raises
        :class:`UnsupportedOperationError`; any page while the stream is down (its cover
        broken until the next snapshot) raises :class:`ConnectionFailedError`.
        """
        cover = self.covered_from
        if cover is None:
            raise ConnectionFailedError(
                "the executions stream is reconnecting, so its fills are not known now",
                endpoint="fills",
            )
        found = [f for f in self.fills if before is None or f.fill_time < before]
        found.sort(key=lambda f: f.fill_time, reverse=True)
        page = found[:FILLS_PAGE_SIZE]
        if before is not None and len(page) < FILLS_PAGE_SIZE and cover > _EPOCH:
            raise UnsupportedOperationError(
                f"fills is not available over the uws backend before {cover.isoformat()}: "
                "the executions stream shows the last 50 fills and every one since; use "
                "kf.stream.executions() to keep fills as they happen",
                endpoint="fills",
            )
        return page

    def find(self, *, cli_ord_id: str | None, order_id: str | None) -> dict[str, Any] | None:
        if order_id is None and cli_ord_id is not None:
            order_id = self._by_cl.get(cli_ord_id)
        return self.orders.get(order_id) if order_id is not None else None

    @staticmethod
    def is_open(order: dict[str, Any]) -> bool:
        """Whether the order, as last seen, still rests (or waits for its trigger)."""
        return order.get("order_status") in _OPEN

    def open_orders(self, symbol: str | None = None) -> list[dict[str, Any]]:
        return [
            order
            for order in self.orders.values()
            if order.get("order_status") in _OPEN
            and (symbol is None or str(order.get("symbol", "")).upper() == symbol.upper())
        ]

    def status_of(self, order: dict[str, Any]) -> OrderStatus:
        state = order.get("order_status")
        kind = str(order.get("order_type", ""))
        if state in _OPEN:
            untriggered = kind in _TRIGGER_TYPES and not order.get("triggered")
            status = "TRIGGER_PLACED" if untriggered else "ENTERED_BOOK"
        elif state == "filled":
            status = "FULLY_EXECUTED"
        else:
            status = "CANCELLED"
        triggers = order.get("triggers")
        options = None
        if isinstance(triggers, dict) and dec(triggers.get("price")) is not None:
            options = PriceTriggerOptions(
                trigger_price=dec(triggers["price"]) or Decimal(0),
                trigger_side="",
                trigger_signal=str(triggers.get("reference", "last")),
            )
        received = when(order.get("_received")) or when(order.get("timestamp")) or self._clock()
        cached = CachedOrder(
            type=_REST_TYPE.get(kind, kind),
            order_id=str(order["order_id"]),
            symbol=str(order.get("symbol", "")),
            side=_side(order.get("side")),
            reduce_only=bool(order.get("reduce_only", False)),
            timestamp=received,
            cli_ord_id=order.get("cl_ord_id"),
            quantity=dec(order.get("order_qty")),
            filled=dec(order.get("cum_qty")) or Decimal(0),
            limit_price=dec(order.get("limit_price")),
            last_update_timestamp=when(order.get("timestamp")),
            price_trigger_options=options,
        )
        reason = order.get("reason") or order.get("cancel_reason")
        return OrderStatus(
            order=cached, status=status, update_reason=str(reason) if reason else None
        )

    def open_order(self, order: dict[str, Any]) -> OpenOrder:
        found = self.status_of(order)
        cached = found.order
        filled = cached.filled or Decimal(0)
        triggers = cached.price_trigger_options
        return OpenOrder(
            order_id=cached.order_id,
            status="partiallyFilled" if filled > 0 else "untouched",
            side=cached.side,
            order_type=_OPEN_TYPE.get(cached.type, cached.type),
            symbol=cached.symbol,
            filled_size=filled,
            reduce_only=cached.reduce_only,
            received_time=cached.timestamp,
            last_update_time=cached.last_update_timestamp or cached.timestamp,
            cli_ord_id=cached.cli_ord_id,
            limit_price=cached.limit_price,
            stop_price=triggers.trigger_price if triggers else None,
            unfilled_size=None if cached.quantity is None else cached.quantity - filled,
            trigger_signal=(
                _OPEN_SIGNAL.get(triggers.trigger_signal, triggers.trigger_signal)
                if triggers
                else None
            ),
        )


class PositionsState(_Live):
    """Open positions as the ``positions`` channel shows them (choice 9)."""

    def __init__(self) -> None:
        super().__init__()
        self.positions: dict[str, OpenPosition] = {}

    def deliver(self, kind: str, data: Any) -> None:
        futures = data.get("futures") if isinstance(data, dict) else None
        elements = [e for e in futures if isinstance(e, dict)] if isinstance(futures, list) else []
        if kind == "snapshot":
            self.positions.clear()
        for element in elements:
            symbol, size = element.get("symbol"), dec(element.get("size"))
            if not isinstance(symbol, str) or size is None:
                continue
            if size == 0:
                self.positions.pop(symbol, None)
                continue
            side = element.get("side")
            short = side == "short" if side in ("long", "short") else size < 0
            self.positions[symbol] = OpenPosition(
                symbol=symbol,
                side=PositionSide.SHORT if short else PositionSide.LONG,
                size=abs(size),
                price=dec(element.get("entry_price")) or Decimal(0),
                fill_time=when(element.get("timestamp")),
                unrealized_funding=dec(element.get("unrealized_funding")),
            )
        if kind == "snapshot":
            self._snapshot_done()


class BalancesState(_Live):
    """Asset balances as the ``balances`` channel shows them (choice 10)."""

    def __init__(self) -> None:
        super().__init__()
        self.balances: dict[str, Decimal] = {}

    def deliver(self, kind: str, data: Any) -> None:
        if kind == "snapshot":
            self.balances.clear()
        for element in data if isinstance(data, list) else []:
            if not isinstance(element, dict):
                continue
            asset, balance = element.get("asset"), dec(element.get("balance"))
            if isinstance(asset, str) and balance is not None:
                self.balances[asset.lower()] = balance
        if kind == "snapshot":
            self._snapshot_done()

    def accounts(self) -> Accounts:
        return Accounts(cash=CashAccount(type="cashAccount", balances=dict(self.balances)))


class UwsOrderLookup:
    """Order safety's lookup over the executions stream (an :class:`OrderLookup`)."""

    def __init__(
        self,
        state: ExecutionsState,
        ready: Callable[[], Any],
        barrier: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        self._state = state
        self._ready = ready
        #: A round trip on the socket (True once its answer came): every push the exchange
        #: sent before answering it has arrived, so an order event still in flight is seen.
        self._barrier = barrier

    async def status(self, *, cli_ord_id: str | None, order_id: str | None) -> OrderStatus | None:
        await self._ready()
        found = self._state.find(cli_ord_id=cli_ord_id, order_id=order_id)
        return None if found is None else self._state.status_of(found)

    async def trace(
        self, *, cli_ord_id: str | None, order_id: str | None, since: dt.datetime | None
    ) -> OrderTrace:
        await self._ready()
        trace = self._look(cli_ord_id, order_id, since)
        if trace.found or not self._state.live or self._barrier is None:
            return trace
        # "nothing" counts only once what is in flight has arrived
        if not await self._barrier():
            return OrderTrace(None, trace.fills, False)
        trace = self._look(cli_ord_id, order_id, since)
        if trace.found or trace.complete or not self._state.live:
            return trace
        # live, and still blind to it: the snapshot shows no more, nothing else will come
        return OrderTrace(None, trace.fills, False, final=True)

    def _look(
        self, cli_ord_id: str | None, order_id: str | None, since: dt.datetime | None
    ) -> OrderTrace:
        state = self._state
        found = state.find(cli_ord_id=cli_ord_id, order_id=order_id)
        if found is not None:
            return OrderTrace(state.status_of(found), (), True)
        fills = tuple(
            fill
            for fill in state.fills
            if (cli_ord_id and fill.cli_ord_id == cli_ord_id)
            or (order_id and fill.order_id == order_id)
        )
        watched = state.watched(cli_ord_id) if cli_ord_id else None
        if watched is not None:
            # every event and fill since the request left came on this live subscription
            return OrderTrace(None, fills, watched)
        cover, events = state.covered_from, state.events_from
        complete = (
            state.live
            and cover is not None
            and events is not None
            and (since is None or (cover <= since and events <= since))
        )
        return OrderTrace(None, fills, complete)

    async def recorded(self, cli_ord_id: str, since: dt.datetime) -> OrderRecord | None:
        return None
