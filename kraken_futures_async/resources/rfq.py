"""Requests for quote: open RFQs (public) and the account's offers on them.

Kraken's spec serves these on its demo host only; the calls are here for completeness and
for the exchange twin. Offers travel as a JSON body ``{"bid": .., "ask": ..}``.
"""

from __future__ import annotations

from ..errors import InvalidArgumentError
from ..models import PlacedOffer, Rfq, RfqOffer
from ..rest.endpoints import endpoint
from ..rest.wire import json_value
from ._args import check_text, optional_number
from ._base import Resource
from ._order_args import Number

__all__ = ["RfqResource"]

_RFQS = endpoint("rfqs")
_RFQ = endpoint("rfq")
_OPEN_OFFERS = endpoint("rfq_open_offers")
_PLACE = endpoint("place_rfq_offer")
_REPLACE = endpoint("replace_rfq_offer")
_CANCEL = endpoint("cancel_rfq_offer")


def _offer(bid: Number | None, ask: Number | None) -> list[tuple[str, str]]:
    """The JSON members of an offer: at least one side, as exact numbers."""
    sides = {"bid": optional_number("bid", bid), "ask": optional_number("ask", ask)}
    if all(price is None for price in sides.values()):
        raise InvalidArgumentError("an offer needs a bid, an ask, or both")
    return [(side, json_value(price)) for side, price in sides.items() if price is not None]


def _uid(rfq_uid: str) -> dict[str, str]:
    return {"rfqUid": check_text("rfq_uid", rfq_uid)}


class RfqResource(Resource):
    async def open_rfqs(self) -> list[Rfq]:
        result: list[Rfq] = await self._backend.call(_RFQS)
        return result

    async def get(self, rfq_uid: str) -> Rfq:
        """One open RFQ by its uid."""
        result: Rfq = await self._backend.call(_RFQ, path_params=_uid(rfq_uid))
        return result

    async def open_offers(self) -> list[RfqOffer]:
        """The account's offers on RFQs that are still open."""
        result: list[RfqOffer] = await self._backend.call(_OPEN_OFFERS)
        return result

    async def place_offer(
        self, rfq_uid: str, *, bid: Number | None = None, ask: Number | None = None
    ) -> PlacedOffer:
        result: PlacedOffer = await self._backend.call(
            _PLACE, _offer(bid, ask), path_params=_uid(rfq_uid)
        )
        return result

    async def replace_offer(
        self, rfq_uid: str, *, bid: Number | None = None, ask: Number | None = None
    ) -> None:
        """Replace the account's offer on ``rfq_uid`` with new prices."""
        await self._backend.call(_REPLACE, _offer(bid, ask), path_params=_uid(rfq_uid))

    async def cancel_offer(self, rfq_uid: str) -> None:
        await self._backend.call(_CANCEL, path_params=_uid(rfq_uid))
