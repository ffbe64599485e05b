"""The auth service: which account a key belongs to and what it may do."""

from __future__ import annotations

from ..models import ApiKeyCheck
from ..rest.endpoints import endpoint
from ._base import Resource

__all__ = ["KeysResource"]

_CHECK = endpoint("check_api_key")


class KeysResource(Resource):
    async def check(self) -> ApiKeyCheck:
        """The Session's key: its account, creation time and permissions (any key will do)."""
        result: ApiKeyCheck = await self._backend.call(_CHECK)
        return result
