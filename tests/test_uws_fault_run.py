"""Order safety over the Unified WebSocket: 1,000 orders through the twin's private socket
while about a fifth of them go astray, none doubled, none misreported.

The twin is served by uvicorn on a loopback port (real sockets, real frames) in the same
event loop as the client, and that loop runs on virtual time (:mod:`tests.virtual_clock`),
with the twin's clock on it too: the exchange's deadlines, the client's ack waits, reconnect
backoff, the rate limiter and the reconciler's patience all follow one clock, so a quarter
of an hour of exchange time takes seconds. The twin's seeded socket faults
(:mod:`kraken_futures_async.simulator.uws.faults`) strike ``add_order``: the socket dropped
before the engine takes the order (with whatever else was in flight on it), dropped after it
took it, the ack lost with the socket up, the ack delayed within or past the client's wait,
the request lost with the socket up. The engine is wrapped in a :class:`TruthLedger` that
writes down every order it assessed: the truth each answer is held to.

Over UWS alone, "not found" after a dropped socket proves nothing (the executions snapshot
lists open orders and the last fills, not an order that closed unfilled meanwhile), so such
orders end as :class:`OrderStatusUnknownError`; they are counted, and held to carry their
client order id. :func:`run_fault_run` is also ``python -m benchmarks.uws_fault_run``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from decimal import Decimal
from typing import Any

import attrs
import pytest

from kraken_futures_async import (
    KrakenFuturesError,
    OrderRejectedError,
    OrderStatusUnknownError,
    Session,
)
from kraken_futures_async.errors import ConnectionFailedError, RequestTimeoutError
from kraken_futures_async.models import OrderRequestStatus, SendOrderResult
from kraken_futures_async.operations import OwnDeadline, SendOrder
from kraken_futures_async.retry import OrderSafety
from kraken_futures_async.safety import OrderTrace, Reconciler
from kraken_futures_async.simulator import Twin, TwinConfig
from kraken_futures_async.simulator.engine import Exchange
from kraken_futures_async.simulator.twin import _bind, _server
from kraken_futures_async.simulator.uws import UwsConfig
from kraken_futures_async.simulator.uws.faults import (
    SocketFault,
    SocketFaultEvent,
    SocketFaultRule,
    SocketFaults,
)
from kraken_futures_async.uws import UwsSettings
from kraken_futures_async.uws.order_lookup import ExecutionsState, UwsOrderLookup

from .test_safety_support import Ledger, LoopClock, Outcome, Request, order_arguments
from .virtual_clock import VirtualClockLoop

SEED = 20261207
ORDERS = 1000
WORKERS = 8
#: Seconds a call waits for its ack (the Session's deadline): a delayed ack comes within it
#: or well after it.
ACK_WAIT = 2.0
DELAY_WITHIN = 0.5
DELAY_PAST = 6.0
#: Seconds each worker waits between two orders: 8 workers send about one order a second,
#: so a dropped socket (about one order in eleven) strikes every ten seconds or so.
PACE = 6.0
#: The library's own processBefore window, and the patience of the lookups.
SAFETY = OrderSafety(process_before=2.0, patience=60.0, poll_interval=0.5)
#: About a fifth of the orders meet one (1 - 0.955**3 * 0.975**2 * 0.97 = 20.0 %).
FAULT_MIX = (
    SocketFaultRule(kind=SocketFault.DROP_BEFORE, probability=0.045),
    SocketFaultRule(kind=SocketFault.DROP_AFTER, probability=0.045),
    SocketFaultRule(kind=SocketFault.ACK_LOST, probability=0.045),
    SocketFaultRule(kind=SocketFault.ACK_DELAYED, probability=0.025, delay=DELAY_WITHIN),
    SocketFaultRule(kind=SocketFault.ACK_DELAYED, probability=0.025, delay=DELAY_PAST),
    SocketFaultRule(kind=SocketFault.REQUEST_LOST, probability=0.03),
)
#: The engine's send_order statuses of an order it took (trading._ACCEPTED).
ACCEPTED = frozenset({"placed", "iocWouldNotExecute", "selfFill"})


class TruthLedger(Ledger):
    """The tests' Ledger, passing everything else (events, prices) through to the engine."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def accepted(self) -> dict[str, list[str]]:
        """Each client order id's order ids as the engine took them."""
        taken: dict[str, list[str]] = {}
        for request in self.of("send_order"):
            if request.status in ACCEPTED and request.cli_ord_id and request.order_id:
                taken.setdefault(request.cli_ord_id, []).append(request.order_id)
        return taken


