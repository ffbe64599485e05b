"""Run the whole suite under a moved wall clock, to prove no test depends on today's date.

``pytest --clock-shift-days=400`` (or ``KFA_CLOCK_SHIFT_DAYS=400``) starts a time-machine
travel before the first test: ``time.time()``, ``datetime.now()`` and friends report the real
time moved by that many days and keep ticking. The event loop's monotonic clock is untouched,
so timeouts and rate limits behave as usual. A test that needs a particular wall-clock time
sets it itself with ``time_machine.travel``, which nests inside the shift.
"""

from __future__ import annotations

import datetime as dt
import os

import pytest
import time_machine

ENV_VAR = "KFA_CLOCK_SHIFT_DAYS"
_TRAVELLER = pytest.StashKey[time_machine.travel]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock-shift-days",
        type=int,
        default=None,
        help=f"run every test with the wall clock moved this many days (or ${ENV_VAR})",
    )


def shift_days(config: pytest.Config) -> int:
    option = config.getoption("--clock-shift-days")
    if option is not None:
        return int(option)
    return int(os.environ.get(ENV_VAR, "0") or 0)


def pytest_configure(config: pytest.Config) -> None:
    days = shift_days(config)
    if days:
        moved = dt.datetime.now(dt.UTC) + dt.timedelta(days=days)
        traveller = time_machine.travel(moved, tick=True)
        traveller.start()
        config.stash[_TRAVELLER] = traveller


def pytest_unconfigure(config: pytest.Config) -> None:
    traveller = config.stash.get(_TRAVELLER, None)
    if traveller is not None:
        traveller.stop()


def pytest_report_header(config: pytest.Config) -> str | None:
    days = shift_days(config)
    return f"wall clock moved by {days:+d} days" if days else None
