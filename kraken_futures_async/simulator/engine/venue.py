"""The exchange's core: time, matching, the life of orders, and accounts kept in step.

Time is lazy. Nothing runs between calls; at the start of each call :meth:`Venue.begin`
replays what the clock says has happened since the last one: dead man's switches that ran
out, and for every market with user orders or triggers each whole second since it was last
looked at (the makers requote, resting orders the market moved through are filled, triggers
whose signal crossed fire). Long gaps are replayed on at most ``MAX_REPLAY`` evenly spaced
seconds. What happened therefore depends only on the seed, the calls and the clock times of
the calls.
"""

from __future__ import annotations

import math
import random
import uuid
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..clock import Clock
from ._text import ONE, ZERO, is_multiple, quantize_down, quantize_up
from .accounts import (
    FLEX_CURRENCIES,
    INVERSE_ACCOUNTS,
    MAKER_FEE,
    TAKER_FEE,
    Account,
    Trade,
    fill_record,
    flex_figures,
    initial_margin_with_orders,
    inverse_figures,
    normalise_currency,
)
from .book import Market, PublicTrade
from .history_shapes import render
from .instruments import InstrumentSpec, build_listing
from .journal import Journal
from .orders import TRIGGER_KINDS, Order, order_json, trigger_json
from .prices import Prices
from .quotes import Quoter
from .retention import Retention, SharedCap

__all__ = ["MAX_REPLAY", "OrderRequest", "Outcome", "Venue"]

MAX_REPLAY = 2000
#: How far a market order may trade from the mark (Kraken's 1 % price protection).
_PROTECTION = Decimal("0.01")
_FIAT = {"USD": ONE, "USDT": ONE, "USDC": ONE, "EUR": Decimal("1.08"), "GBP": Decimal("1.27")}
_DEFAULT_FLEX = {"USD": Decimal(100_000)}
_MAX_TRIGGER_ROUNDS = 10


@dataclass(frozen=True, slots=True)
class OrderRequest:
    kind: str
    symbol: str
    side: str
    size: Decimal
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trigger_signal: str = "mark"
    cli_ord_id: str | None = None
    reduce_only: bool = False
    trail_deviation: Decimal | None = None
    trail_unit: str | None = None
    offset_value: Decimal | None = None
    offset_unit: str | None = None


@dataclass(frozen=True, slots=True)
class EditRequest:
    size: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_deviation: Decimal | None = None
    trail_unit: str | None = None
    absolute: bool = False


@dataclass(slots=True)
class Outcome:
    """An order request's status, the order it concerns and the events it produced."""

    status: str
    order: Order | None = None
    events: list[dict[str, Any]] = field(default_factory=list)


