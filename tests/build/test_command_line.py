"""What every command shares (pym_lambda/build/command_line.py), as a user meets it in a service
made by `pym-lambda new`: a typo in --stage is refused by every command, naming the stages;
`tasks list` applies the stage's environment (no ConfigError) and says in one line that a
region is missing; an unexpected failure is one `error:` line, its traceback with --debug.
Each command runs as a process, as a user runs it; AWS is a moto server on 127.0.0.1."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator, List

import pytest
from click.testing import CliRunner

from pym_lambda.build.scaffold import new
from tests.build.deploy.deploy_fixtures import moto_server

PYTHON = sys.executable


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Path:
    parent = tmp_path_factory.mktemp("svc")
    result = CliRunner().invoke(new, ["shop", "--dir", str(parent)])
    assert result.exit_code == 0, result.output
    return parent / "shop"


@pytest.fixture(scope="module")
def moto() -> Iterator[str]:
    with moto_server() as url:
        yield url


def clean_environment(**extra: str) -> Dict[str, str]:
    """A user's shell: no AWS settings, no PYM_ variables of the test run."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "PYM_", "JWT_"))}
    env.update(extra)
    return env


def run(service: Path, *args: str, env: Dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PYTHON, "-m", "pym_lambda.build.cli", *args], cwd=service, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("command", [
    ["validate"], ["token", "ann"], ["tasks", "list"], ["tasks", "dlq"], ["worker"],
    ["local"], ["test"],
])
def test_every_command_refuses_an_unknown_stage(service: Path, command: List[str]) -> None:
    done = run(service, *command, "--stage", "prd", env=clean_environment())
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines == ["Error: unknown stage 'prd': .chalice/config.json and pym-config.yaml "
                     "define dev, prod"]


def test_the_known_stages_still_run(service: Path) -> None:
    assert run(service, "validate", "--stage", "prod", env=clean_environment()).returncode == 0
    token = run(service, "token", "ann", "--stage", "dev", env=clean_environment())
    assert token.returncode == 0 and token.stdout.count(".") == 2


def test_tasks_list_applies_the_stage_and_asks_for_a_region_in_one_line(service: Path) -> None:
    done = run(service, "tasks", "list", env=clean_environment())
    assert done.returncode == 1
    assert done.stderr.strip() == ("error: no AWS region: pass --region or set "
                                   "AWS_DEFAULT_REGION (--debug shows the traceback)")
    assert "Traceback" not in done.stderr and "ConfigError" not in done.stderr


def test_tasks_list_against_moto_prints_only_its_table(service: Path, moto: str) -> None:
    env = clean_environment(AWS_ENDPOINT_URL=moto, AWS_ACCESS_KEY_ID="testing",
                            AWS_SECRET_ACCESS_KEY="testing")
    done = run(service, "tasks", "list", "--region", "eu-west-1", env=env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["queue", "visible", "in", "flight", "delayed", "dlq", "name"]
    assert any(line.startswith("default") and "(missing)" in line for line in lines[1:])
    assert "INFO" not in done.stdout + done.stderr  # botocore's credential lines


def test_an_unexpected_failure_is_one_line_and_its_traceback_with_debug(service: Path) -> None:
    broken = service / "chalicelib" / "broken.py"
    app = service / "app.py"
    original = app.read_text()
    broken.write_text("raise RuntimeError('the service cannot start: no database')\n")
    app.write_text("import chalicelib.broken\n" + original)
    try:
        env = clean_environment(AWS_DEFAULT_REGION="eu-west-1")
        done = run(service, "tasks", "list", env=env)
        assert done.returncode == 1
        assert done.stderr.strip() == ("error: RuntimeError: the service cannot start: no "
                                       "database (--debug shows the traceback)")
        debug = run(service, "tasks", "list", "--debug", env=env)
        assert debug.returncode == 1 and "Traceback (most recent call last)" in debug.stderr
    finally:
        app.write_text(original)
        broken.unlink()
