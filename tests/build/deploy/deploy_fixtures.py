"""Helpers of the deploy tests: the example project in a tmp folder, moto (in process or as a
server on 127.0.0.1), the moto gaps lived with (test-only, never in shipped code), and a
sandbox for the framework's process-wide state (a deploy imports the project's app.py, which
configures tasks, models and settings for its stage).
"""
from __future__ import annotations

import contextlib
import copy
import json
import logging
import shutil
import socket
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import botocore.handlers
import pytest
from botocore.stub import Stubber

from pym_lambda.aws import aws_client, reset_aws_clients

ROOT = Path(__file__).resolve().parents[3]
REGION = "us-east-1"
APP = "pym-library"
STAGE = "prod"
PROD_SECRET = "prod-secret-for-the-rehearsal-0123456789abcdef"
# Where the example's prod stage reads its JWT secret (pym-config.yaml): a SecureString.
JWT_PARAMETER = "/pym-library/prod/jwt-secret"
WORKER = f"{APP}-{STAGE}-pym_task_worker_default"
API_FUNCTION = f"{APP}-{STAGE}"
QUEUE = f"{APP}-{STAGE}-default"
DLQ = f"{QUEUE}-dlq"
BUCKET = f"{APP}-pym-deployments-123456789012"


def copy_example(target: Path, with_infra: bool = False) -> Path:
    """The example service as a user's project, as in a fresh clone: its requirements.txt
    (what the Lambda package gets besides the framework), no compiled form or prebuilt checks
    (deploy writes them)."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("app.py", "chalicelib", "apis", "pym-config.yaml", "requirements.txt"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name,
                            ignore=shutil.ignore_patterns("__pycache__", "pym_compiled.json",
                                                          "pym_schemas.json", "pym_validators.bin",
                                                          "pym_apis"))
        else:
            shutil.copy(source, target / name)
    (target / ".chalice").mkdir()
    shutil.copy(ROOT / ".chalice" / "config.json", target / ".chalice" / "config.json")
    if with_infra:
        shutil.copytree(ROOT / "infra" / "beanstalk", target / "infra" / "beanstalk",
                        ignore=shutil.ignore_patterns(".mypy_cache", "__pycache__"))
    return target


def allow_plain_jwt_secret(project: Path) -> None:
    """The example's prod stage as it was before secrets moved to SSM: jwt.secret from
    JWT_SECRET (forwarded from the deploying shell), which the stage must then allow."""
    path = project / "pym-config.yaml"
    text = path.read_text()
    reference = f"      secret: {{ssm: {JWT_PARAMETER}}}\n"
    assert reference in text and "  prod:\n" in text
    text = text.replace(reference, "      secret: {env: JWT_SECRET}\n")
    path.write_text(text.replace("  prod:\n", "  prod:\n    allow_plain_secrets: true\n"))


def put_jwt_parameter() -> None:
    """The prod stage's JWT secret in (moto's) SSM, as the README's deploy asks first."""
    aws_client("ssm", REGION).put_parameter(Name=JWT_PARAMETER, Value=PROD_SECRET,
                                            Type="SecureString", Overwrite=True)


# --- moto -----------------------------------------------------------------------------------

def _as_openapi3(document: Dict[str, Any]) -> Dict[str, Any]:
    """moto imports OpenAPI 3 with info.description only; Chalice sends Swagger 2.0."""
    document = copy.deepcopy(document)
    if document.pop("swagger", None):
        document["openapi"] = "3.0.1"
    info = document.setdefault("info", {})
    info.setdefault("description", info.get("title", "api"))
    return document


