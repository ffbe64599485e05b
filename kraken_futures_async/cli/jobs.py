"""The command's jobs, as plain coroutines over a Session: no printing, no argument parsing.

Each job returns a value the renderer turns into a table or JSON, and reports how far it got
through a :class:`Progress`, so the same job runs under a progress bar, in ``--json`` mode or
in a test. Everything here goes through the library's public API.
"""

from __future__ import annotations

import asyncio
import difflib
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import attrs

from ..errors import InvalidRequestError, KrakenFuturesError
from ..models import Instrument, OrderBook, Ticker
from ..ratelimit import Budget
from ..session import Session
from .meter import LatencySummary
from .target import Connection

if TYPE_CHECKING:
    from .watch import StreamStep

T = TypeVar("T")

__all__ = [
    "BenchReport",
    "BenchRow",
    "BudgetReport",
    "DemoReport",
    "NoProgress",
    "Progress",
    "Snapshot",
    "TradeLog",
    "TradeStep",
    "UnknownSymbolError",
    "bench",
    "demo",
    "find_instrument",
    "nearest_symbols",
    "order_book",
    "order_size",
    "plural",
    "snapshot",
    "trade",
    "unlisted",
]


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 ticker``, ``2 tickers`` (``nouns`` for irregular plurals)."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


# --- symbols ------------------------------------------------------------------------------


class UnknownSymbolError(KrakenFuturesError):
    """Symbols the exchange does not list, each with the nearest ones it does."""

    def __init__(self, symbols: Sequence[str], known: Iterable[str]) -> None:
        listed = list(known)
        self.symbols = list(symbols)
        self.suggestions = {s: nearest_symbols(s, listed) for s in self.symbols}
        super().__init__("; ".join(_unknown(s, self.suggestions[s]) for s in self.symbols))


def nearest_symbols(symbol: str, known: Iterable[str], limit: int = 3) -> list[str]:
    """The listed symbols closest to ``symbol`` in spelling, case aside, closest first."""
    by_upper = {k.upper(): k for k in known}
    close = difflib.get_close_matches(symbol.upper(), list(by_upper), n=limit, cutoff=0.6)
    return [by_upper[c] for c in close]


def _unknown(symbol: str, nearest: Sequence[str]) -> str:
    if not nearest:
        return f"unknown symbol {symbol} (nothing like it on this exchange)"
    if len(nearest) == 1:
        return f"unknown symbol {symbol} (did you mean {nearest[0]}?)"
    return f"unknown symbol {symbol} (did you mean {', '.join(nearest[:-1])} or {nearest[-1]}?)"


async def unlisted(kf: Session, symbol: str) -> UnknownSymbolError | None:
    """An error naming ``symbol`` if the exchange's instruments leave it out, else ``None``.

    ``None`` as well when the list itself cannot be had: the caller's own error says more.
    """
    try:
        instruments = await kf.market.instruments()
    except KrakenFuturesError:
        return None
    listed = [i.symbol for i in instruments]
    return None if symbol in listed else UnknownSymbolError([symbol], listed)


async def order_book(kf: Session, symbol: str) -> OrderBook:
    """``symbol``'s book; a symbol the exchange does not list raises :class:`UnknownSymbolError`.

    The instruments are fetched only when the book is refused or comes back empty: the two
    ways a server may answer for a symbol it does not list.
    """
    try:
        book = await kf.market.orderbook(symbol)
    except InvalidRequestError as exc:
        unknown = await unlisted(kf, symbol)
        if unknown is not None:
            raise unknown from exc
        raise
    if not book.bids and not book.asks:
        unknown = await unlisted(kf, symbol)
        if unknown is not None:
            raise unknown
    return book


class Progress(Protocol):
    """Where a job says what it is doing; one task at a time."""

    def start(self, description: str, total: int | None = None) -> None: ...

    def advance(self, steps: int = 1) -> None: ...

    def stop(self) -> None: ...


class NoProgress:
    """Progress that shows nothing (``--json``, tests, pipes)."""

    def start(self, description: str, total: int | None = None) -> None:
        pass

    def advance(self, steps: int = 1) -> None:
        pass

    def stop(self) -> None:
        pass


# --- snapshot -----------------------------------------------------------------------------


