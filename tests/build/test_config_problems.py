"""A pym-config.yaml with many problems: every one is reported in one run, one line each with
the file, the key path and its line, by `pym-lambda validate`, by `chalice local` and by the
ConfigError an import of the app raises (what Lambda logs). Run as processes in a service made
by `pym-lambda new`; no value of a secret is printed."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

from tests.build.deploy.deploy_fixtures import free_port
from tests.build.test_startup_errors import CHALICE, environment
from tests.build.test_validate_everything import new_service, run

SHORT_SECRET = "short-secret-value"  # never printed
CONFIG = f"""\
name: shop
version: "0.1.0"
log_levl: INFO
jwt:
  secret: {SHORT_SECRET}
  leeway: soon
clients:
  users: {{env: SHOP_USERS_URL}}
cors: {{enabled: true, allow_credentials: true}}
name: shop-again
stages:
  dev: {{production: false}}
  prod: [not, a, mapping]
"""
PROBLEMS = [
    "pym-config.yaml: line 10: duplicate key 'name'",
    "pym-config.yaml: line 3: log_levl: unknown key (did you mean 'log_level'?)",
    "pym-config.yaml: line 6: jwt.leeway: expected an integer, got 'soon' (str)",
    "pym-config.yaml: line 13: stages.prod: expected a mapping, got ['not', 'a', 'mapping'] "
    "(list)",
    "pym-config.yaml: line 8: clients.users: environment variable SHOP_USERS_URL is not set",
    "pym-config.yaml (stage dev): cors.allow_origins: '*' may not be used with "
    "cors.allow_credentials: true; list the allowed origins",
    "pym-config.yaml (stage dev): jwt.secret is shorter than the 32 bytes HS256 needs: "
    "generate one (python -c 'import secrets; print(secrets.token_urlsafe(64))'), set it, "
    "and re-issue the tokens signed with the old one (for a PyMacaron secret, see "
    "docs/MIGRATING_FROM_PYMACARON.md)",
]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = new_service(tmp_path_factory.mktemp("svc"))
    (project / "pym-config.yaml").write_text(CONFIG)
    return project


def errors(stderr: str) -> List[str]:
    return [line.removeprefix("error: ") for line in stderr.splitlines()
            if line.startswith("error: ")]


def test_validate_reports_every_config_problem_in_one_run(service: Path) -> None:
    result = run(service, "validate")
    assert result.returncode == 1
    assert errors(result.stderr) == PROBLEMS, result.stderr
    assert f"{len(PROBLEMS)} problem(s) found" in result.stderr
    assert SHORT_SECRET not in result.stdout + result.stderr


def test_chalice_local_names_every_problem_one_line_each(service: Path) -> None:
    done = subprocess.run([CHALICE, "local", "--no-autoreload", "--port", str(free_port())],
                          cwd=service, env=environment(), capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1
    assert errors(done.stderr) == PROBLEMS, done.stderr
    assert f"the service cannot start: {len(PROBLEMS)} problem(s)" in done.stderr
    assert SHORT_SECRET not in done.stdout + done.stderr


def test_the_app_raises_one_config_error_carrying_every_problem(service: Path) -> None:
    # What Lambda logs when the handler's module fails to import.
    done = subprocess.run([sys.executable, "-c", "import app"], cwd=service,
                          env=environment(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    message = done.stderr[done.stderr.index("ConfigError: "):].removeprefix("ConfigError: ")
    assert message.splitlines() == PROBLEMS, done.stderr
    assert SHORT_SECRET not in done.stderr
