"""Accounts: wallets, positions, fills, and the margin arithmetic behind ``/accounts``.

Linear contracts (``PF_``/``FF_``) settle in the multi-collateral ``flex`` wallet in USD;
inverse contracts (``PI_``/``FI_``) settle in a coin-margined account per base
(``fi_xbtusd`` holds XBT). The formulas, all at the current mark price:

* position PnL: linear ``size * (mark - entry)`` USD; inverse ``size * (1/entry - 1/mark)`` coin
  (``size`` signed: positive long, negative short);
* margin of a position: its notional (linear ``|size| * mark`` USD; inverse ``|size|``
  contracts) cut into the instrument's tiers, each band at its own rate (initial and
  maintenance); an inverse requirement is converted to coin at the mark;
* ``initialMarginWithOrders``: the same with each instrument's exposure taken as
  ``max(|pos + open buys|, |pos - open sells|)`` (regular open orders; triggers excluded);
* flex: ``value`` of a currency = quantity * USD price; ``collateral`` = value less its
  haircut; ``balanceValue`` = sum of values; ``collateralValue`` = sum of collateral;
  ``pnl`` = sum of position PnL; ``totalUnrealized`` = pnl + unrealizedFunding;
  ``totalUnrealizedAsMargin`` = totalUnrealized; ``portfolioValue`` = balanceValue +
  totalUnrealized; ``marginEquity`` = collateralValue + totalUnrealizedAsMargin;
  ``availableMargin`` = marginEquity - initialMarginWithOrders; a currency's ``available`` =
  its quantity times the share of collateral not tied up,
  ``clamp((collateralValue - initialMarginWithOrders + min(0, totalUnrealizedAsMargin)) /
  collateralValue, 0, 1)``;
* inverse account: ``pv`` = balance + pnl + funding; ``af`` = pv - initial margin with orders.

Fills book the fee (maker 0.02 %, taker 0.05 % of notional; inverse: of ``size / price`` coin)
and the realised PnL to the settlement currency at once; funding accrues on the hour and is
realised into the same currency whenever the position trades.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from ._text import ONE, ZERO, iso_ms, tidy
from .events import Settlement
from .instruments import InstrumentSpec, MarginTier
from .orders import Order

__all__ = [
    "FLEX_CURRENCIES",
    "INVERSE_ACCOUNTS",
    "MAKER_FEE",
    "TAKER_FEE",
    "Account",
    "Position",
    "Pricing",
    "Trade",
    "accounts_payload",
    "book_trade",
    "flex_aggregates",
    "margin_for",
    "tiered",
]

MAKER_FEE = Decimal("0.0002")
TAKER_FEE = Decimal("0.0005")

#: Flex wallet currencies and their collateral haircuts.
FLEX_CURRENCIES: dict[str, Decimal] = {
    "USD": Decimal(0),
    "USDC": Decimal("0.005"),
    "USDT": Decimal("0.01"),
    "EUR": Decimal("0.0225"),
    "GBP": Decimal("0.0225"),
    "XBT": Decimal("0.0225"),
    "ETH": Decimal("0.0225"),
    "SOL": Decimal("0.1"),
}
_ALIASES = {"BTC": "XBT"}
_CASH_CURRENCIES = ("xbt", "eth", "usd", "usdt", "usdc", "eur", "gbp")

#: Coin-margined accounts, their coin, and what they hold when an account is opened.
INVERSE_ACCOUNTS: dict[str, tuple[str, Decimal]] = {
    "fi_xbtusd": ("xbt", Decimal("0.1")),
    "fi_ethusd": ("eth", Decimal("3")),
    "fi_ltcusd": ("ltc", Decimal("100")),
    "fi_xrpusd": ("xrp", Decimal("5000")),
}
_HOUR = 3600
_MAX_FUNDING_HOURS = 24 * 366
#: Defaults of the caps below (the engine passes ``Retention``'s).
_RECENT_ORDERS = 5000
_FILLS_KEPT = 10_000


class Pricing(Protocol):
    """What account arithmetic needs to know about the market, now and on past hours."""

    def mark_now(self, spec: InstrumentSpec) -> Decimal: ...

    def mark_at(self, spec: InstrumentSpec, second: int) -> Decimal: ...

    def funding_at(self, spec: InstrumentSpec, second: int) -> Decimal: ...

    def currency_price(self, currency: str) -> Decimal: ...


@dataclass(slots=True)
class Position:
    symbol: str
    size: Decimal
    price: Decimal
    fill_time: float
    funding: Decimal = ZERO
    funding_from: float = 0.0


@dataclass(frozen=True, slots=True)
class Trade:
    """One side of an execution as it affects an account."""

    spec: InstrumentSpec
    buy: bool
    size: Decimal
    price: Decimal
    fee_rate: Decimal
    time: float


@dataclass(slots=True, eq=False)
class Account:
    uid: str
    flex: dict[str, Decimal]
    margin: dict[str, Decimal]
    positions: dict[str, Position] = field(default_factory=dict)
    open_orders: dict[str, Order] = field(default_factory=dict)
    by_cli: dict[str, Order] = field(default_factory=dict)
    recent: OrderedDict[str, Order] = field(default_factory=OrderedDict)
    fills: deque[tuple[float, dict[str, Any]]] = field(
        default_factory=lambda: deque(maxlen=_FILLS_KEPT)
    )
    dead_man_at: float | None = None
    #: Closed orders remembered in ``recent`` (the oldest forgotten first).
    closed_kept: int = _RECENT_ORDERS
    #: The cash wallet (``cash``): plain balances by lower-case currency, no margin.
    cash: dict[str, Decimal] = field(default_factory=dict)
    #: Isolated margin: maximum leverage by linear symbol (unlisted symbols: cross margin).
    leverage: dict[str, Decimal] = field(default_factory=dict)
    #: Preferred PnL currency by linear symbol (kept and shown; PnL is still booked in USD).
    pnl_currency: dict[str, str] = field(default_factory=dict)
    self_trade_strategy: str = "REJECT_TAKER"

    def remember(self, order: Order) -> None:
        """Keep a closed order for orders/status (5 s) and cancelorder's ``filled``."""
        self.recent[order.order_id] = order
        while len(self.recent) > self.closed_kept:
            self.recent.popitem(last=False)