@attrs.frozen
class Snapshot:
    """Every ticker and every tradeable contract's order book, fetched concurrently."""

    tickers: list[Ticker]
    books: dict[str, OrderBook]
    #: Books that could not be fetched, with the reason.
    failed: dict[str, str]
    seconds: float

    @property
    def levels(self) -> int:
        return sum(len(b.bids) + len(b.asks) for b in self.books.values())


async def snapshot(kf: Session, progress: Progress) -> Snapshot:
    """Tickers and instruments at once, then every tradeable contract's book in parallel.

    The fan-out is one task per book; the Session's pool and rate limiter pace it.
    """
    started = time.perf_counter()
    progress.start("tickers and instruments", total=2)
    tickers, instruments = await asyncio.gather(
        _counted(kf.market.tickers(), progress), _counted(kf.market.instruments(), progress)
    )
    symbols = [i.symbol for i in instruments if i.tradeable]
    progress.start(f"order books of {plural(len(symbols), 'contract')}", total=len(symbols))
    books: dict[str, OrderBook] = {}
    failed: dict[str, str] = {}

    async def fetch(symbol: str) -> None:
        try:
            books[symbol] = await kf.market.orderbook(symbol)
        except KrakenFuturesError as exc:
            failed[symbol] = str(exc)
        finally:
            progress.advance()

    await asyncio.gather(*(fetch(s) for s in symbols))
    progress.stop()
    ordered = {s: books[s] for s in symbols if s in books}
    return Snapshot(tickers, ordered, failed, time.perf_counter() - started)


async def _counted(call: Awaitable[T], progress: Progress) -> T:
    try:
        return await call
    finally:
        progress.advance()


# --- a short trading session --------------------------------------------------------------


@attrs.frozen
class TradeStep:
    step: str
    detail: str
    ms: float


@attrs.frozen
class TradeLog:
    symbol: str
    size: Decimal
    steps: list[TradeStep]
    #: The position at the end (zero when the session closed what it opened).
    final_position: Decimal


def order_size(instrument: Instrument, size: Decimal | None) -> Decimal:
    """The caller's size, or ten of the contract's smallest step."""
    if size is not None:
        return size
    precision = instrument.contract_value_trade_precision
    step = Decimal(1).scaleb(-precision) if precision is not None else Decimal(1)
    return step * 10


def _on_tick(price: Decimal, tick: Decimal | None) -> Decimal:
    if not tick:
        return price
    return (price / tick).quantize(Decimal(1), rounding=ROUND_DOWN) * tick


async def trade(
    kf: Session, symbol: str, progress: Progress, *, size: Decimal | None = None
) -> TradeLog:
    """Place a resting order, move it, cancel it; take a fill; look at positions; go flat."""
    steps: list[TradeStep] = []
    total = 10
    progress.start(f"trading {symbol}", total=total)

    async def step(name: str, call: Awaitable[T], describe: Callable[[T], str]) -> T:
        started = time.perf_counter()
        result = await call
        steps.append(TradeStep(name, describe(result), (time.perf_counter() - started) * 1e3))
        progress.advance()
        return result

    instruments = await step(
        "instruments", kf.market.instruments(), lambda r: plural(len(r), "contract")
    )
    instrument = find_instrument(instruments, symbol)
    amount = order_size(instrument, size)
    await step(
        "accounts",
        kf.account.accounts(),
        lambda a: f"available margin {a.flex.available_margin}" if a.flex else "no flex account",
    )
    book = await step(
        "order book",
        kf.market.orderbook(symbol),
        lambda b: f"bid {_price(b.best_bid)} / ask {_price(b.best_ask)}",
    )
    if book.best_bid is None:
        raise KrakenFuturesError(f"{symbol} has no bids to trade against")
    bid = book.best_bid.price
    resting = _on_tick(bid * Decimal("0.95"), instrument.tick_size)
    placed = await step(
        "place",
        kf.orders.send(
            symbol=symbol, side="buy", size=amount, order_type="lmt", limit_price=resting
        ),
        lambda r: f"buy {amount} @ {resting}: {r.status.value} ({_short(r.order_id)})",
    )
    moved = _on_tick(bid * Decimal("0.96"), instrument.tick_size)
    await step(
        "edit",
        kf.orders.edit(order_id=placed.order_id, limit_price=moved),
        lambda r: f"limit price {resting} -> {moved}: {r.status.value}",
    )
    await step(
        "open orders",
        kf.orders.open(),
        lambda r: f"{len(r)} resting; ours at {_limit_of(r, placed.order_id)}",
    )
    await step(
        "cancel",
        kf.orders.cancel(order_id=placed.order_id),
        lambda r: f"{r.status.value}",
    )
    taken = await step(
        "fill",
        kf.orders.send(symbol=symbol, side="buy", size=amount, order_type="mkt"),
        lambda r: f"market buy {amount}: {r.status.value}",
    )
    await step(
        "fills",
        kf.orders.fills(),
        lambda r: _describe_fills([f for f in r if f.order_id == taken.order_id]),
    )
    positions = await step(
        "positions",
        kf.account.open_positions(),
        lambda r: ", ".join(f"{p.symbol} {p.side.value} {p.size} @ {p.price}" for p in r) or "flat",
    )
    held = sum((p.size for p in positions if p.symbol == symbol), Decimal(0))
    if held:
        progress.start(f"closing {symbol}", total=2)
        await step(
            "close",
            kf.orders.send(
                symbol=symbol, side="sell", size=held, order_type="mkt", reduce_only=True
            ),
            lambda r: f"reduce-only market sell {held}: {r.status.value}",
        )
        positions = await step(
            "positions",
            kf.account.open_positions(),
            lambda r: ", ".join(f"{p.symbol} {p.side.value} {p.size}" for p in r) or "flat",
        )
    progress.stop()
    final = sum((p.size for p in positions if p.symbol == symbol), Decimal(0))
    return TradeLog(symbol, amount, steps, final)


