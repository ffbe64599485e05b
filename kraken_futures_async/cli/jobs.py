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

from ..errors import InvalidRequestError, KrakenFuturesError, UnsupportedOperationError
from ..models import Instrument, OpenPosition, OrderBook, OrderRequestStatus, Side, Ticker
from ..ratelimit import Budget
from ..session import Session
from .meter import LatencySummary
from .target import Connection

if TYPE_CHECKING:
    from .backends import BackendRun
    from .watch import StreamStep

T = TypeVar("T")

__all__ = [
    "BudgetReport",
    "DemoReport",
    "NoProgress",
    "Progress",
    "Snapshot",
    "TradeLog",
    "TradeStep",
    "UnknownSymbolError",
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


#: The account's own resting size per (is a bid, price) on one contract.
OwnLevels = dict[tuple[bool, Decimal], Decimal]


async def own_levels(kf: Session, symbol: str) -> OwnLevels | None:
    """How much of each price level of ``symbol`` is the account's own open orders: what a
    paper trader on a mirror needs to tell their orders from the source's. ``None`` without
    credentials, or when the server will not list the account's orders."""
    if not kf.has_credentials:
        return None
    try:
        orders = await kf.orders.open()
    except KrakenFuturesError:
        return None
    own: OwnLevels = {}
    for order in orders:
        price, left = order.limit_price, order.unfilled_size
        if order.symbol.upper() != symbol or order.order_type != "lmt" or not price or not left:
            continue
        key = (order.side is Side.BUY, price)
        own[key] = own.get(key, Decimal(0)) + left
    return own


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
    #: Why the Session's backend could not take this step (then ``detail`` says what was done
    #: instead, if anything): ``None`` when it did.
    skipped: str | None = None


@attrs.frozen
class TradeLog:
    symbol: str
    size: Decimal
    steps: list[TradeStep]
    #: The position at the end (zero when the session closed what it opened).
    final_position: Decimal
    #: The backend the session traded over (``rest``, ``uws``).
    backend: str = "rest"
    seconds: float = 0.0
    #: Order calls acknowledged as asked: resting orders placed, edits, cancels, market orders.
    placed: int = 0
    edited: int = 0
    cancelled: int = 0
    market_orders: int = 0
    #: Order calls the exchange refused (any other status).
    refused: int = 0

    @property
    def skipped(self) -> list[TradeStep]:
        return [s for s in self.steps if s.skipped is not None]

    @property
    def calls(self) -> int:
        """Calls that went over this session's backend (skipped steps left out)."""
        return len(self.steps) - len(self.skipped)


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


#: Steps whose data a session may take from another (``market``) when its backend cannot.
MARKET_STEPS = frozenset({"instruments", "order book"})
#: Seconds a session waits for its positions to show a fill (a backend that answers from
#: pushed state, UWS, sees the position a push after the order's ack).
POSITION_PATIENCE = 2.0


async def _held(kf: Session, symbol: str, until: Callable[[Decimal], bool]) -> list[OpenPosition]:
    """Open positions, read again (briefly) until ``symbol``'s size passes ``until``."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + POSITION_PATIENCE
    while True:
        positions = await kf.account.open_positions()
        held = sum((p.size for p in positions if p.symbol == symbol), Decimal(0))
        if until(held) or loop.time() >= give_up:
            return positions
        await asyncio.sleep(0.02)


async def trade(
    kf: Session,
    symbol: str,
    progress: Progress,
    *,
    size: Decimal | None = None,
    market: Session | None = None,
) -> TradeLog:
    """Place a resting order, move it, cancel it; take a fill; look at positions; go flat.

    A step ``kf``'s backend cannot take (:class:`UnsupportedOperationError`: market data
    and fills over UWS) is logged as skipped with the backend's reason; the instruments
    and the book the session needs then come from ``market`` (a REST Session), if given.
    """
    steps: list[TradeStep] = []
    total = 10
    counts = {"placed": 0, "edited": 0, "cancelled": 0, "market_orders": 0, "refused": 0}
    started_at = time.perf_counter()
    progress.start(f"trading {symbol}", total=total)

    async def step(
        name: str, call: Callable[[Session], Awaitable[T]], describe: Callable[[T], str]
    ) -> T | None:
        started = time.perf_counter()
        try:
            result = await call(kf)
        except UnsupportedOperationError as exc:
            if market is None or name not in MARKET_STEPS:
                steps.append(TradeStep(name, "skipped", 0.0, skipped=exc.message))
                progress.advance()
                return None
            started = time.perf_counter()
            result = await call(market)
            ms = (time.perf_counter() - started) * 1e3
            detail = f"from the {market.backend.name} session: {describe(result)}"
            steps.append(TradeStep(name, detail, ms, skipped=exc.message))
            progress.advance()
            return result
        steps.append(TradeStep(name, describe(result), (time.perf_counter() - started) * 1e3))
        progress.advance()
        return result

    def order(
        kind: str, ok: OrderRequestStatus, describe: Callable[[Any], str]
    ) -> Callable[[Any], str]:
        """``describe`` for an order call, counting its acknowledgement as it goes."""

        def counted(result: Any) -> str:
            counts[kind if result.status is ok else "refused"] += 1
            return describe(result)

        return counted

    instruments = await step(
        "instruments", lambda s: s.market.instruments(), lambda r: plural(len(r), "contract")
    )
    if instruments is None:
        raise KrakenFuturesError(f"no instrument list to trade {symbol} by")
    instrument = find_instrument(instruments, symbol)
    amount = order_size(instrument, size)
    await step(
        "accounts",
        lambda s: s.account.accounts(),
        lambda a: f"available margin {a.flex.available_margin}" if a.flex else "no flex account",
    )
    book = await step(
        "order book",
        lambda s: s.market.orderbook(symbol),
        lambda b: f"bid {_price(b.best_bid)} / ask {_price(b.best_ask)}",
    )
    if book is None or book.best_bid is None:
        raise KrakenFuturesError(f"{symbol} has no bids to trade against")
    bid = book.best_bid.price
    resting = _on_tick(bid * Decimal("0.95"), instrument.tick_size)
    placed = await step(
        "place",
        lambda s: s.orders.send(
            symbol=symbol, side="buy", size=amount, order_type="lmt", limit_price=resting
        ),
        order(
            "placed",
            OrderRequestStatus.PLACED,
            lambda r: f"buy {amount} @ {resting}: {r.status.value} ({_short(r.order_id)})",
        ),
    )
    order_id = placed.order_id if placed is not None else None
    moved = _on_tick(bid * Decimal("0.96"), instrument.tick_size)
    await step(
        "edit",
        lambda s: s.orders.edit(order_id=order_id, limit_price=moved),
        order(
            "edited",
            OrderRequestStatus.EDITED,
            lambda r: f"limit price {resting} -> {moved}: {r.status.value}",
        ),
    )
    await step(
        "open orders",
        lambda s: s.orders.open(),
        lambda r: f"{len(r)} resting; ours at {_limit_of(r, order_id)}",
    )
    await step(
        "cancel",
        lambda s: s.orders.cancel(order_id=order_id),
        order("cancelled", OrderRequestStatus.CANCELLED, lambda r: f"{r.status.value}"),
    )
    taken = await step(
        "fill",
        lambda s: s.orders.send(symbol=symbol, side="buy", size=amount, order_type="mkt"),
        order(
            "market_orders",
            OrderRequestStatus.PLACED,
            lambda r: f"market buy {amount}: {r.status.value}",
        ),
    )
    taken_id = taken.order_id if taken is not None else None
    await step(
        "fills",
        lambda s: s.orders.fills(),
        lambda r: _describe_fills([f for f in r if f.order_id == taken_id]),
    )
    filled = taken is not None and taken.status is OrderRequestStatus.PLACED
    positions = await step(
        "positions",
        lambda s: _held(s, symbol, lambda held: not filled or held != 0),
        lambda r: ", ".join(f"{p.symbol} {p.side.value} {p.size} @ {p.price}" for p in r) or "flat",
    )
    held = sum((p.size for p in positions or () if p.symbol == symbol), Decimal(0))
    if held:
        progress.start(f"closing {symbol}", total=2)
        await step(
            "close",
            lambda s: s.orders.send(
                symbol=symbol, side="sell", size=held, order_type="mkt", reduce_only=True
            ),
            order(
                "market_orders",
                OrderRequestStatus.PLACED,
                lambda r: f"reduce-only market sell {held}: {r.status.value}",
            ),
        )
        positions = await step(
            "positions",
            lambda s: _held(s, symbol, lambda held: held == 0),
            lambda r: ", ".join(f"{p.symbol} {p.side.value} {p.size}" for p in r) or "flat",
        )
    progress.stop()
    final = sum((p.size for p in positions or () if p.symbol == symbol), Decimal(0))
    return TradeLog(
        symbol,
        amount,
        steps,
        final,
        backend=kf.backend.name,
        seconds=time.perf_counter() - started_at,
        **counts,
    )


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
    average = format((worth / size).normalize(), "f")  # 82480, never 8.248E+4
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
    #: The trading session over each backend, side by side: REST (``trade``), then UWS.
    backends: list[BackendRun] = attrs.field(factory=list)

    @property
    def ok(self) -> bool:
        return (
            not self.snapshot.failed
            and self.client_refusals == 0
            and not self.twin_refusals
            and self.trade.final_position == 0
            and self.stream.ok
            and all(run.ok for run in self.backends)
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
    of the book streamed over the socket, the session again over the Unified WebSocket, a
    summary.

    The streaming step and the UWS session run when ``conn`` was opened with
    ``streams=True`` (else each is reported as not run, with the reason).
    """
    from .backends import rest_run, uws_run
    from .watch import StreamStep, stream_step

    started = time.perf_counter()
    snap = await snapshot(conn.session, progress)
    before = conn.meter.total
    log = await trade(conn.session, symbol, progress)
    rest = rest_run(conn, log, conn.meter.total - before)
    if conn.stream_url is None:
        streamed = StreamStep(symbol=symbol, skipped=conn.no_streams or "no stream URL")
    else:
        progress.start(f"streaming the {symbol} book for {stream_seconds:g} s")
        streamed = await stream_step(
            conn.session, symbol, url=conn.stream_url, seconds=stream_seconds
        )
        progress.stop()
    over_uws = await uws_run(conn, symbol, progress)
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
        backends=[rest, over_uws],
    )
