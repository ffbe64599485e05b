"""Subaccounts of a master account: balances, margin and the trading switch."""

from __future__ import annotations

from decimal import Decimal

import attrs

from .account import PortfolioMarginBreakdown

__all__ = [
    "HoldingBalance",
    "Subaccount",
    "SubaccountFlexAccount",
    "SubaccountFlexCurrency",
    "SubaccountFuturesAccount",
    "SubaccountTrading",
    "Subaccounts",
]


@attrs.frozen(kw_only=True)
class HoldingBalance:
    currency: str
    amount: Decimal


@attrs.frozen(kw_only=True)
class SubaccountFuturesAccount:
    """A single-collateral margin account such as ``f-xbt:usd``."""

    name: str
    available_margin: Decimal


@attrs.frozen(kw_only=True)
class SubaccountFlexCurrency:
    currency: str
    quantity: Decimal
    value: Decimal
    collateral: Decimal
    available: Decimal


@attrs.frozen(kw_only=True)
class SubaccountFlexAccount:
    """The subaccount's multi-collateral wallet; amounts in USD, as in ``/accounts``."""

    currencies: tuple[SubaccountFlexCurrency, ...]
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
class Subaccount:
    account_uid: str
    email: str
    full_name: str | None
    holding_accounts: tuple[HoldingBalance, ...]
    futures_accounts: tuple[SubaccountFuturesAccount, ...]
    flex_account: SubaccountFlexAccount


@attrs.frozen(kw_only=True)
class Subaccounts:
    master_account_uid: str
    subaccounts: tuple[Subaccount, ...]


@attrs.frozen(kw_only=True)
class SubaccountTrading:
    """Whether a subaccount may trade (institutional accounts only)."""

    trading_enabled: bool
