"""The Unified WebSocket backend: trading and account state over Kraken's private socket.

``Session(backend=UwsBackend(token_provider=TokenProvider(credentials)))`` sends the
order calls over ``wss://uws.kraken.com/v2/private`` (a served twin:
``ws://host:port/v2/private``; :func:`private_url`) and answers ``orders.open``,
``account.open_positions`` and ``account.accounts`` from the ``executions``, ``positions``
and ``balances`` streams, subscribed on first use and kept across reconnects by the same
:class:`~.connection.UwsConnection` machinery as the public socket. Every request carries
the socket's token (:class:`~.token.TokenProvider`; a new socket fetches a new one;
``EAPI:Invalid token`` fetches one and resends once). Each call waits for its ack within the
call's deadline; a socket closing after a request left, or an ack that never comes, raises
the same ambiguous errors as a lost HTTP answer, so order safety looks the order up in the
executions state (:class:`~.order_lookup.UwsOrderLookup`). Operations UWS cannot serve are
refused by :meth:`UwsBackend.supports` and explained by :meth:`UwsBackend.why_unsupported`.
``market.instruments``, ``orderbook``, ``ticker`` and ``tickers`` are read from the public
channels' snapshots on a public socket of the backend's own (:mod:`.market_reads`).
The wire mapping and every choice where Kraken's documentation is silent: :mod:`.routes`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Mapping
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit, urlunsplit

from .._deadline import CallDeadline
from ..backend import Observer, tell_observers
from ..errors import (
    KrakenFuturesError,
    OrderRejectedError,
    RequestTimeoutError,
    SessionStateError,
    UnsupportedOperationError,
)
from ..models import (
    CancelAllResult,
    CancelledOrderId,
    CancelOrderResult,
    DeadManSwitchStatus,
    EditOrderResult,
    OrderRequestStatus,
    SendOrderResult,
)
from ..operations import (
    BatchRequest,
    CancelAll,
    CancelAllAfter,
    CancelOrder,
    EditOrder,
    FillsQuery,
    Operation,
    SendOrder,
)
from ..operations import catalog as ops
from ..operations.account import SetLeveragePreference
from ..ratelimit import RateLimiter, RateLimitPolicy, WindowLimit
from ..safety.outcomes import LATE
from .account_state import MarginState, WalletsState, accounts_from
from .batch import chunks, run_batch
from .connection import UwsConnection, UwsSettings
from .market_reads import MARKET_READS, MarketReads, public_url
from .order_lookup import (
    BalancesState,
    ExecutionsState,
    PositionsState,
    UwsOrderLookup,
    when,
)
from .protocol import ASSET_CLASS
from .refusals import order_refusal, preference_refusal
from .registrations import Message
from .routes import (
    BATCH_CANCEL_MAX,
    PRIVATE_PATH,
    PRODUCTION_PRIVATE_URL,
    SUPPORTED,
    TOKEN_ERRORS,
    amend_params,
    classify,
    deadline_text,
    encode_message,
    order_params,
    why_unsupported,
)
from .token import TokenProvider

__all__ = ["UwsBackend", "private_url"]

logger = logging.getLogger("kraken_futures_async.uws")

RequestT = TypeVar("RequestT")
ResultT = TypeVar("ResultT")

#: Seconds a lookup waits for the executions stream to be live (after a reconnect).
_STREAM_PATIENCE = 5.0


def private_url(url: str | None = None) -> str:
    """The private socket's URL: Kraken's, or ``ws(s)://host:port/v2/private`` of ``url`` (a
    twin's REST base URL or public socket URL)."""
    if url is None:
        return PRODUCTION_PRIVATE_URL
    parts = urlsplit(url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, PRIVATE_PATH, "", ""))


def _public_url(private: str) -> str:
    """Kraken's public socket for Kraken's private one, else ``/v2/public`` on its host."""
    return public_url(None if private == PRODUCTION_PRIVATE_URL else private)


def _limiter() -> RateLimiter:
    """Choice 11 of :mod:`.routes`: 20 requests a second, nothing else."""
    policy = RateLimitPolicy(
        public_requests=None,
        private_requests=WindowLimit(20, 1.0),
        derivatives_budget=None,
        history_budget=None,
    )
    return RateLimiter(policy)


