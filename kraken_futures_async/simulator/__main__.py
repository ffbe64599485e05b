"""``python -m kraken_futures_async.simulator``: the twin on 127.0.0.1, with a ready API key.

It prints the base URL (REST) and the public websocket URL (``/v2/public`` on the same port),
a full-access Futures key and secret, and the same account's Kraken (Spot/Pro) key and secret
for the Unified WebSocket's tokens (the twin's own, made from the seed;
they open nothing anywhere else), then serves until interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from .config import DEFAULT_BALANCES, MAX_REQUEST_BYTES, REQUEST_READ_TIMEOUT, TwinConfig
from .twin import Twin, serve
from .uws import public_url


def _balance(text: str) -> tuple[str, Decimal]:
    currency, sep, amount = text.partition("=")
    try:
        value = Decimal(amount)
    except InvalidOperation:
        value = Decimal("NaN")
    if not sep or not currency or not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"expected CURRENCY=AMOUNT, got {text!r}")
    return currency.upper(), value


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m kraken_futures_async.simulator",
        description="Run the Kraken Futures exchange twin on 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=8080, help="TCP port (0 = any free port)")
    parser.add_argument("--seed", type=int, default=0, help="seed for keys, prices and faults")
    parser.add_argument(
        "--no-rate-limits", action="store_true", help="admit every call (no apiLimitExceeded)"
    )
    parser.add_argument(
        "--read-timeout",
        type=_positive,
        default=REQUEST_READ_TIMEOUT,
        metavar="SECONDS",
        help="close a connection that takes longer to send a whole request (default 5)",
    )
    parser.add_argument(
        "--max-request-bytes",
        type=int,
        default=MAX_REQUEST_BYTES,
        metavar="N",
        help="refuse (413) a request whose query and body exceed N bytes (default 1 MiB)",
    )
    parser.add_argument(
        "--mirror",
        metavar="URL",
        help="paper trading: mirror the live market of the public socket at URL "
        "(Kraken's is wss://uws.kraken.com/v2/public; a twin's http:// base URL works too)",
    )
    parser.add_argument(
        "--mirror-symbol",
        dest="mirror_symbols",
        action="append",
        metavar="SYMBOL",
        help="a contract to mirror (repeatable; default PF_XBTUSD and PF_ETHUSD)",
    )
    parser.add_argument(
        "--balance",
        type=_balance,
        action="append",
        metavar="CURRENCY=AMOUNT",
        help="initial balance of the ready-made account (repeatable; default USD=100000)",
    )
    return parser


def _banner(twin: Twin, url: str) -> str:
    from .mirror import MirrorTwin

    mirrored = (
        (f"  market:     {', '.join(twin.market.symbols)} mirrored from {twin.source.url}",)
        if isinstance(twin, MirrorTwin)
        else ()
    )
    return "\n".join(
        (
            f"Kraken Futures twin on {url}  (seed {twin.config.seed})",
            *mirrored,
            f"  API key:    {twin.key.public_key}",
            f"  API secret: {twin.key.secret}",
            f"  Kraken key:    {twin.kraken_key.public_key}  (Spot/Pro: WebSocket tokens)",
            f"  Kraken secret: {twin.kraken_key.secret}",
            f"  account:    {twin.account_uid}",
            f"  REST:       {url}",
            f"  websocket:  {public_url(url)}  (kf.stream finds it from base_url)",
            "Use it with:",
            f"  export KRAKEN_FUTURES_API_KEY='{twin.key.public_key}'",
            f"  export KRAKEN_FUTURES_API_SECRET='{twin.key.secret}'",
            f"  export KRAKEN_API_KEY='{twin.kraken_key.public_key}'",
            f"  export KRAKEN_API_SECRET='{twin.kraken_key.secret}'",
            f"  Session(Credentials.from_env(), base_url='{url}')",
            "Ctrl-C stops it.",
        )
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    balances = dict(args.balance) if args.balance else DEFAULT_BALANCES
    config = TwinConfig(
        seed=args.seed,
        rate_limits=not args.no_rate_limits,
        balances=balances,
        request_read_timeout=args.read_timeout,
        max_request_bytes=args.max_request_bytes,
    )
    if args.mirror is None:
        if args.mirror_symbols:
            _parser().error("--mirror-symbol needs --mirror URL")
        twin = Twin(config)
    else:
        from .mirror import DEFAULT_SYMBOLS, mirror_twin

        try:
            twin = mirror_twin(
                args.mirror, symbols=args.mirror_symbols or DEFAULT_SYMBOLS, config=config
            )
        except ValueError as exc:
            _parser().error(str(exc))

    def ready(url: str) -> None:
        print(_banner(twin, url), flush=True)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(twin, port=args.port, on_ready=ready, configure_logging=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
