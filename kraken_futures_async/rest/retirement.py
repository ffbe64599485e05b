"""Kraken retires its Futures REST API: the dates, the one warning, and the "gone" answer.

Kraken switches the Futures REST API off on :data:`REST_SWITCH_OFF` (2027-03-01); trading
and account state move to the Unified WebSocket (``Session(..., backend="uws")``). Both dates
live here and nowhere else:

* From :data:`WARNING_FROM` (2027-02-01) a Session whose REST backend talks to the production
  host (:data:`~kraken_futures_async.config.PRODUCTION`) logs one warning when it opens,
  naming the switch-off date (a ``logging`` record on ``kraken_futures_async.rest``, not a
  Python warning: it is advice about the outside world, not about the caller's code, and
  must not turn into an exception in a program or test that escalates warnings).
* The production host's answer that the API is gone raises :class:`RestApiRetiredError`,
  whose message says to use ``backend="uws"``. What counts as "gone" (a choice; Kraken has
  not said how the switched-off API will answer): HTTP 410 always; HTTP 404 or 503 only
  when the body uses retirement wording (:data:`_RETIREMENT_WORDING`: retired,
  decommissioned, discontinued, sunset, "no longer available/supported", "unified
  websocket"), so an unknown path or a maintenance window still reads as before. Hosts
  other than production (the twin, a proxy, a test server) are never judged: their 404s
  and 503s mean what they always meant.

Which day it is comes from a clock the caller may give (``today``), by default the UTC date
of the wall clock, so tests set it with time-machine or inject one.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable

from ..config import PRODUCTION
from ..errors import RestApiRetiredError
from .envelope import Answer

__all__ = [
    "REST_SWITCH_OFF",
    "WARNING_FROM",
    "RestApiRetiredError",
    "gone_error",
    "is_production",
    "utc_today",
    "warn_if_retiring",
]

logger = logging.getLogger("kraken_futures_async.rest")

#: The day Kraken switches the Futures REST API off.
REST_SWITCH_OFF = dt.date(2027, 3, 1)
#: The first day a production REST Session logs the warning.
WARNING_FROM = dt.date(2027, 2, 1)

#: Words in a 404 or 503 body that mean the API itself is gone, not a path or a market.
_RETIREMENT_WORDING = re.compile(
    r"retire|decommission|discontinu|sunset|no longer (?:available|supported)"
    r"|unified websocket",
    re.IGNORECASE,
)
#: Bytes of a body searched for that wording (a retirement notice says it early).
_SEARCHED = 4096


def utc_today() -> dt.date:
    """Today's date in UTC, from the wall clock (time-machine moves it in tests)."""
    return dt.datetime.now(dt.UTC).date()


def is_production(base_url: str) -> bool:
    """Whether ``base_url`` (a resolved host root) is Kraken's production REST host."""
    return base_url.rstrip("/").lower() == PRODUCTION.base_url


def _advice() -> str:
    return (
        'use Session(..., backend="uws") (Kraken\'s Unified WebSocket; it needs a Kraken '
        "API key as well: KRAKEN_API_KEY/KRAKEN_API_SECRET)"
    )


def warn_if_retiring(base_url: str, today: Callable[[], dt.date] | None = None) -> bool:
    """Log the retirement warning if ``base_url`` is production and the day has come.

    Returns whether it logged, so the caller can say it once.
    """
    if not is_production(base_url):
        return False
    day = (today or utc_today)()
    if day < WARNING_FROM:
        return False
    switch_off = REST_SWITCH_OFF.isoformat()
    when = "switched" if day >= REST_SWITCH_OFF else "switches"
    logger.warning("Kraken %s its Futures REST API off on %s; %s", when, switch_off, _advice())
    return True


def gone_error(endpoint: str, response: Answer) -> RestApiRetiredError | None:
    """The error for a production answer saying the REST API is gone, else None.

    The caller checks :func:`is_production` first; here only the answer is judged.
    """
    status = response.status_code
    if status == 410:
        pass
    elif status in (404, 503):
        text = response.content[:_SEARCHED].decode(response.encoding or "utf-8", "replace")
        if not _RETIREMENT_WORDING.search(text):
            return None
    else:
        return None
    return RestApiRetiredError(
        f"Kraken's Futures REST API answered that it is gone (HTTP {status}); Kraken "
        f"retires it on {REST_SWITCH_OFF.isoformat()}: {_advice()}",
        endpoint=endpoint,
        http_status=status,
        retry_safe=False,
    )
