"""A bot that rests an order under Kraken's dead man's switch: if the bot dies, so do its orders.

    python examples/deadman_bot.py --run-for 30          # an embedded twin
    python examples/deadman_bot.py --base-url http://127.0.0.1:8080

The Session re-arms ``cancel_all_after(60)`` every 20 s while the bot lives. A clean exit
cancels the bot's order and disarms the switch; a crash, a kill or a lost network leaves the
switch to run out, and the exchange cancels every order of the account 60 s later.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from decimal import Decimal

from kraken_futures_async import Credentials, Session


def connect(base_url: str | None) -> Session:
    if base_url is None:
        from kraken_futures_async.simulator import Twin

        return Twin().session()
    return Session(Credentials.from_env(), base_url=base_url)


async def run(base_url: str | None, symbol: str, run_for: float) -> None:
    async with connect(base_url) as kf:
        switch = await kf.dead_mans_switch(cancel_after=60, interval=20)
        mark = (await kf.market.ticker(symbol)).mark_price
        assert mark is not None
        bid = (mark * Decimal("0.95")).quantize(Decimal(1))  # far below: it rests
        placed = await kf.orders.send(symbol=symbol, side="buy", size="0.001", limit_price=bid)
        print(f"armed {switch.cancel_after}s, resting {placed.order_id} at {bid}", flush=True)
        try:
            await asyncio.sleep(run_for)  # the bot's real work goes here
        finally:
            await kf.orders.cancel(order_id=placed.order_id)
    print("stopped cleanly: order cancelled, switch disarmed", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default=os.environ.get("KRAKEN_FUTURES_BASE_URL"))
    parser.add_argument("--symbol", default="PF_XBTUSD")
    parser.add_argument("--run-for", type=float, default=3600.0, help="seconds, then stop")
    args = parser.parse_args(argv)
    try:
        asyncio.run(run(args.base_url, args.symbol, args.run_for))
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
