"""deploy, package and delete make the idempotency table only when something is idempotent,
and each function's role may use that table, and nothing else, as IAM enforced on moto shows
with the runtime's own calls (pym_lambda/tasks/idempotency.py)."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, Iterator, List

import boto3
import pytest
from botocore.exceptions import ClientError

from pym_lambda.aws import reset_aws_clients
from pym_lambda.build.deploy.cli import delete, deploy, package
from pym_lambda.tasks.idempotency import IdempotencyStore

from .deploy_fixtures import APP, REGION, STAGE, WORKER, deploy_sandbox, invoke

TABLE = f"{APP}-{STAGE}-idempotency"
ACCOUNT = "123456789012"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{TABLE}"
ACTIONS = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
DEPLOY = ("--stage", STAGE, "--yes", "--skip-verify")
TASK_LINE = '@async_task(queue="default", max_attempts=3)'


def make_idempotent(project: Path) -> None:
    tasks = project / "chalicelib" / "tasks.py"
    text = tasks.read_text()
    assert TASK_LINE in text
    tasks.write_text(text.replace(TASK_LINE, TASK_LINE[:-1] + ", idempotent=True)"))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    with deploy_sandbox(tmp_path, monkeypatch) as folder:
        yield folder


def client(service: str, session: Any = boto3) -> Any:
    return session.client(service, region_name=REGION)


def role_statements(function: str) -> Dict[str, Dict[str, Any]]:
    iam = client("iam")
    role = client("lambda").get_function(FunctionName=function)["Configuration"]["Role"]
    name = role.rsplit("/", 1)[-1]
    found: Dict[str, Dict[str, Any]] = {}
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
        document = json.loads(document) if isinstance(document, str) else document
        found.update({s["Sid"]: s for s in document["Statement"]})
    return found


def test_a_stage_without_idempotent_work_gets_no_table(project: Path) -> None:
    result = invoke(deploy, *DEPLOY, "--project-dir", str(project))
    assert result.exit_code == 0, result.output
    assert "idempotency" not in result.output
    assert client("dynamodb").list_tables()["TableNames"] == []
    assert "IdempotencyRecords" not in role_statements(WORKER)


def test_deploy_makes_the_table_and_delete_keeps_it_unless_asked(project: Path) -> None:
    make_idempotent(project)
    dry = invoke(deploy, *DEPLOY, "--dry-run", "--project-dir", str(project))
    assert f"idempotency table {TABLE} (DynamoDB, pay per request, TTL on expiration)" in \
        dry.output
    assert f"read and write records of {TABLE}" in dry.output
    result = invoke(deploy, *DEPLOY, "--project-dir", str(project))
    assert result.exit_code == 0, result.output
    assert f"table: {TABLE} created" in result.output
    dynamodb = client("dynamodb")
    table = dynamodb.describe_table(TableName=TABLE)["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert dynamodb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED", "AttributeName": "expiration"}
    for function in (WORKER, f"{APP}-{STAGE}"):
        statement = role_statements(function)["IdempotencyRecords"]
        assert statement["Action"] == ACTIONS and statement["Resource"] == TABLE_ARN
    again = invoke(deploy, *DEPLOY, "--project-dir", str(project))
    assert f"table: {TABLE} unchanged" in again.output

    kept = invoke(delete, "--stage", STAGE, "--yes", "--project-dir", str(project))
    assert f"kept idempotency table {TABLE}" in kept.output
    assert dynamodb.list_tables()["TableNames"] == [TABLE]
    gone = invoke(delete, "--stage", STAGE, "--yes", "--include-queues",
                  "--project-dir", str(project))
    assert f"deleted idempotency table {TABLE}" in gone.output
    assert dynamodb.list_tables()["TableNames"] == []


def test_an_idempotent_operation_alone_asks_for_the_table(project: Path) -> None:
    spec = project / "apis" / "library.yaml"
    line = "      x-bind-server: chalicelib.library.add_book\n"
    assert line in spec.read_text()
    spec.write_text(spec.read_text().replace(line, line + "      x-idempotent: true\n"))
    dry = invoke(deploy, *DEPLOY, "--dry-run", "--project-dir", str(project))
    assert dry.exit_code == 0, dry.output
    assert f"idempotency table {TABLE}" in dry.output


@pytest.fixture
def enforced_iam(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto checks every call against the caller's policies from now on. It names the
    resource of a DynamoDB call "*", as it does SSM's: the table's ARN is given, as AWS
    evaluates it."""
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.dynamodb.responses import DynamoHandler

    def determine_resource(self: Any) -> str:
        name = (self.body or {}).get("TableName") if isinstance(self.body, dict) else None
        if not name:
            return "*"
        return f"arn:aws:dynamodb:{self.region}:{self.current_account}:table/{name}"

    monkeypatch.setattr(DynamoHandler, "_determine_resource", determine_resource,
                        raising=False)
    monkeypatch.setattr(settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)
    monkeypatch.setattr(ActionAuthenticatorMixin, "request_count", 0)
    try:
        yield
    finally:
        ActionAuthenticatorMixin.request_count = 0


def denied(call: Any) -> bool:
    try:
        call()
    except ClientError as exc:
        return exc.response["ResponseMetadata"]["HTTPStatusCode"] == 403 and (
            "is not authorized to perform" in str(exc))
    return False


