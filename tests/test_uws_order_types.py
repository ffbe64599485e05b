"""The order paths of ``Session(backend="uws")`` no other test walks, end to end on a served
twin: every order type routes.py choice 2 names (seen in ``orders.open()`` as REST shows the
same account), the ``deadline`` clamp and local refusal (choice 4), what UWS has no value for
(refused before sending), ``cancel_all`` for one contract (choice 6) and the amend of a
trigger price (choice 3).

One twin serves the module. Its clock starts where a ManualClock does (so the seeded prices
are known, whatever the date) and then runs with the monotonic clock: the twin checks a
``deadline`` against its own time, and a clock standing still would make every sent deadline
look further ahead than it is. Each test opens its own sessions; the account's orders are
cancelled after each one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from decimal import Decimal
from typing import Any, TypeVar

import attrs
import pytest

from kraken_futures_async import (
    InvalidArgumentError,
    OrderRejectedError,
    RateLimitPolicy,
    Session,
)
from kraken_futures_async.models import OpenOrder, OrderRequestStatus
from kraken_futures_async.simulator import RunningTwin, run_in_thread
from kraken_futures_async.simulator.clock import DEFAULT_START
from kraken_futures_async.uws.backend import UwsBackend
from tests.served_twins import uws_twin

SYMBOL = "PF_XBTUSD"
OTHER = "PF_ETHUSD"
SIZE = Decimal("0.001")
#: The seeded twin's book is near 95,000 (the fixture checks): these never trigger.
ABOVE = Decimal(105000)
BELOW = Decimal(85000)
T = TypeVar("T")
Sent = list[tuple[str, dict[str, Any]]]


class RunningClock:
    """ManualClock's start, moving on with the monotonic clock."""

    def __init__(self) -> None:
        self._origin = time.monotonic()

    def time(self) -> float:
        return DEFAULT_START + time.monotonic() - self._origin


@pytest.fixture(scope="module")
def served() -> Iterator[RunningTwin]:
    with run_in_thread(uws_twin(RunningClock(), tick_interval=0.05), port=0) as running:
        yield running


@attrs.define
class Wires:
    """A uws Session and a REST Session on the same account, and what the uws one sent."""

    uws: Session
    rest: Session
    sent: Sent
    bid: Decimal
    ask: Decimal

    def methods(self) -> list[str]:
        return [method for method, _ in self.sent]

    def last(self, method: str) -> dict[str, Any]:
        return [params for name, params in self.sent if name == method][-1]


@pytest.fixture
async def wires(served: RunningTwin, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Wires]:
    book = served.twin.exchange.handle("orderbook", {"symbol": [SYMBOL]}, None)["orderBook"]
    bid, ask = Decimal(str(book["bids"][0][0])), Decimal(str(book["asks"][0][0]))
    assert BELOW * Decimal("1.05") < bid < ask < ABOVE * Decimal("0.95")
    credentials = served.twin.credentials()
    async with (
        Session(credentials, base_url=served.url, backend="uws") as uws,
        Session(credentials, base_url=served.url, rate_limits=RateLimitPolicy.unlimited()) as rest,
    ):
        backend = uws.backend
        assert isinstance(backend, UwsBackend)
        sent: Sent = []
        call = backend._call

        async def spy(method: str, params: Any, until: float | None) -> Any:
            sent.append((method, dict(params)))
            return await call(method, params, until)

        monkeypatch.setattr(backend, "_call", spy)
        try:
            yield Wires(uws, rest, sent, bid, ask)
        finally:
            await rest.orders.cancel_all()


async def _until(read: Callable[[], Awaitable[T]], done: Callable[[T], bool]) -> T:
    """``read()`` until ``done`` (a stream's push may trail its ack by a moment), 5 s at most."""
    async with asyncio.timeout(5):
        while True:
            value = await read()
            if done(value):
                return value
            await asyncio.sleep(0.02)


async def _open_one(kf: Session, cli_ord_id: str) -> OpenOrder:
    found = await _until(
        kf.orders.open, lambda found: any(o.cli_ord_id == cli_ord_id for o in found)
    )
    (order,) = [o for o in found if o.cli_ord_id == cli_ord_id]
    return order


def _view(order: OpenOrder) -> tuple[Any, ...]:
    return (
        order.order_type,
        order.side,
        order.limit_price,
        order.stop_price,
        order.trigger_signal,
        order.unfilled_size,
        order.filled_size,
    )


# --- 1. order types ---------------------------------------------------------------------------


