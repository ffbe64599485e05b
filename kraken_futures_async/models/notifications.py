"""Platform notices (``/notifications``): maintenance windows, settlements, new features."""

from __future__ import annotations

import datetime as dt

import attrs

from ._base import WireEnum

__all__ = ["Notification", "NotificationPriority", "NotificationType"]


class NotificationType(WireEnum):
    """What a platform notification is about."""

    NEW_FEATURE = "new_feature"
    BUG_FIX = "bug_fix"
    SETTLEMENT = "settlement"
    GENERAL = "general"
    MAINTENANCE = "maintenance"
    MARKET = "market"
    UNKNOWN = "unknown"


class NotificationPriority(WireEnum):
    """How urgent a platform notification is."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    UNKNOWN = "unknown"


@attrs.frozen(kw_only=True)
class Notification:
    """A notice; high-priority maintenance means downtime starting at ``effective_time``."""

    type: NotificationType
    priority: NotificationPriority
    note: str
    effective_time: dt.datetime
    expected_downtime_minutes: int | None = None

    @property
    def is_downtime(self) -> bool:
        """True for a high-priority maintenance notice: the way Kraken announces downtime."""
        return (
            self.type is NotificationType.MAINTENANCE and self.priority is NotificationPriority.HIGH
        )
