"""Streaming jobs: ``kraken-futures watch`` and the demo's streaming step, over ``kf.stream``.

Like :mod:`.jobs`, these are plain coroutines over a Session: they print nothing. ``watch``
keeps a :class:`WatchState` current from a book subscription and a trades subscription and
calls back on every update (the command renders it with rich ``Live`` or prints a JSON
line); :func:`stream_step` is the demo's few seconds of streaming while it places and cancels
an order, checked update by update.

"Checksum OK" means more than "the library did not complain": each yielded book's CRC32 is
computed again here from the very levels shown (their exact decimal text, as Kraken's
checksum wants) and compared with the checksum the library verified against the exchange's.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Coroutine, Sequence
from decimal import Decimal
from typing import Any

import attrs

from ..errors import KrakenFuturesError, OrderRejectedError
from ..models import PriceLevel
from ..models.streams import StreamReconnected, StreamTrade
from ..session import Session
from ..streams import BOOK_DEPTHS, BookLevel, BookView, SubscriptionRejectedError
from ..streams.checksum import CHECKSUM_DEPTH, book_checksum, level_digits
from . import jobs

__all__ = [
    "DEFAULT_TRADES_KEPT",
    "StreamStep",
    "WatchState",
    "book_line",
    "checksum_ok",
    "recomputed_checksum",
    "stream_step",
    "subscription_depth",
    "update_line",
    "watch",
]

#: Tries of the demo's post-only order when the book moved under it.
POST_ATTEMPTS = 3
#: Latest trades a watch keeps (and shows).
DEFAULT_TRADES_KEPT = 10


def subscription_depth(levels: int) -> int:
    """The smallest depth Kraken accepts that holds ``levels`` a side (at most the largest)."""
    for depth in BOOK_DEPTHS:
        if depth >= levels:
            return depth
    return BOOK_DEPTHS[-1]


def _digits(level: BookLevel) -> str:
    # A level's Decimals were built from the wire text, so format(..., "f") gives it back.
    return level_digits(format(level.price, "f"), format(level.size, "f"))


def recomputed_checksum(view: BookView) -> int:
    """Kraken's CRC32 of ``view``'s best ten levels a side, computed here from what is shown."""
    return book_checksum(
        (_digits(level) for level in view.asks[:CHECKSUM_DEPTH]),
        (_digits(level) for level in view.bids[:CHECKSUM_DEPTH]),
    )


def checksum_ok(view: BookView) -> bool:
    """Whether the shown levels give the checksum the exchange sent (and the library checked)."""
    return recomputed_checksum(view) == view.checksum


def spread(view: BookView | None) -> Decimal | None:
    if view is None or view.best_bid is None or view.best_ask is None:
        return None
    return view.best_ask.price - view.best_bid.price


# --- watch ----------------------------------------------------------------------------------


@attrs.define
class WatchState:
    """What a watch has seen so far; the renderers read it, :func:`watch` writes it."""

    symbol: str
    #: Levels shown a side.
    levels: int = 10
    trades_kept: int = DEFAULT_TRADES_KEPT
    #: Where the stream comes from (a ws URL), for the header.
    source: str = ""
    book: BookView | None = None
    book_updates: int = 0
    #: Fresh snapshots the client asked for after a checksum failed (the library's count).
    resyncs: int = 0
    #: Books whose checksum this module could not compute again from the shown levels.
    checksum_mismatches: int = 0
    last_checksum_ok: bool = False
    trades: deque[StreamTrade] = attrs.field(init=False)
    trade_count: int = 0
    reconnects: int = 0
    started: float = attrs.field(factory=time.monotonic)

    def __attrs_post_init__(self) -> None:
        self.trades = deque(maxlen=self.trades_kept)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def spread(self) -> Decimal | None:
        return spread(self.book)

    def on_book(self, view: BookView, resyncs: int) -> None:
        self.book = view
        self.book_updates += 1
        self.resyncs = resyncs
        self.last_checksum_ok = checksum_ok(view)
        if not self.last_checksum_ok:
            self.checksum_mismatches += 1

    def on_trade(self, item: StreamTrade | StreamReconnected) -> None:
        if isinstance(item, StreamReconnected):
            self.reconnects += 1
        else:
            self.trades.appendleft(item)
            self.trade_count += 1


#: ``on_update(state, kind, item)``: kind is ``"book"``, ``"trade"`` or ``"reconnected"``.
OnUpdate = Callable[[WatchState, str, Any], None]


async def watch(
    kf: Session, state: WatchState, *, seconds: float | None, on_update: OnUpdate
) -> WatchState:
    """Stream ``state.symbol``'s book and trades into ``state`` for ``seconds`` (or forever).

    Both subscriptions end (unsubscribed) when this returns, raises or is cancelled. A symbol
    the exchange refuses and does not list raises :class:`.jobs.UnknownSymbolError`.
    """
    depth = subscription_depth(state.levels)
    limit = asyncio.timeout(seconds)
    try:
        async with (
            limit,
            kf.stream.book(state.symbol, depth=depth) as books,
            kf.stream.trades(state.symbol, snapshot=True) as trades,
        ):

            async def read_books() -> None:
                async for view in books:
                    state.on_book(view, books.resyncs)
                    on_update(state, "book", view)

            async def read_trades() -> None:
                async for item in trades:
                    state.on_trade(item)
                    kind = "reconnected" if isinstance(item, StreamReconnected) else "trade"
                    on_update(state, kind, item)

            await _until_one_fails(read_books(), read_trades())
    except TimeoutError:
        if not limit.expired():
            raise
    except SubscriptionRejectedError as exc:
        unknown = await jobs.unlisted(kf, state.symbol)
        if unknown is not None:
            raise unknown from exc
        raise
    return state


async def _until_one_fails(*readers: Coroutine[Any, Any, None]) -> None:
    """Run the readers until all end or one raises; its error is raised as it is (a
    TaskGroup would wrap it in an ExceptionGroup, which the command could not explain)."""
    tasks = [asyncio.ensure_future(reader) for reader in readers]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in tasks:
            task.cancel()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException) and not isinstance(outcome, asyncio.CancelledError):
            raise outcome


def _level(level: BookLevel | None) -> dict[str, Decimal] | None:
    return None if level is None else {"price": level.price, "size": level.size}


def book_line(state: WatchState, view: BookView) -> dict[str, Any]:
    """One book update as ``--json`` prints it (numbers as exact decimal strings)."""
    return {
        "type": "book",
        "symbol": view.symbol,
        "timestamp": view.timestamp,
        "checksum": view.checksum,
        "checksum_ok": checksum_ok(view),
        "best_bid": _level(view.best_bid),
        "best_ask": _level(view.best_ask),
        "spread": spread(view),
        "bids": [_level(level) for level in view.bids[: state.levels]],
        "asks": [_level(level) for level in view.asks[: state.levels]],
        "update": state.book_updates,
        "resyncs": state.resyncs,
    }


def update_line(state: WatchState, kind: str, item: Any) -> dict[str, Any]:
    """Any update as ``--json`` prints it: a book, a trade, or a reconnection marker."""
    if kind == "book":
        return book_line(state, item)
    if isinstance(item, StreamReconnected):
        return {
            "type": "reconnected",
            "channel": item.channel,
            "symbol": item.symbol,
            "at": item.at,
        }
    trade: StreamTrade = item
    return {
        "type": "trade",
        "symbol": trade.symbol,
        "side": trade.side,
        "price": trade.price,
        "qty": trade.qty,
        "trade_id": trade.trade_id,
        "timestamp": trade.timestamp,
    }


# --- the demo's streaming step --------------------------------------------------------------


@attrs.frozen(kw_only=True)
class StreamStep:
    """A few seconds of one book over the socket while an order comes and goes."""

    symbol: str
    #: Where the book streamed from; ``None`` when the step was skipped.
    url: str | None = None
    seconds: float = 0.0
    #: Verified book states received (snapshot included).
    updates: int = 0
    #: Of those, the ones whose checksum was computed again from the levels and matched.
    checksums_verified: int = 0
    #: Checksums that failed: the client's resyncs plus mismatches found here (0 expected).
    checksum_failures: int = 0
    #: Distinct book states seen (checksums): more than one means the book moved.
    distinct_states: int = 0
    first_bid: Decimal | None = None
    first_ask: Decimal | None = None
    last_bid: Decimal | None = None
    last_ask: Decimal | None = None
    #: The order placed while streaming, and whether the stream showed it come and go.
    order: str = ""
    order_seen: bool = False
    order_gone: bool = False
    #: Why the step did not run (a missing extra), or what went wrong when it did.
    skipped: str | None = None
    error: str | None = None

    @property
    def moved(self) -> bool:
        return self.distinct_states > 1

    @property
    def ok(self) -> bool:
        if self.skipped is not None:
            return True
        return self.error is None and self.updates >= 1 and self.checksum_failures == 0


class _Recorder:
    """The book's states as they arrive, and a way to wait for one that fits."""

    def __init__(self) -> None:
        self.views: list[BookView] = []
        self.mismatches = 0
        self._arrived = asyncio.Event()

    def add(self, view: BookView) -> None:
        self.views.append(view)
        if not checksum_ok(view):
            self.mismatches += 1
        self._arrived.set()

    async def until(self, fits: Callable[[BookView], bool], *, after: int, within: float) -> bool:
        """Whether a state from index ``after`` on fits, waiting up to ``within`` s."""
        try:
            async with asyncio.timeout(within):
                while True:
                    if any(fits(view) for view in self.views[after:]):
                        return True
                    after = len(self.views)
                    self._arrived.clear()
                    await self._arrived.wait()
        except TimeoutError:
            return False


