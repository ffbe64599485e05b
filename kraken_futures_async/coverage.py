"""Which of Kraken's Futures OpenAPI operations the endpoint table covers.

Run ``python -m kraken_futures_async.coverage [--spec DIR]``. It reads Kraken's own OpenAPI
files (so a new operation in them shows up as missing), prints one line per operation and
"N of M covered", and exits with status 1 when any operation is missing or differs from
its row (method, full path or operationId). ``DIR`` holds ``futures-rest/`` (or is it); by
default the repository's ``tests/openapi`` or a sibling ``../shared/kraken-openapi``.
Reading YAML needs PyYAML (in the ``dev`` extra).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

import attrs

from .rest.endpoints import ENDPOINTS, Endpoint

__all__ = ["Coverage", "SpecOperation", "check", "find_spec_dir", "main", "read_operations"]

#: Each service's main file under ``futures-rest/``; the ``_*.yml`` files hold components.
SERVICE_FILES = (
    "trading/public.yml",
    "history/api-public.yml",
    "charts/api-public.yml",
    "auth/api-public.yml",
    "stats/public.yml",
)
_METHODS = ("get", "put", "post", "delete", "patch")
_REPO = Path(__file__).resolve().parent.parent


@attrs.frozen
class SpecOperation:
    operation_id: str
    method: str
    #: The full path from the host root: the file's server path plus the operation's path.
    path: str


@attrs.frozen
class Coverage:
    covered: tuple[SpecOperation, ...]
    missing: tuple[SpecOperation, ...]
    #: Rows whose operationId is in the spec but whose method or path is not the spec's.
    mismatched: tuple[tuple[SpecOperation, Endpoint], ...]

    @property
    def total(self) -> int:
        return len(self.covered) + len(self.missing)

    @property
    def complete(self) -> bool:
        return not self.missing


def find_spec_dir(start: Path | None = None) -> Path | None:
    """The first ``futures-rest`` directory among the usual places, or ``None``."""
    bases = [start or Path.cwd(), _REPO]
    for base in bases:
        for candidate in (base / "tests" / "openapi", base.parent / "shared" / "kraken-openapi"):
            if (candidate / "futures-rest").is_dir():
                return candidate / "futures-rest"
    return None


def _load_yaml(path: Path) -> Any:
    try:
        import yaml
    except ImportError:  # pragma: no cover - depends on the environment
        raise SystemExit("the coverage check reads YAML: pip install pyyaml") from None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=loader)  # a safe loader, C or Python


def read_operations(spec_dir: Path) -> list[SpecOperation]:
    """Every operation of Kraken's files, with the full path the library must call."""
    root = spec_dir / "futures-rest" if (spec_dir / "futures-rest").is_dir() else spec_dir
    found: list[SpecOperation] = []
    for relative in SERVICE_FILES:
        doc = _load_yaml(root / relative)
        servers = doc.get("servers") or [{"url": "/"}]
        prefix = urlsplit(str(servers[0]["url"])).path.rstrip("/")
        for path, item in (doc.get("paths") or {}).items():
            for method in _METHODS:
                if isinstance(item, dict) and method in item:
                    op_id = str(item[method]["operationId"])
                    found.append(SpecOperation(op_id, method.upper(), prefix + path))
    return found


def check(operations: Iterable[SpecOperation], rows: Sequence[Endpoint] = ENDPOINTS) -> Coverage:
    """Match each operation to the row with its operationId, method and path."""
    by_id = {row.operation_id: row for row in rows}
    covered: list[SpecOperation] = []
    missing: list[SpecOperation] = []
    mismatched: list[tuple[SpecOperation, Endpoint]] = []
    for op in operations:
        row = by_id.get(op.operation_id)
        if row is not None and (row.method, row.path) == (op.method, op.path):
            covered.append(op)
            continue
        missing.append(op)
        if row is not None:
            mismatched.append((op, row))
    return Coverage(tuple(covered), tuple(missing), tuple(mismatched))


def _report(result: Coverage, out: TextIO) -> None:
    for op in result.covered:
        print(f"  ok       {op.method:<6} {op.path}  ({op.operation_id})", file=out)
    for op in result.missing:
        print(f"  MISSING  {op.method:<6} {op.path}  ({op.operation_id})", file=out)
    for op, row in result.mismatched:
        print(
            f"  row {row.name!r} has {row.method} {row.path}; the spec says {op.method} {op.path}",
            file=out,
        )


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    stream = out if out is not None else sys.stdout
    parser = argparse.ArgumentParser(
        prog="python -m kraken_futures_async.coverage",
        description="Check the endpoint table against Kraken's Futures OpenAPI files.",
    )
    parser.add_argument("--spec", type=Path, help="directory holding futures-rest/")
    args = parser.parse_args(argv)
    spec_dir = args.spec if args.spec is not None else find_spec_dir()
    if spec_dir is None or not spec_dir.is_dir():
        print(
            "no OpenAPI files found; pass --spec DIR (the directory holding futures-rest/)",
            file=sys.stderr,
        )
        return 2
    result = check(read_operations(spec_dir))
    print(f"Kraken Futures OpenAPI operations in {spec_dir}:", file=stream)
    _report(result, stream)
    print(f"{len(result.covered)} of {result.total} operations covered", file=stream)
    if result.missing:
        print(f"{len(result.missing)} missing", file=stream)
    return 0 if result.complete else 1


if __name__ == "__main__":
    sys.exit(main())
