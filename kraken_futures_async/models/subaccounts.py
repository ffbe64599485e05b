"""Subaccounts of a master account: balances, margin and the trading switch."""

from __future__ import annotations

from decimal import Decimal

import attrs

from .account import FlexFigures

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
class SubaccountFlexAccount(FlexFigures):
    """The subaccount's multi-collateral wallet: a currency list, then the USD aggregates."""

    currencies: tuple[SubaccountFlexCurrency, ...]


@attrs.frozen(kw_only=True)
class Subaccount:
    """One subaccount with its holding, margin and flex balances."""

    account_uid: str
    email: str
    full_name: str | None
    holding_accounts: tuple[HoldingBalance, ...]
    futures_accounts: tuple[SubaccountFuturesAccount, ...]
    flex_account: SubaccountFlexAccount


@attrs.frozen(kw_only=True)
class Subaccounts:
    """The master account's uid and every subaccount."""

    master_account_uid: str
    subaccounts: tuple[Subaccount, ...]


@attrs.frozen(kw_only=True)
class SubaccountTrading:
    """Whether a subaccount may trade (institutional accounts only)."""

    trading_enabled: bool
