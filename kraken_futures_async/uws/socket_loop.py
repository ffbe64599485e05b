"""The socket under :class:`~.connection.UwsConnection`: :class:`SocketLoop`.

It opens the socket when someone listens (aiohttp's websocket client), reads the ``status``
push, pings every ``ping_interval`` seconds and treats ``heartbeat_timeout`` seconds of
silence as a dead link. A dropped socket, a dead link or any close code but 1008 reconnects
with exponential backoff and jitter (:meth:`UwsSettings.backoff`), subscribing every
registration again on the new socket (sinks hear ``link_lost``); 1008, or an inbound message
larger than ``max_msg_size``, ends every stream with an error (:meth:`SocketLoop._finish`).
Requests carry a ``req_id`` matched to their ack within ``ack_timeout`` seconds; pushes go to
the registration's sink by ``(channel, symbol)``. What to send to subscribe is the
subclass's job (:meth:`SocketLoop._subscribe`, :mod:`.connection`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any

from ..converter import decode_json_numbers_as_text
from ..errors import (
    AuthenticationError,
    ConfigurationError,
    ConnectionFailedError,
    KrakenFuturesError,
    RequestTimeoutError,
    SessionStateError,
    TransportError,
)
from ..streams.errors import (
    StreamConnectionError,
    StreamMessageTooLargeError,
    StreamTimeoutError,
)
from ..streams.source import Sink
from .protocol import TERMINAL_CLOSE_CODES, encode_request
from .registrations import Key, Message, _LinkLostError, _Pending, _Registration, _succeeded
from .settings import UwsSettings

if TYPE_CHECKING:  # aiohttp is imported when the first stream opens, not with the package
    import aiohttp

__all__ = ["SocketLoop"]

logger = logging.getLogger("kraken_futures_async.uws")


class SocketLoop:
    """One socket kept open while someone listens, and the registry of who hears its pushes."""

    def __init__(
        self,
        url: str,
        *,
        settings: UwsSettings | None = None,
        prepare: Callable[[bool], Awaitable[Mapping[str, Any]]] | None = None,
    ) -> None:
        self.url = url
        self.settings = settings or UwsSettings()
        #: Called before each socket opens (True after a drop): parameters every request on
        #: that socket carries (the private socket's token). Never logged.
        self._prepare = prepare
        #: Told about every ack (a private backend reads the exchange's clock from them).
        self.on_any_ack: Callable[[Message], None] | None = None
        self._socket_params: dict[str, Any] = {}
        self._live = asyncio.Event()
        #: The latest ``status`` element Kraken pushed, as decoded (None before the first).
        self.status: Message | None = None
        #: How many times the socket was opened again after a drop.
        self.reconnects = 0
        self._registry: dict[Key, _Registration] = {}
        self._status_sinks: list[Sink] = []
        self._ids = itertools.count(1)
        self._waiting: dict[int, _Pending] = {}
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._generation = 0
        self._client: aiohttp.ClientSession | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._send_lock = asyncio.Lock()
        self._closed = False
        self._terminal: KrakenFuturesError | None = None
        self._last_error: BaseException | None = None

    @property
    def connected(self) -> bool:
        """Whether a socket is open right now."""
        return self._ws is not None

    def _check_usable(self) -> None:
        try:
            import aiohttp  # noqa: F401
        except ImportError:
            raise ConfigurationError(
                "streams run on aiohttp, a dependency of kraken_futures_async: "
                "pip install 'kraken_futures_async[aiohttp]'"
            ) from None
        if self._closed:
            raise SessionStateError("the Session is closed: open a new one to stream")
        if self._terminal is not None:
            raise StreamConnectionError(
                f"the stream connection ended for good: {self._terminal}",
                close_code=getattr(self._terminal, "close_code", None),
            ) from self._terminal

    async def _subscribe(
        self, registration: _Registration, ws: aiohttp.ClientWebSocketResponse, generation: int
    ) -> None:
        """Subscribe ``registration`` on the socket of ``generation`` (the subclass's job)."""
        raise NotImplementedError

    # -- requests ---------------------------------------------------------------------

    async def _send(self, ws: aiohttp.ClientWebSocketResponse, text: str) -> None:
        import aiohttp

        try:
            async with self._send_lock:
                await ws.send_str(text)
        except (aiohttp.ClientError, ConnectionError, RuntimeError) as error:
            raise _LinkLostError(str(error)) from error

    async def _request(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        method: str,
        params: Mapping[str, Any] | None,
        on_ack: Callable[[Message], None] | None = None,
    ) -> Message:
        req_id = next(self._ids)
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._waiting[req_id] = _Pending(future, on_ack)
        try:
            await self._send(ws, encode_request(method, self._with_socket_params(params), req_id))
            async with asyncio.timeout(self.settings.ack_timeout):
                return await future
        except TimeoutError:
            raise StreamTimeoutError(
                f"{method} {params.get('channel', '') if params else ''}: no ack for "
                f"req_id {req_id} within {self.settings.ack_timeout:g} s",
                endpoint="uws",
            ) from None
        finally:
            self._waiting.pop(req_id, None)

    async def _send_quietly(
        self, ws: aiohttp.ClientWebSocketResponse, method: str, params: Mapping[str, Any] | None
    ) -> None:
        with contextlib.suppress(_LinkLostError):
            await self._send(
                ws, encode_request(method, self._with_socket_params(params), next(self._ids))
            )

    def _with_socket_params(self, params: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
        if params is None or not self._socket_params:
            return params
        return {**params, **self._socket_params}

    def set_socket_params(self, params: Mapping[str, Any]) -> None:
        """Replace what every further request on this socket carries (a refreshed token)."""
        self._socket_params = dict(params)

    async def request(
        self,
        method: str,
        params: Mapping[str, Any],
        *,
        within: float | None,
        encode: Callable[[str, Mapping[str, Any], int], str] = encode_request,
    ) -> Message:
        """Send one request (a trading method) on the live socket and return its ack.

        Errors say whether the request left: :class:`ConnectionFailedError` (no socket within
        ``within``, or the write failed: nothing was sent), :class:`TransportError` (the
        socket closed after sending, before the ack) and :class:`RequestTimeoutError` with
        ``sent`` True (no ack in time): the last two leave the outcome unknown.
        """
        self._check_usable()
        self._ensure_running()
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            async with asyncio.timeout(within):
                await self._live.wait()
        except TimeoutError:
            raise ConnectionFailedError(
                f"{method}: no open socket to {self.url} within {within:g} s"
                + (f" ({self._last_error})" if self._last_error is not None else ""),
                endpoint=method,
            ) from None
        ws = self._ws
        if ws is None:
            raise ConnectionFailedError(f"{method}: the socket closed", endpoint=method)
        req_id = next(self._ids)
        future: asyncio.Future[Message] = loop.create_future()
        self._waiting[req_id] = _Pending(future, None)
        try:
            try:
                await self._send(ws, encode(method, self._with_socket_params(params) or {}, req_id))
            except _LinkLostError as error:
                raise ConnectionFailedError(
                    f"{method}: the socket closed before the request left", endpoint=method
                ) from error
            left = None if within is None else max(0.0, within - (loop.time() - started))
            try:
                async with asyncio.timeout(left):
                    return await future
            except TimeoutError:
                raise RequestTimeoutError(
                    f"{method}: no ack for req_id {req_id} within {within:g} s",
                    endpoint=method,
                    sent=True,
                ) from None
            except _LinkLostError:
                raise TransportError(
                    f"{method}: the socket closed after the request left, before its ack",
                    endpoint=method,
                ) from None
        finally:
            self._waiting.pop(req_id, None)

    # -- the socket -------------------------------------------------------------------

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("uws: a background task failed", exc_info=task.exception())

    def _wanted(self) -> bool:
        return bool(self._registry or self._status_sinks)

    def _ensure_running(self) -> None:
        if self._supervisor is None or self._supervisor.done():
            self._supervisor = asyncio.get_running_loop().create_task(self._supervise())

    async def _supervise(self) -> None:
        import aiohttp

        failures = 0
        while not self._closed:
            try:
                if self._prepare is not None:
                    self._socket_params = dict(await self._prepare(self.reconnects > 0))
                ws = await self._open_socket()
            except (aiohttp.ClientError, OSError, TimeoutError, KrakenFuturesError) as error:
                failures += 1
                self._last_error = error
                logger.warning("uws: cannot open %s (attempt %d): %s", self.url, failures, error)
                if isinstance(error, AuthenticationError):
                    # a refused key does not heal by waiting: every stream hears it now
                    self._finish(error, permanent=False)
                    return
            else:
                healthy, ended = await self._run_socket(ws)
                if ended is not None:
                    self._finish(ended, permanent=True)
                    return
                failures = 1 if healthy else failures + 1
                self.reconnects += 1
            limit = self.settings.max_reconnect_attempts
            if limit is not None and failures > limit:
                self._finish(
                    StreamConnectionError(
                        f"gave up on {self.url} after {failures} failed attempts: "
                        f"{self._last_error}"
                    ),
                    permanent=False,
                )
                return
            if not self._wanted():
                return  # nobody listens; the next subscription starts again
            await asyncio.sleep(self.settings.backoff(failures))

    async def _open_socket(self) -> aiohttp.ClientWebSocketResponse:
        import aiohttp

        if self._client is None:
            self._client = aiohttp.ClientSession()
        async with asyncio.timeout(self.settings.connect_timeout):
            return await self._client.ws_connect(
                self.url,
                autoping=True,
                heartbeat=None,
                max_msg_size=self.settings.max_msg_size,
                timeout=aiohttp.ClientWSTimeout(ws_close=self.settings.close_timeout),
            )

    async def _run_socket(
        self, ws: aiohttp.ClientWebSocketResponse
    ) -> tuple[bool, KrakenFuturesError | None]:
        """Serve one socket until it ends: (whether it ever spoke, a terminal error)."""
        self._generation += 1
        generation = self._generation
        self._ws = ws
        self._live.set()
        # in the same step as ``_ws`` is set, so a new subscription is sent exactly once
        for registration in list(self._registry.values()):
            self._spawn(self._subscribe(registration, ws, generation))
        pinger = self._spawn(self._ping(ws))
        spoke = [False]
        try:
            ended = await self._read(ws, spoke)
            return spoke[0], ended
        finally:
            pinger.cancel()
            self._ws = None
            self._live.clear()
            for pending in self._waiting.values():
                if not pending.future.done():
                    pending.future.set_exception(_LinkLostError("the socket closed"))
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self.settings.close_timeout):
                    await ws.close()
            if not self._closed:
                for registration in self._registry.values():
                    if registration.ready.done() and not registration.lost:
                        registration.lost = True
                        registration.sink.link_lost()

    async def _read(
        self, ws: aiohttp.ClientWebSocketResponse, spoke: list[bool]
    ) -> KrakenFuturesError | None:
        import aiohttp

        settings = self.settings
        while True:
            if not spoke[0]:
                limit = settings.connect_timeout  # the status push opens every connection
            elif any(r.generation == self._generation for r in self._registry.values()):
                limit = settings.heartbeat_timeout
            else:  # no heartbeats without a subscription: our pings' pongs keep it talking
                limit = settings.ping_interval + settings.heartbeat_timeout
            try:
                message = await ws.receive(timeout=limit)
            except TimeoutError:
                logger.warning("uws: no frame for %g s; reconnecting", limit)
                return None
            kind = message.type
            if kind is aiohttp.WSMsgType.TEXT or kind is aiohttp.WSMsgType.BINARY:
                spoke[0] = True
                self._dispatch(message.data)
            elif kind is aiohttp.WSMsgType.ERROR:
                error = message.data
                if (
                    isinstance(error, aiohttp.WebSocketError)
                    and error.code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
                ):
                    cap = settings.max_msg_size
                    return StreamMessageTooLargeError(
                        f"an inbound message was larger than {cap} bytes ({error})",
                        endpoint="uws",
                        max_bytes=cap,
                    )
                logger.warning("uws: socket error %s; reconnecting", error)
                return None
            elif kind in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSING,
                aiohttp.WSMsgType.CLOSED,
            ):
                code = ws.close_code
                if code in TERMINAL_CLOSE_CODES:
                    return StreamConnectionError(
                        f"Kraken closed the socket with code {code} ({message.extra or ''}); "
                        "not reconnecting",
                        close_code=code,
                    )
                logger.info("uws: socket closed with code %s; reconnecting", code)
                return None

    async def _ping(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        with contextlib.suppress(_LinkLostError):
            while True:
                await asyncio.sleep(self.settings.ping_interval)
                await self._send(ws, encode_request("ping", None, next(self._ids)))

    def _finish(self, error: KrakenFuturesError, *, permanent: bool) -> None:
        """End every stream with ``error``."""
        if permanent:
            self._terminal = error
        logger.error("uws: streams ended: %s", error)
        registrations = list(self._registry.values())
        self._registry.clear()
        for registration in registrations:
            registration.closed = True
            if not registration.ready.done():
                registration.ready.set_exception(error)
            else:
                registration.sink.fail(error)
        sinks, self._status_sinks = self._status_sinks, []
        for sink in sinks:
            sink.fail(error)

    # -- what arrives -----------------------------------------------------------------

    def _dispatch(self, text: str | bytes) -> None:
        try:
            message = decode_json_numbers_as_text(text)
        except ValueError:
            logger.warning("uws: a frame that is not JSON: %.200r", text)
            return
        if not isinstance(message, dict):
            logger.warning("uws: a frame that is not a JSON object: %.200r", text)
            return
        if "method" in message:
            self._answer(message)
            return
        channel = message.get("channel")
        if channel == "heartbeat":
            return
        kind = message.get("type")
        kind = kind if isinstance(kind, str) else "update"
        data = message.get("data")
        if channel == "status":
            for element in data if isinstance(data, list) else [data]:
                if isinstance(element, dict):
                    self.status = element
                    for sink in list(self._status_sinks):
                        self._deliver(sink, kind, element)
            return
        if not isinstance(channel, str):
            logger.warning("uws: a push without a channel: %.200r", text)
        elif isinstance(data, list) and (channel, None) in self._registry:
            # a channel subscribed without a symbol (private ``executions``, ``balances``)
            # gets each message whole, so its subscriber sees where a snapshot begins and ends
            self._deliver(self._registry[(channel, None)].sink, kind, data)
        elif isinstance(data, list):
            for element in data:
                symbol = element.get("symbol") if isinstance(element, dict) else None
                registration = self._registry.get((channel, symbol))
                if registration is not None:
                    self._deliver(registration.sink, kind, element)
        elif isinstance(data, dict):
            registration = self._registry.get((channel, None))
            if registration is not None:
                self._deliver(registration.sink, kind, data)

    def _deliver(self, sink: Sink, kind: str, data: Any) -> None:
        try:
            sink.deliver(kind, data)
        except Exception:  # a sink's bug must not stop the reader for every other stream
            logger.exception("uws: a subscriber failed on a %s push", kind)

    def _answer(self, message: Message) -> None:
        if self.on_any_ack is not None:
            try:
                self.on_any_ack(message)
            except Exception:
                logger.exception("uws: the ack observer failed")
        req_id = message.get("req_id")
        pending = self._waiting.get(req_id) if isinstance(req_id, int) else None
        if pending is None:
            if message.get("method") != "pong" and not _succeeded(message):
                logger.warning("uws: an unexpected refusal: %.300r", message)
            return
        if pending.on_ack is not None:
            try:
                pending.on_ack(message)
            except Exception:
                logger.exception("uws: a subscriber failed on an ack")
        if not pending.future.done():
            pending.future.set_result(message)
