"""infra/beanstalk/image_check.py: the Beanstalk image built and run (slow: `pytest -m slow`,
Linux as root, network for the Debian and PyPI downloads), and its helpers (default suite)."""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Dict

import pytest

from pym_lambda.build.scaffold import create_service

ROOT = Path(__file__).resolve().parents[2]
CHECK = ROOT / "infra" / "beanstalk" / "image_check.py"


def image_check() -> ModuleType:
    """The script as a module (once: its dataclasses need it in sys.modules)."""
    name = "pym_beanstalk_image_check"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, CHECK)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


# --- the helpers, no root needed -------------------------------------------------------------

def test_the_command_is_entrypoint_and_cmd_with_the_port_remapped() -> None:
    config = {"Entrypoint": ["python", "/etc/pym/supervise.py"],
              "Cmd": ["gunicorn", "--bind", "0.0.0.0:8080", "app:application"]}
    assert image_check().container_command(config, 4321) == [
        "python", "/etc/pym/supervise.py", "gunicorn", "--bind", "127.0.0.1:4321",
        "app:application"]


def test_the_user_is_resolved_in_the_images_own_passwd(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/bash\npym:x:10001:10001::/app:/usr/sbin/nologin\n")
    (tmp_path / "etc" / "group").write_text("root:x:0:\npym:x:10001:\nstaff:x:50:\n")
    rootfs = image_check().Rootfs("image")
    rootfs.path = tmp_path
    assert rootfs.user("10001:10001") == (10001, 10001, "/app")
    assert rootfs.user("pym") == (10001, 10001, "/app")
    assert rootfs.user("pym:staff") == (10001, 50, "/app")
    assert rootfs.user("") == (0, 0, "/root")


def test_the_environment_is_the_images_plus_what_deploy_sets(tmp_path: Path) -> None:
    module = image_check()
    bundle = module.Bundle(tmp_path, "0" * 64, "shop", "prod",
                           {"PYM_STAGE": "prod", "PYM_TASK_WORKER": "1"}, [])
    env = module.container_environment(
        {"Env": ["PATH=/usr/bin", "PYTHONPATH=/app"]}, bundle, "http://127.0.0.1:5000",
        "/app", {"AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "s"})
    assert env["PATH"] == "/usr/bin" and env["PYTHONPATH"] == "/app" and env["HOME"] == "/app"
    assert env["PYM_TASK_WORKER"] == "1" and env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5000"
    assert env["AWS_ACCESS_KEY_ID"] == "AKIA" and env["AWS_EC2_METADATA_DISABLED"] == "true"


def test_the_probe_fills_fields_of_the_previous_reply() -> None:
    fill = image_check().fill
    assert fill("/v1/books/{id}/loans", {"id": 7, "title": "x"}) == "/v1/books/7/loans"
    assert fill("receipt for loan {id}", {"id": "ab-1", "nested": {"id": 2}}) == \
        "receipt for loan ab-1"


def test_the_examples_probe_matches_its_spec_and_task() -> None:
    probe = json.loads((ROOT / "infra" / "beanstalk" / "image-check.json").read_text())
    spec = (ROOT / "apis" / "library.yaml").read_text()
    assert "/books:" in spec and "/books/{book_id}/loans:" in spec
    assert [r["path"] for r in probe["requests"]] == ["/v1/books", "/v1/books/{id}/loans"]
    assert probe["log"].startswith("receipt for loan {id} sent to ")
    assert '"receipt for loan %s sent to %s' in (ROOT / "chalicelib" / "tasks.py").read_text()


def test_cannot_run_is_exit_77_with_a_reason(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    module = image_check()
    monkeypatch.setattr(module.os, "geteuid", lambda: 1000)
    report = tmp_path / "report.json"
    assert module.main(["--project-dir", str(ROOT), "--json", str(report)]) == 77
    assert json.loads(report.read_text())["message"] == (
        "cannot run here: needs root (podman storage, mounts and chroot)")


# --- the real thing ----------------------------------------------------------------------------

def run_check(project: Path, tmp_path: Path) -> Dict[str, Any]:
    report = tmp_path / "report.json"
    result = subprocess.run([sys.executable, str(project / "infra" / "beanstalk" /
                                                 "image_check.py"), "--project-dir",
                             str(project), "--json", str(report), "--remove-image"],
                            capture_output=True, text=True, timeout=1800, cwd=project)
    found: Dict[str, Any] = json.loads(report.read_text()) if report.exists() else {}
    if found.get("status") == 77:
        pytest.skip(found["message"])
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    return found


def assert_clean(report: Dict[str, Any]) -> None:
    for step in ("base image", "image build", "start to /ping", "healthcheck",
                 "task round trip", "stop (SIGTERM)"):
        assert step in report["timings"], report
    assert report["facts"]["exit_code"] == 0 and report["facts"]["leftover_processes"] == 0
    assert report["facts"]["iam"].startswith("enforced")
    mounts = Path("/proc/self/mounts").read_text()
    assert "pym-image-check" not in mounts
    containers = subprocess.run(["podman", "ps", "-a", "--format", "json"],
                                capture_output=True, text=True, timeout=60).stdout
    assert "pym-image-check" not in containers


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux") or os.geteuid() != 0,
                    reason="builds with podman and runs the image by chroot: Linux, as root")
def test_the_example_image_builds_and_runs_its_web_app_and_task_worker(
        tmp_path: Path) -> None:
    report = run_check(ROOT, tmp_path)
    assert_clean(report)
    assert report["facts"]["version"]["name"] == "pym-library"


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux") or os.geteuid() != 0,
                    reason="builds with podman and runs the image by chroot: Linux, as root")
def test_a_new_services_image_builds_and_runs(tmp_path: Path) -> None:
    service, _ = create_service("shop", tmp_path)
    report = run_check(service, tmp_path)
    assert_clean(report)
    assert report["facts"]["version"]["name"] == "shop"
