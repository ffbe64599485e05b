"""One public socket to Kraken's Unified WebSocket, shared by every stream of a Session.

:class:`UwsConnection` is a :class:`~kraken_futures_async.streams.source.StreamSource`: the
subscription side of the socket. Each subscription is one request with a ``req_id`` whose
ack must come within ``ack_timeout`` seconds (else :class:`StreamTimeoutError`); a shared
private channel fans out to several subscribers (:mod:`.fanout`); a fresh snapshot is an
unsubscribe then a subscribe; a refused token is fetched again once. After a reconnect every
subscription is made again (sinks hear ``link_lost`` and ``link_restored``).

The socket itself (opening, reconnecting with backoff, pings, the dead-link timeout, reading
and dispatching, requests and their acks) is :class:`~.socket_loop.SocketLoop`, its base
class; what it keeps per subscription and the handles subscribers hold are in
:mod:`.registrations`; every bound is in :class:`~.settings.UwsSettings` (importable from
here too). The protocol facts and the choices made where Kraken's documentation is silent
are in :mod:`.protocol`. Every failure a subscriber sees is a
:class:`~kraken_futures_async.KrakenFuturesError`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgumentError, KrakenFuturesError, SessionStateError
from ..streams.errors import StreamConnectionError, StreamTimeoutError
from ..streams.source import Feed, Sink
from .fanout import SHARED_CHANNELS, Fanout
from .registrations import (
    Key,
    Message,
    _Feed,
    _LinkLostError,
    _refusal,
    _Registration,
    _SharedFeed,
    _StatusFeed,
    _succeeded,
)
from .routes import TOKEN_ERRORS
from .settings import UwsSettings
from .socket_loop import SocketLoop

if TYPE_CHECKING:  # aiohttp is imported when the first stream opens, not with the package
    import aiohttp

__all__ = ["UwsConnection", "UwsSettings"]

logger = logging.getLogger("kraken_futures_async.uws")


class UwsConnection(SocketLoop):
    """The public socket of one Session; opened by the first subscription, closed by
    :meth:`aclose` (the Session's ``aclose``)."""

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open" if self._ws is not None else "idle"
        return f"<UwsConnection {self.url} {state} {len(self._registry)} subscriptions>"

    # -- what subscribers call --------------------------------------------------------

    async def subscribe(
        self, channel: str, symbol: str | None, params: Mapping[str, Any], sink: Sink
    ) -> Feed:
        self._check_usable()
        key: Key = (channel, symbol)
        shared = channel in SHARED_CHANNELS and symbol is None
        existing = self._registry.get(key)
        if shared and existing is not None and isinstance(existing.sink, Fanout):
            return await self._join(existing, sink)
        if existing is not None:
            raise InvalidArgumentError(
                f"{channel} {symbol or ''} is already streamed on this Session; "
                "iterate that subscription (one per channel and symbol)".replace("  ", " ")
            )
        registration = _Registration(channel, symbol, params, Fanout(sink) if shared else sink)
        self._registry[key] = registration
        self._ensure_running()
        if self._ws is not None:
            self._spawn(self._subscribe(registration, self._ws, self._generation))
        limit = self.settings.connect_timeout + self.settings.ack_timeout
        try:
            async with asyncio.timeout(limit):
                await registration.ready
        except TimeoutError:
            self._drop(registration)
            if self._ws is None and self._last_error is not None:
                raise StreamConnectionError(
                    f"could not open {self.url} within {limit:g} s: {self._last_error}"
                ) from self._last_error
            raise StreamTimeoutError(
                f"subscribe {registration.describe()}: no ack within {limit:g} s",
                endpoint="uws",
            ) from None
        except BaseException:
            self._drop(registration)
            raise
        return _SharedFeed(self, registration, sink) if shared else _Feed(self, registration)

    async def _join(self, registration: _Registration, sink: Sink) -> Feed:
        """Add ``sink`` to a shared subscription; a live one is made again so the newcomer
        starts from a fresh snapshot (the others see a gap, as after a reconnect)."""
        fanout = registration.sink
        assert isinstance(fanout, Fanout)
        acked = registration.ready.done()
        live = acked and self._ws is not None and registration.generation == self._generation
        fanout.add(sink, joining=acked)
        limit = self.settings.connect_timeout + 2 * self.settings.ack_timeout
        try:
            async with asyncio.timeout(limit):
                await asyncio.shield(registration.ready)
                if live:
                    fanout.link_lost()
                    registration.lost = True
                    await self._resync(registration)
        except TimeoutError:
            fanout.remove(sink)
            raise StreamTimeoutError(
                f"subscribe {registration.describe()}: no ack within {limit:g} s", endpoint="uws"
            ) from None
        except BaseException:
            fanout.remove(sink)
            raise
        if registration.closed and fanout.error is not None:
            raise fanout.error
        return _SharedFeed(self, registration, sink)

    async def watch_status(self, sink: Sink) -> Feed:
        self._check_usable()
        self._status_sinks.append(sink)
        if self.status is not None:
            sink.deliver("update", self.status)
        self._ensure_running()
        return _StatusFeed(self, sink)

    async def aclose(self) -> None:
        """Close the socket and end every stream; calling it again does nothing."""
        if self._closed:
            return
        self._closed = True
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None:
            supervisor.cancel()
            await asyncio.gather(supervisor, return_exceptions=True)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        registrations = list(self._registry.values())
        self._registry.clear()
        closed = SessionStateError("the Session was closed, and its streams with it")
        for registration in registrations:
            registration.closed = True
            if not registration.ready.done():
                registration.ready.set_exception(closed)
            else:
                registration.sink.end()
        sinks, self._status_sinks = self._status_sinks, []
        for sink in sinks:
            sink.end()
        client, self._client = self._client, None
        if client is not None:
            await client.close()

    # -- subscriptions ----------------------------------------------------------------

    def _drop(self, registration: _Registration) -> None:
        registration.closed = True
        if self._registry.get(registration.key) is registration:
            del self._registry[registration.key]
        if self._ws is not None and registration.generation == self._generation:
            # a late ack subscribed it after all: unsubscribe, nobody waits for the answer
            self._spawn(self._send_quietly(self._ws, "unsubscribe", registration.request))

    def _refuse(self, registration: _Registration, error: KrakenFuturesError) -> None:
        if not registration.ready.done():
            registration.ready.set_exception(error)
        elif not registration.closed:
            self._drop(registration)
            registration.sink.fail(error)

    def _acked(self, registration: _Registration, generation: int) -> Callable[[Message], None]:
        """Runs in the reader as the ack arrives, before the pushes that follow it."""

        def on_ack(ack: Message) -> None:
            if not _succeeded(ack):
                return
            registration.generation = generation
            if registration.lost and not registration.closed:
                registration.lost = False
                registration.sink.link_restored()

        return on_ack

    async def _subscribe(
        self, registration: _Registration, ws: aiohttp.ClientWebSocketResponse, generation: int
    ) -> None:
        async with registration.busy:
            if (
                registration.closed
                or generation != self._generation
                or registration.generation == generation
            ):
                return
            await self._subscribe_now(registration, ws, generation)

    async def _subscribe_now(
        self, registration: _Registration, ws: aiohttp.ClientWebSocketResponse, generation: int
    ) -> None:
        try:
            ack = await self._request_token_once(
                ws, "subscribe", registration, self._acked(registration, generation)
            )
        except _LinkLostError:
            return  # the next socket subscribes it again
        except KrakenFuturesError as error:  # no ack in time, or no fresh token
            self._refuse(registration, error)
            return
        if not _succeeded(ack):
            self._refuse(registration, _refusal(ack, f"subscribe {registration.describe()}"))
        elif not registration.ready.done():
            registration.ready.set_result(None)

    async def _resync(self, registration: _Registration) -> None:
        """Unsubscribe, then subscribe again: Kraken sends a fresh snapshot ([?] choice 4)."""
        async with registration.busy:
            ws, generation = self._ws, self._generation
            if registration.closed or ws is None or registration.generation != generation:
                return  # not live on this socket: the next subscribe brings a snapshot
            try:
                ack = await self._request_token_once(ws, "unsubscribe", registration)
            except _LinkLostError:
                return
            except KrakenFuturesError as error:
                self._refuse(registration, error)
                return
            if not _succeeded(ack):
                logger.warning(
                    "uws: unsubscribe %s for a fresh snapshot refused: %s",
                    registration.describe(),
                    ack.get("error"),
                )
            registration.generation = 0
            if not registration.closed:
                await self._subscribe_now(registration, ws, generation)

    async def _request_token_once(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        method: str,
        registration: _Registration,
        on_ack: Callable[[Message], None] | None = None,
    ) -> Message:
        """A (un)subscribe whose token Kraken refuses is sent again once with a fresh token
        (fetched unless another request already fetched one since this one left)."""
        used = self._socket_params
        ack = await self._request(ws, method, registration.request, on_ack)
        if _succeeded(ack) or ack.get("error") not in TOKEN_ERRORS or self._prepare is None:
            return ack
        logger.info("uws: %s %s refused the token", method, registration.describe())
        if self._socket_params is used:
            self._socket_params = dict(await self._prepare(True))
        return await self._request(ws, method, registration.request, on_ack)

    async def _unsubscribe(self, registration: _Registration) -> None:
        if registration.closed:
            return
        registration.closed = True
        if self._registry.get(registration.key) is registration:
            del self._registry[registration.key]
        async with registration.busy:
            ws = self._ws
            if ws is None or registration.generation != self._generation:
                return
            try:
                ack = await self._request_token_once(ws, "unsubscribe", registration)
            except _LinkLostError:
                return
            except KrakenFuturesError as error:
                # leaving a stream must not hang or fail the caller: its pushes are dropped
                logger.warning("uws: unsubscribe %s: %s", registration.describe(), error)
                return
            registration.generation = 0
            if not _succeeded(ack):
                logger.warning(
                    "uws: unsubscribe %s refused: %s", registration.describe(), ack.get("error")
                )
