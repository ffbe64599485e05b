"""MkDocs hooks for this site (no network, no plugins beyond mkdocstrings).

* The benchmark results and plots are committed under ``benchmarks/`` (``make bench``
  rewrites them there); they are served from where they are, under the same relative
  paths, instead of being copied into ``docs/`` where they would go stale.
* The library's docstrings use Sphinx roles (``:class:`Foo```); Markdown shows them as the
  role's name before the code. The role's name is dropped, and ``~a.b.Name`` shows as
  ``Name``, as Sphinx would show it.
* The build fails when a public name has no docstring or no place in ``docs/reference/``
  (``on_config``, the check of ``tests/test_docs_public_names.py``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
SERVED = [
    "benchmarks/RESULTS.md",
    *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "benchmarks" / "plots").glob("*.png")),
]

ROLE = re.compile(r":(?:class|mod|func|meth|attr|data|exc|obj|const):(<code>)")
TILDE = re.compile(r"<code>~(?:[\w.]*\.)?(\w+)</code>")


def on_files(files: Files, config: Any) -> Files:
    for path in SERVED:
        files.append(File(path, str(ROOT), config["site_dir"], config["use_directory_urls"]))
    return files


def on_page_content(html: str, page: Any, config: Any, files: Files) -> str:
    return TILDE.sub(r"<code>\1</code>", ROLE.sub(r"\1", html))


def on_config(config: Any) -> Any:
    """Fail the build when a public name has no docstring or no place in the reference
    (the same check as tests/test_docs_public_names.py)."""
    import sys

    from mkdocs.exceptions import PluginError

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.test_docs_public_names import undocumented, unreferenced

    problems = [f"no docstring: {name}" for name in undocumented()]
    problems += [f"not in docs/reference/: {name}" for name in unreferenced()]
    if problems:
        raise PluginError("public names the reference misses:\n  " + "\n  ".join(problems))
    return config
