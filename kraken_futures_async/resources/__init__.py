"""Typed methods grouped as Kraken's docs group them: market, account, orders."""

from .account import AccountResource
from .market import MarketResource
from .orders import OrdersResource

__all__ = ["AccountResource", "MarketResource", "OrdersResource"]