class Venue:
    def __init__(self, seed: int, clock: Clock, retention: Retention | None = None) -> None:
        self.retention = retention = retention or Retention()
        self.clock = clock
        self.now = clock.time()
        listing = build_listing(seed, self.now)
        self.specs: dict[str, InstrumentSpec] = listing.instruments
        self.symbols = {symbol.upper(): symbol for symbol in self.specs}
        self.prices = Prices(seed, listing.indices, listing.instruments)
        self._seed = seed
        self.markets: dict[str, Market] = {}
        self.busy: dict[str, Market] = {}
        self.accounts: dict[str, Account] = {}
        self._ids = random.Random(f"ids/{seed}")
        self._seq = 0
        self.journal = Journal(seed, retention)
        #: Users' trades on every market's tape, capped over all markets together.
        self._tape_cap: SharedCap[PublicTrade] = SharedCap(retention.tape)

    # identity and time -----------------------------------------------------------------

    def new_id(self) -> str:
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    @property
    def second(self) -> int:
        return math.floor(self.now)

    def spec_for(self, symbol: str) -> InstrumentSpec | None:
        canonical = self.symbols.get(symbol.strip().upper())
        return None if canonical is None else self.specs[canonical]

    def market(self, symbol: str) -> Market:
        market = self.markets.get(symbol)
        if market is None:
            spec = self.specs[symbol]
            market = Market(spec, Quoter(self._seed, spec))
            self.markets[symbol] = market
        return market

    def begin(self) -> None:
        """Catch up with the clock before serving a call."""
        self.now = max(self.now, self.clock.time())
        switches = sorted(
            (a.dead_man_at, a.uid)
            for a in self.accounts.values()
            if a.dead_man_at is not None and a.dead_man_at <= self.now
        )
        for at, uid in switches:
            for market in list(self.busy.values()):
                self._sync(market, math.floor(at))
            account = self.accounts[uid]
            account.dead_man_at = None
            self.cancel_all(account, None, at, reason="DEAD_MAN_SWITCH")
        for market in list(self.busy.values()):
            self._sync(market, self.second)

    def _mark_busy(self, market: Market) -> None:
        if market.spec.symbol not in self.busy:
            market.synced = self.second
            self.busy[market.spec.symbol] = market

    def _sync(self, market: Market, target: int) -> None:
        synced = market.synced if market.synced is not None else target
        if target > synced:
            count = target - synced
            if count <= MAX_REPLAY:
                seconds: list[int] = list(range(synced + 1, target + 1))
            else:
                seconds = [synced + (count * (i + 1)) // MAX_REPLAY for i in range(MAX_REPLAY)]
            for second in seconds:
                if not market.busy:
                    break
                self._step(market, second)
            market.synced = target
        elif market.triggers_dirty:
            self._check_triggers(market, synced, self.now)
        if not market.busy:
            self.busy.pop(market.spec.symbol, None)

    def _step(self, market: Market, second: int) -> None:
        _, _, mark = self.prices.quote(market.spec, second)
        at = float(second)
        best_bid, best_ask = market.bids.best(), market.asks.best()
        if best_bid is not None or best_ask is not None:
            # only a book the makers' new best quotes cross needs the whole ladder
            bid, _, ask, _ = market.quoter.top(second, mark)
            if (best_bid is not None and best_bid >= ask) or (
                best_ask is not None and best_ask <= bid
            ):
                self._fill_crossed(market, second, mark, at)
        self._check_triggers(market, second, at)

    def _fill_crossed(self, market: Market, second: int, mark: float, at: float) -> None:
        ladder = market.ladder_at(second, mark)
        for match in market.crossed(ladder):
            order = match.maker
            if order is None or order.closed_at is not None or not order.resting:
                continue
            size = min(match.size, order.remaining)
            if size > 0:
                self._fill(market, match.price, size, at, self.new_id(), None, order, "taker")

    # prices (the Pricing protocol of accounts.py) -----------------------------------------

    def mark_now(self, spec: InstrumentSpec) -> Decimal:
        return self.prices.mark(spec, self.second)

    def mark_at(self, spec: InstrumentSpec, second: int) -> Decimal:
        return self.prices.mark(spec, second)

    def funding_at(self, spec: InstrumentSpec, second: int) -> Decimal:
        return self.prices.relative_funding(spec, second)

    def currency_price(self, currency: str) -> Decimal:
        fiat = _FIAT.get(currency)
        if fiat is not None:
            return fiat
        spec = self.specs.get(f"PF_{currency}USD")
        return ZERO if spec is None else self.prices.index(spec, self.second)

    def last_price(self, market: Market, second: int) -> tuple[Decimal, Decimal, float] | None:
        """(price, size, time) of the latest trade at or before ``second``, users' or makers'."""
        spec = market.spec
        background = market.last_background(second, lambda s: self.prices.quote(spec, s)[2])
        user: PublicTrade | None = market.tape[-1] if market.tape else None
        if user is not None and (background is None or user.time >= background.time):
            return user.price, user.size, user.time
        if background is not None:
            return background.price, background.size, background.time
        return None

    # accounts ---------------------------------------------------------------------------

    def open_account(self, uid: str, balances: dict[str, Decimal] | None) -> Account:
        flex: dict[str, Decimal] = {}
        margin = {name: default for name, (_coin, default) in INVERSE_ACCOUNTS.items()}
        if balances is None:
            flex.update(_DEFAULT_FLEX)
        else:
            for name, amount in balances.items():
                if name.lower() in INVERSE_ACCOUNTS:
                    margin[name.lower()] = Decimal(amount)
                    continue
                currency = normalise_currency(name)
                if currency not in FLEX_CURRENCIES and f"PF_{currency}USD" not in self.specs:
                    raise ValueError(f"not a flex wallet currency: {name!r}")
                flex[currency] = Decimal(amount)
            flex.setdefault("USD", ZERO)
        kept = self.retention
        account = Account(
            uid=uid,
            flex=flex,
            margin=margin,
            fills=deque(maxlen=kept.fills),
            closed_kept=kept.closed_orders,
        )
        self.accounts[uid] = account
        return account

    def _margin_ok(self, account: Account, spec: InstrumentSpec, buy: bool, size: Decimal) -> bool:
        """Whether adding this order keeps initial margin with orders covered."""
        extra = (spec.symbol, buy, size)
        if spec.inverse:
            name = spec.margin_account
            before = initial_margin_with_orders(account, self.specs, self, True, name)
            after = initial_margin_with_orders(account, self.specs, self, True, name, extra)
            if after <= before:
                return True
            assert name is not None
            inverse = inverse_figures(account, name, self.specs, self, self.now)
            return inverse.portfolio_value - after >= 0
        before = initial_margin_with_orders(account, self.specs, self, False)
        after = initial_margin_with_orders(account, self.specs, self, False, extra=extra)
        if after <= before:
            return True
        figures = flex_figures(account, self.specs, self, self.now)
        return figures.margin_equity - after >= 0

    def _position_size(self, account: Account, symbol: str) -> Decimal:
        position = account.positions.get(symbol)
        return ZERO if position is None else position.size

    def _violates_max_position(
        self, account: Account, spec: InstrumentSpec, buy: bool, size: Decimal
    ) -> bool:
        position = self._position_size(account, spec.symbol)
        pending = sum(
            (
                o.remaining
                for o in account.open_orders.values()
                if o.symbol == spec.symbol and not o.is_trigger and o.is_buy == buy
            ),
            ZERO,
        )
        projected = position + pending + size if buy else position - pending - size
        return abs(projected) > spec.max_position and abs(projected) > abs(position)

    # fills ------------------------------------------------------------------------------

    def _fill(
        self,
        market: Market,
        price: Decimal,
        size: Decimal,
        at: float,
        execution_id: str,
        taker: Order | None,
        maker: Order | None,
        taker_type: str,
    ) -> None:
        """One execution: the tape, both users' orders, positions, wallets and fills."""
        spec = market.spec
        if taker is not None:
            taker_side = taker.side
        else:
            assert maker is not None
            taker_side = "sell" if maker.is_buy else "buy"
        trade_id = market.next_trade_id(math.floor(at))
        public = PublicTrade(at, trade_id, price, size, taker_side, execution_id)
        self._tape_cap.append(market.tape, public)
        market.version += 1
        journal = self.journal
        sides = {id(o): journal.side(o) for o in (taker, maker) if o is not None}
        for order, fill_type, rate in ((taker, taker_type, TAKER_FEE), (maker, "maker", MAKER_FEE)):
            if order is None:
                continue
            account = self.accounts[order.account]
            order.filled += size
            order.updated = at
            trade = Trade(spec, order.is_buy, size, price, rate, at)
            sides[id(order)].booking = journal.book_trade(account, trade, self, execution_id)
            record = fill_record(self.new_id(), order, size, price, at, fill_type)
            account.fills.append((at, record))
            if order is maker:
                if order.remaining <= 0:
                    self._close(account, order, "FULLY_EXECUTED", "FULL_FILL", None, at)
                else:
                    order.update_reason = "PARTIAL_FILL"
        journal.execution(
            execution_id,
            at,
            spec,
            price,
            size,
            self.prices.mark(spec, math.floor(at)),
            None if taker is None else sides[id(taker)],
            None if maker is None else sides[id(maker)],
        )
        for side in sides.values():
            reason = "full_fill" if side.order.remaining <= 0 else "partial_fill"
            journal.updated(side.before, side.order, at, reason)
            self._trim_reduce_only(self.accounts[side.order.account], spec.symbol, at)

    def _trim_reduce_only(self, account: Account, symbol: str, at: float) -> None:
        """Shrink or cancel resting reduce-only orders the position no longer allows."""
        position = self._position_size(account, symbol)
        candidates = sorted(
            (
                o
                for o in account.open_orders.values()
                if o.symbol == symbol and o.reduce_only and not o.is_trigger
            ),
            key=lambda o: o.seq,
        )
        allowed = abs(position)
        for order in candidates:
            reduces = (position > 0 and not order.is_buy) or (position < 0 and order.is_buy)
            keep = min(order.remaining, allowed) if reduces else ZERO
            if keep <= 0:
                self._close(account, order, "CANCELLED", "WOULD_NOT_REDUCE_POSITION", None, at)
                continue
            if keep < order.remaining:
                order.quantity = order.filled + keep
                order.updated = at
            allowed -= keep

    def _close(
        self,
        account: Account,
        order: Order,
        status: str,
        reason: str | None,
        error: str | None,
        at: float,
    ) -> None:
        market = self.markets.get(order.symbol)
        if market is not None:
            market.version += 1
            if order.resting:
                market.side(order.is_buy).remove(order)
                order.resting = False
            elif order in market.triggers:
                market.triggers.remove(order)
        order.status = status
        order.update_reason = reason
        order.error = error
        order.closed_at = at
        account.open_orders.pop(order.order_id, None)
        if order.cli_ord_id is not None and account.by_cli.get(order.cli_ord_id) is order:
            del account.by_cli[order.cli_ord_id]
        account.remember(order)
        self.journal.closed(order, at)

    def _open(self, account: Account, market: Market, order: Order) -> None:
        market.version += 1
        account.open_orders[order.order_id] = order
        if order.cli_ord_id is not None:
            account.by_cli[order.cli_ord_id] = order
        if order.is_trigger:
            market.triggers.append(order)
            market.triggers_dirty = True
        else:
            market.side(order.is_buy).add(order)
            order.resting = True
        self._mark_busy(market)
        self.journal.placed(order, order.updated)

    def _take(
        self,
        market: Market,
        order: Order,
        second: int,
        at: float,
        fill_type: str,
        prior_edit: dict[str, Any] | None = None,
    ) -> tuple[list[dict[str, Any]], bool]:
        """Execute ``order`` as a taker; EXECUTION events and whether it met its own order."""
        _, _, mark = self.prices.quote(market.spec, second)
        ladder = market.ladder_at(second, mark)
        matches, self_trade = market.plan(
            order.is_buy, order.limit_price, order.remaining, order.account, ladder
        )
        events: list[dict[str, Any]] = []
        for match in matches:
            size = match.size
            maker = match.maker
            if maker is not None:
                if maker.closed_at is not None:
                    continue
                size = min(size, maker.remaining)
            size = min(size, order.remaining)
            if size <= 0:
                continue
            prior = order_json(order)
            self.journal.placed(order, at)
            execution_id = self.new_id()
            if match.level is not None:
                match.level[1] -= size
            self._fill(market, match.price, size, at, execution_id, order, maker, fill_type)
            events.append(
                {
                    "type": "EXECUTION",
                    "executionId": execution_id,
                    "price": match.price,
                    "amount": size,
                    "orderPriorEdit": prior_edit,
                    "orderPriorExecution": prior,
                    "takerReducedQuantity": None,
                }
            )
        if events:
            market.triggers_dirty = True
        return events, self_trade

    # triggers ---------------------------------------------------------------------------

    def _signal(self, market: Market, order: Order, second: int) -> Decimal | None:
        index, mark, _ = self.prices.quote(market.spec, second)
        if order.trigger_signal == "index":
            return index
        if order.trigger_signal == "last":
            last = self.last_price(market, second)
            return None if last is None else last[0]
        return mark

    def _trail(self, order: Order, signal: Decimal, tick: Decimal, at: float) -> None:
        """Move a trailing stop's trigger after the signal (never back)."""
        assert order.trail_deviation is not None
        if order.trail_unit == "PERCENT":
            distance = signal * order.trail_deviation / 100
        else:
            distance = order.trail_deviation
        if order.trigger_above:
            candidate = quantize_up(signal + distance, tick)
            if order.stop_price is None or candidate < order.stop_price:
                order.stop_price = candidate
                order.updated = at
        else:
            candidate = max(tick, quantize_down(signal - distance, tick))
            if order.stop_price is None or candidate > order.stop_price:
                order.stop_price = candidate
                order.updated = at

    def _check_triggers(self, market: Market, second: int, at: float) -> None:
        for _ in range(_MAX_TRIGGER_ROUNDS):
            market.triggers_dirty = False
            fired: list[Order] = []
            for order in list(market.triggers):
                signal = self._signal(market, order, second)
                if signal is None:
                    continue
                if order.kind == "trailing_stop":
                    self._trail(order, signal, market.spec.tick, at)
                stop = order.stop_price
                assert stop is not None
                if (signal >= stop) if order.trigger_above else (signal <= stop):
                    fired.append(order)
            for order in fired:
                if order in market.triggers:
                    self._activate(market, order, second, at)
            if not market.triggers_dirty or not market.triggers:
                return

    def _protective(self, spec: InstrumentSpec, buy: bool, second: int) -> Decimal:
        mark = self.prices.mark(spec, second)
        if buy:
            return quantize_down(mark * (ONE + _PROTECTION), spec.tick)
        return max(spec.tick, quantize_up(mark * (ONE - _PROTECTION), spec.tick))

    def _activate(self, market: Market, order: Order, second: int, at: float) -> None:
        """A trigger fired: it becomes a limit or a market order with the same id."""
        spec = market.spec
        account = self.accounts[order.account]
        market.triggers.remove(order)
        self.journal.activated(order, at)
        order.triggered = True
        order.updated = at
        if order.offset_value is not None and order.stop_price is not None:
            if order.offset_unit == "PERCENT":
                raw = order.stop_price * (ONE + order.offset_value / 100)
            else:
                raw = order.stop_price + order.offset_value
            order.limit_price = max(spec.tick, quantize_down(raw, spec.tick))
        if order.limit_price is None:
            order.immediate = True
            order.limit_price = self._protective(spec, order.is_buy, second)
        if order.reduce_only:
            position = self._position_size(account, order.symbol)
            reduces = (position > 0 and not order.is_buy) or (position < 0 and order.is_buy)
            if not reduces:
                self._fail_trigger(account, order, "WOULD_NOT_REDUCE_POSITION", at)
                return
            order.quantity = min(order.quantity, order.filled + abs(position))
        elif not self._margin_ok(account, spec, order.is_buy, order.remaining):
            self._fail_trigger(account, order, "INSUFFICIENT_MARGIN", at)
            return
        order.status = "ENTERED_BOOK"
        order.update_reason = "STOP_ORDER_TRIGGERED"
        account.open_orders.pop(order.order_id, None)
        _events, self_trade = self._take(market, order, second, at, "taker")
        self._finish_taker(account, market, order, self_trade, at, rest_reason="LIMIT_FROM_STOP")

    def _fail_trigger(self, account: Account, order: Order, error: str, at: float) -> None:
        self._close(account, order, "TRIGGER_ACTIVATION_FAILURE", None, error, at)

    def _finish_taker(
        self,
        account: Account,
        market: Market,
        order: Order,
        self_trade: bool,
        at: float,
        rest_reason: str | None = None,
    ) -> bool:
        """After taking: rest the remainder, or close the order. True if it rests."""
        if order.remaining <= 0:
            self._close(account, order, "FULLY_EXECUTED", "FULL_FILL", None, at)
            return False
        if order.immediate or self_trade:
            reason = "WOULD_EXECUTE_SELF_REASON" if self_trade else "IOC_WOULD_NOT_EXECUTE_REASON"
            self._close(account, order, "CANCELLED", reason, None, at)
            return False
        if rest_reason is not None and order.filled == 0:
            order.update_reason = rest_reason
        self._open(account, market, order)
        return True

    # order requests ---------------------------------------------------------------------

    def validate(self, account: Account, spec: InstrumentSpec, req: OrderRequest) -> str | None:
        """The refusal status of a new order's static checks, or None."""
        if spec.expiry is not None and self.now >= spec.expiry:
            return "marketInactive"
        if req.cli_ord_id is not None:
            if len(req.cli_ord_id) > 100:
                return "clientOrderIdTooBig"
            if req.cli_ord_id in account.by_cli:
                return "clientOrderIdAlreadyExist"
        if req.size <= 0 or not is_multiple(req.size, spec.size_step):
            return "invalidSize"
        for price in (req.limit_price, req.stop_price):
            if price is not None and (price <= 0 or not is_multiple(price, spec.tick)):
                return "invalidPrice"
        if req.kind == "trailing_stop":
            deviation = req.trail_deviation
            if deviation is None or deviation <= 0:
                return "invalidPrice"
            if req.trail_unit == "PERCENT" and not Decimal("0.1") <= deviation <= 50:
                return "invalidPrice"
            if req.trail_unit == "QUOTE_CURRENCY" and not is_multiple(deviation, spec.tick):
                return "invalidPrice"
        if req.offset_value is not None and req.limit_price is not None:
            return "invalidPrice"
        return None

    def place(self, account: Account, req: OrderRequest) -> Outcome:
        spec = self.specs[req.symbol]
        market = self.market(req.symbol)
        at = self.now
        second = self.second
        refusal = self.validate(account, spec, req)
        if refusal is not None:
            return Outcome(refusal)
        buy = req.side == "buy"
        size = req.size
        reduced: Decimal | None = None
        if req.reduce_only:
            position = self._position_size(account, spec.symbol)
            if not ((position > 0 and not buy) or (position < 0 and buy)):
                return Outcome("wouldNotReducePosition")
            reduced = max(ZERO, size - abs(position))
            size -= reduced
        elif self._violates_max_position(account, spec, buy, size):
            return Outcome("maxPositionViolation")
        trigger = req.kind in TRIGGER_KINDS
        may_rest = trigger or req.kind in ("lmt", "post")
        if may_rest and len(account.open_orders) >= self.retention.open_orders:
            return Outcome("tooManyOrders")
        if not trigger and not req.reduce_only and not self._margin_ok(account, spec, buy, size):
            return Outcome("insufficientAvailableFunds")
        order = Order(
            order_id=self.new_id(),
            account=account.uid,
            symbol=spec.symbol,
            side=req.side,
            kind=req.kind,
            quantity=size,
            limit_price=req.limit_price,
            reduce_only=req.reduce_only,
            cli_ord_id=req.cli_ord_id,
            received=at,
            updated=at,
            seq=self.next_seq(),
            immediate=req.kind in ("ioc", "mkt", "fok"),
        )
        if trigger:
            return self._place_trigger(account, market, order, req)
        if req.kind == "mkt":
            order.limit_price = self._protective(spec, buy, second)
        assert order.limit_price is not None
        _, _, mark = self.prices.quote(spec, second)
        ladder = market.ladder_at(second, mark)
        if req.kind == "post" and market.would_cross(buy, order.limit_price, ladder):
            return self._reject(account, order, "postWouldExecute", "POST_WOULD_EXECUTE", at)
        if req.kind == "fok":
            matches, self_trade = market.plan(buy, order.limit_price, size, account.uid, ladder)
            if self_trade or sum((m.size for m in matches), ZERO) < size:
                return self._reject(
                    account, order, "iocWouldNotExecute", "IOC_WOULD_NOT_EXECUTE", at
                )
        events, self_trade = self._take(market, order, second, at, "taker")
        if not events and self_trade:
            self._close(
                account, order, "REJECTED", "WOULD_EXECUTE_SELF_REASON", "WOULD_EXECUTE_SELF", at
            )
            return Outcome("selfFill", order)
        if not events and order.immediate:
            return self._reject(account, order, "iocWouldNotExecute", "IOC_WOULD_NOT_EXECUTE", at)
        if self._finish_taker(account, market, order, self_trade, at):
            events.append({"type": "PLACE", "order": order_json(order), "reducedQuantity": reduced})
        if market.triggers_dirty and market.triggers:
            self._check_triggers(market, second, at)
        return Outcome("placed", order, events)

    def _reject(
        self, account: Account, order: Order, status: str, error: str, at: float
    ) -> Outcome:
        event = {"type": "REJECT", "uid": order.order_id, "order": order_json(order)}
        event["reason"] = error
        self._close(account, order, "REJECTED", f"{error}_REASON", error, at)
        return Outcome(status, order, [event])

    def _place_trigger(
        self, account: Account, market: Market, order: Order, req: OrderRequest
    ) -> Outcome:
        buy = order.is_buy
        order.trigger_signal = req.trigger_signal
        order.offset_value = req.offset_value
        order.offset_unit = req.offset_unit
        order.status = "TRIGGER_PLACED"
        if req.kind == "take_profit":
            order.trigger_above = not buy
        else:
            order.trigger_above = buy
        if req.kind == "trailing_stop":
            order.trail_deviation = req.trail_deviation
            order.trail_unit = req.trail_unit
            signal = self._signal(market, order, self.second)
            if signal is None:
                signal = self.prices.mark(market.spec, self.second)
            self._trail(order, signal, market.spec.tick, self.now)
            order.updated = self.now
        else:
            order.stop_price = req.stop_price
        self._open(account, market, order)
        return Outcome("placed", order, [{"type": "PLACE", "orderTrigger": trigger_json(order)}])

    def find(self, account: Account, order_id: str | None, cli_ord_id: str | None) -> Order | None:
        """An open order of the account, by id or client id."""
        if order_id is not None:
            return account.open_orders.get(order_id)
        if cli_ord_id is not None:
            return account.by_cli.get(cli_ord_id)
        return None

    def edit(self, account: Account, order: Order, req: EditRequest) -> Outcome:
        market = self.market(order.symbol)
        spec = market.spec
        at = self.now
        second = self.second
        trigger = order.is_trigger
        if req.stop_price is not None and not trigger:
            return Outcome("orderForEditNotAStop", order)
        if order.kind == "trailing_stop" and trigger:
            if req.stop_price is not None:
                return Outcome("cannotEditTriggerPriceOfTrailingStop", order)
            if req.limit_price is not None:
                return Outcome("cannotEditLimitPriceOfTrailingStop", order)
        quantity = order.quantity
        if req.size is not None:
            quantity = req.size if req.absolute else order.filled + req.size
            if (
                req.size <= 0
                or not is_multiple(req.size, spec.size_step)
                or quantity <= order.filled
            ):
                return Outcome("invalidSize", order)
        for price in (req.limit_price, req.stop_price):
            if price is not None and (price <= 0 or not is_multiple(price, spec.tick)):
                return Outcome("invalidPrice", order)
        limit = req.limit_price if req.limit_price is not None else order.limit_price
        reduced: Decimal | None = None
        if order.reduce_only:
            position = self._position_size(account, order.symbol)
            reduces = (position > 0 and not order.is_buy) or (position < 0 and order.is_buy)
            if not reduces:
                return Outcome("wouldNotReducePosition", order)
            cap = order.filled + abs(position)
            reduced = max(ZERO, quantity - cap)
            quantity -= reduced
        _, _, mark = self.prices.quote(spec, second)
        ladder = market.ladder_at(second, mark)
        if (
            not trigger
            and order.kind == "post"
            and limit is not None
            and market.would_cross(order.is_buy, limit, ladder)
        ):
            return Outcome("postWouldExecute", order)
        if not trigger and not order.reduce_only:
            extra = quantity - order.quantity
            if extra > 0 and not self._margin_ok(account, spec, order.is_buy, extra):
                return Outcome("insufficientAvailableFunds", order)
        old = order_json(order)
        before = render(order)
        grows = quantity > order.quantity
        moved = limit != order.limit_price
        if order.resting and (grows or moved):
            market.side(order.is_buy).remove(order)
            order.resting = False
            order.quantity, order.limit_price = quantity, limit
            order.seq = self.next_seq()
        else:
            order.quantity, order.limit_price = quantity, limit
        if req.stop_price is not None:
            order.stop_price = req.stop_price
        if trigger and order.kind == "trailing_stop" and req.trail_deviation is not None:
            order.trail_deviation = req.trail_deviation
            order.trail_unit = req.trail_unit or order.trail_unit
            order.stop_price = None
            signal = self._signal(market, order, second) or self.prices.mark(spec, second)
            self._trail(order, signal, spec.tick, at)
        order.updated = at
        order.update_reason = "EDITED_BY_USER"
        self.journal.updated(before, order, at, "edited_by_user", reduced)
        market.version += 1
        events: list[dict[str, Any]] = [
            {"type": "EDIT", "old": old, "new": order_json(order), "reducedQuantity": reduced}
        ]
        if trigger:
            market.triggers_dirty = True
        elif not order.resting:
            account.open_orders.pop(order.order_id, None)
            executions, self_trade = self._take(market, order, second, at, "takerAfterEdit", old)
            events.extend(executions)
            self._finish_taker(account, market, order, self_trade, at)
        if market.triggers_dirty and market.triggers:
            self._check_triggers(market, second, at)
        return Outcome("edited", order, events)

    def cancel(self, account: Account, order: Order, at: float, reason: str) -> dict[str, Any]:
        """Cancel an open order; returns its CANCEL event."""
        if order.is_trigger:
            event = {"type": "CANCEL", "uid": order.order_id, "orderTrigger": trigger_json(order)}
        else:
            event = {"type": "CANCEL", "uid": order.order_id, "order": order_json(order)}
        self._close(account, order, "CANCELLED", reason, None, at)
        return event

    def cancel_all(
        self, account: Account, symbol: str | None, at: float, reason: str = "CANCELLED_BY_USER"
    ) -> tuple[list[Order], list[dict[str, Any]]]:
        """Cancel every open order (of one symbol); CANCEL events show triggers as OrderJson."""
        chosen = sorted(
            (o for o in account.open_orders.values() if symbol is None or o.symbol == symbol),
            key=lambda o: o.seq,
        )
        events: list[dict[str, Any]] = []
        for order in chosen:
            events.append({"type": "CANCEL", "uid": order.order_id, "order": order_json(order)})
            self._close(account, order, "CANCELLED", reason, None, at)
        return chosen, events