class CountingFaults(SocketFaults):
    """The twin's socket faults, also counting each ``add_order`` the socket read."""

    def __init__(self, rules: tuple[SocketFaultRule, ...], seed: int) -> None:
        super().__init__(rules, seed)
        self.arrived: Counter[str] = Counter()

    def roll(
        self, method: str, req_id: int | None, params: Mapping[str, Any]
    ) -> SocketFaultEvent | None:
        cl_ord_id = params.get("cl_ord_id")
        if method == "add_order" and isinstance(cl_ord_id, str):
            self.arrived[cl_ord_id] += 1
        return super().roll(method, req_id, params)


@contextlib.asynccontextmanager
async def served_here(twin: Twin) -> AsyncIterator[str]:
    """Serve ``twin`` with uvicorn on a loopback port, in this loop; its base URL."""
    sock = _bind(0)
    server = _server(twin, log_config=False)
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        host, port = sock.getsockname()[:2]
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


def _not_sent(error: BaseException) -> bool:
    """An answer that says the order never left (so it cannot be on the book)."""
    if isinstance(error, ConnectionFailedError):
        return True
    return isinstance(error, RequestTimeoutError) and not error.sent


@attrs.frozen
class FaultRunReport:
    """What the client was told, held against what the engine did."""

    outcomes: list[Outcome]
    ledger: TruthLedger
    #: The fault that last struck each order: client order id -> its kind.
    struck: dict[str, str]
    #: Every fault that fired, by kind (an order sent again may meet another).
    faults: Counter[str]
    #: How many times each order's request reached the twin's socket.
    arrived: Counter[str]
    real_seconds: float
    virtual_seconds: float
    reconnects: int

    def accepted(self) -> dict[str, list[str]]:
        return self.ledger.accepted()

    @property
    def duplicates(self) -> dict[str, int]:
        return {cli: len(ids) for cli, ids in self.accepted().items() if len(ids) > 1}

    def wrong_answers(self) -> list[tuple[Outcome, list[str]]]:
        """Answers that say placed, or not placed, against the engine's word."""
        taken = self.accepted()
        wrong: list[tuple[Outcome, list[str]]] = []
        for outcome in self.outcomes:
            ids = taken.get(outcome.cli_ord_id, [])
            error = outcome.error
            if outcome.result is not None:
                right = ids == [outcome.result.order_id] and (
                    outcome.result.cli_ord_id == outcome.cli_ord_id
                )
            elif isinstance(error, OrderRejectedError) or (error is not None and _not_sent(error)):
                right = ids == []
            elif isinstance(error, OrderStatusUnknownError):
                right = error.cli_ord_id == outcome.cli_ord_id  # unknown, and says which order
            else:
                right = False  # anything else explains nothing
            if not right:
                wrong.append((outcome, ids))
        return wrong

    def unknown(self) -> list[Outcome]:
        return [o for o in self.outcomes if isinstance(o.error, OrderStatusUnknownError)]

    def figures(self) -> dict[str, int | float]:
        taken = self.accepted()
        unknown = self.unknown()
        return {
            "orders": len(self.outcomes),
            "faults": sum(self.faults.values()),
            "placed": sum(o.result is not None for o in self.outcomes),
            "rejected": sum(isinstance(o.error, OrderRejectedError) for o in self.outcomes),
            "not_sent": sum(o.error is not None and _not_sent(o.error) for o in self.outcomes),
            "unknown": len(unknown),
            "unknown_in_truth_placed": sum(o.cli_ord_id in taken for o in unknown),
            "unknown_in_truth_not_placed": sum(o.cli_ord_id not in taken for o in unknown),
            "sent_again": sum(n > 1 for n in self.arrived.values()),
            "duplicates": len(self.duplicates),
            "wrong_answers": len(self.wrong_answers()),
            "reconnects": self.reconnects,
            "virtual_seconds": round(self.virtual_seconds, 1),
            "real_seconds": round(self.real_seconds, 1),
        }

    def unknown_by_fault(self) -> Counter[str]:
        """Unknowns by the fault that struck the order ("none": struck by another's drop)."""
        return Counter(self.struck.get(o.cli_ord_id, "none") for o in self.unknown())

    def summary(self) -> str:
        figures = " ".join(f"{k}={v}" for k, v in self.figures().items())
        return (
            f"{figures}\nfaults: {dict(sorted(self.faults.items()))}\n"
            f"unknown by fault: {dict(sorted(self.unknown_by_fault().items()))}"
        )


