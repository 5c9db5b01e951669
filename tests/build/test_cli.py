"""The developer-experience commands, as a user runs them: `new`, `local`, `test --url`.

Servers run on free ports of 127.0.0.1 only, every wait is bounded, and every process group
started here is killed in a finally block, whatever happens.
"""
from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Set

import yaml
from click.testing import CliRunner

from pym_lambda.build.acceptance_runner import acceptance_test
from pym_lambda.build.scaffold import new

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def pym(command: str, *args: str) -> List[str]:
    """The argv of `pym-lambda <command> ...` run by this Python."""
    from pym_lambda.build.cli import main

    assert command in main.commands, command
    return [PYTHON, "-m", "pym_lambda.build.cli", command, *args]


def clean_env(**extra: str) -> Dict[str, str]:
    """This process's environment without what the test session set for the example app."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYM_", "AWS_", "JWT_")) and k != "PYTEST_ADDOPTS"}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def http(method: str, url: str, body: Optional[dict] = None,
         headers: Optional[Dict[str, str]] = None) -> tuple:
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode()
                                     if body is not None else None,
                                     headers={"Content-Type": "application/json",
                                              **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def wait_for(what: str, ready, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {timeout} s")
        time.sleep(0.1)


def alive(pid: int) -> bool:
    """A process that exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def group_members(pgids: Iterable[int]) -> Set[int]:
    wanted = set(pgids)
    members = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[2]) in wanted and fields[0] != "Z":
                members.add(int(entry.name))
    return members


def kill_groups(pgids: Iterable[int]) -> None:
    for pgid in pgids:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


