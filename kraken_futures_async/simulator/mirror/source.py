"""The source task: a :class:`~.market.MirroredMarket` filled from a live public socket.

It reads the source (real Kraken, or another served twin) with this library's own public
streams, so the mirror sees exactly what a user of ``kf.stream`` would: verified books only,
trades after the subscription, the mark and index as the closes of one-minute ``mark`` and
``spot`` candles. Only public subscriptions are ever sent. Whatever goes wrong (a drop, a
failed checksum, a refused subscription) makes the market stale at once, and the task heals
by itself: the socket reconnects on its own, and anything worse starts a new Session.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from decimal import Decimal
from typing import Any

from ...models.streams import (
    StreamCandle,
    StreamInstruments,
    StreamReconnected,
    StreamTicker,
    StreamTrade,
)
from ...session import Session
from ...streams import BOOK_DEPTHS, BookSubscription, BookView, Streams
from ...uws.settings import UwsSettings
from ..clock import Clock
from .market import MirroredMarket

__all__ = ["MirrorSource"]

logger = logging.getLogger("kraken_futures_async.simulator.mirror")

#: Seconds between two looks at the socket and the books' resync counters.
_POLL = 0.05
_TICKER_FIELDS = ("volume", "high", "low", "last", "change")


def _reason(error: BaseException) -> str:
    """The first real error inside task groups, as one line."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return str(error) or type(error).__name__


