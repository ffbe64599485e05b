"""``python -m kraken_futures_async``: the ``kraken-futures`` command."""

import sys

from .cli import main

sys.exit(main())
