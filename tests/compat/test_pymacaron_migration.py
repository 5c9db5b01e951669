"""Zero-edit PyMacaron migration: pym-config.yaml read unchanged, path keys served without
basePath, /version's `container`, @asynctask enqueuing, and PyMacaron's helloworld service with
its own acceptance tests (testaccept/, one import changed) run against `chalice local`."""
from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest
from chalice.test import Client

from pym_lambda import create_app
from pym_lambda.build.compiled_form import compile_project
from pym_lambda.clients import load_clients
from pym_lambda.config import ConfigError, load_settings
from pym_lambda.context import CallContext, enter_context, exit_context
from pym_lambda.tasks.sender import queue_url
from tests.conftest import JsonClient
from tests.tasks.tasks_fixtures import (
    FakeLambdaContext,
    build_app,
    create_queues,
    depth,
    moto_sqs,
)

from . import pymacaron_tasks_sample as sample

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
MIGRATED = FIXTURES / "pymacaron_service" / "helloworld_migrated"
HELLO_SPEC = FIXTURES / "external" / "pymacaron" / "helloworld.yaml"
SECRET = "helloworld-acceptance-secret-0123456789abcdef"
IGNORED = ("aws_cert_arn, aws_instance_type, aws_keypair, aws_user, docker_bucket, "
           "docker_repo, live_host, with_async")


def helloworld_project(tmp_path: Path, config: str = "") -> Path:
    """The migrated helloworld (spec and pym-config.yaml unchanged unless `config`)."""
    project = tmp_path / "hello"
    shutil.copytree(MIGRATED, project)
    (project / "apis").mkdir()
    shutil.copy(HELLO_SPEC, project / "apis" / "helloworld.yaml")
    if config:
        (project / "pym-config.yaml").write_text(config)
    return project


# --- pym-config.yaml, as PyMacaron wrote it ---------------------------------------------------

def test_pymacaron_config_is_read_unchanged(tmp_path, caplog):
    project = helloworld_project(tmp_path)
    with caplog.at_level(logging.WARNING, logger="pym_lambda.config"):
        settings = load_settings(project, environ={"PYM_JWT_SECRET": SECRET})
    jwt = settings.jwt
    assert (jwt.secret, jwt.issuer, jwt.audience) == (
        SECRET, "api.helloworld.com", ("helloworldaudienceisgreat",))
    assert settings.name == "hello"
    assert settings.extra["uuid_file_path"] == "/tmp/test-pymacaron-async"
    assert settings.secrets["PYM_JWT_SECRET"] == SECRET
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and warnings[0].endswith(f"MIGRATING_FROM_PYMACARON.md): {IGNORED}")


def test_ignored_keys_are_not_warned_at_every_lambda_cold_start(tmp_path, caplog, monkeypatch):
    project = helloworld_project(tmp_path)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "hello-prod")
    with caplog.at_level(logging.WARNING, logger="pym_lambda.config"):
        settings = load_settings(project, environ={"PYM_JWT_SECRET": SECRET})
    assert settings.jwt.issuer == "api.helloworld.com"  # mapped all the same
    assert [r.getMessage() for r in caplog.records] == []


def test_flat_keys_map_and_grouped_ones_win(tmp_path):
    (tmp_path / "pym-config.yaml").write_text(
        "jwt_issuer: old\njwt_token_timeout: 600\njwt: {issuer: new}\ndocker_repo: x\n")
    settings = load_settings(tmp_path, environ={})
    assert (settings.jwt.issuer, settings.jwt.expires_in) == ("new", 600)


def test_a_file_that_is_not_pymacaron_still_refuses_unknown_keys(tmp_path):
    (tmp_path / "pym-config.yaml").write_text("name: x\nuuid_file_path: /tmp/x\n")
    with pytest.raises(ConfigError, match="uuid_file_path: unknown key"):
        load_settings(tmp_path, environ={})


def test_a_short_pymacaron_secret_is_refused_saying_how_to_migrate(tmp_path):
    project = helloworld_project(tmp_path)
    with pytest.raises(ConfigError) as info:  # refused when loaded: it would sign tokens too
        load_settings(project, environ={"PYM_JWT_SECRET": "short"})
    message = str(info.value)
    assert "shorter than the 32 bytes HS256 needs" in message
    assert "secrets.token_urlsafe" in message and "MIGRATING_FROM_PYMACARON" in message