def test_the_worker_role_may_use_its_table_and_nothing_else(
        project: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    make_idempotent(project)
    assert invoke(deploy, *DEPLOY, "--project-dir", str(project)).exit_code == 0
    iam = client("iam")
    iam.create_user(UserName="admin")
    iam.put_user_policy(UserName="admin", PolicyName="all", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="admin")["AccessKey"]
    role = client("lambda").get_function(FunctionName=WORKER)["Configuration"]["Role"]
    # moto cannot evaluate a Service principal: the trust (never the permissions) is replaced
    iam.update_assume_role_policy(RoleName=role.rsplit("/", 1)[-1], PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/admin"}}]}))
    client("dynamodb").create_table(
        TableName="another", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    request.getfixturevalue("enforced_iam")
    admin = boto3.session.Session(aws_access_key_id=key["AccessKeyId"],
                                  aws_secret_access_key=key["SecretAccessKey"],
                                  region_name=REGION)
    credentials = client("sts", admin).assume_role(RoleArn=role, RoleSessionName="worker")[
        "Credentials"]
    # The runtime's own calls, with the role's credentials as Lambda gives them
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", credentials["SessionToken"])
    reset_aws_clients()
    try:
        store = IdempotencyStore(TABLE, REGION)
        assert store.begin("task#t#1", run_seconds=60, expires_seconds=600) is None
        assert store.begin("task#t#1", run_seconds=60, expires_seconds=600) is not None
        store.complete("task#t#1", expires_seconds=600)
        store.release("task#t#1")
        assert store.begin("task#t#1", run_seconds=60, expires_seconds=600) is None
        dynamodb = boto3.session.Session().client("dynamodb", region_name=REGION)  # the role's
        item = {"id": {"S": "x"}}
        calls: List[Any] = [
            lambda: dynamodb.put_item(TableName="another", Item=item),
            lambda: dynamodb.get_item(TableName="another", Key=item),
            lambda: dynamodb.scan(TableName=TABLE),
            lambda: dynamodb.delete_table(TableName=TABLE),
            lambda: dynamodb.list_tables()]
        assert [denied(call) for call in calls] == [True] * len(calls)
    finally:
        reset_aws_clients()
    assert os.environ["AWS_SESSION_TOKEN"]  # (restored by monkeypatch after the test)


def test_package_adds_the_table_and_its_access(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from .test_package import RUNTIME, cfn_lint, lint

    command = cfn_lint()
    with deploy_sandbox(tmp_path, monkeypatch, in_process_moto=False) as project:
        make_idempotent(project)
        out = tmp_path / "out"
        result = invoke(package, "--stage", STAGE, "--project-dir", str(project),
                        "--out", str(out), "--runtime", RUNTIME)
        assert result.exit_code == 0, result.output
        assert f"idempotency table {TABLE}" in result.output
    template = json.loads((out / "sam.json").read_text())
    resources = template["Resources"]
    table = resources["IdempotencyTable"]
    assert table["Type"] == "AWS::DynamoDB::Table" and table["DeletionPolicy"] == "Retain"
    assert table["Properties"]["TableName"] == TABLE
    assert table["Properties"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": "expiration", "Enabled": True}
    arn = {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/"
                      + TABLE}
    for role in ("ApiHandlerRole", "PymTaskWorkerDefaultRole"):
        statements = {s["Sid"]: s for s in resources[role]["Properties"]["Policies"][0][
            "PolicyDocument"]["Statement"]}
        assert statements["IdempotencyRecords"]["Action"] == ACTIONS
        assert statements["IdempotencyRecords"]["Resource"] == arn
    assert lint(command, out / "sam.json") == ""


def test_every_kind_of_function_gets_the_table_and_only_with_one() -> None:
    from pym_lambda.build.deploy.beanstalk_iam import stage_access
    from pym_lambda.build.deploy.permissions import (
        Arns,
        StageAccess,
        api_statements,
        container_statements,
    )

    arns = Arns(REGION, ACCOUNT)
    with_table = StageAccess(tables=(TABLE,))
    for statements in (api_statements(with_table, arns, "f"),
                       container_statements(stage_access((), with_table), arns)):
        [statement] = [s for s in statements if s["Sid"] == "IdempotencyRecords"]
        assert (statement["Action"], statement["Resource"]) == (ACTIONS, TABLE_ARN)
    assert not [s for s in container_statements(StageAccess(), arns)
                if s["Sid"] == "IdempotencyRecords"]


def test_delete_or_keep_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """What both targets' `delete` do with the table (named without importing app.py)."""
    import types

    from pym_lambda.aws import aws_client
    from pym_lambda.build.deploy.idempotency_table import TableDefinition as Definition
    from pym_lambda.build.deploy.idempotency_table import delete_or_keep, ensure_table
    from pym_lambda.testing.aws import in_process_aws

    config = types.SimpleNamespace(app_name=APP, stage=STAGE, environment_variables={})
    lines: List[str] = []

    def guarded(_step: str, action: Any) -> Any:
        return action()

    with in_process_aws(REGION):
        dynamodb = aws_client("dynamodb")
        delete_or_keep(config, dynamodb, True, lines.append, guarded)
        assert lines == []  # no table: nothing said
        ensure_table(Definition(TABLE), dynamodb)
        delete_or_keep(config, dynamodb, False, lines.append, guarded)
        delete_or_keep(config, dynamodb, True, lines.append, guarded)
        assert lines == [f"kept idempotency table {TABLE} (--include-queues deletes it)",
                         f"deleted idempotency table {TABLE}"]
        assert dynamodb.list_tables()["TableNames"] == []
