"""Subaccounts of a master account and their trading switch."""

from __future__ import annotations

from ..errors import InvalidArgumentError
from ..models import Subaccounts, SubaccountTrading
from ..rest.endpoints import endpoint
from ..rest.wire import encode_params
from ._args import check_text
from ._base import Resource

__all__ = ["SubaccountsResource"]

_LIST = endpoint("subaccounts")
_TRADING = endpoint("subaccount_trading")
_SET_TRADING = endpoint("set_subaccount_trading")


class SubaccountsResource(Resource):
    async def list_all(self) -> Subaccounts:
        """Every subaccount with its balances, margin accounts and flex wallet."""
        result: Subaccounts = await self._backend.call(_LIST)
        return result

    async def trading_enabled(self, subaccount_uid: str) -> bool:
        result: SubaccountTrading = await self._backend.call(
            _TRADING, path_params={"subaccountUid": check_text("subaccount_uid", subaccount_uid)}
        )
        return result.trading_enabled

    async def set_trading_enabled(self, subaccount_uid: str, enabled: bool) -> bool:
        """Allow or forbid trading on a subaccount; returns the switch as the exchange left it."""
        if not isinstance(enabled, bool):
            raise InvalidArgumentError(f"enabled must be True or False, got {enabled!r}")
        result: SubaccountTrading = await self._backend.call(
            _SET_TRADING,
            encode_params({"tradingEnabled": enabled}),
            path_params={"subaccountUid": check_text("subaccount_uid", subaccount_uid)},
        )
        return result.trading_enabled
