"""Kraken's Unified WebSocket on aiohttp: the socket behind ``kf.stream``.

:class:`UwsConnection` is the public socket (one per Session, opened by the first
subscription); :mod:`.protocol` holds the wire facts and, in its docstring, every choice
made where Kraken's documentation is silent. Users reach it through ``kf.stream``
(:mod:`kraken_futures_async.streams.subscriptions`), which knows no wire library.
:mod:`.token` fetches the private socket's token from Spot REST (:class:`TokenProvider`).
"""

from .connection import UwsConnection, UwsSettings
from .protocol import PRODUCTION_PUBLIC_URL, PUBLIC_PATH
from .token import TOKEN_PATH, TokenProvider, WebSocketToken, spot_sign

__all__ = [
    "PRODUCTION_PUBLIC_URL",
    "PUBLIC_PATH",
    "TOKEN_PATH",
    "TokenProvider",
    "UwsConnection",
    "UwsSettings",
    "WebSocketToken",
    "spot_sign",
]
