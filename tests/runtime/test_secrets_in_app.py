"""A JWT secret read from SSM by a running app: nothing paid until a token is checked, one
AWS call for many requests, an opaque 500 (cause in the logs) and a retry when it cannot be
read; and the example service's prod stage, end to end, in a fresh process."""
from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any, Iterator, List

import boto3
import pytest
from chalice.test import Client

from pym_lambda import create_app, generate_token
from pym_lambda.aws import aws_client, reset_aws_clients
from tests.build.deploy.deploy_fixtures import JWT_PARAMETER, PROD_SECRET, REGION, copy_example
from tests.conftest import ROOT, JsonClient, write_spec

PARAMETER = "/secured/prod/jwt-secret"
SECRET = "secured-service-secret-from-ssm-0123456789"


class Calls:
    def __init__(self) -> None:
        self.names: List[str] = []

    def __call__(self, model: Any, **_: Any) -> None:
        self.names.append(model.name)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Calls]:
    from moto import mock_aws

    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SSM", "AWS_PROFILE", "AWS_SESSION_TOKEN",
                 "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    reset_aws_clients()
    calls = Calls()
    with mock_aws():
        aws_client("ssm").meta.events.register("before-call", calls)
        yield calls
    reset_aws_clients()


@pytest.fixture
def secured(tmp_path: Path, aws: Calls) -> Iterator[JsonClient]:
    (tmp_path / "pym-config.yaml").write_text(textwrap.dedent(f"""
        name: secured
        jwt:
          secret: {{ssm: {PARAMETER}}}
          issuer: tests
    """))
    write_spec(tmp_path, "secured", "secured", "oas30")
    with Client(create_app(tmp_path, app_name="secured")) as client:
        yield JsonClient(client)


def put_secret() -> None:
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name=PARAMETER, Value=SECRET, Type="SecureString", Overwrite=True)


def bearer(user: str = "alice") -> dict:
    return {"Authorization": f"Bearer {generate_token(user)}"}


def test_public_requests_never_read_the_secret_and_protected_ones_read_it_once(
        secured: JsonClient, aws: Calls) -> None:
    put_secret()
    for _ in range(20):
        assert secured.get("/public").status == 200
        assert secured.get("/ping").status == 200
        assert secured.get("/me").status == 401  # no token: refused before any key is needed
    assert aws.names == []
    headers = bearer("alice")  # signing reads it once...
    for _ in range(100):  # ...and verifying a hundred tokens reads it no more
        reply = secured.get("/me", headers=headers)
        assert reply.status == 200 and reply.json["user_id"] == "alice"
    assert aws.names == ["GetParameter"]


def test_a_missing_secret_is_an_opaque_500_logged_with_its_cause_and_retried(
        secured: JsonClient, aws: Calls, caplog: pytest.LogCaptureFixture) -> None:
    import jwt

    token = jwt.encode({"sub": "alice", "iss": "tests", "exp": int(time.time()) + 600}, SECRET,
                       algorithm="HS256")
    headers = {"Authorization": f"Bearer {token}"}
    with caplog.at_level(logging.ERROR, logger="pym_lambda"):
        first = secured.get("/me", headers=headers)
    assert first.status == 500
    assert set(first.json) == {"status", "error", "error_description", "error_id"}
    assert first.json["status"] == 500 and first.json["error"] == "SERVER_ERROR"
    assert first.json["error_description"] == "the server failed to handle this request"
    assert PARAMETER not in first.body.decode() and "Traceback" not in first.body.decode()
    [record] = [r for r in caplog.records if first.json["error_id"] in r.getMessage()]
    assert (f"pym-config.yaml: jwt.secret: cannot read SSM parameter {PARAMETER}: "
            "ParameterNotFound") in record.getMessage()
    assert secured.get("/me", headers=headers).status == 500  # tried again, still missing
    put_secret()
    for _ in range(10):
        assert secured.get("/me", headers=headers).json["user_id"] == "alice"
    # Two failed reads, one that worked, then none: a failure is never kept.
    assert aws.names == ["GetParameter"] * 3
    assert SECRET not in caplog.text


