"""The twin's Unified WebSocket face: the public socket ``/v2/public`` (issue 11, item 4).

Served by the twin's own ASGI app on the same port as REST (``ws://127.0.0.1:PORT/v2/public``
next to ``http://127.0.0.1:PORT/derivatives/api/v3``), fed by the engine's events and state.
The wire format is ``kraken-uws-api.md`` (§1 connection, §2 envelope, §4 public channels):

* on connect a ``status`` push; ``ping`` -> ``pong`` echoing ``req_id``; after the first
  subscription a ``{"channel":"heartbeat"}`` whenever nothing was sent for
  ``heartbeat_interval`` seconds (1 s by default);
* ``subscribe``/``unsubscribe`` answer one ack per symbol (``method``, ``req_id``,
  ``success``, ``result`` or ``error``, ``time_in``, ``time_out``); an unknown symbol is
  ``Currency pair not supported <SYM>`` with ``symbol`` at the top level; an unknown channel
  ``Subscription name invalid``; other bad parameters ``EGeneral:Invalid arguments:<name>``
  or ``Unsupported field: '<name>'``;
* channels ``book`` (depth 10/25/100/500/1000, checksum), ``ticker``, ``trade``,
  ``instrument`` and ``ohlc`` (every interval, ``tick_type`` trade/mark/spot, candles from
  the engine's charts: :mod:`.candles`); numbers are JSON numbers with exact decimal text
  (never floats).

Bounds (:class:`UwsConfig`): inbound frames up to ``max_message_bytes`` (16 KiB; larger
closes with 1009), ``max_subscriptions`` per connection (200; more are refused with
``EGeneral:Too many subscriptions``), and an outbound queue of ``queue_size`` frames (1024)
per connection: a client that falls that far behind is closed with 1013 (try again later;
not 1008, which Kraken's SDK treats as terminal) and its queue freed.

Fault switches on :class:`UwsServer`: ``drop_next_book_update`` (a client's checksum then
fails on the next update), ``corrupt_next_checksum``, ``set_status`` (``maintenance``,
``cancel_only``... pushed to every connection), ``disconnect_all`` and
``stall_connections`` (open sockets stay open but send nothing, heartbeats included).

Choices where the reference marks a fact [?], made as Kraken's Spot WebSocket v2 does; each
is one constant or one function to change:

1. Numbers are written at the contract's precision with trailing zeros kept: prices with the
   tick's decimals, quantities with ``qty_precision`` decimals, never in exponent notation
   (:class:`.wire.Contract`). The checksum is computed from that same text.
2. When a level inside the depth is deleted, the level entering the range comes in the same
   update; levels pushed out of range get no delete (:func:`.feed._diff`).
3. Every book update carries a checksum; no sequence numbers (:func:`.feed.checksum_of`).
4. ``ticker`` pushes on trades only (no ``event_trigger``); the derivative extras
   (``mark_price``, ``index_price``, ``funding_rate``, ``funding_rate_prediction``,
   ``open_interest``) only with ``UwsConfig.ticker_extras`` (:meth:`.feed.Feed._ticker_data`).
5. ``trade`` items carry ``ord_type: "limit"`` (the tape does not know the taker's type); a
   snapshot lists trades oldest first, like updates (:meth:`.feed.Feed._trade_data`).
6. ``instrument`` publishes every contract (``status`` ``online``, or ``delisted`` once a
   dated one stopped trading) and the USD asset; ``qty_min`` is one ``qty_increment``
   (:meth:`UwsServer.instrument_snapshot`). Symbols are matched exactly (upper case).
7. Errors with no UWS string use Spot v2's: ``Already subscribed``,
   ``Subscription Not Found``, ``EGeneral:Invalid arguments`` (:mod:`.connection`).
8. ``asset_class: "derivatives"`` is required on every public subscription.
9. ``ohlc``: one subscription per symbol and connection (like every channel here), whatever
   its interval; ``interval`` defaults to 1 (Spot v1's default) and ``tick_type`` to
   ``trade``; the ack's ``result`` echoes both. The candle choices are in :mod:`.candles`.
"""

from .config import CLOSE_MESSAGE_TOO_BIG, CLOSE_SLOW_CONSUMER, UwsConfig
from .server import PUBLIC_PATH, UwsServer, public_url

__all__ = [
    "CLOSE_MESSAGE_TOO_BIG",
    "CLOSE_SLOW_CONSUMER",
    "PUBLIC_PATH",
    "UwsConfig",
    "UwsServer",
    "public_url",
]
