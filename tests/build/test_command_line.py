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


STAGED_COMMANDS = [
    ["validate"], ["token", "ann"], ["tasks", "list"], ["tasks", "dlq"], ["tasks", "redrive"],
    ["worker"], ["local"], ["test"], ["deploy"], ["delete"], ["rollback"],
    ["package", "--out", "out"], ["url"], ["logs"], ["invoke"],
]


def every_command() -> List[List[str]]:
    """Every command of the CLI but `new` (which makes the project), by name."""
    import click

    from pym_lambda.build.cli import main

    found: List[List[str]] = []
    for name, command in main.commands.items():
        if isinstance(command, click.Group):
            found += [[name, sub] for sub in command.commands]
        elif name != "new":
            found.append([name])
    return found


def test_the_list_below_is_every_command_that_takes_a_stage() -> None:
    names = [command[:2] if command[0] == "tasks" else command[:1]  # without arguments
             for command in STAGED_COMMANDS]
    assert sorted(names) == sorted(c for c in every_command() if c != ["build"])


@pytest.mark.parametrize("command", STAGED_COMMANDS, ids=" ".join)
def test_every_command_refuses_an_unknown_stage(service: Path, tmp_path: Path,
                                                command: List[str]) -> None:
    # from another folder, as a script would: --project-dir names the service
    done = subprocess.run([PYTHON, "-m", "pym_lambda.build.cli", *command, "--stage", "prd",
                           "--project-dir", str(service), "--region", "eu-west-1"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          input="{}",  # credentials: deploy reports a missing one too
                          env=clean_environment(AWS_ACCESS_KEY_ID="testing",
                                                AWS_SECRET_ACCESS_KEY="testing"))
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in done.stdout, done.stdout + done.stderr
    # deploy, delete and rollback need a stage of .chalice/config.json: they name only its own
    assert lines[0] in (
        "Error: unknown stage 'prd': .chalice/config.json and pym-config.yaml define dev, prod",
        "error: build: unknown stage 'prd': .chalice/config.json defines dev, prod"), lines


@pytest.mark.parametrize("command", every_command(), ids=" ".join)
def test_every_command_takes_project_dir_region_and_debug(command: List[str]) -> None:
    done = subprocess.run([PYTHON, "-m", "pym_lambda.build.cli", *command, "--help"],
                          env=clean_environment(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    options = {word.rstrip(",") for line in done.stdout.splitlines()
               for word in line.split() if word.startswith("--")}
    assert {"--project-dir", "--region", "--debug"} <= options, done.stdout


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