class Output:
    """A process's merged output, read by a thread so that waits stay bounded."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.lines: List[str] = []
        self._new: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self.thread.start()

    def _read(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            self.lines.append(line.rstrip("\n"))
            self._new.put(line)

    def text(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, pattern: str, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            for line in list(self.lines):
                match = regex.search(line)
                if match:
                    return match
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no line matching {pattern!r} after {timeout} s in:\n"
                                     + self.text()[-4000:])
            try:
                self._new.get(timeout=min(left, 0.5))
            except queue.Empty:
                pass


def start(argv: List[str], cwd: Path, env: Dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def finish(process: subprocess.Popen, groups: Iterable[int], output: Output) -> None:
    """Kill the process groups, reap the process, close its pipe once it is read."""
    kill_groups(groups)
    try:
        process.wait(timeout=10)
        output.thread.join(timeout=10)
    finally:
        process.stdout.close()


# --- pym-lambda new --------------------------------------------------------------------------

GENERATED = {
    "README.md", "app.py", "apis/demo-shop.yaml", "chalicelib/__init__.py",
    "chalicelib/demo_shop.py", "chalicelib/tasks.py", ".chalice/config.json",
    "pym-config.yaml", "requirements.txt", "requirements-dev.txt", "pyproject.toml",
    ".gitignore", "tests/test_demo_shop.py", "tests/acceptance/test_demo_shop_acceptance.py",
} | {f"infra/beanstalk/{name}" for name in (
    "Dockerfile", "Dockerrun.aws.json", ".dockerignore",
    ".platform/nginx/conf.d/pym-body-size.conf", "README.md", "gunicorn.conf.py",
    "requirements.txt", "supervise.py", "image_check.py", "image-check.json")}


def test_new_creates_a_service_folder(tmp_path):
    result = CliRunner().invoke(new, ["demo-shop", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    service = tmp_path / "demo-shop"
    assert {str(p.relative_to(service)) for p in service.rglob("*") if p.is_file()} == GENERATED
    assert "cd " in result.output and "pym-lambda local" in result.output
    config = json.loads((service / ".chalice" / "config.json").read_text())
    assert config["app_name"] == "demo-shop" and set(config["stages"]) == {"dev", "prod"}
    dev = config["stages"]["dev"]["environment_variables"]
    assert dev["PYM_STAGE"] == "dev" and len(dev["JWT_SECRET"]) > 40
    assert "JWT_SECRET" not in config["stages"]["prod"]["environment_variables"]
    settings = yaml.safe_load((service / "pym-config.yaml").read_text())  # prod: from SSM
    assert settings["stages"]["prod"]["jwt"] == {"secret": {"ssm": "/demo-shop/prod/jwt-secret"}}
    assert settings["stages"]["dev"]["production"] is False
    assert "x-bind-server: chalicelib.demo_shop.create_greeting" in (
        service / "apis" / "demo-shop.yaml").read_text()
    # pym-lambda is on no package index: deploy copies it into the package (vendor/), so the
    # Lambda's requirements never ask pip for it; local development installs it
    requirements = (service / "requirements.txt").read_text().splitlines()
    assert not any(line.startswith("pym-lambda") for line in requirements)
    assert {"pyjwt>=2.15", "requests>=2.31", "pyyaml>=6"} <= set(requirements)
    assert "pym-lambda" in (service / "requirements-dev.txt").read_text().splitlines()
    assert "vendor/pym_lambda/" in (service / ".gitignore").read_text().splitlines()
    assert "{{" not in "".join(p.read_text() for p in service.rglob("*") if p.is_file())
    # the spec and every binding load
    check = subprocess.run([PYTHON, "-m", "pym_lambda.build.cli", "validate", "--project-dir",
                            str(service)], capture_output=True, text=True, timeout=120,
                           env=clean_env())
    assert check.returncode == 0, check.stdout + check.stderr
    # each service gets its own dev secret
    CliRunner().invoke(new, ["other", "--dir", str(tmp_path)])
    other = json.loads((tmp_path / "other" / ".chalice" / "config.json").read_text())
    assert other["stages"]["dev"]["environment_variables"]["JWT_SECRET"] != dev["JWT_SECRET"]


def test_new_refuses_an_existing_folder_and_bad_names(tmp_path):
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "mine.txt").write_text("keep me")
    result = CliRunner().invoke(new, ["demo", "--dir", str(tmp_path)])
    assert result.exit_code == 1 and "already exists" in result.output
    assert [p.name for p in (tmp_path / "demo").iterdir()] == ["mine.txt"]
    for bad in ("Demo", "2fast", "a_b", "tasks", "x" * 31, "x-", "import"):
        result = CliRunner().invoke(new, [bad, "--dir", str(tmp_path)])
        assert result.exit_code == 1, (bad, result.output)
        assert not (tmp_path / bad).exists()


def test_the_generated_service_passes_its_own_tests(tmp_path):
    subprocess.run(pym("new", "demo", "--dir", str(tmp_path)), check=True, timeout=60,
                   capture_output=True, env=clean_env())
    run = subprocess.run([PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                         cwd=tmp_path / "demo", capture_output=True, text=True, timeout=300,
                         env=clean_env())
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert re.search(r"\b8 passed\b", run.stdout), run.stdout[-2000:]


# --- pym-lambda local ------------------------------------------------------------------------

def copy_example(target: Path) -> Path:
    """The example service alone (chalice local's reloader watches the whole folder, and this
    repository is being edited while the tests run)."""
    ignore = shutil.ignore_patterns("__pycache__", "pym_compiled.json")
    for name in ("app.py", "pym-config.yaml"):
        shutil.copy(ROOT / name, target / name)
    for folder in ("apis", "chalicelib", ".chalice"):
        shutil.copytree(ROOT / folder, target / folder, ignore=ignore)
    shutil.rmtree(target / ".chalice" / "deployed", ignore_errors=True)
    return target


def test_local_runs_api_queues_and_worker_and_ctrl_c_stops_them_all(tmp_path):
    project = copy_example(tmp_path)
    port, moto_port = free_port(), free_port()
    stack = start(pym("local", "--port", str(port), "--moto-port", str(moto_port),
                      "--startup-timeout", "90"), project, clean_env())
    output = Output(stack)
    groups = {stack.pid}
    try:
        output.wait_for(r"\[local\] ready: ", timeout=120)
        groups |= {int(g) for g in re.findall(r"process group (\d+)", output.text())}
        assert len(groups) == 4, output.text()  # the command, moto, the API, the worker
        members = group_members(groups)  # with chalice's reloader child
        assert f"http://127.0.0.1:{port}" in output.text()
        assert "SQS pym-library-dev-default" in output.text()

        base = f"http://127.0.0.1:{port}"
        assert http("GET", base + "/ping") == (200, {})
        status, book = http("POST", base + "/v1/books",
                            {"title": "Dune", "authors": [{"name": "F. Herbert"}]})
        assert status == 201, book
        token = subprocess.run(pym_token_argv("librarian-7", project), capture_output=True,
                               text=True, check=True, timeout=60, env=clean_env()
                               ).stdout.strip()
        status, loan = http("POST", f"{base}/v1/books/{book['id']}/loans",
                            {"reader": "ann", "due": "2031-01-31"},
                            {"Authorization": f"Bearer {token}"})
        assert status == 201 and loan["lent_by"] == "librarian-7", loan
        # the task went to moto's SQS and the worker ran it
        output.wait_for(rf"\[worker\] .*receipt for loan {loan['id']} sent to ann", timeout=60)

        stack.send_signal(signal.SIGINT)
        assert stack.wait(timeout=60) == 0, output.text()[-3000:]
        output.wait_for(r"\[local\] stopped", timeout=5)
        assert [pid for pid in members if alive(pid)] == []
        assert group_members(groups) == set()
        assert port_is_free(port) and port_is_free(moto_port)
    finally:
        finish(stack, groups, output)


def test_local_runs_a_new_service_and_stops_everything_when_one_part_dies(tmp_path):
    """The README's first steps: new, cd, local, curl, a task runs; then the API crashes."""
    subprocess.run(pym("new", "demo"), cwd=tmp_path, check=True, timeout=60,
                   capture_output=True, env=clean_env())
    port = free_port()
    stack = start(pym("local", "--port", str(port), "--moto-port", str(free_port()),
                      "--no-reload"), tmp_path / "demo", clean_env())
    output = Output(stack)
    groups = {stack.pid}
    try:
        output.wait_for(r"\[local\] ready: ", timeout=120)
        groups |= {int(g) for g in re.findall(r"process group (\d+)", output.text())}
        status, greeting = http("POST", f"http://127.0.0.1:{port}/v1/greetings", {"name": "Ann"})
        assert (status, greeting["message"]) == (201, "Hello, Ann!")
        output.wait_for(r"\[worker\] .*greeting card for Ann sent", timeout=60)
        api = int(re.search(r"\[local\] api .*process group (\d+)", output.text()).group(1))
        os.killpg(api, signal.SIGKILL)
        assert stack.wait(timeout=60) == 1
        output.wait_for(r"\[local\] error: api exited with code -9", timeout=5)
        output.wait_for(r"\[local\] stopped", timeout=5)
        assert group_members(groups) == set()
    finally:
        finish(stack, groups, output)


