"""The sinks behind ``kf.stream``'s subscriptions: what the source calls as pushes arrive.

:class:`_Buffer` is a bounded queue that fails (:class:`StreamOverflowError`) rather than
drop an item; :class:`_ItemSink` decodes one key's pushes into a buffer shared by a
subscription's keys and puts a :class:`~kraken_futures_async.models.streams.StreamReconnected`
marker where a gap ends; :class:`_BookSink` keeps a :class:`~.book.LocalBook` current from
the book pushes (decoded here with the levels' numbers as their wire text), asks the feed
for a fresh snapshot when a checksum fails, and hands out the latest verified state
(conflation). The subscriptions that read them are in :mod:`.subscriptions`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any, Generic, TypeVar

import cattrs

from .._values import parse_datetime
from ..converter import NumberText
from ..errors import KrakenFuturesError, ResponseInvalidError
from ..models.streams import StreamReconnected
from .book import BookMessage, BookOutOfSyncError, BookView, LocalBook
from .errors import StreamOverflowError
from .levels import WireLevel
from .source import Feed

logger = logging.getLogger("kraken_futures_async.streams")

T = TypeVar("T")


class _Buffer(Generic[T]):
    """A bounded queue that never drops silently: when full, it fails."""

    def __init__(self, capacity: int, what: str) -> None:
        self._items: deque[T] = deque()
        self._capacity = capacity
        self._what = what
        self._event = asyncio.Event()
        self._error: KrakenFuturesError | None = None
        self._ended = False

    def put(self, item: T) -> None:
        if self._error is not None or self._ended:
            return
        if len(self._items) >= self._capacity:
            self.fail(
                StreamOverflowError(
                    f"{self._what}: the consumer fell {self._capacity} items behind; the "
                    "subscription ended (read faster, or give a larger buffer)"
                )
            )
            return
        self._items.append(item)
        self._event.set()

    def fail(self, error: KrakenFuturesError) -> None:
        if self._error is None:
            self._error = error
            self._event.set()

    def end(self) -> None:
        self._ended = True
        self._event.set()

    async def get(self) -> T:
        while True:
            if self._items:
                return self._items.popleft()
            if self._error is not None:
                raise self._error
            if self._ended:
                raise StopAsyncIteration
            self._event.clear()
            await self._event.wait()


class _ItemSink(Generic[T]):
    """Decodes one key's pushes into items of a shared buffer."""

    def __init__(
        self,
        channel: str,
        symbol: str | None,
        decode: Callable[[str, Any], Iterable[T]],
        buffer: _Buffer[Any],
    ) -> None:
        self.channel = channel
        self.symbol = symbol
        self._decode = decode
        self._buffer = buffer

    def attach(self, feed: Feed) -> None:
        """Nothing to ask of the feed: these channels heal by resubscribing."""

    def deliver(self, kind: str, data: Any) -> None:
        try:
            items = list(self._decode(kind, data))
        except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as error:
            self._buffer.fail(
                ResponseInvalidError(
                    f"a {self.channel} push is not the documented shape: {error}",
                    endpoint=self.channel,
                    payload=data,
                )
            )
            return
        for item in items:
            self._buffer.put(item)

    def link_lost(self) -> None:
        """The marker goes in when the subscription is back, where the gap ends."""

    def link_restored(self) -> None:
        self._buffer.put(
            StreamReconnected(channel=self.channel, symbol=self.symbol, at=dt.datetime.now(dt.UTC))
        )

    def fail(self, error: KrakenFuturesError) -> None:
        self._buffer.fail(error)

    def end(self) -> None:
        self._buffer.end()


def _wire_text(value: Any) -> str:
    """A level number's text as on the wire (the socket's decoder keeps it as text)."""
    if value.__class__ is NumberText:
        return str.__str__(value)
    if value.__class__ is Decimal:
        return format(value, "f")
    if value.__class__ is int:
        return str(value)
    raise TypeError(f"a book price or qty is a JSON number, got {value!r}")


def _levels(raw: Any) -> Sequence[WireLevel]:
    if raw is None:
        return ()
    return [(_wire_text(level["price"]), _wire_text(level["qty"])) for level in raw]


def _book_message(kind: str, data: Any) -> BookMessage:
    checksum = data.get("checksum")
    if checksum is not None and (checksum.__class__ is not int or not 0 <= checksum < 2**32):
        raise ValueError(f"checksum {checksum!r} is not a 32-bit unsigned integer")
    return BookMessage(
        symbol=data["symbol"],
        snapshot=kind == "snapshot",
        bids=_levels(data.get("bids")),
        asks=_levels(data.get("asks")),
        checksum=checksum,
        timestamp=parse_datetime(data["timestamp"]),
    )


class _BookSink:
    """Keeps the local book current; the iterator reads its latest verified state."""

    def __init__(self, symbol: str, depth: int, max_resyncs: int) -> None:
        self.book = LocalBook(symbol, depth)
        self.resyncs = 0
        self._max_resyncs = max_resyncs
        self._failures = 0  # resyncs since the last verified state
        self._latest: BookView | None = None
        self._fresh = False
        self._awaiting_snapshot = True
        self._event = asyncio.Event()
        self._error: KrakenFuturesError | None = None
        self._ended = False
        self._feed: Feed | None = None
        self._resync_wanted = False

    def attach(self, feed: Feed) -> None:
        self._feed = feed
        if self._resync_wanted:  # the first snapshot failed before the subscription returned
            self._resync_wanted = False
            feed.resync()

    def deliver(self, kind: str, data: Any) -> None:
        if self._error is not None or self._ended:
            return
        snapshot = kind == "snapshot"
        if self._awaiting_snapshot and not snapshot:
            return  # updates of the state we gave up on, in flight before the resubscription
        try:
            self.book.apply(_book_message(kind, data))
        except BookOutOfSyncError as error:
            self._out_of_sync(error)
            return
        except (ValueError, TypeError, KeyError, AttributeError, ArithmeticError) as error:
            self.book.reset()
            self._out_of_sync(BookOutOfSyncError(self.book.symbol, f"unreadable push ({error})"))
            return
        self._awaiting_snapshot = False
        self._failures = 0
        self._latest = self.book.view()
        self._fresh = True
        self._event.set()

    def _out_of_sync(self, error: BookOutOfSyncError) -> None:
        self._awaiting_snapshot = True
        self._latest = None
        self._fresh = False
        self._failures += 1
        if self._failures > self._max_resyncs:
            self.fail(error)
            return
        self.resyncs += 1
        logger.warning("%s; resubscribing for a fresh snapshot", error)
        if self._feed is not None:
            self._feed.resync()
        else:
            self._resync_wanted = True

    def link_lost(self) -> None:
        self.book.reset()
        self._awaiting_snapshot = True
        self._latest = None
        self._fresh = False

    def link_restored(self) -> None:
        """The resubscription's snapshot follows; the next state yielded is built from it."""

    def fail(self, error: KrakenFuturesError) -> None:
        if self._error is None:
            self._error = error
            self._event.set()

    def end(self) -> None:
        self._ended = True
        self._event.set()

    async def get(self) -> BookView:
        while True:
            if self._error is not None:
                raise self._error
            if self._fresh and self._latest is not None:
                self._fresh = False
                return self._latest
            if self._ended:
                raise StopAsyncIteration
            self._event.clear()
            await self._event.wait()
