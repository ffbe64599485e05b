"""Shared fixtures. Tests never touch the network: respx, MockTransport or the twin in-process.

Every test runs with the twin's answers checked against Kraken's OpenAPI schemas (see
``twin_checks.py``): a mismatch fails the test that caused it.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator

import pytest

from kraken_futures_async import Credentials

from .clock_shift import (  # noqa: F401 (hooks pytest finds by name)
    pytest_addoption,
    pytest_configure,
    pytest_report_header,
    pytest_unconfigure,
)
from .twin_checks import ResponseChecker, checking

#: Reference §2.4's made-up secret: the 66 bytes 0x00..0x41, base64-encoded.
TEST_SECRET = (
    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BB"
)
TEST_KEY = "test-public-key"
BASE_URL = "http://twin.test"

_CHECKER = pytest.StashKey[ResponseChecker]()


@pytest.fixture(autouse=True)
def twin_schema_check(request: pytest.FixtureRequest) -> Iterator[ResponseChecker]:
    """Validate every answer any twin gives during the test; fail the test on a mismatch."""
    with checking() as checker:
        request.node.stash[_CHECKER] = checker
        yield checker
        problems = checker.report()  # answers given while fixtures were torn down
    if problems:
        pytest.fail(problems, pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Turn the test's own mismatches into its failure (not an error at teardown)."""
    result = yield
    checker = item.stash.get(_CHECKER, None)
    problems = None if checker is None else checker.report()
    if problems:
        pytest.fail(problems, pytrace=False)
    return result


@pytest.fixture
def credentials() -> Credentials:
    return Credentials(TEST_KEY, TEST_SECRET)
