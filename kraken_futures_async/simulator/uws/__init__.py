"""The twin's Unified WebSocket face: the public socket ``/v2/public`` (issue 11, item 4) and
the private socket ``/v2/private`` (issue 12, item 5).

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

The private socket (:mod:`.private`, :mod:`.trading`, :mod:`.private_channels`) redeems
``params.token`` of every private request with the twin's ``GetWebSocketsToken`` service
(``EAPI:Invalid token`` for unknown or expired unused tokens); the token names the account.
Trading methods (``add_order``, ``amend_order``, ``cancel_order``, ``cancel_all``,
``cancel_all_orders_after``, ``batch_add``, ``batch_cancel``, ``set_preference``) call the
engine's REST operations; channels ``executions``, ``positions``, ``balances`` and ``margin``
are fed by the engine's events. Same bounds as the public socket (frame size, queue); fault
switches on :class:`UwsServer`: ``drop_next_acks`` (applied, unanswered), ``reject_next_tokens``
(``EAPI:Invalid token`` mid-session), ``abort_private`` (no close frame: 1006); and seeded
faults on trading requests (``UwsConfig.socket_faults``, :mod:`.faults`): the socket dropped
before or after the engine took the request, the ack lost or delayed, the request lost.

Private-socket choices where the reference marks a fact [?], made as Spot v2 does:

10. Order refusals are Spot v2 strings (:data:`.trading.ERRORS`): ``EOrder:Insufficient
    funds``, ``EOrder:Positions limit exceeded``, ``EOrder:Orders limit exceeded``,
    ``EOrder:Post only order``, ``EOrder:Reduce only:No position exists``, ``EOrder:Invalid
    price`` (off the tick grid), ``EOrder:Duplicate cl_ord_id``, ``EOrder:Deadline elapsed``;
    an unknown or closed id is ``EOrder:Invalid order`` on cancel, ``EOrder:Unknown order`` on
    amend; unreadable parameters ``EGeneral:Invalid arguments:<name>``; unknown fields
    (``order_userref``, ``leverage``...) ``Unsupported field: '<name>'``.
11. ``time_in_force``: ``gtc`` (default), ``ioc``, ``fok`` on limit orders only; ``gtd`` is
    refused (no ``expire_time``). Triggers: ``reference`` ``index``/``last`` (default
    ``last``); stop/take-profit need ``price_type: static``; trailing stops ``pct`` or
    ``quote``, and ``trailing-stop-limit``'s ``limit_price`` is a static offset.
12. ``deadline``: more than 60 s ahead is invalid; at or past it ``EOrder:Deadline elapsed``
    (the 0.5 s floor cannot be checked on receipt: transit eats it).
13. An IOC that does not trade, or a self-trade refusal, is an accepted order (success ack)
    whose end comes on ``executions`` as ``canceled``; a post-only order that would cross is
    refused in the ack (it never rested).
14. ``batch_add`` checks every order first (one bad order refuses all); an order refused
    after submission stays in its place in ``result`` as ``{"order_id": "", "error": ...}``.
15. ``executions``: a top-level ``sequence`` per subscription; a completing fill is a
    ``trade`` (``order_status: filled``) then a ``filled`` event; fees in USD at the engine's
    maker/taker rates; ``order_status: false`` leaves out ``amended``/``restated``;
    ``ratecounter: true`` is refused. Amends are ``amended``; reduce-only trims and fired
    triggers ``restated`` with ``reason``.
16. ``positions``: ``size`` signed (negative short), ``entry_price``; a flat position is
    ``size: 0`` without ``entry_price``; ``with_margin`` is accepted and adds no field
    (the reference does not name them).
17. ``balances``: snapshot per asset with ``wallets`` ``{type: flex|margin, id: flex|<margin
    account>, balance}``; updates are Spot's ledger rows with ``amount`` the change and empty
    ``ledger_id``/``ref_id``. ``ledgers`` and ``preferences`` are not served
    (``Subscription name invalid``).
18. ``cancel_all_orders_after`` accepts ``asset_class`` or none; its result echoes the
    engine's ``currentTime``/``triggerTime`` (``"0"`` when disarmed).
19. ``set_preference``: ``leverage_mode`` must carry ``max_leverage`` (a number or ``null``);
    it sets the engine's leverage preference, refused with §6.8's strings (out of the
    market's range, unknown symbol, insufficient margin); the success ``result`` echoes the
    ``leverage_mode`` set.
"""

from .config import CLOSE_MESSAGE_TOO_BIG, CLOSE_SLOW_CONSUMER, UwsConfig
from .private import INVALID_TOKEN
from .server import PRIVATE_PATH, PUBLIC_PATH, UwsServer, private_url, public_url

__all__ = [
    "CLOSE_MESSAGE_TOO_BIG",
    "CLOSE_SLOW_CONSUMER",
    "INVALID_TOKEN",
    "PRIVATE_PATH",
    "PUBLIC_PATH",
    "UwsConfig",
    "UwsServer",
    "private_url",
    "public_url",
]
