"""``kf.stream``: live books, tickers, trades, candles and instruments as typed async iterators.

::

    async with Session() as kf:
        async with kf.stream.book("PF_XBTUSD", depth=10) as books:
            async for book in books:          # a verified BookView, best levels first
                print(book.best_bid, book.best_ask, book.checksum)

Every method returns a subscription: an async context manager (entering subscribes and
waits for Kraken's ack; leaving unsubscribes) and an async iterator (iterating without
``async with`` subscribes on the first item; then the subscription ends when the iterator
raises, or when the Session closes). One Session streams each channel and symbol once;
all of them share the Session's one socket, opened by the first subscription.

What a slow consumer gets:

* **book**: conflation. The book is kept current as pushes arrive; the iterator yields the
  latest verified state each time it is asked, skipping the states in between. A checksum
  mismatch resubscribes for a fresh snapshot; no unverified state is ever yielded. After
  ``max_resyncs`` failed snapshots in a row the iterator raises
  :class:`~kraken_futures_async.streams.BookOutOfSyncError`.
* **ticker, trades, ohlc, instruments, status**: nothing is dropped. Items wait in a buffer
  of ``buffer`` items; when it is full the subscription ends, and the iterator yields what
  it holds, then raises :class:`~kraken_futures_async.streams.StreamOverflowError`.

A dropped socket heals itself: the book iterator's next item is a state rebuilt from a fresh
snapshot; the others yield a :class:`~kraken_futures_async.models.streams.StreamReconnected`
marker where the gap is. The Session closing ends every iterator (``StopAsyncIteration``).

Here are :class:`Streams` and the subscriptions users hold; the sinks that take the pushes
(the bounded buffer, the item decoder, the local book's keeper) are in :mod:`.sinks`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import cattrs

from ..errors import InvalidArgumentError, KrakenFuturesError
from ..models.streams import (
    BalanceUpdate,
    ExecutionUpdate,
    PositionUpdate,
    StreamAsset,
    StreamCandle,
    StreamInstruments,
    StreamPair,
    StreamReconnected,
    StreamTicker,
    StreamTrade,
    SystemStatus,
)
from .book import BOOK_DEPTHS, BookView
from .sinks import _BookSink, _Buffer, _ItemSink
from .source import Feed, StreamSource

if TYPE_CHECKING:
    from .private import PrivateStreams

__all__ = [
    "DEFAULT_BUFFER",
    "DEFAULT_MAX_RESYNCS",
    "OHLC_INTERVALS",
    "OHLC_TICK_TYPES",
    "BookSubscription",
    "ItemSubscription",
    "StreamSubscription",
    "Streams",
]

T = TypeVar("T")

#: Items a non-book subscription holds for a consumer that is behind.
DEFAULT_BUFFER = 10_000
#: Fresh book snapshots in a row that may fail their checksum before the iterator raises.
DEFAULT_MAX_RESYNCS = 5
#: Candle lengths in minutes (reference §4.5).
OHLC_INTERVALS = (1, 5, 15, 30, 60, 240, 1440, 10080, 21600)
#: What a candle follows (reference §4.5).
OHLC_TICK_TYPES = ("trade", "mark", "spot")


def _symbol(symbol: object) -> str:
    if not isinstance(symbol, str) or not symbol.strip():
        raise InvalidArgumentError(f"a symbol is a non-empty string, got {symbol!r}")
    return symbol.strip().upper()  # [?] choice 6 of kraken_futures_async.uws.protocol


class _Target:
    __slots__ = ("channel", "params", "sink", "symbol")

    def __init__(
        self,
        channel: str,
        symbol: str | None,
        params: dict[str, Any],
        sink: _ItemSink[Any] | _BookSink,
    ) -> None:
        self.channel = channel
        self.symbol = symbol
        self.params = params
        self.sink = sink


# -- subscriptions: what users hold ------------------------------------------------------


class StreamSubscription(Generic[T]):
    """An async context manager and async iterator over one stream's items."""

    def __init__(
        self, source: StreamSource, check_open: Callable[[], object], targets: list[_Target]
    ) -> None:
        self._source = source
        self._check_open = check_open
        self._targets = targets
        self._feeds: list[Feed] = []
        self._state = "new"

    def __repr__(self) -> str:
        keys = ", ".join(
            f"{t.channel} {t.symbol}" if t.symbol else t.channel for t in self._targets
        )
        return f"<{type(self).__name__} {keys} {self._state}>"

    async def __aenter__(self) -> StreamSubscription[T]:
        await self._open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> StreamSubscription[T]:
        return self

    async def __anext__(self) -> T:
        if self._state == "new":
            await self._open()
        elif self._state == "closed":
            raise StopAsyncIteration
        try:
            return await self._get()
        except (StopAsyncIteration, KrakenFuturesError):
            await self.aclose()
            raise

    async def _get(self) -> T:
        raise NotImplementedError

    async def _open(self) -> None:
        if self._state != "new":
            raise InvalidArgumentError(f"{self!r} opens once; ask kf.stream for a new one")
        self._check_open()
        self._state = "open"
        results = await asyncio.gather(
            *(
                self._source.subscribe(t.channel, t.symbol, t.params, t.sink)
                if t.channel != "status"
                else self._source.watch_status(t.sink)
                for t in self._targets
            ),
            return_exceptions=True,
        )
        failures: list[BaseException] = []
        for target, result in zip(self._targets, results, strict=True):
            if isinstance(result, BaseException):
                failures.append(result)
            else:
                self._feeds.append(result)
                target.sink.attach(result)
        if failures:
            await self.aclose()
            raise failures[0]

    async def aclose(self) -> None:
        """Unsubscribe (each ack waited for up to the socket's ack timeout); idempotent."""
        if self._state == "closed":
            return
        self._state = "closed"
        feeds, self._feeds = self._feeds, []
        await asyncio.gather(*(feed.close() for feed in feeds))
        for target in self._targets:
            target.sink.end()


