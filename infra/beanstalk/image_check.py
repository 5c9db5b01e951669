"""Build the Beanstalk image and run it: the proof that infra/beanstalk/ works.

    sudo .venv/bin/python infra/beanstalk/image_check.py [--project-dir .] [--stage prod]

(or `python -m infra.beanstalk.image_check` from the project root). Linux, as root, with
pym-lambda and moto installed (`pip install -e ".[dev]"`). No Docker engine is needed:

1. tools: podman and debootstrap, installed with apt-get when missing.
2. base: the Dockerfile's own base (python:3.11.14-slim-bookworm) when podman has it or can
   pull it; otherwise a stand-in of the same Debian release, built once and cached by podman
   (`localhost/pym-lambda-base:bookworm-python3.11-<recipe>`): debootstrap of bookworm with its
   Python 3.11 and pip, PIP_BREAK_SYSTEM_PACKAGES=1 (Debian's Python is externally managed),
   trusting the CAs this machine added (an egress proxy's, say).
3. bundle: the source bundle exactly as `deploy --target beanstalk` makes it (the build, then
   beanstalk_target.bundle_files), from a copy of the project (nothing is written into it).
4. image: `podman build --isolation=chroot --build-arg BASE_IMAGE=...` of the bundle's
   Dockerfile, as Beanstalk's Docker platform builds it from the bundle's root.
5. run: a moto server on 127.0.0.1 with the stage's queues, created as deploy creates them,
   and the SSM parameters / Secrets Manager secrets it reads (throwaway values); the
   image's filesystem (a podman container's mount: `podman run` needs cgroups this sandbox
   refuses) with /proc, a minimal /dev and a /dev/shm tmpfs, entered by chroot as the image's
   USER, in its WORKDIR, with its ENV plus the environment properties deploy gives the
   Beanstalk environment and the moto endpoint, running its ENTRYPOINT and CMD. The one
   change: there is no network namespace, so gunicorn's `--bind 0.0.0.0:8080` becomes a free
   port on 127.0.0.1 (what `docker run -p` would map).
6. checks: GET /ping and /version; the image's HEALTHCHECK command; then a task through SQS:
   the requests of infra/beanstalk/image-check.json (the example: add a book, lend it with a
   JWT from `pym-lambda token`), whose task the container's worker (PYM_TASK_WORKER=1) must
   run (its log line) and delete (the queue empty, nothing in flight, nothing in the DLQ).
7. stop and clean up: SIGTERM to the entrypoint (its exit code and how long it took), every
   process of the run killed, every mount undone, the container removed. The image stays,
   tagged with the bundle's hash (`--remove-image` removes it); older ones of the app go.

Each step is timed; `--json FILE` writes the timings and results. Exit status: 0 all passed,
1 a check failed, 77 this machine cannot run it (not Linux, not root, no podman).
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import io
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

PRODUCTION_BASE = "docker.io/library/python:3.11.14-slim-bookworm"
SUITE = "bookworm"
STAND_IN_PACKAGES = ("python3", "python3-pip", "python-is-python3", "ca-certificates")
STAND_IN_ENV = ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "LANG=C.UTF-8", "PIP_BREAK_SYSTEM_PACKAGES=1")
STAND_IN_REPO = "localhost/pym-lambda-base"
CHECK_REPO = "localhost/pym-lambda-check"
LOCAL_CAS = Path("/usr/local/share/ca-certificates")
PROBE_FILE = Path("infra") / "beanstalk" / "image-check.json"
COPIED = ("app.py", "pym-config.yaml", "requirements.txt", "apis", "chalicelib", ".chalice",
          "infra")
IGNORED = ("__pycache__", "*.pyc", "pym_compiled.json", "pym_validators.bin", "pym_apis",
           "deployed", "deployments", "venv", ".mypy_cache")
DEV_NODES = ("null", "zero", "full", "random", "urandom", "tty")
SKIP = 77  # the exit status of "cannot run here", as automake's test drivers use it


class CheckFailed(Exception):
    pass


class CannotRun(Exception):
    pass


def say(message: str) -> None:
    print(f"image-check: {message}", flush=True)


def run(command: List[str], *, timeout: float = 900, quiet: bool = False,
        **kwargs: Any) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)
    if result.returncode != 0 and not quiet:
        raise CheckFailed(f"{' '.join(command[:4])}... exited with {result.returncode}:\n"
                          + (result.stdout[-3000:] + result.stderr[-3000:]).strip())
    return result


@dataclass
class Report:
    timings: Dict[str, float] = field(default_factory=dict)
    facts: Dict[str, Any] = field(default_factory=dict)

    @contextlib.contextmanager
    def timed(self, name: str) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        finally:
            self.timings[name] = round(time.monotonic() - start, 2)
            say(f"{name}: {self.timings[name]:.2f} s")


# --- 1. tools -------------------------------------------------------------------------------

def ensure_tools(tools: Tuple[str, ...]) -> None:
    if not sys.platform.startswith("linux"):
        raise CannotRun("needs Linux (podman, chroot and mounts)")
    if os.geteuid() != 0:
        raise CannotRun("needs root (podman storage, mounts and chroot)")
    missing = [t for t in tools if shutil.which(t) is None]
    if not missing:
        return
    if shutil.which("apt-get") is None:
        raise CannotRun(f"{', '.join(missing)} missing and no apt-get to install them")
    say(f"installing {', '.join(missing)} with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-qq"], env=env)
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], env=env)


# --- 2. base image --------------------------------------------------------------------------

def image_exists(name: str) -> bool:
    return run(["podman", "image", "exists", name], quiet=True).returncode == 0


def stand_in_tag(mirror: str) -> str:
    recipe = hashlib.sha256()
    for part in (SUITE, mirror, *STAND_IN_PACKAGES, *STAND_IN_ENV):
        recipe.update(part.encode() + b"\0")
    for ca in sorted(LOCAL_CAS.glob("*.crt")) if LOCAL_CAS.is_dir() else []:
        recipe.update(ca.read_bytes())
    return f"{STAND_IN_REPO}:{SUITE}-python3.11-{recipe.hexdigest()[:12]}"


def build_stand_in(tag: str, mirror: str, work: Path) -> None:
    """Debian bookworm with its Python 3.11 and pip, imported as an image."""
    root = work / "rootfs"
    run(["debootstrap", "--variant=minbase", f"--include={','.join(STAND_IN_PACKAGES)}",
         SUITE, str(root), mirror], timeout=1800)
    cas = sorted(LOCAL_CAS.glob("*.crt")) if LOCAL_CAS.is_dir() else []
    if cas:  # pip in the build must trust what this machine trusts
        for ca in cas:
            shutil.copy(ca, root / "usr/local/share/ca-certificates" / ca.name)
        run(["chroot", str(root), "update-ca-certificates"])
    run(["chroot", str(root), "apt-get", "clean"])
    shutil.rmtree(root / "var/lib/apt/lists", ignore_errors=True)
    changes = [f"--change=ENV {item}" for item in STAND_IN_ENV] + ['--change=CMD ["python3"]']
    tar = subprocess.Popen(["tar", "-C", str(root), "--numeric-owner", "-c", "."],
                           stdout=subprocess.PIPE)
    imported = subprocess.run(["podman", "import", *changes, "-", tag], stdin=tar.stdout,
                              capture_output=True, text=True, timeout=600)
    assert tar.stdout is not None
    tar.stdout.close()
    if tar.wait() != 0 or imported.returncode != 0:
        raise CheckFailed(f"podman import of the stand-in failed: {imported.stderr[-2000:]}")


def base_image(args: argparse.Namespace, work: Path, report: Report) -> str:
    if args.base_image:
        return str(args.base_image)
    if image_exists(PRODUCTION_BASE):
        report.facts["base"] = "production (local)"
        return PRODUCTION_BASE
    if args.base != "stand-in":
        pulled = run(["podman", "pull", "-q", PRODUCTION_BASE], quiet=True, timeout=300)
        if pulled.returncode == 0:
            report.facts["base"] = "production (pulled)"
            return PRODUCTION_BASE
        say(f"cannot pull {PRODUCTION_BASE} ({pulled.stderr.strip().splitlines()[-1:]}): "
            "a local stand-in of the same Debian release instead")
        if args.base == "pull":
            raise CheckFailed(f"cannot pull {PRODUCTION_BASE}")
    tag = stand_in_tag(args.mirror)
    report.facts["base"] = tag
    if image_exists(tag) and not (args.rebuild_base or args.fresh):
        report.facts["base_cached"] = True
        say(f"base: {tag} (cached)")
        return tag
    report.facts["base_cached"] = False
    if image_exists(tag):  # rebuilding: the old one goes, unless an image still uses it
        run(["podman", "rmi", tag], quiet=True)
    say(f"base: building {tag} (debootstrap {SUITE} from {args.mirror})")
    build_stand_in(tag, args.mirror, work)
    return tag


# --- 3. bundle ------------------------------------------------------------------------------

@dataclass
class Bundle:
    directory: Path
    sha256: str
    app_name: str
    stage: str
    variables: Dict[str, str]
    queues: List[Any]  # QueueDefinition
    access: Any = None  # the StageAccess the instance profile's inline policy is made from


def make_bundle(project: Path, stage: str, work: Path, region: str) -> Bundle:
    """The bundle `deploy --target beanstalk` uploads, from a copy of the project."""
    from pym_lambda.build.deploy import beanstalk_target
    from pym_lambda.build.deploy.aws_access import AwsTarget
    from pym_lambda.build.deploy.beanstalk_iam import stage_access
    from pym_lambda.build.deploy.plan import EnsureQueues
    from pym_lambda.build.deploy.prepare import DeployOptions, prepared

    copy = work / "project"
    copy.mkdir()
    for name in COPIED:
        source = project / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns(*IGNORED))
        elif source.is_file():
            shutil.copy(source, copy / name)
    options = DeployOptions(copy, stage, target="beanstalk", region=region)
    with prepared(options, lambda line: None) as ready:
        plan = beanstalk_target.make_plan(ready)
        queues_step = plan.step(EnsureQueues)
        queues = list(queues_step.definitions) if isinstance(queues_step, EnsureQueues) else []
        settings = beanstalk_target.option_settings(ready, AwsTarget(region, "123456789012"),
                                                    bool(queues))
        data = beanstalk_target.build_bundle(beanstalk_target.bundle_files(copy))
        app_name, stage_name = ready.app_name, ready.stage
        access = stage_access(queues, getattr(ready, "access", None))
    variables = {s["OptionName"]: s["Value"] for s in settings
                 if s["Namespace"] == beanstalk_target.ENVIRONMENT}
    directory = work / "bundle"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        archive.extractall(directory)
    return Bundle(directory, hashlib.sha256(data).hexdigest(), app_name, stage_name, variables,
                  queues, access)


# --- 4. image -------------------------------------------------------------------------------

def build_image(bundle: Bundle, base: str, tag: str, no_cache: bool) -> None:
    run(["podman", "build", "--isolation=chroot", "--format=docker", "--pull=never",
         *(["--no-cache"] if no_cache else []), "--build-arg", f"BASE_IMAGE={base}",
         "-f", "Dockerfile", "-t", tag, "."], cwd=bundle.directory, timeout=1800)


def image_config(tag: str) -> Dict[str, Any]:
    inspected = json.loads(run(["podman", "image", "inspect", tag]).stdout)[0]
    config = dict(inspected.get("Config") or {})
    config["Healthcheck"] = config.get("Healthcheck") or inspected.get("Healthcheck")
    return config


def forget_older_images(app: str, keep: str) -> None:
    listed = run(["podman", "images", "--format", "json", f"{CHECK_REPO}/{app}"], quiet=True)
    names = [n for image in json.loads(listed.stdout or "[]") for n in image.get("Names") or []]
    for name in names:
        if name != keep and name.startswith(f"{CHECK_REPO}/{app}:"):
            run(["podman", "rmi", name], quiet=True)


# --- 5. the container's filesystem, entered by chroot ---------------------------------------

class Rootfs:
    """A podman container's filesystem, with the mounts a container runtime would add."""

    def __init__(self, image: str) -> None:
        self.image = image
        self.name = f"pym-image-check-{os.getpid()}-{secrets.token_hex(3)}"
        self.path: Optional[Path] = None
        self.mounts: List[Path] = []
        self.container = False

    def __enter__(self) -> Rootfs:
        try:
            created = run(["podman", "create", "--name", self.name, self.image], quiet=True)
            if created.returncode == 0:
                self.container = True
                self.path = Path(run(["podman", "mount", self.name]).stdout.strip())
            else:  # read-only, with a writable /tmp below
                say("podman create refused: the image's own (read-only) mount instead")
                self.path = Path(run(["podman", "image", "mount", self.image]).stdout.strip())
                self._mount(["-t", "tmpfs", "-o", "mode=1777,nosuid,nodev", "tmpfs"], "tmp")
            self._mount(["-t", "proc", "proc"], "proc")
            self._mount(["-t", "tmpfs", "-o", "mode=755,nosuid", "tmpfs"], "dev")
            assert self.path is not None
            dev = self.path / "dev"
            for node in DEV_NODES:
                (dev / node).touch()
                self._mount(["--bind", f"/dev/{node}"], f"dev/{node}")
            (dev / "shm").mkdir()
            self._mount(["-t", "tmpfs", "-o", "mode=1777,nosuid,nodev,size=64m", "tmpfs"],
                        "dev/shm")
            for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                                 ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
                (dev / name).symlink_to(target)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _mount(self, options: List[str], where: str) -> None:
        assert self.path is not None
        target = self.path / where
        if not target.exists():
            target.mkdir(parents=True)
        run(["mount", *options, str(target)])
        self.mounts.append(target)

    def kill_leftovers(self) -> List[int]:
        """Processes still running inside this filesystem (only ours can be)."""
        if self.path is None:
            return []
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    if os.readlink(entry / "root") == str(self.path):
                        found.append(int(entry.name))
        for pid in found:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return found

    def __exit__(self, *exc: Any) -> None:
        self.kill_leftovers()
        for target in reversed(self.mounts):
            if run(["umount", str(target)], quiet=True).returncode != 0:
                run(["umount", "-l", str(target)], quiet=True)
        self.mounts.clear()
        if self.container:
            run(["podman", "umount", self.name], quiet=True)
            run(["podman", "rm", "-f", self.name], quiet=True)
        elif self.path is not None:
            run(["podman", "image", "unmount", self.image], quiet=True)

    def user(self, spec: str) -> Tuple[int, int, str]:
        """USER `name|uid[:group|gid]` resolved in the image's passwd/group; and its home."""
        assert self.path is not None
        name, _, group = (spec or "0").partition(":")
        passwd = [line.split(":") for line in
                  (self.path / "etc/passwd").read_text().splitlines() if line.count(":") >= 6]
        entry = next((p for p in passwd if name in (p[0], p[2])), None)
        uid = int(entry[2]) if entry else int(name)
        gid = int(entry[3]) if entry and not group else 0
        if group:
            groups = [line.split(":") for line in
                      (self.path / "etc/group").read_text().splitlines() if line.count(":") >= 3]
            found = next((g for g in groups if group in (g[0], g[2])), None)
            gid = int(found[2]) if found else int(group)
        return uid, gid, entry[5] if entry else "/"


