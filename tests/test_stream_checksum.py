"""Kraken's book checksum (reference §4.2): the worked vectors, our own, and a property.

``_spec_crc`` is written here from the reference's text, not from the library: sort each
side, take ten, drop the ``.`` and leading zeros of the wire text, asks then bids, CRC32.
"""

from __future__ import annotations

import zlib
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from kraken_futures_async.streams.checksum import book_checksum, level_digits, number_digits

Levels = list[tuple[str, str]]

# Reference §4.2, worked example: wire text, 11 levels per side (the 11th is excluded).
SNAPSHOT_ASKS: Levels = [
    ("96250.5", "0.1500"),
    ("96251.0", "1.2000"),
    ("96251.5", "0.0250"),
    ("96252.0", "3.0000"),
    ("96253.0", "0.5000"),
    ("96254.5", "0.0100"),
    ("96255.0", "2.7500"),
    ("96256.0", "0.4000"),
    ("96257.5", "1.0000"),
    ("96258.0", "0.0005"),
    ("96260.0", "9.9999"),
]
SNAPSHOT_BIDS: Levels = [
    ("96250.0", "0.3000"),
    ("96249.5", "0.0750"),
    ("96249.0", "1.5000"),
    ("96248.0", "0.2000"),
    ("96247.5", "4.0000"),
    ("96246.0", "0.0010"),
    ("96245.5", "0.6000"),
    ("96244.0", "2.2500"),
    ("96243.0", "0.0500"),
    ("96242.5", "1.1000"),
    ("96240.0", "7.0000"),
]
SNAPSHOT_ASKS_TEXT = (
    "962505150096251012000962515250962520300009625305000962545100962550275009625604000"
    "962575100009625805"
)
SNAPSHOT_BIDS_TEXT = (
    "9625003000962495750962490150009624802000962475400009624601096245560009624402250096243050"
    "096242511000"
)
# The state after the reference's update, as the reference lists it.
UPDATED_ASKS: Levels = [
    ("96251.0", "0.8000"),
    ("96251.5", "0.0250"),
    ("96252.0", "3.0000"),
    ("96253.0", "0.5000"),
    ("96254.5", "0.0100"),
    ("96255.0", "2.7500"),
    ("96256.0", "0.4000"),
    ("96257.5", "1.0000"),
    ("96258.0", "0.0005"),
    ("96260.0", "9.9999"),
]
UPDATED_BIDS: Levels = [
    ("96250.0", "0.4500"),
    ("96249.5", "0.0750"),
    ("96249.0", "1.5000"),
    ("96248.0", "0.2000"),
    ("96247.5", "4.0000"),
    ("96245.5", "0.6000"),
    ("96244.0", "2.2500"),
    ("96243.0", "0.0500"),
    ("96242.5", "1.1000"),
    ("96241.0", "0.9000"),
]
UPDATED_ASKS_TEXT = (
    "962510800096251525096252030000962530500096254510096255027500962560400096257510000"
    "962580596260099999"
)
UPDATED_BIDS_TEXT = (
    "962500450096249575096249015000962480200096247540000962455600096244022500962430500"
    "962425110009624109000"
)


def _spec_crc(asks: Levels, bids: Levels) -> int:
    def digits(text: str) -> str:
        return text.replace(".", "").lstrip("0")

    best_asks = sorted(asks, key=lambda level: Decimal(level[0]))[:10]
    best_bids = sorted(bids, key=lambda level: Decimal(level[0]), reverse=True)[:10]
    text = "".join(digits(p) + digits(q) for p, q in best_asks)
    text += "".join(digits(p) + digits(q) for p, q in best_bids)
    return zlib.crc32(text.encode()) & 0xFFFFFFFF


def _library_crc(asks: Levels, bids: Levels) -> int:
    best_asks = sorted(asks, key=lambda level: Decimal(level[0]))[:10]
    best_bids = sorted(bids, key=lambda level: Decimal(level[0]), reverse=True)[:10]
    return book_checksum(
        [level_digits(p, q) for p, q in best_asks], [level_digits(p, q) for p, q in best_bids]
    )


def test_reference_snapshot_strings_and_checksum() -> None:
    assert "".join(level_digits(p, q) for p, q in SNAPSHOT_ASKS[:10]) == SNAPSHOT_ASKS_TEXT
    assert "".join(level_digits(p, q) for p, q in SNAPSHOT_BIDS[:10]) == SNAPSHOT_BIDS_TEXT
    assert _library_crc(SNAPSHOT_ASKS, SNAPSHOT_BIDS) == 2622372199
    assert _spec_crc(SNAPSHOT_ASKS, SNAPSHOT_BIDS) == 2622372199


def test_reference_update_strings_and_checksum() -> None:
    assert "".join(level_digits(p, q) for p, q in UPDATED_ASKS) == UPDATED_ASKS_TEXT
    assert "".join(level_digits(p, q) for p, q in UPDATED_BIDS) == UPDATED_BIDS_TEXT
    assert _library_crc(UPDATED_ASKS, UPDATED_BIDS) == 2338580217


def test_reference_two_level_regression() -> None:
    asks = [("45285.2", "0.0010"), ("45286.0", "1.5000")]
    bids = [("45283.5", "0.2500"), ("45280.0", "2.0000")]
    assert _library_crc(asks, bids) == 2556469888


def test_trailing_zeros_change_the_checksum() -> None:
    assert _library_crc([("96250.5", "0.15")], [("96250.0", "0.3")]) == 811302386
    assert _library_crc([("96250.5", "0.1500")], [("96250.0", "0.3000")]) == 1855920721


# Our own vectors: the digit strings written out by hand, CRCs from binascii.crc32 in a shell.
def test_own_vector_small_prices_and_leading_zeros() -> None:
    asks = [("0.00012300", "150.00"), ("0.00012310", "0.5")]
    bids = [("0.00012290", "1000"), ("0.0001", "0.0100")]
    # "12300"+"15000", "12310"+"5" | "12290"+"1000", "1"+"100"
    assert _library_crc(asks, bids) == 1863635924
    assert _spec_crc(asks, bids) == 1863635924


def test_own_vector_one_side_empty_and_integer_text() -> None:
    assert _library_crc([], [("96250", "1")]) == 1254923128  # "962501"
    assert _library_crc([], []) == 0


def test_exponent_text_uses_its_fixed_point_digits() -> None:
    assert number_digits("1.50E-5") == number_digits("0.0000150") == "150"
    assert number_digits("1e3") == "1000"
    assert _library_crc([("1.50E-5", "2")], []) == 1558315216  # "150" + "2"


def test_number_digits_keeps_trailing_and_inner_zeros() -> None:
    assert number_digits("0.1500") == "1500"
    assert number_digits("0.15") == "15"
    assert number_digits("100.0") == "1000"
    assert number_digits("0.0005") == "5"
    assert number_digits("96250") == "96250"


_price_text = st.builds(
    lambda whole, fraction: f"{whole}.{fraction}" if fraction else str(whole),
    st.integers(0, 120_000),
    st.text("0123456789", max_size=6),
)
_level = st.tuples(_price_text, _price_text.filter(lambda text: Decimal(text) != 0))


@given(
    st.lists(_level, max_size=14, unique_by=lambda level: Decimal(level[0])),
    st.lists(_level, max_size=14, unique_by=lambda level: Decimal(level[0])),
)
def test_library_agrees_with_the_spec_on_random_books(asks: Levels, bids: Levels) -> None:
    assert _library_crc(asks, bids) == _spec_crc(asks, bids)
