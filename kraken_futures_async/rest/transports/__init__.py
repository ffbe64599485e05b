"""Optional transports for ``Session(transport=...)``.

Each one imports its pool library only when it is first used, so the core package needs
none of them installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .aiohttp import AiohttpTransport

__all__ = ["AiohttpTransport"]

#: aiohttp and the libraries it brings (yarl is imported directly as well).
_AIOHTTP_STACK = frozenset({"aiohttp", "yarl", "multidict"})


def __getattr__(name: str) -> Any:
    if name == "AiohttpTransport":
        try:
            from .aiohttp import AiohttpTransport
        except ModuleNotFoundError as exc:
            if (exc.name or "").partition(".")[0] not in _AIOHTTP_STACK:
                raise
            raise ImportError(
                "AiohttpTransport needs aiohttp: pip install 'kraken_futures_async[aiohttp]'",
                name=exc.name,
            ) from exc
        return AiohttpTransport
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