def normalise_currency(name: str) -> str:
    upper = name.strip().upper()
    return _ALIASES.get(upper, upper)


def tiered(tiers: tuple[MarginTier, ...], amount: Decimal) -> tuple[Decimal, Decimal]:
    """(initial, maintenance) for ``amount`` cut into tiers, each band at its own rate."""
    initial = maintenance = ZERO
    for i, tier in enumerate(tiers):
        if amount <= tier.threshold:
            break
        upper = tiers[i + 1].threshold if i + 1 < len(tiers) else None
        top = amount if upper is None else min(amount, upper)
        band = top - tier.threshold
        initial += band * tier.initial
        maintenance += band * tier.maintenance
    return initial, maintenance


def margin_for(
    spec: InstrumentSpec, size: Decimal, mark: Decimal, leverage: Decimal | None = None
) -> tuple[Decimal, Decimal]:
    """(initial, maintenance) of an exposure of ``size`` contracts, in settlement currency.

    A linear contract margined in isolation at ``leverage`` needs at least its notional over
    that leverage as initial margin.
    """
    if spec.inverse:
        initial, maintenance = tiered(spec.tiers, abs(size))
        return initial / mark, maintenance / mark
    notional = abs(size) * mark
    initial, maintenance = tiered(spec.tiers, notional)
    if leverage is not None:
        initial = max(initial, notional / leverage)
    return initial, maintenance


def position_pnl(spec: InstrumentSpec, position: Position, mark: Decimal) -> Decimal:
    if spec.inverse:
        return position.size * (ONE / position.price - ONE / mark)
    return position.size * (mark - position.price)


def accrue_funding(spec: InstrumentSpec, position: Position, now: float, prices: Pricing) -> None:
    """Add the funding of every hour boundary since the last accrual (longs pay if positive)."""
    if spec.funding_coefficient is None or now <= position.funding_from:
        return
    first = int(position.funding_from) // _HOUR + 1
    last = int(now) // _HOUR
    first = max(first, last - _MAX_FUNDING_HOURS + 1)
    for hour in range(first, last + 1):
        second = hour * _HOUR
        rate = prices.funding_at(spec, second)
        if rate == 0:
            continue
        mark = prices.mark_at(spec, second)
        if spec.inverse:
            position.funding -= position.size * rate / mark
        else:
            position.funding -= position.size * rate * mark
    position.funding_from = now


