"""Per-contract status flags and the perpetuals' funding-rate history.

A contract is "dislocated" while its mark strays from the index by more than
``DISLOCATION`` (the premium that also drives funding); the twin has no volatility regime,
so ``experiencingExtremeVolatility`` is always false with a margin multiplier of 1.

Funding is hourly: the rate listed at an hour is the relative rate the engine charges open
positions at that hour boundary (see :func:`.accounts.accrue_funding`), and ``fundingRate`` is
the same in USD per contract (relative rate times the mark then). Kraken lists about a year;
the twin lists the last ``FUNDING_DAYS`` days, oldest first. Rows are kept by (contract,
hour) in a cache of ``Retention.hourly_cache`` entries (30 days of one contract are 720).
"""

from __future__ import annotations

from typing import Any

from ..errors import ExchangeError, Reason
from ._text import iso_ms, tidy
from .instruments import InstrumentSpec
from .params import Params
from .retention import ClearingCache
from .venue import Venue

__all__ = ["DISLOCATION", "FUNDING_DAYS", "MarketStatus"]

DISLOCATION = 0.00035
FUNDING_DAYS = 30
_HOUR = 3600
_CONTRACT_TYPES = frozenset({"flexible_futures", "futures_inverse", "futures_vanilla"})


class MarketStatus:
    def __init__(self, venue: Venue) -> None:
        self._venue = venue
        self._rates: ClearingCache[tuple[str, int], dict[str, Any]]
        self._rates = ClearingCache(venue.retention.hourly_cache)

    # instrument status ------------------------------------------------------------------

    def _status(self, spec: InstrumentSpec) -> dict[str, Any]:
        premium = self._venue.prices.premium(spec, self._venue.second)
        dislocated = abs(premium) > DISLOCATION
        direction = None
        if dislocated:
            direction = "ABOVE_UPPER_BOUND" if premium > 0 else "BELOW_LOWER_BOUND"
        return {
            "tradeable": spec.symbol,
            "experiencingDislocation": dislocated,
            "priceDislocationDirection": direction,
            "experiencingExtremeVolatility": False,
            "extremeVolatilityInitialMarginMultiplier": 1,
        }

    def _listed(self, spec: InstrumentSpec) -> bool:
        return spec.expiry is None or self._venue.now < spec.expiry

    def instruments_status(self, params: Params) -> dict[str, Any]:
        wanted = frozenset(params.texts("contractType"))
        if not wanted <= _CONTRACT_TYPES:
            raise ExchangeError("invalidArgument")
        rows = [
            self._status(spec)
            for spec in self._venue.specs.values()
            if self._listed(spec) and (not wanted or spec.kind in wanted)
        ]
        return {"instrumentStatus": rows}

    def instrument_status(self, params: Params) -> dict[str, Any]:
        spec = self._venue.spec_for(params.required("symbol"))
        if spec is None or not self._listed(spec):
            raise ExchangeError(11, reason=Reason.VALIDATION, message="Argument invalid: symbol")
        return self._status(spec)

    # funding history ----------------------------------------------------------------------

    def historical_funding_rates(self, params: Params) -> dict[str, Any]:
        spec = self._venue.spec_for(params.required("symbol"))
        if spec is None or spec.funding_coefficient is None:
            raise ExchangeError("invalidArgument", reason=Reason.INVALID_ARGUMENT)
        last = int(self._venue.now) // _HOUR
        first = max(last - FUNDING_DAYS * 24 + 1, -(-int(spec.opening) // _HOUR))
        return {"rates": [self._rate(spec, hour) for hour in range(first, last + 1)]}

    def _rate(self, spec: InstrumentSpec, hour: int) -> dict[str, Any]:
        key = (spec.symbol, hour)
        row = self._rates.get(key)
        if row is None:
            prices = self._venue.prices
            relative = prices.relative_funding(spec, hour * _HOUR)
            mark = prices.mark(spec, hour * _HOUR)
            row = {
                "timestamp": iso_ms(hour * _HOUR),
                "fundingRate": tidy(relative * mark),
                "relativeFundingRate": relative,
            }
            self._rates.put(key, row)
        return row
