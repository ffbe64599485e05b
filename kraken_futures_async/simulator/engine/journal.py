"""What happened, written down as it happens: the history API's and the account log's source.

The journal is a subscriber of the engine's events (:mod:`.events`), like the WebSocket face:
it hears orders resting, changing, firing and closing, every execution with both sides'
settlements, and every transfer, and writes each at once in the history API's shape
(``HistoricalOrder``, ``HistoricalTrigger``, position updates, account-log rows), kept per
account in the order it happened (``seq``); public market listings keep the executions and
order events of each contract too. Event and booking ids come from the journal's own seeded
generator, so keeping a journal changes no order or fill id.

Kraken's history writes an order down once per shape: ``OrderPlaced`` when it first rests or
trades (a taker's placement comes right before its first execution; an order rejected before
either has only ``OrderRejected``), and again when a fired trigger becomes an order. What has
been written for each open order is the journal's own memory, forgotten when the order ends.

The shapes themselves are in :mod:`.history_shapes`.
"""

from __future__ import annotations

import random
import uuid
from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ._text import ZERO, iso_ms, tidy
from .events import (
    Event,
    Executed,
    ExecutionSide,
    OrderCancelled,
    OrderChanged,
    OrderRested,
    Transfer,
    TriggerFired,
)
from .history_shapes import (
    MAKERS,
    historical_order,
    historical_trigger,
    ms,
    reason_of,
    text,
)
from .orders import Order
from .retention import Retention, SharedCap

__all__ = ["AccountJournal", "Journal", "Record"]


@dataclass(frozen=True, slots=True)
class Record:
    """One history element: its place in time, its contract and its rendered element."""

    seq: int
    at: float
    symbol: str
    kind: str
    element: dict[str, Any]

    @property
    def key(self) -> tuple[int, int]:
        """Where it sorts: milliseconds first, then the order it was written in."""
        return (ms(self.at), self.seq)


@dataclass(slots=True)
class AccountJournal:
    """One account's history, each list capped (:class:`~.retention.Retention`)."""

    orders: deque[Record]
    triggers: deque[Record]
    executions: deque[Record]
    positions: deque[Record]
    #: Account-log rows with their times (ids from 1, ascending).
    log: deque[tuple[float, dict[str, Any]]]
    next_log_id: int = 1

    @classmethod
    def empty(cls, retention: Retention) -> AccountJournal:
        kept = retention.history
        return cls(
            orders=deque(maxlen=kept),
            triggers=deque(maxlen=kept),
            executions=deque(maxlen=kept),
            positions=deque(maxlen=kept),
            log=deque(maxlen=retention.account_log),
        )


