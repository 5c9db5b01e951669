"""The deploy rehearsal with IAM enforced: what deploy shipped, run with the roles it created.

`pym-lambda deploy --stage prod` against a moto server on 127.0.0.1; then moto's IAM
enforcement is turned on, the roles deploy created are assumed, and the very zip deploy
uploaded (found by its CodeSha256 among Chalice's cached packages) runs in the emulated Lambda
runtime with each function's configuration as deployed (handler, variables) and its role's
credentials. Every AWS call the runtime makes goes through a recording proxy: each one must
be allowed, and calls outside a role's rights must be denied.

moto gaps lived with here, never in shipped code (FACTS.md): a role's trust policy names a
service (lambda.amazonaws.com), which moto cannot evaluate for AssumeRole, so the trust (never
the permissions) is replaced by one naming the rehearsal's admin user; the event source
mapping is disabled, as moto would try to run the worker in Docker: the test plays the poller;
moto evaluates SSM calls on resource "*", so they are given their parameter's ARN.
"""
from __future__ import annotations

import json
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import boto3
import jwt
import pytest
from botocore.exceptions import ClientError

from pym_lambda.build.deploy.artifact import (
    FunctionSpec,
    find_interpreter,
    runtime_libraries,
    unpack,
)
from pym_lambda.build.deploy.cli import deploy
from pym_lambda.build.deploy.lambda_events import RestApi, api_gateway_event, sqs_event
from pym_lambda.build.deploy.lambda_process import LambdaProcess
from pym_lambda.build.deploy.state import find_package

from .deploy_fixtures import (
    API_FUNCTION,
    APP,
    DLQ,
    JWT_PARAMETER,
    PROD_SECRET,
    QUEUE,
    REGION,
    STAGE,
    WORKER,
    RecordingProxy,
    invoke,
    rehearsal_sandbox,
)

ACCOUNT = "123456789012"
ADMIN = "rehearsal-admin"

# The example's receipt task, made to ask for a retry or to fail for chosen readers.
FAILING_READERS = '''    task = current_task()
    if loan.reader == "later":
        from pym_lambda import RetryLater

        raise RetryLater(delay_seconds=30)
    if loan.reader == "never":
        raise RuntimeError("the receipt printer is on fire")
'''


@dataclass
class Rehearsal:
    endpoint: str
    project: Path
    proxy: RecordingProxy
    admin: boto3.session.Session
    sessions: Dict[str, boto3.session.Session]  # function name -> its role's session
    keys: Dict[str, str]  # function name -> its role's access key id
    specs: Dict[str, FunctionSpec]
    task_root: Path
    interpreter: str
    libraries: Path
    api: RestApi

    def start(self, function: str, **environment: str) -> LambdaProcess:
        credentials = self.sessions[function].get_credentials().get_frozen_credentials()
        return LambdaProcess(self.specs[function], self.task_root, interpreter=self.interpreter,
                             libraries=self.libraries, region=REGION, invoke_timeout=30,
                             environment={"AWS_ACCESS_KEY_ID": credentials.access_key,
                                          "AWS_SECRET_ACCESS_KEY": credentials.secret_key,
                                          "AWS_SESSION_TOKEN": credentials.token,
                                          "AWS_ENDPOINT_URL": self.proxy.url,
                                          **environment}).start()


