"""The twin's engine: the exchange itself, without HTTP (see ``simulator/__init__.py``).

Modules, bottom up: ``instruments`` (the listing), ``prices`` (index and mark as functions
of time), ``quotes`` (synthetic market makers and their trades), ``book`` (user orders and
matching plans), ``accounts`` (positions, wallets, margin), ``venue`` (time, matching and the
life of orders, its jobs split into ``venue_state``, ``matching``, ``triggers`` and
``order_desk``), ``events`` (what it tells its subscribers), ``journal`` (a subscriber: what
happened, for the history API and the account log), and
the request/response side, one module per group of operations: ``market_data``, ``charts``,
``analytics``, ``market_status``, ``fees``, ``trading``, ``account_data``, ``settings``,
``transfers``, ``subaccounts``, ``assignment``, ``portfolio``, ``rfq``, ``history_api``,
``market_history``, ``account_log`` (with ``paging`` for their tokens) and ``stats``, tied
together by ``exchange``. Every operation of the endpoint table is served; the API-key check
is answered by the HTTP layer, which holds the keys.

Where the twin knowingly departs from Kraken (each module's docstring says more):

* fees are always the base tier (0.02 % maker, 0.05 % taker) whatever the 30-day volume;
* the PnL currency and self-trade strategy are kept and shown but change nothing (PnL is
  booked in USD; a self-trade always rejects the taker);
* funding history covers the last 30 days (Kraken: about a year);
* nobody is liquidated, assigned or unwound: liquidation volume is zero, the assignment
  program only keeps preferences, the unwind queue ranks by return on entry;
* portfolio margining and RFQs work on futures (the twin lists no options);
* positioning analytics (long/short counts, top traders) and the liquidity pool are seeded
  noise; trade volume and count are sampled from the makers' trades;
* subaccounts are two per master, opened on first use, with no keys of their own; their
  trading switch is kept and shown;
* history position updates and mark prices use the spec's flat shapes (recorded answers wrap
  them as ``PositionUpdate``/``MarkPriceChanged``); triggers without trailing or offset
  options send ``null`` for them; edit rejections are not written as history events;
* the past is capped so that a twin run for days stays flat (``retention``, issue 17; Kraken
  keeps years): per account the latest 5,000 order events, trigger events, executions,
  position updates, account-log rows and fills each, and 2,000 closed orders; across all
  contracts together the latest 5,000 public order events and executions and 10,000 users'
  trades on the tape (trade history, candles and 24-hour volume see only those); an account
  holds at most 1,000 open orders and triggers (one more: ``tooManyOrders``) and 100
  assignment preferences (one more: ``invalidArgument``), with 1,000 changes in their history;
  what is computed from the seed is cached within caps too (16,384 prices per cache, 20,000
  candles, 10,000 hourly figures per cache; emptied when full: about 35 MB in all), and the
  price noise remembers a fixed few nodes per index and contract however long it runs;
* a number with more than 64 digits or beyond ``10**±64`` is ``invalidArgument``.
"""

from __future__ import annotations

from .exchange import Exchange

__all__ = ["Exchange"]
