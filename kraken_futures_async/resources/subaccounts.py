"""Subaccounts of a master account and their trading switch."""

from __future__ import annotations

from ..models import Subaccounts
from ..operations import NO_ARGUMENTS
from ..operations import catalog as ops
from ..operations.account import SetSubaccountTrading, SubaccountQuery
from ._base import Resource

__all__ = ["SubaccountsResource"]


class SubaccountsResource(Resource):
    """``kf.subaccounts``: the master account's subaccounts and their trading switch."""

    async def list_all(self) -> Subaccounts:
        """Every subaccount with its balances, margin accounts and flex wallet."""
        return await self._session.execute(ops.SUBACCOUNTS, NO_ARGUMENTS)

    async def trading_enabled(self, subaccount_uid: str) -> bool:
        """Whether trading is allowed on a subaccount."""
        request = SubaccountQuery(subaccount_uid)
        return (await self._session.execute(ops.SUBACCOUNT_TRADING, request)).trading_enabled

    async def set_trading_enabled(self, subaccount_uid: str, enabled: bool) -> bool:
        """Allow or forbid trading on a subaccount; returns the switch as the exchange left it."""
        request = SetSubaccountTrading(subaccount_uid, enabled)
        return (await self._session.execute(ops.SET_SUBACCOUNT_TRADING, request)).trading_enabled
