"""How much of its past the engine keeps, so that a twin run for days stays flat (issue 17).

Kraken keeps years of history; a twin that kept everything would grow with every order. Each
record the engine writes per request or per fill is capped, the oldest dropped first: per
account (history lists, account log, fills, closed orders, assignment changes) or across all
contracts at once (public order events and executions, the users' trades on the tape), so a
bot trading every contract is held to the same bound as one trading a single contract.
Open orders and assignment preferences are state, not history: past their cap a new one is
refused. Orders are found by id and by client order id only while open or remembered as
closed: both indexes shrink as orders close and are forgotten.

What the engine computes from its seed is cached in :class:`ClearingCache` instances, each
holding at most its cap (``price_cache``, ``candle_cache``, ``hourly_cache``) and emptied at
once when full; the price noise remembers only its latest nodes (a fixed few per index and
contract, however long the twin runs). What the engine keeps per instrument, index or key
(books, tickers, nonces) is bounded by the listing and by the keys issued, not by time.

At the defaults one busy account's records come to about 65 MB and the caches to about
35 MB at most (figures measured with tracemalloc); ``python -m benchmarks.twin_soak`` shows
the served twin flat once they are full (see the README).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, fields
from typing import Generic, TypeVar

__all__ = ["ClearingCache", "Retention", "SharedCap"]

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True, slots=True, kw_only=True)
class Retention:
    """Every cap on what the engine keeps (a busy account at the defaults: about 65 MB)."""

    #: Order events, trigger events, executions and position updates kept per account (each).
    history: int = 5_000
    #: Account-log rows kept per account (a fill writes two).
    account_log: int = 5_000
    #: ``fills`` entries kept per account.
    fills: int = 5_000
    #: Closed orders an account remembers (``orders/status``, cancelorder's ``filled``).
    closed_orders: int = 2_000
    #: Public order events kept, all contracts together (``market/{symbol}/orders``).
    market_events: int = 5_000
    #: Public executions kept, all contracts together (``market/{symbol}/executions``).
    market_executions: int = 5_000
    #: Users' trades kept on the tape, all contracts together (trade history, candles, volume).
    tape: int = 10_000
    #: Open orders and triggers per account; one more is refused with ``tooManyOrders``.
    open_orders: int = 1_000
    #: Assignment-program preferences per account; one more is refused (``invalidArgument``).
    assignment_preferences: int = 100
    #: Assignment-program changes kept per account (``assignmentprogram/history``).
    assignment_history: int = 1_000
    #: Prices remembered by (contract or index, second), for each of the index values and
    #: the quotes (index and mark on their grid): a quote and its index value take about
    #: 0.55 KB, both caches full about 9 MB.
    price_cache: int = 16_384
    #: Finished candles remembered by (contract, width, start), all three tick types at once:
    #: about 0.6 KB each, 12 MB when full (ten cold 2,000-candle answers fill it).
    candle_cache: int = 20_000
    #: Figures remembered by (contract, hour), in a cache each: the mark on the hour, the
    #: 24-hour open/high/low and the funding rate (about 0.25 KB each), and funding-history
    #: rows (0.6 KB; 30 days of one contract are 720): about 14 MB in all when full.
    hourly_cache: int = 10_000

    def __post_init__(self) -> None:
        for field in fields(self):
            if getattr(self, field.name) < 1:
                raise ValueError(f"Retention.{field.name} must be at least 1")


class SharedCap(Generic[T]):
    """Items spread over many deques, at most ``limit`` in all: the oldest of all goes first.

    Each append notes which deque it went to; past the limit the deque noted first loses its
    oldest item, which is the oldest item anywhere since every deque is filled in time order.
    """

    __slots__ = ("_limit", "_order")

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._order: deque[deque[T]] = deque()

    def append(self, bucket: deque[T], item: T) -> None:
        bucket.append(item)
        order = self._order
        order.append(bucket)
        if len(order) > self._limit:
            order.popleft().popleft()

    def __len__(self) -> int:
        return len(self._order)


class ClearingCache(dict[K, V]):
    """A dict of computed values holding at most ``limit`` entries: full, it is emptied.

    Read it as a dict (``get``); write through :meth:`put`. Emptying beats evicting one by
    one here: every value can be computed again from the seed, the caches are filled in
    bursts (a chart, a fan-out of tickers) and the memory held never exceeds the cap.
    """

    __slots__ = ("limit",)

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("a cache holds at least one entry")
        super().__init__()
        self.limit = limit

    def put(self, key: K, value: V) -> V:
        """Remember ``value`` under ``key`` (emptying the cache first if it is full)."""
        if len(self) >= self.limit and key not in self:
            self.clear()
        self[key] = value
        return value