@attrs.frozen
class Case:
    send: dict[str, Any]
    #: the ``add_order`` params that matter, as sent
    wire: dict[str, Any]
    #: ``orders.open()``: REST's ``orderType`` (lmt, stop, take_profit) and ``triggerSignal``
    #: (mark, last, spot), and the limit price
    order_type: str
    trigger_signal: str
    limit_price: Decimal | None
    #: the stop price; a trailing stop's from the book's mid price (the last price is near)
    stop: Decimal | Callable[[Decimal], Decimal]


CASES = {
    "take_profit": Case(
        dict(order_type="take_profit", side="sell", stop_price=ABOVE),
        {"order_type": "take-profit", "triggers": {"price": ABOVE, "price_type": "static"}},
        "take_profit",
        "last",
        None,
        ABOVE,
    ),
    "take_profit_limit": Case(
        dict(order_type="take_profit", side="sell", stop_price=ABOVE, limit_price=ABOVE - 100),
        {
            "order_type": "take-profit-limit",
            "limit_price": ABOVE - 100,
            "limit_price_type": "static",
            "triggers": {"price": ABOVE, "price_type": "static"},
        },
        "take_profit",
        "last",
        ABOVE - 100,
        ABOVE,
    ),
    "stop_limit_on_index": Case(
        dict(
            order_type="stp",
            side="sell",
            stop_price=BELOW,
            limit_price=BELOW - 100,
            trigger_signal="index",
        ),
        {
            "order_type": "stop-loss-limit",
            "limit_price": BELOW - 100,
            "triggers": {"price": BELOW, "price_type": "static", "reference": "index"},
        },
        "stop",
        "spot",
        BELOW - 100,
        BELOW,
    ),
    "trailing_stop_percent": Case(
        dict(
            order_type="trailing_stop",
            side="sell",
            trailing_stop_max_deviation=5,
            trailing_stop_deviation_unit="PERCENT",
        ),
        {"order_type": "trailing-stop", "triggers": {"price": 5, "price_type": "pct"}},
        "stop",
        "last",
        None,
        lambda mid: mid * Decimal("0.95"),
    ),
    "trailing_stop_limit_quote": Case(
        dict(
            order_type="trailing_stop",
            side="sell",
            trailing_stop_max_deviation=500,
            trailing_stop_deviation_unit="QUOTE_CURRENCY",
            limit_price_offset_value=10,
            limit_price_offset_unit="QUOTE_CURRENCY",
        ),
        {
            "order_type": "trailing-stop-limit",
            "limit_price": 10,
            "limit_price_type": "static",
            "triggers": {"price": 500, "price_type": "quote"},
        },
        "stop",
        "last",
        None,  # the offset is not a price: neither wire shows one
        lambda mid: mid - 500,
    ),
}


@pytest.mark.parametrize("name", list(CASES))
async def test_a_trigger_order_rests_as_rest_shows_it(wires: Wires, name: str) -> None:
    case = CASES[name]
    placed = await wires.uws.orders.send(symbol=SYMBOL, size=SIZE, cli_ord_id=name, **case.send)
    assert placed.status is OrderRequestStatus.PLACED
    assert placed.order_id
    sent = wires.last("add_order")
    assert {key: sent.get(key) for key in case.wire} == case.wire
    assert "time_in_force" not in sent
    assert "post_only" not in sent

    over_uws = await _open_one(wires.uws, name)
    over_rest = await _open_one(wires.rest, name)
    assert over_uws.order_id == over_rest.order_id == placed.order_id
    assert over_uws.symbol == SYMBOL
    assert over_uws.stop_price is not None
    if isinstance(case.stop, Decimal):
        assert over_uws.stop_price == case.stop
    else:  # the trailing stop follows the price: near where the book was, a second ago
        mid = (wires.bid + wires.ask) / 2
        assert abs(over_uws.stop_price - case.stop(mid)) < mid * Decimal("0.002")
        over_rest = attrs.evolve(over_rest, stop_price=over_uws.stop_price)
    assert _view(over_uws) == _view(over_rest)
    assert (over_uws.order_type, over_uws.trigger_signal, over_uws.limit_price) == (
        case.order_type,
        case.trigger_signal,
        case.limit_price,
    )