class UwsBackend:
    """Kraken's Unified WebSocket, private socket (a :class:`~..backend.Backend`).

    ``token_provider``: where tokens come from. ``url``: the private socket (default
    Kraken's; see :func:`private_url`). ``settings``: the socket's timeouts and backoff.
    ``deadline``: seconds per call, or the Session's :class:`CallDeadline` so
    ``kf.deadline(...)`` reaches here (default 30 s). ``public_url``: the public socket the
    market reads use (default: ``/v2/public`` on the private socket's host; a Session passes
    its ``stream_url``), with the same ``settings``.
    """

    name = "uws"

    def __init__(
        self,
        *,
        token_provider: TokenProvider,
        url: str | None = None,
        settings: UwsSettings | None = None,
        deadline: CallDeadline | float | None = 30.0,
        public_url: str | None = None,
    ) -> None:
        self.url = url if url is not None and url.endswith(PRIVATE_PATH) else private_url(url)
        self.public_url = public_url or _public_url(self.url)
        self._tokens = token_provider
        self._settings = settings or UwsSettings()
        self._deadline = deadline if isinstance(deadline, CallDeadline) else CallDeadline(deadline)
        self._connection: UwsConnection | None = None
        self._market: MarketReads | None = None
        self._observers: list[Observer] = []
        self._limiter = _limiter()
        #: The exchange's epoch seconds minus the loop's monotonic clock (None: not heard yet).
        self._offset: float | None = None
        self.executions = ExecutionsState(self.server_now)
        self.positions = PositionsState()
        self.balances = WalletsState()
        self.margin = MarginState()
        #: Whether the ``margin`` channel was accepted (``accounts`` then waits for it).
        self._margin_served = False
        self._lookup = UwsOrderLookup(self.executions, self._streams_live, self._round_trip)
        self._subscribed = False
        self._subscribing = asyncio.Lock()
        self._closed = False

    def __repr__(self) -> str:
        return f"<UwsBackend {self.url}>"

    # -- the protocol ---------------------------------------------------------------------

    def supports(self, operation: Operation[Any, Any]) -> bool:
        return operation.name in SUPPORTED

    def why_unsupported(self, operation: Operation[Any, Any]) -> str:
        """What to use instead of ``operation`` (kraken-uws-api.md §10)."""
        return why_unsupported(operation.name)

    @property
    def order_lookup(self) -> UwsOrderLookup:
        return self._lookup

    @property
    def limiter(self) -> RateLimiter:
        return self._limiter

    def add_observer(self, observer: Observer) -> None:
        self._observers.append(observer)

    def server_now(self) -> dt.datetime:
        """The exchange's time: its latest ack's ``time_out`` advanced by the monotonic clock
        (a wall clock that steps would move it)."""
        if self._offset is None:
            return dt.datetime.now(dt.UTC)
        return dt.datetime.fromtimestamp(_monotonic() + self._offset, dt.UTC)

    async def open(self) -> None:
        self._connection = UwsConnection(self.url, settings=self._settings, prepare=self._prepare)
        # every ack (subscriptions included) sets the exchange clock before an order leaves
        self._connection.on_any_ack = self._note_time
        self._market = MarketReads(self.public_url, self._settings)

    async def aclose(self) -> None:
        self._closed = True
        connection, self._connection = self._connection, None
        market, self._market = self._market, None
        try:
            if market is not None:
                await market.aclose()
        finally:
            if connection is not None:
                await connection.aclose()

    async def execute(self, operation: Operation[RequestT, ResultT], request: RequestT) -> ResultT:
        if operation.name not in SUPPORTED:
            raise UnsupportedOperationError(
                self.why_unsupported(operation), endpoint=operation.name
            )
        seconds = self._deadline.seconds()
        until = None if seconds is None else asyncio.get_running_loop().time() + seconds
        result = await self._run(operation.name, request, until)
        if self._observers:
            tell_observers(self._observers, operation.name, request, result)
        return cast(ResultT, result)

    # -- the socket -----------------------------------------------------------------------

    @property
    def connection(self) -> UwsConnection:
        if self._connection is None or self._closed:
            raise SessionStateError("the uws backend is not open")
        return self._connection

    async def private_connection(self) -> UwsConnection:
        """The private socket with this backend's executions, positions and balances
        subscribed (``kf.stream``'s private streams join those subscriptions)."""
        await self._ensure_streams()
        return self.connection

    async def _prepare(self, reconnected: bool) -> Mapping[str, Any]:
        token = await (self._tokens.fresh() if reconnected else self._tokens.token())
        return {"token": token}

    async def _ensure_streams(self) -> None:
        if self._subscribed:
            return
        async with self._subscribing:
            if self._subscribed:
                return
            connection = self.connection
            await connection.subscribe(
                "executions", None, {"snap_orders": True, "snap_trades": True}, self.executions
            )
            await connection.subscribe("positions", None, {"snapshot": True}, self.positions)
            await connection.subscribe(
                "balances", None, {"snapshot": True, "asset_class": None}, self.balances
            )
            self._margin_served = await self._subscribe_margin(connection)
            self._subscribed = True

    async def _subscribe_margin(self, connection: UwsConnection) -> bool:
        """``margin`` (flex and single-collateral figures, :mod:`.account_state`); a refusal
        leaves ``accounts`` with the wallets ``balances`` shows."""
        try:
            await connection.subscribe("margin", None, {}, self.margin)
        except KrakenFuturesError as exc:
            logger.info("uws: the margin channel was refused (%s); accounts shows wallets", exc)
            return False
        return True

    async def _streams_live(self) -> None:
        """The executions stream subscribed, and live (its snapshot in) if it soon is."""
        await self._ensure_streams()
        await self._live(self.executions)

    async def _live(
        self, state: ExecutionsState | PositionsState | BalancesState | MarginState
    ) -> None:
        if state.live:
            return
        try:
            async with asyncio.timeout(_STREAM_PATIENCE):
                while not state.live:
                    await state.changed.wait()
        except TimeoutError:
            logger.info("uws: %s not live after %g s", type(state).__name__, _STREAM_PATIENCE)

    async def _round_trip(self) -> bool:
        """A ping answered on the socket (its pushes come in order: every one sent before the
        pong has arrived); False when none came within ``ack_timeout``."""
        try:
            await self.connection.request("ping", {}, within=self._settings.ack_timeout)
        except KrakenFuturesError as exc:
            logger.info("uws: no round trip on the private socket (%s)", exc)
            return False
        return True

    def _note_time(self, ack: Message) -> None:
        sent = when(ack.get("time_out"))
        if sent is not None:
            self._offset = sent.timestamp() - _monotonic()

    async def _before_sending(self, step: Awaitable[Any], until: float | None, what: str) -> None:
        """A step before the request leaves (streams, limiter, token), within the deadline:
        past it, nothing was sent."""
        try:
            async with asyncio.timeout_at(until):
                await step
        except TimeoutError:
            raise RequestTimeoutError(
                f"the call's deadline passed before the request left ({what})",
                endpoint=what,
                sent=False,
            ) from None

    @staticmethod
    def _left(until: float | None) -> float | None:
        return None if until is None else max(0.0, until - asyncio.get_running_loop().time())

    async def _call(self, method: str, params: Mapping[str, Any], until: float | None) -> Message:
        """One request and its ack (success or refusal); a token refusal is retried once."""
        limiter = self._limiter.acquire(private=True, budget=None, cost=1)
        await self._before_sending(limiter, until, method)
        full = {"asset_class": ASSET_CLASS, **params}
        connection = self.connection
        ack = await connection.request(
            method, full, within=self._left(until), encode=encode_message
        )
        self._note_time(ack)
        if ack.get("success") is not True and ack.get("error") in TOKEN_ERRORS:
            logger.info("uws: %s refused the token; fetching a fresh one", method)
            holder: list[str] = []

            async def refresh() -> None:
                holder.append(await self._tokens.fresh())

            await self._before_sending(refresh(), until, method)
            connection.set_socket_params({"token": holder[0]})
            ack = await connection.request(
                method, full, within=self._left(until), encode=encode_message
            )
            self._note_time(ack)
        return ack

    # -- the operations -------------------------------------------------------------------

    async def _run(self, name: str, request: Any, until: float | None) -> Any:
        if name in MARKET_READS:
            if self._market is None or self._closed:
                raise SessionStateError("the uws backend is not open")
            return await self._market.read(name, request, until)
        await self._before_sending(self._ensure_streams(), until, name)
        if name == ops.OPEN_ORDERS.name:
            await self._before_sending(self._live(self.executions), until, name)
            orders = self.executions.open_orders()
            found = [self.executions.open_order(o) for o in orders]
            return sorted(found, key=lambda o: o.received_time, reverse=True)
        if name == ops.FILLS.name:
            await self._before_sending(self._live(self.executions), until, name)
            return self.executions.fills_page(cast(FillsQuery, request).before)
        if name == ops.SET_LEVERAGE_PREFERENCE.name:
            return await self._set_leverage(cast(SetLeveragePreference, request), until)
        if name == ops.OPEN_POSITIONS.name:
            await self._before_sending(self._live(self.positions), until, name)
            return list(self.positions.positions.values())
        if name == ops.ACCOUNTS.name:
            await self._before_sending(self._live(self.balances), until, name)
            if self._margin_served:
                await self._before_sending(self._live(self.margin), until, name)
            return accounts_from(self.balances, self.margin)
        # order calls: the executions stream is subscribed first, so a lost ack can be looked up
        if name == ops.SEND_ORDER.name:
            return await self._send(cast(SendOrder, request), until)
        if name == ops.EDIT_ORDER.name:
            return await self._edit(cast(EditOrder, request), until)
        if name == ops.CANCEL_ORDER.name:
            return await self._cancel(cast(CancelOrder, request), until)
        if name == ops.CANCEL_ALL_ORDERS.name:
            return await self._cancel_all(cast(CancelAll, request), until)
        if name == ops.CANCEL_ALL_ORDERS_AFTER.name:
            return await self._dead_mans_switch(cast(CancelAllAfter, request), until)
        return await run_batch(self, cast(BatchRequest, request), until)

    def _deadline_param(
        self, request: SendOrder | EditOrder | BatchRequest, method: str
    ) -> dict[str, Any]:
        try:
            text = deadline_text(request.process_before, self.server_now())
        except ValueError:
            cli = request.cli_ord_id if isinstance(request, SendOrder | EditOrder) else None
            raise OrderRejectedError(
                "the request's processBefore is less than 0.5 s away (UWS's shortest "
                "deadline); not sent",
                status=LATE,
                cli_ord_id=cli,
                endpoint=method,
            ) from None
        return {} if text is None else {"deadline": text}

    @staticmethod
    def _status(ack: Message, method: str) -> OrderRequestStatus:
        error = ack.get("error")
        found = classify(error, method) if isinstance(error, str) else None
        return found or OrderRequestStatus.UNKNOWN

    async def _send(self, order: SendOrder, until: float | None) -> SendOrderResult:
        params = order_params(order)
        params.update(self._deadline_param(order, "add_order"))
        if order.cli_ord_id is not None:
            self.executions.sending(order.cli_ord_id)  # is it watched until it is looked up?
        ack = await self._call("add_order", params, until)
        result = _result(ack)
        received = when(ack.get("time_in"))
        if ack.get("success") is not True:
            status = self._status(ack, "add_order")
            raise order_refusal(
                ack,
                "add_order",
                result=SendOrderResult(
                    status=status, cli_ord_id=order.cli_ord_id, received_time=received
                ),
                cli_ord_id=order.cli_ord_id,
            )
        return SendOrderResult(
            status=OrderRequestStatus.PLACED,
            order_id=result.get("order_id") or None,
            cli_ord_id=result.get("cl_ord_id") or order.cli_ord_id,
            received_time=received,
        )

    async def _edit(self, edit: EditOrder, until: float | None) -> EditOrderResult:
        params = amend_params(edit)
        params.update(self._deadline_param(edit, "amend_order"))
        ack = await self._call("amend_order", params, until)
        result = _result(ack)
        received = when(ack.get("time_in"))
        if ack.get("success") is not True:
            raise order_refusal(
                ack,
                "amend_order",
                result=EditOrderResult(status=self._status(ack, "amend_order")),
                order_id=edit.order_id,
                cli_ord_id=edit.cli_ord_id,
            )
        found = self.executions.find(cli_ord_id=edit.cli_ord_id, order_id=edit.order_id)
        return EditOrderResult(
            status=OrderRequestStatus.EDITED,
            order_id=result.get("order_id") or edit.order_id or (found or {}).get("order_id"),
            cli_ord_id=result.get("cl_ord_id") or edit.cli_ord_id,
            received_time=received,
        )

    async def _cancel(self, cancel: CancelOrder, until: float | None) -> CancelOrderResult:
        if cancel.process_before is not None and cancel.process_before <= self.server_now():
            raise OrderRejectedError(
                "the cancel's processBefore has passed; not sent",
                status=LATE,
                order_id=cancel.order_id,
                cli_ord_id=cancel.cli_ord_id,
                endpoint="cancel_order",
            )
        params: dict[str, Any] = (
            {"order_id": [cancel.order_id]}
            if cancel.order_id is not None
            else {"cl_ord_id": [cancel.cli_ord_id]}
        )
        ack = await self._call("cancel_order", params, until)
        received = when(ack.get("time_in"))
        if ack.get("success") is not True:
            raise order_refusal(
                ack,
                "cancel_order",
                result=CancelOrderResult(status=self._status(ack, "cancel_order")),
                order_id=cancel.order_id,
                cli_ord_id=cancel.cli_ord_id,
            )
        result = _result(ack)
        found = self.executions.find(cli_ord_id=cancel.cli_ord_id, order_id=cancel.order_id)
        return CancelOrderResult(
            status=OrderRequestStatus.CANCELLED,
            order_id=result.get("order_id") or cancel.order_id or (found or {}).get("order_id"),
            cli_ord_id=cancel.cli_ord_id or (found or {}).get("cl_ord_id"),
            received_time=received,
        )

    def _known_open(self, symbol: str | None) -> tuple[CancelledOrderId, ...]:
        return tuple(
            CancelledOrderId(order_id=str(o["order_id"]), cli_ord_id=o.get("cl_ord_id"))
            for o in self.executions.open_orders(symbol)
        )

    async def _cancel_all(self, request: CancelAll, until: float | None) -> CancelAllResult:
        await self._before_sending(self._live(self.executions), until, "cancel_all_orders")
        known = self._known_open(request.symbol)
        if request.symbol is None:
            ack = await self._call("cancel_all", {}, until)
            if ack.get("success") is not True:
                raise order_refusal(ack, "cancel_all")
            result = _result(ack)
            count = result.get("count")
            none = count == 0 if isinstance(count, int) else not known
            return CancelAllResult(
                status=(
                    OrderRequestStatus.NO_ORDERS_TO_CANCEL if none else OrderRequestStatus.CANCELLED
                ),
                cancel_only="all",
                cancelled_orders=known,
                received_time=when(ack.get("time_in")) or self.server_now(),
            )
        received: dt.datetime | None = None
        for chunk in chunks(list(known), BATCH_CANCEL_MAX):
            ack = await self._cancel_ids([c.order_id for c in chunk], until)
            if ack.get("success") is not True:
                raise order_refusal(ack, "batch_cancel")
            received = received or when(ack.get("time_in"))
        return CancelAllResult(
            status=OrderRequestStatus.CANCELLED
            if known
            else OrderRequestStatus.NO_ORDERS_TO_CANCEL,
            cancel_only=request.symbol,
            cancelled_orders=known,
            received_time=received or self.server_now(),
        )

    async def _cancel_ids(self, order_ids: list[str], until: float | None) -> Message:
        if len(order_ids) == 1:
            return await self._call("cancel_order", {"order_id": order_ids}, until)
        return await self._call("batch_cancel", {"orders": order_ids}, until)

    async def _dead_mans_switch(
        self, request: CancelAllAfter, until: float | None
    ) -> DeadManSwitchStatus:
        ack = await self._call("cancel_all_orders_after", {"timeout": request.timeout}, until)
        if ack.get("success") is not True:
            raise order_refusal(ack, "cancel_all_orders_after")
        result = _result(ack)
        now = when(result.get("currentTime")) or when(ack.get("time_in")) or self.server_now()
        trigger = when(result.get("triggerTime"))
        return DeadManSwitchStatus(
            current_time=now, trigger_time=None if request.timeout == 0 else trigger
        )

    async def _set_leverage(self, request: SetLeveragePreference, until: float | None) -> None:
        mode = {"symbol": request.symbol, "max_leverage": request.max_leverage}
        ack = await self._call("set_preference", {"leverage_mode": mode}, until)
        if ack.get("success") is not True:
            raise preference_refusal(ack)


def _monotonic() -> float:
    """The running loop's clock (asyncio's default is ``time.monotonic``), or that outside one."""
    try:
        return asyncio.get_running_loop().time()
    except RuntimeError:
        return time.monotonic()


def _result(ack: Message) -> dict[str, Any]:
    result = ack.get("result")
    return result if isinstance(result, dict) else {}
