"""Moving funds: between the account's wallets, with subaccounts, out to the Spot wallet."""

from __future__ import annotations

from ..models import Withdrawal
from ..operations import catalog as ops
from ..operations.account import SubaccountTransfer, WalletTransfer, WithdrawalToSpot
from ..operations.checks import Number
from ._base import Resource

__all__ = ["TransfersResource"]


class TransfersResource(Resource):
    """``kf.transfers``: moving funds between wallets, to and from subaccounts, and to the
    Spot account."""

    async def between_wallets(
        self, *, from_account: str, to_account: str, unit: str, amount: Number
    ) -> None:
        """Move ``amount`` of ``unit`` between two wallets (``cash``, ``flex``, ``fi_xbtusd``)."""
        request = WalletTransfer(
            from_account=from_account, to_account=to_account, unit=unit, amount=amount
        )
        await self._session.execute(ops.TRANSFER, request)

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
        request = SubaccountTransfer(
            from_user=from_user,
            to_user=to_user,
            from_account=from_account,
            to_account=to_account,
            unit=unit,
            amount=amount,
        )
        await self._session.execute(ops.SUBACCOUNT_TRANSFER, request)

    async def withdraw_to_spot(
        self, *, currency: str, amount: Number, source_wallet: str | None = None
    ) -> Withdrawal:
        """Send funds to the Kraken Spot wallet (needs a withdrawal key; costs 100 units).

        ``source_wallet`` defaults to ``cash`` on the exchange's side.
        """
        request = WithdrawalToSpot(currency=currency, amount=amount, source_wallet=source_wallet)
        return await self._session.execute(ops.WITHDRAWAL, request)
