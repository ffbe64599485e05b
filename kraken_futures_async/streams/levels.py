"""One side of a local book: levels kept sorted best first, each beside its wire text.

A side is three parallel lists (sort keys, user-facing levels, wire text) kept in order with
:mod:`bisect`: a change costs one binary search (O(log depth)) and at most one insert or
delete per list (a memmove of pointers), so an update never re-sorts the side, and a view is
one C-level copy of the levels list. Bids are keyed by the negated price so that both sides
read best first and truncate with one slice. The side's part of the checksum text is kept
until a change reaches its top ten."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from decimal import Decimal
from typing import NamedTuple, TypeAlias

from .checksum import CHECKSUM_DEPTH, level_digits

__all__ = ["BookLevel", "BookSide", "WireLevel"]

#: A level as the decoder hands it over: ``(price_text, qty_text)``, each the JSON number's
#: text exactly as on the wire (``"0.1500"``, not ``"0.15"``). A qty of zero deletes the level.
#: This is the one input shape to change if the decoder yields something else: only
#: :meth:`BookSide.apply` reads it. (A decoder that yields exact Decimals instead loses
#: nothing for a JSON number without exponent: ``format(Decimal("0.1500"), "f")`` is its text.)
WireLevel: TypeAlias = tuple[str, str]


class BookLevel(NamedTuple):
    """One price level as users see it: a plain tuple, ``price, size = level`` works."""

    price: Decimal
    size: Decimal


#: A level's checksum digits (None until the checksum needs them) and its wire text.
_Text: TypeAlias = tuple[str | None, WireLevel]
_new_tuple = tuple.__new__  # builds a BookLevel without NamedTuple's Python-level __new__


class BookSide:
    """The levels of one side, best first: bids by price descending, asks ascending."""

    __slots__ = ("_descending", "_keys", "_levels", "_texts", "_top_text")

    def __init__(self, *, descending: bool) -> None:
        self._descending = descending
        self._keys: list[Decimal] = []
        self._levels: list[BookLevel] = []
        self._texts: list[_Text] = []
        self._top_text: str | None = ""

    def clear(self) -> None:
        self._keys.clear()
        self._levels.clear()
        self._texts.clear()
        self._top_text = ""

    def apply(self, changes: Iterable[WireLevel], depth: int) -> None:
        """Set or delete each level in order, then keep the best ``depth``.

        One message may touch a price twice, hence in order. Kraken sends no delete for the
        levels that fall out of range, hence the truncation.
        """
        keys = self._keys
        levels = self._levels
        texts = self._texts
        descending = self._descending
        top_changed = False
        for price_text, qty_text in changes:
            price = Decimal(price_text)
            qty = Decimal(qty_text)
            key = -price if descending else price
            at = bisect_left(keys, key)
            if at < CHECKSUM_DEPTH:
                top_changed = True
            present = at < len(keys) and keys[at] == key
            if qty:
                if qty < 0:
                    raise ValueError(f"negative qty {qty_text!r} at price {price_text!r}")
                level: BookLevel = _new_tuple(BookLevel, (price, qty))
                # digits only where the checksum will read them soon; the rest on demand
                digits = level_digits(price_text, qty_text) if at < CHECKSUM_DEPTH else None
                text = (digits, (price_text, qty_text))
                if present:
                    levels[at] = level
                    texts[at] = text
                else:
                    keys.insert(at, key)
                    levels.insert(at, level)
                    texts.insert(at, text)
            elif present:
                del keys[at]
                del levels[at]
                del texts[at]
        if len(keys) > depth:
            del keys[depth:]
            del levels[depth:]
            del texts[depth:]
            if depth < CHECKSUM_DEPTH:
                top_changed = True
        if top_changed:
            self._top_text = None

    def checksum_text(self) -> str:
        """The best ten levels' checksum digits, joined best first."""
        text = self._top_text
        if text is None:
            texts = self._texts
            try:  # every digit string already there: the usual case
                text = self._top_text = "".join([digits for digits, _ in texts[:CHECKSUM_DEPTH]])  # type: ignore[misc]
                return text
            except TypeError:
                pass
            parts = []
            for at in range(min(CHECKSUM_DEPTH, len(texts))):
                digits, wire = texts[at]
                if digits is None:
                    digits = level_digits(*wire)
                    texts[at] = (digits, wire)
                parts.append(digits)
            text = self._top_text = "".join(parts)
        return text

    def levels(self) -> tuple[BookLevel, ...]:
        return tuple(self._levels)

    def wire(self) -> tuple[WireLevel, ...]:
        return tuple([wire for _, wire in self._texts])
