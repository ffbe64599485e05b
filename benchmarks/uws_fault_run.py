"""The order-safety fault run over the Unified WebSocket (issue 12, item 4), with its figures.

    python -m benchmarks.uws_fault_run                       # 1,000 orders, the issue's run
    python -m benchmarks.uws_fault_run --orders 5000 --seed 7 --json run.json

Orders go through ``Session(..., backend="uws")`` to the twin's private socket, served on a
loopback port in the same event loop on virtual time, while about a fifth of them meet a
seeded socket fault (dropped before or after the engine took the order, ack lost, ack
delayed within or past the client's wait, request lost). Every answer is held to the
engine's own record: the figures are duplicates (a client order id placed twice), wrong
answers (placed or not placed, and untrue), and unknowns (``OrderStatusUnknownError``,
split by what the engine really did). The run itself is ``tests/test_uws_fault_run.py``,
where the same 1,000 orders are a test.
"""

from __future__ import annotations

import argparse
import json
import sys

from tests.test_uws_fault_run import ORDERS, SEED, WORKERS, run_fault_run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.uws_fault_run")
    parser.add_argument("--orders", type=int, default=ORDERS, help="orders to send (1..20000)")
    parser.add_argument("--seed", type=int, default=SEED, help="seeds the orders and faults")
    parser.add_argument("--workers", type=int, default=WORKERS, help="concurrent senders")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    if not 1 <= args.orders <= 20_000 or not 1 <= args.workers <= 64:
        parser.error("--orders is within 1..20000 and --workers within 1..64")
    report = run_fault_run(args.orders, seed=args.seed, workers=args.workers)
    print(report.summary())
    figures = report.figures()
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(
                {
                    "figures": figures,
                    "faults": dict(report.faults),
                    "unknown_by_fault": dict(report.unknown_by_fault()),
                },
                out,
                indent=2,
            )
    failed = figures["duplicates"] or figures["wrong_answers"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
