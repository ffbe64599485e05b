"""The engine's side of the public socket: books, tickers and trades turned into pushes.

One :class:`Feed` serves every connection of a twin. The engine's events (synchronous, from
inside the call that changed the exchange) only mark a symbol dirty and wake the feed's pump
task; the pump then reads the engine the way a REST caller does (``orderbook``, ``ticker``,
``trades``) and pushes what changed. It also wakes every ``tick_interval`` seconds, because
the makers requote once a second whether or not anybody calls: reading the engine is what
moves its lazy clock. Nothing here calls the engine from inside an event callback.

Books are kept per (symbol, depth) group: the levels last sent, as the exact number text
written, so an update is the difference between what the subscribers hold and the engine's
book now. A level that disappears from the engine's book is sent with ``qty: 0``; a level
pushed below the depth by better ones gets no delete (the client truncates it); a level that
enters the range (after a delete, say) is sent in the same update. The checksum is computed
from the same text with :mod:`kraken_futures_async.streams.checksum`, so the twin and the
library cannot disagree on a digit.

Trades come from the engine's public tape (users' trades and the makers' background trades),
read after each users' trade event, and on a tick when the ticker's last trade moved (the
makers traded); a ticker update follows each batch of new
trades (reference §4.3: updates come on trades). A poll sees at most the latest 100 trades of
a symbol: a burst larger than that between two polls reaches subscribers truncated.

Candles (``ohlc``) are kept per (symbol, interval, tick type) group: the running candle is
read from the engine's charts (:mod:`.candles`) on every tick and after any event of its
symbol, and pushed when it differs from the one last sent (a new candle included).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import threading
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, Protocol

from ...streams.checksum import CHECKSUM_DEPTH, book_checksum, level_digits
from ..clock import Clock
from ..engine.events import BookChanged, Event, MarkPrice, Trade
from ..errors import ExchangeError
from .candles import candle_data, count_trades, read_candles
from .config import UwsConfig
from .wire import Contract, encode, number_text, push, rfc3339

__all__ = ["BookGroup", "CandleGroup", "Feed", "Sink"]

logger = logging.getLogger("kraken_futures_async.simulator.uws")

_ZERO = Decimal(0)
#: Events after which a symbol's book, tape or ticker may have changed.
_MARKET_EVENTS = (BookChanged, Trade, MarkPrice)


class Sink(Protocol):
    """A connection as the feed sees it: somewhere to put a frame without waiting."""

    def push(self, text: str) -> None: ...


class Engine(Protocol):
    def handle(
        self, operation: str, params: dict[str, list[str]], account_uid: str | None, /
    ) -> Any: ...


Side = dict[str, str]  # price text -> qty text, best first


class BookGroup:
    """The subscribers of one symbol's book at one depth, and the levels they hold."""

    __slots__ = ("asks", "bids", "checksum", "depth", "members", "symbol", "timestamp")

    def __init__(self, symbol: str, depth: int) -> None:
        self.symbol = symbol
        self.depth = depth
        self.members: dict[Sink, None] = {}
        self.bids: Side = {}
        self.asks: Side = {}
        self.checksum = 0
        self.timestamp = 0.0

    def snapshot(self) -> str:
        bids, asks = self.bids.items(), self.asks.items()
        return _book_push("snapshot", self.symbol, bids, asks, self.checksum, self.timestamp)


class CandleGroup:
    """The subscribers of one symbol's candles at one interval and tick type."""

    __slots__ = ("interval", "last", "members", "symbol", "tick_type")

    def __init__(self, symbol: str, interval: int, tick_type: str) -> None:
        self.symbol = symbol
        self.interval = interval
        self.tick_type = tick_type
        self.members: dict[Sink, None] = {}
        #: What the running candle looked like when last sent (begin, prices, volume, trades).
        self.last: tuple[object, ...] | None = None


def _ohlc_push(kind: str, data: list[dict[str, Any]], now: float) -> str:
    """[?] choice 4 of :mod:`.candles`: a top-level ``timestamp``, as the reference shows."""
    return encode({"channel": "ohlc", "type": kind, "timestamp": rfc3339(now), "data": data})


def _levels(side: Iterable[tuple[str, str]]) -> list[dict[str, Decimal]]:
    return [{"price": Decimal(p), "qty": Decimal(q)} for p, q in side]


