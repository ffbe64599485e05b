"""The wire line holds: what users call, and every safety rule, know no wire.

Resources, models, operations, order safety and the helpers import no module of ``rest/`` and
no HTTP library; httpx and aiohttp are imported only by the REST backend, the stream socket
(``uws/``), the twin, the
command, and the two modules where a user configures the REST backend (``session.py`` and
``config.py``: timeouts, pool limits, a transport).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import kraken_futures_async
from kraken_futures_async import operations
from kraken_futures_async.rest.endpoints import ENDPOINTS

PACKAGE = Path(kraken_futures_async.__file__).parent
NEUTRAL = ("resources", "models", "operations", "safety", "streams")
NEUTRAL_MODULES = ("backend.py", "tracker.py", "deadman.py", "paging.py", "converter.py")
HTTP_ALLOWED = ("rest", "uws", "simulator", "cli", "session.py", "config.py")
HTTP_LIBRARIES = ("httpx", "aiohttp", "respx", "h11", "httpcore")


def _imports(path: Path) -> list[str]:
    """Absolute names of every module ``path`` imports (relative ones resolved)."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            names.append(module)
            names.extend(f"{module}.{alias.name}" for alias in node.names)
    return names


def _modules(*roots: str) -> list[Path]:
    found: list[Path] = []
    for root in roots:
        target = PACKAGE / root
        found.extend(sorted(target.rglob("*.py")) if target.is_dir() else [target])
    return found


@pytest.mark.parametrize(
    "path", _modules(*NEUTRAL, *NEUTRAL_MODULES), ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_backend_neutral_code_imports_no_rest_module(path: Path) -> None:
    rest = [name for name in _imports(path) if name.startswith("kraken_futures_async.rest")]
    assert rest == []


def test_only_the_rest_side_imports_http_libraries() -> None:
    offenders: list[str] = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in HTTP_ALLOWED:
            continue
        for name in _imports(path):
            if name.split(".")[0] in HTTP_LIBRARIES:
                offenders.append(f"{relative}: {name}")
    assert offenders == []


def test_backend_neutral_code_names_no_rest_path() -> None:
    """No REST path (``/sendorder``, ``/api/history/v3``...) is written outside ``rest/``."""
    paths = {row.path for row in ENDPOINTS} | {"/derivatives/", "/api/"}
    offenders: list[str] = []
    for path in _modules(*NEUTRAL, *NEUTRAL_MODULES):
        text = path.read_text()
        offenders.extend(f"{path.name}: {p}" for p in paths if p in text)
    assert offenders == []


def test_the_operation_list_and_the_endpoint_table_name_the_same_operations() -> None:
    assert {row.name for row in ENDPOINTS} == set(operations.OPERATIONS)
    assert len(ENDPOINTS) == len(operations.OPERATIONS) == 64


def test_the_import_reader_sees_relative_imports_of_rest() -> None:
    """The checks above could fail: the Session, which builds the REST backend, is caught."""
    names = _imports(PACKAGE / "session.py")
    assert "kraken_futures_async.rest.backend.RestBackend" in names
    assert "httpx" in names


ENGINE = PACKAGE / "simulator" / "engine"
TWIN_FACES = ("kraken_futures_async.simulator.rest", "kraken_futures_async.simulator.uws")


@pytest.mark.parametrize("path", sorted(ENGINE.rglob("*.py")), ids=lambda p: p.name)
def test_the_twin_engine_imports_nothing_http_and_no_face_of_the_twin(path: Path) -> None:
    """The engine is the exchange alone: its REST and WebSocket faces sit on top of it."""
    names = _imports(path)
    http = [name for name in names if name.split(".")[0] in (*HTTP_LIBRARIES, "http")]
    faces = [name for name in names if name.startswith(TWIN_FACES)]
    assert (http, faces) == ([], [])


def test_the_twin_engine_names_no_http_status() -> None:
    """Refusals carry Kraken's code and a reason; the faces choose the HTTP status."""
    offenders = [
        path.name
        for path in ENGINE.rglob("*.py")
        if any(word in path.read_text() for word in ("status_code", "HTTPStatus", "http_status"))
    ]
    assert offenders == []


def test_the_engine_import_check_sees_a_face_of_the_twin() -> None:
    """The checks above could fail: the REST face imports ``http``, the twin a face."""
    assert "http" in _imports(PACKAGE / "simulator" / "rest" / "app.py")
    twin = _imports(PACKAGE / "simulator" / "twin.py")
    assert any(name.startswith(TWIN_FACES) for name in twin)
