"""Account state: wallets, margin and positions (read-only key)."""

from __future__ import annotations

from decimal import Decimal

from ..models import Accounts, Notification, OpenPosition, UnwindQueuePosition
from ..operations import NO_ARGUMENTS
from ..operations import catalog as ops
from ._base import Resource

__all__ = ["AccountResource"]


class AccountResource(Resource):
    """``kf.account``: the account's balances, positions and notices."""

    async def accounts(self) -> Accounts:
        """Cash, multi-collateral (flex) and single-collateral margin accounts."""
        return await self._session.execute(ops.ACCOUNTS, NO_ARGUMENTS)

    async def open_positions(self) -> list[OpenPosition]:
        """The account's open positions."""
        return await self._session.execute(ops.OPEN_POSITIONS, NO_ARGUMENTS)

    async def notifications(self) -> list[Notification]:
        """Platform notices; high-priority maintenance announces downtime."""
        return await self._session.execute(ops.NOTIFICATIONS, NO_ARGUMENTS)

    async def unwind_queue(self) -> list[UnwindQueuePosition]:
        """Each open position's percentile in the unwind queue (costs 200 budget units)."""
        return await self._session.execute(ops.UNWIND_QUEUE, NO_ARGUMENTS)

    async def fee_schedule_volumes(self) -> dict[str, Decimal]:
        """30-day USD volume by fee-schedule uid. Deprecated by Kraken; calling it warns."""
        return await self._session.execute(ops.FEE_SCHEDULE_VOLUMES, NO_ARGUMENTS)
