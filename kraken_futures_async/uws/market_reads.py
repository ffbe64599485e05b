"""``kf.market`` over the Unified WebSocket: instruments, one book and tickers, each read
from a public channel's snapshot (kraken-uws-api.md §4, §10).

Each read subscribes on the backend's own public socket (``/v2/public``, a
:class:`~.connection.UwsConnection` with the Session's ``stream_url`` and
``stream_settings``; not ``kf.stream``'s socket, whose one-subscription-per-symbol rule the
reads must not collide with), waits for the snapshot within the call's deadline, and
unsubscribes in the background; the next read of the same channel and symbol waits for
that unsubscribe's ack, since Kraken refuses a second subscription to a live one. The socket
stays open between reads and closes with the backend. The choices (protocol.py choice 11):

* ``instruments()``: the ``instrument`` snapshot's ``pairs`` (§4.1), field by field:
  ``symbol``; ``tick_size`` = ``price_increment`` (else ``10 ** -price_precision``, §4.1);
  ``contract_value_trade_precision`` = minus the exponent of ``qty_increment`` when it is a
  power of ten (``1000`` is ``-3``, as on REST; ``qty_precision`` never goes below 0), else
  ``qty_precision``, so ``size_step`` is ``qty_increment``; ``tradeable`` = ``status`` is
  ``online``, ``post_only``, ``limit_only`` or ``reduce_only`` (Spot v2's words for a pair
  that takes orders); ``post_only`` = ``status == "post_only"``; ``base``/``quote`` as sent;
  ``type`` from Kraken's symbol prefixes (``PF_``/``FF_`` ``flexible_futures``,
  ``PI_``/``FI_`` ``futures_inverse``, else None); ``max_position_size`` =
  ``position_limit_long`` when sent. Not on UWS, so None or empty: ``contract_size``,
  ``margin_levels`` and the margin schedules, ``funding_rate_coefficient``,
  ``max_relative_funding_rate``, ``opening_date``, ``last_trading_time``, ``underlying``,
  ``impact_mid_size``, ``pair``, ``category``, ``tags``. ``qty_min`` has no field in
  :class:`~..models.Instrument` (REST has none either).
* ``orderbook(symbol)``: a ``book`` snapshot at depth 1000, the deepest UWS sends (§4.2): a
  book deeper than 1000 levels a side comes back cut there (REST sends it whole). The
  snapshot's checksum is verified (:class:`~..streams.book.LocalBook`); a mismatch raises
  :class:`~..streams.BookOutOfSyncError`.
* ``ticker(symbol)``/``tickers()``: ``ticker`` snapshots (§4.3); ``tickers()`` asks for every
  symbol of the ``instrument`` snapshot in one subscribe request with a symbol list (no index
  tickers: UWS has none), at most :data:`TICKER_CHUNK` symbols a request, one request after
  another ([?]: Kraken documents 200 subscriptions a socket for ``level3`` only, §4.6; the
  twin caps every socket at 200). A symbol refused among several is left out (logged at
  INFO), as REST's ``tickers`` lists what it has (refused first, the request is made again
  without it). ``bid``, ``bid_size`` (``bid_qty``), ``ask``, ``ask_size`` (``ask_qty``),
  ``last``, ``vol_24h`` (``volume``), ``high_24h``, ``low_24h``,
  ``change_24h`` (``change_pct``, a percentage as REST's is), ``open_24h`` = ``last -
  change``; ``mark_price``, ``index_price``, ``funding_rate``, ``funding_rate_prediction``,
  ``open_interest`` only if the channel sends fields of those names (not seen, §4.3);
  ``last_time``, ``last_size``, ``volume_quote``, ``tag``, ``pair``, ``suspended``,
  ``post_only`` stay None (the push's ``timestamp`` is when it was sent, not a trade's).

A refused subscription raises :class:`~..streams.SubscriptionRejectedError` with Kraken's
error string (an unknown symbol: ``Currency pair not supported``); a snapshot that does not
come within the call's deadline (else ``ack_timeout`` after the ack) raises
:class:`~..errors.RequestTimeoutError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import cattrs

from .._values import parse_datetime
from ..converter import NumberText, default_converter
from ..errors import KrakenFuturesError, RequestTimeoutError, SessionStateError
from ..models import Instrument, OrderBook, PriceLevel, Ticker
from ..models.streams import StreamPair, StreamTicker
from ..operations import catalog as ops
from ..operations.market import SymbolQuery
from ..streams.book import BookMessage, LocalBook
from ..streams.errors import SubscriptionRejectedError
from .connection import UwsConnection, UwsSettings
from .protocol import ASSET_CLASS, PRODUCTION_PUBLIC_URL, PUBLIC_PATH

__all__ = [
    "BOOK_DEPTH",
    "MARKET_READS",
    "TICKER_CHUNK",
    "MarketReads",
    "instrument_from",
    "public_url",
    "ticker_from",
]

logger = logging.getLogger("kraken_futures_async.uws")

#: The operations read from the public channels.
MARKET_READS = frozenset(
    {ops.INSTRUMENTS.name, ops.ORDERBOOK.name, ops.TICKER.name, ops.TICKERS.name}
)
#: The deepest ``book`` subscription UWS offers (§4.2).
BOOK_DEPTH = 1000
#: Symbols of one ``ticker`` subscribe request in ``tickers()`` (the choices above).
TICKER_CHUNK = 100
#: Pair statuses that take orders (Spot v2's words).
_TRADING = frozenset({"online", "post_only", "limit_only", "reduce_only"})
_TYPES = {
    "PF": "flexible_futures",
    "FF": "flexible_futures",
    "PI": "futures_inverse",
    "FI": "futures_inverse",
}


def public_url(url: str | None = None) -> str:
    """The public socket of the host of ``url`` (a twin's REST base URL, or a socket URL)."""
    if url is None:
        return PRODUCTION_PUBLIC_URL
    parts = urlsplit(url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, PUBLIC_PATH, "", ""))