def admin_session(iam: Any) -> boto3.session.Session:
    iam.create_user(UserName=ADMIN)
    iam.put_user_policy(UserName=ADMIN, PolicyName="everything", PolicyDocument=json.dumps(
        {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName=ADMIN)["AccessKey"]
    return boto3.session.Session(aws_access_key_id=key["AccessKeyId"],
                                 aws_secret_access_key=key["SecretAccessKey"],
                                 region_name=REGION)


def enforce_iam(endpoint: str) -> None:
    # from now on every call is authenticated and checked against the caller's policies
    request = urllib.request.Request(f"{endpoint}/moto-api/reset-auth", data=b"0",
                                     method="POST", headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.loads(response.read())["status"] == "ok"


def assume(admin: boto3.session.Session, role_arn: str) -> boto3.session.Session:
    credentials = admin.client("sts").assume_role(RoleArn=role_arn,
                                                  RoleSessionName="rehearsal")["Credentials"]
    return boto3.session.Session(aws_access_key_id=credentials["AccessKeyId"],
                                 aws_secret_access_key=credentials["SecretAccessKey"],
                                 aws_session_token=credentials["SessionToken"],
                                 region_name=REGION)


def deployed_spec(configuration: Dict[str, Any]) -> FunctionSpec:
    """The function as deployed: what Lambda would start."""
    return FunctionSpec(
        logical_id=configuration["FunctionName"], handler=configuration["Handler"],
        runtime=configuration["Runtime"], timeout=configuration["Timeout"],
        memory=configuration["MemorySize"],
        environment=dict(configuration["Environment"]["Variables"]),
        function_name=configuration["FunctionName"],
        tracing=(configuration.get("TracingConfig") or {}).get("Mode") == "Active")


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rehearsal]:
    base = tmp_path_factory.mktemp("rehearsal")
    with pytest.MonkeyPatch.context() as monkeypatch, \
            rehearsal_sandbox(base, monkeypatch) as (project, endpoint):
        tasks = project / "chalicelib" / "tasks.py"
        tasks.write_text(tasks.read_text().replace("    task = current_task()\n",
                                                   FAILING_READERS))
        result = invoke(deploy, "--stage", STAGE, "--yes", "--skip-verify",
                        "--project-dir", str(project))
        assert result.exit_code == 0, result.output
        yield prepare(project, endpoint, base)


def prepare(project: Path, endpoint: str, base: Path) -> Rehearsal:
    lam = boto3.client("lambda", region_name=REGION)
    iam = boto3.client("iam", region_name=REGION)
    configurations = {name: lam.get_function(FunctionName=name)["Configuration"]
                      for name in (API_FUNCTION, WORKER)}
    [sha] = {c["CodeSha256"] for c in configurations.values()}
    package = find_package(project, sha)  # the very zip deploy uploaded
    assert package is not None
    # The test plays Lambda's poller (moto would try to run the worker in Docker).
    for mapping in lam.list_event_source_mappings()["EventSourceMappings"]:
        lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
    # moto's API Gateway fails signatures once IAM is enforced: its routes are read before
    api = RestApi.from_template({"Resources": {"RestAPI": {
        "Type": "AWS::Serverless::Api",
        "Properties": {"DefinitionBody": rest_api_definition(boto3.client(
            "apigateway", region_name=REGION))}}}})
    admin = admin_session(iam)
    for role in iam.list_roles()["Roles"]:  # moto cannot evaluate a Service principal
        iam.update_assume_role_policy(RoleName=role["RoleName"], PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "sts:AssumeRole",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/{ADMIN}"}}]}))
    enforce_iam(endpoint)
    sessions = {name: assume(admin, c["Role"]) for name, c in configurations.items()}
    keys = {name: s.get_credentials().access_key for name, s in sessions.items()}
    specs = {name: deployed_spec(c) for name, c in configurations.items()}
    interpreter = find_interpreter(specs[API_FUNCTION].runtime)
    if not interpreter.available:
        pytest.skip(interpreter.reason)
    libraries, missing = runtime_libraries(base / "runtime")
    assert missing == ()
    proxy = RecordingProxy(endpoint).__enter__()
    return Rehearsal(endpoint, project, proxy, admin, sessions, keys, specs,
                     unpack(package, base / "lambda"), str(interpreter.executable), libraries,
                     api)


def rest_api_definition(apigateway: Any) -> Dict[str, Any]:
    """The routes of the REST API deploy created, as API Gateway holds them."""
    [api] = apigateway.get_rest_apis()["items"]
    resources = apigateway.get_resources(restApiId=api["id"], limit=500)["items"]
    return {"x-amazon-apigateway-binary-media-types": api.get("binaryMediaTypes", []),
            "paths": {r["path"]: {("x-amazon-apigateway-any-method" if m == "ANY"
                                   else m.lower()): {} for m in r["resourceMethods"]}
                      for r in resources if r.get("resourceMethods")}}


def token(user: str = "alice") -> str:
    now = int(time.time())
    return jwt.encode({"sub": user, "iss": APP, "iat": now, "exp": now + 300}, PROD_SECRET,
                      algorithm="HS256")


def call(process: LambdaProcess, api: RestApi, method: str, path: str,
         **kwargs: Any) -> Tuple[int, Any]:
    result = process.invoke(api_gateway_event(api, method, path, **kwargs))
    return result["statusCode"], json.loads(result["body"]) if result["body"] else None


def lend(process: LambdaProcess, api: RestApi, reader: str) -> Dict[str, Any]:
    status, book = call(process, api, "POST", "/v1/books", json_body={
        "title": f"A book for {reader}", "authors": [{"name": "Octavia E. Butler"}]})
    assert status == 201, book
    status, loan = call(process, api, "POST", f"/v1/books/{book['id']}/loans",
                        json_body={"reader": reader, "due": "2099-01-01"},
                        headers={"Authorization": f"Bearer {token()}"})
    assert status == 201, loan
    return dict(loan)


def received(sqs: Any, name: str, count: int) -> List[Dict[str, Any]]:
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    messages: List[Dict[str, Any]] = []
    deadline = time.monotonic() + 10
    while len(messages) < count and time.monotonic() < deadline:
        messages += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                        AttributeNames=["All"], MessageAttributeNames=["All"],
                                        VisibilityTimeout=0, WaitTimeSeconds=1
                                        ).get("Messages", [])
    return messages


def denied(call: Any) -> bool:
    try:
        call()
    except ClientError as exc:
        return exc.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    return False


def test_the_deployed_package_does_its_work_with_the_deployed_roles(
        rehearsal: Rehearsal) -> None:
    r = rehearsal
    admin_sqs = r.admin.client("sqs")
    with r.start(API_FUNCTION) as api:
        assert api.init_error is None, api.init_error
        assert call(api, r.api, "GET", "/ping") == (200, {})
        loans = {reader: lend(api, r.api, reader) for reader in ("bob", "later", "never")}
    messages = {m["Body"]: m for m in received(admin_sqs, QUEUE, 3)}
    by_reader = {reader: next(m for body, m in messages.items() if loan["id"] in body)
                 for reader, loan in loans.items()}
    # The receipt task of bob's loan runs; "later" asks for a retry (ChangeMessageVisibility);
    # "never" fails on its last attempt (max_attempts=3) and is dead-lettered by the worker.
    by_reader["never"]["Attributes"]["ApproximateReceiveCount"] = "3"
    queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{QUEUE}"
    with r.start(WORKER) as worker:
        assert worker.init_error is None, worker.init_error
        result = worker.invoke(sqs_event(list(by_reader.values()), queue_arn))
    assert result == {"batchItemFailures": [
        {"itemIdentifier": by_reader["later"]["MessageId"]}]}, worker.logs
    # (prod logs from WARNING up: bob's receipt, which succeeded, leaves no line)
    assert worker.logs.count("dead-lettered (max_attempts) after attempt 3") == 1
    [dead] = received(admin_sqs, DLQ, 1)
    assert loans["never"]["id"] in dead["Body"]
    assert dead["MessageAttributes"]["pym_failure"]["StringValue"] == "max_attempts"

    # Every call the runtime made was allowed, and they were these.
    api_calls = r.proxy.by(r.keys[API_FUNCTION])
    worker_calls = r.proxy.by(r.keys[WORKER])
    # (the JWT secret read once from SSM, at the first token: the process is warm after)
    assert [(c.action, c.status) for c in api_calls] == [("ssm:GetParameter", 200)] + [
        ("sqs:SendMessage", 200)] * 3
    # (the worker reads the JWT secret once too: the task callers' key is derived from it)
    assert sorted((c.action, c.status) for c in worker_calls) == [
        ("sqs:ChangeMessageVisibility", 200), ("sqs:SendMessage", 200),
        ("ssm:GetParameter", 200)]
    assert "could not" not in worker.logs  # no visibility change or dead-letter was refused


def test_calls_outside_each_role_are_denied(rehearsal: Rehearsal) -> None:
    r = rehearsal
    admin_sqs = r.admin.client("sqs")
    queue = admin_sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    dlq = admin_sqs.get_queue_url(QueueName=DLQ)["QueueUrl"]
    other = admin_sqs.create_queue(QueueName=f"{APP}-dev-default")["QueueUrl"]
    api = r.sessions[API_FUNCTION].client("sqs", endpoint_url=r.proxy.url)
    worker = r.sessions[WORKER].client("sqs", endpoint_url=r.proxy.url)
    # the API function sends tasks; it neither consumes them nor writes to the DLQ
    assert denied(lambda: api.receive_message(QueueUrl=queue))
    assert denied(lambda: api.send_message(QueueUrl=dlq, MessageBody="{}"))
    assert denied(lambda: api.delete_queue(QueueUrl=queue))
    # a worker works on its stage's queues only
    assert denied(lambda: worker.send_message(QueueUrl=other, MessageBody="{}"))
    assert denied(lambda: worker.receive_message(QueueUrl=other))
    assert denied(lambda: worker.list_queues())
    # each reads the stage's JWT parameter, and no other one
    r.admin.client("ssm").put_parameter(Name=f"/{APP}/dev/jwt-secret", Value="x" * 40,
                                        Type="SecureString", Overwrite=True)
    for session in r.sessions.values():
        ssm = session.client("ssm", endpoint_url=r.proxy.url)
        assert not denied(lambda c=ssm: c.get_parameter(Name=JWT_PARAMETER,
                                                        WithDecryption=True))
        assert denied(lambda c=ssm: c.get_parameter(Name=f"/{APP}/dev/jwt-secret",
                                                    WithDecryption=True))
    for session in r.sessions.values():  # and nothing beyond SQS and that parameter
        assert denied(lambda s=session: s.client("iam", endpoint_url=r.proxy.url).list_roles())
        assert denied(lambda s=session: s.client(
            "lambda", endpoint_url=r.proxy.url).list_functions())
    # allowed, for contrast: the same clients can do what their role grants
    assert not denied(lambda: api.send_message(QueueUrl=queue, MessageBody="{}"))
    assert not denied(lambda: worker.receive_message(QueueUrl=queue, VisibilityTimeout=0))