def _book_push(
    kind: str,
    symbol: str,
    bids: Iterable[tuple[str, str]],
    asks: Iterable[tuple[str, str]],
    checksum: int,
    timestamp: float,
) -> str:
    book = {
        "symbol": symbol,
        "bids": _levels(bids),
        "asks": _levels(asks),
        "checksum": checksum,
        "timestamp": rfc3339(timestamp),
    }
    return push("book", kind, [book])


def checksum_of(asks: Side, bids: Side) -> int:
    """Kraken's CRC32 over the best ten levels per side, from the text that was written."""
    return book_checksum(
        (level_digits(p, q) for p, q in itertools.islice(asks.items(), CHECKSUM_DEPTH)),
        (level_digits(p, q) for p, q in itertools.islice(bids.items(), CHECKSUM_DEPTH)),
    )


def _render(levels: list[list[Decimal]], contract: Contract, depth: int) -> tuple[Side, set[str]]:
    """The best ``depth`` levels as wire text, and every price on the side (for deletes)."""
    top: Side = {}
    prices: set[str] = set()
    for price, size in levels:
        if size <= 0:
            continue
        price_text = number_text(contract.price(price))
        prices.add(price_text)
        if len(top) < depth and price_text not in top:
            top[price_text] = number_text(contract.qty(size))
    return top, prices


def _diff(old: Side, new: Side, present: set[str]) -> list[tuple[str, str]]:
    """What turns ``old`` into ``new`` once the client truncates to the depth."""
    changes = [(p, "0") for p in old if p not in new and p not in present]
    changes.extend((p, q) for p, q in new.items() if old.get(p) != q)
    return changes