def _settlement(account: Account, spec: InstrumentSpec) -> tuple[dict[str, Decimal], str]:
    if spec.inverse:
        assert spec.margin_account is not None
        return account.margin, spec.margin_account
    return account.flex, "USD"


def book_trade(account: Account, trade: Trade, prices: Pricing) -> Settlement:
    """Apply one execution to position and wallet (funding due first); say what it did."""
    spec = trade.spec
    wallet, key = _settlement(account, spec)
    signed = trade.size if trade.buy else -trade.size
    position = account.positions.get(spec.symbol)
    realised = funding = ZERO
    old_balance = wallet.get(key, ZERO)
    old_price: Decimal | None = None
    if position is None:
        position = Position(spec.symbol, ZERO, trade.price, trade.time, ZERO, trade.time)
        account.positions[spec.symbol] = position
    else:
        old_price = position.price
        accrue_funding(spec, position, trade.time, prices)
        funding = position.funding
        wallet[key] = wallet.get(key, ZERO) + funding
        position.funding = ZERO
    old = position.size
    new = old + signed
    if old == 0 or (old > 0) == (signed > 0):
        if spec.inverse:
            position.price = (abs(old) + trade.size) / (
                abs(old) / position.price + trade.size / trade.price
            )
        elif old == 0:
            position.price = trade.price
        else:
            position.price = (abs(old) * position.price + trade.size * trade.price) / (
                abs(old) + trade.size
            )
    else:
        closing = min(abs(old), trade.size)
        direction = ONE if old > 0 else -ONE
        if spec.inverse:
            realised = closing * direction * (ONE / position.price - ONE / trade.price)
        else:
            realised = closing * direction * (trade.price - position.price)
        if trade.size > abs(old):
            position.price = trade.price
    if spec.inverse:
        fee = trade.size / trade.price * trade.fee_rate
    else:
        fee = trade.size * trade.price * trade.fee_rate
    wallet[key] = new_balance = wallet.get(key, ZERO) + realised - fee
    position.size = new
    position.fill_time = trade.time
    position.funding_from = max(position.funding_from, trade.time)
    new_price: Decimal | None = position.price
    if new == 0:
        del account.positions[spec.symbol]
        new_price = None
    name = key if spec.inverse else "flex"
    currency = INVERSE_ACCOUNTS[key][0] if spec.inverse else "usd"
    return Settlement(
        old_size=old,
        old_price=old_price,
        new_size=new,
        new_price=new_price,
        wallet=name,
        currency=currency,
        old_balance=old_balance,
        new_balance=new_balance,
        realised=realised,
        funding=funding,
        fee=funding + realised - (new_balance - old_balance),
        fee_rate=trade.fee_rate,
    )


def _exposures(
    account: Account, specs: dict[str, InstrumentSpec], inverse: bool
) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
    """Per symbol: (position, open buys, open sells) for one settlement family."""
    result: dict[str, tuple[Decimal, Decimal, Decimal]] = {}
    for symbol, position in account.positions.items():
        if specs[symbol].inverse == inverse:
            result[symbol] = (position.size, ZERO, ZERO)
    for order in account.open_orders.values():
        if order.is_trigger or specs[order.symbol].inverse != inverse:
            continue
        pos, buys, sells = result.get(order.symbol, (ZERO, ZERO, ZERO))
        if order.is_buy:
            buys += order.remaining
        else:
            sells += order.remaining
        result[order.symbol] = (pos, buys, sells)
    return result


def initial_margin_with_orders(
    account: Account,
    specs: dict[str, InstrumentSpec],
    prices: Pricing,
    inverse: bool,
    margin_account: str | None = None,
    extra: tuple[str, bool, Decimal] | None = None,
) -> Decimal:
    """Initial margin of positions plus open orders (and a prospective order ``extra``)."""
    exposures = _exposures(account, specs, inverse)
    if extra is not None:
        symbol, buy, size = extra
        pos, buys, sells = exposures.get(symbol, (ZERO, ZERO, ZERO))
        exposures[symbol] = (pos, buys + size, sells) if buy else (pos, buys, sells + size)
    total = ZERO
    for symbol, (pos, buys, sells) in exposures.items():
        spec = specs[symbol]
        if margin_account is not None and spec.margin_account != margin_account:
            continue
        exposure = max(abs(pos + buys), abs(pos - sells))
        leverage = account.leverage.get(symbol)
        total += margin_for(spec, exposure, prices.mark_now(spec), leverage)[0]
    return total


