"""Refuse, before sending, an order the exchange would refuse for its contract's rules.

A price off the contract's tick (``invalidPrice``), a size that is not a whole number of
size steps (``invalidSize``: ``0.1 + 0.2`` is ``0.30000000000000004``) or a symbol that does
not exist each cost a round trip and budget units to learn from the exchange. The instrument
list is fetched once per Session, on the first order, and kept; a symbol it does not know
fetches it again (at most once a minute), since Kraken lists new contracts while we run. After
that no order makes a network call for these checks. ``Session(check_orders=False)`` turns
them off, and when the list cannot be had the order goes unchecked (the exchange still
checks it) rather than not at all.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal

from ..errors import InvalidArgumentError, KrakenFuturesError
from ..models import Instrument
from ..operations.orders import SendOrder

__all__ = ["InstrumentRules"]

logger = logging.getLogger("kraken_futures_async")

#: Seconds before a symbol the list does not know may fetch the list again.
REFRESH_AFTER = 60.0
#: Parameters carrying a price that must sit on the tick.


class InstrumentRules:
    """The contracts' tick sizes and size steps, for the checks above."""

    def __init__(
        self, fetch: Callable[[], Awaitable[list[Instrument]]], *, enabled: bool = True
    ) -> None:
        self._fetch = fetch
        self.enabled = enabled
        self._by_symbol: dict[str, Instrument] | None = None
        self._fetched_at = -float("inf")
        self._lock = asyncio.Lock()

    async def load(self) -> None:
        """Fetch the instrument list now, so the first order does not wait for it (a cancel
        sent right after a Session opens would otherwise overtake the first burst)."""
        if not self.enabled:
            return
        loop = asyncio.get_running_loop()
        async with self._lock:
            await self._refresh(loop)

    async def check(self, order: SendOrder) -> None:
        """Check one order's ``symbol``, ``size`` and prices against its contract."""
        if not self.enabled:
            return
        instrument = await self._instrument(order.symbol)
        if instrument is None:
            return
        step = instrument.size_step
        size = order.size
        if step is not None and size is not None and not _on_grid(size, step):
            raise InvalidArgumentError(
                f"size {size} for {instrument.symbol} is not a whole number of its size step "
                f"{step} (contractValueTradePrecision {instrument.contract_value_trade_precision})"
            )
        tick = instrument.tick_size
        if tick is None:
            return
        for name, price in (("limit_price", order.limit_price), ("stop_price", order.stop_price)):
            if price is not None and not _on_grid(price, tick):
                below = (price // tick) * tick
                raise InvalidArgumentError(
                    f"{name} {price} for {instrument.symbol} is off its tick size "
                    f"{tick}: try {below} or {below + tick}"
                )

    async def _instrument(self, symbol: str) -> Instrument | None:
        known = self._by_symbol
        if known is not None:
            found = known.get(symbol.upper())
            if found is not None:
                return found
        loop = asyncio.get_running_loop()
        async with self._lock:
            stale = loop.time() - self._fetched_at >= REFRESH_AFTER
            if stale and (self._by_symbol is None or symbol.upper() not in self._by_symbol):
                await self._refresh(loop)
            if self._by_symbol is None:
                return None  # the list could not be had: the exchange checks alone
            found = self._by_symbol.get(symbol.upper())
        if found is None:
            raise InvalidArgumentError(_unknown(symbol, self._by_symbol))
        return found

    async def _refresh(self, loop: asyncio.AbstractEventLoop) -> None:
        self._fetched_at = loop.time()
        try:
            instruments = await self._fetch()
        except KrakenFuturesError as exc:
            logger.warning(
                "instrument list unavailable (%s); orders go unchecked locally", exc.message
            )
            return
        self._by_symbol = {i.symbol.upper(): i for i in instruments}


def _on_grid(value: Decimal, step: Decimal) -> bool:
    return step <= 0 or value % step == 0


def _unknown(symbol: str, known: Mapping[str, Instrument]) -> str:
    wanted = symbol.upper()
    same_pair = [s for s in known if s.split("_", 1)[-1] == wanted]
    close = difflib.get_close_matches(wanted, known, n=3, cutoff=0.6)
    hints = list(dict.fromkeys([*sorted(same_pair), *close]))[:3]
    hint = f"; did you mean {', '.join(hints)}?" if hints else ""
    return f"unknown symbol {symbol!r}: Kraken lists no such contract{hint}"