class Feed:
    """Every public channel's state and subscribers for one twin (see the module docstring)."""

    def __init__(self, exchange: Engine, clock: Clock, config: UwsConfig) -> None:
        self.exchange = exchange
        self.clock = clock
        self.config = config
        self._contracts: dict[str, Contract] | None = None
        self.books: dict[str, dict[int, BookGroup]] = {}
        self._book_sources: dict[str, object] = {}
        self.tickers: dict[str, dict[Sink, None]] = {}
        self.trades: dict[str, dict[Sink, None]] = {}
        self.candles: dict[str, dict[tuple[int, str], CandleGroup]] = {}
        self._last_trade: dict[str, int] = {}
        #: The ticker's (lastTime, last, lastSize) at the last tape read, per watched symbol.
        self._tape_keys: dict[str, tuple[object, ...]] = {}
        self._dirty: set[str] = set()
        self._traded: set[str] = set()
        self._sinks: dict[Sink, None] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: int | None = None
        self._wake: asyncio.Event | None = None
        self._pump: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        #: Fault switches: book updates to drop, checksums to corrupt, per symbol.
        self.drop_updates: dict[str, int] = {}
        self.corrupt_checksums: dict[str, int] = {}
        #: Book updates pushed and dropped (by the fault switch), over all groups.
        self.updates_sent = 0
        self.updates_dropped = 0

    # contracts ------------------------------------------------------------------------------

    @property
    def contracts(self) -> dict[str, Contract]:
        """The listing, read once from the engine: the only symbols the socket accepts."""
        if self._contracts is None:
            listing = self.exchange.handle("instruments", {}, None)["instruments"]
            self._contracts = {
                row["symbol"]: Contract(
                    row["symbol"],
                    tick=Decimal(row["tickSize"]),
                    trade_precision=int(row["contractValueTradePrecision"]),
                    base=str(row.get("base", "")),
                    tradeable=bool(row.get("tradeable", True)),
                )
                for row in listing
            }
        return self._contracts

    # connections and the pump ---------------------------------------------------------------

    def attach(self, sink: Sink) -> None:
        """A connection opened: start listening to the engine with the first one."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._stop()
            self._loop = loop
            self._thread = threading.get_ident()
        self._sinks[sink] = None
        if self._pump is None:
            self._wake = asyncio.Event()
            subscribe = getattr(self.exchange, "subscribe", None)
            if subscribe is not None:
                self._unsubscribe = subscribe(self._on_event)
            self._pump = loop.create_task(self._run(), name="kraken-twin uws feed")

    def detach(self, sink: Sink) -> None:
        """A connection closed: forget its subscriptions; stop with the last connection."""
        self._sinks.pop(sink, None)
        for symbol in list(self.books):
            for depth in list(self.books[symbol]):
                self.unsubscribe_book(sink, symbol, depth)
        for table in (self.tickers, self.trades):
            for symbol in list(table):
                self._leave(table, sink, symbol)
        for symbol in list(self.candles):
            for interval, tick_type in list(self.candles[symbol]):
                self.unsubscribe_ohlc(sink, symbol, interval, tick_type)
        if not self._sinks:
            self._stop()

    def _stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._pump is not None:
            self._pump.cancel()
            self._pump = None
        self._dirty.clear()

    def call(self, function: Callable[[], None]) -> None:
        """Run ``function`` on the feed's loop (now, if this is its thread or it has none)."""
        loop = self._loop
        if loop is None or threading.get_ident() == self._thread:
            function()
        else:
            loop.call_soon_threadsafe(function)

    @property
    def sinks(self) -> tuple[Sink, ...]:
        return tuple(self._sinks)

    def _on_event(self, event: Event) -> None:
        """The engine's callback: mark, wake, return (never call back into the engine)."""
        if not isinstance(event, _MARKET_EVENTS):
            return
        self._dirty.add(event.symbol)
        if isinstance(event, Trade):
            self._traded.add(event.symbol)
        wake, loop = self._wake, self._loop
        if wake is None or loop is None:
            return
        if threading.get_ident() == self._thread:
            wake.set()
        else:  # the engine driven from another thread: hand the wake-up to the loop
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(wake.set)

    async def _run(self) -> None:
        wake = self._wake
        assert wake is not None
        loop = asyncio.get_running_loop()
        next_tick = loop.time() + self.config.tick_interval
        while True:
            timeout = max(0.0, next_tick - loop.time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout)
            wake.clear()
            tick = loop.time() >= next_tick
            if tick:
                next_tick = loop.time() + self.config.tick_interval
            try:
                self.cycle(tick=tick)
            except Exception:  # a bug here must not end every stream of the twin silently
                logger.exception("the UWS feed failed")

    def cycle(self, *, tick: bool) -> None:
        """Push what changed: every subscribed symbol on a tick, else the dirty ones."""
        dirty, self._dirty = self._dirty, set()
        traded, self._traded = self._traded, set()
        for symbol in [s for s in self.books if tick or s in dirty]:
            self.refresh_book(symbol)
        for symbol in [s for s in self.candles if tick or s in dirty]:
            self.refresh_ohlc(symbol)
        watched = set(self.trades) | set(self.tickers)
        for symbol in sorted(s for s in watched if tick or s in dirty):
            # The tape read is costly (milliseconds); the ticker's last trade is cached and
            # tells whether the makers traded; a users' trade announced itself by event.
            key = self._tape_key(symbol)
            if symbol in traded or key != self._tape_keys.get(symbol):
                self._tape_keys[symbol] = key
                self.refresh_tape(symbol)

    # books ----------------------------------------------------------------------------------

    def _read_book(self, symbol: str) -> dict[str, Any] | None:
        try:
            book: dict[str, Any] = self.exchange.handle("orderbook", {"symbol": [symbol]}, None)[
                "orderBook"
            ]
        except ExchangeError:
            return None
        return book

    def subscribe_book(self, sink: Sink, symbol: str, depth: int, snapshot: bool) -> None:
        groups = self.books.setdefault(symbol, {})
        group = groups.get(depth)
        if group is None:
            group = groups[depth] = BookGroup(symbol, depth)
            book = self._read_book(symbol)
            contract = self.contracts[symbol]
            if book is not None:
                group.bids, _ = _render(book["bids"], contract, depth)
                group.asks, _ = _render(book["asks"], contract, depth)
            group.checksum = checksum_of(group.asks, group.bids)
            group.timestamp = self.clock.time()
        group.members[sink] = None
        if snapshot:
            sink.push(group.snapshot())

    def unsubscribe_book(self, sink: Sink, symbol: str, depth: int) -> None:
        groups = self.books.get(symbol)
        group = None if groups is None else groups.get(depth)
        if groups is None or group is None:
            return
        group.members.pop(sink, None)
        if not group.members:
            del groups[depth]
            if not groups:
                del self.books[symbol]
                self._book_sources.pop(symbol, None)

    def refresh_book(self, symbol: str) -> None:
        groups = self.books.get(symbol)
        if not groups:
            return
        book = self._read_book(symbol)
        if book is None or book is self._book_sources.get(symbol):
            return  # the engine's cached book: nothing changed since the last read
        self._book_sources[symbol] = book
        contract = self.contracts[symbol]
        now = self.clock.time()
        for group in list(groups.values()):
            bids, bid_prices = _render(book["bids"], contract, group.depth)
            asks, ask_prices = _render(book["asks"], contract, group.depth)
            bid_changes = _diff(group.bids, bids, bid_prices)
            ask_changes = _diff(group.asks, asks, ask_prices)
            if not bid_changes and not ask_changes:
                continue
            group.bids, group.asks, group.timestamp = bids, asks, now
            group.checksum = checksum = checksum_of(asks, bids)
            if self._take(self.drop_updates, symbol):
                self.updates_dropped += 1
                continue
            if self._take(self.corrupt_checksums, symbol):
                checksum ^= 0x5A5A5A5A
            text = _book_push("update", symbol, bid_changes, ask_changes, checksum, now)
            self.updates_sent += 1
            for sink in tuple(group.members):
                sink.push(text)

    @staticmethod
    def _take(switch: dict[str, int], symbol: str) -> bool:
        left = switch.get(symbol, 0)
        if left <= 0:
            return False
        if left == 1:
            del switch[symbol]
        else:
            switch[symbol] = left - 1
        return True

    # candles --------------------------------------------------------------------------------

    def _candles(
        self, group: CandleGroup, count: int
    ) -> list[tuple[dict[str, Any], tuple[object, ...]]]:
        """The latest ``count`` candles of ``group`` as ``ohlc`` elements, with their keys."""
        now = self.clock.time()
        symbol, interval, tick_type = group.symbol, group.interval, group.tick_type
        found = read_candles(self.exchange.handle, symbol, interval, tick_type, count, now)
        width = interval * 60
        tape = self._tape(symbol) if tick_type == "trade" and found else []
        contract = self.contracts[symbol]
        made = []
        for candle in found:
            trades = count_trades(tape, candle.begin, width) if tick_type == "trade" else 0
            data = candle_data(contract, interval, tick_type, candle, trades, now)
            made.append((data, (*candle.key(), trades)))
        return made

    def subscribe_ohlc(
        self, sink: Sink, symbol: str, interval: int, tick_type: str, snapshot: bool
    ) -> None:
        groups = self.candles.setdefault(symbol, {})
        group = groups.get((interval, tick_type))
        if group is None:
            group = groups[(interval, tick_type)] = CandleGroup(symbol, interval, tick_type)
        group.members[sink] = None
        made = self._candles(group, self.config.ohlc_snapshot if snapshot else 1)
        if made and group.last is None:
            group.last = made[-1][1]
        if snapshot:
            sink.push(_ohlc_push("snapshot", [data for data, _ in made], self.clock.time()))

    def unsubscribe_ohlc(self, sink: Sink, symbol: str, interval: int, tick_type: str) -> None:
        groups = self.candles.get(symbol)
        group = None if groups is None else groups.get((interval, tick_type))
        if groups is None or group is None:
            return
        group.members.pop(sink, None)
        if not group.members:
            del groups[(interval, tick_type)]
            if not groups:
                del self.candles[symbol]

    def refresh_ohlc(self, symbol: str) -> None:
        """Push each group's running candle if it changed since it was last sent."""
        for group in list(self.candles.get(symbol, {}).values()):
            made = self._candles(group, 1)
            if not made or made[-1][1] == group.last:
                continue
            data, group.last = made[-1]
            text = _ohlc_push("update", [data], self.clock.time())
            for sink in tuple(group.members):
                sink.push(text)

    # trades and tickers ---------------------------------------------------------------------

    def _tape(self, symbol: str) -> list[dict[str, Any]]:
        """The latest trades, newest first (the REST tape's rows)."""
        try:
            rows: list[dict[str, Any]] = self.exchange.handle("trades", {"symbol": [symbol]}, None)[
                "history"
            ]
        except ExchangeError:
            return []
        return rows

    def _tape_key(self, symbol: str) -> tuple[object, ...]:
        try:
            ticker = self.exchange.handle("ticker", {"symbol": [symbol]}, None)["ticker"]
        except ExchangeError:
            return ()
        return (ticker.get("lastTime"), ticker.get("last"), ticker.get("lastSize"))

    def _watch(self, symbol: str) -> list[dict[str, Any]]:
        rows = self._tape(symbol)
        if symbol not in self._last_trade:
            self._last_trade[symbol] = int(rows[0]["trade_id"]) if rows else -1
            self._tape_keys[symbol] = self._tape_key(symbol)
        return rows

    def subscribe_trades(self, sink: Sink, symbol: str, snapshot: bool) -> None:
        rows = self._watch(symbol)
        self.trades.setdefault(symbol, {})[sink] = None
        if snapshot:
            last = self._last_trade[symbol]
            kept = [r for r in rows if int(r["trade_id"]) <= last]
            kept = kept[: self.config.trade_snapshot]
            sink.push(push("trade", "snapshot", self._trade_data(symbol, reversed(kept))))

    def subscribe_ticker(self, sink: Sink, symbol: str, snapshot: bool) -> None:
        self._watch(symbol)
        self.tickers.setdefault(symbol, {})[sink] = None
        if snapshot:
            data = self._ticker_data(symbol)
            if data is not None:
                sink.push(push("ticker", "snapshot", [data]))

    def unsubscribe_trades(self, sink: Sink, symbol: str) -> None:
        self._leave(self.trades, sink, symbol)

    def unsubscribe_ticker(self, sink: Sink, symbol: str) -> None:
        self._leave(self.tickers, sink, symbol)

    def _leave(self, table: dict[str, dict[Sink, None]], sink: Sink, symbol: str) -> None:
        members = table.get(symbol)
        if members is None:
            return
        members.pop(sink, None)
        if not members:
            del table[symbol]
            if symbol not in self.trades and symbol not in self.tickers:
                self._last_trade.pop(symbol, None)
                self._tape_keys.pop(symbol, None)

    def refresh_tape(self, symbol: str) -> None:
        rows = self._tape(symbol)
        last = self._last_trade.get(symbol, -1)
        fresh = [r for r in rows if int(r["trade_id"]) > last]
        if not fresh:
            return
        self._last_trade[symbol] = int(fresh[0]["trade_id"])
        members = self.trades.get(symbol)
        if members:
            text = push("trade", "update", self._trade_data(symbol, reversed(fresh)))
            for sink in tuple(members):
                sink.push(text)
        members = self.tickers.get(symbol)
        if members:
            data = self._ticker_data(symbol)
            if data is not None:
                text = push("ticker", "update", [data])
                for sink in tuple(members):
                    sink.push(text)

    def _trade_data(self, symbol: str, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """[?] choice: ``ord_type`` is ``limit`` (the tape does not know the taker's type)."""
        contract = self.contracts[symbol]
        return [
            {
                "symbol": symbol,
                "side": row["side"],
                "price": contract.price(Decimal(row["price"])),
                "qty": contract.qty(Decimal(row["size"])),
                "ord_type": "limit",
                "trade_id": int(row["trade_id"]),
                "timestamp": _micros(str(row["time"])),
            }
            for row in rows
        ]

    def _ticker_data(self, symbol: str) -> dict[str, Any] | None:
        try:
            ticker = self.exchange.handle("ticker", {"symbol": [symbol]}, None)["ticker"]
        except ExchangeError:
            return None
        contract = self.contracts[symbol]
        price, qty = contract.price, contract.qty

        def get(name: str) -> Decimal | None:
            value = ticker.get(name)
            return None if value is None else Decimal(value)

        mark = get("markPrice") or _ZERO
        last = get("last") or mark
        open24 = get("open24h") or last
        high, low = get("high24h") or last, get("low24h") or last
        volume = get("vol24h") or _ZERO
        quote = get("volumeQuote")
        inverse = contract.symbol.startswith(("PI_", "FI_"))
        if quote is not None and volume > 0 and not inverse:
            vwap = quote / volume
        else:  # no quote volume to weigh by: the typical price of the day
            vwap = (high + low + last) / 3
        bid, ask = get("bid"), get("ask")
        bid_qty, ask_qty = get("bidSize"), get("askSize")
        data: dict[str, Any] = {
            "symbol": symbol,
            "bid": None if bid is None else price(bid),
            "bid_qty": None if bid_qty is None else qty(bid_qty),
            "ask": None if ask is None else price(ask),
            "ask_qty": None if ask_qty is None else qty(ask_qty),
            "last": price(last),
            "volume": qty(volume),
            "vwap": price(vwap),
            "low": price(low),
            "high": price(high),
            "change": price(last - open24),
            "change_pct": (get("change24h") or _ZERO).quantize(Decimal("0.01")),
        }
        if self.config.ticker_extras:
            data["mark_price"] = mark
            data["index_price"] = get("indexPrice")
            data["funding_rate"] = get("fundingRate")
            data["funding_rate_prediction"] = get("fundingRatePrediction")
            data["open_interest"] = get("openInterest")
        data["timestamp"] = rfc3339(self.clock.time())
        return data


def _micros(text: str) -> str:
    """``...:57.123Z`` (the tape's milliseconds) as ``...:57.123000Z``."""
    if text.endswith("Z") and len(text) == 24:
        return text[:-1] + "000Z"
    return text
