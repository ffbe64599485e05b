"""Account state: wallets, margin and positions (read-only key)."""

from __future__ import annotations

from ..endpoints import endpoint
from ..models import Accounts, OpenPosition
from ._base import Resource

__all__ = ["AccountResource"]

_ACCOUNTS = endpoint("accounts")
_OPEN_POSITIONS = endpoint("open_positions")


class AccountResource(Resource):
    async def accounts(self) -> Accounts:
        """Cash, multi-collateral (flex) and single-collateral margin accounts."""
        result: Accounts = await self._backend.call(_ACCOUNTS)
        return result

    async def open_positions(self) -> list[OpenPosition]:
        result: list[OpenPosition] = await self._backend.call(_OPEN_POSITIONS)
        return result
