"""The exchange twin: Kraken Futures as a local ASGI app (Kraken retired its demo on 2026-07-14).

Two layers with one seam between them:

* the REST face (``rest/``: ``app.py`` and friends) routes requests with the package's
  endpoint table, merges query and form parameters, verifies ``Authent``, nonces and
  permissions, meters rate limits, injects faults and renders Kraken's envelopes, choosing
  the HTTP status and envelope of every refusal;
* the engine (``engine/``) is the exchange itself: instruments, a moving mark price, order
  books with price-time priority, orders of every type, accounts, margin and PnL. It imports
  nothing HTTP and names no HTTP status, but it still takes endpoint-table operation names
  and REST parameters and returns REST payloads. It pushes typed events (``engine/events.py``:
  orders placed, rested, changed, fired, cancelled and filled, executions with their
  settlements, transfers, trades, book changes, positions, balances, marks) to its
  subscribers: its own journal (the history API's source) is one, the WebSocket face
  another. Its whole interface is::

      exchange = Exchange(seed=..., clock=...)
      exchange.open_account(account_uid, balances={"USD": Decimal(...)})
      unsubscribe = exchange.subscribe(callback)   # callback(event), synchronously
      payload = exchange.handle(operation, params, account_uid)

  where ``operation`` is an endpoint-table name (``"send_order"``), ``params`` maps each
  parameter name to the list of its values (query, form and path parameters merged; the
  batch ``json`` field raw), ``account_uid`` is ``None`` for public calls, and ``payload`` is
  the answer's keys without ``result``/``serverTime`` (or the whole body for endpoints
  without Kraken's envelope). Numbers in payloads are Decimals, times ISO strings. A refusal
  raises :class:`~kraken_futures_async.simulator.errors.ExchangeError` with Kraken's code and a
  :class:`~kraken_futures_async.simulator.errors.Reason`; an order request that is assessed
  and refused is not an error but a status in its payload, as on Kraken.

Limits (issue 17), all in :class:`TwinConfig`: a request's query string and body together at
most 1 MiB and 10,000 parameters (413 before parsing; reading stops past the ceiling), JSON
nested past the parser's depth is ``Json Parse Error``, a nonce at most 32 digits
(``invalidArgument``), the latest 100 engine failures and 10,000 fired faults kept, a served
connection closed if it takes over 5 s to deliver a request, and the engine's records capped by
:class:`Retention` (see ``engine/__init__.py``).

Mirror mode (``mirror/``, :func:`mirror_twin`): the same twin over a live market read from a
public Unified WebSocket socket instead of a synthetic one: paper trading (issue 16).
"""

from .clock import Clock, ManualClock, SystemClock
from .config import BucketLimit, Retention, TwinConfig
from .errors import ExchangeError, Reason
from .mirror import MirrorTwin, mirror_twin
from .rest.app import ExchangeEngine, TwinApp
from .rest.auth import ApiKey, KeyRegistry, Permissions
from .rest.errors import HttpRefusalError
from .rest.faults import FaultInjector, FaultKind, FaultRule
from .rest.transport import InProcessTransport
from .twin import RunningTwin, Twin, run_in_thread, serve

__all__ = [
    "ApiKey",
    "BucketLimit",
    "Clock",
    "ExchangeEngine",
    "ExchangeError",
    "FaultInjector",
    "FaultKind",
    "FaultRule",
    "HttpRefusalError",
    "InProcessTransport",
    "KeyRegistry",
    "ManualClock",
    "MirrorTwin",
    "Permissions",
    "Reason",
    "Retention",
    "RunningTwin",
    "SystemClock",
    "Twin",
    "TwinApp",
    "TwinConfig",
    "mirror_twin",
    "run_in_thread",
    "serve",
]
