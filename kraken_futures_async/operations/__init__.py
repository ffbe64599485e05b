"""Typed, backend-neutral requests and the operation list.

What a user asks for, in Python values, checked once; how it travels is a backend's business
(``rest/`` today, the Unified WebSocket next).
"""

from .base import NO_ARGUMENTS, NoArguments, Operation
from .catalog import OPERATIONS, operation
from .orders import (
    BatchRequest,
    BatchSend,
    CancelAll,
    CancelAllAfter,
    CancelOrder,
    EditOrder,
    FillsQuery,
    OrderStatusQuery,
    OwnDeadline,
    SendOrder,
)

__all__ = [
    "NO_ARGUMENTS",
    "OPERATIONS",
    "BatchRequest",
    "BatchSend",
    "CancelAll",
    "CancelAllAfter",
    "CancelOrder",
    "EditOrder",
    "FillsQuery",
    "NoArguments",
    "Operation",
    "OrderStatusQuery",
    "OwnDeadline",
    "SendOrder",
    "operation",
]
