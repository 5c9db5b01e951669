"""`pym-lambda local`: the whole service on this machine, started and stopped by one command.

- a moto server on 127.0.0.1 (the local AWS, build/local_aws.py), with the task queues
  created as deploy creates them (`ensure_queues(queue_definitions(...))`) but with a short
  visibility timeout (--visibility-timeout, 10 s: a failed task is retried within seconds,
  not 6 minutes); its SQS state (queues, messages, dead letters) is saved in
  .pym-local/sqs-state.pickle when it stops and restored at the next start (--fresh: not);
- `chalice local` serving the API, with tasks sent to that SQS (PYM_TASKS_INLINE=0 beats the
  dev stage's `tasks.inline: true`);
- the local task worker (`pym-lambda worker`), polling those queues and calling the app's
  worker handlers as Lambda would.

Each runs in its own process group, and stopping kills whole groups: `chalice local` leaves a
child holding the port when only its parent is killed. Ctrl-C, SIGTERM or SIGHUP stop them all;
if one of them dies, the others are stopped too.
"""
from __future__ import annotations

import logging
import os
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Dict, List, Optional, Tuple

import click

from .command_line import check_stage, debug_option, problems_as_lines, project_root
from .local_aws import ENDPOINT_FILE, STATE_DIR, state_path, write_endpoint
from .stage_environment import stage_environment

HOST = "127.0.0.1"  # never another interface: the local service has fake credentials and no auth
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
STOP_TIMEOUT_SECONDS = 8.0
# werkzeug's access lines from the moto server: one per SQS poll, noise unless --verbose.
_ACCESS_LINE = re.compile(r'^\S+ - - \[[^\]]*\] "')


class LocalServiceError(click.ClickException):
    """The local service can't start (a port taken, the app failing to import, a child dying)."""


@dataclass
class Child:
    label: str
    process: subprocess.Popen[str]
    relay: Optional[threading.Thread] = None

    @property
    def pgid(self) -> int:
        return self.process.pid  # started with start_new_session: it leads its own group