def patch_moto_apigateway(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.apigateway.models import APIGatewayBackend

    original_import = APIGatewayBackend.import_rest_api
    original_put = APIGatewayBackend.put_rest_api

    def import_rest_api(self: Any, api_doc: Dict[str, Any], fail_on_warnings: bool) -> Any:
        return original_import(self, _as_openapi3(api_doc), fail_on_warnings)

    def put_rest_api(self: Any, function_id: str, api_doc: Dict[str, Any],
                     fail_on_warnings: bool, mode: str = "merge") -> Any:
        return original_put(self, function_id, _as_openapi3(api_doc), fail_on_warnings, mode)

    monkeypatch.setattr(APIGatewayBackend, "import_rest_api", import_rest_api)
    monkeypatch.setattr(APIGatewayBackend, "put_rest_api", put_rest_api)


def patch_moto_ssm_resources(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's IAM enforcement names the resource of an SSM call "*" (only IAM, SQS, STS and S3
    name theirs), so no policy on a parameter's ARN can allow it: give SSM calls their
    parameter's ARN, as AWS evaluates them."""
    from moto.ssm.responses import SimpleSystemManagerResponse

    def determine_resource(self: Any) -> str:
        name = self._get_param("Name")
        if not isinstance(name, str) or not name:
            return "*"
        return f"arn:aws:ssm:{self.region}:{self.current_account}:parameter/{name.lstrip('/')}"

    monkeypatch.setattr(SimpleSystemManagerResponse, "_determine_resource", determine_resource,
                        raising=False)


def fake_aws_environment(monkeypatch: pytest.MonkeyPatch, endpoint: Optional[str] = None
                         ) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN", "PYM_STAGE",
                 "PYM_TASKS_INLINE", "PYM_APP_NAME", "PYM_STATE_BUCKET", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("JWT_SECRET", PROD_SECRET)
    if endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    reset_aws_clients()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@contextlib.contextmanager
def fresh_moto() -> Iterator[None]:
    """moto's in-process state (every service's backends) emptied before and after, and its
    IAM enforcement put back: a moto server shares that state with every other server and
    mock_aws of the process (another module's IAM users and queue messages would leak in), and
    /moto-api/reset-auth sets a process-wide count (the in-process moto of the tests that follow
    would refuse their fake keys)."""
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.moto_api._internal.models import moto_api_backend

    count = settings.INITIAL_NO_AUTH_ACTION_COUNT
    moto_api_backend.reset()
    try:
        yield
    finally:
        moto_api_backend.reset()
        settings.INITIAL_NO_AUTH_ACTION_COUNT = count
        ActionAuthenticatorMixin.request_count = 0


@contextlib.contextmanager
def rehearsal_sandbox(base: Path, monkeypatch: pytest.MonkeyPatch
                      ) -> Iterator[tuple[Path, str]]:
    """The example project in base and a moto server of its own (fresh_moto) on 127.0.0.1 that
    AWS_ENDPOINT_URL points at, with the prod stage's JWT secret in SSM (and SSM calls given
    their parameter's ARN, for when IAM is enforced): what a deploy rehearsal starts from."""
    with deploy_sandbox(base, monkeypatch, in_process_moto=False) as project, fresh_moto(), \
            moto_server() as endpoint:
        fake_aws_environment(monkeypatch, endpoint=endpoint)
        patch_moto_ssm_resources(monkeypatch)
        put_jwt_parameter()
        yield project, endpoint


@dataclass(frozen=True)
class AwsCall:
    key: str  # the caller's access key id
    action: str  # "sqs:SendMessage"
    status: int


class RecordingProxy:
    """An HTTP proxy on 127.0.0.1 in front of a moto server that records each AWS call made
    through it: who (the access key of the SigV4 signature), what (service:Action) and the
    answer's status. The request goes through untouched, Host header included, so that moto
    checks the signature (and, with IAM enforced, the caller's rights) as AWS would."""

    def __init__(self, target: str) -> None:
        from http.server import ThreadingHTTPServer
        from urllib.parse import urlsplit

        self.target = urlsplit(target)
        self.calls: List[AwsCall] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                import http.client

                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                connection = http.client.HTTPConnection(proxy.target.hostname or "127.0.0.1",
                                                        proxy.target.port, timeout=60)
                connection.putrequest(self.command, self.path, skip_host=True,
                                      skip_accept_encoding=True)
                for name, value in self.headers.items():
                    connection.putheader(name, value)
                connection.endheaders(body)
                response = connection.getresponse()
                data = response.read()
                proxy.calls.append(AwsCall(*_who_and_what(self.headers, body),
                                           response.status))
                self.send_response_only(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in ("transfer-encoding", "connection",
                                            "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                connection.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> RecordingProxy:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def by(self, key: str) -> List[AwsCall]:
        return [c for c in self.calls if c.key == key]


def _who_and_what(headers: Any, body: bytes) -> tuple[str, str]:
    import re
    from urllib.parse import parse_qs

    authorization = headers.get("Authorization") or ""
    found = re.search(r"Credential=([^/]+)/[^/]+/[^/]+/([^/]+)/", authorization)
    key, service = (found.group(1), found.group(2)) if found else ("", "")
    target = headers.get("X-Amz-Target") or ""
    action = target.rsplit(".", 1)[-1] if target else (
        parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0])
    return key, f"{service}:{action}"


class AwsCallCounter:
    """Counts every AWS API call of every botocore session made while installed (a
    'before-call' handler in botocore's built-in list, which each new session registers)."""

    def __init__(self) -> None:
        self.calls: List[str] = []

    def __call__(self, model: Any = None, **_: Any) -> None:
        self.calls.append(getattr(model, "name", "?"))

    def install(self, monkeypatch: pytest.MonkeyPatch) -> AwsCallCounter:
        handlers = list(botocore.handlers.BUILTIN_HANDLERS) + [("before-call", self)]
        monkeypatch.setattr(botocore.handlers, "BUILTIN_HANDLERS", handlers)
        reset_aws_clients()
        return self


# --- Beanstalk: moto lacks these calls; a Stubber answers them, moto the rest ---------------

STUBBED_EB_CALLS = ("create_application_version", "update_environment",
                    "terminate_environment")


class HalfStubbedClient:
    """A moto-backed client whose STUBBED_EB_CALLS go to a botocore Stubber instead."""

    def __init__(self, real: Any) -> None:
        import boto3

        self.real = real
        self.stubbed = boto3.client("elasticbeanstalk", region_name=REGION)
        self.stubber = Stubber(self.stubbed)
        self.stubber.activate()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stubbed if name in STUBBED_EB_CALLS else self.real, name)


def clients_with(overrides: Dict[str, Any]) -> Callable[[str], Any]:
    return lambda service: overrides.get(service) or aws_client(service, REGION)


def set_moto_environment(app: str, env_name: str, **attributes: Any) -> None:
    """What Beanstalk would do by itself after a deploy: turn Green, get a CNAME."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.elasticbeanstalk.models import eb_backends

    environment = eb_backends[DEFAULT_ACCOUNT_ID][REGION].applications[app].environments[
        env_name]
    for name, value in attributes.items():
        setattr(environment, name, value)


@contextlib.contextmanager
def ping_server() -> Iterator[str]:
    """A stand-in for the deployed container on 127.0.0.1: GET /ping -> {}."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = b"{}" if self.path == "/ping" else b'{"error": "UNKNOWN_PATH"}'
            self.send_response(200 if self.path == "/ping" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# --- the framework's process-wide state -------------------------------------------------------

@contextlib.contextmanager
def framework_state_sandbox() -> Iterator[None]:
    """Snapshot pym_lambda's module globals (settings, registries, caches) and put them back,
    so that deploying the example for prod leaves the rest of the suite its dev app."""
    from pym_lambda.runtime.service import Service

    modules = {name: module for name, module in sys.modules.items()
               if name == "pym_lambda" or name.startswith("pym_lambda.")}
    bindings = {name: dict(vars(module)) for name, module in modules.items()}
    contents = {name: {key: copy.copy(value) for key, value in values.items()
                       if isinstance(value, (dict, list))}
                for name, values in bindings.items()}
    logger = logging.getLogger("pym_lambda")
    level = logger.level
    # A fresh service for the deploy (only the project's tasks: its queues' max attempts);
    # the one before is put back after, with the rest.
    try:
        with Service().use():
            yield
    finally:
        for name, module in modules.items():
            for key, value in bindings[name].items():
                if vars(module).get(key) is not value:
                    setattr(module, key, value)
                elif key in contents[name]:
                    saved = contents[name][key]
                    if isinstance(value, dict):
                        value.clear()
                        value.update(saved)
                    else:
                        value[:] = saved
        logger.setLevel(level)
        reset_aws_clients()


def deployed_state(project: Path) -> Dict[str, Any]:
    return dict(json.loads((project / ".chalice" / "deployed" / f"{STAGE}.json").read_text()))


@contextlib.contextmanager
def deploy_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *,
                   in_process_moto: bool = True, with_infra: bool = False) -> Iterator[Path]:
    """The example project in tmp_path, fake credentials, moto in process (unless the caller
    runs a server) with the prod stage's JWT secret in SSM, and the framework's state put back
    afterwards. JWT_SECRET is set too: deploy must not forward it for prod."""
    from moto import mock_aws

    project = copy_example(tmp_path / "service", with_infra=with_infra)
    fake_aws_environment(monkeypatch)
    patch_moto_apigateway(monkeypatch)
    with framework_state_sandbox():
        if in_process_moto:
            with mock_aws():
                put_jwt_parameter()
                yield project
        else:
            yield project


def invoke(command: Any, *args: str) -> Any:
    """Run a click command in process; the result has .exit_code and .output."""
    from click.testing import CliRunner

    return CliRunner().invoke(command, list(args), catch_exceptions=False)


def serve(port: int) -> None:
    """A moto server on 127.0.0.1 with the API Gateway conversion above, for the README's
    rehearsal: `python -m tests.build.deploy.deploy_fixtures --port 5000`."""
    import time

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request
    patcher = pytest.MonkeyPatch()
    patch_moto_apigateway(patcher)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    print(f"moto server (with the API Gateway Swagger 2.0 import) on http://127.0.0.1:{port}; "
          "Ctrl-C stops it", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        patcher.undo()


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=serve.__doc__)
    parser.add_argument("--port", type=int, default=5000)
    serve(parser.parse_args().port)
