"""Answers that carry nothing but success (``{"result": "success", "serverTime": ...}``).

Their rows name ``None`` as the result type; once the envelope is gone the payload is ``{}``,
which this hook turns into ``None``. The strict converter refuses a payload with keys, so a
contract test notices when Kraken starts to say more.
"""

from __future__ import annotations

from typing import Any

import cattrs

__all__ = ["register_hooks"]


def register_hooks(conv: cattrs.Converter) -> None:
    strict = bool(getattr(conv, "forbid_extra_keys", False))

    def structure_nothing(value: Any, _: Any) -> None:
        if strict and value not in (None, {}):
            raise ValueError(f"expected an empty answer, got {value!r}")

    conv.register_structure_hook(type(None), structure_nothing)
