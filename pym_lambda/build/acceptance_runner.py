"""`pym-lambda test`: the service's acceptance tests, in-process or against a live URL.

The acceptance tests are `tests/acceptance/` (else the tests marked `acceptance`), written with
the plugin's `pym_client`: given a URL, the plugin sends their requests there (PYM_TEST_URL),
else it calls the app in-process. pytest runs in a subprocess, in the service's folder, so
that the service's own pytest settings and conftest apply.

`run_acceptance_tests()` is what `deploy --acceptance` calls after its /ping check.
"""
from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import click

from .command_line import (
    apply_region,
    check_stage,
    debug_option,
    problems_as_lines,
    project_root,
    region_option,
)

URL_VARIABLE = "PYM_TEST_URL"
TOKEN_VARIABLE = "PYM_TEST_TOKEN"


class AcceptanceError(click.ClickException):
    """The tests can't be run (no tests, an unreachable URL, no key to sign a token)."""


def acceptance_targets(root: Path) -> List[str]:
    """pytest's arguments selecting the acceptance tests of the service in `root`."""
    folder = root / "tests" / "acceptance"
    if folder.is_dir():
        return [str(folder)]
    if (root / "tests").is_dir():
        return [str(root / "tests"), "-m", "acceptance"]
    raise AcceptanceError(f"no acceptance tests in {root}: write them in tests/acceptance/ "
                          "(or mark them @pytest.mark.acceptance)")


def check_reachable(url: str, timeout: float = 10.0) -> None:
    """GET <url>/ping must answer 200 before testing: a wrong URL fails in one line."""
    ping = url.rstrip("/") + "/ping"
    try:
        with urllib.request.urlopen(ping, timeout=timeout) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, OSError) as exc:
        raise AcceptanceError(f"cannot reach {ping}: {getattr(exc, 'reason', exc)}") from None
    if status != 200:
        raise AcceptanceError(f"{ping} answered {status}, not 200: is the service deployed?")


def acceptance_environment(root: Path, *, url: Optional[str], stage: str,
                     token_user: Optional[str]) -> Dict[str, str]:
    environ = dict(os.environ)
    environ.pop(URL_VARIABLE, None)
    if url:
        environ[URL_VARIABLE] = url
    if token_user:
        from ..config import ConfigError
        from ..testing.project import ServiceProject

        try:
            environ[TOKEN_VARIABLE] = ServiceProject(root, stage=stage).token(token_user)
        except (ConfigError, RuntimeError, ValueError) as exc:
            raise AcceptanceError(f"cannot sign a token for {token_user!r} with the {stage} "
                                  f"stage's key: {exc}") from None
    return environ


def run_acceptance_tests(root: Path, *, url: Optional[str] = None, stage: str = "dev",
                         token_user: Optional[str] = None,
                         pytest_args: Sequence[str] = ()) -> int:
    """Run the acceptance tests of the service in `root`; pytest's exit code (0: passed)."""
    root = Path(root).resolve()
    targets = acceptance_targets(root)
    if url:
        check_reachable(url)
    environ = acceptance_environment(root, url=url, stage=stage, token_user=token_user)
    command = [sys.executable, "-m", "pytest", *targets, "--pym-project", str(root),
               "--pym-stage", stage, *pytest_args]
    return subprocess.call(command, cwd=root, env=environ)


@click.command("test", context_settings={"ignore_unknown_options": True})
@click.option("--url", default=None, envvar=URL_VARIABLE, metavar="URL",
              help=f"The live service to test (env {URL_VARIABLE}); default: in-process.")
@click.option("--stage", default="dev", show_default=True,
              help="The stage whose environment and JWT key the tests use.")
@click.option("--token-user", default=None, metavar="USER",
              help=f"Sign a token for USER with the stage's key; tests get it from "
                   f"pym_token() (env {TOKEN_VARIABLE}).")
@click.option("--project-dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              default=None, help="The service folder (default: the current folder).")
@region_option
@debug_option
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
@problems_as_lines
def acceptance_test(url: Optional[str], stage: str, token_user: Optional[str],
                    project_dir: Optional[Path], region: Optional[str],
                    pytest_args: Sequence[str]) -> None:
    """Run the service's acceptance tests (tests/acceptance/), against --url when given.

    Arguments after the options go to pytest, e.g. `pym-lambda test --url URL -- -k books -x`.
    """
    root = project_root(project_dir)
    check_stage(root, stage)
    apply_region(region)
    where = f"against {url}" if url else "in-process"
    click.echo(f"acceptance tests of {root.name} {where} (stage {stage})")
    sys.exit(run_acceptance_tests(root, url=url, stage=stage, token_user=token_user,
                                  pytest_args=pytest_args))