@dataclass
class LocalService:
    root: Path
    port: int = 8000
    moto_port: int = 5000
    stage: str = "dev"
    region: str = "us-east-1"
    reload: bool = True
    verbose: bool = False
    startup_timeout: float = 60.0
    visibility_timeout: int = 10
    fresh: bool = False
    children: List[Child] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    _print_lock: threading.Lock = field(default_factory=threading.Lock)

    # --- output ---------------------------------------------------------------------------

    def say(self, text: str) -> None:
        with self._print_lock:
            click.echo(text)
            sys.stdout.flush()

    def _relay(self, label: str, stream: IO[str], quiet_access_log: bool) -> None:
        for line in stream:
            if quiet_access_log and _ACCESS_LINE.match(line):
                continue
            self.say(f"[{label}] {line.rstrip()}")

    # --- processes ------------------------------------------------------------------------

    def environment(self) -> Dict[str, str]:
        environ = stage_environment(self.root, self.stage)
        for name in list(environ):
            if name.startswith("AWS_ENDPOINT_URL") or name in (
                    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
                del environ[name]  # never real AWS from here
        environ.update({
            "AWS_ENDPOINT_URL": f"http://{HOST}:{self.moto_port}",
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": self.region, "AWS_REGION": self.region,
            "PYM_STAGE": self.stage, "PYM_TASKS_INLINE": "0", "PYTHONUNBUFFERED": "1",
        })
        return environ

    def spawn(self, label: str, command: List[str], env: Dict[str, str],
              quiet_access_log: bool = False) -> Child:
        process = subprocess.Popen(
            command, cwd=self.root, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, bufsize=1, start_new_session=True)
        child = Child(label, process)
        self.children.append(child)
        assert process.stdout is not None
        child.relay = threading.Thread(target=self._relay, name=f"relay-{label}", daemon=True,
                                       args=(label, process.stdout, quiet_access_log))
        child.relay.start()
        return child

    def check_children(self) -> None:
        for child in self.children:
            code = child.process.poll()
            if code is not None:
                raise LocalServiceError(f"{child.label} exited with code {code}: "
                                        "stopping everything")

    def wait_until(self, what: str, ready: Any) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while not ready():
            self.check_children()
            if self.stop.is_set():
                raise LocalServiceError(f"interrupted while waiting for {what}")
            if time.monotonic() > deadline:
                raise LocalServiceError(f"{what} not ready after {self.startup_timeout:.0f} s")
            time.sleep(0.1)

    def shutdown(self) -> None:
        """SIGTERM to the API and worker groups, then to moto's (the worker's last poll needs
        it); SIGKILL to any group left after the timeout."""
        moto, others = self.children[:1], self.children[1:]  # moto is started first
        for wave in (others, moto):
            for child in wave:
                _signal_group(child.pgid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
            for child in wave:
                if not _wait_group(child, deadline):
                    self.say(f"[local] {child.label} ignored SIGTERM: killing its process group")
                    _signal_group(child.pgid, signal.SIGKILL)
                    _wait_group(child, time.monotonic() + 2)
        for child in self.children:
            if child.relay is not None:
                child.relay.join(timeout=1)

    # --- the sequence ---------------------------------------------------------------------

    def run(self) -> int:
        for port, option in ((self.port, "--port"), (self.moto_port, "--moto-port")):
            if not _port_is_free(port):
                raise LocalServiceError(f"port {port} on {HOST} is in use: choose another "
                                        f"with {option}")
        previous = {s: signal.signal(s, lambda *_: self.stop.set()) for s in STOP_SIGNALS}
        try:
            return self._start_and_watch()
        except LocalServiceError as exc:
            self.say(f"[local] error: {exc.message}")
            return 1
        finally:
            (self.root / STATE_DIR / ENDPOINT_FILE).unlink(missing_ok=True)
            if self.children:
                self.say("[local] stopping: " + ", ".join(c.label for c in self.children))
                self.shutdown()
                self.say("[local] stopped")
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _start_and_watch(self) -> int:
        import importlib.util

        if not all(importlib.util.find_spec(m) for m in ("moto", "flask", "flask_cors")):
            raise LocalServiceError("the local AWS needs moto's server: pip install 'moto[server]'")
        env = self.environment()
        state = state_path(self.root)
        if self.fresh and state.is_file():
            state.unlink()
            self.say(f"[local] --fresh: deleted {state.relative_to(self.root)}")
        moto = self.spawn("moto", [sys.executable, "-m", "pym_lambda.build.local_aws",
                                   "--host", HOST, "--port", str(self.moto_port),
                                   "--state", str(state)], env,
                          quiet_access_log=not self.verbose)
        module = _import_app(self.root, env)  # while moto starts; fails early on a bad spec
        self.wait_until("the moto server", lambda: _port_accepts(self.moto_port))
        self.say(f"[local] aws (moto)   http://{HOST}:{self.moto_port}   "
                 f"(pid {moto.process.pid}, process group {moto.pgid})")
        write_endpoint(self.root, f"http://{HOST}:{self.moto_port}", self.region, self.stage)
        queues = _create_queues(module, self.visibility_timeout)
        for queue, name, dlq in queues:
            self.say(f"[local] task queue   {queue}: SQS {name} (dead letters: {dlq}; "
                     f"visibility timeout {self.visibility_timeout} s)")
        table = create_idempotency_table(module, self.root, self.stage)
        if table:
            self.say(f"[local] idempotency  DynamoDB table {table}")
        api = self.spawn("api", [_chalice_script(), "local", "--host", HOST,
                                 "--port", str(self.port), "--stage", self.stage]
                         + ([] if self.reload else ["--no-autoreload"]), env)
        if queues:
            worker = self.spawn("worker", [sys.executable, "-m", "pym_lambda.build.cli", "worker",
                                           "--app", "app", "--stage", self.stage,
                                           "--wait-seconds", "1"], env)
            self.say(f"[local] task worker  polling {', '.join(q for q, _, _ in queues)}   "
                     f"(pid {worker.process.pid}, process group {worker.pgid})")
        else:
            self.say("[local] task worker  none: the app has no @async_task")
        url = f"http://{HOST}:{self.port}"
        self.wait_until(f"the API at {url}", lambda: _answers(url + "/ping"))
        self.say(f"[local] api          {url}   (pid {api.process.pid}, process group "
                 f"{api.pgid}{', reloads on code changes' if self.reload else ''})")
        self.say(f"[local] ready: curl {url}/ping | a JWT: pym-lambda token USER | "
                 f"queues: aws --endpoint-url http://{HOST}:{self.moto_port} sqs list-queues")
        if queues:
            self.say("[local] dead letters: pym-lambda tasks list|dlq|redrive --local "
                     "(kept across restarts)")
        self.say("[local] Ctrl-C stops everything"
                 + (" (the worker does not reload: restart after changing tasks)"
                    if queues and self.reload else ""))
        while not self.stop.wait(0.2):
            self.check_children()
        return 0


# --- helpers ---------------------------------------------------------------------------------

def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the servers do: a connection in TIME_WAIT does not make the port busy.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _port_accepts(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - local URL
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _chalice_script() -> str:
    # The script itself, not `python -c`: chalice's reloader re-runs sys.argv as a command.
    sibling = Path(sys.executable).with_name("chalice")
    found = str(sibling) if sibling.is_file() else shutil.which("chalice")
    if not found:
        raise LocalServiceError("the chalice command is not installed (pip install chalice)")
    return found


def _import_app(root: Path, env: Dict[str, str]) -> Any:
    """The app module, imported here with the local service's environment: its task queues are what
    its @async_task functions declare."""
    import importlib

    from ..errors import SpecErrors

    if not (root / "app.py").is_file():
        raise LocalServiceError(f"no app.py in {root}: run it in a service folder or use "
                                "--project-dir")
    os.environ.update(env)
    logging.getLogger("botocore").setLevel(logging.WARNING)  # its INFO lines say nothing here
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    try:
        return importlib.import_module("app")
    except SpecErrors as exc:
        raise LocalServiceError("the app does not load:\n" + "\n".join(str(e) for e in exc.errors)
                         ) from None
    except Exception as exc:
        raise LocalServiceError(f"the app does not load: {type(exc).__name__}: {exc}") from None


def _create_queues(module: Any, visibility_timeout: int) -> List[Tuple[str, str, str]]:
    """Create the app's task queues in moto as deploy does, with a local visibility timeout
    (queues restored from a previous run are updated to it); [(queue, name, dlq name)]."""
    from ..aws import aws_client, reset_aws_clients
    from ..tasks.poller import find_task_handlers
    from .tasks.queues import ensure_queues, queue_definitions

    try:
        queues = sorted(find_task_handlers(module))
    except ValueError:
        return []
    reset_aws_clients()  # made for the environment as it now is
    definitions = queue_definitions(queues, visibility_timeout=visibility_timeout)
    deadline = time.monotonic() + 30
    while True:  # moto accepts connections a little before it answers
        try:
            ensure_queues(definitions, aws_client("sqs"))
            break
        except Exception as exc:
            if time.monotonic() > deadline:
                raise LocalServiceError(f"cannot create the task queues in moto: {exc}") from None
            time.sleep(0.2)
    return [(d.queue, d.name, d.dlq_name) for d in definitions]


def create_idempotency_table(module: Any, root: Path, stage: str) -> Optional[str]:
    """The idempotency table in moto, as deploy makes it, when a task or an operation of the
    app is idempotent; its name, else None."""
    from ..aws import aws_client
    from ..config.environment import runtime_environment
    from ..runtime.app import load_compiled
    from ..tasks.task_settings import service_task_settings
    from .deploy.idempotency_table import ensure_table, idempotent_things, table_definition

    app = getattr(module, "app", None)
    compiled = load_compiled(str(root))  # the app's, compiled once already: reused
    service = getattr(app, "pym_service", None)
    # the name the runtime will use: the app's task settings' (PYM_APP_NAME), else Chalice's
    name = (service_task_settings(service).app_name if service is not None else None) or str(
        getattr(app, "app_name", "app"))
    definition = table_definition(idempotent_things(app, compiled), name, stage,
                                  runtime_environment().idempotency_table)
    if definition is None:
        return None
    ensure_table(definition, aws_client("dynamodb"))
    return definition.name


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _group_alive(pgid: int) -> bool:
    """Whether a live (not zombie) process is still in the group."""
    proc = Path("/proc")
    if not proc.is_dir():  # not Linux: ask the kernel (zombies count, but get reaped)
        try:
            os.killpg(pgid, 0)
            return True
        except (ProcessLookupError, PermissionError):
            return False
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


def _wait_group(child: Child, deadline: float) -> bool:
    while time.monotonic() < deadline:
        child.process.poll()  # reap the leader, or it stays a zombie
        if not _group_alive(child.pgid):
            return True
        time.sleep(0.05)
    return False


@click.command("local")
@click.option("--port", default=8000, show_default=True, help="Port of the API.")
@click.option("--moto-port", default=5000, show_default=True,
              help="Port of the moto server (the local AWS: SQS).")
@click.option("--stage", default="dev", show_default=True,
              help="The Chalice stage (its environment variables and pym-config section).")
@click.option("--region", default="us-east-1", show_default=True, help="The fake AWS region.")
@click.option("--reload/--no-reload", default=True, show_default=True,
              help="Restart the API when the code changes (chalice local's autoreload).")
@click.option("--visibility-timeout", type=click.IntRange(0, 43_200), default=10,
              show_default=True, envvar="PYM_LOCAL_VISIBILITY_TIMEOUT",
              help="Seconds before a failed or unfinished task is delivered again (the task "
                   "queues' VisibilityTimeout; deploy sets 6x the worker's timeout).")
@click.option("--fresh", is_flag=True,
              help="Start with empty queues: forget the state saved by the last run.")
@click.option("--verbose", is_flag=True, help="Also show the moto server's request log.")
@click.option("--startup-timeout", type=float, default=60.0, show_default=True,
              help="Seconds to wait for each part to answer.")
@click.option("--project-dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              default=None, help="The service folder (default: the current folder).")
@debug_option
@problems_as_lines
def local(port: int, moto_port: int, stage: str, region: str, reload: bool,
          visibility_timeout: int, fresh: bool, verbose: bool, startup_timeout: float,
          project_dir: Optional[Path]) -> None:
    """Run the service locally: a moto server with the task queues, `chalice local` and the
    task worker, each in its own process group; Ctrl-C stops them all."""
    root = project_root(project_dir)
    check_stage(root, stage)
    click.echo(f"[local] {root.name} (stage {stage}) in {root}")
    service = LocalService(root, port=port, moto_port=moto_port, stage=stage, region=region,
                           reload=reload, verbose=verbose, startup_timeout=startup_timeout,
                           visibility_timeout=visibility_timeout, fresh=fresh)
    sys.exit(service.run())
