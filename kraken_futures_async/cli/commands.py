"""The ``kraken-futures`` command: market data, a scripted trading session, the twin, a bench.

It talks to an exchange twin inside the process unless ``--base-url`` or ``--env production``
says otherwise, so every subcommand works with no network and no credentials. Tables are for
people; ``--json`` prints one JSON document for programs. Exit status: 0 done, 1 the exchange
or the connection failed (or an optional dependency is missing), 2 bad arguments (an unknown
symbol included), 130 interrupted.

The command is a client of the library's public API like any other; nothing in the library
knows it exists.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import importlib
import logging
import sys
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import urlsplit

from ..auth import API_KEY_ENV, API_SECRET_ENV
from ..config import PRODUCTION
from ..errors import (
    AuthenticationError,
    ConnectionFailedError,
    KrakenFuturesError,
    MissingCredentialsError,
)
from . import jobs
from .json_output import dumps
from .target import TWIN, Target, connect

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

__all__ = ["main"]

PROG = "kraken-futures"
#: Exit statuses.
OK, FAILED, USAGE, INTERRUPTED = 0, 1, 2, 130


#: Width of tables written to a pipe or a file: wide enough that no row wraps.
PIPE_WIDTH = 1000
#: The library's logger, shown on stderr with -v (INFO) and -vv (DEBUG).
LIBRARY_LOGGER = "kraken_futures_async"
#: The paths a user may paste after the host; the library adds them itself.
_API_PATHS = ("", "/derivatives", "/derivatives/api", "/derivatives/api/v3")


class UsageError(Exception):
    """Arguments that parse but do not make sense together."""


class CommandFailedError(Exception):
    """The command cannot do its job here (exit status 1); the message says why and what to do."""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kraken_futures_async")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "(version unknown: the package is not installed)"


# --- argument types -----------------------------------------------------------------------


def _url(text: str) -> str:
    """The server's root URL; ``/derivatives`` (or ``/derivatives/api/v3``) after it is dropped.

    The library adds those paths itself, and a pasted API URL is what users often have at hand.
    """
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"expected http(s)://host[:port], got {text!r}")
    try:
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad port in {text!r}") from None
    if parts.path.rstrip("/") not in _API_PATHS or parts.query or parts.fragment:
        root = f"{parts.scheme}://{parts.netloc}"
        raise argparse.ArgumentTypeError(
            f"expected the server's root URL such as {root} (the command adds "
            f"/derivatives/api/v3 itself), got {text!r}"
        )
    return f"{parts.scheme}://{parts.netloc}"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, got {text!r}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _size(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal(0)
    if not value.is_finite() or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive size, got {text!r}")
    return value


def _symbol(text: str) -> str:
    if not text or not text.replace("_", "").replace(":", "").isalnum():
        raise argparse.ArgumentTypeError(f"not a contract symbol: {text!r}")
    return text.upper() if text[:3].lower() in ("pf_", "pi_", "ff_", "fi_") else text


# --- the parser ---------------------------------------------------------------------------


def _common(*, inherit: bool) -> argparse.ArgumentParser:
    """Options every subcommand takes, before or after its name.

    On subcommands they default to "not given" so they do not undo a value given before the
    subcommand's name.
    """

    def default(value: object) -> object:
        return argparse.SUPPRESS if inherit else value

    parser = argparse.ArgumentParser(add_help=False)
    group = parser.add_argument_group("exchange and output")
    group.add_argument(
        "--base-url",
        type=_url,
        default=default(None),
        metavar="URL",
        help=f"a twin or Kraken-compatible server (credentials: {API_KEY_ENV}, {API_SECRET_ENV})",
    )
    group.add_argument(
        "--env",
        choices=(TWIN, PRODUCTION.name),
        default=default(TWIN),
        help="twin: an exchange twin in this process (default); production: Kraken itself",
    )
    group.add_argument(
        "--json", action="store_true", default=default(False), help="print JSON for programs"
    )
    group.add_argument(
        "--seed", type=int, default=default(0), help="seed of the embedded twin (default 0)"
    )
    group.add_argument(
        "--timeout", type=_seconds, default=default(10.0), help="seconds per request (10)"
    )
    group.add_argument(
        "--retries",
        type=_positive_int,
        default=default(4),
        metavar="ATTEMPTS",
        help="attempts per request, the first included (4; 1 fails fast)",
    )
    group.add_argument(
        "--no-progress",
        action="store_true",
        default=default(False),
        help="no progress bars (they are off anyway with --json or without a terminal)",
    )
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        # before and after the subcommand's name count apart, then add up (-v tickers -v)
        dest="verbose_after" if inherit else "verbose",
        default=default(0),
        help="the library's log on stderr: -v retries and reconciliation, -vv every request",
    )
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Kraken Futures from the command line, against the exchange twin "
        "(default) or a server you name.",
        parents=[_common(inherit=False)],
        epilog="Start with `kraken-futures demo`: the whole main job on the embedded twin.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    common = [_common(inherit=True)]

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, parents=common, help=help_text, description=help_text)

    tickers = command("tickers", "every ticker (or the ones named)")
    tickers.add_argument("symbols", nargs="*", type=_symbol, metavar="SYMBOL")

    book = command("book", "one contract's order book")
    book.add_argument("symbol", type=_symbol, metavar="SYMBOL")
    book.add_argument("--depth", type=_positive_int, default=10, help="levels per side (10)")

    snapshot = command("snapshot", "every ticker and every order book, fetched concurrently")
    snapshot.add_argument(
        "--rows", type=_positive_int, default=15, help="books to show in the table (15)"
    )

    trade = command("trade", "a short scripted session: place, edit, cancel, fill, positions")
    trade.add_argument("--symbol", type=_symbol, default="PF_XBTUSD", help="(PF_XBTUSD)")
    trade.add_argument("--size", type=_size, help="order size (ten of the smallest step)")
    trade.add_argument(
        "--allow-production", action="store_true", help="really trade on Kraken (real money)"
    )

    demo = command("demo", "the main job: snapshot, trading session, summary")
    demo.add_argument("--symbol", type=_symbol, default="PF_XBTUSD", help="(PF_XBTUSD)")
    demo.add_argument(
        "--rows", type=_positive_int, default=10, help="books to show in the table (10)"
    )

    sim = command("sim", "serve the exchange twin on 127.0.0.1 until Ctrl-C")
    sim.add_argument("--port", type=_port, default=8080, help="TCP port, 0 = any free (8080)")
    sim.add_argument(
        "--no-rate-limits", action="store_true", help="admit every call (no apiLimitExceeded)"
    )

    bench = command("bench", "latency, client CPU and throughput of each kind of call")
    bench.add_argument(
        "--calls", type=_positive_int, default=30, help="calls of each kind, in sequence (30)"
    )
    bench.add_argument("--symbol", type=_symbol, default="PF_XBTUSD", help="(PF_XBTUSD)")
    bench.add_argument("--no-orders", action="store_true", help="leave out the order calls")
    bench.add_argument(
        "--allow-production", action="store_true", help="place orders on Kraken (real money)"
    )
    return parser


# --- output -------------------------------------------------------------------------------


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or closed
        return False


class Output:
    """Where results go: rich tables on stdout, or one JSON document.

    Without rich (``rich=False``) only ``--json`` and plain text (``show(text=...)``) work.
    """

    def __init__(
        self,
        *,
        as_json: bool,
        progress: bool,
        stdout: TextIO,
        stderr: TextIO,
        rich: bool = True,
    ):
        self.as_json = as_json
        self._stdout = stdout
        self._stderr = stderr
        self._rich = rich
        self._progress = rich and progress and not as_json and _is_terminal(stderr)
        self._console: Console | None = None

    def console(self) -> Console:
        """A console on stdout: as wide as the terminal, or too wide to wrap on a pipe."""
        if self._console is None:
            from rich.console import Console

            width = None if _is_terminal(self._stdout) else PIPE_WIDTH
            self._console = Console(file=self._stdout, highlight=False, width=width)
        return self._console

    def progress(self) -> AbstractContextManager[jobs.Progress]:
        if not self._progress:
            return nullcontext(jobs.NoProgress())
        from rich.console import Console

        from .render import RichProgress

        return RichProgress(Console(file=self._stderr))

    def show(
        self,
        json_value: Any,
        table: Callable[[], RenderableType],
        *,
        text: Callable[[], str] | None = None,
    ) -> None:
        """``json_value`` as JSON, or ``table()``; ``text()`` instead when rich is missing."""
        if self.as_json:
            print(dumps(json_value), file=self._stdout)
        elif text is not None and not self._rich:
            print(text(), file=self._stdout)
        else:
            self.console().print(table())
        self._stdout.flush()

    def note(self, text: str) -> None:
        if not self.as_json:
            self.console().print(text)


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def _missing_dependency(args: argparse.Namespace) -> str | None:
    """What the command needs that is not installed, and how to install it (one line)."""
    if args.command == "sim":  # prints a banner, not a table: rich is optional here
        if not _importable("uvicorn"):
            return (
                "`kraken-futures sim` serves the twin with uvicorn, which is not installed: "
                "pip install 'kraken_futures_async[sim]'"
            )
        return None
    if not args.json and not _importable("rich"):
        return (
            "tables need rich, which is not installed: "
            "pip install 'kraken_futures_async[cli]' (or use --json)"
        )
    return None


# --- the subcommands ----------------------------------------------------------------------


def _target(args: argparse.Namespace) -> Target:
    if args.base_url and args.env != TWIN:
        raise UsageError("give --base-url or --env production, not both")
    return Target(
        environment=args.env,
        base_url=args.base_url,
        seed=args.seed,
        timeout=args.timeout,
        retries=args.retries,
    )


def _no_real_orders(target: Target, allowed: bool, command: str) -> None:
    if target.production and not allowed:
        raise UsageError(
            f"`{command}` places real orders on Kraken production; "
            "add --allow-production if that is what you want"
        )


async def run_tickers(args: argparse.Namespace, out: Output) -> int:
    async with connect(_target(args)) as conn:
        tickers = await conn.session.market.tickers()
    if args.symbols:
        by_symbol = {t.symbol.upper(): t for t in tickers}
        wanted = list(dict.fromkeys(s.upper() for s in args.symbols))
        missing = [s for s in wanted if s not in by_symbol]
        if missing:
            raise jobs.UnknownSymbolError(missing, [t.symbol for t in tickers])
        tickers = [by_symbol[s] for s in wanted]
    title = f"{jobs.plural(len(tickers), 'ticker')} from the {conn.target.describe()}"

    def table() -> RenderableType:
        from .render import tickers_table

        return tickers_table(tickers, title=title)

    out.show(tickers, table)
    return OK


async def run_book(args: argparse.Namespace, out: Output) -> int:
    async with connect(_target(args)) as conn:
        book = await jobs.order_book(conn.session, args.symbol)
    value = {
        "symbol": args.symbol,
        "bids": book.bids[: args.depth],
        "asks": book.asks[: args.depth],
    }

    def table() -> RenderableType:
        from .render import book_table

        return book_table(args.symbol, book, depth=args.depth)

    out.show(value, table)
    return OK


async def run_snapshot(args: argparse.Namespace, out: Output) -> int:
    async with connect(_target(args)) as conn:
        with out.progress() as progress:
            snap = await jobs.snapshot(conn.session, progress)
    value = {
        "seconds": snap.seconds,
        "tickers": snap.tickers,
        "books": {
            s: {"best_bid": b.best_bid, "best_ask": b.best_ask, "levels": len(b.bids) + len(b.asks)}
            for s, b in snap.books.items()
        },
        "failed": snap.failed,
    }

    def table() -> RenderableType:
        from .render import snapshot_table

        return snapshot_table(snap, rows=args.rows)

    out.show(value, table)
    return FAILED if snap.failed else OK


async def run_trade(args: argparse.Namespace, out: Output) -> int:
    target = _target(args)
    _no_real_orders(target, args.allow_production, "trade")
    async with connect(target) as conn:
        with out.progress() as progress:
            log = await jobs.trade(conn.session, args.symbol, progress, size=args.size)

    def table() -> RenderableType:
        from .render import trade_table

        return trade_table(log)

    out.show(log, table)
    return OK


async def run_demo(args: argparse.Namespace, out: Output) -> int:
    target = _target(args)
    if target.production:
        raise UsageError("`demo` trades; run it on the twin (the default) or a --base-url")
    out.note(f"[bold]kraken-futures demo[/] on the {target.describe()}")
    async with connect(target) as conn:
        with out.progress() as progress:
            report = await jobs.demo(conn, progress, symbol=args.symbol)
    value = {
        "ok": report.ok,
        "target": report.target,
        "seconds": report.seconds,
        "snapshot": {
            "tickers": len(report.snapshot.tickers),
            "books": len(report.snapshot.books),
            "levels": report.snapshot.levels,
            "seconds": report.snapshot.seconds,
            "failed": report.snapshot.failed,
        },
        "trade": report.trade,
        "requests": report.requests,
        "requests_by_path": report.requests_by_path,
        "latency": report.latency,
        "budgets": report.budgets,
        "client_refusals": report.client_refusals,
        "twin_refusals": report.twin_refusals,
    }

    def table() -> RenderableType:
        from rich.console import Group

        from .render import demo_summary, snapshot_table, trade_table

        return Group(
            snapshot_table(report.snapshot, rows=args.rows),
            trade_table(report.trade),
            demo_summary(report),
        )

    out.show(value, table)
    return OK if report.ok else FAILED


async def run_bench(args: argparse.Namespace, out: Output) -> int:
    target = _target(args)
    orders = not args.no_orders
    if orders:
        _no_real_orders(target, args.allow_production, "bench")
    async with connect(target) as conn:
        with out.progress() as progress:
            report = await jobs.bench(
                conn, progress, calls=args.calls, symbol=args.symbol, orders=orders
            )

    def table() -> RenderableType:
        from .render import bench_table

        return bench_table(report)

    out.show(report, table)
    return OK


async def run_sim(args: argparse.Namespace, out: Output) -> int:
    from ..simulator import Twin, TwinConfig, serve

    if args.base_url or args.env != TWIN:
        raise UsageError("`sim` serves a twin; --base-url and --env do not apply")
    twin = Twin(TwinConfig(seed=args.seed, rate_limits=not args.no_rate_limits))
    listening = False

    def ready(url: str) -> None:
        nonlocal listening
        listening = True
        key = twin.key
        value = {
            "url": url,
            "api_key": key.public_key,
            "api_secret": key.secret,
            "account": twin.account_uid,
            "seed": args.seed,
        }
        lines = _sim_banner(value)
        out.show(value, lambda: _bold_first(lines), text=lambda: "\n".join(lines))

    try:
        await serve(twin, port=args.port, on_ready=ready)
    except OSError as exc:
        if listening:
            raise
        raise CommandFailedError(_cannot_listen(args.port, exc)) from exc
    return OK


def _cannot_listen(port: int, exc: OSError) -> str:
    from ..simulator.twin import LOOPBACK

    if exc.errno == errno.EADDRINUSE:
        reason = "the port is already in use"
    elif exc.errno == errno.EACCES:
        reason = "permission denied (ports below 1024 need privileges)"
    else:
        reason = exc.strerror or str(exc)
    return (
        f"cannot serve on {LOOPBACK}:{port}: {reason}; "
        "choose another port with --port, or --port 0 for any free one"
    )


def _sim_banner(value: dict[str, Any]) -> list[str]:
    return [
        f"Kraken Futures twin on {value['url']} (seed {value['seed']})",
        f"  API key:    {value['api_key']}",
        f"  API secret: {value['api_secret']}  (the twin's own; it opens nothing else)",
        "Try, in another shell:",
        f"  export {API_KEY_ENV}='{value['api_key']}'",
        f"  export {API_SECRET_ENV}='{value['api_secret']}'",
        f"  kraken-futures --base-url {value['url']} trade",
        "Ctrl-C stops it.",
    ]


def _bold_first(lines: Sequence[str]) -> RenderableType:
    from rich.text import Text

    text = Text("\n".join(lines))
    text.stylize("bold", 0, len(lines[0]))
    return text


COMMANDS: dict[str, Callable[[argparse.Namespace, Output], Coroutine[Any, Any, int]]] = {
    "tickers": run_tickers,
    "book": run_book,
    "snapshot": run_snapshot,
    "trade": run_trade,
    "demo": run_demo,
    "sim": run_sim,
    "bench": run_bench,
}


# --- entry point --------------------------------------------------------------------------


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
        if args.command == "sim":  # Ctrl-C is how the twin is meant to stop
            return OK
        return fail(INTERRUPTED, "interrupted")


if __name__ == "__main__":
    sys.exit(main())
