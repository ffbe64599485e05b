"""Portfolio margining (options): its parameters, simulations, and the unwind queue."""

from __future__ import annotations

from decimal import Decimal

import attrs

from .account import PortfolioMarginBreakdown
from .market import OptionGreeks

__all__ = [
    "BaseCurrencyLimits",
    "OptionsUserLimits",
    "PortfolioMarginingParameters",
    "PortfolioSimulation",
    "SimulatedPosition",
    "UnwindQueuePosition",
]


@attrs.frozen(kw_only=True)
class BaseCurrencyLimits:
    max_total_position_size: Decimal
    max_total_open_orders_size: Decimal


@attrs.frozen(kw_only=True)
class OptionsUserLimits:
    max_net_position_delta: Decimal
    limits_per_base_currency: dict[str, BaseCurrencyLimits]


@attrs.frozen(kw_only=True)
class PortfolioMarginingParameters:
    """The stress scenarios and factors Kraken's options margin model applies."""

    cross_asset_netting_factor: Decimal
    extreme_price_shock_multiplier: Decimal
    vol_shock_multiplication_factor: Decimal
    vol_shock_exponent_factor: Decimal
    option_expiry_time_shock_hours: int
    options_initial_margin_factor: Decimal
    total_option_orders_considered_in_initial_margin_calc: int
    price_shock_levels: tuple[Decimal, ...]
    options_user_limits: OptionsUserLimits


@attrs.frozen(kw_only=True)
class SimulatedPosition:
    """One position of a hypothetical portfolio (an argument, not an answer)."""

    instrument: str
    size: Decimal
    entry_price: Decimal


@attrs.frozen(kw_only=True)
class PortfolioSimulation:
    """Margin, PnL and greeks the exchange computes for a hypothetical portfolio."""

    maintenance_margin: Decimal
    initial_margin: Decimal
    pnl: Decimal
    portfolio_margin_breakdown: PortfolioMarginBreakdown
    greeks: dict[str, OptionGreeks]


@attrs.frozen(kw_only=True)
class UnwindQueuePosition:
    """Where a position ranks in the unwind queue (Kraken says 20, 40, 80 or 100)."""

    symbol: str
    percentile: int
