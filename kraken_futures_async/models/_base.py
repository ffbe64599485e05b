"""What every model shares: wire-name metadata, enums that survive new values, and Decimal."""

from __future__ import annotations

import enum
from typing import Any

__all__ = ["WIRE_NAME", "WireEnum", "wire"]

#: attrs metadata key naming a field's key in Kraken's JSON when it is not the camelCase default.
WIRE_NAME = "kraken_futures_async.wire_name"


def wire(name: str) -> dict[str, Any]:
    """Field metadata for a wire key that is not the camelCase of the field name."""
    return {WIRE_NAME: name}


class WireEnum(enum.StrEnum):
    """A string enum whose unknown wire values become ``UNKNOWN`` instead of failing.

    Kraken adds enum values without notice (it added ``unknown`` itself in May 2026), and a
    trading service must not fall over on the day it does.
    """

    @classmethod
    def _missing_(cls, value: object) -> Any:
        return cls.__members__.get("UNKNOWN")

    def __str__(self) -> str:
        return str(self.value)
