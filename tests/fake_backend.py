"""An in-memory backend with a tiny exchange behind it: no HTTP, no REST code, no wire.

:class:`FakeBackend` follows :class:`~kraken_futures_async.backend.Backend`, so
``Session(backend=FakeBackend())`` runs resources, order safety, the tracker and the dead
man's switch over it. Behind it :class:`FakeExchange` keeps resting orders (by id and client
order id), fills, positions, wallets, the order statuses Kraken shows (open orders and those
closed a few seconds ago), its own record of placed orders, and the dead man's switch timer.

The exchange's clock (:class:`FakeClock`) follows the event loop's clock (so on the virtual
loop of ``virtual_clock.py`` an ``asyncio.sleep`` moves it too) plus what a test adds.

Faults a test schedules: lose the next answers of an operation after the exchange applied the
request, or before it arrived; delay a request in transit (so its ``processBefore`` passes on
the way); let the client's estimate of the exchange clock lag behind; make order lookups
fail. ``calls`` counts executes per operation name and ``log`` keeps each one.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import math
from collections import Counter, deque
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar, cast

import attrs

from kraken_futures_async.backend import Observer, tell_observers
from kraken_futures_async.errors import (
    NotFoundError,
    OrderRejectedError,
    RequestTimeoutError,
    TransportError,
    UnavailableError,
    UnsupportedOperationError,
)
from kraken_futures_async.models import (
    DeadManSwitchStatus,
    OrderStatus,
    Ticker,
)
from kraken_futures_async.models.history import (
    OrderUpdated,
)
from kraken_futures_async.operations import (
    CancelAll,
    CancelAllAfter,
    FillsQuery,
    Operation,
    OrderStatusQuery,
    OwnDeadline,
)
from kraken_futures_async.operations import catalog as ops
from kraken_futures_async.operations.market import SymbolQuery
from kraken_futures_async.ratelimit import RateLimiter, RateLimitPolicy
from kraken_futures_async.safety.lookup import OrderRecord, OrderTrace

if TYPE_CHECKING:
    from kraken_futures_async.backend import Backend

from .fake_exchange import START, FakeClock, FakeExchange, FakeOrder

RequestT = TypeVar("RequestT")
ResultT = TypeVar("ResultT")

__all__ = [
    "START",
    "Call",
    "FakeBackend",
    "FakeClock",
    "FakeExchange",
    "FakeOrder",
    "FakeOrderLookup",
]

#: A Call's outcome by whether its answer was lost.
_ANSWERED = {False: "answered", True: "lost"}
_REFUSED = {False: "refused", True: "lost-refused"}


@attrs.frozen
class Call:
    """One execute as the fake saw it."""

    operation: str
    request: Any
    #: The client's estimate of the exchange time when it sent the request.
    sent_at: dt.datetime
    #: The processBefore this attempt carried (the library's as stamped now, or the caller's).
    deadline: dt.datetime | None
    #: The exchange time it arrived (None: lost before it got there).
    arrived_at: dt.datetime | None
    #: "answered", "refused" (an answer too), "dropped" (lost before arriving), or the
    #: answer lost after arriving: "lost" (applied) or "lost-refused".
    outcome: str


@attrs.frozen
class _Fault:
    applied: bool
    error: type[TransportError]
    #: A stall: the caller gives up after ``gives_up_after`` s, the request lands after
    #: ``arrives_after`` s all the same (None: it arrives, or not, while the caller waits).
    arrives_after: float | None = None
    gives_up_after: float = 0.0


class FakeOrderLookup:
    """Order safety's lookup, reading the fake exchange's state (no operation is executed)."""

    def __init__(self, backend: FakeBackend) -> None:
        self._backend = backend

    async def status(self, *, cli_ord_id: str | None, order_id: str | None) -> OrderStatus | None:
        now = await self._backend.looking("status")
        query = (
            OrderStatusQuery(cli_ord_ids=[cli_ord_id])
            if cli_ord_id
            else OrderStatusQuery(order_ids=[order_id or ""])
        )
        found = self._backend.exchange.statuses(query, now)
        self._backend.tell("order_status", query, found)
        return found[0] if found else None

    async def trace(
        self, *, cli_ord_id: str | None, order_id: str | None, since: dt.datetime | None
    ) -> OrderTrace:
        status = await self.status(cli_ord_id=cli_ord_id, order_id=order_id)
        if status is not None:
            return OrderTrace(status, (), True)
        await self._backend.looking("fills")
        fills = tuple(
            f
            for f in self._backend.exchange.fills
            if (since is None or f.fill_time >= since)
            and ((cli_ord_id and f.cli_ord_id == cli_ord_id) or f.order_id == order_id)
        )
        # every fill is in memory: the search always reaches back as far as asked
        return OrderTrace(None, fills, True)

    async def recorded(self, cli_ord_id: str, since: dt.datetime) -> OrderRecord | None:
        await self._backend.looking("recorded")
        for when, event in self._backend.exchange.record:
            order = event.new_order if isinstance(event, OrderUpdated) else event.order
            if when >= since and order.client_id == cli_ord_id:
                return event
        return None


class FakeBackend:
    """A :class:`~kraken_futures_async.backend.Backend` over :class:`FakeExchange`.

    ``latency``: virtual seconds every request and lookup spends in transit. ``clock_lag``:
    how far the client's estimate of the exchange time (:meth:`server_now`) runs behind it.
    """

    name = "fake"

    #: What this backend serves; everything else is unsupported.
    SUPPORTED = frozenset(
        op.name
        for op in (
            ops.TICKERS,
            ops.TICKER,
            ops.INSTRUMENTS,
            ops.ACCOUNTS,
            ops.OPEN_POSITIONS,
            ops.OPEN_ORDERS,
            ops.FILLS,
            ops.ORDER_STATUS,
            ops.SEND_ORDER,
            ops.EDIT_ORDER,
            ops.CANCEL_ORDER,
            ops.CANCEL_ALL_ORDERS,
            ops.CANCEL_ALL_ORDERS_AFTER,
        )
    )

    def __init__(
        self,
        exchange: FakeExchange | None = None,
        *,
        clock: FakeClock | None = None,
        latency: float = 0.0,
        clock_lag: float = 0.0,
        without: tuple[Operation[Any, Any], ...] = (),
    ) -> None:
        #: What this fake serves: what it implements, less ``without``.
        self.served = self.SUPPORTED - {op.name for op in without}
        self.exchange = exchange or FakeExchange()
        self.clock = clock or FakeClock()
        self.latency = latency
        self.clock_lag = clock_lag
        self.calls: Counter[str] = Counter()
        self.log: list[Call] = []
        #: Lookups by kind (status, fills, recorded) and the exchange times they ran at.
        self.lookups: Counter[str] = Counter()
        self.lookup_times: list[tuple[str, dt.datetime]] = []
        self.opened = 0
        self.closed = 0
        self._faults: dict[str, deque[_Fault]] = {}
        self._delays: dict[str, deque[float]] = {}
        self._lookup_failures: float = 0
        self._in_transit: set[asyncio.Task[None]] = set()
        self._observers: list[Observer] = []
        self._lookup = FakeOrderLookup(self)
        self._limiter = RateLimiter(RateLimitPolicy.unlimited())
        self._dms_timer: asyncio.TimerHandle | None = None
        self._handlers: dict[str, Callable[[Any, dt.datetime | None, dt.datetime], Any]] = {
            "tickers": lambda _r, _d, _n: self.exchange.tickers(),
            "ticker": self._ticker,
            "instruments": lambda _r, _d, _n: list(self.exchange.instruments),
            "accounts": lambda _r, _d, _n: self.exchange.accounts(),
            "open_positions": lambda _r, _d, _n: self.exchange.open_positions(),
            "open_orders": lambda _r, _d, _n: [o.open_order() for o in self.exchange.open_orders()],
            "fills": lambda r, _d, _n: self.exchange.fills_before(cast(FillsQuery, r).before),
            "order_status": lambda r, _d, n: self.exchange.statuses(r, n),
            "send_order": self.exchange.place,
            "edit_order": self.exchange.edit,
            "cancel_order": lambda r, _d, n: self.exchange.cancel_one(r, n),
            "cancel_all_orders": lambda r, _d, n: self.exchange.cancel_all(
                cast(CancelAll, r).symbol, n, "cancelled_by_user"
            ),
            "cancel_all_orders_after": self._arm,
        }
        assert set(self._handlers) == self.SUPPORTED

    def __repr__(self) -> str:
        return f"<FakeBackend {len(self.exchange.placements)} orders>"

    # --- faults a test schedules ---------------------------------------------------------

    def lose_answers(
        self,
        operation: Operation[Any, Any],
        times: int = 1,
        *,
        applied: bool,
        error: type[TransportError] = RequestTimeoutError,
    ) -> None:
        """Lose the answer of the next ``times`` executes of ``operation``: after the exchange
        applied the request (``applied``) or before it arrived; the caller gets ``error``."""
        queue = self._faults.setdefault(operation.name, deque())
        queue.extend(_Fault(applied, error) for _ in range(times))

    def stall(
        self,
        operation: Operation[Any, Any],
        arrives_after: float,
        *,
        gives_up_after: float = 0.2,
        times: int = 1,
    ) -> None:
        """The next ``times`` requests of ``operation`` hang in transit: the caller times out
        after ``gives_up_after`` s (an ambiguous RequestTimeoutError) while the request still
        reaches the exchange ``arrives_after`` s after it left, to be applied or refused as
        late there."""
        queue = self._faults.setdefault(operation.name, deque())
        fault = _Fault(True, RequestTimeoutError, arrives_after, gives_up_after)
        queue.extend(fault for _ in range(times))

    def delay_next(self, operation: Operation[Any, Any], seconds: float, times: int = 1) -> None:
        """Hold the next ``times`` requests of ``operation`` in transit ``seconds`` longer."""
        self._delays.setdefault(operation.name, deque()).extend([seconds] * times)

    def fail_lookups(self, times: float = math.inf) -> None:
        """Make the next ``times`` order lookups fail (by default every one from now on)."""
        self._lookup_failures = times

    # --- the Backend protocol ------------------------------------------------------------

    def supports(self, operation: Operation[Any, Any]) -> bool:
        return operation.name in self.served

    def why_unsupported(self, operation: Operation[Any, Any]) -> str:
        return f"{operation.name} is not available over the fake backend (it serves few)"

    async def execute(self, operation: Operation[RequestT, ResultT], request: RequestT) -> ResultT:
        name = operation.name
        self.calls[name] += 1
        if name not in self.served:  # the Session asks supports() first
            raise UnsupportedOperationError(f"the fake backend has no {name}", endpoint=name)
        sent_at = self.server_now()
        deadline = self._deadline_of(request, sent_at)
        fault = self._faults[name].popleft() if self._faults.get(name) else None
        delay = self._delays[name].popleft() if self._delays.get(name) else 0.0

        def arrive(lost: bool) -> Any:
            now = self.now()
            try:
                result = self._handlers[name](request, deadline, now)
            except OrderRejectedError:
                self.log.append(Call(name, request, sent_at, deadline, now, _REFUSED[lost]))
                raise
            self.log.append(Call(name, request, sent_at, deadline, now, _ANSWERED[lost]))
            return result

        if fault is not None and fault.arrives_after is not None:
            self._land_later(fault.arrives_after + delay, arrive)
            await asyncio.sleep(fault.gives_up_after)
            raise fault.error(f"{name}: no answer in time (fake)", endpoint=name)
        await asyncio.sleep(self.latency + delay)
        if fault is not None and not fault.applied:
            self.log.append(Call(name, request, sent_at, deadline, None, "dropped"))
            raise fault.error(f"{name}: the request was lost on the way (fake)", endpoint=name)
        try:
            result = arrive(fault is not None)
        except OrderRejectedError:
            if fault is None:
                raise
        if fault is not None:
            raise fault.error(f"{name}: the answer was lost (fake)", endpoint=name)
        self.tell(name, request, result)
        return cast(ResultT, result)

    def _land_later(self, seconds: float, arrive: Callable[[bool], Any]) -> None:
        async def land() -> None:
            await asyncio.sleep(seconds)
            with contextlib.suppress(OrderRejectedError):
                arrive(True)

        task = asyncio.get_running_loop().create_task(land())
        self._in_transit.add(task)
        task.add_done_callback(self._in_transit.discard)

    def server_now(self) -> dt.datetime:
        """The client's estimate of the exchange time (``clock_lag`` behind the truth)."""
        return self.now() - dt.timedelta(seconds=self.clock_lag)

    def add_observer(self, observer: Observer) -> None:
        self._observers.append(observer)

    @property
    def order_lookup(self) -> FakeOrderLookup:
        return self._lookup

    @property
    def limiter(self) -> RateLimiter:
        return self._limiter

    async def open(self) -> None:
        self.opened += 1

    async def aclose(self) -> None:
        self.closed += 1

    # --- the exchange side ---------------------------------------------------------------

    def now(self) -> dt.datetime:
        """The exchange's true time; time passing lets the dead man's switch fire."""
        now = self.clock.now()
        self.exchange.tick(now)
        return now

    def fill(self, cli_ord_id: str, size: Decimal | int, price: Decimal | int) -> None:
        """A counterparty executes ``size`` of the open order with this client order id."""
        order = self.exchange.find(order_id=None, cli_ord_id=cli_ord_id)
        if order is None or not order.is_open:
            raise LookupError(f"no open order {cli_ord_id}")
        self.exchange.fill(order, Decimal(size), Decimal(price), self.now(), taker=False)

    def tell(self, operation: str, request: Any, result: Any) -> None:
        tell_observers(self._observers, operation, request, result)

    async def looking(self, kind: str) -> dt.datetime:
        """One lookup's transit; fails while :meth:`fail_lookups` says so."""
        self.lookups[kind] += 1
        await asyncio.sleep(self.latency)
        now = self.now()
        self.lookup_times.append((kind, now))
        if self._lookup_failures > 0:
            self._lookup_failures -= 1
            raise UnavailableError(f"{kind} lookup failed (fake)", endpoint="order_status")
        return now

    @staticmethod
    def _deadline_of(request: Any, sent_at: dt.datetime) -> dt.datetime | None:
        """The processBefore of this attempt: the library's own is stamped now, every time."""
        value = getattr(request, "process_before", None)
        if isinstance(value, OwnDeadline):
            return value.stamp(sent_at)
        return cast(dt.datetime | None, value)

    def _ticker(self, request: Any, _d: dt.datetime | None, _n: dt.datetime) -> Ticker:
        symbol = cast(SymbolQuery, request).symbol
        found = [t for t in self.exchange.tickers() if t.symbol == symbol]
        if not found:
            raise NotFoundError(f"the fake lists no {symbol}", endpoint="ticker")
        return found[0]

    def _arm(self, request: Any, _d: dt.datetime | None, now: dt.datetime) -> DeadManSwitchStatus:
        timeout = cast(CancelAllAfter, request).timeout
        status = self.exchange.arm(timeout, now)
        if self._dms_timer is not None:
            self._dms_timer.cancel()
            self._dms_timer = None
        if timeout:
            # fire on time even if nobody calls: the exchange does not wait for its clients
            self._dms_timer = asyncio.get_running_loop().call_later(timeout, self.now)
        return status


if TYPE_CHECKING:

    def _is_a_backend(fake: FakeBackend) -> Backend:
        return fake