@dataclass(frozen=True, slots=True)
class FlexFigures:
    currencies: dict[str, dict[str, Decimal]]
    initial: Decimal
    initial_with_orders: Decimal
    maintenance: Decimal
    balance_value: Decimal
    collateral_value: Decimal
    pnl: Decimal
    funding: Decimal

    @property
    def total_unrealized(self) -> Decimal:
        return self.pnl + self.funding

    @property
    def margin_equity(self) -> Decimal:
        return self.collateral_value + self.total_unrealized

    @property
    def available_margin(self) -> Decimal:
        return self.margin_equity - self.initial_with_orders


def flex_aggregates(flex: FlexFigures) -> dict[str, Any]:
    """The USD aggregates ``/accounts`` and ``/subaccounts`` both show for a flex wallet."""
    return {
        "initialMargin": tidy(flex.initial),
        "initialMarginWithOrders": tidy(flex.initial_with_orders),
        "maintenanceMargin": tidy(flex.maintenance),
        "balanceValue": tidy(flex.balance_value),
        "portfolioValue": tidy(flex.balance_value + flex.total_unrealized),
        "collateralValue": tidy(flex.collateral_value),
        "pnl": tidy(flex.pnl),
        "unrealizedFunding": tidy(flex.funding),
        "totalUnrealized": tidy(flex.total_unrealized),
        "totalUnrealizedAsMargin": tidy(flex.total_unrealized),
        "availableMargin": tidy(flex.available_margin),
        "marginEquity": tidy(flex.margin_equity),
    }


def flex_figures(
    account: Account, specs: dict[str, InstrumentSpec], prices: Pricing, now: float
) -> FlexFigures:
    pnl = funding = initial = maintenance = ZERO
    for symbol, position in account.positions.items():
        spec = specs[symbol]
        if spec.inverse:
            continue
        mark = prices.mark_now(spec)
        accrue_funding(spec, position, now, prices)
        pnl += position_pnl(spec, position, mark)
        funding += position.funding
        im, mm = margin_for(spec, position.size, mark, account.leverage.get(symbol))
        initial += im
        maintenance += mm
    with_orders = initial_margin_with_orders(account, specs, prices, inverse=False)
    rows: dict[str, tuple[Decimal, Decimal, Decimal]] = {}
    balance_value = collateral_value = ZERO
    for currency, quantity in account.flex.items():
        value = quantity * prices.currency_price(currency)
        haircut = FLEX_CURRENCIES.get(currency, Decimal("0.1"))
        collateral = value * (ONE - haircut) if value > 0 else value
        rows[currency] = (quantity, value, collateral)
        balance_value += value
        collateral_value += collateral
    unrealized = pnl + funding
    free = collateral_value - with_orders + min(ZERO, unrealized)
    share = ZERO if collateral_value <= 0 else max(ZERO, min(ONE, free / collateral_value))
    currencies = {
        currency: {
            "quantity": tidy(quantity),
            "value": tidy(value),
            "collateral": tidy(collateral),
            "available": tidy(quantity * share if quantity > 0 else quantity),
        }
        for currency, (quantity, value, collateral) in rows.items()
    }
    return FlexFigures(
        currencies=currencies,
        initial=initial,
        initial_with_orders=with_orders,
        maintenance=maintenance,
        balance_value=balance_value,
        collateral_value=collateral_value,
        pnl=pnl,
        funding=funding,
    )


@dataclass(frozen=True, slots=True)
class InverseFigures:
    balance: Decimal
    pnl: Decimal
    funding: Decimal
    initial: Decimal
    initial_with_orders: Decimal
    maintenance: Decimal

    @property
    def portfolio_value(self) -> Decimal:
        return self.balance + self.pnl + self.funding

    @property
    def available(self) -> Decimal:
        return self.portfolio_value - self.initial_with_orders