def test_serve_base_path_is_top_level_only(tmp_path):
    (tmp_path / "pym-config.yaml").write_text("stages: {dev: {serve_base_path: false}}\n")
    with pytest.raises(ConfigError, match="serve_base_path: top level only"):
        load_settings(tmp_path, environ={})


# --- URLs: the spec's path keys, without basePath -------------------------------------------

@pytest.fixture
def served(tmp_path, monkeypatch) -> Iterator[Any]:
    def forget_helloworld() -> None:  # tests/compat/test_pymacaron_parity.py has another
        for name in [n for n in sys.modules if n.partition(".")[0] == "helloworld"]:
            del sys.modules[name]

    def serve(config: str = "") -> JsonClient:
        forget_helloworld()
        monkeypatch.setenv("PYM_JWT_SECRET", SECRET)
        monkeypatch.syspath_prepend(str(project := helloworld_project(tmp_path, config)))
        app = create_app(project)
        stack.append(Client(app))
        return JsonClient(stack[-1].__enter__())

    stack: list = []
    try:
        yield serve
    finally:
        for client in stack:
            client.__exit__(None, None, None)
        forget_helloworld()


def test_a_pymacaron_service_serves_its_path_keys(served):
    client = served()
    assert client.get("/hello").json == {"message": "Hello world!"}
    assert client.get("/v1/hello").status == 404
    # /doc's copy of the spec says where the routes are
    spec = client.get("/doc/helloworld.json").json
    assert spec["basePath"] == "/" and "/hello" in spec["paths"]


def test_serve_base_path_true_keeps_the_base_path(served):
    config = (MIGRATED / "pym-config.yaml").read_text() + "serve_base_path: true\n"
    client = served(config)
    assert client.get("/v1/hello").json == {"message": "Hello world!"}
    assert client.get("/hello").status == 404
    assert client.get("/doc/helloworld.json").json["basePath"] == "/v1"


def test_serve_base_path_false_in_a_pym_lambda_config(served):
    client = served("name: hello\njwt: {secret: {env: PYM_JWT_SECRET}}\n"
                    "extra: {uuid_file_path: /tmp/x}\nserve_base_path: false\n")
    assert client.get("/hello").json == {"message": "Hello world!"}
    version = client.get("/version").json
    assert "container" not in version  # not a PyMacaron file: pym-lambda's /version


def test_version_carries_pymacaron_container_field(served):
    version = served().get("/version").json
    assert version["container"] == version["version"] == "0.0.1"
    assert version["apis"] == ["helloworld"] and isinstance(version["pym_env"], str)


# --- @asynctask: the call enqueues -------------------------------------------------------------

@pytest.fixture
def sqs(monkeypatch) -> Iterator[Any]:
    with moto_sqs(monkeypatch) as client:
        create_queues(client, ["default"])
        yield client


def test_asynctask_call_enqueues_within_a_request(sqs):
    sample.RUNS.clear()
    handlers = build_app(["default"])[1]
    token = enter_context(CallContext(call_id="call-1"))
    try:
        handle = sample.remember("hello")
    finally:
        exit_context(token)
    assert not handle.inline and handle.message_id
    assert sample.RUNS == [] and depth(sqs, queue_url("default"))["visible"] == 1
    record = sqs.receive_message(QueueUrl=queue_url("default"), AttributeNames=["All"],
                                 MessageAttributeNames=["All"])["Messages"][0]
    event = {"Records": [{"messageId": record["MessageId"], "receiptHandle":
                          record["ReceiptHandle"], "body": record["Body"],
                          "attributes": {"ApproximateReceiveCount": "1"},
                          "messageAttributes": {}, "eventSource": "aws:sqs",
                          "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q"}]}
    handlers["pym_task_worker_default"](event, FakeLambdaContext())
    assert sample.RUNS == [("hello", None)]  # the worker ran it once, without enqueuing again


def test_asynctask_outside_a_request_runs_at_once_with_pymacaron_options():
    sample.RUNS.clear()
    sample.remember(1)
    assert sample.RUNS == [(1, None)]
    assert (sample.later.delay_seconds, sample.later.max_attempts) == (30, 1)


