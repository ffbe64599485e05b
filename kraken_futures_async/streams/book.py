"""A local L2 book for one symbol that never shows a state it has not verified.

Feed it the ``book`` channel's messages in order (:class:`BookMessage`: a snapshot, then
updates); after each one it truncates both sides to the subscribed depth and checks Kraken's
CRC32 (:mod:`.checksum`) against the digits exactly as they came on the wire. A mismatch
raises :class:`ChecksumMismatchError` and leaves the book out of sync: :meth:`LocalBook.view`
refuses (:class:`BookOutOfSyncError`) until a new snapshot arrives, so the caller
resubscribes and nobody sees a wrong book. Views are frozen and verified, and carry the
checksum and the message's timestamp.

Choices where the reference (kraken-uws-api.md §2.4, §4.2) marks a fact [?], made as Kraken's
Spot WebSocket v2 does, each in one place:

1. Every message carries a checksum (Spot v2: on the snapshot and on every update). A message
   without one puts the book out of sync like a mismatch: :data:`CHECKSUM_ON_EVERY_MESSAGE`.
2. When a level inside the subscribed depth is deleted, Kraken sends the level that enters
   the range in the same message (Spot v2 ``book`` and ``level3``). The book never invents
   one; if it does not come, that side is shorter than the depth (and a gap in the top ten
   fails the checksum): :meth:`.levels.BookSide.apply`.
3. Numbers come fixed point at full precision, never in exponent notation (Spot v2). If an
   exponent ever appears, its checksum digits are those of its fixed-point form:
   :func:`.checksum.number_digits`.
4. Whether qtys keep trailing zeros up to ``qty_precision`` needs no choice: the checksum
   uses the wire text, whatever it is.
5. The book object is the single element of ``data`` (Spot v2); the decoder builds one
   :class:`BookMessage` from it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import attrs

from ..errors import InvalidArgumentError, KrakenFuturesError
from .checksum import checksum_of_text
from .levels import BookLevel, BookSide, WireLevel

__all__ = [
    "BOOK_DEPTHS",
    "CHECKSUM_ON_EVERY_MESSAGE",
    "BookMessage",
    "BookOutOfSyncError",
    "BookView",
    "ChecksumMismatchError",
    "LocalBook",
]

#: The depths Kraken accepts on a ``book`` subscription (reference §4.2).
BOOK_DEPTHS = (10, 25, 100, 500, 1000)

#: [?] choice 1: a message without a checksum is treated as out of sync (Spot v2 always sends one).
CHECKSUM_ON_EVERY_MESSAGE = True


class BookOutOfSyncError(KrakenFuturesError):
    """The local book cannot be trusted until a new snapshot: resubscribe for one."""

    def __init__(self, symbol: str, reason: str) -> None:
        super().__init__(f"{symbol} book out of sync: {reason}")
        self.symbol = symbol
        self.reason = reason


class ChecksumMismatchError(BookOutOfSyncError):
    """Kraken's checksum and the one computed from the local book differ."""

    def __init__(
        self, symbol: str, *, expected: int, computed: int, timestamp: dt.datetime
    ) -> None:
        super().__init__(
            symbol, f"checksum {computed} computed, {expected} expected at {timestamp.isoformat()}"
        )
        self.expected = expected
        self.computed = computed
        self.timestamp = timestamp


@attrs.frozen(kw_only=True)
class BookMessage:
    """One ``book`` push as decoded: the single element of its ``data``, and its ``type``.

    Levels are :data:`.levels.WireLevel` pairs of wire text, applied in order; ``checksum``
    is None only if the message carried none (choice 1 above).
    """

    symbol: str
    snapshot: bool
    bids: Sequence[WireLevel]
    asks: Sequence[WireLevel]
    checksum: int | None
    timestamp: dt.datetime


