"""Traces' deploy side (issue #20 item 1), rehearsed on moto in process like test_alarms.py:
`tracing.enabled` turns on Lambda active tracing for every function of the stage and grants the
roles what the X-Ray daemon needs to send segments; `package`'s template says the same."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

import boto3
import pytest

from pym_lambda.build.deploy.cli import deploy

from .deploy_fixtures import API_FUNCTION, REGION, STAGE, WORKER, deploy_sandbox, invoke
from .test_alarms import DEPLOY, enable

XRAY_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def role_actions(function: str) -> List[str]:
    """Every action the inline policies of `function`'s role allow."""
    lam, iam = boto3.client("lambda", region_name=REGION), boto3.client("iam")
    role = lam.get_function_configuration(FunctionName=function)["Role"].rsplit("/", 1)[1]
    actions: List[str] = []
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        if isinstance(document, str):
            document = json.loads(document)
        for statement in document["Statement"]:
            action = statement.get("Action", [])
            actions += [action] if isinstance(action, str) else action
    return actions


def tracing_mode(function: str) -> Any:
    config = boto3.client("lambda", region_name=REGION).get_function_configuration(
        FunctionName=function)
    return (config.get("TracingConfig") or {}).get("Mode")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    with deploy_sandbox(tmp_path, monkeypatch) as folder:
        yield folder


def test_deploy_turns_on_active_tracing_and_grants_the_daemons_permissions(
        project: Path) -> None:
    enable(project, "tracing:\n  enabled: true\n")
    result = invoke(deploy, *DEPLOY, "--project-dir", str(project))
    assert result.exit_code == 0, result.output
    for function in (API_FUNCTION, WORKER):
        assert tracing_mode(function) == "Active"
        assert XRAY_ACTIONS <= set(role_actions(function))


def test_without_tracing_no_active_tracing_and_no_xray_permissions(project: Path) -> None:
    result = invoke(deploy, *DEPLOY, "--project-dir", str(project))
    assert result.exit_code == 0, result.output
    for function in (API_FUNCTION, WORKER):
        assert tracing_mode(function) in (None, "PassThrough")
        assert not XRAY_ACTIONS & set(role_actions(function))


def test_package_template_traces_every_function(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from pym_lambda.build.deploy.cli import package

    from .test_package import RUNTIME

    with deploy_sandbox(tmp_path, monkeypatch, in_process_moto=False) as project:
        enable(project, "tracing:\n  enabled: true\n")
        out = tmp_path / "out"
        result = invoke(package, "--stage", STAGE, "--project-dir", str(project),
                        "--out", str(out), "--runtime", RUNTIME)
        assert result.exit_code == 0, result.output
    template: Dict[str, Any] = json.loads((out / "sam.json").read_text())
    functions = {name: r["Properties"] for name, r in template["Resources"].items()
                 if r["Type"] == "AWS::Serverless::Function"}
    assert len(functions) >= 2
    tracing = template.get("Globals", {}).get("Function", {}).get("Tracing")
    for name, properties in functions.items():
        assert properties.get("Tracing", tracing) == "Active", name
    text = json.dumps(template)
    assert all(action in text for action in XRAY_ACTIONS)
