"""The private channels of ``/v2/private``: ``executions``, ``positions`` and ``balances``.

One :class:`PrivateHub` serves every private connection of a twin. It listens to the engine's
events (:mod:`..engine.events`) while a private connection is open and turns those of the
subscribed accounts into pushes at once (events arrive synchronously, in the order the
exchange changed, so an ack is queued after the pushes its request caused... unless the
request's answer is queued first: trading methods push their ack after the engine call
returns, hence the ``new`` execution comes before the ``add_order`` ack, as on Kraken where
the two travel apart). Snapshots are read from the engine the way a REST caller reads it
(``open_orders``, ``fills``, ``open_positions``, ``accounts``).

Events carry the engine's order kinds (``lmt``, ``post``, ``stp``...); what a UWS request
asked for (``order_type``, ``time_in_force``, ``post_only``, trigger reference) is remembered
per order id while the order is open (:meth:`PrivateHub.expect` before the engine call), so an
order placed over UWS reads back in UWS terms, and one placed over REST in the closest ones.

A tick (every ``tick_interval``) reads each subscribed account's open orders: the engine's
clock is lazy, and reading it is what fires the dead man's switch and triggers in time.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any, Protocol

from ..clock import Clock
from ..engine._text import parse_iso
from ..engine.accounts import MAKER_FEE, TAKER_FEE
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
from .wire import encode, rfc3339

__all__ = ["ExecutionOptions", "OrderTerms", "PrivateHub", "PrivateSink"]

logger = logging.getLogger("kraken_futures_async.simulator.uws")

_ZERO = Decimal(0)
#: Fills in an ``executions`` snapshot with ``snap_trades`` (Kraken: the last 50).
SNAP_TRADES = 50
#: Execution ids whose public trade id is remembered (for ``trade_id`` on fills).
_TRADE_IDS = 256
#: Engine order kinds -> UWS ``order_type`` (and the limit flavour of trigger kinds).
_KINDS = {
    "lmt": "limit",
    "post": "limit",
    "ioc": "limit",
    "fok": "limit",
    "mkt": "market",
    "stp": "stop-loss",
    "take_profit": "take-profit",
    "trailing_stop": "trailing-stop",
}
_TIF = {"ioc": "ioc", "fok": "fok"}
#: ``exec_type`` values ``order_status: false`` leaves out (reference §5.1).
_TRANSITIONS = frozenset({"amended", "restated", "status"})


class PrivateSink(Protocol):
    def push(self, text: str) -> None: ...


class OrderTerms:
    """What a UWS request asked for, kept per open order id."""

    __slots__ = (
        "order_type",
        "post_only",
        "reduce_only",
        "time_in_force",
        "trigger_price_type",
        "trigger_ref",
    )

    def __init__(
        self,
        order_type: str,
        time_in_force: str = "gtc",
        post_only: bool = False,
        trigger_ref: str | None = None,
        trigger_price_type: str | None = None,
        reduce_only: bool = False,
    ) -> None:
        self.order_type = order_type
        self.reduce_only = reduce_only
        self.time_in_force = time_in_force
        self.post_only = post_only
        self.trigger_ref = trigger_ref
        self.trigger_price_type = trigger_price_type


class _Order:
    """An open order as ``executions`` tells it (terms, and fills so far)."""

    __slots__ = (
        "account",
        "cl_ord_id",
        "cost",
        "filled",
        "limit_price",
        "order_id",
        "qty",
        "reduce_only",
        "side",
        "stop_price",
        "symbol",
        "terms",
    )

    def __init__(self, event: OrderPlaced, terms: OrderTerms) -> None:
        self.account = event.account
        self.order_id = event.order_id
        self.cl_ord_id = event.cli_ord_id
        self.symbol = event.symbol
        self.side = event.side
        self.qty = event.quantity
        self.filled = event.filled
        self.cost = _ZERO
        self.limit_price = event.limit_price
        self.stop_price = event.stop_price
        self.reduce_only = terms.reduce_only
        self.terms = terms


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


def terms_of(kind: str, limit_price: Decimal | None) -> OrderTerms:
    """The closest UWS terms of an order the socket did not place (REST, say)."""
    order_type = _KINDS.get(kind, "limit")
    if kind in ("stp", "take_profit") and limit_price is not None:
        order_type += "-limit"
    return OrderTerms(order_type, _TIF.get(kind, "gtc"), kind == "post")


class PrivateHub:
    """Every private subscription of one twin, fed by the engine (module docstring)."""

    def __init__(self, exchange: Engine, clock: Clock, config: Callable[[], UwsConfig]) -> None:
        self.exchange = exchange
        self.clock = clock
        self._config = config
        self.orders: dict[str, _Order] = {}
        self.executions: dict[str, dict[PrivateSink, ExecutionOptions]] = {}
        self.positions: dict[str, dict[PrivateSink, None]] = {}
        self.balances: dict[str, dict[PrivateSink, _Balances]] = {}
        self.margins: dict[str, dict[PrivateSink, None]] = {}
        self._margin_due: set[str] = set()
        self._trade_ids: collections.OrderedDict[str, int] = collections.OrderedDict()
        self._expected: OrderTerms | None = None
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
        self.orders.clear()

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

    @contextlib.contextmanager
    def expect(self, terms: OrderTerms) -> Iterator[None]:
        """The next order placed (inside this block) was asked for with ``terms``."""
        self._expected = terms
        try:
            yield
        finally:
            self._expected = None

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
            if isinstance(event, Trade):
                self._trade_ids[event.execution_id] = event.trade_id
                while len(self._trade_ids) > _TRADE_IDS:
                    self._trade_ids.popitem(last=False)
            elif isinstance(event, OrderPlaced):
                self._placed(event)
            elif isinstance(event, OrderChanged):
                self._changed(event)
            elif isinstance(event, OrderFilled):
                self._filled(event)
            elif isinstance(event, OrderCancelled):
                self._cancelled(event)
            elif isinstance(event, PositionChanged):
                self._position(event)
            elif isinstance(event, BalanceChanged):
                self._balance(event)
            self._margin_after(event)
        except Exception:
            logger.exception("the UWS private channels failed on %r", event)

    def _placed(self, event: OrderPlaced) -> None:
        known = self.orders.get(event.order_id)
        if known is not None:  # a trigger that fired is the same order
            return
        terms = self._expected or terms_of(event.kind, event.limit_price)
        self._expected = None
        order = self.orders[event.order_id] = _Order(event, terms)
        item = self._order_item(order, event.at)
        item.update(exec_type="new", order_status="new")
        self._execution(event.account, item)

    def _changed(self, event: OrderChanged) -> None:
        order = self.orders.get(event.order_id)
        if order is None:
            return
        order.qty = event.quantity
        order.limit_price = event.limit_price
        order.stop_price = event.stop_price
        item = self._order_item(order, event.at)
        if event.reason == "edited_by_user":
            item.update(exec_type="amended", amended=True)
        else:
            item.update(exec_type="restated", reason=event.reason)
        item["order_status"] = "partially_filled" if order.filled > 0 else "new"
        self._execution(event.account, item)

    def _filled(self, event: OrderFilled) -> None:
        order = self.orders.get(event.order_id)
        cost = event.price * event.size
        rate = MAKER_FEE if event.fill_type == "maker" else TAKER_FEE
        fee = cost * rate
        if order is not None:
            order.filled += event.size
            order.cost += cost
            cum, total = order.filled, order.cost
        else:
            cum, total = event.size, cost
        done = event.remaining <= 0
        item: dict[str, Any] = {"order_id": event.order_id}
        if order is not None and order.cl_ord_id is not None:
            item["cl_ord_id"] = order.cl_ord_id
        item.update(
            symbol=event.symbol,
            side=event.side,
            exec_type="trade",
            exec_id=event.execution_id,
        )
        trade_id = self._trade_ids.get(event.execution_id)
        if trade_id is not None:
            item["trade_id"] = trade_id
        item.update(
            last_qty=event.size,
            last_price=event.price,
            cum_qty=cum,
            cum_cost=total,
            avg_price=_avg(total, cum),
            cost=cost,
            liquidity_ind="m" if event.fill_type == "maker" else "t",
            fees=[{"asset": "USD", "qty": _fee(fee)}],
            order_status="filled" if done else "partially_filled",
            timestamp=rfc3339(event.at),
        )
        self._execution(event.account, item)
        if done:
            closing: dict[str, Any] = {"order_id": event.order_id}
            if order is not None and order.cl_ord_id is not None:
                closing["cl_ord_id"] = order.cl_ord_id
            closing.update(
                symbol=event.symbol,
                side=event.side,
                exec_type="filled",
                order_status="filled",
                cum_qty=cum,
                cum_cost=total,
                avg_price=_avg(total, cum),
                timestamp=rfc3339(event.at),
            )
            self._execution(event.account, closing)
            self.orders.pop(event.order_id, None)

    def _cancelled(self, event: OrderCancelled) -> None:
        order = self.orders.pop(event.order_id, None)
        if order is None:  # never announced (a post-only refused before it rested)
            return
        item = self._order_item(order, event.at)
        kind = "expired" if event.status == "EXPIRED" else "canceled"
        item.update(exec_type=kind, order_status=kind)
        if event.reason is not None:
            item["cancel_reason"] = event.reason
        self._execution(event.account, item)

    def _execution(self, account: str, item: dict[str, Any]) -> None:
        members = self.executions.get(account)
        if not members:
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

    # rows -----------------------------------------------------------------------------------

    def _order_item(self, order: _Order, at: float) -> dict[str, Any]:
        terms = order.terms
        item: dict[str, Any] = {"order_id": order.order_id}
        if order.cl_ord_id is not None:
            item["cl_ord_id"] = order.cl_ord_id
        item.update(
            symbol=order.symbol,
            side=order.side,
            order_type=terms.order_type,
            order_qty=order.qty,
        )
        if order.limit_price is not None and terms.order_type != "market":
            item["limit_price"] = order.limit_price
        if order.stop_price is not None:
            item["triggers"] = {
                "reference": terms.trigger_ref or "last",
                "price": order.stop_price,
                "price_type": terms.trigger_price_type or "static",
            }
        item.update(
            time_in_force=terms.time_in_force,
            post_only=terms.post_only,
            reduce_only=order.reduce_only,
            cum_qty=order.filled,
            timestamp=rfc3339(at),
        )
        return item

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
                data.append(self._snapshot_order(row, account, now))
        if snap_trades:
            fills = self.exchange.handle("fills", {}, account)["fills"][:SNAP_TRADES]
            for fill in reversed(fills):
                data.append(_snapshot_fill(fill))
        options.sequence += 1
        sink.push(_sequenced("executions", "snapshot", options.sequence, data))

    def _snapshot_order(self, row: dict[str, Any], account: str, now: float) -> dict[str, Any]:
        order_id = str(row["order_id"])
        order = self.orders.get(order_id)
        if order is None:  # placed before the hub listened: the REST view's terms
            kind = {"stop": "stp", "take_profit": "take_profit"}.get(row["orderType"], "lmt")
            placed = OrderPlaced(
                now,
                account,
                order_id,
                row.get("cliOrdId"),
                row["symbol"],
                row["side"],
                kind,
                Decimal(row["filledSize"]) + Decimal(row["unfilledSize"]),
                Decimal(row["filledSize"]),
                row.get("limitPrice"),
                row.get("stopPrice"),
                kind != "lmt",
            )
            order = self.orders[order_id] = _Order(placed, terms_of(kind, row.get("limitPrice")))
        order.reduce_only = bool(row.get("reduceOnly", False))
        item = self._order_item(order, parse_iso(str(row["receivedTime"])))
        item.update(
            exec_type="new",
            order_status="partially_filled" if order.filled > 0 else "new",
        )
        return item

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


def _snapshot_fill(fill: dict[str, Any]) -> dict[str, Any]:
    size, price = Decimal(fill["size"]), Decimal(fill["price"])
    maker = fill.get("fillType") == "maker"
    fee = price * size * (MAKER_FEE if maker else TAKER_FEE)
    item: dict[str, Any] = {"order_id": fill["order_id"]}
    if fill.get("cliOrdId") is not None:
        item["cl_ord_id"] = fill["cliOrdId"]
    item.update(
        symbol=fill["symbol"],
        side=fill["side"],
        exec_type="trade",
        exec_id=fill["fill_id"],
        last_qty=size,
        last_price=price,
        cost=price * size,
        liquidity_ind="m" if maker else "t",
        fees=[{"asset": "USD", "qty": _fee(fee)}],
        timestamp=rfc3339(parse_iso(str(fill["fillTime"]))),
    )
    return item


def _avg(cost: Decimal, qty: Decimal) -> Decimal:
    return _ZERO if qty == 0 else (cost / qty).quantize(Decimal("1e-8")).normalize()


def _fee(value: Decimal) -> Decimal:
    return value.quantize(Decimal("1e-8")).normalize()


def _sequenced(channel: str, kind: str, sequence: int, data: Any) -> str:
    return encode({"channel": channel, "type": kind, "sequence": sequence, "data": data})


def _positions_push(kind: str, futures: list[dict[str, Any]]) -> str:
    return encode(
        {"channel": "positions", "type": kind, "data": {"futures": futures, "options": []}}
    )
