"""One rate-limit budget and one nonce sequence for every process on an API key, in Redis.

Kraken meters the cost budget and the nonce per key; processes that share a key (a market
maker, a hedger, a risk monitor, a notebook) must share them too, or together they trip
``apiLimitExceeded`` and their nonces collide. ``Session(credentials,
shared_budget="redis://127.0.0.1:6379/0")`` (or ``shared_budget=SharedBudget(...)``) keeps
the cost windows (:mod:`.window`) and the nonce (:mod:`.nonces`) in Redis, under a hash of
the API key. Needs the ``redis`` extra; the rest of the library never imports redis.
"""

from __future__ import annotations

import hashlib

import attrs

from ..auth import Credentials, NonceSource
from ..errors import ConfigurationError
from ..ratelimit import Budget, BudgetWindow, RateLimitPolicy, WindowLimit
from .config import SharedBudget
from .link import RedisLink, SharedBudgetUnavailableError, safe_url
from .nonces import SharedNonceSource
from .window import SharedCostWindow

__all__ = [
    "SharedBudget",
    "SharedBudgetBinding",
    "SharedBudgetUnavailableError",
    "SharedCostWindow",
    "SharedNonceSource",
    "SharedPolicy",
    "bind",
    "key_hash",
]


def key_hash(api_key: str) -> str:
    """What names the key in Redis: a hash, never the key."""
    return hashlib.sha256(b"kraken_futures_async shared budget\0" + api_key.encode()).hexdigest()[
        :24
    ]


@attrs.frozen(kw_only=True)
class SharedPolicy(RateLimitPolicy):
    """A :class:`RateLimitPolicy` whose cost windows live in Redis."""

    windows: SharedBudgetBinding = attrs.field(eq=False, repr=False)

    def shared_windows(self) -> SharedBudgetBinding:
        """The binding that keeps this policy's cost windows in Redis."""
        return self.windows


class SharedBudgetBinding:
    """One Session's share of the key's budget: builds its windows, draws its nonces."""

    def __init__(self, config: SharedBudget, api_key: str) -> None:
        self.config = config
        self.link = RedisLink(config, key_hash(api_key))
        self.nonces: SharedNonceSource | None = SharedNonceSource(self.link)
        self.windows: list[SharedCostWindow] = []

    def __repr__(self) -> str:
        return f"<SharedBudgetBinding {safe_url(self.config.url)} key={self.link.key_hash}>"

    def configure(
        self, policy: RateLimitPolicy, nonces: NonceSource | None
    ) -> tuple[RateLimitPolicy, NonceSource]:
        """The policy whose windows live in Redis, and the nonce source to sign with (the
        shared one, unless the Session was given its own)."""
        if nonces is not None:
            self.nonces = None
        shared = SharedPolicy(**attrs.asdict(policy, recurse=False), windows=self)
        return shared, nonces or self._shared_nonces()

    def _shared_nonces(self) -> SharedNonceSource:
        assert self.nonces is not None
        return self.nonces

    def window(
        self, budget: Budget, limit: WindowLimit, *, margin: float, reserve: int
    ) -> BudgetWindow:
        """A cost window of ``budget`` kept in Redis, drawing the key's nonces in the same
        step."""
        window = SharedCostWindow(
            self.link, budget.value, limit, margin=margin, reserve=reserve, nonces=self.nonces
        )
        self.windows.append(window)
        return window

    async def unmetered_private(self) -> None:
        """A private call no budget meters still draws its nonce from Redis."""
        if self.nonces is not None:
            await self.nonces.draw()

    async def start(self) -> None:
        """Reach Redis; a clear error when it is away and no fallback is configured."""
        states = [self.link.key(budget.value, "state") for budget in Budget]
        await self.link.start(states)

    async def aclose(self) -> None:
        """Leave Redis: tell the other processes this one is gone and close the link."""
        await self.link.aclose()


def bind(
    shared: str | SharedBudget, credentials: Credentials | None, backend: object = None
) -> SharedBudgetBinding:
    """``Session(shared_budget=...)``: the binding for the Session's Futures key (the REST
    backend's budgets: a backend given to the Session keeps its own limits)."""
    if backend is not None:
        raise ConfigurationError(
            "shared_budget meters the REST backend the Session builds; it does not apply to "
            "backend='uws' or a backend given to the Session"
        )
    config = SharedBudget(url=shared) if isinstance(shared, str) else shared
    if not isinstance(config, SharedBudget):
        raise ConfigurationError(
            f"shared_budget is a Redis URL or a SharedBudget, got {type(shared).__name__}"
        )
    if credentials is None or not credentials.has_futures_key:
        raise ConfigurationError(
            "shared_budget shares a Futures API key's budget: give the Session Credentials "
            "with a Futures key"
        )
    return SharedBudgetBinding(config, credentials.api_key)
