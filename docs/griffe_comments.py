"""A griffe extension: ``#:`` comments above an attribute become its docstring.

The library documents its constants and attrs fields the Sphinx way, with ``#:`` comment
lines right above the assignment; griffe only reads a string placed after it. This makes
the reference show those comments, so they are written once, next to the code.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from griffe import Attribute, Docstring, Extension


class CommentDocstrings(Extension):
    """Give an attribute without a docstring the ``#:`` comment block above it."""

    def on_attribute_instance(self, *, node: Any, attr: Attribute, **kwargs: Any) -> None:
        if attr.docstring is not None or not isinstance(node, ast.AST) or attr.lineno is None:
            return
        path = attr.filepath
        if not isinstance(path, Path) or path not in attr.lines_collection:
            return
        lines = attr.lines_collection[path]
        comment: list[str] = []
        index = attr.lineno - 2  # the line above the assignment, 0-based
        while index >= 0 and lines[index].strip().startswith("#:"):
            comment.insert(0, lines[index].strip()[2:].strip())
            index -= 1
        if comment:
            attr.docstring = Docstring(" ".join(comment), parent=attr, lineno=index + 2)