async def test_fill_or_kill_fills_whole_or_is_killed(wires: Wires) -> None:
    kf = wires.uws
    backend = kf.backend
    assert isinstance(backend, UwsBackend)
    far = (wires.bid * Decimal("0.95")).quantize(Decimal(1))
    through = (wires.ask * Decimal("1.01")).quantize(Decimal(1))
    for cli, price in (("fok-0", far), ("fok-1", through)):
        placed = await kf.orders.send(
            symbol=SYMBOL,
            side="buy",
            size=SIZE,
            order_type="fok",
            limit_price=price,
            cli_ord_id=cli,
        )
        # accepted by the engine either way (§6: the outcome comes on executions)
        assert placed.status is OrderRequestStatus.PLACED
    sends = [params for method, params in wires.sent if method == "add_order"]
    assert [(p["order_type"], p["time_in_force"], p["limit_price"]) for p in sends] == [
        ("limit", "fok", far),
        ("limit", "fok", through),
    ]

    async def seen() -> list[str | None]:
        found = [
            await backend.order_lookup.status(cli_ord_id=cli, order_id=None)
            for cli in ("fok-0", "fok-1")
        ]
        return [None if status is None else status.status for status in found]

    # the executions stream shows the fill; the killed order never rested, so it shows nothing
    assert await _until(seen, lambda shown: shown[1] == "FULLY_EXECUTED") == [
        None,
        "FULLY_EXECUTED",
    ]
    told = await wires.rest.orders.status(cli_ord_ids=["fok-0", "fok-1"])
    assert sorted((t.order.cli_ord_id, t.status, t.error) for t in told) == [
        ("fok-0", "REJECTED", "IOC_WOULD_NOT_EXECUTE"),
        ("fok-1", "FULLY_EXECUTED", None),
    ]
    for session in (kf, wires.rest):
        assert not {o.cli_ord_id for o in await session.orders.open()} & {"fok-0", "fok-1"}
    fills = [f for f in await wires.rest.orders.fills() if f.cli_ord_id in ("fok-0", "fok-1")]
    assert [(f.cli_ord_id, f.size) for f in fills] == [("fok-1", SIZE)]
    assert fills[0].price <= through


# --- 2. the caller's process_before -----------------------------------------------------------


async def test_a_deadline_further_than_60_s_is_sent_as_60_s(wires: Wires) -> None:
    backend = wires.uws.backend
    assert isinstance(backend, UwsBackend)
    await wires.uws.orders.open()  # the socket is up and the exchange clock known
    before = backend.server_now()
    placed = await wires.uws.orders.send(
        symbol=SYMBOL,
        side="buy",
        size=SIZE,
        limit_price=BELOW,
        cli_ord_id="late-ok",
        process_before=before + dt.timedelta(minutes=10),
    )
    after = backend.server_now()
    # the twin refuses a deadline more than 60 s ahead (EGeneral:Invalid arguments:deadline)
    assert placed.status is OrderRequestStatus.PLACED
    deadline = dt.datetime.fromisoformat(wires.last("add_order")["deadline"])
    tick = dt.timedelta(milliseconds=1)
    assert before + dt.timedelta(seconds=60) - tick <= deadline <= after + dt.timedelta(seconds=60)
    assert (await _open_one(wires.rest, "late-ok")).limit_price == BELOW


@pytest.mark.parametrize("ahead", [0.2, 0.0, -5.0])
async def test_a_deadline_closer_than_half_a_second_is_refused_unsent(
    wires: Wires, ahead: float
) -> None:
    backend = wires.uws.backend
    assert isinstance(backend, UwsBackend)
    await wires.uws.orders.open()  # the socket is up and the exchange clock known
    with pytest.raises(OrderRejectedError, match=r"0\.5 s") as refused:
        await wires.uws.orders.send(
            symbol=SYMBOL,
            side="buy",
            size=SIZE,
            limit_price=BELOW,
            cli_ord_id="too-late",
            process_before=backend.server_now() + dt.timedelta(seconds=ahead),
        )
    assert refused.value.status == OrderRequestStatus.WOULD_PROCESS_AFTER_SPECIFIED_TIME.value
    assert "add_order" not in wires.methods()
    assert await wires.rest.orders.open() == []


# --- 3. what UWS has no value for -------------------------------------------------------------

REFUSED_LOCALLY: dict[str, tuple[dict[str, Any], str]] = {
    "stop_on_mark": (
        dict(order_type="stp", stop_price=BELOW, trigger_signal="mark"),
        "no mark price",
    ),
    "trailing_stop_on_mark": (
        dict(
            order_type="trailing_stop",
            trailing_stop_max_deviation=5,
            trailing_stop_deviation_unit="PERCENT",
            trigger_signal="mark",
        ),
        "no mark price",
    ),
    "stop_with_limit_offset": (
        dict(
            order_type="stp",
            stop_price=BELOW,
            limit_price_offset_value=10,
            limit_price_offset_unit="QUOTE_CURRENCY",
        ),
        "only a static limit price",
    ),
    "trailing_stop_with_percent_offset": (
        dict(
            order_type="trailing_stop",
            trailing_stop_max_deviation=5,
            trailing_stop_deviation_unit="PERCENT",
            limit_price_offset_value=1,
            limit_price_offset_unit="PERCENT",
        ),
        "limit offset in the quote currency only",
    ),
}