async def _submit_all(
    kf: Session, ledger: Ledger, count: int, workers: int, seed: int
) -> list[Outcome]:
    rng = random.Random(seed)
    pending = list(range(count))
    outcomes: list[Outcome] = []

    async def worker() -> None:
        while pending:
            args = order_arguments(rng, ledger, pending.pop(0), prefix="uws")
            try:
                result = await kf.orders.send(**args)
            except Exception as exc:  # every kind is recorded; the report judges them
                outcomes.append(Outcome(args["cli_ord_id"], error=exc))
            else:
                outcomes.append(Outcome(args["cli_ord_id"], result=result))
            await asyncio.sleep(PACE)

    await asyncio.gather(*(worker() for _ in range(workers)))
    return outcomes


def run_fault_run(
    orders: int = ORDERS, *, seed: int = SEED, workers: int = WORKERS
) -> FaultRunReport:
    """Send ``orders`` orders over the twin's faulty private socket; the report."""
    clock = LoopClock()
    ledger = TruthLedger(Exchange(seed=seed, clock=clock))
    twin = Twin(TwinConfig(seed=seed, clock=clock, rate_limits=False), exchange=ledger)
    server = twin.app.uws
    # the private tick reads every open order; five seconds is often enough for the run
    server.config = UwsConfig(tick_interval=5.0, socket_faults=FAULT_MIX, fault_seed=seed)
    counting = server.socket_faults = CountingFaults(FAULT_MIX, seed)
    settings = UwsSettings(ack_timeout=ACK_WAIT, backoff_initial=0.2, backoff_max=2.0)

    async def scenario() -> tuple[list[Outcome], int]:
        async with (
            served_here(twin) as url,
            Session(
                twin.credentials(),
                base_url=url,
                backend="uws",
                deadline=ACK_WAIT,
                order_safety=SAFETY,
                stream_settings=settings,
            ) as kf,
        ):
            await kf.orders.open()  # the executions stream live, the exchange's clock known
            outcomes = await _submit_all(kf, ledger, orders, workers, seed)
            backend: Any = kf.backend
            return outcomes, backend.connection.reconnects

    shared = random.getstate()
    random.seed(seed)  # the client's reconnect jitter
    started = time.perf_counter()
    try:
        with asyncio.Runner(loop_factory=VirtualClockLoop) as runner:
            loop = runner.get_loop()
            begun = loop.time()
            outcomes, reconnects = runner.run(scenario())
            virtual = loop.time() - begun
    finally:
        random.setstate(shared)
    kinds = [
        (e.cl_ord_id or "", e.kind.value + (f"_{e.delay:g}s" if e.delay else ""))
        for e in counting.events
    ]
    return FaultRunReport(
        outcomes,
        ledger,
        dict(kinds),
        Counter(kind for _, kind in kinds),
        counting.arrived,
        time.perf_counter() - started,
        virtual,
        reconnects,
    )


