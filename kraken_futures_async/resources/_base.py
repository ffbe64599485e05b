"""Resources are thin typed methods over the endpoint table: they build wire parameters for
its rows and hand them to the Session, which sends them over REST."""

from __future__ import annotations

from ..rest.pipeline import Backend

__all__ = ["Resource"]


class Resource:
    def __init__(self, backend: Backend) -> None:
        self._backend = backend
