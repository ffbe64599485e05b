"""Moving funds: between the account's wallets, with subaccounts, out to the Spot wallet."""

from __future__ import annotations

from ..models import Withdrawal
from ..rest.endpoints import endpoint
from ..rest.wire import encode_params
from ._args import check_text
from ._base import Resource
from ._order_args import Number, check_number

__all__ = ["TransfersResource"]

_TRANSFER = endpoint("transfer")
_SUBACCOUNT_TRANSFER = endpoint("subaccount_transfer")
_WITHDRAWAL = endpoint("withdrawal")


class TransfersResource(Resource):
    async def between_wallets(
        self, *, from_account: str, to_account: str, unit: str, amount: Number
    ) -> None:
        """Move ``amount`` of ``unit`` between two wallets (``cash``, ``flex``, ``fi_xbtusd``)."""
        params = {
            "fromAccount": check_text("from_account", from_account),
            "toAccount": check_text("to_account", to_account),
            "unit": check_text("unit", unit),
            "amount": check_number("amount", amount),
        }
        await self._backend.call(_TRANSFER, encode_params(params))

    async def with_subaccount(
        self,
        *,
        from_user: str,
        to_user: str,
        from_account: str,
        to_account: str,
        unit: str,
        amount: Number,
    ) -> None:
        """Move funds between the master account and a subaccount (users by account UID)."""
        params = {
            "fromUser": check_text("from_user", from_user),
            "toUser": check_text("to_user", to_user),
            "fromAccount": check_text("from_account", from_account),
            "toAccount": check_text("to_account", to_account),
            "unit": check_text("unit", unit),
            "amount": check_number("amount", amount),
        }
        await self._backend.call(_SUBACCOUNT_TRANSFER, encode_params(params))

    async def withdraw_to_spot(
        self, *, currency: str, amount: Number, source_wallet: str | None = None
    ) -> Withdrawal:
        """Send funds to the Kraken Spot wallet (needs a withdrawal key; costs 100 units).

        ``source_wallet`` defaults to ``cash`` on the exchange's side.
        """
        params = {
            "currency": check_text("currency", currency),
            "amount": check_number("amount", amount),
            "sourceWallet": None
            if source_wallet is None
            else check_text("source_wallet", source_wallet),
        }
        result: Withdrawal = await self._backend.call(_WITHDRAWAL, encode_params(params))
        return result