def test_a_thousand_orders_over_a_faulty_socket_none_doubled_none_misreported() -> None:
    report = run_fault_run()
    print("\n" + report.summary())
    figures = report.figures()
    assert figures["orders"] == ORDERS
    assert report.duplicates == {}
    assert report.wrong_answers() == []
    # every unknown names its order
    assert all(o.error is not None and o.cli_ord_id in str(o.error) for o in report.unknown())
    # the faults really were mixed in, every kind many times over
    assert 0.15 < figures["faults"] / ORDERS < 0.25
    for kind in (
        "drop_before",
        "drop_after",
        "ack_lost",
        "ack_delayed_0.5s",
        "ack_delayed_6s",
        "request_lost",
    ):
        assert report.faults[kind] >= 10, kind
    assert figures["reconnects"] >= report.faults["drop_before"] + report.faults["drop_after"]
    # lost orders proven absent were sent again (and none doubled, above)
    assert figures["sent_again"] >= 10
    assert report.unknown_by_fault()["request_lost"] <= report.faults["request_lost"] // 2
    # the truth was found for nearly every order: unknowns are the drops' price, no more
    assert figures["unknown"] <= ORDERS * 0.12
    assert figures["placed"] + figures["rejected"] >= ORDERS * 0.85


def test_the_truth_is_held_to_each_answer() -> None:
    """The judge itself: a doubled order and a false "placed" are caught."""
    ledger = TruthLedger(Exchange(seed=1, clock=LoopClock()))
    ledger.requests.extend(
        [
            Request("send_order", {}, "placed", "id-1", "a"),
            Request("send_order", {}, "placed", "id-2", "a"),
            Request("send_order", {}, "insufficientAvailableFunds", None, "b"),
        ]
    )
    now = dt.datetime(2026, 11, 24, tzinfo=dt.UTC)
    placed = SendOrderResult(
        status=OrderRequestStatus.PLACED, order_id="id-9", cli_ord_id="b", received_time=now
    )
    outcomes = [
        Outcome("a", error=OrderStatusUnknownError("?", cli_ord_id="a")),
        Outcome("b", result=placed),
    ]
    report = FaultRunReport(outcomes, ledger, {}, Counter(), Counter(), 0.0, 0.0, 0)
    assert report.duplicates == {"a": 2}
    assert [o.cli_ord_id for o, _ in report.wrong_answers()] == ["b"]
    assert report.figures()["unknown_in_truth_placed"] == 1
    assert isinstance(outcomes[0].error, KrakenFuturesError)


# --- the lookup's rule, piece by piece -------------------------------------------------------

_T0 = dt.datetime(2026, 11, 24, tzinfo=dt.UTC)


async def _ready() -> None:
    """The lookup's wait for a live stream: already live here."""


def _live_state(at: list[dt.datetime]) -> ExecutionsState:
    state = ExecutionsState(lambda: at[0])
    state.deliver("snapshot", [])
    return state


async def test_a_request_watched_on_one_live_subscription_is_proven_absent() -> None:
    at = [_T0]
    state = _live_state(at)
    lookup = UwsOrderLookup(state, _ready)
    at[0] = _T0 + dt.timedelta(seconds=0.1)  # sent right after the snapshot: no slack needed
    state.sending("quiet")
    trace = await lookup.trace(cli_ord_id="quiet", order_id=None, since=_T0)
    assert trace.status is None
    assert trace.complete


async def test_a_drop_after_the_request_left_leaves_its_absence_unproven() -> None:
    """An IOC that found nothing closed while the socket was down: the next snapshot lists
    open orders and fills only, so "not found" proves nothing (the run's first bug)."""
    at = [_T0]
    state = _live_state(at)
    lookup = UwsOrderLookup(state, _ready)
    state.sending("in-flight")
    state.link_lost()
    at[0] = _T0 + dt.timedelta(seconds=5)
    state.deliver("snapshot", [])  # live again, nothing of it
    trace = await lookup.trace(cli_ord_id="in-flight", order_id=None, since=_T0)
    assert trace.status is None
    assert not trace.complete
    # a request sent again under the new subscription does not make the first one watched
    state.sending("in-flight")
    again = await lookup.trace(cli_ord_id="in-flight", order_id=None, since=_T0)
    assert not again.complete


