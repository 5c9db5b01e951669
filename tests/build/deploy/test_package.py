"""`pym-lambda package`: Chalice's SAM template completed with the task queues, DLQs and
partial batch responses, which cfn-lint accepts with no finding."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pym_lambda.build.deploy.cli import package

from .deploy_fixtures import (
    API_FUNCTION,
    DLQ,
    PROD_SECRET,
    QUEUE,
    STAGE,
    WORKER,
    allow_plain_jwt_secret,
    deploy_sandbox,
    invoke,
)

# The Python running the build: Chalice packages native wheels (google-re2, for spec patterns)
# for it, whatever --runtime says. cfn-lint (E2533) flags runtimes AWS has deprecated, as
# python3.11 is by now: that one finding is ignored, the runtime is this machine's choice.
RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"


def cfn_lint() -> str:
    beside = Path(sys.executable).with_name("cfn-lint")  # this environment's first
    found = str(beside) if beside.exists() else shutil.which("cfn-lint")
    if not found:
        pytest.skip("cfn-lint is not installed (pip install cfn-lint)")
    return found


def lint(command: str, template: Path) -> str:
    run = subprocess.run([command, "--ignore-checks", "E2533", "--", str(template)],
                         capture_output=True, text=True, timeout=120)
    return run.stdout + run.stderr


def test_package_writes_a_template_with_queues_that_passes_cfn_lint(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    command = cfn_lint()
    with deploy_sandbox(tmp_path, monkeypatch, in_process_moto=False) as project:
        out = tmp_path / "out"
        result = invoke(package, "--stage", STAGE, "--project-dir", str(project),
                        "--out", str(out), "--runtime", RUNTIME)
        assert result.exit_code == 0, result.output
        assert "1 task queue(s) with DLQs, 1 SQS event(s)" in result.output
    text = (out / "sam.json").read_text()
    assert PROD_SECRET not in text and "JWT_SECRET" not in text  # prod reads it from SSM
    template = json.loads(text)
    resources = template["Resources"]
    queue, dlq = resources["TaskQueueDefault"], resources["TaskQueueDefaultDlq"]
    assert queue["Properties"]["QueueName"] == QUEUE
    assert queue["Properties"]["VisibilityTimeout"] == 360
    assert queue["Properties"]["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["TaskQueueDefaultDlq", "Arn"]},
        "maxReceiveCount": 5}
    assert dlq["Properties"]["QueueName"] == DLQ and dlq["DeletionPolicy"] == "Retain"
    worker = resources["PymTaskWorkerDefault"]["Properties"]
    assert worker["Handler"] == "app.pym_task_worker_default"
    [event] = worker["Events"].values()
    assert event["Properties"]["Queue"] == {"Fn::GetAtt": ["TaskQueueDefault", "Arn"]}
    assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "Parameters" not in template  # nothing forwarded, so no parameter to pass
    for function in (worker, resources["APIHandler"]["Properties"]):
        assert "JWT_SECRET" not in function["Environment"]["Variables"]
    assert worker["Runtime"] == RUNTIME
    # the queues' URLs and the names deploy would give, for every function
    api = resources["APIHandler"]["Properties"]
    for function, name in ((worker, WORKER), (api, API_FUNCTION)):
        assert function["FunctionName"] == name
        assert function["Environment"]["Variables"]["PYM_TASK_QUEUE_URL_DEFAULT"] == {
            "Ref": "TaskQueueDefault"}
        assert function["Environment"]["Variables"]["PYM_TASK_DLQ_URL_DEFAULT"] == {
            "Ref": "TaskQueueDefaultDlq"}
        assert function["Environment"]["Variables"]["PYM_APP_NAME"] == "pym-library"
    assert api["Timeout"] == 29
    # a role per function, on the stage's ARNs (Fn::Sub), never "*"
    statements = {role: {s["Sid"]: s for s in resources[role]["Properties"]["Policies"][0][
        "PolicyDocument"]["Statement"]} for role in ("ApiHandlerRole", "PymTaskWorkerDefaultRole")}
    queue_arn = {"Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:"
                            + QUEUE}
    assert statements["ApiHandlerRole"]["SendTasks"]["Resource"] == queue_arn
    assert "ConsumeTasks" not in statements["ApiHandlerRole"]
    assert statements["PymTaskWorkerDefaultRole"]["ConsumeTasks"]["Resource"] == queue_arn
    assert statements["PymTaskWorkerDefaultRole"]["DeadLetterTasks"]["Resource"] == {
        "Fn::Sub": queue_arn["Fn::Sub"] + "-dlq"}
    for role in statements.values():
        for statement in role.values():
            assert statement["Resource"]["Fn::Sub"].startswith("arn:${AWS::Partition}:")
    assert api["Role"] == {"Fn::GetAtt": ["ApiHandlerRole", "Arn"]}
    for role in statements.values():  # the prod secret, read from SSM by every function
        assert role["ReadParameters"]["Resource"] == {"Fn::Sub": (
            "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"
            "/pym-library/prod/jwt-secret")}
    assert (out / "deployment.zip").is_file()
    assert lint(command, out / "sam.json") == ""


def test_a_plain_secret_a_stage_allows_becomes_a_noecho_parameter(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with deploy_sandbox(tmp_path, monkeypatch, in_process_moto=False) as project:
        allow_plain_jwt_secret(project)
        out = tmp_path / "out"
        result = invoke(package, "--stage", STAGE, "--project-dir", str(project),
                        "--out", str(out), "--runtime", RUNTIME)
        assert result.exit_code == 0, result.output
    text = (out / "sam.json").read_text()
    assert PROD_SECRET not in text  # the secret is a NoEcho parameter, never in the file
    template = json.loads(text)
    assert template["Parameters"]["JwtSecret"]["NoEcho"] is True
    worker = template["Resources"]["PymTaskWorkerDefault"]["Properties"]
    assert worker["Environment"]["Variables"]["JWT_SECRET"] == {"Ref": "JwtSecret"}
