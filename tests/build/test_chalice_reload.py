"""`chalice local` on a fresh `pym-lambda new` service: its reloader does not restart the server
on the build outputs the first run writes (chalicelib/pym_*, __pycache__), nor watch a
virtualenv inside the project, and still restarts on a change of the service's code."""
from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path
from typing import List

from pym_lambda.build.reload_watch import ignored, watched_files
from tests.build.test_cli import PYTHON, clean_env, free_port, http, kill_groups, pym, wait_for

COUNTER_SPEC = """
  /counter:
    get:
      operationId: readCounter
      x-bind-server: chalicelib.counter.read
      responses:
        '200': {description: the count, content: {application/json: {schema: {type: integer}}}}
    post:
      operationId: bumpCounter
      x-bind-server: chalicelib.counter.bump
      responses:
        '200': {description: the count, content: {application/json: {schema: {type: integer}}}}
"""
COUNTER_CODE = '''"""In-memory state: lost if the server restarts."""
COUNT = [0]


def read():
    return COUNT[0]


def bump():
    COUNT[0] += 1
    return COUNT[0]
'''


def new_service(tmp_path: Path) -> Path:
    subprocess.run(pym("new", "shop", "--dir", str(tmp_path), "--no-beanstalk"), check=True,
                   env=clean_env(), capture_output=True, timeout=120)
    service = tmp_path / "shop"
    spec = service / "apis" / "shop.yaml"
    spec.write_text(spec.read_text().replace("paths:\n", "paths:" + COUNTER_SPEC, 1))
    (service / "chalicelib" / "counter.py").write_text(COUNTER_CODE)
    return service


def chalice_local(service: Path, port: int, lines: List[str]) -> subprocess.Popen[str]:
    chalice = str(Path(PYTHON).with_name("chalice"))
    process = subprocess.Popen([chalice, "local", "--port", str(port)], cwd=service,
                               env=clean_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    assert process.stdout is not None
    stream = process.stdout
    threading.Thread(target=lambda: lines.extend(stream), daemon=True).start()
    return process


def status_and_body(method: str, url: str) -> object:
    try:
        return http(method, url)
    except OSError:  # not listening (yet, or while restarting)
        return None


def restarts(lines: List[str]) -> int:
    return sum("Restarting local dev server" in line for line in lines)


def test_first_run_keeps_its_memory_and_code_changes_still_reload(tmp_path: Path) -> None:
    service = new_service(tmp_path)
    assert not list((service / "chalicelib").glob("pym_*"))  # a clean tree: built at start
    port, lines = free_port(), []  # type: ignore[var-annotated]
    process = chalice_local(service, port, lines)
    url = f"http://127.0.0.1:{port}/v1/counter"
    try:
        wait_for("chalice local", lambda: status_and_body("GET", url) is not None, 90)
        assert http("POST", url) == (200, 1)
        assert (service / "chalicelib" / "pym_compiled.json").is_file()
        time.sleep(4)  # the watcher polls every second
        assert http("GET", url) == (200, 1), "".join(lines)
        assert restarts(lines) == 0, "".join(lines)

        # the service's own code still reloads
        code = service / "chalicelib" / "counter.py"
        code.write_text(code.read_text() + "\n# changed\n")
        wait_for("a restart", lambda: restarts(lines) == 1, 30)
        wait_for("the new server", lambda: status_and_body("GET", url) == (200, 0), 90)
    finally:
        kill_groups([process.pid])
        process.wait(timeout=10)
        time.sleep(0.2)  # the reader reaches the end of the output
        assert process.stdout is not None
        process.stdout.close()


def test_the_watcher_skips_virtualenvs_caches_and_build_outputs(tmp_path: Path) -> None:
    for name in ("app.py", "chalicelib/shop.py", "apis/shop.yaml", ".chalice/config.json",
                 ".venv/lib/site.py", "env/pyvenv.cfg", "env/lib/x.py", ".git/HEAD",
                 "chalicelib/__pycache__/shop.cpython-312.pyc", "chalicelib/pym_compiled.json",
                 "chalicelib/pym_apis/shop.yaml", "chalicelib/pym_compiled.1.tmp",
                 "tests/.external/pkg.tar.gz", ".chalice/deployments/x.zip",
                 ".pym-local/sqs-state.pickle"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    found = sorted(os.path.relpath(p, tmp_path) for p in watched_files(str(tmp_path)))
    assert found == [".chalice/config.json", "apis/shop.yaml", "app.py", "chalicelib/shop.py"]
    # the same rule path by path (watchdog's events, when chalice uses it)
    every = sorted(os.path.relpath(os.path.join(d, f), tmp_path)
                   for d, _, files in os.walk(tmp_path) for f in files)
    assert [p for p in every if not ignored(str(tmp_path), str(tmp_path / p))] == found


def test_unchanged_outputs_keep_their_mtime(tmp_path: Path) -> None:
    """A second build of the same specs writes nothing: nothing watching the tree sees it."""
    service = new_service(tmp_path)
    env = clean_env()
    subprocess.run(pym("build", "--project-dir", str(service)), env=env, check=True,
                   capture_output=True, timeout=120)
    outputs = sorted(p for p in (service / "chalicelib").rglob("pym_*") if p.is_file())
    assert len(outputs) >= 3
    before = {p: p.stat().st_mtime_ns for p in outputs}
    time.sleep(0.05)
    subprocess.run(pym("build", "--project-dir", str(service)), env=env, check=True,
                   capture_output=True, timeout=120)
    assert {p: p.stat().st_mtime_ns for p in outputs} == before

