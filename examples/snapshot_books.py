"""Snapshot every order book: one concurrent fan-out, then the top of each book.

    python examples/snapshot_books.py                     # an embedded twin
    python examples/snapshot_books.py --base-url http://127.0.0.1:8080   # a served twin
    python examples/snapshot_books.py --base-url https://futures.kraken.com  # Kraken

``--base-url`` defaults to ``$KRAKEN_FUTURES_BASE_URL``; without either the program starts a
twin in-process (``kraken-futures sim --port 8080`` serves one for other programs).
Public data: no keys needed.
"""

from __future__ import annotations

import argparse
import asyncio
import os

from kraken_futures_async import Session
from kraken_futures_async.models import OrderBook


def connect(base_url: str | None) -> Session:
    if base_url is None:
        from kraken_futures_async.simulator import Twin

        return Twin().session()
    return Session(base_url=base_url)


async def snapshot(kf: Session, limit: int | None = None) -> dict[str, OrderBook]:
    """Every tradeable contract's book, fetched concurrently (the Session paces the calls)."""
    symbols = [i.symbol for i in await kf.market.instruments() if i.tradeable][:limit]
    return await kf.market.orderbooks(symbols)


async def run(base_url: str | None, limit: int | None) -> dict[str, OrderBook]:
    async with connect(base_url) as kf:
        return await snapshot(kf, limit)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default=os.environ.get("KRAKEN_FUTURES_BASE_URL"))
    parser.add_argument("--limit", type=int, default=None, help="at most this many books")
    args = parser.parse_args(argv)
    books = asyncio.run(run(args.base_url, args.limit))
    for symbol, book in sorted(books.items()):
        bid, ask = book.best_bid, book.best_ask
        print(f"{symbol:28} {bid.price if bid else '-':>14} / {ask.price if ask else '-':<14}")
    print(f"{len(books)} books")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
