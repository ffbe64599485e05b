"""Keep Kraken's dead man's switch armed while the service is alive.

``cancelallordersafter`` cancels every open order when it is not refreshed in time, so a
crashed or cut-off trading service does not leave stale orders on the book. Kraken suggests a
60 s timeout refreshed every 15 to 20 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from types import TracebackType

from .errors import KrakenFuturesError
from .models import DeadManSwitchStatus
from .resources.orders import OrdersResource

__all__ = ["DeadMansSwitch"]

logger = logging.getLogger("kraken_futures_async.deadman")


class DeadMansSwitch:
    """A background task that re-arms ``cancel_all_after(cancel_after)`` every ``interval`` s.

    Use ``async with DeadMansSwitch(kf.orders):``; leaving the block (or :meth:`stop`)
    cancels the task and disarms the switch, so a clean shutdown does not cancel orders.
    A failed refresh is logged and retried sooner (every quarter interval) until one goes
    through: the previous arming still holds until its own deadline, and re-arming twice does
    no harm. Disarming on stop is tried a few times for the same reason: a switch left armed
    would cancel the orders of a service that shut down cleanly. Any failure, not only the
    library's errors, is retried so: ``failures`` counts them and ``last_error`` keeps the
    latest, and the task keeps running.
    """

    #: Attempts at disarming on stop.
    DISARM_ATTEMPTS = 3

    def __init__(
        self, orders: OrdersResource, *, cancel_after: int = 60, interval: float = 20.0
    ) -> None:
        if not 0 < interval < cancel_after:
            raise ValueError("the refresh interval must be shorter than the timeout")
        self._orders = orders
        self.cancel_after = cancel_after
        self.interval = interval
        self._task: asyncio.Task[None] | None = None
        #: The exchange's answer to the latest refresh.
        self.last_status: DeadManSwitchStatus | None = None
        self.refreshes = 0
        self.failures = 0
        self.last_error: Exception | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Arm now (errors propagate: a switch that cannot be armed is no protection)."""
        if self.running:
            return
        self.last_status = await self._orders.cancel_all_after(self.cancel_after)
        self.refreshes += 1
        self._task = asyncio.create_task(self._refresh_forever(), name="kraken-dead-mans-switch")

    async def _refresh_forever(self) -> None:
        wait = self.interval
        while True:
            await asyncio.sleep(wait)
            try:
                self.last_status = await self._orders.cancel_all_after(self.cancel_after)
            except Exception as exc:
                self.failures += 1
                self.last_error = exc
                wait = self.interval / 4
                logger.warning(
                    "dead man's switch refresh failed (%s); trying again in %.3g s",
                    exc if isinstance(exc, KrakenFuturesError) else repr(exc),
                    wait,
                    exc_info=not isinstance(exc, KrakenFuturesError),
                )
            else:
                self.refreshes += 1
                wait = self.interval
                logger.debug("dead man's switch re-armed for %d s", self.cancel_after)

    async def stop(self, *, disarm: bool = True) -> None:
        """Stop refreshing; with ``disarm`` also switch the exchange-side timer off."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            # a task that ended with an error already logged it: stopping does not raise it
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if not disarm:
            return
        for attempt in range(1, self.DISARM_ATTEMPTS + 1):
            try:
                self.last_status = await self._orders.cancel_all_after(0)
            except KrakenFuturesError as exc:
                logger.warning(
                    "could not disarm the dead man's switch (attempt %d): %s", attempt, exc
                )
                if attempt < self.DISARM_ATTEMPTS:
                    await asyncio.sleep(min(1.0, self.interval / 4))
            else:
                logger.info("dead man's switch disarmed")
                return

    async def __aenter__(self) -> DeadMansSwitch:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
