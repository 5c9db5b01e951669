"""`pym-lambda deploy|rollback|delete --target lambda` rehearsed on moto in process.

Each test deploys the example service (copied to a tmp folder) for the prod stage and checks
what exists in (fake) AWS after each step.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

import boto3
import pytest
from botocore.exceptions import ClientError

from pym_lambda.build.deploy.cli import delete, deploy, rollback
from pym_lambda.runtime.operation_checks import PREBUILT_FILE

from .deploy_fixtures import (
    API_FUNCTION,
    APP,
    BUCKET,
    DLQ,
    JWT_PARAMETER,
    PROD_SECRET,
    QUEUE,
    REGION,
    STAGE,
    WORKER,
    allow_plain_jwt_secret,
    deploy_sandbox,
    deployed_state,
    invoke,
)

DEPLOY = ("--stage", STAGE, "--yes", "--skip-verify")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    with deploy_sandbox(tmp_path, monkeypatch) as folder:
        yield folder


def client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


def mappings(function: str = WORKER) -> List[Dict[str, Any]]:
    return [m for m in client("lambda").list_event_source_mappings()["EventSourceMappings"]
            if m["FunctionArn"].endswith(f":function:{function}")]


def queue_attributes(name: str) -> Dict[str, str]:
    sqs = client("sqs")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    return dict(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"])


def rest_apis() -> List[Dict[str, Any]]:
    return list(client("apigateway").get_rest_apis()["items"])


def api_deployments() -> List[str]:
    return [d["id"] for d in client("apigateway").get_deployments(
        restApiId=rest_apis()[0]["id"])["items"]]


def code_shas() -> Dict[str, str]:
    lam = client("lambda")
    return {name: lam.get_function(FunctionName=name)["Configuration"]["CodeSha256"]
            for name in (API_FUNCTION, WORKER)}


def history() -> Dict[str, Any]:
    body = client("s3").get_object(Bucket=BUCKET, Key=f"{REGION}/{STAGE}/history.json")["Body"]
    return dict(json.loads(body.read()))


def assert_stage_deployed(project: Path) -> None:
    lam = client("lambda")
    functions = {f["FunctionName"]: f for f in lam.list_functions()["Functions"]}
    assert functions[API_FUNCTION]["Handler"] == "app.app"
    assert functions[WORKER]["Handler"] == "app.pym_task_worker_default"
    sqs = client("sqs")
    urls = {name: sqs.get_queue_url(QueueName=name)["QueueUrl"] for name in (QUEUE, DLQ)}
    for name in (API_FUNCTION, WORKER):
        # the stage's variables, what the runtime needs without .chalice/ (the app's name) and
        # the queues' URLs (no GetQueueUrl call at run time); the secret stays in SSM
        variables = functions[name]["Environment"]["Variables"]
        assert variables == {"PYM_STAGE": "prod", "PYM_APP_NAME": APP,
                             "PYM_TASK_QUEUE_URL_DEFAULT": urls[QUEUE],
                             "PYM_TASK_DLQ_URL_DEFAULT": urls[DLQ]}
        assert PROD_SECRET not in json.dumps(lam.get_function_configuration(FunctionName=name))
    # a role per function, each with its own statements on the stage's ARNs
    iam = client("iam")
    roles = {name: functions[name]["Role"].rsplit("/", 1)[-1] for name in (API_FUNCTION, WORKER)}
    assert roles == {API_FUNCTION: f"{APP}-{STAGE}-api_handler",
                     WORKER: f"{APP}-{STAGE}-pym_task_worker_default"}
    for function, role in roles.items():
        [policy] = iam.list_role_policies(RoleName=role)["PolicyNames"]
        document = iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
        sids = {s["Sid"]: s for s in document["Statement"]}
        assert sids["SendTasks"]["Resource"].endswith(f":sqs:{REGION}:123456789012:{QUEUE}")
        assert ("ConsumeTasks" in sids) == (function == WORKER)
        # read on exactly the parameter pym-config.yaml names for prod (build.secret_references)
        assert sids["ReadParameters"]["Action"] == ["ssm:GetParameter"]
        assert sids["ReadParameters"]["Resource"] == (
            f"arn:aws:ssm:{REGION}:123456789012:parameter{JWT_PARAMETER}")
        assert "ReadSecrets" not in sids and "DecryptSecrets" not in sids
    assert functions[API_FUNCTION]["Timeout"] == 29  # API Gateway gives up after 29 s
    assert functions[WORKER]["Timeout"] == 60
    [mapping] = mappings()
    assert mapping["EventSourceArn"].endswith(f":{QUEUE}")
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = queue_attributes(QUEUE)
    assert queue["VisibilityTimeout"] == "360"  # 6 x the worker's 60 s
    redrive = json.loads(queue["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"].endswith(f":{DLQ}")
    # AWS's advised minimum for a Lambda-read queue; send_loan_receipt's max_attempts=3 is
    # the worker's own limit.
    assert redrive["maxReceiveCount"] == 5
    assert queue_attributes(DLQ)["MessageRetentionPeriod"] == str(14 * 86400)
    [api] = rest_apis()
    paths = {r["path"] for r in client("apigateway").get_resources(restApiId=api["id"])["items"]}
    assert {"/ping", "/version", "/v1/books", "/v1/books/{book_id}"} <= paths
    stages = client("apigateway").get_stages(restApiId=api["id"])["item"]
    assert [s["stageName"] for s in stages] == ["api"]
    state = deployed_state(project)
    assert {r["name"] for r in state["resources"]} >= {"api_handler", "rest_api",
                                                       "pym_task_worker_default-sqs-event-source"}
    assert (project / "chalicelib" / "pym_compiled.json").is_file()
    assert (project / "chalicelib" / PREBUILT_FILE).is_file()  # the checks, prebuilt


def test_deploy_creates_the_stage_and_a_second_deploy_changes_nothing(project: Path) -> None:
    first = invoke(deploy, *DEPLOY, "--project-dir", str(project))
    assert first.exit_code == 0, first.output
    for step in ("[1/5] build", "[2/5] plan", "[3/5] apply", "[4/5] verify", "[5/5] summary"):
        assert step in first.output
    assert f"queues: {DLQ} create, {QUEUE} create" in first.output
    assert "partial batch responses" in first.output and "version: 1 recorded" in first.output
    assert "API URL: https://" in first.output and f"DLQ: {DLQ}" in first.output
    assert PROD_SECRET not in first.output
    assert_stage_deployed(project)
    before = (code_shas(), mappings()[0]["UUID"], rest_apis()[0]["id"], history(),
              api_deployments())

    second = invoke(deploy, *DEPLOY, "--project-dir", str(project))
    assert second.exit_code == 0, second.output
    assert f"queues: {DLQ} unchanged, {QUEUE} unchanged" in second.output
    assert "already set" in second.output and "version: 1 unchanged" in second.output
    assert "reconcile" not in second.output
    assert_stage_deployed(project)
    assert (code_shas(), mappings()[0]["UUID"], rest_apis()[0]["id"], history(),
            api_deployments()) == before  # no new API Gateway deployment either
    assert len(api_deployments()) == 1 and "definition unchanged" in second.output
    assert history()["current"] == 1 and len(history()["versions"]) == 1


def test_a_stage_that_allows_plain_secrets_gets_the_forwarded_one(project: Path) -> None:
    # The path every stage had before secrets moved to SSM, still there when the config says so.
    allow_plain_jwt_secret(project)
    result = invoke(deploy, *DEPLOY, "--project-dir", str(project))
    assert result.exit_code == 0, result.output
    assert "variables forwarded from this environment: JWT_SECRET" in result.output
    assert PROD_SECRET not in result.output
    functions = {f["FunctionName"]: f for f in client("lambda").list_functions()["Functions"]}
    for name in (API_FUNCTION, WORKER):
        assert functions[name]["Environment"]["Variables"]["JWT_SECRET"] == PROD_SECRET


def test_a_failure_midway_is_reported_and_the_rerun_completes_it(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from chalice.awsclient import TypedAWSClient

    def outage(self: Any, *args: Any, **kwargs: Any) -> None:
        raise ClientError({"Error": {"Code": "ServiceUnavailable",
                                     "Message": "simulated outage"}}, "ImportRestApi")

    # Chalice fails after the queues, the functions and the mapping exist: it records nothing.
    with monkeypatch.context() as patched:
        patched.setattr(TypedAWSClient, "import_rest_api", outage)
        failed = invoke(deploy, *DEPLOY, "--project-dir", str(project))
    assert failed.exit_code == 1
    assert ("error: chalice deploy: ImportRestApi: ServiceUnavailable: simulated outage"
            in failed.output)
    assert f"queue {QUEUE}" in failed.output and f"function {WORKER}" in failed.output
    assert "event source mapping" in failed.output and "run `pym-lambda deploy" in failed.output
    assert "Traceback" not in failed.output
    assert len(mappings()) == 1 and rest_apis() == []
    # What a naive retry (plain `chalice deploy`) would have added: a second mapping.
    client("lambda").create_event_source_mapping(
        EventSourceArn=mappings()[0]["EventSourceArn"], BatchSize=10,
        FunctionName=mappings()[0]["FunctionArn"])
    assert len(client("lambda").list_event_source_mappings()["EventSourceMappings"]) == 2

    rerun = invoke(deploy, *DEPLOY, "--project-dir", str(project))
    assert rerun.exit_code == 0, rerun.output
    assert "reconcile: deleted duplicate mapping" in rerun.output
    assert "reconcile: adopted unrecorded mapping" in rerun.output
    assert_stage_deployed(project)
    assert len(client("lambda").list_event_source_mappings()["EventSourceMappings"]) == 1


def test_a_lost_state_file_adopts_the_existing_resources(project: Path) -> None:
    assert invoke(deploy, *DEPLOY, "--project-dir", str(project)).exit_code == 0
    api_id = rest_apis()[0]["id"]
    # A fresh clone with no state anywhere (the S3 copy gone too).
    client("s3").delete_object(Bucket=BUCKET, Key=f"{REGION}/{STAGE}/deployed.json")
    (project / ".chalice" / "deployed" / f"{STAGE}.json").unlink()

    again = invoke(deploy, *DEPLOY, "--project-dir", str(project))
    assert again.exit_code == 0, again.output
    assert f"adopted unrecorded REST API {api_id}" in again.output
    assert [a["id"] for a in rest_apis()] == [api_id] and len(mappings()) == 1


def test_rollback_restores_the_previous_code(project: Path) -> None:
    assert invoke(deploy, *DEPLOY, "--project-dir", str(project)).exit_code == 0
    first = code_shas()
    with (project / "chalicelib" / "library.py").open("a") as source:
        source.write("\n# version 2\n")
    assert invoke(deploy, *DEPLOY, "--project-dir", str(project)).exit_code == 0
    second = code_shas()
    assert second != first and history()["current"] == 2

    back = invoke(rollback, "--stage", STAGE, "--yes", "--skip-verify",
                  "--project-dir", str(project))
    assert back.exit_code == 0, back.output
    assert "rolling back to version 1" in back.output
    assert code_shas() == first
    assert history()["current"] == 1 and history()["versions"][1]["rolled_back"] is True

    nothing = invoke(rollback, "--stage", STAGE, "--yes", "--project-dir", str(project))
    assert nothing.exit_code == 1
    assert "error: rollback: version 1 is the first one recorded" in nothing.output
    # The next deploy of the newer code records a new version.
    again = invoke(deploy, *DEPLOY, "--project-dir", str(project))
    assert "version: 3 recorded" in again.output and code_shas() == second


def test_delete_removes_functions_and_api_and_keeps_queues_unless_asked(project: Path) -> None:
    assert invoke(deploy, *DEPLOY, "--project-dir", str(project)).exit_code == 0
    removed = invoke(delete, "--stage", STAGE, "--yes", "--project-dir", str(project))
    assert removed.exit_code == 0, removed.output
    assert client("lambda").list_functions()["Functions"] == []
    assert client("lambda").list_event_source_mappings()["EventSourceMappings"] == []
    assert rest_apis() == []
    assert "kept queues" in removed.output and queue_attributes(QUEUE)
    assert deployed_state(project)["resources"] == []
    for role in ("api_handler", "pym_task_worker_default"):  # each function's role
        assert f"deleted IAM role {APP}-{STAGE}-{role}" in removed.output
        with pytest.raises(ClientError):
            client("iam").get_role(RoleName=f"{APP}-{STAGE}-{role}")
    assert [r["RoleName"] for r in client("iam").list_roles()["Roles"]] == []

    with_queues = invoke(delete, "--stage", STAGE, "--yes", "--include-queues",
                         "--project-dir", str(project))
    assert with_queues.exit_code == 0, with_queues.output
    assert client("sqs").list_queues().get("QueueUrls", []) == []
