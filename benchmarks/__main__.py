"""``python -m benchmarks`` (what ``make bench`` runs); see benchmarks/run.py."""

import sys

from .run import main

sys.exit(main())