def _size_at(levels: Sequence[BookLevel | PriceLevel], price: Decimal) -> Decimal:
    for level in levels:
        if level.price == price:
            return level.size
    return Decimal(0)


async def stream_step(
    kf: Session,
    symbol: str,
    *,
    url: str | None,
    seconds: float = 3.0,
    size: Decimal | None = None,
    wait: float = 1.5,
) -> StreamStep:
    """Stream ``symbol``'s book for about ``seconds`` while a post-only buy is placed at the
    top of the bids and cancelled; every state's checksum is checked again here.

    The order goes one tick inside the spread when there is room (the stream then shows a
    new best bid of exactly its size), else it joins the best bid. Failures are reported in
    the result (``error``), not raised; the order is cancelled whatever happens.
    """
    started = time.monotonic()
    recorder = _Recorder()
    order = ""
    seen = gone = False
    error: str | None = None
    resyncs = 0
    try:
        async with kf.stream.book(symbol, depth=10) as books:

            async def read() -> None:
                async for view in books:
                    recorder.add(view)

            reader = asyncio.create_task(read())
            outcome: BaseException | None = None
            try:
                if not await recorder.until(lambda _: True, after=0, within=10.0):
                    raise TimeoutError(f"no {symbol} book within 10 s")
                order, seen, gone = await _order_in_view(kf, symbol, recorder, size, wait)
                remaining = seconds - (time.monotonic() - started)
                if remaining > 0:
                    await asyncio.sleep(remaining)
            finally:
                reader.cancel()
                (outcome,) = await asyncio.gather(reader, return_exceptions=True)
                resyncs = books.resyncs
            if isinstance(outcome, KrakenFuturesError):  # the stream failed on its own
                raise outcome
    except (KrakenFuturesError, TimeoutError) as exc:
        error = str(exc) or type(exc).__name__
    views = recorder.views
    first, last = (views[0], views[-1]) if views else (None, None)

    def price(level: BookLevel | None) -> Decimal | None:
        return None if level is None else level.price

    return StreamStep(
        symbol=symbol,
        url=url,
        seconds=time.monotonic() - started,
        updates=len(views),
        checksums_verified=len(views) - recorder.mismatches,
        checksum_failures=resyncs + recorder.mismatches,
        distinct_states=len({v.checksum for v in views}),
        first_bid=price(first.best_bid) if first else None,
        first_ask=price(first.best_ask) if first else None,
        last_bid=price(last.best_bid) if last else None,
        last_ask=price(last.best_ask) if last else None,
        order=order,
        order_seen=seen,
        order_gone=gone,
        error=error,
    )


