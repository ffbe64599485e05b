"""The HTTP face's own refusals, whose status and form it fixes itself (the engine's
:class:`~.errors.ExchangeError` names a reason only; ``app.render_error`` renders both)."""

from __future__ import annotations

from typing import Any

from ..errors import ExchangeError

__all__ = ["HttpRefusalError"]


class HttpRefusalError(ExchangeError):
    """A refusal made by the HTTP face (authentication, rate limits, the request's form).

    * default: Kraken's classic ``{"result":"error","error":code,...}`` with ``http_status``;
    * ``plain_text=True``: a ``text/plain`` body holding ``message`` (the history API's 429);
    * ``body``: this JSON document as it is (the key check's 401).
    """

    def __init__(
        self,
        code: str | int,
        *,
        http_status: int = 200,
        message: str | None = None,
        plain_text: bool = False,
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(code, message=message)
        self.http_status = http_status
        self.plain_text = plain_text
        self.body = body
