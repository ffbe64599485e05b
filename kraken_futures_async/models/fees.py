"""Fee schedules and 30-day volumes (both deprecated by Kraken on 2026-06-22)."""

from __future__ import annotations

from decimal import Decimal

import attrs

__all__ = ["FeeSchedule", "FeeTier"]


@attrs.frozen(kw_only=True)
class FeeTier:
    """Fees in percent (``0.02`` is 0.02 %) from ``usd_volume`` of 30-day volume upwards."""

    maker_fee: Decimal
    taker_fee: Decimal
    usd_volume: Decimal


@attrs.frozen(kw_only=True)
class FeeSchedule:
    """A fee schedule and its volume tiers."""

    uid: str
    name: str
    tiers: tuple[FeeTier, ...]
