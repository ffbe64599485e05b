"""How patient the Unified WebSocket is, and how much it reads: :class:`UwsSettings`.

Every bound of :class:`~.connection.UwsConnection` (acks, connecting, pings, the dead-link
timeout, reconnect backoff, message size, closing) is a field here, validated on creation.
"""

from __future__ import annotations

import random
from typing import Any

import attrs

from ..errors import InvalidArgumentError
from .protocol import HEARTBEAT_TIMEOUT, PING_INTERVAL

__all__ = ["UwsSettings"]


def _positive(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e9:
        raise InvalidArgumentError(f"{attribute.name} must be a positive number, got {value!r}")


@attrs.frozen(kw_only=True)
class UwsSettings:
    """How patient the socket is, and how much it reads.

    ``ack_timeout``: seconds from sending a request to its ack. ``connect_timeout``: seconds
    to open the socket and receive its first frame. ``ping_interval``: seconds between two
    ``ping`` requests. ``heartbeat_timeout``: seconds without a frame, while subscribed,
    that mean a dead link. ``backoff_initial``/``backoff_max``: the reconnect delay doubles
    from the first to the second and is jittered (each delay uniform in [d/2, d]).
    ``max_reconnect_attempts``: consecutive failed attempts before every stream fails with
    :class:`StreamConnectionError` (``None``: keep trying while someone is subscribed).
    ``max_msg_size``: bytes of one inbound message (aiohttp's ``max_msg_size``).
    """

    ack_timeout: float = attrs.field(default=10.0, validator=_positive)
    connect_timeout: float = attrs.field(default=10.0, validator=_positive)
    ping_interval: float = attrs.field(default=PING_INTERVAL, validator=_positive)
    heartbeat_timeout: float = attrs.field(default=HEARTBEAT_TIMEOUT, validator=_positive)
    backoff_initial: float = attrs.field(default=0.5, validator=_positive)
    backoff_max: float = attrs.field(default=30.0, validator=_positive)
    max_reconnect_attempts: int | None = None
    max_msg_size: int = attrs.field(default=4 * 1024 * 1024, validator=_positive)
    close_timeout: float = attrs.field(default=2.0, validator=_positive)

    def backoff(self, attempt: int) -> float:
        """The delay before reconnect attempt ``attempt`` (1 for the first), jittered."""
        ceiling = min(self.backoff_max, self.backoff_initial * 2 ** min(attempt - 1, 30))
        return random.uniform(ceiling / 2, ceiling)
