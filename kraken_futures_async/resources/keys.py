"""The auth service: which account a key belongs to and what it may do."""

from __future__ import annotations

from ..models import ApiKeyCheck
from ..operations import NO_ARGUMENTS
from ..operations import catalog as ops
from ._base import Resource

__all__ = ["KeysResource"]


class KeysResource(Resource):
    """``kf.keys``: the check of the Session's API key."""

    async def check(self) -> ApiKeyCheck:
        """The Session's key: its account, creation time and permissions (any key will do)."""
        return await self._session.execute(ops.CHECK_API_KEY, NO_ARGUMENTS)
