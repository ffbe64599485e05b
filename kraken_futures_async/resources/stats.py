"""The stats service: the account's market share and rebates per contract."""

from __future__ import annotations

from ..models import SelfMarketShare
from ..rest.endpoints import endpoint
from ._base import Resource

__all__ = ["StatsResource"]

_MARKET_SHARE = endpoint("self_market_share")


class StatsResource(Resource):
    async def self_market_share(self) -> SelfMarketShare | None:
        """Market share, volume and rebates credited per rebate-eligible contract.

        ``None`` when Kraken has not aggregated the figures yet (it answers 204 No Content).
        The call is signed with the Session's key; the bearer JWT Kraken also accepts here is
        not used.
        """
        result: SelfMarketShare | None = await self._backend.call(_MARKET_SHARE)
        return result
