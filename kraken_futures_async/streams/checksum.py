"""Kraken's book checksum: CRC32 over the top ten levels' digits, exactly as on the wire.

The digits of a level are its price text then its qty text, each with the ``.`` removed and
leading zeros stripped (``0.1500`` gives ``1500``, ``0.15`` gives ``15``: trailing zeros
count). The asks' digits (best ten, price ascending) come first, then the bids' (best ten,
price descending); the checksum is the unsigned CRC32 of that ASCII text.

Exponent notation (``1.50E-5``) is not expected on the wire (see :mod:`.book` for the
choice); if it appears, its digits are those of its fixed-point form (``0.0000150``),
which keeps the significant trailing zeros.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from decimal import Decimal

__all__ = ["CHECKSUM_DEPTH", "book_checksum", "checksum_of_text", "level_digits", "number_digits"]

#: Levels per side that enter the checksum, whatever the subscribed depth.
CHECKSUM_DEPTH = 10


def number_digits(text: str) -> str:
    """One number's contribution: its wire text without ``.`` and without leading zeros."""
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    return text.replace(".", "").lstrip("0")


def level_digits(price_text: str, qty_text: str) -> str:
    """One level's contribution: price digits then qty digits."""
    digits = price_text.replace(".", "").lstrip("0") + qty_text.replace(".", "").lstrip("0")
    if digits.isdigit():  # the usual case; anything else (an exponent) takes the careful path
        return digits
    return number_digits(price_text) + number_digits(qty_text)


def book_checksum(ask_digits: Iterable[str], bid_digits: Iterable[str]) -> int:
    """CRC32 of the given levels' digits, asks first; pass each side's best ten, best first."""
    return checksum_of_text("".join(ask_digits), "".join(bid_digits))


def checksum_of_text(asks_text: str, bids_text: str) -> int:
    """CRC32 of both sides' joined digits (asks first), unsigned."""
    return zlib.crc32((asks_text + bids_text).encode("ascii"))
