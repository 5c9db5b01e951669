"""`pym-lambda validate` reports every problem of every kind in one run, and warns about what
would break only on AWS; `package` and `deploy --dry-run` warn alike. Run as
processes on a service made by `pym-lambda new`."""
from __future__ import annotations

import subprocess
from pathlib import Path

from pym_lambda.build.shipping import source_warnings
from tests.build.test_cli import clean_env, pym

BYE = """
  /bye:
    get:
      operationId: sayBye
      x-bind-server: {target}
      responses:
        '200': {{description: ok}}
"""
UNSHIPPED_USES = '''

def lazy():
    import helpers  # the project's helpers/, which Chalice does not ship
    return helpers.f()


def outer():
    @async_task
    def inner():
        pass
    return inner


def prices():
    with open("data/prices.csv") as fh:
        return fh.read()
'''


def new_service(tmp_path: Path) -> Path:
    subprocess.run(pym("new", "shop", "--dir", str(tmp_path), "--no-beanstalk"), check=True,
                   env=clean_env(), capture_output=True, timeout=120)
    return tmp_path / "shop"


def run(service: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(pym(*argv), cwd=service, capture_output=True, text=True, timeout=300,
                          env=clean_env(AWS_ACCESS_KEY_ID="testing",
                                        AWS_SECRET_ACCESS_KEY="testing"))


def add_operation(service: Path, target: str) -> None:
    spec = service / "apis" / "shop.yaml"
    spec.write_text(spec.read_text().replace("paths:\n", "paths:" + BYE.format(target=target),
                                             1))


def test_a_broken_ref_hides_neither_binding_nor_config_problems(tmp_path: Path) -> None:
    service = new_service(tmp_path)
    add_operation(service, "chalicelib.shop.say_bye")  # no such function
    spec = service / "apis" / "shop.yaml"
    spec.write_text(spec.read_text().replace("schemas/GreetingRequest'", "schemas/Nope'"))
    config = service / "pym-config.yaml"
    line = len(config.read_text().splitlines()) + 1
    with config.open("a") as out:
        out.write("no_such_key: x\n")

    result = run(service, "validate")
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [
        f"error: pym-config.yaml: line {line}: no_such_key: unknown key",
        "error: apis/shop.yaml: POST /greetings: operation createGreeting: $ref "
        "'#/components/schemas/Nope' points to nothing",
        "error: apis/shop.yaml: GET /v1/bye: operation sayBye: x-bind-server "
        "'chalicelib.shop.say_bye' cannot be bound: module 'chalicelib.shop' has no attribute "
        "'say_bye'",
    ], result.stderr
    assert "3 problem(s) found" in result.stderr


def write_unshipped_uses(service: Path) -> None:
    (service / "helpers").mkdir()
    (service / "helpers" / "__init__.py").write_text("def f():\n    return 1\n")
    (service / "data").mkdir()
    (service / "data" / "prices.csv").write_text("a,1\n")
    (service / "chalicelib" / "data.csv").write_text("shipped\n")
    module = service / "chalicelib" / "shop.py"
    module.write_text(module.read_text().replace(
        "from pym_lambda import models", "from pym_lambda import async_task, models")
        + UNSHIPPED_USES + '\n\ndef shipped():\n    return open("chalicelib/data.csv").read()\n')


def aws_only(lines: str) -> list[str]:
    return [line for line in lines.splitlines() if "outside chalicelib/" in line
            or "module-level" in line]


def test_validate_and_package_warn_about_what_breaks_only_on_aws(tmp_path: Path) -> None:
    service = new_service(tmp_path)
    write_unshipped_uses(service)
    add_operation(service, "helpers.f")

    result = run(service, "validate")
    assert result.returncode == 0, result.stderr  # warnings, not errors
    # the project's own helpers/ is shipped by the build (deploy/project_code.py): said once
    assert [line for line in result.stdout.splitlines() if line.startswith("info: ")] == [
        "info: helpers/ is outside chalicelib/: `package` and `deploy` copy it into the "
        "package's vendor/ (at the zip's root), so it imports on AWS as here"]
    warnings = [line for line in aws_only(result.stdout) if line.startswith("warning: ")]
    assert len(warnings) == 2, result.stdout
    assert "@async_task on 'inner', defined inside 'outer': tasks must be module-level" \
        in warnings[0]
    assert "opens 'data/prices.csv' (data/prices.csv), outside chalicelib/" in warnings[1]

    # the package check imports helpers.f in the package: it is there, the warnings stay
    packaged = run(service, "package", "--stage", "dev", "--region", "us-east-1",
                   "--out", str(tmp_path / "out"))
    assert packaged.returncode == 0, packaged.stdout + packaged.stderr
    assert "build: the project's own helpers/ (1 file(s)) copied into vendor/, which the " \
        "package ships at its root" in packaged.stdout.splitlines()
    assert [w.split(":", 2)[2] for w in aws_only(packaged.stdout) if w.startswith("warning")] \
        == [w.split(":", 2)[2] for w in warnings]
    dry_run = run(service, "deploy", "--stage", "dev", "--dry-run", "--region", "us-east-1")
    assert dry_run.returncode == 0, dry_run.stdout + dry_run.stderr
    assert [w.strip().split(":", 2)[2] for w in aws_only(dry_run.stdout) if "warning:" in w] \
        == [w.split(":", 2)[2] for w in warnings]


def test_what_is_shipped_gives_no_warning(tmp_path: Path) -> None:
    (tmp_path / "chalicelib").mkdir()
    (tmp_path / "chalicelib" / "data.csv").write_text("x")
    (tmp_path / "chalicelib" / "util.py").write_text("X = 1\n")
    (tmp_path / "app.py").write_text(
        "import os\nimport yaml\nfrom chalicelib import util\nfrom pym_lambda import "
        "async_task\n\n\n@async_task\ndef task():\n    return open('chalicelib/data.csv')\n"
        "\n\ndef f():\n    return open(os.path.join(os.path.dirname(__file__), 'chalicelib',"
        " 'data.csv'))\n")
    assert source_warnings(tmp_path) == []
