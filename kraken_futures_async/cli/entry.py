"""The ``kraken-futures`` command: market data, a scripted trading session, the twin, a bench.

It talks to an exchange twin inside the process unless ``--base-url`` or ``--env production``
says otherwise, so every subcommand works with no network and no credentials. Tables are for
people; ``--json`` prints one JSON document for programs (``watch``: one line per update).
Exit status: 0 done, 1 the exchange or the connection failed (or an optional dependency is
missing), 2 bad arguments (an unknown symbol included), 130 interrupted (but Ctrl-C is how
``sim`` and ``watch`` are meant to end: 0).

The command is a client of the library's public API like any other; nothing in the library
knows it exists. This module is its entry point: it parses the arguments, runs one subcommand
and turns what went wrong into a one-line message and an exit status.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TextIO

from ..auth import API_KEY_ENV, API_SECRET_ENV
from ..config import PRODUCTION
from ..errors import (
    AuthenticationError,
    ConnectionFailedError,
    KrakenFuturesError,
    MissingCredentialsError,
)
from . import jobs
from .arguments import PROG, build_parser
from .commands import COMMANDS, FAILED, INTERRUPTED, OK, USAGE, CommandFailedError, UsageError
from .output import Output
from .target import TWIN

__all__ = ["main"]

#: The library's logger, shown on stderr with -v (INFO) and -vv (DEBUG).
LIBRARY_LOGGER = "kraken_futures_async"


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def _missing_dependency(args: argparse.Namespace) -> str | None:
    """What the command needs that is not installed, and how to install it (one line)."""
    if args.command in ("sim", "paper"):  # prints a banner, not a table: rich is optional
        if not _importable("uvicorn"):
            return (
                f"`kraken-futures {args.command}` serves the twin with uvicorn, which is not "
                "installed: pip install 'kraken_futures_async[sim]'"
            )
        return None
    if not args.json and not _importable("rich"):
        return (
            "tables need rich, which is not installed: "
            "pip install 'kraken_futures_async[cli]' (or use --json)"
        )
    return None


def _explain(exc: KrakenFuturesError, args: argparse.Namespace) -> str:
    if isinstance(exc, ConnectionFailedError):
        where = args.base_url or (PRODUCTION.base_url if args.env != TWIN else "the twin")
        hint = " Is it running? `kraken-futures sim` starts one." if args.base_url else ""
        cause = exc.__cause__ or exc.message
        return f"could not connect to {where} ({cause}).{hint}"
    if isinstance(exc, MissingCredentialsError):
        return (
            f"{exc}. Set {API_KEY_ENV} and {API_SECRET_ENV} "
            "(the embedded twin needs none: leave out --base-url and --env)"
        )
    if isinstance(exc, AuthenticationError):
        # Kraken gives one code for a wrong key, a wrong secret, a stale nonce and a missing
        # permission, so name everything worth checking; never the key's secret itself.
        return (
            f"the exchange refused the credentials ({exc}). Check {API_KEY_ENV} (the public "
            f"key) and {API_SECRET_ENV} (its base64 private key, copied whole), that this "
            "machine's clock is right, and that the key has the permissions this call needs"
        )
    return str(exc)


@contextmanager
def _library_log(verbosity: int, stream: TextIO) -> Iterator[None]:
    """The library's log on ``stream`` while the command runs (-v INFO, -vv DEBUG).

    The library writes no key, secret or signature to its log, so neither does this.
    """
    if verbosity < 1:
        yield
        return
    logger = logging.getLogger(LIBRARY_LOGGER)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        logging.Formatter("%(asctime)s.%(msecs)03d %(name)s %(levelname)s: %(message)s", "%H:%M:%S")
    )
    level = logging.INFO if verbosity == 1 else logging.DEBUG
    handler.setLevel(level)
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
        handler.flush()


def _silence(stream: TextIO) -> None:
    """Point a closed stdout at /dev/null so the interpreter's final flush stays quiet."""
    if stream is sys.stdout:
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the command; returns the exit status (the console script exits with it)."""
    out_stream = stdout or sys.stdout
    err_stream = stderr or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage and the reason
        return exc.code if isinstance(exc.code, int) else USAGE

    def fail(status: int, message: str) -> int:
        print(f"{PROG}: error: {message}", file=err_stream)
        return status

    missing = _missing_dependency(args)
    if missing:
        return fail(FAILED, missing)
    out = Output(
        as_json=args.json,
        progress=not args.no_progress,
        stdout=out_stream,
        stderr=err_stream,
        rich=_importable("rich"),
    )
    verbosity = args.verbose + getattr(args, "verbose_after", 0)
    try:
        with _library_log(verbosity, err_stream):
            return asyncio.run(COMMANDS[args.command](args, out))
    except UsageError as exc:
        parser.print_usage(err_stream)
        return fail(USAGE, str(exc))
    except jobs.UnknownSymbolError as exc:  # a bad argument only the exchange could spot
        return fail(USAGE, str(exc))
    except CommandFailedError as exc:
        return fail(FAILED, str(exc))
    except KrakenFuturesError as exc:
        return fail(FAILED, _explain(exc, args))
    except BrokenPipeError:  # the reader went away (`| head`): nothing left to say
        _silence(out_stream)
        return OK
    except OSError as exc:  # e.g. `sim` on a port that is taken
        return fail(FAILED, f"{exc.strerror or exc}")
    except KeyboardInterrupt:
        if args.command in ("sim", "paper", "watch"):  # Ctrl-C is how these are meant to stop
            return OK
        return fail(INTERRUPTED, "interrupted")