@pytest.mark.parametrize("name", list(REFUSED_LOCALLY))
async def test_what_uws_cannot_say_is_refused_before_sending(wires: Wires, name: str) -> None:
    send, reason = REFUSED_LOCALLY[name]
    await wires.uws.orders.open()
    with pytest.raises(InvalidArgumentError, match=reason):
        await wires.uws.orders.send(symbol=SYMBOL, side="sell", size=SIZE, **send)
    assert "add_order" not in wires.methods()
    assert await wires.rest.orders.open() == []


# --- 4. cancel_all for one contract -----------------------------------------------------------


@pytest.mark.parametrize(("count", "method"), [(1, "cancel_order"), (3, "batch_cancel")])
async def test_cancel_all_for_one_symbol_leaves_the_other(
    wires: Wires, count: int, method: str
) -> None:
    kf = wires.uws
    mine = {f"xbt-{i}" for i in range(count)}
    for i, cli in enumerate(sorted(mine)):
        await kf.orders.send(
            symbol=SYMBOL, side="buy", size=SIZE, limit_price=BELOW - i, cli_ord_id=cli
        )
    other = await kf.orders.send(
        symbol=OTHER, side="buy", size=Decimal("0.01"), limit_price=Decimal(2000), cli_ord_id="eth"
    )
    shown = await _until(kf.orders.open, lambda found: len(found) == count + 1)
    ids = {o.order_id for o in shown if o.symbol == SYMBOL}

    result = await kf.orders.cancel_all(symbol=SYMBOL)

    assert result.status is OrderRequestStatus.CANCELLED
    assert result.cancel_only == SYMBOL
    assert {c.cli_ord_id for c in result.cancelled_orders} == mine
    assert {c.order_id for c in result.cancelled_orders} == ids
    assert "cancel_all" not in wires.methods()
    params = wires.last(method)
    assert set(params["order_id" if method == "cancel_order" else "orders"]) == ids
    for session in (wires.rest, kf):
        left = await _until(session.orders.open, lambda found: len(found) == 1)
        assert [(o.order_id, o.symbol, o.cli_ord_id) for o in left] == [
            (other.order_id, OTHER, "eth")
        ]


async def test_cancel_all_for_a_symbol_without_orders_sends_nothing(wires: Wires) -> None:
    kf = wires.uws
    other = await kf.orders.send(
        symbol=OTHER, side="buy", size=Decimal("0.01"), limit_price=Decimal(2000), cli_ord_id="eth"
    )
    await _open_one(kf, "eth")
    result = await kf.orders.cancel_all(symbol=SYMBOL)
    assert result.status is OrderRequestStatus.NO_ORDERS_TO_CANCEL
    assert result.cancelled_orders == ()
    assert not {"cancel_all", "cancel_order", "batch_cancel"} & set(wires.methods())
    assert [o.order_id for o in await wires.rest.orders.open()] == [other.order_id]


# --- 5. amending a trigger price --------------------------------------------------------------


@pytest.mark.parametrize(
    ("order_type", "stop", "moved"),
    [("take_profit", ABOVE, ABOVE + 500), ("stp", BELOW, BELOW - 500)],
)
async def test_amending_a_trigger_price_shows_the_new_one(
    wires: Wires, order_type: str, stop: Decimal, moved: Decimal
) -> None:
    kf = wires.uws
    placed = await kf.orders.send(
        symbol=SYMBOL, side="sell", size=SIZE, order_type=order_type, stop_price=stop
    )
    assert placed.order_id
    assert (await _open_one(kf, placed.cli_ord_id or "")).stop_price == stop

    edited = await kf.orders.edit(order_id=placed.order_id, stop_price=moved)

    assert edited.status is OrderRequestStatus.EDITED
    assert edited.order_id == placed.order_id
    assert wires.last("amend_order")["trigger_price"] == moved
    found = await _until(kf.orders.open, lambda found: [o.stop_price for o in found] == [moved])
    (rest_order,) = await wires.rest.orders.open()
    assert _view(found[0]) == _view(rest_order)
    assert (rest_order.order_id, rest_order.stop_price) == (placed.order_id, moved)
