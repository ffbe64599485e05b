"""The command's argument parser and the types its arguments are parsed with.

A bad value exits with status 2 and argparse's usage line, before anything is sent.
"""

from __future__ import annotations

import argparse
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from ..auth import API_KEY_ENV, API_SECRET_ENV
from ..config import PRODUCTION
from ..uws.protocol import PRODUCTION_PUBLIC_URL
from .target import TWIN

__all__ = ["PROG", "build_parser"]

PROG = "kraken-futures"
#: The paths a user may paste after the host; the library adds them itself.
_API_PATHS = ("", "/derivatives", "/derivatives/api", "/derivatives/api/v3")


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


def _levels(text: str) -> int:
    """Levels a side a watch shows: 1 to the deepest book Kraken streams (1000)."""
    from ..streams import BOOK_DEPTHS

    value = _positive_int(text)
    if value > BOOK_DEPTHS[-1]:
        raise argparse.ArgumentTypeError(
            f"expected at most {BOOK_DEPTHS[-1]} levels (the deepest book streamed), got {text!r}"
        )
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


def _serving(parser: argparse.ArgumentParser) -> None:
    """The options of a served twin (``sim`` and ``paper``)."""
    parser.add_argument("--port", type=_port, default=8080, help="TCP port, 0 = any free (8080)")
    parser.add_argument(
        "--no-rate-limits", action="store_true", help="admit every call (no apiLimitExceeded)"
    )
    parser.add_argument(
        "--read-timeout",
        type=_seconds,
        metavar="SECONDS",
        help="close a connection that takes longer to send a whole request (the twin's 5)",
    )
    parser.add_argument(
        "--max-request-bytes",
        type=_positive_int,
        metavar="N",
        help="refuse (413) a request whose query and body exceed N bytes (the twin's 1 MiB)",
    )
    parser.add_argument(
        "--mirror-symbol",
        dest="mirror_symbols",
        type=_symbol,
        action="append",
        metavar="SYMBOL",
        help="a contract to mirror (repeatable; the two most traded perpetuals)",
    )


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

    watch = command(
        "watch",
        "one contract's live book and latest trades over the Unified WebSocket, until Ctrl-C",
    )
    watch.add_argument("symbol", type=_symbol, metavar="SYMBOL")
    watch.add_argument("--depth", type=_levels, default=10, help="levels per side (10)")
    watch.add_argument(
        "--seconds",
        type=_seconds,
        metavar="S",
        help="stop after S seconds (default: until Ctrl-C)",
    )
    watch.add_argument(
        "--trades", type=_positive_int, default=10, metavar="N", help="latest trades shown (10)"
    )

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

    demo = command(
        "demo", "the main job: snapshot, trading session over REST and over UWS, summary"
    )
    demo.add_argument("--symbol", type=_symbol, default="PF_XBTUSD", help="(PF_XBTUSD)")
    demo.add_argument(
        "--rows", type=_positive_int, default=10, help="books to show in the table (10)"
    )

    sim = command("sim", "serve the exchange twin on 127.0.0.1 until Ctrl-C")
    _serving(sim)
    sim.add_argument(
        "--mirror",
        metavar="URL",
        help="mirror the live market of the public socket at URL instead of a synthetic one",
    )
    paper = command(
        "paper", "paper trading: the twin on 127.0.0.1 over Kraken's live market (until Ctrl-C)"
    )
    _serving(paper)
    paper.add_argument(
        "--source",
        metavar="URL",
        default=PRODUCTION_PUBLIC_URL,
        help=f"the public socket mirrored ({PRODUCTION_PUBLIC_URL})",
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
