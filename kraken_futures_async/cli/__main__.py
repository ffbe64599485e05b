"""``python -m kraken_futures_async.cli``: the ``kraken-futures`` command."""

import sys

from . import main

sys.exit(main())