# --- the mapping ---------------------------------------------------------------------------


def instrument_from(pair: StreamPair) -> Instrument:
    """One ``instrument`` pair as REST's :class:`Instrument` (the choices above)."""
    tick = pair.price_increment
    if tick is None and pair.price_precision is not None:
        tick = Decimal(1).scaleb(-pair.price_precision)
    precision = pair.qty_precision
    step = pair.qty_increment
    if step is not None and step > 0:
        digits = step.normalize().as_tuple()
        if digits.digits == (1,) and isinstance(digits.exponent, int):
            precision = -digits.exponent  # a step of 1000 is precision -3, as REST says
    status = pair.status
    return Instrument(
        symbol=pair.symbol,
        tradeable=status in _TRADING,
        type=_TYPES.get(pair.symbol.split("_", 1)[0].upper()),
        tick_size=tick,
        contract_value_trade_precision=precision,
        max_position_size=pair.position_limit_long,
        post_only=None if status is None else status == "post_only",
        base=pair.base,
        quote=pair.quote,
    )


def ticker_from(data: Mapping[str, Any], converter: cattrs.Converter) -> Ticker:
    """One ``ticker`` snapshot element as REST's :class:`Ticker` (the choices above)."""
    seen = converter.structure(dict(data), StreamTicker)

    def extra(name: str) -> Decimal | None:
        value = data.get(name)
        return None if value is None else converter.structure(value, Decimal)

    opened = None
    if seen.last is not None and seen.change is not None:
        opened = seen.last - seen.change
    return Ticker(
        symbol=seen.symbol,
        last=seen.last,
        bid=seen.bid,
        bid_size=seen.bid_qty,
        ask=seen.ask,
        ask_size=seen.ask_qty,
        vol_24h=seen.volume,
        open_24h=opened,
        high_24h=seen.high,
        low_24h=seen.low,
        change_24h=seen.change_pct,
        mark_price=extra("mark_price"),
        index_price=extra("index_price"),
        funding_rate=extra("funding_rate"),
        funding_rate_prediction=extra("funding_rate_prediction"),
        open_interest=extra("open_interest"),
    )


def _wire_text(value: Any) -> str:
    if isinstance(value, NumberText):
        return str.__str__(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"a book price or qty is a JSON number, got {value!r}")


def _wire_levels(raw: Any) -> list[tuple[str, str]]:
    if not isinstance(raw, list):
        return []
    return [(_wire_text(level["price"]), _wire_text(level["qty"])) for level in raw]


def book_from(data: Mapping[str, Any]) -> OrderBook:
    """A ``book`` snapshot, its checksum verified, as REST's :class:`OrderBook`."""
    checksum = data.get("checksum")
    book = LocalBook(str(data["symbol"]), BOOK_DEPTH)
    book.apply(
        BookMessage(
            symbol=str(data["symbol"]),
            snapshot=True,
            bids=_wire_levels(data.get("bids")),
            asks=_wire_levels(data.get("asks")),
            checksum=checksum if isinstance(checksum, int) else None,
            timestamp=parse_datetime(data["timestamp"]),
        )
    )
    view = book.view()
    return OrderBook(
        bids=tuple(PriceLevel(level.price, level.size) for level in view.bids),
        asks=tuple(PriceLevel(level.price, level.size) for level in view.asks),
    )