def container_command(config: Dict[str, Any], port: int) -> List[str]:
    command = list(config.get("Entrypoint") or []) + list(config.get("Cmd") or [])
    if "--bind" not in command:
        raise CheckFailed(f"no --bind in the image's command: {command}")
    command[command.index("--bind") + 1] = f"127.0.0.1:{port}"
    return command


def container_environment(config: Dict[str, Any], bundle: Bundle, endpoint: str,
                          home: str, keys: Keys) -> Dict[str, str]:
    env = dict(item.split("=", 1) for item in config.get("Env") or [])
    env.update(HOME=home, HOSTNAME="pym-image-check")
    env.update(bundle.variables)  # what deploy sets as the environment's properties
    # On Beanstalk the instance profile's credentials come from the instance metadata.
    env.update(keys, AWS_ENDPOINT_URL=endpoint, AWS_EC2_METADATA_DISABLED="true")
    return env


def start(rootfs: Rootfs, command: List[str], env: Dict[str, str], workdir: str, user: str,
          log: Path) -> subprocess.Popen[bytes]:
    uid, gid, _home = rootfs.user(user)
    root = str(rootfs.path)

    def enter() -> None:  # in the child, before exec: chroot, then the image's user
        os.chroot(root)
        os.chdir(workdir or "/")
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)

    with log.open("wb") as out:
        return subprocess.Popen(command, env=env, preexec_fn=enter, start_new_session=True,
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


# --- 6. checks ------------------------------------------------------------------------------

def get(port: int, path: str, timeout: float = 5) -> Tuple[int, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as reply:
        return reply.status, json.loads(reply.read() or b"null")


def wait_for_ping(port: int, process: subprocess.Popen[bytes], log: Path,
                  deadline_seconds: float) -> None:
    deadline = time.monotonic() + deadline_seconds
    while True:
        if process.poll() is not None:
            raise CheckFailed(f"the container exited with {process.returncode} before /ping "
                              f"answered:\n{tail(log)}")
        with contextlib.suppress(OSError, ValueError, http.client.HTTPException):
            if get(port, "/ping", timeout=2)[0] == 200:
                return
        if time.monotonic() > deadline:
            raise CheckFailed(f"/ping did not answer in {deadline_seconds:g} s:\n{tail(log)}")
        time.sleep(0.1)


def tail(log: Path, lines: int = 40) -> str:
    text = log.read_text(errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def healthcheck(rootfs: Rootfs, config: Dict[str, Any], env: Dict[str, str], workdir: str,
                user: str, port: int, log: Path) -> None:
    """The image's HEALTHCHECK command, run inside it as Docker would."""
    check = config.get("Healthcheck") or {}
    test = list(check.get("Test") or [])
    if not test or test[0] == "NONE":
        raise CheckFailed("the image has no HEALTHCHECK (was it built with --format=docker?)")
    exposed = next(iter(config.get("ExposedPorts") or {"8080/tcp": {}})).split("/")[0]
    command = [part.replace(f":{exposed}/", f":{port}/") for part in test[1:]]
    if test[0] == "CMD-SHELL":
        command = ["/bin/sh", "-c", " ".join(command)]
    process = start(rootfs, command, env, workdir, user, log)
    if process.wait(timeout=30) != 0:
        raise CheckFailed(f"HEALTHCHECK exited with {process.returncode}:\n{tail(log)}")


def load_probe(project: Path) -> Optional[Dict[str, Any]]:
    path = project / PROBE_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def make_token(project: Path, stage: str, user: str, aws: Dict[str, str]) -> str:
    """`pym-lambda token` (the stage's key may be in SSM: `aws` points it at moto)."""
    env = {**os.environ, **aws}
    return run([sys.executable, "-m", "pym_lambda.build.cli", "token", user, "--stage", stage,
                "--project-dir", str(project)], env=env).stdout.strip()


def seed_secrets(clients: Any, access: Any) -> List[str]:
    """The SSM parameters and Secrets Manager secrets the stage reads, as whoever deploys
    creates them beforehand: throwaway random values (a secret read as one field of a JSON
    document, `key:` in pym-config.yaml, is not supported here)."""
    names = []
    for ref in getattr(access, "secrets", ()) or ():
        value = secrets.token_urlsafe(48)
        if ref.service == "ssm":
            clients("ssm").put_parameter(Name=ref.name, Value=value, Type="SecureString")
        else:
            clients("secretsmanager").create_secret(Name=ref.name, SecretString=value)
        names.append(f"{ref.service} {ref.name}")
    return names


def fill(text: str, values: Dict[str, Any]) -> str:
    for key, value in values.items():
        if isinstance(value, (str, int)):
            text = text.replace("{" + key + "}", str(value))
    return text


def send_probe(port: int, probe: Dict[str, Any], token: Optional[str]) -> Dict[str, Any]:
    """The probe's requests on one keep-alive connection (so one gunicorn worker answers them
    all: the example keeps its books in memory); the last reply's JSON."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    values: Dict[str, Any] = {}
    try:
        for request in probe["requests"]:
            headers = {"Content-Type": "application/json"}
            if token and request.get("token", False):
                headers["Authorization"] = f"Bearer {token}"
            path = fill(request["path"], values)
            body = json.dumps(request.get("body")) if "body" in request else None
            connection.request(request["method"], path, body=body, headers=headers)
            reply = connection.getresponse()
            text = reply.read()
            if reply.status != request.get("status", 200):
                raise CheckFailed(f"{request['method']} {path} -> {reply.status} {text[:300]!r}"
                                  f" (expected {request.get('status', 200)})")
            values = json.loads(text or b"{}")
    finally:
        connection.close()
    return values


def queue_counts(sqs: Any, name: str) -> Tuple[int, int]:
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return (int(attributes["ApproximateNumberOfMessages"]),
            int(attributes["ApproximateNumberOfMessagesNotVisible"]))


def wait_for_task(sqs: Any, bundle: Bundle, expected_log: str, log: Path,
                  deadline_seconds: float) -> None:
    """The worker ran the task (its log line) and deleted it (nothing left, nothing in the
    DLQ). A failed task would stay in flight for the visibility timeout."""
    deadline = time.monotonic() + deadline_seconds
    while True:
        logged = expected_log in log.read_text(errors="replace")
        left = {q.name: queue_counts(sqs, q.name) for q in bundle.queues}
        dead = {q.dlq_name: queue_counts(sqs, q.dlq_name) for q in bundle.queues}
        if logged and not any(sum(c) for c in left.values()):
            if any(sum(c) for c in dead.values()):
                raise CheckFailed(f"a message reached a dead-letter queue: {dead}")
            return
        if time.monotonic() > deadline:
            raise CheckFailed(f"the task was not run and deleted in {deadline_seconds:g} s "
                              f"(log line {expected_log!r} seen: {logged}; queues (visible, "
                              f"in flight): {left}; DLQs: {dead}):\n{tail(log)}")
        time.sleep(0.1)


def stop(process: subprocess.Popen[bytes], timeout: float = 20) -> Tuple[int, float]:
    """SIGTERM to the entrypoint, as `docker stop` sends; its exit code and the time taken."""
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        code = -9
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # anything of its session left behind
    return code, round(time.monotonic() - started, 2)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


Keys = Dict[str, str]


@contextlib.contextmanager
def iam_enforced(endpoint: str, region: str, statements: List[Dict[str, Any]]
                 ) -> Iterator[Tuple[Keys, Keys]]:
    """moto with IAM enforced: the container's keys carry exactly the inline policy deploy gives
    the instance profile (a user stands for the role: moto's AssumeRole check cannot read a
    service principal); an admin's keys are for the check's own calls. moto's gaps are
    filled as AWS behaves: batch actions are authorised as their single forms
    (DeleteMessageBatch as sqs:DeleteMessage), GetQueueUrl on the queue it names, SSM and
    Secrets Manager calls on the parameter's or secret's ARN (moto says "*")."""
    from unittest import mock

    import boto3
    from moto.core.authorization import enable_iam_authentication
    from moto.iam.access_control import IAMRequestBase
    from moto.secretsmanager.responses import SecretsManagerResponse
    from moto.sqs.responses import SQSResponse
    from moto.ssm.responses import SimpleSystemManagerResponse

    from pym_lambda.build.deploy.permissions import document

    iam = boto3.client("iam", region_name=region, endpoint_url=endpoint,
                       aws_access_key_id="testing", aws_secret_access_key="testing")

    def user(name: str, policy: Dict[str, Any]) -> Keys:
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="policy", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"],
                "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}

    container = user("beanstalk-container", document(statements))
    admin = user("image-check", document([{"Effect": "Allow", "Action": "*",
                                           "Resource": "*"}]))
    check_action = IAMRequestBase.check_action_permitted
    determine_resource = SQSResponse._determine_resource

    def single_action(self: Any, resource: str) -> None:
        if self._action.startswith("sqs:") and self._action.endswith("Batch"):
            self._action = self._action[:-len("Batch")]
        check_action(self, resource)

    def named_queue(self: Any) -> str:
        name = self._get_param("QueueName")
        if name:
            with contextlib.suppress(Exception):
                return str(self.sqs_backend.get_queue(name).queue_arn)
        return str(determine_resource(self))

    def parameter(self: Any) -> str:
        name = self._get_param("Name")
        if not isinstance(name, str) or not name:
            return "*"
        return f"arn:aws:ssm:{self.region}:{self.current_account}:parameter/{name.lstrip('/')}"

    def secret(self: Any) -> str:
        with contextlib.suppress(Exception):
            return str(self.backend.describe_secret(self._get_param("SecretId")).arn)
        return "*"

    with mock.patch.object(IAMRequestBase, "check_action_permitted", single_action), \
            mock.patch.object(SQSResponse, "_determine_resource", named_queue), \
            mock.patch.object(SimpleSystemManagerResponse, "_determine_resource", parameter,
                              create=True), \
            mock.patch.object(SecretsManagerResponse, "_determine_resource", secret,
                              create=True), \
            enable_iam_authentication():
        yield container, admin


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


# --- the whole check ------------------------------------------------------------------------

def check(args: argparse.Namespace, report: Report) -> None:
    project = Path(args.project_dir).resolve()
    probe = load_probe(project)
    with report.timed("tools"):
        ensure_tools(("podman", "debootstrap"))
    # A stage reading {env: JWT_SECRET} builds with a throwaway one (SSM and Secrets Manager
    # references are created in moto, below).
    os.environ.setdefault("JWT_SECRET", "image-check-" + secrets.token_urlsafe(32))
    work = Path(tempfile.mkdtemp(prefix="pym-image-check-", dir=args.work_dir))
    try:
        with report.timed("base image"):
            base = base_image(args, work, report)
        with report.timed("bundle"):
            bundle = make_bundle(project, args.stage, work, args.region)
        tag = f"{CHECK_REPO}/{bundle.app_name}:{bundle.sha256[:16]}"
        report.facts.update(image=tag, bundle_sha256=bundle.sha256)
        with report.timed("image build"):
            build_image(bundle, base, tag, args.fresh)
        forget_older_images(bundle.app_name, tag)
        config = image_config(tag)
        try:
            run_container(args, report, project, bundle, config, tag, probe, work)
        finally:
            if args.remove_image:
                run(["podman", "rmi", tag], quiet=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_container(args: argparse.Namespace, report: Report, project: Path, bundle: Bundle,
                  config: Dict[str, Any], tag: str, probe: Optional[Dict[str, Any]],
                  work: Path) -> None:
    import boto3

    from pym_lambda.build.deploy.beanstalk_iam import container_policy
    from pym_lambda.build.deploy.permissions import Arns
    from pym_lambda.build.tasks.queues import ensure_queues

    port = free_port()
    log = work / "container.log"
    workdir, user = config.get("WorkingDir") or "/", config.get("User") or "0"
    testing = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    with contextlib.ExitStack() as stack:
        endpoint = stack.enter_context(moto_server())

        def clients(service: str) -> Any:
            return boto3.client(service, region_name=args.region, endpoint_url=endpoint,
                                aws_access_key_id="testing", aws_secret_access_key="testing")

        ensure_queues(bundle.queues, clients("sqs"))
        seeded = seed_secrets(clients, bundle.access)
        if seeded:
            say(f"secrets the stage reads, created in moto: {', '.join(seeded)}")
        keys, admin = testing, testing
        if not args.no_iam:
            statements = container_policy(bundle.access, Arns(args.region, "123456789012"))
            keys, admin = stack.enter_context(iam_enforced(endpoint, args.region, statements))
            report.facts["iam"] = "enforced: the container has the instance profile's " \
                                  "inline policy only"
            say("IAM enforced: the container's keys carry only the instance profile's inline "
                "policy")
        sqs = boto3.client("sqs", region_name=args.region, endpoint_url=endpoint,
                           aws_access_key_id=admin["AWS_ACCESS_KEY_ID"],
                           aws_secret_access_key=admin["AWS_SECRET_ACCESS_KEY"])
        rootfs = stack.enter_context(Rootfs(tag))
        _uid, _gid, home = rootfs.user(user)
        env = container_environment(config, bundle, endpoint, home, keys)
        command = container_command(config, port)
        say(f"run: {' '.join(command)} (user {user}, in {workdir}, port {port})")
        started = time.monotonic()
        process = start(rootfs, command, env, workdir, user, log)
        try:
            wait_for_ping(port, process, log, args.start_timeout)
            report.timings["start to /ping"] = round(time.monotonic() - started, 2)
            say(f"start to /ping: {report.timings['start to /ping']:.2f} s")
            status, version = get(port, "/version")
            if status != 200 or not isinstance(version, dict):
                raise CheckFailed(f"/version -> {status} {version!r}")
            report.facts["version"] = version
            say(f"/version: {json.dumps(version)}")
            with report.timed("healthcheck"):
                healthcheck(rootfs, config, env, workdir, user, port, work / "health.log")
            if probe is None:
                say(f"no {PROBE_FILE}: no task sent")
            elif not bundle.queues or env.get("PYM_TASK_WORKER") != "1":
                raise CheckFailed(f"{PROBE_FILE} sends a task but the stage has no task queue")
            else:
                token = make_token(project, bundle.stage, probe["token_user"], {
                    **admin, "AWS_ENDPOINT_URL": endpoint, "AWS_DEFAULT_REGION": args.region,
                    "AWS_EC2_METADATA_DISABLED": "true"}) if probe.get("token_user") else None
                with report.timed("task round trip"):
                    try:
                        reply = send_probe(port, probe, token)
                    except CheckFailed as exc:
                        raise CheckFailed(f"{exc}\n{tail(log)}") from None
                    wait_for_task(sqs, bundle, fill(probe["log"], reply), log,
                                  args.task_timeout)
            if process.poll() is not None:
                raise CheckFailed(f"the container exited with {process.returncode}:\n"
                                  f"{tail(log)}")
        finally:
            code, took = stop(process)
            report.timings["stop (SIGTERM)"] = took
            report.facts["exit_code"] = code
            leftovers = rootfs.kill_leftovers()
            report.facts["leftover_processes"] = len(leftovers)
            say(f"stopped: exit code {code} in {took:.2f} s"
                + (f"; {len(leftovers)} leftover process(es) killed" if leftovers else ""))
        if code != 0:
            raise CheckFailed(f"the container exited with {code} on SIGTERM:\n{tail(log)}")
        if args.show_log:
            print(log.read_text(errors="replace"))


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="image_check.py", description="Build the Beanstalk image of a pym-lambda service "
        "and run it against a local moto server (see this file's docstring).")
    parser.add_argument("--project-dir", default=".", help="The service (default: here).")
    parser.add_argument("--stage", default="prod", help="The stage whose bundle is built.")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--base", choices=("auto", "pull", "stand-in"), default="auto",
                        help="auto: the real base if podman has it or can pull it, else the "
                             "local stand-in; pull: the real one or fail; stand-in: always.")
    parser.add_argument("--base-image", default=None, help="Build on this image instead.")
    parser.add_argument("--rebuild-base", action="store_true",
                        help="Rebuild the cached stand-in base.")
    parser.add_argument("--fresh", action="store_true",
                        help="As on a fresh machine: rebuild the stand-in base and build the "
                             "image without podman's layer cache.")
    parser.add_argument("--mirror", default=os.environ.get("DEBIAN_MIRROR",
                                                           "http://deb.debian.org/debian"),
                        help="Debian mirror for debootstrap [env DEBIAN_MIRROR].")
    parser.add_argument("--work-dir", default=None, help="Scratch space (default: the system's).")
    parser.add_argument("--start-timeout", type=float, default=90)
    parser.add_argument("--task-timeout", type=float, default=60)
    parser.add_argument("--remove-image", action="store_true",
                        help="Remove the checked image afterwards (the base stays cached).")
    parser.add_argument("--no-iam", action="store_true",
                        help="Do not enforce IAM: the container gets moto's all-powerful keys.")
    parser.add_argument("--show-log", action="store_true", help="Print the container's output.")
    parser.add_argument("--json", default=None, metavar="FILE", help="Write the report there.")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    report = Report()
    started = time.monotonic()
    status, message = 0, "passed"
    try:
        check(args, report)
    except CannotRun as exc:
        status, message = SKIP, f"cannot run here: {exc}"
    except CheckFailed as exc:
        status, message = 1, f"FAILED: {exc}"
    except KeyboardInterrupt:
        status, message = 130, "interrupted"
    report.timings["total"] = round(time.monotonic() - started, 2)
    say(message)
    say("timings (s): " + ", ".join(f"{k} {v:.2f}" for k, v in report.timings.items()))
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"status": status, "message": message.splitlines()[0], "timings": report.timings,
             "facts": report.facts}, indent=2, default=str) + "\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