async def test_requests_not_announced_need_the_snapshot_before_they_left() -> None:
    at = [_T0 + dt.timedelta(seconds=10)]
    state = _live_state(at)
    lookup = UwsOrderLookup(state, _ready)
    before = await lookup.trace(cli_ord_id="x", order_id=None, since=_T0)
    after = await lookup.trace(cli_ord_id="x", order_id=None, since=_T0 + dt.timedelta(seconds=11))
    assert not before.complete
    assert after.complete
    state.link_lost()
    lost = await lookup.trace(cli_ord_id="x", order_id=None, since=_T0 + dt.timedelta(seconds=11))
    assert not lost.complete


async def test_nothing_counts_as_proof_only_after_a_round_trip_on_the_socket() -> None:
    """An order taken just before its deadline: its "new" event may still be on the way."""
    at = [_T0]
    state = _live_state(at)
    state.sending("late-event")
    in_flight = {
        "order_id": "9b1c0000-0000-4000-8000-000000000001",
        "cl_ord_id": "late-event",
        "exec_type": "new",
        "order_status": "new",
        "symbol": "PF_XBTUSD",
        "side": "buy",
        "order_type": "limit",
        "order_qty": "0.01",
        "timestamp": "2026-11-24T00:00:00.000000Z",
    }

    async def pong_after_the_event() -> bool:
        state.deliver("update", [in_flight])  # sent before the pong, so it arrives first
        return True

    async def no_pong() -> bool:
        return False

    found = await UwsOrderLookup(state, _ready, pong_after_the_event).trace(
        cli_ord_id="late-event", order_id=None, since=_T0
    )
    assert found.status is not None
    assert found.status.order.order_id == in_flight["order_id"]
    state.sending("silent")
    unproven = await UwsOrderLookup(state, _ready, no_pong).trace(
        cli_ord_id="silent", order_id=None, since=_T0
    )
    assert unproven.status is None
    assert not unproven.complete


async def test_after_a_drop_a_live_stream_that_still_shows_nothing_is_final() -> None:
    at = [_T0]
    state = _live_state(at)

    async def pong() -> bool:
        return True

    lookup = UwsOrderLookup(state, _ready, pong)
    state.sending("gone-dark")
    state.link_lost()
    reconnecting = await lookup.trace(cli_ord_id="gone-dark", order_id=None, since=_T0)
    assert not reconnecting.complete
    assert not reconnecting.final  # the next snapshot may still show it
    state.deliver("snapshot", [])
    trace = await lookup.trace(cli_ord_id="gone-dark", order_id=None, since=_T0)
    assert not trace.complete
    assert trace.final


class _BlindLookup:
    """A lookup that sees nothing and says it never will (what UWS says after a drop)."""

    def __init__(self) -> None:
        self.traces = 0

    async def status(self, *, cli_ord_id: str | None, order_id: str | None) -> None:
        return None

    async def trace(
        self, *, cli_ord_id: str | None, order_id: str | None, since: dt.datetime | None
    ) -> OrderTrace:
        self.traces += 1
        return OrderTrace(None, (), False, final=True)

    async def recorded(self, cli_ord_id: str, since: dt.datetime) -> None:
        return None


async def test_a_final_blind_lookup_after_the_deadline_is_unknown_at_once_never_resent() -> None:
    own = OwnDeadline(2.0)
    own.stamp(_T0)
    order = SendOrder(
        symbol="PF_XBTUSD",
        side="buy",
        size=Decimal("0.001"),
        order_type="lmt",
        limit_price=Decimal(50_000),
        cli_ord_id="blind",
        process_before=own,
    )
    lookup = _BlindLookup()
    reconciler = Reconciler(
        lookup=lookup, clock=lambda: _T0 + dt.timedelta(seconds=3), patience=600.0
    )
    resent: list[SendOrder] = []

    async def resend(request: SendOrder) -> SendOrderResult:
        resent.append(request)
        raise AssertionError("sent again")

    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(OrderStatusUnknownError) as caught:
        await reconciler.resolve_send(
            order, RequestTimeoutError("lost", sent=True), resend, since=_T0
        )
    assert caught.value.cli_ord_id == "blind"
    assert "from what the exchange still shows" in str(caught.value)
    assert resent == []
    assert lookup.traces == 1
    assert loop.time() - started < 5  # not the 600 s of patience
