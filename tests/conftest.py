"""Shared fixtures. Tests never touch the network: respx, MockTransport or the twin in-process."""

from __future__ import annotations

import pytest

from kraken_futures_async import Credentials

#: Reference §2.4's made-up secret: the 66 bytes 0x00..0x41, base64-encoded.
TEST_SECRET = (
    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BB"
)
TEST_KEY = "test-public-key"
BASE_URL = "http://twin.test"


@pytest.fixture
def credentials() -> Credentials:
    return Credentials(TEST_KEY, TEST_SECRET)
