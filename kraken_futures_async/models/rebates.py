"""The stats service's market-share rebates per contract."""

from __future__ import annotations

from decimal import Decimal

import attrs

__all__ = ["ContractMarketShare", "SelfMarketShare"]


@attrs.frozen(kw_only=True)
class ContractMarketShare:
    """One contract's self-market-share figures: share, volume and the USD rebate credited."""

    market_share: Decimal
    volume: Decimal
    usd_rebate_credited: Decimal


@attrs.frozen(kw_only=True)
class SelfMarketShare:
    """The account's share of each rebate-eligible contract's volume, and rebates credited."""

    contracts: dict[str, ContractMarketShare]
