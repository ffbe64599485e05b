"""The twin's engine: the exchange itself, without HTTP (see ``simulator/__init__.py``).

Modules, bottom up: ``instruments`` (the listing), ``prices`` (index and mark as functions
of time), ``quotes`` (synthetic market makers and their trades), ``book`` (user orders and
matching plans), ``accounts`` (positions, wallets, margin), ``venue`` (time, matching and the
life of orders), and the request/response side: ``market_data``, ``charts``, ``trading``,
``account_data``, tied together by ``exchange``.
"""

from __future__ import annotations

from .exchange import Exchange

__all__ = ["Exchange"]
