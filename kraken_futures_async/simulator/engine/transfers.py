"""Moving funds between an account's wallets, and out to the Spot wallet (withdrawal).

Wallets are ``cash`` (plain balances), ``flex`` (the multi-collateral wallet) and the
coin-margined accounts (``fi_xbtusd`` holds only XBT, ...). A unit must be one the wallets on
both ends hold: any flex currency or coin for cash, a flex currency for flex, the account's coin
for a margin account. Only what is free can leave: all of a cash balance, a flex currency's
``available``, a margin account's balance up to its available funds. Refusals use Kraken's
transfer codes: ``invalidAccount``, ``invalidUnit``, ``invalidAmount``, ``insufficientFunds``.
Every move writes an account-log row per wallet (``transfer``, ``subaccount transfer``,
``cross-exchange transfer`` for withdrawals).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..errors import ExchangeError
from ._text import ZERO
from .accounts import (
    FLEX_CURRENCIES,
    INVERSE_ACCOUNTS,
    Account,
    flex_figures,
    inverse_figures,
    normalise_currency,
)
from .events import BalanceChanged, Transfer
from .params import Params, parse_decimal
from .venue import Venue

__all__ = ["Transfers", "Wallet", "move"]

_COINS = frozenset(coin for coin, _ in INVERSE_ACCOUNTS.values())
_WITHDRAWABLE = ("cash", "flex")


class Wallet:
    """One wallet of one account, for one unit."""

    def __init__(self, venue: Venue, account: Account, name: str, unit: str) -> None:
        self.venue, self.account, self.name, self.unit = venue, account, name, unit

    @classmethod
    def open(cls, venue: Venue, account: Account, name: str, unit: str) -> Wallet:
        """The wallet, or the refusal Kraken gives for a bad name or unit."""
        name = name.strip().lower()
        unit = normalise_currency(unit).lower()
        if name not in ("cash", "flex") and name not in INVERSE_ACCOUNTS:
            raise ExchangeError("invalidAccount")
        if name == "flex":
            ok = unit.upper() in FLEX_CURRENCIES
        elif name == "cash":
            ok = unit.upper() in FLEX_CURRENCIES or unit in _COINS
        else:
            ok = unit == INVERSE_ACCOUNTS[name][0]
        if not ok:
            raise ExchangeError("invalidUnit")
        return cls(venue, account, name, unit)

    def _store(self) -> tuple[dict[str, Decimal], str]:
        if self.name == "cash":
            return self.account.cash, self.unit
        if self.name == "flex":
            return self.account.flex, self.unit.upper()
        return self.account.margin, self.name

    @property
    def balance(self) -> Decimal:
        store, key = self._store()
        return store.get(key, ZERO)

    @property
    def free(self) -> Decimal:
        """What may leave the wallet without touching margin in use."""
        venue, account = self.venue, self.account
        if self.name == "cash":
            return self.balance
        if self.name == "flex":
            figures = flex_figures(account, venue.specs, venue, venue.now)
            row = figures.currencies.get(self.unit.upper())
            return ZERO if row is None else max(ZERO, row["available"])
        figures_inverse = inverse_figures(account, self.name, venue.specs, venue, venue.now)
        return max(ZERO, min(self.balance, figures_inverse.available))

    def add(self, amount: Decimal) -> tuple[Decimal, Decimal]:
        store, key = self._store()
        old = store.get(key, ZERO)
        store[key] = new = old + amount
        venue = self.venue
        if venue.events.wants(BalanceChanged):
            currency = key if self.name == "flex" else self.unit
            venue.events.emit(BalanceChanged(venue.now, self.account.uid, self.name, currency, new))
        return old, new


def amount_of(params: Params, name: str = "amount") -> Decimal:
    text = params.text(name)
    value = None if text is None else parse_decimal(text)
    if value is None or value <= 0:
        raise ExchangeError("invalidAmount")
    return value


def move(source: Wallet, target: Wallet | None, amount: Decimal, info: str) -> None:
    """Take ``amount`` from ``source`` (into ``target``, if any) and log both sides."""
    if source.free < amount:
        raise ExchangeError("insufficientFunds")
    for wallet, change in ((source, -amount), (target, amount)):
        if wallet is None:
            continue
        old, new = wallet.add(change)
        events, now = wallet.venue.events, wallet.venue.now
        if events.wants(Transfer):
            uid = wallet.account.uid
            events.emit(Transfer(now, uid, wallet.unit, wallet.name, old, new, info))


class Transfers:
    def __init__(self, venue: Venue) -> None:
        self._venue = venue

    def transfer(self, account: Account, params: Params) -> dict[str, Any]:
        unit = params.required("unit")
        source = Wallet.open(self._venue, account, params.required("fromAccount"), unit)
        target = Wallet.open(self._venue, account, params.required("toAccount"), unit)
        if source.name == target.name:
            raise ExchangeError("invalidAccount")
        move(source, target, amount_of(params), "transfer")
        return {}

    def withdrawal(self, account: Account, params: Params) -> dict[str, Any]:
        name = (params.text("sourceWallet") or "cash").strip().lower()
        if name not in _WITHDRAWABLE:
            raise ExchangeError("invalidAccount")
        source = Wallet.open(self._venue, account, name, params.required("currency"))
        move(source, None, amount_of(params), "cross-exchange transfer")
        return {"uid": self._venue.journal.new_uid()}
