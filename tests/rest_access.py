"""Reaching the REST backend under a Session, for tests of the wire itself."""

from __future__ import annotations

from kraken_futures_async import Session
from kraken_futures_async.rest.backend import RestBackend


def rest(kf: Session) -> RestBackend:
    backend = kf.backend
    assert isinstance(backend, RestBackend)
    return backend
