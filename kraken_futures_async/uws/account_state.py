"""``account.accounts`` over the Unified WebSocket: wallets from ``balances``, margin figures
from ``margin``, as REST's :class:`~kraken_futures_async.models.Accounts`.

This is the one place the mapping lives (choice 10 of :mod:`.routes`). Facts: ``balances``
streams asset balances per wallet (§5.2); ``margin`` sends two complete sections,
``multi_collateral`` (the flex wallet) and ``single_collateral`` (the single-collateral
wallets), on subscribe and on every change (§5.5). Their field names are [?]; the backend
reads the v1 ``balances`` names the reference calls the best guess, as the twin sends them
(:mod:`kraken_futures_async.simulator.uws.margin_channel`).

The mapping, field by field:

* ``cash`` (:class:`CashAccount`): every wallet whose ``type`` is neither ``flex`` nor
  ``margin`` (Spot's ``spot`` wallet is Kraken's holding wallet), balances by lower-case
  asset; ``None`` when there is none.
* ``flex`` (:class:`FlexAccount`): the ``multi_collateral`` section. REST's
  ``initialMarginWithOrders`` is v1's ``initial_margin`` and REST's ``initialMargin`` is
  v1's ``initial_margin_without_orders``; ``total_unrealized_as_margin`` falls back to
  ``total_unrealized``; ``currencies`` by upper-case asset, ``collateral`` from
  ``collateral_value``; a flex wallet of ``balances`` updates a currency's ``quantity``.
  ``None`` until the section has arrived (or when the ``margin`` channel is refused).
* ``margin_accounts`` (:class:`MarginAccount`): one per ``single_collateral`` wallet (by its
  ``id``), ``currency`` its lower-case ``unit``, ``balances`` from ``balances`` (else the
  section's ``balance``); ``auxiliary``: ``pv`` = ``portfolio_value``, ``pnl``,
  ``af`` = ``available``, ``funding`` = ``unrealized_funding``;
  ``margin_requirements``: ``im``/``mm`` = ``initial_margin``/``maintenance_margin``. UWS
  has no counterpart for ``auxiliary.usd``, the ``lt``/``tt`` thresholds and
  ``trigger_estimates``: they read 0 (the model requires a number; what REST shows for a
  wallet without a position).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..models import (
    Accounts,
    Auxiliary,
    CashAccount,
    FlexAccount,
    FlexCurrency,
    MarginAccount,
    MarginRequirements,
)
from .order_lookup import BalancesState, _Live, dec

__all__ = ["MarginState", "WalletsState", "accounts_from"]

_ZERO = Decimal(0)
_NONE = MarginRequirements(im=_ZERO, mm=_ZERO, lt=_ZERO, tt=_ZERO)


class WalletsState(BalancesState):
    """The ``balances`` channel per wallet: ``(type, id, ASSET) -> balance``.

    ``balances`` (the parent's: asset -> total over wallets) stays as it was for its readers.
    An update's ``balance`` is the wallet's balance after the entry (Spot v2: one wallet).
    """

    def __init__(self) -> None:
        super().__init__()
        self.wallets: dict[tuple[str, str, str], Decimal] = {}

    def deliver(self, kind: str, data: Any) -> None:
        if kind == "snapshot":
            self.wallets.clear()
        for element in data if isinstance(data, list) else []:
            if isinstance(element, dict):
                self._take(element)
        totals: dict[str, Decimal] = {}
        for (_type, _id, asset), balance in self.wallets.items():
            totals[asset.lower()] = totals.get(asset.lower(), _ZERO) + balance
        self.balances.clear()
        self.balances.update(totals)
        if kind == "snapshot":
            self._snapshot_done()

    def _take(self, element: dict[str, Any]) -> None:
        asset, balance = element.get("asset"), dec(element.get("balance"))
        if not isinstance(asset, str) or balance is None:
            return
        asset = asset.upper()
        wallets = element.get("wallets")
        if isinstance(wallets, list):  # a snapshot row: the asset in each wallet
            for wallet in wallets:
                amount = dec(wallet.get("balance")) if isinstance(wallet, dict) else None
                if amount is not None:
                    key = (str(wallet.get("type", "")), str(wallet.get("id", "")), asset)
                    self.wallets[key] = amount
            return
        wallet_type, wallet_id = element.get("wallet_type"), element.get("wallet_id")
        if isinstance(wallet_type, str):
            self.wallets[(wallet_type, str(wallet_id or ""), asset)] = balance
        else:  # no wallet named: the asset's only wallet
            self.wallets[("spot", "main", asset)] = balance


class MarginState(_Live):
    """The ``margin`` channel's two sections, each replaced whole by every message."""

    def __init__(self) -> None:
        super().__init__()
        self.multi: dict[str, Any] | None = None
        self.single: dict[str, Any] | None = None

    def deliver(self, kind: str, data: Any) -> None:
        if not isinstance(data, dict):
            return
        if kind == "multi_collateral":
            self.multi = data
        elif kind == "single_collateral":
            self.single = data
        if self.multi is not None and self.single is not None and not self.live:
            self._snapshot_done()

    def link_lost(self) -> None:
        super().link_lost()
        self.multi = self.single = None  # the new socket sends both sections again


def _num(section: dict[str, Any], name: str, fallback: str | None = None) -> Decimal:
    value = dec(section.get(name))
    if value is None and fallback is not None:
        value = dec(section.get(fallback))
    return _ZERO if value is None else value


def _flex(section: dict[str, Any], wallets: dict[tuple[str, str, str], Decimal]) -> FlexAccount:
    currencies: dict[str, FlexCurrency] = {}
    listed = section.get("currencies")
    for asset, figures in (listed if isinstance(listed, dict) else {}).items():
        if not isinstance(figures, dict):
            continue
        name = str(asset).upper()
        quantity = wallets.get(("flex", "flex", name), _num(figures, "quantity"))
        currencies[name] = FlexCurrency(
            quantity=quantity,
            value=_num(figures, "value"),
            collateral=_num(figures, "collateral_value", "collateral"),
            available=_num(figures, "available"),
        )
    return FlexAccount(
        type="multiCollateralMarginAccount",
        currencies=currencies,
        initial_margin=_num(section, "initial_margin_without_orders", "initial_margin"),
        initial_margin_with_orders=_num(section, "initial_margin"),
        maintenance_margin=_num(section, "maintenance_margin"),
        balance_value=_num(section, "balance_value"),
        portfolio_value=_num(section, "portfolio_value"),
        collateral_value=_num(section, "collateral_value"),
        pnl=_num(section, "pnl"),
        unrealized_funding=_num(section, "unrealized_funding"),
        total_unrealized=_num(section, "total_unrealized"),
        total_unrealized_as_margin=_num(section, "total_unrealized_as_margin", "total_unrealized"),
        available_margin=_num(section, "available_margin"),
        margin_equity=_num(section, "margin_equity"),
    )


def _margin_accounts(
    section: dict[str, Any] | None, wallets: dict[tuple[str, str, str], Decimal]
) -> dict[str, MarginAccount]:
    found: dict[str, MarginAccount] = {}
    listed = section.get("wallets") if section is not None else None
    for wallet in listed if isinstance(listed, list) else []:
        if not isinstance(wallet, dict) or not isinstance(wallet.get("id"), str):
            continue
        name, unit = wallet["id"], str(wallet.get("unit", "")).upper()
        balance = wallets.get(("margin", name, unit), _num(wallet, "balance"))
        found[name] = MarginAccount(
            type="marginAccount",
            currency=unit.lower(),
            balances={unit.lower(): balance},
            auxiliary=Auxiliary(
                usd=_ZERO,
                pv=_num(wallet, "portfolio_value"),
                pnl=_num(wallet, "pnl"),
                af=_num(wallet, "available"),
                funding=_num(wallet, "unrealized_funding"),
            ),
            margin_requirements=MarginRequirements(
                im=_num(wallet, "initial_margin"),
                mm=_num(wallet, "maintenance_margin"),
                lt=_ZERO,
                tt=_ZERO,
            ),
            trigger_estimates=_NONE,
        )
    return found


def accounts_from(wallets: WalletsState, margin: MarginState) -> Accounts:
    """REST's ``accounts`` answer from what the two channels showed (module docstring)."""
    cash = {
        asset.lower(): balance
        for (kind, _id, asset), balance in wallets.wallets.items()
        if kind not in ("flex", "margin")
    }
    return Accounts(
        cash=CashAccount(type="cashAccount", balances=cash) if cash else None,
        flex=None if margin.multi is None else _flex(margin.multi, wallets.wallets),
        margin_accounts=_margin_accounts(margin.single, wallets.wallets),
    )
