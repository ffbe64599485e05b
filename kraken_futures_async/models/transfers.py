"""Results of moving funds: between wallets, to subaccounts, to the Spot wallet."""

from __future__ import annotations

import attrs

__all__ = ["Withdrawal"]


@attrs.frozen(kw_only=True)
class Withdrawal:
    """A withdrawal to the Spot wallet was accepted; ``uid`` identifies it."""

    uid: str