class MirrorSource:
    """Keeps ``market`` current from the public socket at ``url`` until :meth:`aclose`.

    ``depth`` is the books' subscribed depth; ``retry`` the seconds between a failed Session
    and the next. The socket's own reconnect backoff is capped at five times ``retry``, not
    at the library's 30 s: nobody can trade on the mirror while it is stale.
    """

    def __init__(
        self,
        market: MirroredMarket,
        url: str,
        *,
        clock: Clock,
        depth: int = 25,
        retry: float = 1.0,
    ) -> None:
        if not retry > 0:
            raise ValueError(f"retry is a positive number of seconds, got {retry!r}")
        if depth not in BOOK_DEPTHS:  # refused here, not by every retry for ever
            raise ValueError(f"depth is one of {BOOK_DEPTHS}, got {depth!r}")
        self.market = market
        self.url = url
        self.clock = clock
        self.depth = depth
        self.retry = retry
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        # the current Session's book socket and subscriptions, and what was last seen of
        # them: whether connected, the socket's reconnects, each book's resyncs
        self._link: Streams | None = None
        self._subs: dict[str, BookSubscription] = {}
        self._seen: tuple[bool, int, dict[str, int]] = (False, 0, {})
        self._candles: dict[tuple[str, str], dt.datetime] = {}

    @property
    def running(self) -> bool:
        """Whether the task is alive (it stays alive through the source's outages)."""
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Spawn the task and return; the market turns fresh when every book has arrived."""
        if self._closed:
            raise RuntimeError("this MirrorSource was closed; make a new one")
        if not self.running:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"mirror source {self.url}"
            )

    async def aclose(self) -> None:
        """Cancel the task and close its Session; calling it again does nothing."""
        self._closed = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- the task ---------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            try:
                await self._follow()
            except Exception as error:  # anything: the mirror must outlive its source
                self._go_stale(f"the source failed: {_reason(error)}")
            await asyncio.sleep(self.retry)

    async def _follow(self) -> None:
        """One Session: subscribe to everything, then consume until something fails."""
        settings = UwsSettings(
            backoff_initial=min(0.5, self.retry), backoff_max=max(0.5, self.retry * 5)
        )
        self._candles.clear()
        self._link = None
        async with contextlib.AsyncExitStack() as stack:
            # a Session streams one ohlc per symbol: the spot candles need a socket of their own
            kf, spot = [
                await stack.enter_async_context(
                    Session(stream_url=self.url, stream_settings=settings)
                )
                for _ in range(2)
            ]
            symbols = list(self.market.symbols)
            books = {s: kf.stream.book(s, depth=self.depth) for s in symbols}
            streams: list[tuple[Any, str]] = [
                (kf.stream.instruments(), ""),
                (kf.stream.ticker(symbols), ""),
            ]
            for symbol in symbols:
                streams.append((kf.stream.trades(symbol, snapshot=False), ""))
                streams.append((kf.stream.ohlc(symbol, 1, tick_type="mark"), "mark"))
                streams.append((spot.stream.ohlc(symbol, 1, tick_type="spot"), "spot"))
            for subscription in [*books.values(), *(stream for stream, _ in streams)]:
                await subscription.__aenter__()  # subscribed and acked; the Session ends them
            self._link, self._subs = kf.stream, books
            self._seen = (True, self._reconnects(), {s: b.resyncs for s, b in books.items()})
            async with asyncio.TaskGroup() as group:
                group.create_task(self._watch())
                for symbol, book in books.items():
                    group.create_task(self._books(symbol, book))
                for stream, tick_type in streams:
                    group.create_task(self._items(stream, tick_type))

    def _reconnects(self) -> int:
        return int(getattr(self._link.source if self._link else None, "reconnects", 0))

    async def _watch(self) -> None:
        """Go stale the moment the socket drops or a book resyncs (the pushes say neither)."""
        while True:
            await asyncio.sleep(_POLL)
            self._check()

    def _check(self) -> None:
        """Go stale for a drop or a failed book not yet seen: from the watcher, and before
        each book view (a drop or resync that healed between two polls is caught here)."""
        if self._link is None:
            return
        was_connected, reconnects, resyncs = self._seen
        connected, now = self._link.connected, self._reconnects()
        self._seen = (connected, now, resyncs)
        if (was_connected and not connected) or now != reconnects:
            # every book is rebuilt from a fresh snapshot
            self._go_stale(f"the source socket dropped: reconnecting to {self.url}")
        for symbol, book in self._subs.items():
            if book.resyncs != resyncs[symbol]:
                resyncs[symbol] = book.resyncs
                self._go_stale(
                    f"the source's {symbol} book failed its checksum; resubscribing", [symbol]
                )

    async def _books(self, symbol: str, book: BookSubscription) -> None:
        async for view in book:
            self._check()
            self._set_book(symbol, view)
        raise RuntimeError(f"the source's {symbol} book stream ended")

    def _set_book(self, symbol: str, view: BookView) -> None:
        was_stale = self.market.stale_reason
        bids = [(level.price, level.size) for level in view.bids]
        asks = [(level.price, level.size) for level in view.asks]
        self.market.set_book(symbol, bids, asks)
        if was_stale is not None and self.market.stale_reason is None:
            logger.info("mirror: fresh from %s (was stale: %s)", self.url, was_stale)

    async def _items(self, stream: Any, tick_type: str) -> None:
        """Trades, candles (``tick_type`` says which price), tickers or the instrument list."""
        market, clock = self.market, self.clock
        async for item in stream:
            if isinstance(item, StreamTrade):
                market.add_trade(
                    item.symbol, item.price, item.qty, item.side.value, item.trade_id, clock.time()
                )
            elif isinstance(item, StreamCandle):
                key = (item.symbol, tick_type)
                if self._candles.get(key, item.interval_begin) > item.interval_begin:
                    continue  # an older candle than one already applied
                self._candles[key] = item.interval_begin
                if tick_type == "mark":
                    market.set_mark(item.symbol, item.close, at=clock.time())
                else:
                    market.set_index(item.symbol, item.close, at=clock.time())
            elif isinstance(item, StreamTicker):
                mirrored = market.symbols.get(item.symbol)
                if mirrored is not None:
                    figures: dict[str, Decimal] = dict(mirrored.ticker)
                    for name in _TICKER_FIELDS:
                        value = getattr(item, name)
                        if value is not None:
                            figures[name] = value
                    market.set_ticker(item.symbol, figures)
            elif isinstance(item, StreamReconnected):
                logger.info("mirror: %s %s resumed after a gap", item.channel, item.symbol or "")
            elif isinstance(item, StreamInstruments):
                for pair in item.pairs:
                    if pair.symbol in market.symbols:
                        market.set_instrument(pair.symbol, pair.price_increment, pair.qty_increment)
        raise RuntimeError(f"the source's {stream!r} stream ended")

    def _go_stale(self, reason: str, symbols: list[str] | None = None) -> None:
        if self.market.stale_reason != reason:  # a retry failing alike is not news
            logger.warning("mirror: stale: %s", reason)
        self.market.go_stale(reason, symbols)
