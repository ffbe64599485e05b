"""The public surface is deliberate: every exported name exists and nothing leaks in by accident."""

from __future__ import annotations

import kraken_futures_async
from kraken_futures_async import errors


def test_all_names_exist_and_are_sorted() -> None:
    exported = kraken_futures_async.__all__
    assert exported == sorted(exported, key=lambda n: (not n.isupper(), n))
    missing = [n for n in exported if not hasattr(kraken_futures_async, n)]
    assert missing == []


def test_every_error_class_is_exported_and_rooted() -> None:
    public = set(kraken_futures_async.__all__)
    for name in errors.__all__:
        obj = getattr(errors, name)
        if isinstance(obj, type):
            assert issubclass(obj, errors.KrakenFuturesError), name
            assert name in public, f"{name} is not re-exported"


def test_session_and_credentials_are_the_entry_points() -> None:
    assert kraken_futures_async.Session.__module__ == "kraken_futures_async.session"
    assert kraken_futures_async.Credentials.__module__ == "kraken_futures_async.auth"


def test_the_objects_callers_build_are_exported() -> None:
    for name in ("BatchOrder", "OrderSafety", "RetryPolicy", "RateLimitPolicy", "Credentials"):
        assert name in kraken_futures_async.__all__
    batch = kraken_futures_async.BatchOrder().cancel(cli_ord_id="x")
    assert len(batch) == 1
