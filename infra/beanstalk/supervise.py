"""Container entrypoint: the web server and, optionally, the SQS task worker, as one unit.

    python supervise.py gunicorn --config ... pym_lambda.wsgi:application

Runs its arguments (the web server). With PYM_TASK_WORKER=1 it also runs the task worker:
PYM_TASK_WORKER_CMD if set, else `python -m pym_lambda.tasks.local_worker` when that module
exists and can run as a script (else a warning, and the web server runs alone).

SIGTERM/SIGINT are forwarded to both. When either exits, the other is stopped and the
container exits with the first one's code: half a service is not healthy, and Beanstalk
restarts a stopped container. A process is sent one stop signal only: the task worker takes a
second one as "interrupt the batch in hand now", so one that is already finishing is left to
finish (until PYM_STOP_TIMEOUT, then SIGKILL). As PID 1 it also reaps orphaned processes.

Standard library only, and it never imports pym_lambda: it must start even if the app cannot.
"""
from __future__ import annotations

import importlib.util
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Set

WORKER_MODULE = "pym_lambda.tasks.local_worker"
STOP_TIMEOUT = float(os.environ.get("PYM_STOP_TIMEOUT", "9"))  # under docker stop's 10 s
POLL_SECONDS = 0.1


def say(message: str) -> None:
    print(f"supervise: {message}", file=sys.stderr, flush=True)


def module_runs_as_script(name: str) -> bool:
    """The module's file exists and has a __main__ block, found without importing anything."""
    top, _, rest = name.partition(".")
    spec = importlib.util.find_spec(top)  # a top-level lookup imports nothing
    if spec is None or not spec.submodule_search_locations:
        return False
    for location in spec.submodule_search_locations:
        path = Path(location, *rest.split(".")).with_suffix(".py")
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            return "__name__ == \"__main__\"" in text or "__name__ == '__main__'" in text
    return False


def worker_command() -> Optional[List[str]]:
    if os.environ.get("PYM_TASK_WORKER", "").strip().lower() not in ("1", "true", "yes"):
        return None
    custom = os.environ.get("PYM_TASK_WORKER_CMD", "").strip()
    if custom:
        return shlex.split(custom)
    if module_runs_as_script(WORKER_MODULE):
        return [sys.executable, "-m", WORKER_MODULE]
    say(f"PYM_TASK_WORKER=1 but {WORKER_MODULE} cannot run as a script: no task worker")
    return None


class Supervisor:
    def __init__(self, commands: Dict[str, List[str]]) -> None:
        self.children: Dict[int, str] = {}
        self.running: Dict[str, subprocess.Popen[bytes]] = {}
        self.stopping: Set[str] = set()  # sent SIGTERM or SIGINT already
        for name, command in commands.items():
            process = subprocess.Popen(command)
            self.children[process.pid] = name
            self.running[name] = process
            say(f"started {name} (pid {process.pid}): {shlex.join(command)}")

    def signal_all(self, signum: int) -> None:
        for name, process in self.running.items():
            try:
                process.send_signal(signum)
            except ProcessLookupError:
                pass
            if signum in (signal.SIGTERM, signal.SIGINT):
                self.stopping.add(name)

    def reap(self) -> Optional[tuple[str, int]]:
        """Collect exited processes (orphans too); (name, exit code) of a child that exited."""
        exited: List[tuple[str, int]] = []
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            if pid in self.children:
                exited.append((self.children[pid], os.waitstatus_to_exitcode(status)))
        # Popen.send_signal() polls, and may have collected a child before we did.
        exited += [(name, process.returncode) for name, process in self.running.items()
                   if process.returncode is not None]
        for name, code in exited:
            self.running.pop(name, None)
            say(f"{name} exited with code {code}")
        if not exited:
            return None
        name, code = exited[0]
        return name, 128 - code if code < 0 else code  # killed by signal N: 128 + N

    def wait_first_exit(self) -> int:
        while True:
            exited = self.reap()
            if exited:
                return exited[1]
            time.sleep(POLL_SECONDS)

    def stop_others(self) -> None:
        for name, process in self.running.items():
            if name not in self.stopping:  # a second signal would interrupt its shutdown
                self.stopping.add(name)
                try:
                    process.send_signal(signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + STOP_TIMEOUT
        while self.running and time.monotonic() < deadline:
            self.reap()
            time.sleep(POLL_SECONDS)
        if self.running:
            say(f"still running after {STOP_TIMEOUT:g} s, killing: {', '.join(self.running)}")
            self.signal_all(signal.SIGKILL)
            while self.running:
                self.reap()
                time.sleep(POLL_SECONDS)


def main(argv: List[str]) -> int:
    if not argv:
        say("usage: supervise.py WEB-SERVER-COMMAND [ARGS...]")
        return 2
    commands = {"web": argv}
    worker = worker_command()
    if worker:
        commands["task worker"] = worker
    supervisor = Supervisor(commands)
    # Forward, don't act: each child shuts down its own way (gunicorn drains its requests,
    # the worker finishes its batch; a second signal interrupts it).
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda received, _frame: supervisor.signal_all(received))
    code = supervisor.wait_first_exit()
    supervisor.stop_others()
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
