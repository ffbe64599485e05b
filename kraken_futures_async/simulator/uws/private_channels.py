"""The private channels of ``/v2/private``: ``executions``, ``positions`` and ``balances``.

One :class:`PrivateHub` serves every private connection of a twin. It listens to the engine's
events (:mod:`..engine.events`) while a private connection is open and turns those of the
subscribed accounts into pushes at once (events arrive synchronously, in the order the
exchange changed, so an ack is queued after the pushes its request caused... unless the
request's answer is queued first: trading methods push their ack after the engine call
returns, hence the ``new`` execution comes before the ``add_order`` ack, as on Kraken where
the two travel apart). Snapshots are read from the engine the way a REST caller reads it
(``open_orders``, ``fills``, ``open_positions``, ``accounts``); the ``margin`` channel's
sections are :mod:`.margin_channel`'s.

The per-order bookkeeping behind ``executions`` (the terms a UWS request asked for, kept per
order id while it is open: :meth:`PrivateHub.expect` before the engine call; each open
order's fills so far; the rows its events make) is :class:`~.order_ledger.OrderLedger`'s;
the hub decides who hears each row, in which sequence.

A tick (every ``tick_interval``) reads each subscribed account's open orders: the engine's
clock is lazy, and reading it is what fires the dead man's switch and triggers in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Protocol

from ..clock import Clock
from ..engine.events import (
    BalanceChanged,
    Event,
    OrderCancelled,
    OrderChanged,
    OrderFilled,
    OrderPlaced,
    PositionChanged,
    Trade,
)
from ..errors import ExchangeError
from .config import UwsConfig
from .feed import Engine
from .margin_channel import margin_pushes
from .order_ledger import OrderLedger, OrderTerms, snapshot_fill
from .wire import encode, rfc3339

__all__ = ["ExecutionOptions", "OrderTerms", "PrivateHub", "PrivateSink"]

logger = logging.getLogger("kraken_futures_async.simulator.uws")

_ZERO = Decimal(0)
#: Fills in an ``executions`` snapshot with ``snap_trades`` (Kraken: the last 50).
SNAP_TRADES = 50
#: ``exec_type`` values ``order_status: false`` leaves out (reference §5.1).
_TRANSITIONS = frozenset({"amended", "restated", "status"})


class PrivateSink(Protocol):
    def push(self, text: str) -> None: ...


class ExecutionOptions:
    __slots__ = ("order_status", "sequence")

    def __init__(self, order_status: bool) -> None:
        self.order_status = order_status
        self.sequence = 0


class _Balances:
    """A ``balances`` subscriber: its sequence and the balances it was last told."""

    __slots__ = ("known", "sequence")

    def __init__(self) -> None:
        self.sequence = 0
        self.known: dict[tuple[str, str], Decimal] = {}


class PrivateHub:
    """Every private subscription of one twin, fed by the engine (module docstring)."""

    def __init__(self, exchange: Engine, clock: Clock, config: Callable[[], UwsConfig]) -> None:
        self.exchange = exchange
        self.clock = clock
        self._config = config
        #: The open orders ``executions`` tells about (:mod:`.order_ledger`).
        self.ledger = OrderLedger()
        self.executions: dict[str, dict[PrivateSink, ExecutionOptions]] = {}
        self.positions: dict[str, dict[PrivateSink, None]] = {}
        self.balances: dict[str, dict[PrivateSink, _Balances]] = {}
        self.margins: dict[str, dict[PrivateSink, None]] = {}
        self._margin_due: set[str] = set()
        self._sinks: dict[PrivateSink, None] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: int | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._ticker: asyncio.Task[None] | None = None

    # connections ----------------------------------------------------------------------------

    def attach(self, sink: PrivateSink) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._stop()
            self._loop = loop
            self._thread = threading.get_ident()
        self._sinks[sink] = None
        if self._unsubscribe is None:
            subscribe = getattr(self.exchange, "subscribe", None)
            if subscribe is not None:
                self._unsubscribe = subscribe(self._on_event)
            self._ticker = loop.create_task(self._tick(), name="kraken-twin uws private tick")

    def detach(self, sink: PrivateSink) -> None:
        self._sinks.pop(sink, None)
        for table in (self.executions, self.positions, self.balances, self.margins):
            for account in list(table):
                members: dict[PrivateSink, Any] = table[account]
                members.pop(sink, None)
                if not members:
                    del table[account]
        if not self._sinks:
            self._stop()

    def call(self, function: Callable[[], None]) -> None:
        """Run ``function`` on the serving loop (now, if this is its thread or it has none)."""
        loop = self._loop
        if loop is None or threading.get_ident() == self._thread:
            function()
        else:
            loop.call_soon_threadsafe(function)

    def _stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        self.ledger.orders.clear()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self._config().tick_interval)
            for account in list(self.executions):
                try:
                    self.exchange.handle("open_orders", {}, account)
                except ExchangeError:
                    pass
                except Exception:  # a bug here must not end the private streams silently
                    logger.exception("the UWS private tick failed")

    def expect(self, terms: OrderTerms) -> contextlib.AbstractContextManager[None]:
        """The next order placed (inside this block) was asked for with ``terms``."""
        return self.ledger.expect(terms)

    # engine events --------------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        loop = self._loop
        if loop is None or threading.get_ident() == self._thread:
            self._dispatch(event)
        else:  # the engine driven from another thread: handle it on the serving loop
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._dispatch, event)

    def _dispatch(self, event: Event) -> None:
        try:
            ledger = self.ledger
            if isinstance(event, Trade):
                ledger.trade(event)
            elif isinstance(event, OrderPlaced):
                self._execution(event.account, ledger.placed(event))
            elif isinstance(event, OrderChanged):
                self._execution(event.account, ledger.changed(event))
            elif isinstance(event, OrderFilled):
                for item in ledger.filled(event):
                    self._execution(event.account, item)
            elif isinstance(event, OrderCancelled):
                self._execution(event.account, ledger.cancelled(event))
            elif isinstance(event, PositionChanged):
                self._position(event)
            elif isinstance(event, BalanceChanged):
                self._balance(event)
            self._margin_after(event)
        except Exception:
            logger.exception("the UWS private channels failed on %r", event)

    def _execution(self, account: str, item: dict[str, Any] | None) -> None:
        members = self.executions.get(account)
        if not members or item is None:
            return
        for sink, options in tuple(members.items()):
            if not options.order_status and item["exec_type"] in _TRANSITIONS:
                continue
            options.sequence += 1
            sink.push(_sequenced("executions", "update", options.sequence, [item]))

    def _position(self, event: PositionChanged) -> None:
        members = self.positions.get(event.account)
        if not members:
            return
        row: dict[str, Any] = {"symbol": event.symbol, "size": event.size}
        if event.price is not None:
            row["entry_price"] = event.price
        text = _positions_push("update", [row])
        for sink in tuple(members):
            sink.push(text)

    def _balance(self, event: BalanceChanged) -> None:
        members = self.balances.get(event.account)
        if not members:
            return
        asset = event.currency.upper()
        kind = {"flex": "flex", "cash": "spot"}.get(event.wallet, "margin")
        wallet_id = "main" if event.wallet == "cash" else event.wallet
        for sink, state in tuple(members.items()):
            key = (event.wallet, asset)
            before = state.known.get(key, _ZERO)
            state.known[key] = event.balance
            state.sequence += 1
            row = {
                "ledger_id": "",
                "ref_id": "",
                "timestamp": rfc3339(event.at),
                "type": "trade",
                "subtype": "",
                "category": "trade",
                "asset": asset,
                "asset_class": "currency",
                "wallet_type": kind,
                "wallet_id": wallet_id,
                "amount": event.balance - before,
                "fee": _ZERO,
                "balance": event.balance,
            }
            sink.push(_sequenced("balances", "update", state.sequence, [row]))

    # subscriptions --------------------------------------------------------------------------

    def subscribe_executions(
        self, sink: PrivateSink, account: str, snap_orders: bool, snap_trades: bool, status: bool
    ) -> None:
        options = ExecutionOptions(status)
        self.executions.setdefault(account, {})[sink] = options
        if not (snap_orders or snap_trades):
            return
        data: list[dict[str, Any]] = []
        now = self.clock.time()
        if snap_orders:
            rows = self.exchange.handle("open_orders", {}, account)["openOrders"]
            for row in reversed(rows):  # oldest first
                data.append(self.ledger.snapshot_order(row, account, now))
        if snap_trades:
            fills = self.exchange.handle("fills", {}, account)["fills"][:SNAP_TRADES]
            for fill in reversed(fills):
                data.append(snapshot_fill(fill))
        options.sequence += 1
        sink.push(_sequenced("executions", "snapshot", options.sequence, data))

    def subscribe_positions(self, sink: PrivateSink, account: str, snapshot: bool) -> None:
        self.positions.setdefault(account, {})[sink] = None
        if not snapshot:
            return
        rows = self.exchange.handle("open_positions", {}, account)["openPositions"]
        futures = []
        for row in rows:
            size = Decimal(row["size"])
            futures.append(
                {
                    "symbol": row["symbol"],
                    "size": size if row["side"] == "long" else -size,
                    "entry_price": Decimal(row["price"]),
                }
            )
        sink.push(_positions_push("snapshot", futures))

    def subscribe_balances(self, sink: PrivateSink, account: str, snapshot: bool) -> None:
        state = _Balances()
        self.balances.setdefault(account, {})[sink] = state
        accounts = self.exchange.handle("accounts", {}, account)["accounts"]
        wallets: dict[str, list[dict[str, Any]]] = {}
        for currency, amount in accounts["cash"]["balances"].items():  # the holding wallet
            asset = str(currency).upper()
            state.known[("cash", asset)] = Decimal(amount)
            row = {"type": "spot", "id": "main", "balance": Decimal(amount)}
            wallets.setdefault(asset, []).append(row)
        for currency, figures in accounts["flex"]["currencies"].items():
            asset = str(currency).upper()
            balance = Decimal(figures["quantity"])
            state.known[("flex", asset)] = balance
            wallets.setdefault(asset, []).append({"type": "flex", "id": "flex", "balance": balance})
        for name, body in accounts.items():
            if not isinstance(body, dict) or body.get("type") != "marginAccount":
                continue
            coin = str(body["currency"])
            balance = Decimal(body["balances"][coin])
            asset = coin.upper()
            state.known[(name, asset)] = balance
            wallets.setdefault(asset, []).append({"type": "margin", "id": name, "balance": balance})
        if not snapshot:
            return
        data = [
            {
                "asset": asset,
                "asset_class": "currency",
                "balance": sum((w["balance"] for w in rows), _ZERO),
                "wallets": rows,
            }
            for asset, rows in sorted(wallets.items())
        ]
        state.sequence += 1
        sink.push(_sequenced("balances", "snapshot", state.sequence, data))

    def subscribe_margin(self, sink: PrivateSink, account: str) -> None:
        """The ``margin`` channel: both sections now, again after each change (margin_channel)."""
        self.margins.setdefault(account, {})[sink] = None
        accounts = self.exchange.handle("accounts", {}, account)["accounts"]
        for text in margin_pushes(accounts):
            sink.push(text)

    def _margin_after(self, event: Event) -> None:
        """Re-send ``margin`` once the engine call that changed the account has returned."""
        account = getattr(event, "account", None)
        if account not in self.margins or account in self._margin_due or self._loop is None:
            return
        self._margin_due.add(account)
        self._loop.call_soon(self._push_margin, account)

    def flush_margin(self) -> None:
        """Send the ``margin`` sections that are due now (a trading request's, before its ack,
        as the executions it caused), not on the next turn of the loop."""
        for account in tuple(self._margin_due):
            self._push_margin(account)

    def _push_margin(self, account: str) -> None:
        if account not in self._margin_due:
            return  # flushed already
        self._margin_due.discard(account)
        members = self.margins.get(account)
        if not members:
            return
        try:
            texts = margin_pushes(self.exchange.handle("accounts", {}, account)["accounts"])
        except Exception:
            logger.exception("the UWS margin channel failed")
            return
        for sink in tuple(members):
            for text in texts:
                sink.push(text)

    def unsubscribe(self, sink: PrivateSink, channel: str, account: str) -> bool:
        table: dict[str, Any]
        if channel == "margin":
            table = self.margins
        elif channel == "executions":
            table = self.executions
        elif channel == "positions":
            table = self.positions
        else:
            table = self.balances
        members = table.get(account)
        if not members or sink not in members:
            return False
        del members[sink]
        if not members:
            del table[account]
        return True


def _sequenced(channel: str, kind: str, sequence: int, data: Any) -> str:
    return encode({"channel": channel, "type": kind, "sequence": sequence, "data": data})


def _positions_push(kind: str, futures: list[dict[str, Any]]) -> str:
    return encode(
        {"channel": "positions", "type": kind, "data": {"futures": futures, "options": []}}
    )
