"""The sockets' settings, bounds and faults, in one frozen object (see the package docstring)."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from .faults import SocketFaultRule

__all__ = ["CLOSE_MESSAGE_TOO_BIG", "CLOSE_SLOW_CONSUMER", "UwsConfig"]

#: Close code for a client whose outbound queue overflowed: RFC 6455 "try again later". It is
#: not 1008 (Kraken's SDK treats 1008 as terminal), so a client reconnects and resubscribes.
CLOSE_SLOW_CONSUMER = 1013
#: Close code for an inbound message over :attr:`UwsConfig.max_message_bytes` (RFC 6455).
CLOSE_MESSAGE_TOO_BIG = 1009


def _rules(rules: Iterable[SocketFaultRule]) -> tuple[SocketFaultRule, ...]:
    return tuple(rules)


@attrs.frozen(kw_only=True)
class UwsConfig:
    """How the twin's sockets behave; every bound a connection meets is here."""

    #: Seconds without any frame, after the first subscription, before a ``heartbeat``.
    heartbeat_interval: float = 1.0
    #: Seconds between the feed's reads of the engine when no event woke it (the makers
    #: requote every second: a book changes at least that often).
    tick_interval: float = 1.0
    #: Frames waiting to be sent to one connection; one more closes it with
    #: :data:`CLOSE_SLOW_CONSUMER` instead of growing memory.
    queue_size: int = 1024
    #: Largest inbound text frame (UTF-8 bytes); a larger one closes with
    #: :data:`CLOSE_MESSAGE_TOO_BIG`.
    max_message_bytes: int = 16 * 1024
    #: Live subscriptions (one per channel and symbol) a connection may hold.
    max_subscriptions: int = 200
    #: Trades in a ``trade`` snapshot (Kraken: the last 50).
    trade_snapshot: int = 50
    #: Candles in an ``ohlc`` snapshot: the running one, after ``ohlc_snapshot - 1`` finished
    #: ones (Kraken's WebSocket v1 sends the running candle alone).
    ohlc_snapshot: int = 1
    #: Add the derivative extras to ``ticker`` (mark, index, funding, open interest): not seen
    #: on Kraken's UWS ticker yet, hence off unless asked for.
    ticker_extras: bool = False
    #: Faults on the private socket's trading requests (:mod:`.faults`), none by default.
    socket_faults: tuple[SocketFaultRule, ...] = attrs.field(default=(), converter=_rules)
    #: Seeds the dice of ``socket_faults``: the same requests meet the same faults.
    fault_seed: int = 0

    def __attrs_post_init__(self) -> None:
        if not (self.heartbeat_interval > 0 and self.tick_interval > 0):
            raise ValueError("heartbeat_interval and tick_interval must be positive")
        if min(self.queue_size, self.max_message_bytes, self.max_subscriptions) < 1:
            raise ValueError("queue_size, max_message_bytes and max_subscriptions must be >= 1")
        if not 0 <= self.trade_snapshot <= 1000:
            raise ValueError("trade_snapshot must be within 0..1000")
        if not 1 <= self.ohlc_snapshot <= 720:
            raise ValueError("ohlc_snapshot must be within 1..720")
