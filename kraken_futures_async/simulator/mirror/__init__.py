"""Mirror mode: the twin's user side over a live market read from a public socket (issue 16).

- :mod:`.market`: what the mirror knows of the source (books, trades, prices, freshness);
- :mod:`.source`: the task that reads the source's public channels into it;
- :mod:`.pricing`: the mirrored market behind the engine's price and maker interfaces;
- :mod:`.fill_model`: how paper orders fill, every rule in its docstring;
- :mod:`.venue`: the engine's core over the mirror;
- :mod:`.twin`: :func:`mirror_twin`, a servable twin built from all of it.
"""

from __future__ import annotations

from .fill_model import FillModel
from .market import MirroredMarket
from .twin import DEFAULT_SOURCE, DEFAULT_SYMBOLS, MirrorTwin, mirror_twin

__all__ = [
    "DEFAULT_SOURCE",
    "DEFAULT_SYMBOLS",
    "FillModel",
    "MirrorTwin",
    "MirroredMarket",
    "mirror_twin",
]
