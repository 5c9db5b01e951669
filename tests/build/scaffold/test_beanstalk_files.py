"""`pym-lambda new` gives a service the Beanstalk files, the same as this repository's
infra/beanstalk/ (which the image check builds and runs), so `deploy --target beanstalk` works
for it."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from pym_lambda.build.scaffold import create_service, new

ROOT = Path(__file__).resolve().parents[3]
INFRA = ROOT / "infra" / "beanstalk"
TEMPLATE = ROOT / "pym_lambda" / "build" / "scaffold" / "template" / "infra" / "beanstalk"
PER_SERVICE = {"README.md", "image-check.json"}  # written for a new service


def shared_files() -> list[str]:
    return sorted(p.relative_to(INFRA).as_posix() for p in INFRA.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts
                  and p.name not in PER_SERVICE)


def test_the_template_carries_this_repositorys_beanstalk_files_unchanged() -> None:
    for name in shared_files():
        parts = ["dot-" + part[1:] if part.startswith(".") else part
                 for part in name.split("/")]
        template = TEMPLATE.joinpath(*parts[:-1], parts[-1] + ".tmpl")
        assert template.is_file(), f"{name}: no {template.relative_to(ROOT)}"
        assert template.read_bytes() == (INFRA / name).read_bytes(), (
            f"{name} changed: infra/beanstalk/{name} must link to {template.relative_to(ROOT)}")
        # One home: the template; this repository's copy is a link to it.
        assert (INFRA / name).is_symlink() and (INFRA / name).resolve() == template.resolve()


def test_new_writes_them_and_no_beanstalk_leaves_them_out(tmp_path: Path) -> None:
    service, _ = create_service("shop", tmp_path)
    for name in shared_files():
        assert (service / "infra" / "beanstalk" / name).read_bytes() == (
            INFRA / name).read_bytes(), name
    probe = json.loads((service / "infra" / "beanstalk" / "image-check.json").read_text())
    assert [r["path"] for r in probe["requests"]] == ["/v1/greetings"]
    assert "/greetings:" in (service / "apis" / "shop.yaml").read_text()
    # the probe's log line is what the generated task logs
    assert '"greeting card for %s sent' in (service / "chalicelib" / "tasks.py").read_text()
    assert probe["log"] == "greeting card for Ann sent"
    readme = (service / "infra" / "beanstalk" / "README.md").read_text()
    assert "shop-<stage>-beanstalk-ec2" in readme and "shop-beanstalk-service" in readme

    result = CliRunner().invoke(new, ["lean", "--dir", str(tmp_path), "--no-beanstalk"])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "lean" / "infra").exists()
    assert "infra/beanstalk" not in result.output


def test_a_new_service_plans_a_beanstalk_deploy(tmp_path: Path) -> None:
    service, _ = create_service("shop", tmp_path)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYM_", "AWS_", "JWT_")) and k != "PYTEST_ADDOPTS"}
    env.update(JWT_SECRET="prod-secret-of-the-test-0123456789abcdef",
               AWS_DEFAULT_REGION="eu-west-1", AWS_EC2_METADATA_DISABLED="true")
    plan = subprocess.run(
        [sys.executable, "-m", "pym_lambda.build.cli", "deploy", "--stage", "prod", "--target",
         "beanstalk", "--dry-run", "--project-dir", str(service)],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    for line in ("Dockerfile and Dockerrun.aws.json at its root",
                 "instance profile shop-prod-beanstalk-ec2: create or update",
                 "consume shop-prod-default; send to shop-prod-default, shop-prod-default-dlq",
                 "service role shop-beanstalk-service: create or update",
                 "environment shop-prod: create or update", "PYM_TASK_WORKER",
                 "dry run: stopped before any AWS call"):
        assert line in plan.stdout, plan.stdout


@pytest.mark.parametrize("name", ["Dockerfile", "Dockerrun.aws.json", ".dockerignore",
                                  ".platform/nginx/conf.d/pym-body-size.conf"])
def test_the_new_services_bundle_has_the_deployment_files_at_its_root(
        tmp_path: Path, name: str) -> None:
    from pym_lambda.build.deploy.beanstalk_target import build_bundle, bundle_files

    service, _ = create_service("shop", tmp_path)
    names = zipfile.ZipFile(io.BytesIO(build_bundle(bundle_files(service)))).namelist()
    assert name in names and f"infra/beanstalk/{name}" in names
    assert "infra/beanstalk/image_check.py" not in names  # a tool, not for the instance
    assert {"app.py", "apis/shop.yaml", "chalicelib/tasks.py", "infra/beanstalk/supervise.py",
            "infra/beanstalk/gunicorn.conf.py", "pym_lambda/wsgi/__init__.py"} <= set(names)
