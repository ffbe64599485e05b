"""Streams over Kraken's Unified WebSocket: so far the local order book and its checksum.

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
from .levels import BookLevel, WireLevel

__all__ = [
    "BOOK_DEPTHS",
    "BookLevel",
    "BookMessage",
    "BookOutOfSyncError",
    "BookView",
    "ChecksumMismatchError",
    "LocalBook",
    "WireLevel",
    "book_checksum",
    "level_digits",
]
