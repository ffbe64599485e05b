"""Account state: wallets, margin and positions (read-only key)."""

from __future__ import annotations

from decimal import Decimal

from ..models import Accounts, Notification, OpenPosition, UnwindQueuePosition
from ..rest.endpoints import endpoint
from ._base import Resource

__all__ = ["AccountResource"]

_ACCOUNTS = endpoint("accounts")
_OPEN_POSITIONS = endpoint("open_positions")
_NOTIFICATIONS = endpoint("notifications")
_UNWIND_QUEUE = endpoint("unwind_queue")
_FEE_VOLUMES = endpoint("fee_schedule_volumes")


class AccountResource(Resource):
    async def accounts(self) -> Accounts:
        """Cash, multi-collateral (flex) and single-collateral margin accounts."""
        result: Accounts = await self._backend.call(_ACCOUNTS)
        return result

    async def open_positions(self) -> list[OpenPosition]:
        result: list[OpenPosition] = await self._backend.call(_OPEN_POSITIONS)
        return result

    async def notifications(self) -> list[Notification]:
        """Platform notices; high-priority maintenance announces downtime."""
        result: list[Notification] = await self._backend.call(_NOTIFICATIONS)
        return result

    async def unwind_queue(self) -> list[UnwindQueuePosition]:
        """Each open position's percentile in the unwind queue (costs 200 budget units)."""
        result: list[UnwindQueuePosition] = await self._backend.call(_UNWIND_QUEUE)
        return result

    async def fee_schedule_volumes(self) -> dict[str, Decimal]:
        """30-day USD volume by fee-schedule uid. Deprecated by Kraken; calling it warns."""
        result: dict[str, Decimal] = await self._backend.call(_FEE_VOLUMES)
        return result
