"""Subaccounts: every account the twin opens is a master with two subaccounts of its own.

The subaccounts are ordinary engine accounts, opened the first time the master asks about
them: the first holds 10,000 USD in its flex wallet, the second nothing. Their uids derive from
the master's, so the same master always gets the same subaccounts. Transfers may go between
the master and its subaccounts in any direction; the trading switch is kept and shown (the twin
issues no keys for subaccounts, so nothing trades on them unless a test gives one a key).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..errors import ExchangeError, Reason
from ._text import tidy
from .accounts import (
    INVERSE_ACCOUNTS,
    Account,
    cash_balances,
    flex_aggregates,
    flex_figures,
    inverse_figures,
)
from .params import Params
from .transfers import Wallet, amount_of, move
from .venue import Venue

__all__ = ["Subaccounts"]

_FUNDING = ({"USD": Decimal(10_000)}, {"USD": Decimal(0)})
_NAMESPACE = uuid.UUID("7c4b8a36-6b1f-4f53-9d0e-2f9d3a1c5e10")


@dataclass(slots=True)
class _Family:
    subaccounts: list[str]
    trading: dict[str, bool] = field(default_factory=dict)


def _futures_name(name: str) -> str:
    """``fi_xbtusd`` as the subaccount listing names it: ``f-xbt:usd``."""
    coin = INVERSE_ACCOUNTS[name][0]
    return f"f-{coin}:usd"


class Subaccounts:
    def __init__(self, venue: Venue) -> None:
        self._venue = venue
        self._families: dict[str, _Family] = {}
        self._master_of: dict[str, str] = {}

    def _family(self, master: Account) -> _Family:
        family = self._families.get(master.uid)
        if family is None:
            uids = []
            for index, balances in enumerate(_FUNDING, start=1):
                uid = str(uuid.uuid5(_NAMESPACE, f"{master.uid}/{index}"))
                if uid not in self._venue.accounts:
                    self._venue.open_account(uid, dict(balances))
                self._master_of[uid] = master.uid
                uids.append(uid)
            family = self._families[master.uid] = _Family(uids, dict.fromkeys(uids, True))
        return family

    def _master(self, account: Account) -> Account:
        """The account itself, or its master if it is a subaccount."""
        master = self._master_of.get(account.uid)
        return account if master is None else self._venue.accounts[master]

    def _describe(self, index: int, uid: str) -> dict[str, Any]:
        venue = self._venue
        account = venue.accounts[uid]
        flex = flex_figures(account, venue.specs, venue, venue.now)
        holdings = [
            {"currency": currency, "amount": Decimal(amount)}
            for currency, amount in cash_balances(account).items()
        ]
        futures = [
            {
                "name": _futures_name(name),
                "availableMargin": tidy(
                    inverse_figures(account, name, venue.specs, venue, venue.now).available
                ),
            }
            for name in INVERSE_ACCOUNTS
        ]
        currencies = [
            {"currency": currency.lower(), **figures}
            for currency, figures in flex.currencies.items()
        ]
        return {
            "accountUid": uid,
            "email": f"sub{index}.{uid[:8]}@twin.invalid",
            "fullName": f"Subaccount {index}",
            "holdingAccounts": holdings,
            "futuresAccounts": futures,
            "flexAccount": {
                "currencies": currencies,
                **flex_aggregates(flex),
            },
        }

    def subaccounts(self, account: Account, params: Params) -> dict[str, Any]:
        master = self._master(account)
        family = self._family(master)
        listed = [self._describe(i, uid) for i, uid in enumerate(family.subaccounts, start=1)]
        return {"masterAccountUid": master.uid, "subaccounts": listed}

    def subaccount_transfer(self, account: Account, params: Params) -> dict[str, Any]:
        master = self._master(account)
        members = {master.uid, *self._family(master).subaccounts}
        users = params.required("fromUser").strip(), params.required("toUser").strip()
        if users[0] not in members or users[1] not in members or users[0] == users[1]:
            raise ExchangeError("invalidAccount")
        unit = params.required("unit")
        accounts = self._venue.accounts
        source = Wallet.open(self._venue, accounts[users[0]], params.required("fromAccount"), unit)
        target = Wallet.open(self._venue, accounts[users[1]], params.required("toAccount"), unit)
        move(source, target, amount_of(params), "subaccount transfer")
        return {}

    def _subaccount(self, account: Account, params: Params) -> tuple[_Family, str]:
        family = self._family(self._master(account))
        uid = params.required("subaccountUid").strip()
        if uid not in family.trading:
            raise ExchangeError("notFound", reason=Reason.NOT_FOUND)
        return family, uid

    def subaccount_trading(self, account: Account, params: Params) -> dict[str, Any]:
        family, uid = self._subaccount(account, params)
        return {"tradingEnabled": family.trading[uid]}

    def set_subaccount_trading(self, account: Account, params: Params) -> dict[str, Any]:
        family, uid = self._subaccount(account, params)
        if params.text("tradingEnabled") is None:
            raise ExchangeError("requiredArgumentMissing")
        family.trading[uid] = params.boolean("tradingEnabled")
        return {"tradingEnabled": family.trading[uid]}