# --- end to end: helloworld under chalice local, its acceptance tests ------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# The one import each file of testaccept/ changed: (pym-lambda's, PyMacaron's).
IMPORTS = [
    ("from pym_lambda.testing.pymacaron import PyMacaronTestCase",
     "from pymacaron.test import PyMacaronTestCase"),
    ("from pym_lambda.compat.pymacaron import generate_token",
     "from pymacaron.auth import generate_token"),
    ("from pym_lambda.compat.pymacaron import get_config",
     "from pymacaron.config import get_config"),
]
# Stand-ins for the parts of pymacaron a test process imports besides its test case.
SHIM = {"pymacaron/__init__.py": "",
        "pymacaron/auth.py": "from pym_lambda.compat.pymacaron import generate_token  # noqa\n\n\n"
                             "def get_userid():  # pymacaron/log.py asks, outside a request\n"
                             "    return None\n",
        "pymacaron/config.py": "from pym_lambda.compat.pymacaron import get_config  # noqa\n"}


def upstream_acceptance_tests(project: Path, into: Path) -> Path:
    """testaccept/ as PyMacaron's helloworld has it (imports put back), and a folder where
    `pymacaron.test` is PyMacaron's own test case (from PyPI) over pymacaron-unit's."""
    from tests.external.pymacaron_pypi import pymacaron_test_files

    shutil.copytree(pymacaron_test_files(), into / "path")
    for name, text in SHIM.items():
        (into / "path" / name).write_text(text)
    tests = into / "testaccept"
    tests.mkdir()
    for source in (project / "testaccept").glob("test_*.py"):
        text = source.read_text()
        for ours, theirs in IMPORTS:
            text = text.replace(ours + "\n", theirs + "\n")
        assert "pym_lambda" not in text
        (tests / source.name).write_text(text)
    return into


def run_acceptance(folder: Path, env: Dict[str, str], port: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "testaccept"],
        cwd=folder, capture_output=True, text=True, timeout=120,
        env={**env, "PYM_SERVER_HOST": "127.0.0.1", "PYM_SERVER_PORT": str(port)})


def test_helloworld_acceptance_tests_pass_against_chalice_local(tmp_path):
    project = helloworld_project(tmp_path)
    upstream = upstream_acceptance_tests(project, tmp_path / "upstream")
    port = free_port()
    env: Dict[str, str] = {**os.environ, "PYM_JWT_SECRET": SECRET,
                           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get(
                               "PYTHONPATH", "")]).rstrip(os.pathsep)}
    for name in ("PYM_STAGE", "PYM_TASKS_INLINE", "PYTEST_ADDOPTS"):
        env.pop(name, None)
    chalice = Path(sys.executable).with_name("chalice")
    log_path = tmp_path / "chalice.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen([str(chalice), "local", "--host", "127.0.0.1", "--port",
                                   str(port)], cwd=project, env=env, stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as r:
                    assert json.loads(r.read()) == {}
                    break
            except (urllib.error.URLError, ConnectionError):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(log_path.read_text()[-3000:]) from None
                time.sleep(0.2)
        accept = run_acceptance(project, env, port)
        # A typed client of the same spec calls the paths served (/hello, not /v1/hello).
        client = load_clients(compile_project(project), {"helloworld": f"http://127.0.0.1:{port}"})
        hello = client.helloworld.get_hello()
        # The same tests, unchanged, on PyMacaron's own test case; pym-config.yaml is read
        # from the project, as PyMacaron's get_config() did.
        shutil.copy(project / "pym-config.yaml", upstream)
        upstream_env = {**env, "PYTHONPATH": os.pathsep.join([str(upstream / "path"),
                                                               env["PYTHONPATH"]])}
        theirs = run_acceptance(upstream, upstream_env, port)
    finally:
        os.killpg(server.pid, 9)
        server.wait(timeout=10)
    assert accept.returncode == 0, accept.stdout[-4000:] + accept.stderr[-2000:]
    assert "6 passed" in accept.stdout
    assert hello.message == "Hello world!"
    assert theirs.returncode == 0, theirs.stdout[-4000:] + theirs.stderr[-2000:]
    assert "6 passed" in theirs.stdout
    # PyMacaron's deploy-only keys: one warning at start-up, naming them all
    assert log_path.read_text().count("PyMacaron keys ignored") == 1
