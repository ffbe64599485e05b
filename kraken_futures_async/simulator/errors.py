"""How the twin's engine says "the exchange refuses this request" to the HTTP layer."""

from __future__ import annotations

from typing import Any

__all__ = ["ExchangeError"]


class ExchangeError(Exception):
    """A refusal rendered the way Kraken renders it.

    * ``structured=False``: ``{"result":"error","error":code,"serverTime":...}`` (classic form);
    * ``structured=True``: ``{"status":<reason>,"result":"error","errors":[{"code":int,
      "message":...}],"serverTime":...}`` with ``http_status`` (newer validation layer);
    * ``plain_text=True``: a ``text/plain`` body holding ``message`` (charts, history 429);
    * ``body``: this JSON document as it is, with ``http_status`` (the analytics service's
      ``{"result": ..., "errors": [...]}`` refusals).
    """

    def __init__(
        self,
        code: str | int,
        *,
        http_status: int = 200,
        structured: bool = False,
        message: str | None = None,
        plain_text: bool = False,
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message or str(code))
        self.code = code
        self.http_status = http_status
        self.structured = structured
        self.message = message or str(code)
        self.plain_text = plain_text
        self.body = body
