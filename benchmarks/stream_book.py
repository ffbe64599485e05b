"""CPU per applied book update: the local book against a naive dict + full sort, one run.

``python -m benchmarks.stream_book`` (not part of ``make bench`` or the tests). Decoding is
not included: both contenders get the same pre-built messages (wire text pairs, Kraken's
checksum), apply them, truncate to the depth and verify the checksum; the naive one sorts
each side in full after every message. A seeded random walk makes the stream: most changes
near the top of the book, some deletions (with the level that enters the range, as Kraken
sends it) and some insertions. Figures are medians over interleaved rounds of
``time.process_time``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import random
import statistics
import time
import zlib
from collections.abc import Callable, Sequence
from decimal import Decimal

from kraken_futures_async.streams import BookMessage, LocalBook

Wire = tuple[str, str]
SYMBOL = "PF_XBTUSD"
T0 = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)


class NaiveBook:
    """What a first attempt looks like: dicts of wire text, sorted in full after each message."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.bids: dict[Decimal, Wire] = {}
        self.asks: dict[Decimal, Wire] = {}

    def apply(self, message: BookMessage) -> None:
        if message.snapshot:
            self.bids, self.asks = {}, {}
        for side, changes in ((self.bids, message.bids), (self.asks, message.asks)):
            for price_text, qty_text in changes:
                price = Decimal(price_text)
                if Decimal(qty_text):
                    side[price] = (price_text, qty_text)
                else:
                    side.pop(price, None)
        bids = sorted(self.bids.items(), reverse=True)[: self.depth]
        asks = sorted(self.asks.items())[: self.depth]
        self.bids, self.asks = dict(bids), dict(asks)
        if naive_checksum([w for _, w in asks[:10]], [w for _, w in bids[:10]]) != message.checksum:
            raise RuntimeError("the naive book's checksum disagrees")


def naive_checksum(asks: Sequence[Wire], bids: Sequence[Wire]) -> int:
    def digits(text: str) -> str:
        return text.replace(".", "").lstrip("0")

    text = "".join(digits(p) + digits(q) for p, q in [*asks, *bids])
    return zlib.crc32(text.encode())


class Exchange:
    """The seeded market that writes the stream: a deep book on a 0.5 tick grid."""

    def __init__(self, depth: int, seed: int) -> None:
        self.depth = depth
        self.rng = random.Random(seed)
        self.bids: dict[Decimal, str] = {}
        self.asks: dict[Decimal, str] = {}
        for i in range(depth + 50):
            self.asks[Decimal(96250) + Decimal(i)] = self.qty()
            self.bids[Decimal(96249) - Decimal(i)] = self.qty()

    def qty(self) -> str:
        return f"{self.rng.randint(1, 40_000) / 10_000:.4f}"

    def top(self, side: dict[Decimal, str], *, bids: bool) -> list[Wire]:
        ordered = sorted(side.items(), reverse=bids)[: self.depth]
        return [(f"{price:.1f}", qty) for price, qty in ordered]

    def snapshot(self) -> BookMessage:
        return self.message(self.top(self.bids, bids=True), self.top(self.asks, bids=False), True)

    def message(self, bids: list[Wire], asks: list[Wire], snapshot: bool) -> BookMessage:
        checksum = naive_checksum(
            self.top(self.asks, bids=False)[:10], self.top(self.bids, bids=True)[:10]
        )
        return BookMessage(
            symbol=SYMBOL, snapshot=snapshot, bids=bids, asks=asks, checksum=checksum, timestamp=T0
        )

    def update(self) -> BookMessage:
        changes: dict[bool, list[Wire]] = {True: [], False: []}
        for _ in range(self.rng.randint(1, 3)):
            is_bid = self.rng.random() < 0.5
            side = self.bids if is_bid else self.asks
            ordered = sorted(side, reverse=is_bid)
            rank = min(int(self.rng.expovariate(1 / max(2.0, self.depth / 10))), self.depth - 1)
            roll = self.rng.random()
            if roll < 0.6:  # a new qty at a level in range
                price = ordered[rank]
                side[price] = self.qty()
                changes[is_bid].append((f"{price:.1f}", side[price]))
            elif roll < 0.8:  # a deletion, and the level that enters the range
                price = ordered[rank]
                del side[price]
                changes[is_bid].append((f"{price:.1f}", "0"))
                entering = ordered[self.depth]
                changes[is_bid].append((f"{entering:.1f}", side[entering]))
                far = ordered[-1] + (Decimal(-1) if is_bid else Decimal(1))
                side[far] = self.qty()  # keep the deep book deep
            else:  # a new price between levels (half a tick), pushing the last one out
                price = ordered[rank] + (Decimal("-0.5") if is_bid else Decimal("0.5"))
                side[price] = self.qty()
                changes[is_bid].append((f"{price:.1f}", side[price]))
        return self.message(changes[True], changes[False], False)


def _timed(apply: Callable[[BookMessage], None], messages: Sequence[BookMessage]) -> float:
    gc.collect()
    started = time.process_time()
    for message in messages:
        apply(message)
    return (time.process_time() - started) / len(messages)


def _view_cost(book: LocalBook, repeat: int = 200) -> float:
    started = time.process_time()
    for _ in range(repeat):
        book._view = None  # what one view per message costs (views are cached per message)
        book.view()
    return (time.process_time() - started) / repeat


def run_depth(depth: int, updates: int, rounds: int) -> dict[str, float]:
    exchange = Exchange(depth, seed=depth)
    snapshot = exchange.snapshot()
    stream = [exchange.update() for _ in range(updates)]
    changed = sum(len(m.bids) + len(m.asks) for m in stream) / len(stream)
    local_times: list[float] = []
    naive_times: list[float] = []
    local = LocalBook(SYMBOL, depth=depth)
    for round_number in range(rounds):
        naive = NaiveBook(depth)
        local.apply(snapshot)
        naive.apply(snapshot)
        contenders = [(local_times, local.apply), (naive_times, naive.apply)]
        for times, apply in contenders[round_number % 2 :] + contenders[: round_number % 2]:
            times.append(_timed(apply, stream))
    return {
        "changed": changed,
        "local": statistics.median(local_times),
        "naive": statistics.median(naive_times),
        "view": _view_cost(local),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--updates", type=int, default=5_000, help="updates per depth")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (median)")
    parser.add_argument("--depths", type=int, nargs="+", default=[10, 100, 1000])
    args = parser.parse_args(argv)
    print(f"{args.updates} updates per depth, median of {args.rounds} rounds, CPU per update")
    row = "{:>6} {:>10} {:>11} {:>11} {:>7} {:>9}"
    print(row.format("depth", "levels/upd", "LocalBook", "naive sort", "ratio", "view()"))
    for depth in args.depths:
        r = run_depth(depth, args.updates, args.rounds)
        print(
            row.format(
                depth,
                f"{r['changed']:.2f}",
                f"{r['local'] * 1e6:.2f}us",
                f"{r['naive'] * 1e6:.2f}us",
                f"{r['naive'] / r['local']:.1f}x",
                f"{r['view'] * 1e6:.1f}us",
            )
        )


if __name__ == "__main__":
    main()
