"""deploy and package run the Lambda package as the Lambda runtime would before any AWS call:
what works in the project tree but not in the zip fails the build, naming the cause."""
from __future__ import annotations

import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from pym_lambda.build.deploy.cli import deploy, package

from .deploy_fixtures import STAGE, AwsCallCounter, deploy_sandbox, invoke


@pytest.fixture
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    with deploy_sandbox(tmp_path, monkeypatch, in_process_moto=False) as project:
        monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
        yield project, AwsCallCounter().install(monkeypatch)


def test_the_dry_run_checks_the_package_it_would_ship(offline: Any) -> None:
    project, calls = offline
    result = invoke(deploy, "--stage", STAGE, "--dry-run", "--project-dir", str(project))
    assert result.exit_code == 0, result.output
    assert "runs as Lambda's python3" in result.output
    assert "APIHandler GET /ping -> 200" in result.output
    assert "PymTaskWorkerDefault empty SQS batch -> no error" in result.output
    assert calls.calls == []
    # the zip Chalice's deployer will reuse is the finished one: bytecode, all of it used
    assert "package: bytecode for python3." in result.output
    assert "in one bundle" in result.output  # pym_lambda's modules, read once
    assert ", 0 of" not in result.output and " modules from bytecode)" in result.output
    cached = list((project / ".chalice" / "deployments").glob("*.zip"))
    assert len(cached) == 1
    with zipfile.ZipFile(cached[0]) as archive:
        assert f"__pycache__/app.{sys.implementation.cache_tag}.pyc" in archive.namelist()


def test_a_module_the_package_lacks_fails_the_build_not_the_first_request(offline: Any) -> None:
    project, calls = offline
    # click is installed here (Chalice needs it) but requirements.txt does not list it
    library = project / "chalicelib" / "library.py"
    library.write_text(library.read_text() + "\nimport click  # noqa: E402, F401\n")
    result = invoke(deploy, "--stage", STAGE, "--dry-run", "--project-dir", str(project))
    assert result.exit_code == 1
    # the bindings import chalicelib.library at the cold start: each operation names it
    assert "error: check: app.py: 6 problem(s)" in result.output
    assert "lend_book' cannot be bound: No module named 'click'" in result.output
    assert "Traceback" not in result.output and calls.calls == []
    out = project / "out"
    packaged = invoke(package, "--stage", STAGE, "--project-dir", str(project), "--out", str(out))
    assert packaged.exit_code == 1 and "No module named 'click'" in packaged.output


def test_code_outside_chalicelib_is_shipped_and_the_build_says_so(offline: Any) -> None:
    # Chalice ships only app.py, chalicelib/ and vendor/: the build copies helpers.py into
    # vendor/ (deploy/project_code.py), so the package check imports it as Lambda would.
    project, _ = offline
    (project / "helpers.py").write_text("GREETING = 'hello'\n")
    app = project / "app.py"
    app.write_text(app.read_text().replace("from pym_lambda import",
                                           "import helpers  # noqa: F401\nfrom pym_lambda import"))
    result = invoke(deploy, "--stage", STAGE, "--dry-run", "--project-dir", str(project))
    assert result.exit_code == 0, result.output
    assert "the project's own helpers.py (1 file(s)) copied into vendor/" in result.output
    assert "No module named 'helpers'" not in result.output