def find_instrument(instruments: Sequence[Instrument], symbol: str) -> Instrument:
    for instrument in instruments:
        if instrument.symbol == symbol:
            return instrument
    raise UnknownSymbolError([symbol], [i.symbol for i in instruments])


def _short(order_id: str | None) -> str:
    return "no id" if not order_id else f"id {order_id[:8]}…"


def _price(level: Any) -> str:
    return "-" if level is None else str(level.price)


def _limit_of(orders: Sequence[Any], order_id: str | None) -> str:
    for order in orders:
        if order.order_id == order_id:
            return str(order.limit_price)
    return "(not found)"


def _describe_fills(fills: Sequence[Any]) -> str:
    if not fills:
        return "no fill yet"
    size = sum((f.size for f in fills), Decimal(0))
    worth = sum((f.size * f.price for f in fills), Decimal(0))
    average = (worth / size).normalize()
    return f"{plural(len(fills), 'fill')}, {size} @ {average} ({fills[0].fill_type.value})"


# --- the main job ---------------------------------------------------------------------------


@attrs.frozen
class BudgetReport:
    """One of Kraken's cost budgets as the client's limiter saw it at the end."""

    name: str
    capacity: int
    period: float
    units_admitted: int
    in_window: int


@attrs.frozen
class DemoReport:
    target: str
    snapshot: Snapshot
    trade: TradeLog
    requests: int
    requests_by_path: dict[str, int]
    latency: LatencySummary
    budgets: list[BudgetReport]
    #: ``apiLimitExceeded`` answers the client saw, and those the twin counted (when embedded).
    client_refusals: int
    twin_refusals: int | None
    seconds: float
    #: A few seconds of the book over the socket while an order comes and goes.
    stream: StreamStep

    @property
    def ok(self) -> bool:
        return (
            not self.snapshot.failed
            and self.client_refusals == 0
            and not self.twin_refusals
            and self.trade.final_position == 0
            and self.stream.ok
        )


def budgets(kf: Session) -> list[BudgetReport]:
    usage = kf.limiter.usage()
    return [
        BudgetReport(
            name=budget.value,
            capacity=u.capacity,
            period=u.period,
            units_admitted=u.units_admitted,
            in_window=u.in_window,
        )
        for budget, u in sorted(usage.items(), key=lambda item: item[0].value)
        if budget in (Budget.DERIVATIVES, Budget.HISTORY)
    ]


#: Seconds the demo streams the book for (while it places and cancels an order).
DEMO_STREAM_SECONDS = 3.0


