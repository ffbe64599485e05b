"""The ``margin`` channel of ``/v2/private`` (kraken-uws-api.md §5.5), read from the engine.

Facts: derivatives only (``asset_class`` required), no ``snapshot`` param (sending one is
refused with ``'params.snapshot' is not valid for the margin channel``), one subscription per
connection, and every message a complete replacement of one section: ``multi_collateral``
(the flex wallet) or ``single_collateral`` (the single-collateral wallets); the current state
arrives on subscribe.

Field names are [?] in Kraken's documentation; the twin uses the v1 ``balances`` names the
reference names as the best guess: ``multi_collateral`` carries ``balance_value``,
``portfolio_value``, ``collateral_value``, ``initial_margin`` (with orders, as v1's),
``initial_margin_without_orders``, ``maintenance_margin``, ``pnl``, ``unrealized_funding``,
``total_unrealized``, ``total_unrealized_as_margin``, ``margin_equity``, ``available_margin``
and ``currencies{ASSET: {quantity, value, collateral_value, available}}``;
``single_collateral`` carries ``wallets``, one per wallet: ``id``, ``unit``, ``balance``,
``portfolio_value``, ``pnl``, ``unrealized_funding``, ``available``, ``initial_margin``,
``maintenance_margin`` (v1 ``futures`` balances). Both are read from the engine's REST
``accounts`` answer, so the two wires always agree.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .wire import encode

__all__ = ["MARGIN_SNAPSHOT_REFUSAL", "margin_pushes"]

#: The refusal of a ``snapshot`` param (reference §5.5).
MARGIN_SNAPSHOT_REFUSAL = "'params.snapshot' is not valid for the margin channel"


def _flex(flex: dict[str, Any]) -> dict[str, Any]:
    currencies = {
        str(asset).upper(): {
            "quantity": Decimal(str(figures["quantity"])),
            "value": Decimal(str(figures["value"])),
            "collateral_value": Decimal(str(figures["collateral"])),
            "available": Decimal(str(figures["available"])),
        }
        for asset, figures in flex["currencies"].items()
    }
    names = {
        "balance_value": "balanceValue",
        "portfolio_value": "portfolioValue",
        "collateral_value": "collateralValue",
        "initial_margin": "initialMarginWithOrders",
        "initial_margin_without_orders": "initialMargin",
        "maintenance_margin": "maintenanceMargin",
        "pnl": "pnl",
        "unrealized_funding": "unrealizedFunding",
        "total_unrealized": "totalUnrealized",
        "total_unrealized_as_margin": "totalUnrealizedAsMargin",
        "margin_equity": "marginEquity",
        "available_margin": "availableMargin",
    }
    data: dict[str, Any] = {name: Decimal(str(flex[rest])) for name, rest in names.items()}
    data["currencies"] = currencies
    return data


def _single(accounts: dict[str, Any]) -> dict[str, Any]:
    wallets = []
    for name, body in sorted(accounts.items()):
        if not isinstance(body, dict) or body.get("type") != "marginAccount":
            continue
        coin = str(body["currency"])
        aux, margin = body["auxiliary"], body["marginRequirements"]
        wallets.append(
            {
                "id": name,
                "unit": coin.upper(),
                "balance": Decimal(str(body["balances"][coin])),
                "portfolio_value": Decimal(str(aux["pv"])),
                "pnl": Decimal(str(aux["pnl"])),
                "unrealized_funding": Decimal(str(aux["funding"])),
                "available": Decimal(str(aux["af"])),
                "initial_margin": Decimal(str(margin["im"])),
                "maintenance_margin": Decimal(str(margin["mm"])),
            }
        )
    return {"wallets": wallets}


def margin_pushes(accounts: dict[str, Any]) -> list[str]:
    """The two ``margin`` messages for an engine ``accounts`` object (REST shape)."""
    return [
        encode({"channel": "margin", "type": "multi_collateral", "data": _flex(accounts["flex"])}),
        encode({"channel": "margin", "type": "single_collateral", "data": _single(accounts)}),
    ]
