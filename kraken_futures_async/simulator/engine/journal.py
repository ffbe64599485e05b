"""What happened, written down as it happens: the history API's and the account log's source.

The venue tells the journal about every order event (placed, updated by a fill or an edit,
cancelled, rejected), every trigger event (placed, updated, activated, cancelled), every
execution and every booking on a wallet or a position. Each is rendered at once in the history
API's shape (``HistoricalOrder``, ``HistoricalTrigger``, ...) and kept per account, in the order
it happened (``seq``); public market listings keep the executions and order events of each
contract too. Event and booking ids come from the journal's own seeded generator, so keeping a
journal changes no order or fill id.

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
from .accounts import INVERSE_ACCOUNTS, Account, Pricing, Trade, accrue_funding, book_trade
from .history_shapes import (
    MAKERS,
    historical_order,
    historical_trigger,
    ms,
    reason_of,
    text,
)
from .instruments import InstrumentSpec
from .orders import Order
from .retention import Retention, SharedCap

__all__ = ["AccountJournal", "Journal", "Record", "TradeBooking"]


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


@dataclass(frozen=True, slots=True)
class TradeBooking:
    """What one side of an execution cost and left: for the execution's order data."""

    fee: Decimal
    position: Decimal
    rate: Decimal


@dataclass(slots=True)
class _Side:
    order: Order
    before: dict[str, Any]
    booking: TradeBooking | None = None


