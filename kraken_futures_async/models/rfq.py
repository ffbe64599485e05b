"""Requests for quote (options block trades) and the account's offers on them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

__all__ = ["PlacedOffer", "Rfq", "RfqLeg", "RfqOffer"]


@attrs.frozen(kw_only=True)
class RfqLeg:
    """One leg of an RFQ: contract, size and mark price."""

    symbol: str
    size: Decimal
    mark_price: Decimal


@attrs.frozen(kw_only=True)
class Rfq:
    """An open request for quote: its legs, mark price and expiry."""

    rfq_uid: str
    expiry: dt.datetime
    mark_price: Decimal
    legs: tuple[RfqLeg, ...]


@attrs.frozen(kw_only=True)
class RfqOffer:
    """The account's offer on an open RFQ: a bid, an ask, or both."""

    uid: str
    rfq_uid: str
    placement_date: dt.datetime
    last_update_date: dt.datetime
    bid: Decimal | None = None
    ask: Decimal | None = None


@attrs.frozen(kw_only=True)
class PlacedOffer:
    """The uid of an offer just placed on an RFQ."""

    offer_uid: str
