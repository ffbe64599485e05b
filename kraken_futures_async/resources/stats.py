"""The stats service: the account's market share and rebates per contract."""

from __future__ import annotations

from ..models import SelfMarketShare
from ..operations import NO_ARGUMENTS
from ..operations import catalog as ops
from ._base import Resource

__all__ = ["StatsResource"]


class StatsResource(Resource):
    """``kf.stats``: the account's self-market-share rebate statistics."""

    async def self_market_share(self) -> SelfMarketShare | None:
        """Market share, volume and rebates credited per rebate-eligible contract.

        ``None`` when Kraken has not aggregated the figures yet (it answers 204 No Content).
        The call is signed with the Session's key; the bearer JWT Kraken also accepts here is
        not used.
        """
        return await self._session.execute(ops.SELF_MARKET_SHARE, NO_ARGUMENTS)
