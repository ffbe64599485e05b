"""Twins served on a loopback port for the socket tests: no rate limits, and sockets that
beat and tick fast so the tests wait less."""

from __future__ import annotations

from typing import Any

from kraken_futures_async.simulator import ManualClock, Twin, TwinConfig
from kraken_futures_async.simulator.clock import Clock
from kraken_futures_async.simulator.uws import UwsConfig

#: The sockets' pace in these tests (the twin's defaults are Kraken's: seconds).
FAST = {"heartbeat_interval": 0.2, "tick_interval": 0.1}


def uws_twin(clock: Clock | None = None, **uws: Any) -> Twin:
    """A twin on ``clock`` (a manual one by default) whose sockets run at ``FAST``, with
    ``uws`` overriding any :class:`UwsConfig` field."""
    twin = Twin(TwinConfig(clock=clock or ManualClock(), rate_limits=False))
    twin.app.uws.config = UwsConfig(**{**FAST, **uws})
    return twin