class Journal:
    def __init__(self, seed: int, retention: Retention | None = None) -> None:
        self._ids = random.Random(f"journal/{seed}")
        self._seq = 0
        self._retention = retention = retention or Retention()
        self.accounts: dict[str, AccountJournal] = {}
        #: Public order events and executions per contract, each kind capped over all contracts.
        self.market_orders: dict[str, deque[Record]] = {}
        self.market_executions: dict[str, deque[Record]] = {}
        self._market_orders_cap: SharedCap[Record] = SharedCap(retention.market_events)
        self._market_executions_cap: SharedCap[Record] = SharedCap(retention.market_executions)

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

    # order and trigger events (called by the venue) ---------------------------------------

    def placed(self, order: Order, at: float) -> None:
        """Write the order's placement once per shape (a fired trigger is placed again)."""
        if order.is_trigger:
            if order.journaled is None:
                order.journaled = "trigger"
                body = {"order": historical_trigger(order), "reason": "new_placed_order_by_user"}
                self._trigger_event(order, at, "OrderTriggerPlaced", body)
            return
        if order.journaled == "order":
            return
        reason = "stop_order_triggered" if order.journaled else "new_placed_order_by_user"
        order.journaled = "order"
        body = {"order": historical_order(order), "reason": reason, "reducedQuantity": ""}
        self._order_event(order, at, "OrderPlaced", body)

    def activated(self, order: Order, at: float) -> None:
        """A trigger fired (call before it turns into a regular order)."""
        self._trigger_event(
            order, at, "OrderTriggerActivated", {"order": historical_trigger(order)}
        )

    def updated(
        self,
        before: dict[str, Any],
        order: Order,
        at: float,
        reason: str,
        reduced: Decimal | None = None,
    ) -> None:
        body: dict[str, Any]
        if order.is_trigger:
            body = {"oldOrderTrigger": before, "newOrderTrigger": historical_trigger(order)}
            body["reason"] = reason
            self._trigger_event(order, at, "OrderTriggerUpdated", body)
            return
        body = {"oldOrder": before, "newOrder": historical_order(order), "reason": reason}
        body["reducedQuantity"] = text(reduced) if reduced else ""
        self._order_event(order, at, "OrderUpdated", body)

    def closed(self, order: Order, at: float) -> None:
        """A cancel, a rejection or a failed trigger (fully executed orders need nothing)."""
        reason = reason_of(order.update_reason)
        failed = order.status == "TRIGGER_ACTIVATION_FAILURE"
        if failed or (order.is_trigger and order.status == "CANCELLED"):
            body = {"order": historical_trigger(order), "reason": reason or order.error or ""}
            self._trigger_event(order, at, "OrderTriggerCancelled", body)
        elif order.status == "CANCELLED":
            self.placed(order, at)
            body = {"order": historical_order(order), "reason": reason}
            self._order_event(order, at, "OrderCancelled", body)
        elif order.status == "REJECTED" and not order.is_trigger:
            body = {"order": historical_order(order), "orderError": order.error or ""}
            body["reason"] = reason
            self._order_event(order, at, "OrderRejected", body)

    # executions and bookings --------------------------------------------------------------

    def book_trade(
        self, account: Account, trade: Trade, prices: Pricing, execution: str
    ) -> TradeBooking:
        """Book one side of an execution; write its position update and account-log rows."""
        spec = trade.spec
        wallet, key, wallet_name, currency = _settlement(account, spec)
        position = account.positions.get(spec.symbol)
        old_size = ZERO if position is None else position.size
        old_price = None if position is None else position.price
        funding = ZERO
        if position is not None:
            accrue_funding(spec, position, trade.time, prices)
            funding = position.funding
        old_balance = wallet.get(key, ZERO)
        realised = book_trade(account, trade, prices)
        new_balance = wallet.get(key, ZERO)
        fee = funding + realised - (new_balance - old_balance)
        after = account.positions.get(spec.symbol)
        new_size = ZERO if after is None else after.size
        new_price = None if after is None else after.price
        mark = prices.mark_now(spec)
        if funding != 0:
            self._position(
                account,
                trade,
                old_size,
                old_price,
                old_size,
                old_price,
                {
                    "updateReason": "fundingRealisation",
                    "positionChange": "noChange",
                    "fundingRealizationTime": ms(trade.time),
                    "realizedFunding": text(funding),
                },
            )
        self._position(
            account,
            trade,
            old_size,
            old_price,
            new_size,
            new_price,
            {
                "fillTime": ms(trade.time),
                "fee": text(fee),
                "feeCurrency": currency.upper(),
                "realizedPnL": text(realised),
                "positionChange": _change(old_size, new_size),
                "executionUid": execution,
                "executionPrice": text(trade.price),
                "executionSize": text(trade.size),
                "tradeType": "userExecution",
                "realizedFunding": text(funding),
                "updateReason": "trade",
            },
        )
        common = {
            "contract": spec.symbol.lower(),
            "execution": execution,
            "trade_price": tidy(trade.price),
            "mark_price": tidy(mark),
            "info": "futures trade",
        }
        self.log(
            account.uid,
            trade.time,
            currency,
            wallet_name,
            old_balance,
            new_balance,
            {
                **common,
                "collateral": currency.upper(),
                "fee": tidy(fee),
                "realized_pnl": tidy(realised),
                "realized_funding": tidy(funding),
            },
        )
        self.log(
            account.uid,
            trade.time,
            spec.symbol.lower(),
            wallet_name,
            old_size,
            new_size,
            {
                **common,
                "old_average_entry_price": None if old_price is None else tidy(old_price),
                "new_average_entry_price": None if new_price is None else tidy(new_price),
            },
        )
        return TradeBooking(fee=fee, position=new_size, rate=trade.fee_rate)

    def _position(
        self,
        account: Account,
        trade: Trade,
        old_size: Decimal,
        old_price: Decimal | None,
        new_size: Decimal,
        new_price: Decimal | None,
        fields: dict[str, Any],
    ) -> None:
        update: dict[str, Any] = {
            "accountUid": account.uid,
            "tradeable": trade.spec.symbol,
            "oldPosition": text(old_size),
            "oldAverageEntryPrice": None if old_price is None else text(old_price),
            "newPosition": text(new_size),
            "newAverageEntryPrice": text(new_price if new_price is not None else ZERO),
            **fields,
        }
        record = self._record(trade.time, trade.spec.symbol, "PositionUpdate", None, **update)
        self.of(account.uid).positions.append(record)

    def execution(
        self,
        uid: str,
        at: float,
        spec: InstrumentSpec,
        price: Decimal,
        size: Decimal,
        mark: Decimal,
        taker: _Side | None,
        maker: _Side | None,
    ) -> None:
        """One execution, for the users on either side and for the public listing.

        A side no user took is the makers': an order of theirs is shown in its place.
        """
        user = taker if taker is not None else maker
        assert user is not None
        usd = size if spec.inverse else size * price
        maker_order = historical_order(maker.order) if maker is not None else None
        taker_order = historical_order(taker.order) if taker is not None else None
        stand_in = {
            "uid": str(uuid.uuid5(uuid.NAMESPACE_OID, uid)),
            "accountUid": MAKERS,
            "tradeable": spec.symbol,
            "direction": "Sell" if user.order.is_buy else "Buy",
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
            "uid": uid,
            "makerOrder": maker_order or stand_in,
            "takerOrder": taker_order or stand_in,
            "timestamp": ms(at),
            "quantity": text(size),
            "price": text(price),
            "markPrice": text(mark),
            "limitFilled": maker is None or maker.order.remaining <= 0,
            "usdValue": text(usd),
            "makerOrderData": _order_data(maker),
            "takerOrderData": _order_data(taker),
        }
        event = {"Execution": {"execution": details, "takerReducedQuantity": ""}}
        record = self._record(at, spec.symbol, "Execution", event)
        listing = self.market_executions.setdefault(spec.symbol, deque())
        self._market_executions_cap.append(listing, record)
        for side in (taker, maker):
            if side is not None:
                self.of(side.order.account).executions.append(record)

    @staticmethod
    def side(order: Order) -> _Side:
        """An order about to trade, with its record before the trade."""
        return _Side(order, historical_order(order))

    # the account log ----------------------------------------------------------------------

    def log(
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


def _settlement(account: Account, spec: InstrumentSpec) -> tuple[dict[str, Decimal], str, str, str]:
    """(wallet, its key, the wallet's name, the currency) a contract settles in."""
    if spec.inverse:
        name = spec.margin_account
        assert name is not None
        return account.margin, name, name, INVERSE_ACCOUNTS[name][0]
    return account.flex, "USD", "flex", "usd"


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


def _order_data(side: _Side | None) -> dict[str, Any] | None:
    if side is None or side.booking is None:
        return None
    return {
        "fee": text(side.booking.fee),
        "positionSize": text(side.booking.position),
        "feeCalculationInfo": [
            {
                "percentageFee": text(side.booking.rate * 100),
                "userFeeDiscountApplied": None,
                "marketShareRebateCredited": None,
            }
        ],
    }
