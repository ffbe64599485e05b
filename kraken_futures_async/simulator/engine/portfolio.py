"""Portfolio margining: the model's parameters, and what-if margin for a given portfolio.

Kraken's model is for options; the twin lists no options, so a simulated portfolio holds
futures and is margined with the engine's own rules (tiered initial and maintenance margin at
the current mark, :func:`.accounts.margin_for`), everything in USD. The stress figures apply the
price shocks of :data:`PARAMETERS` to the whole portfolio (market risk: the worst loss) and to
each base alone (cross-asset netting then gives back part of the difference). Greeks of a
future: delta is its size in the base currency, the others do not apply (null).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .._json import loads
from ..errors import ExchangeError
from ._text import ZERO, tidy
from .accounts import Account, Position, margin_for, position_pnl
from .instruments import InstrumentSpec
from .params import Params, parse_decimal
from .venue import Venue

__all__ = ["PARAMETERS", "PortfolioMargining"]

_SHOCKS = tuple(Decimal(s) for s in ("-0.15", "-0.1", "-0.05", "0", "0.05", "0.1", "0.15"))
_NETTING = Decimal("0.3")
PARAMETERS: dict[str, Any] = {
    "crossAssetNettingFactor": _NETTING,
    "extremePriceShockMultiplier": Decimal(3),
    "volShockMultiplicationFactor": Decimal("0.5"),
    "volShockExponentFactor": Decimal("0.3"),
    "optionExpiryTimeShockHours": 24,
    "optionsInitialMarginFactor": Decimal("1.25"),
    "totalOptionOrdersConsideredInInitialMarginCalc": 10,
    "priceShockLevels": list(_SHOCKS),
    "optionsUserLimits": {
        "maxNetPositionDelta": Decimal(1000),
        "limitsPerBaseCurrency": {
            base: {"maxTotalPositionSize": Decimal(limit), "maxTotalOpenOrdersSize": Decimal(limit)}
            for base, limit in (("XBT", 100), ("ETH", 1500))
        },
    },
}


def _positions(params: Params, venue: Venue) -> list[tuple[InstrumentSpec, Decimal, Decimal]]:
    text = params.required("json")
    document = loads(text)
    listed = document.get("positions") if isinstance(document, dict) else None
    if not isinstance(listed, list) or not listed:
        raise ExchangeError("requiredArgumentMissing")
    found = []
    for item in listed:
        if not isinstance(item, dict):
            raise ExchangeError("invalidArgument")
        spec = venue.spec_for(str(item.get("instrument", "")))
        size = parse_decimal(str(item.get("size", "")))
        price = parse_decimal(str(item.get("entryPrice", "")))
        if spec is None or size is None or price is None or size == 0 or price <= 0:
            raise ExchangeError("invalidArgument")
        found.append((spec, size, price))
    return found


class PortfolioMargining:
    def __init__(self, venue: Venue) -> None:
        self._venue = venue

    def portfolio_margining_parameters(self, account: Account, params: Params) -> dict[str, Any]:
        return dict(PARAMETERS)

    def simulate_portfolio(self, account: Account, params: Params) -> dict[str, Any]:
        venue = self._venue
        initial = maintenance = pnl = delta = ZERO
        scenarios = [ZERO] * len(_SHOCKS)
        by_base: dict[str, list[Decimal]] = {}
        greeks: dict[str, dict[str, Any]] = {}
        for spec, size, price in _positions(params, venue):
            mark = venue.mark_now(spec)
            usd = mark if spec.inverse else Decimal(1)  # coin amounts to USD
            im, mm = margin_for(spec, size, mark)
            initial += im * usd
            maintenance += mm * usd
            pnl += position_pnl(spec, Position(spec.symbol, size, price, 0.0), mark) * usd
            exposure = size if spec.inverse else size * mark  # USD moved by a 100 % shock
            delta += exposure
            moves = [exposure * shock for shock in _SHOCKS]
            scenarios = [a + b for a, b in zip(scenarios, moves, strict=True)]
            base = by_base.setdefault(spec.base, [ZERO] * len(_SHOCKS))
            by_base[spec.base] = [a + b for a, b in zip(base, moves, strict=True)]
            entry = greeks.setdefault(spec.symbol, {"iv": ZERO, "delta": ZERO})
            entry["delta"] += size / mark if spec.inverse else size
            entry.update(gamma=None, vega=None, theta=None, rho=None)
        risk = max(ZERO, -min(scenarios))
        separate = sum((max(ZERO, -min(pnls)) for pnls in by_base.values()), ZERO)
        netted = risk + _NETTING * (separate - risk)
        for entry in greeks.values():
            entry["delta"] = tidy(entry["delta"])
        return {
            "maintenanceMargin": tidy(maintenance),
            "initialMargin": tidy(initial),
            "pnl": tidy(pnl),
            "portfolioMarginBreakdown": {
                "totalCrossAssetNettedMarketRisk": tidy(netted),
                "totalMarketRisk": tidy(risk),
                "totalScenarioPnls": [tidy(p) for p in scenarios],
                "totalAbsoluteOptionPositionDeltaNotional": ZERO,
                "netPortfolioDelta": tidy(delta),
                "totalPremium": ZERO,
                "isBuyOnly": False,
                "futuresMaintenanceMargin": tidy(maintenance),
            },
            "greeks": greeks,
        }
