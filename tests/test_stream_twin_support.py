"""What the ``kf.stream``-against-a-served-twin tests share (no tests here).

The twin runs on a :class:`ManualClock` and is served by uvicorn on a loopback port in its
own thread (as in ``test_sim_uws_socket``), so its book moves only when a test places or
cancels an order over REST, or advances the clock. The Session is the library's own, signed
with the twin's key, and streams from ``ws://127.0.0.1:PORT/v2/public`` (its ``base_url``'s
host). Every wait is bounded.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from decimal import Decimal
from typing import Any, TypeVar

import pytest

from kraken_futures_async import RateLimitPolicy, Session
from kraken_futures_async.retry import RetryPolicy
from kraken_futures_async.simulator import ManualClock, RunningTwin, Twin, TwinConfig, run_in_thread
from kraken_futures_async.simulator.uws import UwsConfig, UwsServer
from kraken_futures_async.streams import BookView
from kraken_futures_async.uws import UwsSettings

__all__ = [
    "SYMBOL",
    "WAIT",
    "Levels",
    "book_state",
    "next_item",
    "rest_state",
    "served_twin",
    "session",
    "settle",
    "uws",
    "wait_until",
]

SYMBOL = "PF_XBTUSD"
#: Seconds any one expected item may take (the twin's feed ticks every 0.2 s).
WAIT = 5.0
T = TypeVar("T")

#: (bids, asks) as (price, size) pairs, best first.
Levels = tuple[tuple[tuple[Decimal, Decimal], ...], tuple[tuple[Decimal, Decimal], ...]]

#: The client's patience, scaled to the twin's 0.2 s heartbeats: a link silent for 2.5 s is
#: dead (leeway for a loaded machine); reconnects come after 50-200 ms.
SETTINGS = UwsSettings(
    ack_timeout=3.0,
    connect_timeout=3.0,
    ping_interval=5.0,
    heartbeat_timeout=2.5,
    backoff_initial=0.05,
    backoff_max=0.2,
    close_timeout=1.0,
)


def make_twin(**uws_settings: Any) -> Twin:
    twin = Twin(TwinConfig(clock=ManualClock(), rate_limits=False))
    settings: dict[str, Any] = {"heartbeat_interval": 0.2, "tick_interval": 0.2, **uws_settings}
    twin.app.uws.config = UwsConfig(**settings)
    return twin


@pytest.fixture
def served_twin() -> Iterator[RunningTwin]:
    running = run_in_thread(make_twin(), port=0)
    try:
        yield running
    finally:
        running.stop()


def uws(running: RunningTwin) -> UwsServer:
    server: UwsServer = running.twin.app.uws
    return server


def session(running: RunningTwin, **kwargs: Any) -> Session:
    """The library's Session on the served twin: REST and streams from one ``base_url``."""
    kwargs.setdefault("stream_settings", SETTINGS)
    return running.session(
        rate_limits=RateLimitPolicy.unlimited(), retry=RetryPolicy.never(), timeout=5.0, **kwargs
    )


async def next_item(iterator: AsyncIterator[T], wait: float = WAIT) -> T:
    async with asyncio.timeout(wait):
        return await anext(iterator)


async def wait_until(check: Callable[[], bool], wait: float = WAIT) -> None:
    """Wait (bounded) for something the served twin or the socket does on its own."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while not check():
        assert loop.time() < deadline, f"not within {wait:g} s"
        await asyncio.sleep(0.01)


def book_state(view: BookView) -> Levels:
    return (
        tuple((level.price, level.size) for level in view.bids),
        tuple((level.price, level.size) for level in view.asks),
    )


async def rest_state(kf: Session, depth: int) -> Levels:
    """The twin's own book as its REST face answers it, truncated to ``depth``."""
    book = await kf.market.orderbook(SYMBOL)
    return (
        tuple((level.price, level.size) for level in book.bids[:depth]),
        tuple((level.price, level.size) for level in book.asks[:depth]),
    )


async def settle(
    books: AsyncIterator[BookView],
    target: Callable[[], Awaitable[Levels]],
    allowed: set[Levels],
    wait: float = WAIT,
) -> list[Levels]:
    """Read books until one equals ``target()`` (the twin's own book, read again after each
    book); every book seen on the way must be one of ``allowed`` or the target itself.

    Returns the states seen, the last one equal to the target.
    """
    seen: list[Levels] = []
    async with asyncio.timeout(wait):
        while True:
            state = book_state(await anext(books))
            seen.append(state)
            wanted = await target()
            if state == wanted:
                return seen
            assert state in allowed, f"a book that is neither before nor after: {state}"
