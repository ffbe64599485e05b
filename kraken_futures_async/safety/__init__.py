"""Order safety: never send an order twice, and find out the truth after a lost answer.

The rules (``reconcile``) are backend-neutral; each backend supplies an order lookup
(``lookup``): the REST one asks ``orders/status``, the fills and the order history, a
WebSocket one reads the executions stream.
"""

from .lookup import OrderLookup, OrderTrace
from .reconcile import LATE, Reconciler, is_ambiguous

__all__ = ["LATE", "OrderLookup", "OrderTrace", "Reconciler", "is_ambiguous"]