@attrs.frozen(kw_only=True)
class BookView:
    """A verified state of one book: bids best (highest) first, asks best (lowest) first.

    ``checksum`` is the CRC32 the book computed and Kraken's message confirmed; ``timestamp``
    is that message's.
    """

    symbol: str
    depth: int
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    checksum: int
    timestamp: dt.datetime

    @property
    def best_bid(self) -> BookLevel | None:
        """The highest bid, or ``None`` when the bid side is empty."""
        return self.bids[0] if self.bids else None

    @property
    def best_ask(self) -> BookLevel | None:
        """The lowest ask, or ``None`` when the ask side is empty."""
        return self.asks[0] if self.asks else None


class LocalBook:
    """The book of one symbol at one subscribed depth, rebuilt from snapshots and updates."""

    __slots__ = (
        "_asks",
        "_bids",
        "_checksum",
        "_depth",
        "_symbol",
        "_synced",
        "_timestamp",
        "_view",
    )

    def __init__(self, symbol: str, depth: int = 10) -> None:
        if depth < 1:
            raise InvalidArgumentError(f"depth must be at least 1, got {depth}")
        self._symbol = symbol
        self._depth = depth
        self._bids = BookSide(descending=True)
        self._asks = BookSide(descending=False)
        self._synced = False
        self._checksum = 0
        self._timestamp: dt.datetime | None = None
        self._view: BookView | None = None

    @property
    def symbol(self) -> str:
        """The contract this book follows."""
        return self._symbol

    @property
    def depth(self) -> int:
        """The depth subscribed to, one of ``BOOK_DEPTHS``."""
        return self._depth

    @property
    def synced(self) -> bool:
        """Whether the last message was applied and verified (a view is available)."""
        return self._synced

    def reset(self) -> None:
        """Forget everything (after a reconnect, say) and wait for a snapshot."""
        self._synced = False
        self._view = None
        self._bids.clear()
        self._asks.clear()

    def apply(self, message: BookMessage) -> None:
        """Apply one message, truncate, verify; raise :class:`BookOutOfSyncError` if it fails.

        An update is refused while the book is out of sync (before the first snapshot, or
        after a failure) so that nothing is built on a state already known to be wrong.
        """
        if message.symbol != self._symbol:
            raise InvalidArgumentError(f"a {message.symbol} message for the {self._symbol} book")
        if message.snapshot:
            self.reset()
        elif not self._synced:
            raise BookOutOfSyncError(self._symbol, "an update before a new snapshot")
        self._synced = False  # until this message is applied and verified
        self._view = None
        try:
            if message.bids:
                self._bids.apply(message.bids, self._depth)
            if message.asks:
                self._asks.apply(message.asks, self._depth)
        except (ArithmeticError, ValueError) as error:  # decimal.InvalidOperation is the first
            raise BookOutOfSyncError(self._symbol, f"unreadable level ({error})") from error
        computed = checksum_of_text(self._asks.checksum_text(), self._bids.checksum_text())
        expected = message.checksum
        if expected is None:
            if CHECKSUM_ON_EVERY_MESSAGE:
                raise BookOutOfSyncError(self._symbol, "a message without a checksum")
        elif expected != computed:
            raise ChecksumMismatchError(
                self._symbol, expected=expected, computed=computed, timestamp=message.timestamp
            )
        self._checksum = computed
        self._timestamp = message.timestamp
        self._synced = True

    def view(self) -> BookView:
        """The verified state, built once per message and shared between callers."""
        if not self._synced or self._timestamp is None:
            raise BookOutOfSyncError(self._symbol, "no verified state since the last snapshot")
        if self._view is None:
            self._view = BookView(
                symbol=self._symbol,
                depth=self._depth,
                bids=self._bids.levels(),
                asks=self._asks.levels(),
                checksum=self._checksum,
                timestamp=self._timestamp,
            )
        return self._view

    def wire_levels(self) -> tuple[tuple[WireLevel, ...], tuple[WireLevel, ...]]:
        """``(bids, asks)`` as the wire text they came in, best first (for diagnostics)."""
        self.view()  # the same refusal when out of sync
        return self._bids.wire(), self._asks.wire()
