"""The ``kraken-futures`` command, in its own package beside the library.

It is a client of the library's public API like any other: nothing in the library imports this
package or knows it exists. ``main`` is the console script's entry point (``kraken-futures``,
``python -m kraken_futures_async``).
"""

from .entry import main

__all__ = ["main"]
