"""Typed methods grouped as Kraken's docs group them: market, account, orders, and the rest."""

from .account import AccountResource
from .assignment import AssignmentResource
from .charts import ChartsResource
from .history import HistoryResource
from .keys import KeysResource
from .market import MarketResource
from .orders import OrdersResource
from .portfolio import PortfolioResource
from .rfq import RfqResource
from .settings import SettingsResource
from .stats import StatsResource
from .subaccounts import SubaccountsResource
from .transfers import TransfersResource

__all__ = [
    "AccountResource",
    "AssignmentResource",
    "ChartsResource",
    "HistoryResource",
    "KeysResource",
    "MarketResource",
    "OrdersResource",
    "PortfolioResource",
    "RfqResource",
    "SettingsResource",
    "StatsResource",
    "SubaccountsResource",
    "TransfersResource",
]