async def demo(
    conn: Connection,
    progress: Progress,
    *,
    symbol: str = "PF_XBTUSD",
    stream_seconds: float = DEMO_STREAM_SECONDS,
) -> DemoReport:
    """The main job: a parallel snapshot of the whole market, a short session, a few seconds
    of the book streamed over the socket, a summary.

    The streaming step runs when ``conn`` was opened with ``streams=True`` (else it is
    reported as skipped, with the reason).
    """
    from .watch import StreamStep, stream_step

    started = time.perf_counter()
    snap = await snapshot(conn.session, progress)
    log = await trade(conn.session, symbol, progress)
    if conn.stream_url is None:
        streamed = StreamStep(symbol=symbol, skipped=conn.no_streams or "no stream URL")
    else:
        progress.start(f"streaming the {symbol} book for {stream_seconds:g} s")
        streamed = await stream_step(
            conn.session, symbol, url=conn.stream_url, seconds=stream_seconds
        )
        progress.stop()
    meter = conn.meter
    return DemoReport(
        target=conn.target.describe(),
        snapshot=snap,
        trade=log,
        requests=meter.total,
        requests_by_path=dict(meter.requests.most_common()),
        latency=meter.latency(),
        budgets=budgets(conn.session),
        client_refusals=meter.limit_refusals,
        twin_refusals=conn.twin_refusals(),
        seconds=time.perf_counter() - started,
        stream=streamed,
    )


# --- a quick benchmark of whatever the command talks to -------------------------------------


@attrs.frozen
class BenchRow:
    kind: str
    calls: int
    latency: LatencySummary
    cpu_us_per_call: float
    calls_per_second: float


@attrs.frozen
class BenchReport:
    target: str
    rows: list[BenchRow]
    #: Whether the twin ran in this process (its CPU is then counted with the client's).
    in_process: bool


async def _timed(kind: str, calls: int, call: Callable[[], Awaitable[object]]) -> BenchRow:
    latencies: list[float] = []
    cpu = time.process_time()
    wall = time.perf_counter()
    for _ in range(calls):
        started = time.perf_counter()
        await call()
        latencies.append(time.perf_counter() - started)
    wall = time.perf_counter() - wall
    cpu = time.process_time() - cpu
    return BenchRow(kind, calls, LatencySummary.of(latencies), cpu / calls * 1e6, calls / wall)


async def bench(
    conn: Connection,
    progress: Progress,
    *,
    calls: int = 30,
    symbol: str = "PF_XBTUSD",
    orders: bool = True,
) -> BenchReport:
    """Sequential calls of each kind, then one concurrent fan-out of every order book.

    The defaults stay inside Kraken's budget: ``calls`` orders cost 10 units each.
    """
    kf = conn.session
    instruments = await kf.market.instruments()  # also warms the pool
    instrument = find_instrument(instruments, symbol)
    kinds: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        ("tickers", kf.market.tickers),
        ("order book", lambda: kf.market.orderbook(symbol)),
    ]
    if kf.has_credentials:
        kinds.append(("signed GET (open orders)", kf.orders.open))
        if orders:
            book = await kf.market.orderbook(symbol)
            if book.best_bid is not None:
                # far below the market: the orders rest, and are cancelled afterwards
                price = _on_tick(book.best_bid.price * Decimal("0.9"), instrument.tick_size)
                size = order_size(instrument, None)

                async def place() -> object:
                    return await kf.orders.send(
                        symbol=symbol, side="buy", size=size, limit_price=price
                    )

                kinds.append(("order (send)", place))

    rows: list[BenchRow] = []
    progress.start("sequential calls", total=len(kinds))
    try:
        for kind, call in kinds:
            rows.append(await _timed(kind, calls, call))
            progress.advance()
    finally:
        if kf.has_credentials and orders:
            await kf.orders.cancel_all(symbol)
    symbols = [i.symbol for i in instruments if i.tradeable]
    progress.start(f"fan-out of {plural(len(symbols), 'order book')}", total=1)
    rows.append(await _fan_out(kf, symbols))
    progress.stop()
    return BenchReport(conn.target.describe(), rows, in_process=conn.twin is not None)


async def _fan_out(kf: Session, symbols: Sequence[str]) -> BenchRow:
    latencies: list[float] = []

    async def one(symbol: str) -> None:
        started = time.perf_counter()
        await kf.market.orderbook(symbol)
        latencies.append(time.perf_counter() - started)

    cpu = time.process_time()
    wall = time.perf_counter()
    await asyncio.gather(*(one(s) for s in symbols))
    wall = time.perf_counter() - wall
    cpu = time.process_time() - cpu
    n = len(symbols)
    return BenchRow(
        f"fan-out ({plural(n, 'book')} at once)",
        n,
        LatencySummary.of(latencies),
        cpu / n * 1e6,
        n / wall,
    )
