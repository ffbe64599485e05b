"""Requests for quote: a few open RFQs at any time, and the account's offers on them.

RFQs come in hourly rounds: each hour opens ``PER_ROUND`` new ones that expire at the end of
the hour, so which RFQs are open depends on the clock and the seed only. Their legs are
perpetual and dated contracts of the majors (Kraken's RFQs are for option packages; the twin
lists no options); an RFQ's mark is the mark of one unit of the package (each leg's mark, with
the sign of its size). An account holds at most one offer per RFQ; offers on RFQs that expired
are gone. An unknown or expired RFQ, or an offer the account does not have, is ``notFound``.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..errors import ExchangeError
from ._text import ZERO, iso_ms, tidy
from .accounts import Account
from .instruments import InstrumentSpec
from .params import Params
from .venue import Venue

__all__ = ["PER_ROUND", "ROUND", "Rfqs"]

ROUND = 3600
PER_ROUND = 3
_NAMESPACE = uuid.UUID("3f1c2a4e-8d5b-4c6a-9e7f-0a1b2c3d4e5f")
_SIZES = (Decimal(5), Decimal(10), Decimal(25))


@dataclass(frozen=True, slots=True)
class _Rfq:
    uid: str
    expiry: float
    legs: tuple[tuple[InstrumentSpec, Decimal], ...]


@dataclass(slots=True)
class _Offer:
    uid: str
    rfq: str
    placed: float
    updated: float
    bid: Decimal | None
    ask: Decimal | None


class Rfqs:
    def __init__(self, venue: Venue, seed: int) -> None:
        self._venue = venue
        self._seed = seed
        self._offers: dict[str, dict[str, _Offer]] = {}
        perpetuals = sorted(s for s, v in venue.specs.items() if v.perpetual and not v.inverse)
        self._bases = [s for s in ("PF_XBTUSD", "PF_ETHUSD") if s in venue.specs] or perpetuals[:2]

    # the open RFQs ----------------------------------------------------------------------

    def _dated(self, base: InstrumentSpec) -> InstrumentSpec | None:
        now = self._venue.now
        dated = [
            spec
            for spec in self._venue.specs.values()
            if spec.base == base.base
            and not spec.inverse
            and spec.expiry is not None
            and spec.expiry > now
        ]
        return min(dated, key=lambda spec: spec.expiry or 0.0) if dated else None

    def _open(self) -> list[_Rfq]:
        number = math.floor(self._venue.now / ROUND)
        found = []
        for index in range(PER_ROUND):
            base = self._venue.specs[self._bases[(number + index) % len(self._bases)]]
            size = _SIZES[(number + index) % len(_SIZES)]
            legs: tuple[tuple[InstrumentSpec, Decimal], ...] = ((base, size),)
            dated = self._dated(base)
            if index % 2 == 1 and dated is not None:  # a calendar spread
                legs = ((base, size), (dated, -size))
            uid = str(uuid.uuid5(_NAMESPACE, f"{self._seed}/{number}/{index}"))
            found.append(_Rfq(uid, float((number + 1) * ROUND), legs))
        return found

    def _find(self, params: Params) -> _Rfq:
        wanted = params.required("rfqUid").strip().lower()
        for rfq in self._open():
            if rfq.uid == wanted:
                return rfq
        raise ExchangeError("notFound")

    def _render(self, rfq: _Rfq) -> dict[str, Any]:
        legs = []
        package = ZERO
        for spec, size in rfq.legs:
            mark = self._venue.mark_now(spec)
            package += mark if size > 0 else -mark
            legs.append({"symbol": spec.symbol, "size": size, "markPrice": mark})
        return {
            "rfqUid": rfq.uid,
            "expiry": iso_ms(rfq.expiry),
            "markPrice": tidy(package),
            "legs": legs,
        }

    def rfqs(self, params: Params) -> dict[str, Any]:
        return {"rfqs": [self._render(rfq) for rfq in self._open()]}

    def rfq(self, params: Params) -> dict[str, Any]:
        return {"rfq": self._render(self._find(params))}

    # the account's offers ---------------------------------------------------------------

    def _book(self, account: Account) -> dict[str, _Offer]:
        book = self._offers.setdefault(account.uid, {})
        open_now = {rfq.uid for rfq in self._open()}
        for expired in [uid for uid in book if uid not in open_now]:
            del book[expired]
        return book

    @staticmethod
    def _prices(params: Params) -> tuple[Decimal | None, Decimal | None]:
        bid, ask = params.decimal("bid"), params.decimal("ask")
        if bid is None and ask is None:
            raise ExchangeError("requiredArgumentMissing")
        if (bid is not None and ask is not None and bid >= ask) or any(
            p is not None and p <= 0 for p in (bid, ask)
        ):
            raise ExchangeError("invalidArgument")
        return bid, ask

    def rfq_open_offers(self, account: Account, params: Params) -> dict[str, Any]:
        offers = []
        for offer in self._book(account).values():
            row: dict[str, Any] = {
                "uid": offer.uid,
                "rfqUid": offer.rfq,
                "placementDate": iso_ms(offer.placed),
                "lastUpdateDate": iso_ms(offer.updated),
            }
            for side, price in (("bid", offer.bid), ("ask", offer.ask)):
                if price is not None:
                    row[side] = format(price, "f")
            offers.append(row)
        return {"openOffers": offers}

    def place_rfq_offer(self, account: Account, params: Params) -> dict[str, Any]:
        rfq = self._find(params)
        book = self._book(account)
        if rfq.uid in book:
            raise ExchangeError("invalidArgument")
        bid, ask = self._prices(params)
        now = self._venue.now
        offer = _Offer(self._venue.journal.new_uid(), rfq.uid, now, now, bid, ask)
        book[rfq.uid] = offer
        return {"offerUid": offer.uid}

    def replace_rfq_offer(self, account: Account, params: Params) -> dict[str, Any]:
        rfq = self._find(params)
        offer = self._book(account).get(rfq.uid)
        if offer is None:
            raise ExchangeError("notFound")
        offer.bid, offer.ask = self._prices(params)
        offer.updated = self._venue.now
        return {}

    def cancel_rfq_offer(self, account: Account, params: Params) -> dict[str, Any]:
        rfq = self._find(params)
        if self._book(account).pop(rfq.uid, None) is None:
            raise ExchangeError("notFound")
        return {}
