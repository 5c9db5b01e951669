"""A service that cannot start, as a user meets it in a service made by `pym-lambda new` with a
variable its config reads left unset: `chalice local` says so in one line per problem (its
traceback with `chalice --debug`), and a pytest run shows the ConfigError without printing the
environment's values (the dev stage's JWT secret among them). Each runs as a process."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict

import pytest
from click.testing import CliRunner

from pym_lambda.build.scaffold import new
from tests.build.deploy.deploy_fixtures import free_port

CHALICE = str(Path(sys.executable).with_name("chalice"))
PROBLEM = ("error: pym-config.yaml: line 10: jwt.secret: environment variable SHOP_JWT_KEY "
           "is not set")


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Path:
    parent = tmp_path_factory.mktemp("svc")
    result = CliRunner().invoke(new, ["shop", "--dir", str(parent)])
    assert result.exit_code == 0, result.output
    project = parent / "shop"
    config = project / "pym-config.yaml"
    text = config.read_text()
    assert "secret: {env: JWT_SECRET}" in text
    config.write_text(text.replace("secret: {env: JWT_SECRET}", "secret: {env: SHOP_JWT_KEY}"))
    return project


def environment() -> Dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYM_", "JWT_"))}


def test_chalice_local_says_what_is_wrong_in_one_line(service: Path) -> None:
    done = subprocess.run([CHALICE, "local", "--no-autoreload", "--port", str(free_port())],
                          cwd=service, env=environment(), capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        PROBLEM, "the service cannot start: 1 problem(s) (chalice --debug local shows the "
                 "traceback)"], done.stderr


def test_chalice_local_with_its_reloader_says_it_once_and_waits_for_a_fix(
        service: Path, tmp_path: Path) -> None:
    log = tmp_path / "local.log"
    with log.open("w") as out:
        server = subprocess.Popen([CHALICE, "local", "--port", str(free_port())], cwd=service,
                                  env=environment(), stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while "cannot start" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)
        assert log.read_text().splitlines()[:2] == [
            PROBLEM, "the service cannot start: 1 problem(s) (chalice --debug local shows the "
                     "traceback)"], log.read_text()
        assert server.poll() is None  # Chalice's reloader restarts it once the file is fixed
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
    assert "Traceback" not in log.read_text()


def test_chalice_debug_keeps_the_traceback(service: Path) -> None:
    done = subprocess.run([CHALICE, "--debug", "local", "--no-autoreload", "--port",
                           str(free_port())], cwd=service, env=environment(),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "Traceback (most recent call last)" in done.stderr
    assert "ConfigError: pym-config.yaml: line 10: jwt.secret" in done.stderr


def test_a_config_error_under_pytest_prints_no_environment_value(service: Path) -> None:
    secret = json.loads((service / ".chalice" / "config.json").read_text())[
        "stages"]["dev"]["environment_variables"]["JWT_SECRET"]
    env = {**environment(), "SHOP_OTHER_SECRET": "another-secret-value-0123456789"}
    done = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"],
                          cwd=service, env=env, capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "ConfigError: pym-config.yaml: line 10: jwt.secret: environment variable " \
           "SHOP_JWT_KEY" \
           in output
    assert "environ = <environment: " in output  # the argument pytest shows, values hidden
    assert secret not in output and "another-secret-value" not in output
    assert "environ({" not in output
