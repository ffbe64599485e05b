"""Per-contract market state beyond the ticker: dislocation and volatility flags, funding."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from ._base import WireEnum

__all__ = ["DislocationDirection", "FundingRate", "InstrumentStatus"]


class DislocationDirection(WireEnum):
    """Which bound of its price band a dislocated contract's price has crossed."""

    ABOVE_UPPER_BOUND = "ABOVE_UPPER_BOUND"
    BELOW_LOWER_BOUND = "BELOW_LOWER_BOUND"
    UNKNOWN = "unknown"


@attrs.frozen(kw_only=True)
class InstrumentStatus:
    """Whether a contract trades away from its index, or in extreme volatility."""

    tradeable: str
    experiencing_dislocation: bool
    price_dislocation_direction: DislocationDirection | None
    experiencing_extreme_volatility: bool
    #: Factor applied to initial margin while volatility is extreme.
    extreme_volatility_initial_margin_multiplier: int


@attrs.frozen(kw_only=True)
class FundingRate:
    """One funding period of a perpetual; ``timestamp`` is the start of the period.

    ``funding_rate`` is absolute (quote currency per contract), ``relative_funding_rate`` the
    fraction of the price.
    """

    timestamp: dt.datetime
    funding_rate: Decimal
    relative_funding_rate: Decimal
