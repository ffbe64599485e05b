"""Wallets and positions: ``/accounts`` and ``/openpositions``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from .enums import PositionSide
from .market import OptionGreeks

__all__ = [
    "Accounts",
    "Auxiliary",
    "CashAccount",
    "FlexAccount",
    "FlexCurrency",
    "FlexFigures",
    "MarginAccount",
    "MarginRequirements",
    "OpenPosition",
    "PortfolioMarginBreakdown",
]


@attrs.frozen(kw_only=True)
class CashAccount:
    """The cash wallet; balance keys are lower-case currencies (``xbt``, ``usd``)."""

    type: str
    balances: dict[str, Decimal]


@attrs.frozen(kw_only=True)
class FlexCurrency:
    """One currency in the multi-collateral (flex) wallet: quantity, value, what it counts as
    collateral, and what is available."""

    quantity: Decimal
    value: Decimal
    collateral: Decimal
    available: Decimal


@attrs.frozen(kw_only=True)
class PortfolioMarginBreakdown:
    """A flex account's portfolio-margining figures (market risk, scenario PnLs, option
    deltas), as far as Kraken sends them."""

    total_cross_asset_netted_market_risk: Decimal | None = None
    total_market_risk: Decimal | None = None
    total_scenario_pnls: tuple[Decimal, ...] | None = None
    total_absolute_option_position_delta_notional: Decimal | None = None
    net_portfolio_delta: Decimal | None = None
    total_premium: Decimal | None = None
    is_buy_only: bool | None = None
    futures_maintenance_margin: Decimal | None = None


@attrs.frozen(kw_only=True)
class FlexFigures:
    """A multi-collateral wallet's aggregates, all in USD (``/accounts`` and ``/subaccounts``)."""

    initial_margin: Decimal
    initial_margin_with_orders: Decimal
    maintenance_margin: Decimal
    balance_value: Decimal
    portfolio_value: Decimal
    collateral_value: Decimal
    pnl: Decimal
    unrealized_funding: Decimal
    total_unrealized: Decimal
    total_unrealized_as_margin: Decimal
    available_margin: Decimal
    margin_equity: Decimal
    portfolio_margin_breakdown: PortfolioMarginBreakdown | None = None


@attrs.frozen(kw_only=True)
class FlexAccount(FlexFigures):
    """The multi-collateral wallet: collateral by currency, then the USD aggregates."""

    type: str
    currencies: dict[str, FlexCurrency]


@attrs.frozen(kw_only=True)
class Auxiliary:
    """A margin account's summary as Kraken names it: ``usd``, portfolio value ``pv``,
    ``pnl``, available funds ``af`` and ``funding``."""

    usd: Decimal
    pv: Decimal
    pnl: Decimal
    af: Decimal
    funding: Decimal


@attrs.frozen(kw_only=True)
class MarginRequirements:
    """A margin account's requirements: initial ``im``, maintenance ``mm``, liquidation
    threshold ``lt`` and termination threshold ``tt``."""

    im: Decimal
    mm: Decimal
    lt: Decimal
    tt: Decimal


@attrs.frozen(kw_only=True)
class MarginAccount:
    """A single-collateral (inverse) margin account such as ``fi_xbtusd``."""

    type: str
    currency: str
    balances: dict[str, Decimal]
    auxiliary: Auxiliary
    margin_requirements: MarginRequirements
    trigger_estimates: MarginRequirements


@attrs.frozen(kw_only=True)
class Accounts:
    """Every wallet of the account, by kind; margin accounts are keyed by their lower-case name."""

    cash: CashAccount | None = None
    flex: FlexAccount | None = None
    margin_accounts: dict[str, MarginAccount] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class OpenPosition:
    """An open position: contract, side, size and entry price, with funding, PnL currency and
    greeks where Kraken gives them (over UWS: size and entry price only)."""

    symbol: str
    side: PositionSide
    size: Decimal
    price: Decimal
    fill_time: dt.datetime | None = None
    unrealized_funding: Decimal | None = None
    pnl_currency: str | None = None
    max_fixed_leverage: Decimal | None = None
    greeks: OptionGreeks | None = None

    @property
    def signed_size(self) -> Decimal:
        """Size with the sign of the side: positive long, negative short."""
        return -self.size if self.side is PositionSide.SHORT else self.size