def inverse_figures(
    account: Account,
    name: str,
    specs: dict[str, InstrumentSpec],
    prices: Pricing,
    now: float,
) -> InverseFigures:
    pnl = funding = initial = maintenance = ZERO
    for symbol, position in account.positions.items():
        spec = specs[symbol]
        if spec.margin_account != name:
            continue
        mark = prices.mark_now(spec)
        accrue_funding(spec, position, now, prices)
        pnl += position_pnl(spec, position, mark)
        funding += position.funding
        im, mm = margin_for(spec, position.size, mark)
        initial += im
        maintenance += mm
    with_orders = initial_margin_with_orders(account, specs, prices, True, margin_account=name)
    return InverseFigures(
        balance=account.margin.get(name, ZERO),
        pnl=pnl,
        funding=funding,
        initial=initial,
        initial_with_orders=with_orders,
        maintenance=maintenance,
    )


def _trigger_estimates(
    account: Account, name: str, specs: dict[str, InstrumentSpec], figures: InverseFigures
) -> dict[str, Decimal]:
    """Marks at which each requirement would be hit (only with one position in the account).

    With ``N`` signed contracts at entry ``E``: ``pv(M) = B + F + N/E - N/M`` meets
    ``rate * |N| / M`` at ``M = (N + rate * |N|) / (B + F + N/E)``; 0 when there is none.
    """
    held = [p for s, p in account.positions.items() if specs[s].margin_account == name]
    estimates = {"im": ZERO, "mm": ZERO, "lt": ZERO, "tt": ZERO}
    if len(held) != 1:
        return estimates
    position = held[0]
    spec = specs[position.symbol]
    contracts = abs(position.size)
    initial, maintenance = tiered(spec.tiers, contracts)
    equity = figures.balance + figures.funding + position.size / position.price
    rates = {
        "im": initial / contracts,
        "mm": maintenance / contracts,
        "lt": maintenance * 3 / 4 / contracts,
        "tt": maintenance / 2 / contracts,
    }
    for key, rate in rates.items():
        numerator = position.size + rate * contracts
        if equity != 0 and numerator / equity > 0:
            estimates[key] = numerator / equity
    return estimates


def accounts_payload(
    account: Account, specs: dict[str, InstrumentSpec], prices: Pricing, now: float
) -> dict[str, Any]:
    """The ``accounts`` object: cash, flex and one margin account per inverse base."""
    flex = flex_figures(account, specs, prices, now)
    result: dict[str, Any] = {
        "cash": {
            "type": "cashAccount",
            "balances": cash_balances(account),
        },
        "flex": {
            "type": "multiCollateralMarginAccount",
            "currencies": flex.currencies,
            **flex_aggregates(flex),
        },
    }
    for name, (coin, _default) in INVERSE_ACCOUNTS.items():
        figures = inverse_figures(account, name, specs, prices, now)
        balances: dict[str, str] = {coin: _plain(figures.balance)}
        for symbol, position in account.positions.items():
            if specs[symbol].margin_account == name:
                balances[symbol] = _plain(position.size)
        maintenance = figures.maintenance
        result[name] = {
            "type": "marginAccount",
            "currency": coin,
            "balances": balances,
            "auxiliary": {
                "usd": ZERO,
                "pv": tidy(figures.portfolio_value),
                "pnl": tidy(figures.pnl),
                "af": tidy(figures.available),
                "funding": tidy(figures.funding),
            },
            "marginRequirements": {
                "im": tidy(figures.initial),
                "mm": tidy(maintenance),
                "lt": tidy(maintenance * 3 / 4),
                "tt": tidy(maintenance / 2),
            },
            "triggerEstimates": {
                key: tidy(value)
                for key, value in _trigger_estimates(account, name, specs, figures).items()
            },
        }
    return result


def cash_balances(account: Account) -> dict[str, str]:
    """The cash wallet as ``/accounts`` shows it: every usual currency, then any other held."""
    balances = {currency: "0" for currency in _CASH_CURRENCIES}
    for currency, amount in account.cash.items():
        balances[currency] = _plain(amount)
    return balances


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f") if value != 0 else "0"


def fill_record(
    fill_id: str, order: Order, size: Decimal, price: Decimal, time: float, fill_type: str
) -> dict[str, Any]:
    """One ``fills`` element."""
    record: dict[str, Any] = {"fill_id": fill_id, "symbol": order.symbol, "side": order.side}
    record["order_id"] = order.order_id
    if order.cli_ord_id is not None:
        record["cliOrdId"] = order.cli_ord_id
    record.update({"size": size, "price": price, "fillTime": iso_ms(time), "fillType": fill_type})
    return record