async def _order_in_view(
    kf: Session,
    symbol: str,
    recorder: _Recorder,
    size: Decimal | None,
    wait: float,
) -> tuple[str, bool, bool]:
    """Place a post-only buy at the top of the bids, see it streamed, cancel it, see it go.

    The price comes from a fresh REST book: the engine moves on its own between pushes, so
    the streamed state may be a moment old. A post-only order that would still take
    (``postWouldExecute``: the book moved under it) is tried again, up to three times.
    """
    instrument = jobs.find_instrument(await kf.market.instruments(), symbol)
    amount = jobs.order_size(instrument, size)
    tick = instrument.tick_size or Decimal(0)
    for attempt in range(1, POST_ATTEMPTS + 1):
        book = await kf.market.orderbook(symbol)
        if book.best_bid is None:
            return "no bids to join: no order placed", False, False
        price = book.best_bid.price
        if tick and (book.best_ask is None or price + tick < book.best_ask.price):
            price += tick  # alone at a new best bid: the stream shows exactly our size
        before = _size_at(book.bids, price)
        mark = len(recorder.views)
        try:
            placed = await kf.orders.send(
                symbol=symbol, side="buy", size=amount, order_type="post", limit_price=price
            )
            break
        except OrderRejectedError as exc:
            if exc.status != "postWouldExecute" or attempt == POST_ATTEMPTS:
                raise
    what = f"post-only buy {amount} @ {price}"
    if placed.order_id is None:
        return f"{what}: {placed.status.value}, no order id", False, False
    try:
        seen = await recorder.until(
            lambda v: _size_at(v.bids, price) >= before + amount, after=mark, within=wait
        )
    finally:
        mark = len(recorder.views)
        filled = await _cancel_unless_filled(kf, placed.order_id)
    gone = await recorder.until(
        lambda v: _size_at(v.bids, price) < before + amount, after=mark, within=wait
    )
    shown = "seen in the streamed book" if seen else "not seen in the streamed book"
    ended = "filled by the market before the cancel" if filled else "cancelled"
    left = "gone from the book" if gone else "still shown"
    return f"{what}: {shown}; {ended}, {left}", seen, gone


async def _cancel_unless_filled(kf: Session, order_id: str) -> bool:
    """Cancel the streamed order; True when the market filled it first.

    The twin's market moves on its own, so a buy at the top of the bids can be taken
    between being seen and being cancelled: that is the market working, not a failure.
    """
    try:
        await kf.orders.cancel(order_id=order_id)
    except OrderRejectedError as exc:
        if exc.status != "filled":
            raise
        return True
    return False
