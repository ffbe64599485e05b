"""A twin a test can steer: its clock, its faults and its market, from one small object."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import attrs

from ..session import Session
from ..simulator import FaultKind, FaultRule, ManualClock, RunningTwin, Twin, TwinConfig
from ..simulator.engine import Exchange
from ..simulator.engine.controls import MarketControls

__all__ = ["BASE_URL_ENV", "ControlledTwin", "ServedTwin", "TwinControl"]

T = TypeVar("T")

#: Seconds a control waits for a served twin's loop to run it.
_SERVED_WAIT = 30.0
#: Most seconds :meth:`TwinControl.trigger` lets pass waiting for the makers' next trade.
_LAST_TRADE_WAIT = 600


class TwinControl:
    """Steer a twin between a test's calls: move time, move the market, fill, fail.

    Time moves only on a :class:`ManualClock` (the fixtures' default); on the wall clock a
    move takes effect within a second by itself. Every method settles the engine, so fills
    and fired stops are there for the next call (and the twin's streams) at once. While the
    twin is served (:meth:`serve_on`), each control runs on the server's event loop, between
    the requests and stream pushes it serves: the engine is never entered twice at once.
    """

    def __init__(self, twin: Twin) -> None:
        exchange = twin.exchange
        if not isinstance(exchange, Exchange):
            raise TypeError("a TwinControl steers the twin's own engine (Exchange)")
        self.twin = twin
        self.exchange = exchange
        self.market = MarketControls(exchange)
        self._loop: asyncio.AbstractEventLoop | None = None

    def serve_on(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """Run the controls on ``loop`` (a served twin's), or in the caller again (``None``)."""
        self._loop = loop

    def _do(self, action: Callable[[], T]) -> T:
        loop = self._loop
        if loop is None or _running_loop() is loop:
            return action()
        done: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                done.set_result(action())
            except BaseException as exc:  # handed to the waiting caller
                done.set_exception(exc)

        loop.call_soon_threadsafe(run)
        return done.result(_SERVED_WAIT)

    @property
    def clock(self) -> ManualClock | None:
        """The twin's manual clock, or ``None`` when it runs on the wall clock."""
        clock = self.twin.clock
        return clock if isinstance(clock, ManualClock) else None

    def now(self) -> float:
        """The twin's clock time (seconds since the epoch)."""
        return self.twin.clock.time()

    def advance(self, seconds: float) -> None:
        """Move the manual clock on and let the exchange catch up (fills, stops, dead man)."""
        clock = self.clock
        if clock is None:
            raise TypeError("only a twin on a ManualClock can be moved in time")

        def advance() -> None:
            clock.advance(seconds)
            self.market.settle()

        self._do(advance)

    def mark(self, symbol: str) -> Decimal:
        """``symbol``'s mark price now."""
        return self._do(lambda: self.exchange.mark_price(symbol))

    def move_mark(self, symbol: str, price: Decimal | str | int) -> Decimal:
        """Make ``symbol``'s mark ``price`` (every contract on its base moves with it).

        The move acts from the next whole second: a manual clock is moved there, so resting
        orders the new market crosses are filled and stops it crosses fire before this
        returns. Returns the mark then.
        """
        self._reach(self._do(lambda: self.market.move_mark(symbol, Decimal(price))))
        return self.mark(symbol)

    def fill(self, order_id: str) -> None:
        """Fill a resting order whole at its limit price, as if a counterparty took it."""
        self._do(lambda: self.market.fill(order_id))

    def trigger(self, order_id: str) -> None:
        """Move the market past a waiting stop (take profit, trailing stop) so that it fires."""
        self._reach(self._do(lambda: self.market.trigger(order_id)))
        clock = self.clock
        for _ in range(_LAST_TRADE_WAIT):  # a 'last' signal waits for the makers to trade
            if clock is None or not self._waiting(order_id):
                return
            self.advance(1)

    def is_open(self, order_id: str) -> bool:
        """Whether an order (of any account) still rests or waits for its trigger."""
        try:
            self._do(lambda: self.market.order(order_id))
        except KeyError:
            return False
        return True

    def fail_next(
        self,
        operation: str = "*",
        kind: FaultKind | str = FaultKind.SERVER_ERROR,
        *,
        times: int = 1,
        **rule: Any,
    ) -> FaultRule:
        """The next ``times`` calls of ``operation`` (an endpoint-table name such as
        ``"send_order"``, or ``"*"``) meet ``kind``; more :class:`FaultRule` fields by name."""
        return self.twin.faults.add(FaultKind(kind), operation, times=times, **rule)

    def fired(self, kind: FaultKind | str, operation: str | None = None) -> int:
        """How often ``kind`` struck (on ``operation``, or anywhere)."""
        return self.twin.faults.fired(kind, operation)

    def _waiting(self, order_id: str) -> bool:
        try:
            return self._do(lambda: self.market.order(order_id).is_trigger)
        except KeyError:
            return False

    def _reach(self, second: int) -> None:
        clock = self.clock

        def reach() -> None:
            if clock is not None and clock.time() < second:
                clock.set(second)
            self.market.settle()

        self._do(reach)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class ControlledTwin(Twin):
    """A :class:`Twin` with its :class:`TwinControl` at ``.control`` (the fixtures' twin)."""

    def __init__(self, config: TwinConfig | None = None) -> None:
        super().__init__(config or TwinConfig(clock=ManualClock()))
        #: Time, faults and the market of this twin, for the test to steer.
        self.control = TwinControl(self)


#: The environment variable the examples (and your scripts) read for a twin's address.
BASE_URL_ENV = "KRAKEN_FUTURES_BASE_URL"


@attrs.frozen
class ServedTwin:
    """A twin on a loopback port: where it is, the keys it knows, and its control."""

    #: The base URL (``http://127.0.0.1:<port>``); the UWS face is on the same port.
    url: str
    twin: ControlledTwin
    #: The server itself (stopped by the fixture at the end of the test).
    running: RunningTwin

    @property
    def control(self) -> TwinControl:
        """The served twin's control (the same object as ``twin.control``)."""
        return self.twin.control

    @property
    def api_key(self) -> str:
        """The twin's ready-made Futures key (public part)."""
        return self.twin.key.public_key

    @property
    def api_secret(self) -> str:
        """That key's secret (base64, as Kraken issues them)."""
        return self.twin.key.secret

    def env(self) -> dict[str, str]:
        """Variables a subprocess reads: the base URL, and both keys (``Credentials.from_env``)."""
        kraken = self.twin.kraken_key
        return {
            BASE_URL_ENV: self.url,
            "KRAKEN_FUTURES_API_KEY": self.api_key,
            "KRAKEN_FUTURES_API_SECRET": self.api_secret,
            "KRAKEN_API_KEY": kraken.public_key,
            "KRAKEN_API_SECRET": kraken.secret,
        }

    def session(self, **kwargs: Any) -> Session:
        """A signed Session over the socket (``backend="uws"`` for the Unified WebSocket)."""
        return self.running.session(**kwargs)