# --- the example service's prod stage, as its Lambda starts ----------------------------------
# In a fresh process, the handler called with API Gateway events as the Lambda runtime calls it
# (chalice.test itself imports botocore).

SCRIPT = """
import json, os, sys, time
sys.path.insert(0, os.getcwd())
import app
from pym_lambda.testing.events import api_gateway_event, lambda_context

def call(path, headers=None):  # as the Lambda runtime calls the handler
    response = app.app(api_gateway_event("GET", path, headers=headers), lambda_context())
    return response["statusCode"], json.loads(response["body"] or "null")

heavy = ("boto3", "botocore")
out = {}
out["public"] = [call(p)[0] for p in ("/ping", "/version", "/v1/books")]
out["no_token"] = call("/auth/version")[0]
out["after_public"] = [m for m in heavy if m in sys.modules]

from moto import mock_aws
import jwt
from pym_lambda.aws import aws_client, reset_aws_clients

calls = []
token = jwt.encode({"sub": "ann", "iss": "pym-library", "exp": int(time.time()) + 600},
                   os.environ["SECRET_VALUE"], algorithm="HS256")
headers = {"Authorization": "Bearer " + token}
with mock_aws():
    reset_aws_clients()
    ssm = aws_client("ssm")
    ssm.meta.events.register("before-call", lambda model, **_: calls.append(model.name))
    status, body = call("/auth/version", headers)
    out["missing"] = [status, body["error"], body["error_description"]]
    ssm.put_parameter(Name=os.environ["PARAMETER"], Value=os.environ["SECRET_VALUE"],
                      Type="SecureString")
    out["protected"] = [call("/auth/version", headers)[0] for _ in range(25)]
out["calls"] = [c for c in calls if c == "GetParameter"]
print(json.dumps(out))
"""


def test_the_example_prod_stage_reads_its_secret_from_ssm_only_when_a_token_comes(
        tmp_path: Path) -> None:
    project = copy_example(tmp_path / "service")
    # What the Lambda package holds: the compiled form (with pym-config.yaml in it), no apis/.
    subprocess.run([sys.executable, "-m", "pym_lambda.build.cli", "build", "--project-dir",
                    str(project)], capture_output=True, text=True, check=True)
    shutil.rmtree(project / "apis")
    (project / "pym-config.yaml").unlink()
    env = {"PYM_STAGE": "prod", "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION,
           "AWS_EC2_METADATA_DISABLED": "true", "PATH": "/usr/bin:/bin",
           "PARAMETER": JWT_PARAMETER, "SECRET_VALUE": PROD_SECRET,
           "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=project, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["public"] == [200, 200, 200] and out["no_token"] == 401
    assert out["after_public"] == []  # no boto3, no botocore: nothing paid for the secret
    assert out["missing"] == [500, "SERVER_ERROR", "the server failed to handle this request"]
    assert f"cannot read SSM parameter {JWT_PARAMETER}: ParameterNotFound" in result.stdout
    assert out["protected"] == [200] * 25
    assert out["calls"] == ["GetParameter", "GetParameter"]  # the failure, then one read
    assert PROD_SECRET not in result.stdout + result.stderr


def test_the_token_command_signs_with_the_prod_secret_from_ssm(aws: Calls) -> None:
    import jwt
    from click.testing import CliRunner

    from pym_lambda.build.cli import main

    command = ["token", "ann", "--stage", "prod", "--project-dir", str(ROOT)]
    missing = CliRunner().invoke(main, command)
    assert missing.exit_code == 1 and "Traceback" not in missing.output
    assert (f"error: pym-config.yaml: stages.prod.jwt.secret: cannot read SSM parameter "
            f"{JWT_PARAMETER}: ParameterNotFound") in missing.output
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name=JWT_PARAMETER, Value=PROD_SECRET, Type="SecureString")
    signed = CliRunner().invoke(main, command)
    assert signed.exit_code == 0, signed.output
    claims = jwt.decode(signed.output.strip(), PROD_SECRET, algorithms=["HS256"],
                        issuer="pym-library")
    assert claims["sub"] == "ann" and aws.names == ["GetParameter"] * 2