class ItemSubscription(StreamSubscription[T]):
    """Items of ticker, trades, ohlc, instruments or status, none dropped silently."""

    def __init__(
        self,
        source: StreamSource,
        check_open: Callable[[], object],
        targets: list[_Target],
        buffer: _Buffer[T],
    ) -> None:
        super().__init__(source, check_open, targets)
        self._buffer = buffer

    async def __aenter__(self) -> ItemSubscription[T]:
        await self._open()
        return self

    def __aiter__(self) -> ItemSubscription[T]:
        return self

    async def _get(self) -> T:
        return await self._buffer.get()


class BookSubscription(StreamSubscription[BookView]):
    """Verified states of one local book, the latest each time (conflated)."""

    def __init__(
        self, source: StreamSource, check_open: Callable[[], object], target: _Target
    ) -> None:
        super().__init__(source, check_open, [target])
        assert isinstance(target.sink, _BookSink)
        self._sink = target.sink

    async def __aenter__(self) -> BookSubscription:
        await self._open()
        return self

    def __aiter__(self) -> BookSubscription:
        return self

    @property
    def resyncs(self) -> int:
        """How many times a failed checksum (or an unreadable push) asked for a new snapshot."""
        return self._sink.resyncs

    async def _get(self) -> BookView:
        return await self._sink.get()


def _no_check() -> None:
    return None


