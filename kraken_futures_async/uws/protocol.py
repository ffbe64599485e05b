"""Kraken's Unified WebSocket, public socket: the wire facts and the client's choices.

Facts (kraken-uws-api.md): public market data on ``wss://uws.kraken.com/v2/public`` (§1.1);
a ``status`` push on every connect (§1.2); ``{"channel":"heartbeat"}`` about once a second
once something is subscribed (§1.3); ``{"method":"ping","req_id":n}`` answered by ``pong``
(§1.4); requests ``{"method","params","req_id"}`` with ``asset_class: "derivatives"``,
acks echo ``req_id`` with ``success`` and an ``error`` string (§2); pushes
``{"channel","type","data"}`` with numbers as JSON numbers at full precision (§2.3-2.4).

Where the reference marks a fact [?], the client does what Kraken's Spot WebSocket v2 does
(or what its SDK recommends); every such choice is here and nowhere else:

1. Idle timeout (§1.1): none is documented. The client pings every :data:`PING_INTERVAL`
   seconds and declares the link dead after :data:`HEARTBEAT_TIMEOUT` seconds without any
   frame while something is subscribed (about five missed one-second heartbeats); with
   nothing subscribed, heartbeats stop, so it allows a ping interval more.
2. Public channels are subscribed on the public socket only (§1.1, §12.8).
3. One request per symbol (§2.2: Spot v2 acks once per symbol anyway), so every ack and
   every refusal belongs to exactly one subscription.
4. A fresh book snapshot is asked for by ``unsubscribe`` then ``subscribe`` (§4.2 step 4):
   Spot v2 refuses a second ``subscribe`` to a live subscription ("Already subscribed").
5. Close code 1008 (policy violation) ends the streams; every other code, 1006 included,
   and a dead link reconnect (§1.5, Kraken SDK behaviour): :data:`TERMINAL_CLOSE_CODES`.
6. Symbols are sent upper case (§9: Spot v2 echoes the exact string).
7. Ticker, trade, ohlc and instrument fields are Spot v2's (§4.1, §4.3-4.5); unknown keys
   are ignored, missing ones are ``None`` (:mod:`kraken_futures_async.models.streams`).
8. ``trade`` asks for no snapshot unless told (Kraken's default, §4.4); ``book``, ``ticker``,
   ``ohlc`` and ``instrument`` ask for one (their default).
9. An ack whose ``success`` is missing or not ``true`` is a refusal (§2.2).
10. The book's own choices (a checksum on every message, exponent digits, the entering
    level on a delete) are in :mod:`kraken_futures_async.streams.book`.
11. The UWS backend's market reads (§10: ``GET /instruments``, ``/orderbook``, ``/tickers``)
    subscribe for a snapshot and unsubscribe after, on a public socket of the backend's own:
    a book at depth 1000 (the deepest, §4.2), every symbol of the ``instrument`` snapshot in
    one ``ticker`` request with a symbol list (§4.3); UWS fields map to REST's models as
    :mod:`.market_reads` says, field by field, and fields UWS does not send are None.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = [
    "ASSET_CLASS",
    "HEARTBEAT_TIMEOUT",
    "OHLC_INTERVALS",
    "OHLC_TICK_TYPES",
    "PING_INTERVAL",
    "PRODUCTION_PUBLIC_URL",
    "PUBLIC_PATH",
    "TERMINAL_CLOSE_CODES",
    "encode_request",
]

#: Kraken's public socket (§1.1); the production environment's ``stream_url``.
PRODUCTION_PUBLIC_URL = "wss://uws.kraken.com/v2/public"
#: The public socket's path on any host (a served twin answers on the same port as REST).
PUBLIC_PATH = "/v2/public"
#: The only ``asset_class`` UWS accepts today (§2.1).
ASSET_CLASS = "derivatives"

#: [?] choice 1: seconds between two application ``ping`` requests.
PING_INTERVAL = 15.0
#: [?] choice 1: seconds without any frame, while subscribed, that mean a dead link.
HEARTBEAT_TIMEOUT = 5.0
#: [?] choice 5: close codes after which the client does not reconnect.
TERMINAL_CLOSE_CODES = frozenset({1008})

#: Candle lengths in minutes (§4.5).
OHLC_INTERVALS = (1, 5, 15, 30, 60, 240, 1440, 10080, 21600)
#: What a candle follows (§4.5).
OHLC_TICK_TYPES = ("trade", "mark", "spot")


def encode_request(method: str, params: Mapping[str, Any] | None, req_id: int) -> str:
    """One request as compact JSON text (public requests carry strings, ints and booleans)."""
    message: dict[str, Any] = {"method": method}
    if params is not None:
        message["params"] = dict(params)
    message["req_id"] = req_id
    return json.dumps(message, separators=(",", ":"))
