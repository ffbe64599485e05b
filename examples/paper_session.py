"""Paper trading: a twin that mirrors a live market, and a short session on it.

By default the "live market" is a synthetic twin served on loopback that plays Kraken (so
this runs anywhere, offline); ``--source wss://uws.kraken.com/v2/public`` mirrors Kraken's
real market instead (nothing is ever sent there but public subscriptions). The session
buys at market (filled at the source's asks), rests a bid at the source's best bid and,
when the source is the local one, sells through it there, so the paper bid fills.

    python examples/paper_session.py
"""

from __future__ import annotations

import argparse
import asyncio
from decimal import Decimal

from kraken_futures_async import Session
from kraken_futures_async.simulator import (
    ManualClock,
    RunningTwin,
    Twin,
    TwinConfig,
    mirror_twin,
    run_in_thread,
)

SYMBOL = "PF_XBTUSD"
SIZE = Decimal("0.01")


async def wait_for_book(paper: Session) -> None:
    """The mirror answers once its source's first book arrived (before: ``suspended``)."""
    for _ in range(500):
        if not (await paper.market.ticker(SYMBOL)).suspended:
            return
        await asyncio.sleep(0.02)
    raise SystemExit("the source sent no book within 10 s")


async def session(mirror: RunningTwin, source: RunningTwin | None) -> None:
    async with mirror.session() as paper:
        await wait_for_book(paper)
        book = await paper.market.orderbook(SYMBOL)
        if book.best_bid is None or book.best_ask is None:
            raise SystemExit("the mirrored book has an empty side")
        print(f"mirrored book   bid {book.best_bid.price} / ask {book.best_ask.price}")

        await paper.orders.send(symbol=SYMBOL, side="buy", size=SIZE, order_type="mkt")
        (fill,) = await paper.orders.fills()
        print(f"market buy      {fill.size} filled at {fill.price} (the source's best ask)")

        bid = book.best_bid.price
        resting = await paper.orders.send(
            symbol=SYMBOL, side="buy", size=SIZE, order_type="lmt", limit_price=bid
        )
        print(f"resting bid     {SIZE} @ {bid}, behind {book.best_bid.size} shown there")
        if source is not None:  # the local source: sell through the bid there
            async with source.session() as market:
                real = await market.market.orderbook(SYMBOL)
                sweep = real.bids[0].size + real.bids[1].size
                await market.orders.send(
                    symbol=SYMBOL,
                    side="sell",
                    size=sweep,
                    order_type="ioc",
                    limit_price=real.bids[1].price,
                )
            for _ in range(500):
                fills = [f for f in await paper.orders.fills() if f.order_id == resting.order_id]
                if fills:
                    print(f"source traded   through {bid}: paper bid filled at {fills[0].price}")
                    break
                await asyncio.sleep(0.02)
        (position,) = await paper.account.open_positions()
        print(f"position        {position.side.value} {position.size} @ {position.price:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", help="the public socket to mirror (default: a local twin)")
    args = parser.parse_args()
    source = None
    url = args.source
    if url is None:
        source = run_in_thread(Twin(TwinConfig(clock=ManualClock(), rate_limits=False)))
        url = source.url
    mirror = run_in_thread(mirror_twin(url, symbols=[SYMBOL]))
    try:
        asyncio.run(session(mirror, source))
    finally:
        mirror.stop()
        if source is not None:
            source.stop()


if __name__ == "__main__":
    main()