def pym_token_argv(user: str, project: Path) -> List[str]:
    return [PYTHON, "-m", "pym_lambda.build.cli", "token", user, "--project-dir", str(project)]


def test_local_refuses_a_taken_port(tmp_path):
    project = copy_example(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = subprocess.run(pym("local", "--port", str(port), "--moto-port", str(free_port())),
                             cwd=project, capture_output=True, text=True, timeout=60,
                             env=clean_env())
    assert run.returncode == 1
    assert f"port {port} on 127.0.0.1 is in use" in run.stdout + run.stderr


# --- pym-lambda test --url -------------------------------------------------------------------

def test_acceptance_tests_run_against_a_url(tmp_path):
    project = copy_example(tmp_path)
    shutil.copytree(ROOT / "tests" / "acceptance", project / "tests" / "acceptance",
                    ignore=shutil.ignore_patterns("__pycache__"))
    port = free_port()
    chalice = start([str(Path(PYTHON).with_name("chalice")), "local", "--port", str(port),
                     "--no-autoreload"], project, clean_env())
    served = Output(chalice)
    try:
        wait_for("chalice local", lambda: answers(f"http://127.0.0.1:{port}/ping"), 90)
        run = subprocess.run(pym("test", "--url", f"http://127.0.0.1:{port}",
                                 "--token-user", "reader-1", "--project-dir", str(project),
                                 "--", "-p", "no:cacheprovider"),
                             capture_output=True, text=True, timeout=300, env=clean_env())
        assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
        assert f"against http://127.0.0.1:{port}" in run.stdout
        assert re.search(r"\b6 passed\b", run.stdout), run.stdout[-2000:]
        # the requests did reach the server
        served.wait_for(r"POST /v1/books/\d+/loans 201", timeout=5)
    finally:
        finish(chalice, [chalice.pid], served)


def test_acceptance_tests_run_in_process_without_a_url(tmp_path):
    project = copy_example(tmp_path)
    shutil.copytree(ROOT / "tests" / "acceptance", project / "tests" / "acceptance",
                    ignore=shutil.ignore_patterns("__pycache__"))
    run = subprocess.run(pym("test", "--project-dir", str(project), "--", "-p",
                             "no:cacheprovider"),
                         capture_output=True, text=True, timeout=300, env=clean_env())
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "in-process" in run.stdout and re.search(r"\b6 passed\b", run.stdout)


def test_test_refuses_an_unreachable_url():
    result = CliRunner().invoke(acceptance_test, [
        "--url", f"http://127.0.0.1:{free_port()}", "--project-dir", str(ROOT)])
    assert result.exit_code == 1 and "cannot reach" in result.output


def test_validate_prints_every_warning_and_passes(tmp_path):
    from pym_lambda.build.cli import validate
    from tests.conftest import make_project
    from tests.runtime.test_router import DUPLICATES, K8S, OK, spec

    many = "".join(f"  /x{i}?a=b:\n    get: {{operationId: op{i}, {OK}}}\n" for i in range(25))
    cwd = spec(f"  /cwd:\n    get: {{operationId: os.getcwd, {OK}}}\n")
    project = make_project(tmp_path, {**DUPLICATES, "k8s": K8S % "proxy", "many": spec(many),
                                      "cwd": cwd})
    result = CliRunner().invoke(validate, ["--project-dir", str(project)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    warned = [line for line in lines if line.startswith("warning: ")]
    assert any("apis/b.yaml: GET /things/{thing}: operation fetchThing: duplicate route" in w
               for w in warned)
    assert sum("cannot be routed" in w for w in warned) == 25 + 3  # none capped here
    assert sum("passed as 'path_query'" in w for w in warned) == 2
    assert any("operationId 'os.getcwd' is the standard library" in w for w in warned)
    # an unservable operation is named once, with why, not again as "bound to no function"
    assert not any("searchPlaces" in w and "bound to no function" in w for w in warned)
    assert lines[-1].startswith("ok: 5 spec(s)")
