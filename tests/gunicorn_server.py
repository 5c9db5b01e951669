"""gunicorn serving pym_lambda.wsgi:application on 127.0.0.1 in its own process group, for the
WSGI tests and the load tests: started, waited for (/ping), and killed with its workers."""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, Iterator, List

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def running_gunicorn(options: List[str], port: int, env: Dict[str, str], log_path: Path,
                     ping: Callable[[int], int], timeout: float = 30) -> Iterator[None]:
    command = [sys.executable, "-m", "gunicorn", *options, "--bind", f"127.0.0.1:{port}",
               "pym_lambda.wsgi:application"]
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log_file,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            assert process.poll() is None, f"gunicorn exited:\n{log_path.read_text()}"
            assert time.monotonic() < deadline, f"no /ping in {timeout} s:\n{log_path.read_text()}"
            try:
                if ping(port) == 200:
                    break
            except OSError:
                time.sleep(0.1)
        yield
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # the whole group: master and workers
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
