"""The assignment program: standing offers to take over positions of liquidated accounts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from ._base import WireEnum

__all__ = [
    "AssignmentHistoryEntry",
    "AssignmentParticipant",
    "AssignmentPreference",
    "AssignmentTimeFrame",
]


class AssignmentTimeFrame(WireEnum):
    """When an assignment preference applies: every day, weekdays or weekends."""

    ALL = "all"
    WEEKDAYS = "weekdays"
    WEEKENDS = "weekends"
    UNKNOWN = "unknown"


@attrs.frozen(kw_only=True)
class AssignmentPreference:
    """Which positions the account accepts, up to what size, and when."""

    contract_type: str
    accept_long: bool
    accept_short: bool
    time_frame: AssignmentTimeFrame
    enabled: bool
    contract: str | None = None
    max_size: Decimal | None = None
    max_position: Decimal | None = None


@attrs.frozen(kw_only=True)
class AssignmentParticipant:
    """An active preference; ``id`` is what ``delete`` takes."""

    id: int
    participant: AssignmentPreference


@attrs.frozen(kw_only=True)
class AssignmentHistoryEntry:
    """One change of an assignment preference: the preference, and whether it was deleted."""

    deleted: bool
    participant: AssignmentPreference
    timestamp: dt.datetime | None = None
