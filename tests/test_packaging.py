"""What the package says about itself agrees with what CI proves (issue 15, items 5 and 6).

The build itself (wheel and sdist installed into fresh virtualenvs, then smoke-tested) is
``make package-check`` (``.ci/package-check``), run by ``make test``; these checks are the fast
part: the version, the licence, and the Python versions claimed against those CI runs.
"""

from __future__ import annotations

import contextlib
import io
import re
import tomllib
from importlib.metadata import metadata, version
from pathlib import Path
from typing import Any

import kraken_futures_async
from kraken_futures_async.cli import main

ROOT = Path(__file__).resolve().parent.parent
_CLAIMED = re.compile(r"^Programming Language :: Python :: (3\.\d+)$")


def _project() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as file:
        project: dict[str, Any] = tomllib.load(file)["project"]
    return project


def _claimed_versions() -> set[str]:
    return {
        found.group(1)
        for classifier in _project()["classifiers"]
        if (found := _CLAIMED.match(classifier)) is not None
    }


def test_the_version_is_the_installed_packages() -> None:
    assert kraken_futures_async.__version__ == version("kraken_futures_async")
    assert kraken_futures_async.__version__ == _project()["version"]


def test_the_command_shows_the_version() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        main(["--version"], stdout=out)
    assert out.getvalue().strip() == f"kraken-futures {kraken_futures_async.__version__}"


def test_the_licence_file_is_mit_as_the_metadata_says() -> None:
    project = _project()
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License")
    assert 'THE SOFTWARE IS PROVIDED "AS IS"' in text


def test_the_metadata_has_urls_and_classifiers() -> None:
    project = _project()
    assert project["urls"]
    assert all(url.startswith("https://") for url in project["urls"].values())
    assert "Typing :: Typed" in project["classifiers"]
    installed = metadata("kraken_futures_async")
    assert installed["License-Expression"] == "MIT"


def test_every_claimed_python_version_has_a_ci_run() -> None:
    """The classifiers name exactly the versions ``make test`` runs the suite on."""
    makefile = (ROOT / "Makefile").read_text()
    shifted = set(re.findall(r"PY_VERSION=(3\.\d+)", makefile))
    main_venv = set(re.findall(r"find-python (3\.\d+)\),python3", makefile))
    assert main_venv == {"3.11"}
    assert _claimed_versions() == shifted | main_venv


def test_requires_python_starts_at_the_oldest_claimed_version() -> None:
    oldest = min(_claimed_versions(), key=lambda v: tuple(int(part) for part in v.split(".")))
    assert _project()["requires-python"] == f">={oldest}"


def test_the_build_needs_nothing_outside_the_dev_extra() -> None:
    dev = _project()["optional-dependencies"]["dev"]
    assert any(requirement.startswith("build") for requirement in dev)
    assert (ROOT / ".ci" / "package-check").stat().st_mode & 0o111


def _requirement_name(requirement: str) -> str:
    found = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert found is not None, requirement
    return found.group(0).lower().replace("_", "-")


def test_redis_is_an_extra_not_a_core_dependency() -> None:
    """A core install needs no Redis client; ``[redis]`` brings it (issue 14)."""
    project = _project()
    core = {_requirement_name(requirement) for requirement in project["dependencies"]}
    assert not {name for name in core if "redis" in name}
    assert [_requirement_name(r) for r in project["optional-dependencies"]["redis"]] == ["redis"]


def test_the_testing_extra_brings_what_the_plugin_needs() -> None:
    """``pip install 'kraken_futures_async[testing]'`` (docs/testing.md; package-check installs
    it): pytest and pytest-asyncio, with the dev extra's lower bounds."""
    extras = _project()["optional-dependencies"]
    testing = extras["testing"]
    assert {_requirement_name(requirement) for requirement in testing} == {
        "pytest",
        "pytest-asyncio",
    }
    assert set(testing) <= set(extras["dev"])
    assert "kraken_futures_async[testing]" in (ROOT / "docs" / "testing.md").read_text()
    assert "[testing]" in (ROOT / ".ci" / "package-check").read_text()
