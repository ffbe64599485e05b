"""How much of its past the engine keeps, so that a twin run for days stays flat (issue 17).

Kraken keeps years of history; a twin that kept everything would grow with every order. Each
record the engine writes per request or per fill is capped, the oldest dropped first: per
account (history lists, account log, fills, closed orders, assignment changes) or across all
contracts at once (public order events and executions, the users' trades on the tape), so a
bot trading every contract is held to the same bound as one trading a single contract.
Open orders and assignment preferences are state, not history: past their cap a new one is
refused. Caches the engine computes from its seed clear themselves when full (their modules
say how full).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, fields
from typing import Generic, TypeVar

__all__ = ["Retention", "SharedCap"]

T = TypeVar("T")


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