# --- the snapshots -------------------------------------------------------------------------


class _Snapshot:
    """A sink that keeps the first snapshot element of each wanted symbol (``None``: the
    channel has no symbol) and notes per-symbol refusals."""

    def __init__(self, wanted: frozenset[str] | None) -> None:
        self.wanted = wanted
        self.found: dict[str | None, Any] = {}
        self.refused: dict[str, str] = {}
        self.error: KrakenFuturesError | None = None
        self.done = asyncio.Event()

    def _check(self) -> None:
        if self.wanted is None:
            complete = None in self.found
        else:
            complete = len(self.found) + len(self.refused) >= len(self.wanted)
        if complete:
            self.done.set()

    def deliver(self, kind: str, data: Any) -> None:
        if kind != "snapshot":
            return
        for element in data if isinstance(data, list) else [data]:
            if not isinstance(element, dict):
                continue
            if self.wanted is None:
                self.found.setdefault(None, element)
            else:
                symbol = element.get("symbol")
                if symbol in self.wanted:
                    self.found.setdefault(symbol, element)
        self._check()

    def refuse(self, symbol: str, error: str) -> None:
        if self.wanted is not None and symbol in self.wanted and symbol not in self.found:
            self.refused[symbol] = error
            self._check()

    def link_lost(self) -> None:
        """Nothing to do: the connection subscribes again and a snapshot follows."""

    def link_restored(self) -> None:
        """The snapshot of the new subscription follows."""

    def fail(self, error: KrakenFuturesError) -> None:
        self.error = error
        self.done.set()

    def end(self) -> None:
        self.error = SessionStateError("the Session was closed during a market read")
        self.done.set()


