"""The coverage check: 64 of 64 against Kraken's files, and it notices what is missing."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path

import attrs
import yaml

from kraken_futures_async import coverage
from kraken_futures_async.coverage import SpecOperation, check, find_spec_dir, read_operations
from kraken_futures_async.rest.endpoints import ENDPOINTS

REPO = Path(__file__).resolve().parent.parent
SPEC = REPO / "tests" / "openapi"
OPERATIONS = read_operations(SPEC)


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = coverage.main(list(argv), out=out)
    return status, out.getvalue()


def test_the_repository_copy_of_the_spec_is_fully_covered() -> None:
    status, text = run("--spec", str(SPEC))
    assert status == 0
    assert "64 of 64 operations covered" in text
    assert "MISSING" not in text
    assert text.count("  ok  ") == 64


def test_the_module_runs_from_the_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kraken_futures_async.coverage"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "64 of 64 operations covered" in done.stdout


def test_it_reads_every_operation_with_its_full_path() -> None:
    ops = OPERATIONS
    assert len(ops) == 64
    assert SpecOperation("tickTypes", "GET", "/api/charts/v1/") in ops
    assert SpecOperation("getExecutionEvents", "GET", "/api/history/v3/executions") in ops
    assert SpecOperation("checkV3ApiKey", "GET", "/api/auth/v1/api-keys/v3/check") in ops
    assert (
        SpecOperation("cancelRfqOffer", "DELETE", "/derivatives/api/v3/rfqs/{rfqUid}/cancel-offer")
        in ops
    )
    # the futures-rest directory itself is accepted too
    assert read_operations(SPEC / "futures-rest") == ops


def test_a_new_operation_in_krakens_files_is_reported_missing(tmp_path: Path) -> None:
    copy = tmp_path / "openapi"
    shutil.copytree(SPEC, copy)
    stats = copy / "futures-rest" / "stats" / "public.yml"
    doc = yaml.safe_load(stats.read_text(encoding="utf-8"))
    doc["paths"]["/rebates/history"] = {"get": {"operationId": "rebateHistory", "responses": {}}}
    stats.write_text(yaml.safe_dump(doc), encoding="utf-8")

    status, text = run("--spec", str(copy))
    assert status == 1
    assert "64 of 65 operations covered" in text
    assert "MISSING  GET    /api/stats/v1/rebates/history  (rebateHistory)" in text


def test_a_row_with_the_wrong_path_or_method_does_not_count() -> None:
    rows = list(ENDPOINTS)
    index = next(i for i, row in enumerate(rows) if row.name == "unwind_queue")
    rows[index] = attrs.evolve(rows[index], path="/derivatives/api/v3/unwind-queue")
    put = next(i for i, row in enumerate(rows) if row.name == "rfq_open_offers")
    rows[put] = attrs.evolve(rows[put], method="POST")

    result = check(OPERATIONS, rows)
    assert not result.complete
    assert {op.operation_id for op in result.missing} == {"getUnwindQueue", "getOpenRfqOffers"}
    assert {row.name for _, row in result.mismatched} == {"unwind_queue", "rfq_open_offers"}
    assert len(result.covered) == 62


def test_a_row_removed_is_missing() -> None:
    rows = [row for row in ENDPOINTS if row.operation_id != "accountLogCsv"]
    result = check(OPERATIONS, rows)
    assert [op.operation_id for op in result.missing] == ["accountLogCsv"]
    assert result.mismatched == ()


def test_the_spec_directory_is_found_from_the_repository(tmp_path: Path) -> None:
    assert find_spec_dir(REPO) == SPEC / "futures-rest"
    shared = tmp_path / "shared" / "kraken-openapi" / "futures-rest"
    shared.mkdir(parents=True)
    work = tmp_path / "main"
    work.mkdir()
    # a checkout beside ``shared/`` without its own copy uses the shared one
    assert find_spec_dir(work) == shared


def test_without_any_spec_it_says_so(tmp_path: Path) -> None:
    status, _ = run("--spec", str(tmp_path / "nowhere"))
    assert status == 2
