"""One client on ``/v2/private``: token checks, trading methods and private subscriptions.

The same bounded queue, sender and frame limits as the public socket (:class:`.Connection`).
Every private request carries ``params.token``: it is redeemed with the twin's token service
(the first use binds it; unknown or expired unused: ``EAPI:Invalid token``) and names the
account the request acts on. Trading methods answer one ack (``cancel_order``: one per id);
subscriptions answer one ack and then the channel's snapshot (:mod:`.private_channels`).

Fault switches (:class:`PrivateFaults`, pulled through :class:`.UwsServer`): drop the acks of
the next trading requests after applying them (an ambiguous send), answer the next private
requests with ``EAPI:Invalid token``, and abort connections without a close frame (the
client sees 1006). Seeded faults on trading requests (:mod:`.faults`, from
``UwsConfig.socket_faults``): the socket dropped before or after the engine took the request,
the ack lost, the ack delayed, the request lost on the way in.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from .config import CLOSE_MESSAGE_TOO_BIG
from .connection import BAD_CHANNEL, HEARTBEAT, Connection
from .faults import SocketFault
from .margin_channel import MARGIN_SNAPSHOT_REFUSAL
from .private_channels import PrivateHub
from .trading import INVALID, RefusedError, Trader, _asset_class, _flag, _only
from .wire import Request, encode, error_ack, read_request, rfc3339, success_ack

if TYPE_CHECKING:
    from .server import UwsServer

__all__ = ["CLOSE_ABORT", "INVALID_TOKEN", "PrivateConnection", "PrivateFaults"]

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

INVALID_TOKEN = "EAPI:Invalid token"
#: A close without a close frame (RFC 6455 1006: abnormal closure, never sent on the wire).
CLOSE_ABORT = 1006
_TRADING = frozenset(
    {
        "add_order",
        "amend_order",
        "cancel_order",
        "cancel_all",
        "cancel_all_orders_after",
        "batch_add",
        "batch_cancel",
        "set_preference",
    }
)
_CHANNELS = frozenset({"executions", "positions", "balances", "margin"})


class PrivateFaults:
    """Fault switches of the private socket; counts of requests still to spoil."""

    __slots__ = ("drop_acks", "invalid_tokens")

    def __init__(self) -> None:
        self.drop_acks = 0
        self.invalid_tokens = 0


class PrivateConnection(Connection):
    __slots__ = ("channels",)

    def __init__(self, server: UwsServer, connection_id: int) -> None:
        super().__init__(server, connection_id)
        #: Private subscriptions: channel -> the account it is bound to.
        self.channels: dict[str, str] = {}

    @property
    def hub(self) -> PrivateHub:
        return self.server.private_hub

    @property
    def trader(self) -> Trader:
        return self.server.trader

    def abort(self) -> None:
        """Drop the TCP connection without a close frame (the client sees 1006)."""
        self.close(CLOSE_ABORT, "abnormal closure")

    async def _sender(self, send: Send) -> None:
        if self.close_code == CLOSE_ABORT:
            return
        config = self.server.config
        queue = self.queue
        while True:
            timeout = config.heartbeat_interval if self.heartbeats else None
            try:
                item = await asyncio.wait_for(queue.get(), timeout)
            except TimeoutError:
                item = HEARTBEAT
            if self.stalled and item is not None:
                continue
            if item is None:
                if self.close_code == CLOSE_ABORT:
                    return  # the app returns: the server drops the transport, no close frame
                code, reason = self.close_code, self.close_reason
                await send({"type": "websocket.close", "code": code, "reason": reason})
                return
            await send({"type": "websocket.send", "text": item})

    async def run(self, receive: Receive, send: Send) -> None:
        server = self.server
        hub = self.hub
        hub.attach(self)
        loop = asyncio.get_running_loop()
        sender = loop.create_task(self._sender(send))
        reading: asyncio.Task[Message] | None = None
        try:
            self.push(server.status_frame(self.connection_id))
            while True:
                reading = loop.create_task(receive())  # type: ignore[arg-type]
                await asyncio.wait({reading, sender}, return_when=asyncio.FIRST_COMPLETED)
                if not reading.done():
                    break  # the sender ended (closed or aborted)
                message = reading.result()
                reading = None
                kind = message["type"]
                if kind == "websocket.disconnect":
                    break
                if kind != "websocket.receive" or self.close_code is not None:
                    continue
                text = message.get("text")
                if text is None:
                    text = (message.get("bytes") or b"").decode("utf-8", "replace")
                limit = server.config.max_message_bytes
                if len(text) > limit or len(text.encode("utf-8")) > limit:
                    self.close(CLOSE_MESSAGE_TOO_BIG, "message too big")
                    continue
                self.handle(text)
        finally:
            hub.detach(self)
            server.connections.pop(self, None)
            for task in (reading, sender):
                if task is not None and not task.done():
                    task.cancel()
                    with contextlib.suppress(BaseException):
                        await task

    # requests -------------------------------------------------------------------------------

    def handle(self, text: str) -> None:
        clock = self.server.clock
        time_in = clock.time()
        read = read_request(text, time_in, clock.time)
        if not isinstance(read, Request):
            self.push(read)
            return
        request, name, req_id = read.body, read.method, read.req_id
        if name not in _TRADING and name not in ("subscribe", "unsubscribe"):
            self.push(error_ack(name, req_id, f"{INVALID}:method", time_in, clock.time()))
            return
        assert name is not None
        params = request.get("params")
        if not isinstance(params, dict):
            self.push(error_ack(name, req_id, f"{INVALID}:params", time_in, clock.time()))
            return
        account = self._account(params)
        if account is None:
            self.push(error_ack(name, req_id, INVALID_TOKEN, time_in, clock.time()))
            return
        if name in ("subscribe", "unsubscribe"):
            self._subscription(name, req_id, params, account, time_in)
        else:
            self._trade(name, req_id, params, account, time_in)

    def _account(self, params: dict[str, Any]) -> str | None:
        faults = self.server.private_faults
        if faults.invalid_tokens > 0:
            faults.invalid_tokens -= 1
            return None
        token = params.get("token")
        tokens = self.server.tokens
        if not isinstance(token, str) or tokens is None:
            return None
        return tokens.redeem(token)

    def _ack(self, method: str, req_id: int | None, result: Any, time_in: float) -> None:
        self.push(success_ack(method, req_id, result, time_in, self.server.clock.time()))

    def _trade(
        self, method: str, req_id: int | None, params: dict[str, Any], account: str, t: float
    ) -> None:
        fault = self.server.socket_faults.roll(method, req_id, params)
        if fault is not None and fault.kind is SocketFault.DROP_BEFORE:
            self.abort()  # the engine never sees it, nor what queues behind it here
            return
        if fault is not None and fault.kind is SocketFault.REQUEST_LOST:
            return
        answers = self._apply(method, params, account)
        self.hub.flush_margin()  # the margin sections the request changed go before its ack
        faults = self.server.private_faults
        if faults.drop_acks > 0:
            faults.drop_acks -= 1
            return  # applied, never answered: the client cannot tell what happened
        if fault is not None and fault.kind is SocketFault.DROP_AFTER:
            self.abort()  # applied; its ack (and its executions events) never leave
            return
        if fault is not None and fault.kind is SocketFault.ACK_LOST:
            return
        if fault is not None and fault.kind is SocketFault.ACK_DELAYED:
            loop = asyncio.get_running_loop()
            loop.call_later(fault.delay, self._answer, method, req_id, answers, t)
            return
        self._answer(method, req_id, answers, t)

    def _apply(self, method: str, params: dict[str, Any], account: str) -> list[Any]:
        """What the engine made of a trading request: one result (or refusal) per ack."""
        trader = self.trader
        try:
            if method == "cancel_order":
                name, ids = trader.cancel_ids(params)
                answers: list[Any] = []
                for value in ids:
                    try:
                        answers.append(trader.cancel_one(account, name, value))
                    except RefusedError as refusal:
                        answers.append(refusal)
                return answers
            if method == "add_order":
                return [trader.add_order(account, params)]
            if method == "amend_order":
                return [trader.amend_order(account, params)]
            if method == "cancel_all":
                return [trader.cancel_all(account, params)]
            if method == "cancel_all_orders_after":
                return [trader.cancel_after(account, params)]
            if method == "batch_add":
                return [trader.batch_add(account, params)]
            if method == "set_preference":
                return [trader.set_preference(account, params)]
            return [trader.batch_cancel(account, params)]
        except RefusedError as refusal:
            return [refusal]

    def _answer(self, method: str, req_id: int | None, answers: list[Any], t: float) -> None:
        """Send the acks now (``time_out`` is when they leave)."""
        now = self.server.clock.time()
        for answer in answers:
            if isinstance(answer, RefusedError):
                self.push(error_ack(method, req_id, answer.error, t, now))
            else:
                self.push(_ack_with_result(method, req_id, answer, t, now))

    def _subscription(
        self, method: str, req_id: int | None, params: dict[str, Any], account: str, t: float
    ) -> None:
        clock = self.server.clock
        channel = params.get("channel")
        if not isinstance(channel, str) or channel not in _CHANNELS:
            self.push(error_ack(method, req_id, BAD_CHANNEL, t, clock.time()))
            return
        try:
            options = _subscription_options(channel, params)
        except RefusedError as refusal:
            self.push(error_ack(method, req_id, refusal.error, t, clock.time()))
            return
        hub = self.hub
        if method == "unsubscribe":
            bound = self.channels.pop(channel, None)
            if bound is None or not hub.unsubscribe(self, channel, bound):
                self.push(error_ack(method, req_id, "Subscription Not Found", t, clock.time()))
                return
            self._ack(method, req_id, {"channel": channel, "warnings": []}, t)
            return
        if channel in self.channels:
            error = "Already subscribed"
            if channel in ("positions", "margin"):
                error = f"Already subscribed to {channel} channel"
            self.push(error_ack(method, req_id, error, t, clock.time()))
            return
        self.channels[channel] = account
        result: dict[str, Any] = {"channel": channel}
        if "snapshot" in options:
            result["snapshot"] = options["snapshot"]
        result["warnings"] = []
        self._ack(method, req_id, result, t)
        self.heartbeats = True
        if channel == "executions":
            hub.subscribe_executions(
                self,
                account,
                options["snap_orders"],
                options["snap_trades"],
                options["order_status"],
            )
        elif channel == "positions":
            hub.subscribe_positions(self, account, options["snapshot"])
        elif channel == "margin":
            hub.subscribe_margin(self, account)
        else:
            hub.subscribe_balances(self, account, options["snapshot"])


def _ack_with_result(
    method: str, req_id: int | None, result: Any, time_in: float, now: float
) -> str:
    if isinstance(result, dict):
        return success_ack(method, req_id, result, time_in, now)
    # a list result (batch_add): success_ack takes a dict, so build the frame here
    message: dict[str, Any] = {"method": method}
    if req_id is not None:
        message["req_id"] = req_id
    message.update(result=result, success=True, time_in=rfc3339(time_in), time_out=rfc3339(now))
    return encode(message)


def _subscription_options(channel: str, params: dict[str, Any]) -> dict[str, bool]:
    """What a private subscription asked for, or a :class:`RefusedError`."""
    base = frozenset({"channel", "token"})
    if channel == "executions":
        fields = {"snap_orders", "snap_trades", "order_status", "ratecounter", "snapshot_trades"}
        _only(params, base | fields | {"asset_class"})
        _asset_class(params)
        if _flag(params, "ratecounter"):
            raise RefusedError(f"{INVALID}:ratecounter")
        snap_trades = _flag(params, "snap_trades") or _flag(params, "snapshot_trades")
        return {
            "snap_orders": params.get("snap_orders", True) is True,
            "snap_trades": snap_trades,
            "order_status": params.get("order_status", True) is True,
        }
    if channel == "positions":
        _only(params, base | {"asset_class", "snapshot", "with_margin"})
        _asset_class(params)
        if _flag(params, "with_margin") and "snapshot" in params:
            raise RefusedError(f"{INVALID}:with_margin")
        snapshot = params.get("snapshot", True)
        if not isinstance(snapshot, bool):
            raise RefusedError(f"{INVALID}:snapshot")
        return {"snapshot": snapshot}
    if channel == "margin":  # no snapshot param (reference §5.5)
        if "snapshot" in params:
            raise RefusedError(MARGIN_SNAPSHOT_REFUSAL)
        _only(params, base | {"asset_class"})
        _asset_class(params)
        return {}
    _only(params, base | {"snapshot"})  # balances: no asset_class (reference §5.2)
    snapshot = params.get("snapshot", True)
    if not isinstance(snapshot, bool):
        raise RefusedError(f"{INVALID}:snapshot")
    return {"snapshot": snapshot}
