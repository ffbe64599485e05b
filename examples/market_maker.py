"""A market maker that quotes both sides around the mark, then cancels and requotes.

    python examples/market_maker.py --rounds 10          # an embedded twin
    python examples/market_maker.py --base-url http://127.0.0.1:8080

Keys come from ``KRAKEN_FUTURES_API_KEY`` / ``KRAKEN_FUTURES_API_SECRET`` when a base URL is
given (``--base-url`` or ``$KRAKEN_FUTURES_BASE_URL``). Quotes are post-only, so they never
take; whatever happens, the quotes are cancelled on the way out.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from kraken_futures_async import Credentials, OrderRejectedError, Session


def connect(base_url: str | None) -> Session:
    if base_url is None:
        from kraken_futures_async.simulator import Twin

        return Twin().session()
    return Session(Credentials.from_env(), base_url=base_url)


def to_tick(price: Decimal, tick: Decimal, rounding: str) -> Decimal:
    return (price / tick).to_integral_value(rounding) * tick


async def quote_once(
    kf: Session, symbol: str, *, size: Decimal, spread: Decimal
) -> tuple[str, str]:
    """Post a bid and an ask ``spread`` (a fraction) either side of the mark; their ids."""
    ticker = await kf.market.ticker(symbol)
    [tick] = [i.tick_size for i in await kf.market.instruments() if i.symbol == symbol]
    assert ticker.mark_price is not None
    assert tick is not None
    bid = to_tick(ticker.mark_price * (1 - spread), tick, ROUND_FLOOR)
    ask = to_tick(ticker.mark_price * (1 + spread), tick, ROUND_CEILING)
    placed = await asyncio.gather(
        kf.orders.send(symbol=symbol, side="buy", size=size, order_type="post", limit_price=bid),
        kf.orders.send(symbol=symbol, side="sell", size=size, order_type="post", limit_price=ask),
    )
    bid_id, ask_id = placed[0].order_id, placed[1].order_id
    assert bid_id is not None  # a refused order raises OrderRejectedError: these were placed
    assert ask_id is not None
    return bid_id, ask_id


async def cancel_quote(kf: Session, order_id: str) -> None:
    """Cancel a quote; one filled (or gone) meanwhile is the market's business, not an error."""
    try:
        await kf.orders.cancel(order_id=order_id)
    except OrderRejectedError as exc:
        if exc.status not in ("filled", "notFound"):
            raise


async def make_market(
    kf: Session,
    symbol: str,
    *,
    rounds: int,
    pause: float = 1.0,
    size: Decimal = Decimal("0.001"),
    spread: Decimal = Decimal("0.002"),
) -> int:
    """Quote, wait, cancel, ``rounds`` times; returns how many quotes were posted."""
    posted = 0
    try:
        for _ in range(rounds):
            quotes = await quote_once(kf, symbol, size=size, spread=spread)
            posted += len(quotes)
            await asyncio.sleep(pause)
            await asyncio.gather(*(cancel_quote(kf, q) for q in quotes))
    finally:
        await kf.orders.cancel_all(symbol)
    return posted


async def run(base_url: str | None, symbol: str, rounds: int, pause: float) -> int:
    async with connect(base_url) as kf:
        return await make_market(kf, symbol, rounds=rounds, pause=pause)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default=os.environ.get("KRAKEN_FUTURES_BASE_URL"))
    parser.add_argument("--symbol", default="PF_XBTUSD")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--pause", type=float, default=1.0, help="seconds each quote stands")
    args = parser.parse_args(argv)
    posted = asyncio.run(run(args.base_url, args.symbol, args.rounds, args.pause))
    print(f"posted and cancelled {posted} quotes on {args.symbol}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
