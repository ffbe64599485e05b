"""What the auth service says about the API key in use."""

from __future__ import annotations

import datetime as dt

import attrs

from ._base import WireEnum

__all__ = ["AccessLevel", "ApiKeyCheck", "KeyPermissions"]


class AccessLevel(WireEnum):
    """What an API key may do in one area: nothing, read, or everything."""

    NO_ACCESS = "NO_ACCESS"
    READ_ONLY = "READ_ONLY"
    FULL_ACCESS = "FULL_ACCESS"
    UNKNOWN = "unknown"


@attrs.frozen(kw_only=True)
class KeyPermissions:
    """``general`` covers trading and account data, ``transfer`` moving funds."""

    general: AccessLevel
    transfer: AccessLevel


@attrs.frozen(kw_only=True)
class ApiKeyCheck:
    """What ``kf.keys.check()`` tells about the Session's key: its account, creation time and
    permissions."""

    api_key: str
    account_uid: str
    iiban: str | None
    created_at: dt.datetime
    permissions: KeyPermissions
