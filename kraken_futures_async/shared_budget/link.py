"""One Session's connection to Redis, and the switch to the local fallback and back.

Every Redis command has a short timeout (``SharedBudget.timeout``): a Redis that hangs
(stopped, overloaded, a network cut) is noticed as quickly as one that refuses. The first
failure switches every shared window of the Session to its local fallback (logged once); a
background probe then pings Redis and, once it answers, hands the fallback's admissions to
the shared window and switches back (logged once).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from ..errors import ConfigurationError, KrakenFuturesError
from . import _lua

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from .config import SharedBudget

__all__ = ["RedisDownError", "RedisLink", "SharedBudgetUnavailableError", "safe_url"]

logger = logging.getLogger("kraken_futures_async.shared_budget")


class SharedBudgetUnavailableError(KrakenFuturesError):
    """Redis, which keeps the shared budget, cannot be reached and no fallback is configured
    (``SharedBudget(fallback_share=None)``); nothing was sent."""

    retry_safe = True


class RedisDownError(Exception):
    """Internal: a Redis command failed; the caller goes to the fallback."""


class _Switching(Protocol):
    """A shared window or nonce source that follows the link's switches."""

    def to_fallback(self, failed_at: float) -> None: ...

    async def back_to_redis(self) -> None: ...


def safe_url(url: str) -> str:
    """The URL without its user and password, for logs and errors."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


class RedisLink:
    """The Redis client, the scripts and the up/down state shared by a Session's windows."""

    def __init__(self, config: SharedBudget, key_hash: str) -> None:
        self.config = config
        self.key_hash = key_hash
        #: Keys of this API key: ``<prefix>:{<hash>}:...`` (one Cluster slot).
        self.prefix = f"{config.key_prefix}:{{{key_hash}}}"
        #: Tells a lost Redis state from the one this process saw.
        self.epoch = secrets.token_hex(8)
        #: This process among the key's members (its heartbeat).
        self.member = secrets.token_hex(8)
        self._heartbeat: asyncio.Task[None] | None = None
        self.up = False
        #: Loop time of the latest switch to the fallback (None: never switched).
        self.down_since: float | None = None
        self._client: Redis | None = None
        self._followers: list[_Switching] = []
        self._probe: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        #: name -> (SHA-1, source): EVALSHA, loaded on a NOSCRIPT answer (a restarted Redis).
        self._scripts: dict[str, tuple[str, str]] = {}
        self._down_errors: tuple[type[BaseException], ...] = (OSError, TimeoutError)
        self._no_script: type[Exception] = LookupError
        #: Fallback nonce residue (1..15), from Redis at start.
        self.slot = 1 + secrets.randbelow(15)
        #: Redis's clock minus this host's, in milliseconds (the fallback nonce's floor).
        self.clock_offset_ms = 0

    def follow(self, follower: _Switching) -> None:
        self._followers.append(follower)

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    def _connect(self) -> Redis:
        try:
            from redis.asyncio import Redis
        except ImportError:
            raise ConfigurationError(
                "shared_budget needs redis-py: pip install 'kraken_futures_async[redis]'"
            ) from None
        config = self.config
        if config.client is not None:
            client: Redis = config.client
        else:
            client = Redis.from_url(
                config.url,
                socket_timeout=config.timeout,
                socket_connect_timeout=config.timeout,
                retry_on_timeout=False,
            )
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import NoScriptError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        self._no_script = NoScriptError
        self._down_errors = (RedisConnectionError, RedisTimeoutError, OSError, TimeoutError)
        for name in ("ADMIT", "RELEASE", "COOL_DOWN", "REPLAY", "INIT", "NONCE", "HEARTBEAT"):
            source: str = getattr(_lua, name)
            self._scripts[name] = (hashlib.sha1(source.encode()).hexdigest(), source)
        return client

    async def start(self, state_keys: Sequence[str]) -> None:
        """Reach Redis (a clear error when it is away and no fallback is configured)."""
        self._client = self._connect()
        try:
            reply = None
            for state in state_keys or (self.key("none"),):
                reply = await self.run(
                    "INIT",
                    [state, self.key("slot_of"), self.key("members")],
                    [self.epoch, self.member],
                )
        except RedisDownError as exc:
            if self.config.fallback_share is None or not self.config.fallback_at_start:
                await self.aclose()
                raise SharedBudgetUnavailableError(
                    f"the shared budget's Redis at {safe_url(self.config.url)} does not answer "
                    f"({exc}); start it, or give SharedBudget(fallback_at_start=True) to start "
                    "on the fallback's share of the budget"
                ) from None
            logger.warning(
                "shared budget: Redis at %s does not answer at start (%s): this process "
                "spends %.0f %% of the budget locally until it does",
                safe_url(self.config.url),
                exc,
                100 * self.config.fallback_share,
            )
            self._go_down(asyncio.get_running_loop().time())
            return
        assert reply is not None
        self.slot = int(reply[2])
        self.note_time(int(reply[1]))
        self.up = True
        await self._beat()
        self._start_heartbeat()

    @property
    def _member_keys(self) -> list[str]:
        return [self.key("members"), self.key("slot_of")]

    def _start_heartbeat(self) -> None:
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.get_running_loop().create_task(self._keep_beating())

    def member_args(self) -> list[object]:
        """What the admission script needs to know of the members (see :mod:`._lua`)."""
        config = self.config
        return [
            self.member,
            round(config.absent_after * 1_000_000),
            round(config.forget_after * 1_000_000),
        ]

    async def _beat(self) -> None:
        await self.run("HEARTBEAT", self._member_keys, [self.member, "beat"])

    async def _keep_beating(self) -> None:
        """Tell the others this process still reaches Redis (and notice when it does not)."""
        while True:
            await asyncio.sleep(self.config.heartbeat)
            if not self.up:
                continue
            try:
                await self._beat()
            except RedisDownError as reason:
                if self.config.fallback_share is not None:
                    self.failed(reason)

    def note_time(self, redis_us: int) -> None:
        self.clock_offset_ms = redis_us // 1000 - time.time_ns() // 1_000_000

    async def run(self, script: str, keys: list[str], args: list[Any]) -> Any:
        """Run one script; any failure to talk to Redis raises :class:`RedisDownError`."""
        client = self._client
        if client is None:
            raise RedisDownError("not connected")
        sha, source = self._scripts[script]
        try:
            async with asyncio.timeout(self.config.timeout):
                try:
                    return await client.evalsha(sha, len(keys), *keys, *args)
                except self._no_script:
                    await client.script_load(source)
                    return await client.evalsha(sha, len(keys), *keys, *args)
        except self._down_errors as exc:
            raise RedisDownError(
                f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            ) from exc

    def failed(self, reason: RedisDownError) -> None:
        """A command failed: switch to the fallback (once), or say nothing can be sent."""
        if self.config.fallback_share is None:
            raise SharedBudgetUnavailableError(
                f"the shared budget's Redis at {safe_url(self.config.url)} does not answer "
                f"({reason}) and no fallback is configured; nothing was sent"
            ) from None
        if not self.up:
            return
        logger.warning(
            "shared budget: Redis at %s failed (%s): switching to the local fallback, "
            "%.0f %% of the budget for this process",
            safe_url(self.config.url),
            reason,
            100 * self.config.fallback_share,
        )
        self._go_down(asyncio.get_running_loop().time())

    def _go_down(self, failed_at: float) -> None:
        self.up = False
        self.down_since = failed_at
        for follower in self._followers:
            follower.to_fallback(failed_at)
        if self._probe is None or self._probe.done():
            self._probe = asyncio.get_running_loop().create_task(self._wait_for_redis())

    async def _wait_for_redis(self) -> None:
        while True:
            await asyncio.sleep(self.config.probe_interval)
            client = self._client
            if client is None:
                return
            try:
                async with asyncio.timeout(self.config.timeout):
                    await client.ping()
                for follower in self._followers:
                    await follower.back_to_redis()
                await self._beat()
            except Exception as exc:
                logger.debug("shared budget: Redis still away (%s)", type(exc).__name__)
                continue
            self.up = True
            self._start_heartbeat()
            logger.warning(
                "shared budget: Redis at %s answers again: back on the shared budget",
                safe_url(self.config.url),
            )
            return

    def in_background(self, script: str, keys: list[str], args: list[Any]) -> None:
        """Run a script without waiting for it (a release or cool-down; best effort)."""

        async def run() -> None:
            try:
                await self.run(script, keys, args)
            except RedisDownError as exc:
                logger.debug("shared budget: %s not delivered (%s)", script, exc)

        task = asyncio.get_running_loop().create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def aclose(self) -> None:
        if self.up:
            # if Redis does not hear it, the others forget this process after forget_after
            with contextlib.suppress(RedisDownError):
                await self.run("HEARTBEAT", self._member_keys, [self.member, "leave"])
        tasks = [*self._background, *(t for t in (self._probe, self._heartbeat) if t)]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        client, self._client = self._client, None
        if client is not None and self.config.client is None:
            await client.aclose()
        self.up = False