class Streams:
    """``kf.stream``: Kraken's Unified WebSocket; the public channels need no credentials,
    ``executions``, ``positions`` and ``balances`` a Kraken key (``private``, :mod:`.private`).

    ``buffer`` bounds the items a non-book subscription holds for a slow consumer;
    ``max_resyncs`` the fresh snapshots in a row a book may fail before its iterator raises.
    """

    def __init__(
        self,
        source: StreamSource,
        *,
        converter: cattrs.Converter | None = None,
        check_open: Callable[[], object] = _no_check,
        buffer: int = DEFAULT_BUFFER,
        max_resyncs: int = DEFAULT_MAX_RESYNCS,
        private: PrivateStreams | None = None,
    ) -> None:
        if converter is None:
            from ..converter import default_converter

            converter = default_converter()
        if isinstance(buffer, bool) or not isinstance(buffer, int) or buffer < 1:
            raise InvalidArgumentError(f"buffer must be a positive int, got {buffer!r}")
        self.source = source
        self._converter = converter
        self._check_open = check_open
        self._buffer = buffer
        self._max_resyncs = max_resyncs
        if private is None:
            from .private import PrivateStreams

            private = PrivateStreams(None, converter=converter, check_open=check_open)
        #: The account's channels, on the private socket.
        self.private = private

    @property
    def connected(self) -> bool:
        """Whether the public socket is open right now (a source that does not say counts
        as open): a consumer that must not trust old data while it is down reads this."""
        return bool(getattr(self.source, "connected", True))

    def executions(self) -> ItemSubscription[ExecutionUpdate | StreamReconnected]:
        """Your orders' events and fills, as UWS ``executions`` sends them (a Kraken key)."""
        return self.private.executions()

    def positions(self) -> ItemSubscription[PositionUpdate | StreamReconnected]:
        """Your futures positions: a snapshot, then each change (a Kraken key)."""
        return self.private.positions()

    def balances(self) -> ItemSubscription[BalanceUpdate | StreamReconnected]:
        """Your asset balances: totals, then each ledger entry (a Kraken key)."""
        return self.private.balances()

    def book(self, symbol: str, depth: int = 10) -> BookSubscription:
        """Verified states of ``symbol``'s L2 book, ``depth`` levels a side (10, 25, 100,
        500 or 1000), each with its checksum and timestamp."""
        name = _symbol(symbol)
        if depth not in BOOK_DEPTHS or isinstance(depth, bool):
            raise InvalidArgumentError(f"depth is one of {BOOK_DEPTHS}, got {depth!r}")
        sink = _BookSink(name, depth, self._max_resyncs)
        target = _Target("book", name, {"depth": depth, "snapshot": True}, sink)
        return BookSubscription(self.source, self._check_open, target)

    def ticker(
        self, symbols: str | Iterable[str]
    ) -> ItemSubscription[StreamTicker | StreamReconnected]:
        """Tickers of one symbol or several (one subscription each, one iterator for all)."""
        names = [_symbol(symbols)] if isinstance(symbols, str) else [_symbol(s) for s in symbols]
        if not names or len(set(names)) != len(names):
            raise InvalidArgumentError(f"give one or more distinct symbols, got {symbols!r}")
        return self._items(
            "ticker",
            names,
            {"snapshot": True},
            self._one(StreamTicker),
            f"ticker {' '.join(names)}",
        )

    def trades(
        self, symbol: str, *, snapshot: bool = False
    ) -> ItemSubscription[StreamTrade | StreamReconnected]:
        """Public trades of ``symbol``, one item per trade; ``snapshot=True`` starts with the
        last 50."""
        name = _symbol(symbol)
        return self._items(
            "trade", [name], {"snapshot": bool(snapshot)}, self._one(StreamTrade), f"trades {name}"
        )

    def ohlc(
        self, symbol: str, interval: int, *, tick_type: str = "trade"
    ) -> ItemSubscription[StreamCandle | StreamReconnected]:
        """Live candles of ``interval`` minutes, following trades, the mark or the spot index."""
        name = _symbol(symbol)
        if interval not in OHLC_INTERVALS or isinstance(interval, bool):
            raise InvalidArgumentError(f"interval is one of {OHLC_INTERVALS}, got {interval!r}")
        if tick_type not in OHLC_TICK_TYPES:
            raise InvalidArgumentError(f"tick_type is one of {OHLC_TICK_TYPES}, got {tick_type!r}")
        params = {"interval": interval, "tick_type": tick_type, "snapshot": True}
        return self._items("ohlc", [name], params, self._one(StreamCandle), f"ohlc {name}")

    def instruments(self) -> ItemSubscription[StreamInstruments | StreamReconnected]:
        """The contract list: a snapshot, then the entries that change."""
        converter = self._converter

        def decode(kind: str, data: Any) -> Iterable[StreamInstruments]:
            if not isinstance(data, dict):
                raise TypeError(f"instrument data is an object, got {type(data).__name__}")
            assets = converter.structure(data.get("assets") or [], tuple[StreamAsset, ...])
            pairs = converter.structure(data.get("pairs") or [], tuple[StreamPair, ...])
            return (StreamInstruments(snapshot=kind == "snapshot", assets=assets, pairs=pairs),)

        return self._items("instrument", [None], {"snapshot": True}, decode, "instruments")

    def status(self) -> ItemSubscription[SystemStatus]:
        """Kraken's ``status`` pushes (``online``, ``cancel_only``, ``maintenance``...): the
        current one first, then each change, across reconnects."""
        buffer: _Buffer[SystemStatus] = _Buffer(self._buffer, "status")
        sink = _ItemSink("status", None, self._one(SystemStatus), buffer)
        target = _Target("status", None, {}, sink)
        return ItemSubscription(self.source, self._check_open, [target], buffer)

    def _one(self, cls: type[T]) -> Callable[[str, Any], Iterable[T]]:
        converter = self._converter

        def decode(_kind: str, data: Any) -> Iterable[T]:
            return (converter.structure(data, cls),)

        return decode

    def _items(
        self,
        channel: str,
        symbols: Sequence[str | None],
        params: dict[str, Any],
        decode: Callable[[str, Any], Iterable[T]],
        what: str,
    ) -> ItemSubscription[T | StreamReconnected]:
        buffer: _Buffer[T | StreamReconnected] = _Buffer(self._buffer, what)
        targets = [
            _Target(channel, symbol, dict(params), _ItemSink(channel, symbol, decode, buffer))
            for symbol in symbols
        ]
        return ItemSubscription(self.source, self._check_open, targets, buffer)