class MarketReads:
    """The backend's public socket and the four reads it serves (module docstring)."""

    def __init__(self, url: str, settings: UwsSettings) -> None:
        self.url = url
        self._settings = settings
        self._connection = UwsConnection(url, settings=settings)
        self._connection.on_any_ack = self._on_ack
        self._converter = default_converter()
        self._locks: dict[tuple[str, str | None], asyncio.Lock] = {}
        self._waiting: list[_Snapshot] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        return f"<MarketReads {self.url}>"

    async def aclose(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._connection.aclose()

    async def read(self, name: str, request: Any, until: float | None) -> Any:
        """Serve ``name`` (one of :data:`MARKET_READS`) by ``until`` (the loop's clock)."""
        if name == ops.INSTRUMENTS.name:
            return await self.instruments(until)
        if name == ops.ORDERBOOK.name:
            assert isinstance(request, SymbolQuery)
            return await self.orderbook(request.symbol, until)
        if name == ops.TICKER.name:
            assert isinstance(request, SymbolQuery)
            symbol = request.symbol.upper()
            return (await self.tickers([symbol], until, name))[0]
        symbols = [i.symbol.upper() for i in await self.instruments(until)]
        return await self.tickers(symbols, until, name)

    async def instruments(self, until: float | None) -> list[Instrument]:
        found = await self._snapshot("instrument", None, {"snapshot": True}, None, until)
        pairs = found[None].get("pairs")
        if not isinstance(pairs, list):
            return []
        return [
            instrument_from(self._converter.structure(pair, StreamPair))
            for pair in pairs
            if isinstance(pair, dict)
        ]

    async def orderbook(self, symbol: str, until: float | None) -> OrderBook:
        name = symbol.upper()
        params = {"depth": BOOK_DEPTH, "snapshot": True}
        found = await self._snapshot("book", name, params, frozenset({name}), until)
        return book_from(found[name])

    async def tickers(self, symbols: list[str], until: float | None, what: str) -> list[Ticker]:
        """Tickers of ``symbols`` in that order, :data:`TICKER_CHUNK` symbols a subscribe
        request (a symbol list)."""
        wanted = list(dict.fromkeys(symbols))
        tickers: list[Ticker] = []
        partial = len(wanted) > 1
        for start in range(0, len(wanted), TICKER_CHUNK):
            chunk = wanted[start : start + TICKER_CHUNK]
            while chunk:
                params = {"symbol": chunk, "snapshot": True}
                try:
                    found = await self._snapshot(
                        "ticker", None, params, frozenset(chunk), until, what, partial=partial
                    )
                except SubscriptionRejectedError as exc:
                    refused = _refused_symbol(exc)
                    if not partial or refused not in chunk:
                        raise
                    logger.info("uws: %s left out %s: %s", what, refused, exc.code)
                    chunk = [s for s in chunk if s != refused]
                    continue
                tickers.extend(ticker_from(found[s], self._converter) for s in chunk if s in found)
                break
        return tickers

    # -- one snapshot -------------------------------------------------------------------

    def _on_ack(self, ack: Mapping[str, Any]) -> None:
        """A refusal of one symbol of a several-symbol subscribe ends the wait for it (an
        unsubscribe's refusal, a previous read's leaving, concerns no one waiting)."""
        symbol = ack.get("symbol")
        if ack.get("success") is True or ack.get("method") != "subscribe":
            return
        if not isinstance(symbol, str):
            return
        error = ack.get("error")
        for waiting in self._waiting:
            waiting.refuse(symbol, error if isinstance(error, str) else "refused")

    async def _snapshot(
        self,
        channel: str,
        symbol: str | None,
        params: Mapping[str, Any],
        wanted: frozenset[str] | None,
        until: float | None,
        what: str | None = None,
        *,
        partial: bool = False,
    ) -> dict[str | None, Any]:
        """Subscribe, wait for the snapshot of every wanted symbol, unsubscribe after.

        ``partial``: a symbol refused among several is left out (logged), as REST's
        ``tickers`` lists what it has; otherwise a refusal raises."""
        what = what or f"{channel} {symbol or ''}".strip()
        lock = self._locks.setdefault((channel, symbol), asyncio.Lock())
        sink = _Snapshot(wanted)
        try:
            async with asyncio.timeout_at(until):
                await lock.acquire()
        except TimeoutError:
            raise _late(what, "a read of the same channel was still under way") from None
        feed = None
        self._waiting.append(sink)
        try:
            async with asyncio.timeout_at(until):
                try:
                    feed = await self._connection.subscribe(channel, symbol, params, sink)
                except SubscriptionRejectedError:
                    if wanted is not None and len(wanted) > 1:
                        # the first symbol was refused; the others may be subscribed
                        await self._unsubscribe_rest(channel, params)
                    raise
            patience = self._settings.ack_timeout
            loop = asyncio.get_running_loop()
            limit = loop.time() + patience if until is None else min(until, loop.time() + patience)
            try:
                async with asyncio.timeout_at(limit):
                    await sink.done.wait()
            except TimeoutError:
                raise RequestTimeoutError(
                    f"{what}: no snapshot within {patience:g} s of the ack (ack_timeout) "
                    "or by the call's deadline",
                    endpoint=what,
                    sent=True,
                ) from None
        except TimeoutError:
            raise _late(what, "no ack came") from None
        finally:
            self._waiting.remove(sink)
            if feed is None:
                lock.release()
            else:
                self._spawn(_close(feed, lock))
        if sink.error is not None:
            raise sink.error
        if sink.refused and partial and sink.found:
            logger.info("uws: %s left out refused symbols: %s", what, sorted(sink.refused))
        elif sink.refused:
            refused, error = next(iter(sink.refused.items()))
            raise SubscriptionRejectedError(
                f"Kraken refused subscribe {channel} {refused}: {error}",
                code=error,
                endpoint="uws",
            )
        return sink.found

    async def _unsubscribe_rest(self, channel: str, params: Mapping[str, Any]) -> None:
        """After a refusal of the first symbol, the others may be subscribed: leave them."""
        request = {"channel": channel, "asset_class": ASSET_CLASS, **params}
        with contextlib.suppress(KrakenFuturesError):
            await self._connection.request(
                "unsubscribe", request, within=self._settings.ack_timeout
            )

    def _spawn(self, coroutine: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


async def _close(feed: Any, lock: asyncio.Lock) -> None:
    """Unsubscribe, then let the next read of this channel and symbol subscribe."""
    try:
        await feed.close()
    except KrakenFuturesError as exc:
        logger.info("uws: unsubscribe after a market read failed: %s", exc)
    finally:
        lock.release()


def _refused_symbol(error: SubscriptionRejectedError) -> str | None:
    """The symbol a refusal names (Spot v2 puts it beside ``error``), if any."""
    payload = error.payload
    symbol = payload.get("symbol") if isinstance(payload, dict) else None
    return symbol if isinstance(symbol, str) else None


def _late(what: str, why: str) -> RequestTimeoutError:
    return RequestTimeoutError(
        f"{what}: the call's deadline passed ({why})", endpoint=what, sent=True
    )
