"""Streams over Kraken's Unified WebSocket: ``kf.stream`` and the local order book.

The account's own channels (``kf.stream.executions()``, ``positions()``, ``balances()``)
are in :mod:`.private`.

:class:`Streams` (``kf.stream``, in :mod:`.subscriptions`) hands out subscriptions fed by a
:class:`~.source.StreamSource` (the Session's socket, :mod:`kraken_futures_async.uws`).
The book is pure (no I/O): a decoder feeds it :class:`BookMessage` objects and it hands out
verified, frozen :class:`BookView` states or raises :class:`BookOutOfSyncError`.
"""

from .book import (
    BOOK_DEPTHS,
    BookMessage,
    BookOutOfSyncError,
    BookView,
    ChecksumMismatchError,
    LocalBook,
)
from .checksum import book_checksum, level_digits
from .errors import (
    StreamConnectionError,
    StreamError,
    StreamMessageTooLargeError,
    StreamOverflowError,
    StreamTimeoutError,
    SubscriptionRejectedError,
)
from .levels import BookLevel, WireLevel
from .private import PrivateStreams
from .subscriptions import BookSubscription, ItemSubscription, Streams, StreamSubscription

__all__ = [
    "BOOK_DEPTHS",
    "BookLevel",
    "BookMessage",
    "BookOutOfSyncError",
    "BookSubscription",
    "BookView",
    "ChecksumMismatchError",
    "ItemSubscription",
    "LocalBook",
    "PrivateStreams",
    "StreamConnectionError",
    "StreamError",
    "StreamMessageTooLargeError",
    "StreamOverflowError",
    "StreamSubscription",
    "StreamTimeoutError",
    "Streams",
    "SubscriptionRejectedError",
    "WireLevel",
    "book_checksum",
    "level_digits",
]
