"""The local order book (issue 11, item 2): apply, truncate, verify, and refuse when wrong.

The property tests hold :class:`LocalBook` to a naive model written here (a dict, a full sort
and a truncation after every message) with the checksum computed from the reference's text.
"""

from __future__ import annotations

import datetime as dt
import zlib
from decimal import Decimal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kraken_futures_async.errors import InvalidArgumentError
from kraken_futures_async.streams import (
    BookLevel,
    BookMessage,
    BookOutOfSyncError,
    ChecksumMismatchError,
    LocalBook,
)

from .test_stream_checksum import (
    SNAPSHOT_ASKS,
    SNAPSHOT_BIDS,
    UPDATED_ASKS,
    UPDATED_BIDS,
    Levels,
)

SYMBOL = "PF_XBTUSD"
T0 = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)
T1 = dt.datetime(2026, 12, 1, 12, 0, 0, 250000, tzinfo=dt.UTC)


def _message(
    bids: Levels,
    asks: Levels,
    checksum: int | None,
    *,
    snapshot: bool = False,
    at: dt.datetime = T0,
) -> BookMessage:
    return BookMessage(
        symbol=SYMBOL, snapshot=snapshot, bids=bids, asks=asks, checksum=checksum, timestamp=at
    )


class NaiveBook:
    """The reference model: dicts of wire text, fully sorted and truncated after each message."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.bids: dict[Decimal, tuple[str, str]] = {}
        self.asks: dict[Decimal, tuple[str, str]] = {}

    def apply(self, bids: Levels, asks: Levels, *, snapshot: bool) -> None:
        if snapshot:
            self.bids, self.asks = {}, {}
        for side, changes in ((self.bids, bids), (self.asks, asks)):
            for price, qty in changes:
                if Decimal(qty) == 0:
                    side.pop(Decimal(price), None)
                else:
                    side[Decimal(price)] = (price, qty)
        self.bids = dict(self.sorted_bids())
        self.asks = dict(self.sorted_asks())

    def sorted_bids(self) -> list[tuple[Decimal, tuple[str, str]]]:
        return sorted(self.bids.items(), reverse=True)[: self.depth]

    def sorted_asks(self) -> list[tuple[Decimal, tuple[str, str]]]:
        return sorted(self.asks.items())[: self.depth]

    def wire(self) -> tuple[Levels, Levels]:
        return [w for _, w in self.sorted_bids()], [w for _, w in self.sorted_asks()]

    def checksum(self) -> int:
        def digits(text: str) -> str:
            return text.replace(".", "").lstrip("0")

        bids, asks = self.wire()
        text = "".join(digits(p) + digits(q) for p, q in asks[:10])
        text += "".join(digits(p) + digits(q) for p, q in bids[:10])
        return zlib.crc32(text.encode()) & 0xFFFFFFFF


def _levels(wire: Levels) -> tuple[BookLevel, ...]:
    return tuple(BookLevel(Decimal(p), Decimal(q)) for p, q in wire)


def _reference_book() -> LocalBook:
    book = LocalBook(SYMBOL, depth=10)
    book.apply(_message(SNAPSHOT_BIDS, SNAPSHOT_ASKS, 2622372199, snapshot=True))
    return book


# The reference's worked example (§4.2) through the book


def test_reference_snapshot_is_truncated_and_verified() -> None:
    view = _reference_book().view()
    assert view.checksum == 2622372199
    assert view.timestamp == T0
    assert view.asks == _levels(SNAPSHOT_ASKS[:10])
    assert view.bids == _levels(SNAPSHOT_BIDS[:10])
    assert view.best_ask == BookLevel(Decimal("96250.5"), Decimal("0.15"))
    assert view.best_bid == BookLevel(Decimal("96250.0"), Decimal("0.3"))


def test_reference_update_gives_the_reference_state() -> None:
    book = _reference_book()
    book.apply(
        _message(
            [("96250.0", "0.4500"), ("96246.0", "0"), ("96241.0", "0.9000")],
            [("96250.5", "0"), ("96251.0", "0.8000"), ("96260.0", "9.9999")],
            2338580217,
            at=T1,
        )
    )
    view = book.view()
    assert (view.checksum, view.timestamp) == (2338580217, T1)
    assert view.asks == _levels(UPDATED_ASKS)
    assert view.bids == _levels(UPDATED_BIDS)
    assert book.wire_levels() == (tuple(UPDATED_BIDS), tuple(UPDATED_ASKS))


def test_two_level_regression_vector() -> None:
    book = LocalBook(SYMBOL)
    asks = [("45285.2", "0.0010"), ("45286.0", "1.5000")]
    bids = [("45283.5", "0.2500"), ("45280.0", "2.0000")]
    book.apply(_message(bids, asks, 2556469888, snapshot=True))
    assert book.view().checksum == 2556469888


# Exact digits


def test_trailing_zeros_on_the_wire_are_what_is_checked() -> None:
    book = LocalBook(SYMBOL)
    book.apply(
        _message([("96250.0", "0.3000")], [("96250.5", "0.1500")], 1855920721, snapshot=True)
    )
    with pytest.raises(ChecksumMismatchError) as caught:  # the checksum of 0.15 / 0.3
        book.apply(
            _message([("96250.0", "0.3000")], [("96250.5", "0.1500")], 811302386, snapshot=True)
        )
    assert (caught.value.expected, caught.value.computed) == (811302386, 1855920721)


def test_requoted_price_takes_the_new_text() -> None:
    book = LocalBook(SYMBOL)
    book.apply(_message([("96250.0", "0.3")], [("96250.5", "0.15")], 811302386, snapshot=True))
    # Same prices and sizes, new wire text: the checksum follows the text,
    # crc32("9625051500" + "96250003000") by hand.
    book.apply(_message([("96250.00", "0.3000")], [("96250.5", "0.1500")], 3184325735))
    assert book.wire_levels() == ((("96250.00", "0.3000"),), (("96250.5", "0.1500"),))
    assert book.view().bids == (BookLevel(Decimal("96250"), Decimal("0.3")),)


# Deletion and truncation


def test_deleting_an_absent_level_changes_nothing() -> None:
    book = _reference_book()
    book.apply(_message([("90000.0", "0")], [("99999.5", "0.0000")], 2622372199))
    assert book.view().asks == _levels(SNAPSHOT_ASKS[:10])


def test_zero_with_trailing_zeros_deletes() -> None:
    book = LocalBook(SYMBOL)
    model = NaiveBook(10)
    model.apply([("100.0", "1")], [("101.0", "2.00")], snapshot=True)
    book.apply(_message([("100.0", "1")], [("101.0", "2.00")], model.checksum(), snapshot=True))
    model.apply([("100.0", "0.0000")], [], snapshot=False)
    book.apply(_message([("100.0", "0.0000")], [], model.checksum()))
    assert book.view().bids == ()
    assert book.view().best_bid is None


def test_truncation_drops_levels_pushed_out_and_never_brings_them_back() -> None:
    book = LocalBook(SYMBOL, depth=3)
    model = NaiveBook(3)
    steps: list[tuple[Levels, Levels, bool]] = [
        ([("10", "1"), ("9", "1"), ("8", "1")], [("11", "1"), ("12", "1"), ("13", "1")], True),
        ([("9.5", "2")], [("10.5", "2")], False),  # pushes 8 and 13 out, no delete sent
        ([("10", "0")], [("11", "0")], False),  # no entering level sent: the side shrinks
    ]
    for bids, asks, snapshot in steps:
        model.apply(bids, asks, snapshot=snapshot)
        book.apply(_message(bids, asks, model.checksum(), snapshot=snapshot))
    view = book.view()
    assert [level.price for level in view.bids] == [Decimal("9.5"), Decimal("9")]
    assert [level.price for level in view.asks] == [Decimal("10.5"), Decimal("12")]


def test_checksum_covers_only_the_top_ten_of_a_deeper_book() -> None:
    book = LocalBook(SYMBOL, depth=25)
    asks = [(f"{100 + i}.0", "1.0") for i in range(25)]
    bids = [(f"{99 - i}.0", "1.0") for i in range(25)]
    model = NaiveBook(25)
    model.apply(bids, asks, snapshot=True)
    book.apply(_message(bids, asks, model.checksum(), snapshot=True))
    book.apply(_message([("80.0", "5.0")], [("120.0", "5.0")], model.checksum()))  # below top 10
    assert book.view().asks[20] == BookLevel(Decimal("120.0"), Decimal("5.0"))


def test_one_update_may_touch_a_price_twice() -> None:
    book = _reference_book()
    model = NaiveBook(10)
    model.apply(SNAPSHOT_BIDS, SNAPSHOT_ASKS, snapshot=True)
    twice: Levels = [("96250.0", "0"), ("96250.0", "0.7000"), ("96249.5", "1"), ("96249.5", "0")]
    model.apply(twice, [], snapshot=False)
    book.apply(_message(twice, [], model.checksum()))
    assert book.view().bids == _levels(model.wire()[0])


# Refusals


def test_mismatch_is_reported_and_views_refused_until_a_snapshot() -> None:
    book = _reference_book()
    with pytest.raises(ChecksumMismatchError) as caught:
        book.apply(_message([("96250.0", "0.4500")], [], 12345, at=T1))
    error = caught.value
    assert (error.symbol, error.expected, error.timestamp) == (SYMBOL, 12345, T1)
    assert error.computed != 12345
    assert isinstance(error, BookOutOfSyncError)
    assert not book.synced
    with pytest.raises(BookOutOfSyncError):
        book.view()
    with pytest.raises(BookOutOfSyncError):
        book.wire_levels()
    with pytest.raises(BookOutOfSyncError, match="before a new snapshot"):
        book.apply(_message([], [], 2622372199))
    book.apply(_message(SNAPSHOT_BIDS, SNAPSHOT_ASKS, 2622372199, snapshot=True))
    assert book.view().checksum == 2622372199


def test_a_failed_snapshot_is_not_shown_either() -> None:
    book = LocalBook(SYMBOL)
    with pytest.raises(ChecksumMismatchError):
        book.apply(_message(SNAPSHOT_BIDS, SNAPSHOT_ASKS, 2338580217, snapshot=True))
    with pytest.raises(BookOutOfSyncError):
        book.view()


def test_update_before_any_snapshot_is_refused() -> None:
    book = LocalBook(SYMBOL)
    with pytest.raises(BookOutOfSyncError):
        book.apply(_message([("1", "1")], [], 0))
    with pytest.raises(BookOutOfSyncError):
        book.view()


def test_message_without_checksum_puts_the_book_out_of_sync() -> None:
    book = _reference_book()
    with pytest.raises(BookOutOfSyncError, match="without a checksum"):
        book.apply(_message([], [], None))
    with pytest.raises(BookOutOfSyncError):
        book.view()


@pytest.mark.parametrize(
    "bids",
    [[("not a number", "1")], [("96250.0", "-1")], [("96250.0",)], [("96250.0", "NaN")]],
)
def test_unreadable_levels_put_the_book_out_of_sync(bids: Levels) -> None:
    book = _reference_book()
    with pytest.raises(BookOutOfSyncError, match="unreadable"):
        book.apply(_message(bids, [], 2622372199))
    with pytest.raises(BookOutOfSyncError):
        book.view()


def test_message_for_another_symbol_is_refused_without_harm() -> None:
    book = _reference_book()
    other = attrs.evolve(_message([], [], 2622372199), symbol="PF_ETHUSD")
    with pytest.raises(InvalidArgumentError):
        book.apply(other)
    assert book.view().checksum == 2622372199


def test_reset_forgets_the_book() -> None:
    book = _reference_book()
    book.reset()
    with pytest.raises(BookOutOfSyncError):
        book.view()


def test_depth_must_be_positive() -> None:
    with pytest.raises(InvalidArgumentError):
        LocalBook(SYMBOL, depth=0)


# Views


def test_views_are_frozen_shared_and_independent_of_later_updates() -> None:
    book = _reference_book()
    first = book.view()
    assert book.view() is first
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        first.checksum = 1  # type: ignore[misc]
    price, size = first.bids[0]
    assert (price, size) == (Decimal("96250.0"), Decimal("0.3000"))
    book.apply(
        _message(
            [("96250.0", "0.4500"), ("96246.0", "0"), ("96241.0", "0.9000")],
            [("96250.5", "0"), ("96251.0", "0.8000"), ("96260.0", "9.9999")],
            2338580217,
            at=T1,
        )
    )
    assert first.bids[0].size == Decimal("0.3000")
    assert book.view() is not first
    assert book.view().bids[0].size == Decimal("0.4500")


# Properties: the book equals the naive model after every message

_BID_PRICES = [f"{900 + k // 2}.{5 if k % 2 else 0}" for k in range(30)]
_ASK_PRICES = [f"{1000 + k // 2}.{5 if k % 2 else 0}" for k in range(30)]


def _price_text(prices: list[str]) -> st.SearchStrategy[str]:
    # The same price in several renderings: "915.0", "915.00", and "915" for whole numbers.
    def render(text: str, extra_zeros: int, bare: bool) -> str:
        if bare and text.endswith(".0"):
            return text[:-2]
        return text + "0" * extra_zeros

    return st.builds(render, st.sampled_from(prices), st.integers(0, 2), st.booleans())


_qty_text = st.one_of(
    st.sampled_from(["0", "0.0", "0.0000"]),
    st.builds(
        lambda whole, fraction: f"{whole}.{fraction}" if fraction else str(whole),
        st.integers(0, 3),
        st.text("0123456789", max_size=5),
    ),
)
_bid_changes = st.lists(st.tuples(_price_text(_BID_PRICES), _qty_text), max_size=8)
_ask_changes = st.lists(st.tuples(_price_text(_ASK_PRICES), _qty_text), max_size=8)
_messages = st.lists(
    st.tuples(_bid_changes, _ask_changes, st.integers(0, 9).map(lambda n: n == 0)),
    min_size=1,
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(depth=st.sampled_from([1, 3, 10, 12, 25]), messages=_messages)
def test_book_equals_the_naive_model_after_every_message(
    depth: int, messages: list[tuple[Levels, Levels, bool]]
) -> None:
    book = LocalBook(SYMBOL, depth=depth)
    model = NaiveBook(depth)
    for step, (bids, asks, snapshot) in enumerate(messages):
        snapshot = snapshot or step == 0
        model.apply(bids, asks, snapshot=snapshot)
        at = T0 + dt.timedelta(milliseconds=step)
        book.apply(_message(bids, asks, model.checksum(), snapshot=snapshot, at=at))
        view = book.view()
        model_bids, model_asks = model.wire()
        assert view.bids == _levels(model_bids)
        assert view.asks == _levels(model_asks)
        assert book.wire_levels() == (tuple(model_bids), tuple(model_asks))
        assert (view.checksum, view.timestamp) == (model.checksum(), at)


@settings(max_examples=150, deadline=None)
@given(messages=_messages, data=st.data())
def test_a_wrong_checksum_anywhere_is_caught_and_nothing_is_shown(
    messages: list[tuple[Levels, Levels, bool]], data: st.DataObject
) -> None:
    book = LocalBook(SYMBOL, depth=10)
    model = NaiveBook(10)
    corrupt_at = data.draw(st.integers(0, len(messages) - 1))
    for step, (bids, asks, snapshot) in enumerate(messages[: corrupt_at + 1]):
        snapshot = snapshot or step == 0
        model.apply(bids, asks, snapshot=snapshot)
        checksum = model.checksum()
        if step < corrupt_at:
            book.apply(_message(bids, asks, checksum, snapshot=snapshot))
            continue
        wrong = (checksum + data.draw(st.integers(1, 2**32 - 1))) % 2**32
        with pytest.raises(ChecksumMismatchError) as caught:
            book.apply(_message(bids, asks, wrong, snapshot=snapshot))
        assert (caught.value.expected, caught.value.computed) == (wrong, checksum)
    with pytest.raises(BookOutOfSyncError):
        book.view()
    with pytest.raises(BookOutOfSyncError):
        book.apply(_message([], [], model.checksum()))
    model_bids, model_asks = model.wire()
    book.apply(_message(model_bids, model_asks, model.checksum(), snapshot=True))
    assert book.view().bids == _levels(model_bids)