class Journal:
    #: The event kinds the journal writes down (:meth:`hear` ignores any other).
    KINDS = (OrderRested, TriggerFired, OrderChanged, OrderCancelled, Executed, Transfer)

    def __init__(self, seed: int, retention: Retention | None = None) -> None:
        self._ids = random.Random(f"journal/{seed}")
        self._seq = 0
        #: What each open order has been written down as: "trigger" or "order".
        self._written: dict[str, str] = {}
        self._retention = retention = retention or Retention()
        self.accounts: dict[str, AccountJournal] = {}
        #: Public order events and executions per contract, each kind capped over all contracts.
        self.market_orders: dict[str, deque[Record]] = {}
        self.market_executions: dict[str, deque[Record]] = {}
        self._market_orders_cap: SharedCap[Record] = SharedCap(retention.market_events)
        self._market_executions_cap: SharedCap[Record] = SharedCap(retention.market_executions)

    @property
    def orders_remembered(self) -> int:
        """How many orders the journal remembers writing (open ones only, so it stays small)."""
        return len(self._written)

    def new_uid(self) -> str:
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    def of(self, account_uid: str) -> AccountJournal:
        found = self.accounts.get(account_uid)
        if found is None:
            found = self.accounts[account_uid] = AccountJournal.empty(self._retention)
        return found

    def _record(
        self, at: float, symbol: str, kind: str, event: dict[str, Any] | None, **extra: Any
    ) -> Record:
        self._seq += 1
        element: dict[str, Any] = {"uid": self.new_uid(), "timestamp": ms(at)}
        if event is not None:
            element["event"] = event
        element.update(extra)
        return Record(self._seq, at, symbol, kind, element)

    def _order_event(self, order: Order, at: float, name: str, body: dict[str, Any]) -> None:
        record = self._record(at, order.symbol, name, {name: body})
        self.of(order.account).orders.append(record)
        if name in ("OrderPlaced", "OrderUpdated", "OrderCancelled"):
            listing = self.market_orders.setdefault(order.symbol, deque())
            self._market_orders_cap.append(listing, record)

    def _trigger_event(self, order: Order, at: float, name: str, body: dict[str, Any]) -> None:
        record = self._record(at, order.symbol, name, {name: body})
        self.of(order.account).triggers.append(record)

    # hearing the engine --------------------------------------------------------------------

    def hear(self, event: Event) -> None:
        """Write down one engine event (subscribed for :attr:`KINDS`)."""
        if isinstance(event, Executed):
            self._executed(event)
        elif isinstance(event, OrderRested):
            self._placed(event.order, event.at)
        elif isinstance(event, OrderChanged):
            if event.reason == "edited_by_user":
                self._updated(event.before, event.order, event.at, event.reason, event.reduced)
        elif isinstance(event, OrderCancelled):
            self._closed(event.order, event.at)
        elif isinstance(event, TriggerFired):
            body = {"order": historical_trigger(event.order)}
            self._trigger_event(event.order, event.at, "OrderTriggerActivated", body)
        elif isinstance(event, Transfer):
            moved = (event.asset, event.wallet, event.old, event.new)
            self._log(event.account, event.at, *moved, {"info": event.info})

    # order and trigger events ---------------------------------------------------------------

    def _placed(self, order: Order, at: float) -> None:
        """Write the order's placement once per shape (a fired trigger is placed again)."""
        written = self._written.get(order.order_id)
        if order.is_trigger:
            if written is None:
                self._written[order.order_id] = "trigger"
                body = {"order": historical_trigger(order), "reason": "new_placed_order_by_user"}
                self._trigger_event(order, at, "OrderTriggerPlaced", body)
            return
        if written == "order":
            return
        reason = "stop_order_triggered" if written else "new_placed_order_by_user"
        self._written[order.order_id] = "order"
        body = {"order": historical_order(order), "reason": reason, "reducedQuantity": ""}
        self._order_event(order, at, "OrderPlaced", body)

    def _updated(
        self, before: Order, order: Order, at: float, reason: str, reduced: Decimal | None = None
    ) -> None:
        body: dict[str, Any]
        if order.is_trigger:
            body = {"oldOrderTrigger": historical_trigger(before)}
            body.update(newOrderTrigger=historical_trigger(order), reason=reason)
            self._trigger_event(order, at, "OrderTriggerUpdated", body)
            return
        body = {"oldOrder": historical_order(before), "newOrder": historical_order(order)}
        body.update(reason=reason, reducedQuantity=text(reduced) if reduced else "")
        self._order_event(order, at, "OrderUpdated", body)

    def _closed(self, order: Order, at: float) -> None:
        """A cancel, a rejection or a failed trigger (a full fill ends in :meth:`_executed`)."""
        reason = reason_of(order.update_reason)
        failed = order.status == "TRIGGER_ACTIVATION_FAILURE"
        if failed or (order.is_trigger and order.status == "CANCELLED"):
            body = {"order": historical_trigger(order), "reason": reason or order.error or ""}
            self._trigger_event(order, at, "OrderTriggerCancelled", body)
        elif order.status == "CANCELLED":
            self._placed(order, at)
            body = {"order": historical_order(order), "reason": reason}
            self._order_event(order, at, "OrderCancelled", body)
        elif order.status == "REJECTED" and not order.is_trigger:
            body = {"order": historical_order(order), "orderError": order.error or ""}
            body["reason"] = reason
            self._order_event(order, at, "OrderRejected", body)
        self._written.pop(order.order_id, None)

    # executions and settlements ------------------------------------------------------------

    def _executed(self, event: Executed) -> None:
        """A taker's placement if it is new, both sides' settlements, the execution, and each
        order's update, in that order (Kraken's history shows them so)."""
        sides = [side for side in (event.taker, event.maker) if side is not None]
        if event.taker is not None:
            self._placed(event.taker.before, event.at)
        for side in sides:
            self._settled(side, event)
            self._settled_log(side, event)
        self._execution(event)
        for side in sides:
            after = side.after
            reason = "full_fill" if after.remaining <= 0 else "partial_fill"
            self._updated(side.before, after, event.at, reason)
            if after.remaining <= 0:
                self._written.pop(after.order_id, None)

    def _settled(self, side: ExecutionSide, event: Executed) -> None:
        """The position updates one side's settlement wrote (funding first, if any)."""
        settled, account = side.settlement, side.after.account
        if settled.funding != 0:
            self._position(
                account,
                event,
                settled.old_size,
                settled.old_price,
                settled.old_size,
                settled.old_price,
                {
                    "updateReason": "fundingRealisation",
                    "positionChange": "noChange",
                    "fundingRealizationTime": ms(event.at),
                    "realizedFunding": text(settled.funding),
                },
            )
        self._position(
            account,
            event,
            settled.old_size,
            settled.old_price,
            settled.new_size,
            settled.new_price,
            {
                "fillTime": ms(event.at),
                "fee": text(settled.fee),
                "feeCurrency": settled.currency.upper(),
                "realizedPnL": text(settled.realised),
                "positionChange": _change(settled.old_size, settled.new_size),
                "executionUid": event.execution_id,
                "executionPrice": text(event.price),
                "executionSize": text(event.size),
                "tradeType": "userExecution",
                "realizedFunding": text(settled.funding),
                "updateReason": "trade",
            },
        )

    def _settled_log(self, side: ExecutionSide, event: Executed) -> None:
        """The two account-log rows of one side: its wallet and its position."""
        settled, account = side.settlement, side.after.account
        common = {
            "contract": event.symbol.lower(),
            "execution": event.execution_id,
            "trade_price": tidy(event.price),
            "mark_price": tidy(event.mark),
            "info": "futures trade",
        }
        wallet_fields = {
            **common,
            "collateral": settled.currency.upper(),
            "fee": tidy(settled.fee),
            "realized_pnl": tidy(settled.realised),
            "realized_funding": tidy(settled.funding),
        }
        self._log(
            account,
            event.at,
            settled.currency,
            settled.wallet,
            settled.old_balance,
            settled.new_balance,
            wallet_fields,
        )
        old_price, new_price = settled.old_price, settled.new_price
        position_fields = {
            **common,
            "old_average_entry_price": None if old_price is None else tidy(old_price),
            "new_average_entry_price": None if new_price is None else tidy(new_price),
        }
        self._log(
            account,
            event.at,
            event.symbol.lower(),
            settled.wallet,
            settled.old_size,
            settled.new_size,
            position_fields,
        )

    def _position(
        self,
        account_uid: str,
        event: Executed,
        old_size: Decimal,
        old_price: Decimal | None,
        new_size: Decimal,
        new_price: Decimal | None,
        fields: dict[str, Any],
    ) -> None:
        update: dict[str, Any] = {
            "accountUid": account_uid,
            "tradeable": event.symbol,
            "oldPosition": text(old_size),
            "oldAverageEntryPrice": None if old_price is None else text(old_price),
            "newPosition": text(new_size),
            "newAverageEntryPrice": text(new_price if new_price is not None else ZERO),
            **fields,
        }
        record = self._record(event.at, event.symbol, "PositionUpdate", None, **update)
        self.of(account_uid).positions.append(record)

    def _execution(self, event: Executed) -> None:
        """One execution, for the users on either side and for the public listing.

        A side no user took is the makers': an order of theirs is shown in its place.
        """
        taker, maker = event.taker, event.maker
        user = taker if taker is not None else maker
        assert user is not None
        size, price, at = event.size, event.price, event.at
        usd = size if event.inverse else size * price
        stand_in = {
            "uid": str(uuid.uuid5(uuid.NAMESPACE_OID, event.execution_id)),
            "accountUid": MAKERS,
            "tradeable": event.symbol,
            "direction": "Sell" if user.after.is_buy else "Buy",
            "quantity": text(size),
            "filled": text(size),
            "timestamp": ms(at),
            "limitPrice": text(price),
            "orderType": "Limit" if maker is None else "IoC",
            "clientId": "",
            "reduceOnly": False,
            "lastUpdateTimestamp": ms(at),
            "spotData": None,
        }
        details: dict[str, Any] = {
            "uid": event.execution_id,
            "makerOrder": stand_in if maker is None else historical_order(maker.after),
            "takerOrder": stand_in if taker is None else historical_order(taker.after),
            "timestamp": ms(at),
            "quantity": text(size),
            "price": text(price),
            "markPrice": text(event.mark),
            "limitFilled": maker is None or maker.after.remaining <= 0,
            "usdValue": text(usd),
            "makerOrderData": _order_data(maker),
            "takerOrderData": _order_data(taker),
        }
        body = {"Execution": {"execution": details, "takerReducedQuantity": ""}}
        record = self._record(at, event.symbol, "Execution", body)
        listing = self.market_executions.setdefault(event.symbol, deque())
        self._market_executions_cap.append(listing, record)
        for side in (taker, maker):
            if side is not None:
                self.of(side.after.account).executions.append(record)

    # the account log ----------------------------------------------------------------------

    def _log(
        self,
        account_uid: str,
        at: float,
        asset: str,
        wallet: str,
        old: Decimal,
        new: Decimal,
        fields: dict[str, Any],
    ) -> None:
        """Write one account-log row (numbers as JSON numbers, nulls where nothing applies)."""
        journal = self.of(account_uid)
        row: dict[str, Any] = {
            "id": journal.next_log_id,
            "date": iso_ms(at),
            "asset": asset.lower(),
            "info": "transfer",
            "booking_uid": self.new_uid(),
            "margin_account": wallet,
            "old_balance": tidy(old),
            "new_balance": tidy(new),
            "collateral": None,
            "contract": None,
            "execution": None,
            "fee": None,
            "funding_rate": None,
            "mark_price": None,
            "trade_price": None,
            "old_average_entry_price": None,
            "new_average_entry_price": None,
            "realized_pnl": None,
            "realized_funding": None,
            "conversion_spread_percentage": None,
            "liquidation_fee": None,
        }
        row.update(fields)
        journal.next_log_id += 1
        journal.log.append((at, row))


def _change(old: Decimal, new: Decimal) -> str:
    if old == 0:
        return "open" if new != 0 else "noChange"
    if new == 0:
        return "close"
    if (old > 0) != (new > 0):
        return "reverse"
    if abs(new) > abs(old):
        return "increase"
    return "decrease" if abs(new) < abs(old) else "noChange"


def _order_data(side: ExecutionSide | None) -> dict[str, Any] | None:
    if side is None:
        return None
    settled = side.settlement
    return {
        "fee": text(settled.fee),
        "positionSize": text(settled.new_size),
        "feeCalculationInfo": [
            {
                "percentageFee": text(settled.fee_rate * 100),
                "userFeeDiscountApplied": None,
                "marketShareRebateCredited": None,
            }
        ],
    }
