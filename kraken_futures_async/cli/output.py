"""Where results go: rich tables on stdout (progress bars on stderr), or one JSON document."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any, TextIO

from . import jobs
from .json_output import dumps, dumps_line

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

__all__ = ["PIPE_WIDTH", "Output"]

#: Width of tables written to a pipe or a file: wide enough that no row wraps.
PIPE_WIDTH = 1000


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

    def line(self, json_value: Any) -> None:
        """One JSON document on one line, flushed at once (a stream of updates)."""
        print(dumps_line(json_value), file=self._stdout)
        self._stdout.flush()

    def note(self, text: str) -> None:
        if not self.as_json:
            self.console().print(text)
