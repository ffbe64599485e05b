"""Which exchange the command talks to, and the metered Session it talks through.

By default that is a twin inside the process (no network, no credentials: the twin issues its
own key). ``--base-url`` points at another twin or any Kraken-compatible server, and
``--env production`` at Kraken itself; both take credentials from the environment, if set.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import attrs
import httpx

from ..auth import API_KEY_ENV, API_SECRET_ENV, Credentials
from ..config import DEFAULT_LIMITS, PRODUCTION
from ..ratelimit import RateLimitPolicy
from ..retry import RetryPolicy
from ..session import Session
from .meter import MeteredTransport, TrafficMeter

if TYPE_CHECKING:
    from ..simulator import Twin

__all__ = ["Connection", "Target", "connect"]

TWIN = "twin"


@attrs.frozen(kw_only=True)
class Target:
    """Where to connect and how patiently, as the command line said."""

    environment: str = TWIN
    base_url: str | None = None
    seed: int = 0
    timeout: float = 10.0
    retries: int = 4

    @property
    def embedded(self) -> bool:
        return self.base_url is None and self.environment == TWIN

    @property
    def production(self) -> bool:
        return self.base_url is None and self.environment == PRODUCTION.name

    def describe(self) -> str:
        if self.embedded:
            return f"embedded twin (seed {self.seed}, in-process)"
        return self.base_url or PRODUCTION.base_url


@attrs.define
class Connection:
    """An open Session, the meter on its transport, and the twin behind it when embedded."""

    session: Session
    meter: TrafficMeter
    target: Target
    twin: Twin | None = None

    def twin_refusals(self) -> int | None:
        """``apiLimitExceeded`` answers counted by the embedded twin (``None`` if remote)."""
        if self.twin is None:
            return None
        return sum(self.twin.meter.refused.values())


def _credentials_from_env() -> Credentials | None:
    if not (os.environ.get(API_KEY_ENV) or os.environ.get(API_SECRET_ENV)):
        return None
    return Credentials.from_env()


def _pool() -> httpx.AsyncBaseTransport:
    """The transport a Session would pick on its own, built here so it can be metered."""
    from ..rest.transports.aiohttp import AiohttpTransport

    return AiohttpTransport(limits=DEFAULT_LIMITS)


@asynccontextmanager
async def connect(
    target: Target, *, rate_limits: RateLimitPolicy | None = None
) -> AsyncIterator[Connection]:
    """Open a metered Session on ``target`` (and the embedded twin it needs, if any)."""
    meter = TrafficMeter()
    retry = RetryPolicy(max_attempts=max(1, target.retries))
    twin: Twin | None = None
    if target.embedded:
        from ..simulator import Twin, TwinConfig

        twin = Twin(TwinConfig(seed=target.seed))
        session = twin.session(
            transport=MeteredTransport(twin.transport(), meter),
            timeout=target.timeout,
            retry=retry,
            rate_limits=rate_limits,
        )
    else:
        session = Session(
            _credentials_from_env(),
            environment=PRODUCTION,
            base_url=target.base_url,
            transport=MeteredTransport(_pool(), meter),
            timeout=target.timeout,
            retry=retry,
            rate_limits=rate_limits,
        )
    async with session:
        yield Connection(session=session, meter=meter, target=target, twin=twin)
