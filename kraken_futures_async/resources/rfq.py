"""Requests for quote: open RFQs (public) and the account's offers on them.

Kraken's spec serves these on its demo host only; the calls are here for completeness and
for the exchange twin.
"""

from __future__ import annotations

from ..models import PlacedOffer, Rfq, RfqOffer
from ..operations import NO_ARGUMENTS
from ..operations import catalog as ops
from ..operations.account import OfferPrices, RfqQuery
from ..operations.checks import Number
from ._base import Resource

__all__ = ["RfqResource"]


class RfqResource(Resource):
    """``kf.rfq``: requests for quote and the account's offers on them."""

    async def open_rfqs(self) -> list[Rfq]:
        """Every open RFQ."""
        return await self._session.execute(ops.RFQS, NO_ARGUMENTS)

    async def get(self, rfq_uid: str) -> Rfq:
        """One open RFQ by its uid."""
        return await self._session.execute(ops.RFQ, RfqQuery(rfq_uid))

    async def open_offers(self) -> list[RfqOffer]:
        """The account's offers on RFQs that are still open."""
        return await self._session.execute(ops.RFQ_OPEN_OFFERS, NO_ARGUMENTS)

    async def place_offer(
        self, rfq_uid: str, *, bid: Number | None = None, ask: Number | None = None
    ) -> PlacedOffer:
        """Offer a bid, an ask or both on an open RFQ."""
        return await self._session.execute(
            ops.PLACE_RFQ_OFFER, OfferPrices(rfq_uid, bid=bid, ask=ask)
        )

    async def replace_offer(
        self, rfq_uid: str, *, bid: Number | None = None, ask: Number | None = None
    ) -> None:
        """Replace the account's offer on ``rfq_uid`` with new prices."""
        await self._session.execute(ops.REPLACE_RFQ_OFFER, OfferPrices(rfq_uid, bid=bid, ask=ask))

    async def cancel_offer(self, rfq_uid: str) -> None:
        """Withdraw the account's offer on an RFQ."""
        await self._session.execute(ops.CANCEL_RFQ_OFFER, RfqQuery(rfq_uid))
