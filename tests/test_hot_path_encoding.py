"""The cheaper form encoding and signature give exactly what urllib and hmac.new give."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlencode

from hypothesis import given
from hypothesis import strategies as st

from kraken_futures_async.rest.signing import sign
from kraken_futures_async.rest.wire import urlencode_pairs
from tests.conftest import TEST_SECRET

_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ["PF_XBTUSD", "0.0001", "2026-12-07T00:00:05.000Z", "a b+c", "~-_.", "", "é", "%41"]
)


@given(st.lists(st.tuples(_TEXT, _TEXT), max_size=8))
def test_urlencode_pairs_is_urlencode(pairs: list[tuple[str, str]]) -> None:
    assert urlencode_pairs(pairs) == urlencode(pairs)
    assert urlencode_pairs(tuple(pairs)) == urlencode(pairs)


@given(st.text(max_size=40), st.text(alphabet="0123456789", max_size=14), st.text(max_size=30))
def test_sign_is_kraken_authent(post_data: str, nonce: str, path: str) -> None:
    secret = base64.b64decode(TEST_SECRET)
    digest = hashlib.sha256((post_data + nonce + path).encode()).digest()
    expected = base64.b64encode(hmac.new(secret, digest, hashlib.sha512).digest()).decode()
    assert sign(secret, post_data, nonce, path) == expected
