"""Seeded randomness that is a pure function of its inputs, for the market's exogenous parts.

Prices, synthetic quotes and background trades must not depend on how often or in which
order they are looked at, so they cannot share one stateful random generator. Each value is
instead a hash of (seed, stream, instrument, time index): ask for the same thing twice and you
get the same answer, ask for something else in between and nothing changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

__all__ = ["key_of", "mix", "signed_unit", "signed_units", "unit", "units", "uuid_from"]

_M64 = (1 << 64) - 1
_INV_2_64 = 1.0 / float(1 << 64)


def mix(x: int) -> int:
    """splitmix64's finaliser: a fast, well-spread 64-bit hash of a 64-bit integer."""
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


def key_of(seed: int, *names: str) -> int:
    """A 64-bit stream key from the seed and names (stable across runs, unlike ``hash()``)."""
    text = "\x1f".join((str(seed), *names)).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def unit(key: int, index: int) -> float:
    """A uniform number in [0, 1) for ``index`` in the stream ``key``."""
    return mix(key ^ mix(index & _M64)) * _INV_2_64


def signed_unit(key: int, index: int) -> float:
    """A uniform number in [-1, 1) for ``index`` in the stream ``key``."""
    return 2.0 * unit(key, index) - 1.0


def units(key: int, indices: Iterable[int]) -> list[float]:
    """:func:`unit` of each index, inlined (candles hash tens of thousands in one answer)."""
    m64, inv = _M64, _INV_2_64
    out: list[float] = []
    append = out.append
    for index in indices:
        x = ((index & m64) + 0x9E3779B97F4A7C15) & m64
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & m64
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & m64
        x = ((key ^ x ^ (x >> 31)) + 0x9E3779B97F4A7C15) & m64
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & m64
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & m64
        append((x ^ (x >> 31)) * inv)
    return out


def signed_units(key: int, indices: Iterable[int]) -> list[float]:
    """:func:`signed_unit` of each index."""
    return [2.0 * value - 1.0 for value in units(key, indices)]


def uuid_from(key: int, index: int) -> str:
    """A uuid4-shaped string derived from ``index`` in the stream ``key``."""
    high = mix(key ^ mix(index & _M64))
    low = mix(high ^ key)
    value = (high << 64) | low
    value &= ~(0xF000 << 64)
    value |= 0x4000 << 64  # version 4
    value &= ~(0xC000 << 48)
    value |= 0x8000 << 48  # RFC 4122 variant
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
