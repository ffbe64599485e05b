"""A twin whose market mirrors a live Unified WebSocket public socket: paper trading.

:func:`mirror_twin` builds it: the usual :class:`~..twin.Twin` (keys, limits, faults, the
REST and UWS faces, the user's accounts) over a :class:`~.venue.MirrorVenue`, with the
source task (:mod:`.source`) started on the loop that serves it and stopped with it. Serve
it like any twin (``run_in_thread``, ``serve``, or ``python -m kraken_futures_async.simulator
--mirror URL``); an in-process twin does not run its source.
"""

from __future__ import annotations

from collections.abc import Iterable

from ...uws.protocol import PRODUCTION_PUBLIC_URL
from ..config import TwinConfig
from ..engine.exchange import Exchange
from ..twin import Twin
from ..uws.server import public_url
from .market import MirroredMarket, MirrorListener
from .source import MirrorSource
from .venue import MirrorVenue

__all__ = ["DEFAULT_SOURCE", "DEFAULT_SYMBOLS", "MirrorTwin", "mirror_twin", "source_socket"]

#: Kraken's production public socket: what ``kraken-futures paper`` mirrors by default.
DEFAULT_SOURCE = PRODUCTION_PUBLIC_URL
#: The contracts mirrored unless told otherwise: the two most traded perpetuals.
DEFAULT_SYMBOLS = ("PF_XBTUSD", "PF_ETHUSD")


class MirrorTwin(Twin):
    """A :class:`Twin` over a mirrored market; ``market`` and ``source`` are the mirror's."""

    #: What the mirror knows of the source's market (books, trades, prices, freshness).
    market: MirroredMarket
    #: The task that reads the source's public socket (started by the serving loop).
    source: MirrorSource


def source_socket(url: str) -> str:
    """The public socket at ``url``: a ``ws(s)://`` URL as given, a twin's base URL
    (``http://host:port``) turned into its ``/v2/public`` socket."""
    if url.startswith(("ws://", "wss://")):
        return url
    if url.startswith(("http://", "https://")):
        return public_url(url)
    raise ValueError(f"a mirror's source is a ws://, wss:// or http:// URL, got {url!r}")


def mirror_twin(
    source: str = DEFAULT_SOURCE,
    *,
    symbols: Iterable[str] = DEFAULT_SYMBOLS,
    config: TwinConfig | None = None,
    depth: int = 25,
) -> MirrorTwin:
    """A twin trading on the market of the public socket at ``source`` (see the module)."""
    config = config or TwinConfig()
    market = MirroredMarket(symbol.strip().upper() for symbol in symbols)
    venue = MirrorVenue(config.seed, config.clock, config.retention, market)
    exchange = Exchange(
        seed=config.seed, clock=config.clock, retention=config.retention, venue=venue
    )
    twin = MirrorTwin(config, exchange=exchange)
    twin.market = market
    twin.source = MirrorSource(market, source_socket(source), clock=config.clock, depth=depth)
    twin.app.services.append(twin.source)
    follow = _status_follows(market, twin)
    market.listen(follow)
    follow("")  # stale until the source's first books: cancel-only from the start
    return twin


def _status_follows(market: MirroredMarket, twin: Twin) -> MirrorListener:
    """The public socket's ``status`` says ``cancel_only`` while the source is stale (what the
    REST face does too: new orders refused, cancels allowed) and ``online`` again after."""
    uws = twin.app.uws

    def follow(_symbol: str) -> None:
        wanted = "online" if market.stale() is None else "cancel_only"
        if uws.system != wanted:
            uws.set_status(wanted)

    return follow
