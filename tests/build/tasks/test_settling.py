"""What real AWS does and moto does not, injected: a new event source mapping refuses updates
for seconds (ResourceInUseException), a queue deleted less than 60 s ago can't be created again
(QueueDeletedRecently), and ARNs of other partitions. The waits are bounded and proven with a
fake sleep: no test here sleeps.
"""
from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any, Dict, Iterator, List

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber

from pym_lambda.aws import aws_client
from pym_lambda.build.deploy import lambda_target
from pym_lambda.build.deploy.cli import delete, deploy
from pym_lambda.build.deploy.errors import DeployError, StepRunner
from pym_lambda.build.deploy.inventory import function_mappings
from pym_lambda.build.tasks.queues import enable_partial_batch_responses, ensure_queues, is_sqs_arn
from pym_lambda.build.tasks.settling import (
    MAPPING_RETRY_SECONDS,
    MAPPING_WAIT_SECONDS,
    QUEUE_RECREATE_WAIT_SECONDS,
    StillSettling,
)
from tests.build.deploy.deploy_fixtures import DLQ, QUEUE, REGION, STAGE, deploy_sandbox, invoke
from tests.tasks.tasks_fixtures import create_queues, moto_sqs

CN_QUEUE_ARN = "arn:aws-cn:sqs:cn-north-1:123456789012:shop-prod-default"
CN_FUNCTION_ARN = "arn:aws-cn:lambda:cn-north-1:123456789012:function:shop-prod-worker"
UUID = "11111111-2222-3333-4444-555555555555"
IN_USE = "Cannot update the event source mapping because it is in use."
DELETED_RECENTLY = ("You must wait 60 seconds after deleting a queue before you can create "
                    "another with the same name.")


class FakeSleep:
    """Records the waits; `clock` is what they add up to."""

    def __init__(self) -> None:
        self.calls: List[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)

    @property
    def clock(self) -> float:
        return sum(self.calls)


@pytest.fixture
def lam() -> Iterator[Any]:
    client = boto3.client("lambda", region_name="cn-north-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    with Stubber(client) as stubber:
        client.stubber = stubber  # type: ignore[attr-defined]
        yield client
    stubber.assert_no_pending_responses()


def mapping(arn: str, uuid: str = UUID, types: Any = None) -> Dict[str, Any]:
    return {"UUID": uuid, "EventSourceArn": arn, "FunctionArn": CN_FUNCTION_ARN,
            "FunctionResponseTypes": types or []}


def list_mappings(lam: Any, *mappings: Dict[str, Any]) -> None:
    lam.stubber.add_response("list_event_source_mappings",
                             {"EventSourceMappings": list(mappings)},
                             {"FunctionName": "shop-prod-worker"})


def refuse_update(lam: Any, times: int, code: str = "ResourceInUseException",
                  message: str = IN_USE) -> None:
    for _ in range(times):
        lam.stubber.add_client_error("update_event_source_mapping", service_error_code=code,
                                     service_message=message, http_status_code=400)


def accept_update(lam: Any) -> None:
    lam.stubber.add_response(
        "update_event_source_mapping", {"UUID": UUID},
        {"UUID": UUID, "FunctionResponseTypes": ["ReportBatchItemFailures"]})


# --- the partial batch responses on a mapping that is still settling ------------------------

def test_a_mapping_still_creating_is_updated_once_it_settles(lam: Any) -> None:
    sleep, said = FakeSleep(), []
    list_mappings(lam, mapping(CN_QUEUE_ARN),
                  mapping("arn:aws-cn:kinesis:cn-north-1:123456789012:stream/s",
                          "99999999-2222-3333-4444-555555555555"))
    refuse_update(lam, 3)
    accept_update(lam)
    updated = enable_partial_batch_responses(lam, "shop-prod-worker", sleep=sleep,
                                             progress=said.append)
    assert updated == 1  # the aws-cn SQS mapping; the Kinesis one is left alone
    assert sleep.calls == [MAPPING_RETRY_SECONDS] * 3
    assert said == [f"event source mapping {UUID} of shop-prod-worker is still settling: "
                    f"waiting up to {MAPPING_WAIT_SECONDS:g} s"]


def test_the_wait_for_a_mapping_is_bounded(lam: Any) -> None:
    sleep = FakeSleep()
    attempts = int(MAPPING_WAIT_SECONDS / MAPPING_RETRY_SECONDS) + 1
    list_mappings(lam, mapping(CN_QUEUE_ARN))
    refuse_update(lam, attempts)
    with pytest.raises(StillSettling) as refused:
        enable_partial_batch_responses(lam, "shop-prod-worker", sleep=sleep,
                                       progress=lambda line: None)
    assert sleep.clock == MAPPING_WAIT_SECONDS and len(sleep.calls) == attempts - 1
    assert str(refused.value) == (
        f"update event source mapping {UUID} of shop-prod-worker: still refused after "
        f"waiting 60 s (ResourceInUseException: {IN_USE})")


def test_a_role_still_propagating_is_waited_for_and_other_errors_are_not(lam: Any) -> None:
    sleep = FakeSleep()
    list_mappings(lam, mapping(CN_QUEUE_ARN))
    refuse_update(lam, 1, "InvalidParameterValueException", "The provided execution role does "
                  "not have permissions to call ReceiveMessage on SQS")
    accept_update(lam)
    assert enable_partial_batch_responses(lam, "shop-prod-worker", sleep=sleep,
                                          progress=lambda line: None) == 1
    assert sleep.calls == [MAPPING_RETRY_SECONDS]

    list_mappings(lam, mapping(CN_QUEUE_ARN))
    refuse_update(lam, 1, "InvalidParameterValueException", "Invalid batch size")
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        enable_partial_batch_responses(lam, "shop-prod-worker", sleep=sleep)
    list_mappings(lam, mapping(CN_QUEUE_ARN))
    refuse_update(lam, 1, "ResourceNotFoundException", "gone")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        enable_partial_batch_responses(lam, "shop-prod-worker", sleep=sleep)
    assert sleep.calls == [MAPPING_RETRY_SECONDS]  # no wait for either


def test_a_mapping_that_already_reports_item_failures_is_not_touched(lam: Any) -> None:
    list_mappings(lam, mapping(CN_QUEUE_ARN, types=["ReportBatchItemFailures"]))
    assert enable_partial_batch_responses(lam, "shop-prod-worker", sleep=FakeSleep()) == 0


@pytest.mark.parametrize("arn, sqs", [
    ("arn:aws:sqs:us-east-1:123456789012:q", True),
    ("arn:aws-cn:sqs:cn-north-1:123456789012:q", True),
    ("arn:aws-us-gov:sqs:us-gov-west-1:123456789012:q", True),
    ("arn:aws-iso-b:sqs:us-isob-east-1:123456789012:q", True),
    ("arn:aws:kinesis:us-east-1:123456789012:stream/q", False),
    ("arn:aws-cn:dynamodb:cn-north-1:123456789012:table/t/stream/x", False),
    ("arn:awsx:sqs:us-east-1:123456789012:q", False),
    ("", False), (None, False),
])
def test_sqs_arns_of_every_partition_are_recognised(arn: Any, sqs: bool) -> None:
    assert is_sqs_arn(arn) is sqs


def test_the_inventory_finds_mappings_in_the_china_partition(lam: Any) -> None:
    lam.stubber.add_response("get_function", {"Configuration": {
        "FunctionName": "shop-prod-worker", "FunctionArn": CN_FUNCTION_ARN}},
        {"FunctionName": "shop-prod-worker"})
    list_mappings(lam, mapping(CN_QUEUE_ARN, types=["ReportBatchItemFailures"]))
    lam.stubber.add_response("list_event_source_mappings", {"EventSourceMappings": []},
                             {"FunctionName": CN_FUNCTION_ARN})
    [found] = function_mappings(lam, "shop-prod-worker")
    assert (found.uuid, found.queue_name) == (UUID, "shop-prod-default")


# --- a queue deleted less than 60 s ago --------------------------------------------------------

class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


class RecentlyDeleted:
    """AWS's 60 s rule on an SQS client (moto has none), on a clock the fake sleep advances:
    CreateQueue of a name deleted `refuse_for` seconds before is answered as AWS answers it
    (JSON protocol, botocore parses it)."""

    def __init__(self, sqs: Any, names: List[str], sleep: FakeSleep,
                 refuse_for: float = 60.0) -> None:
        self.names, self.sleep, self.refuse_for = set(names), sleep, refuse_for
        self.refused: List[str] = []
        sqs.meta.events.register_first("before-send.sqs.CreateQueue", self)

    def __call__(self, request: Any, **_: Any) -> Any:
        name = json.loads(request.body)["QueueName"]
        if name not in self.names or self.sleep.clock >= self.refuse_for:
            return None  # moto answers
        self.refused.append(name)
        body = json.dumps({"__type": "com.amazonaws.sqs#QueueDeletedRecently",
                           "message": DELETED_RECENTLY}).encode()
        response = AWSResponse(request.url, 400, {
            "x-amzn-query-error": "AWS.SimpleQueueService.QueueDeletedRecently;Sender",
            "Content-Type": "application/x-amz-json-1.0"}, _Body(body))
        response._content = body
        return response


def test_queues_deleted_a_moment_ago_are_created_once_aws_allows(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with moto_sqs(monkeypatch) as sqs:
        definitions = list(create_queues(sqs, ["default"]).values())
        for d in definitions:
            for name in (d.name, d.dlq_name):
                sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"])
        sleep, said = FakeSleep(), []
        aws = RecentlyDeleted(sqs, [n for d in definitions for n in (d.name, d.dlq_name)],
                              sleep)
        changes = ensure_queues(definitions, sqs, sleep=sleep, progress=said.append)
        assert [c.action for c in changes] == ["create", "create"]
        assert sleep.clock == 60 and aws.refused == [definitions[0].dlq_name] * 6
        assert len(said) == 1 and "was deleted less than 60 s ago" in said[0]
        assert sqs.get_queue_url(QueueName=definitions[0].name)["QueueUrl"]


def test_the_wait_for_a_deleted_queue_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    with moto_sqs(monkeypatch) as sqs:
        definitions = list(create_queues(sqs, ["default"]).values())
        dlq = definitions[0].dlq_name
        sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=dlq)["QueueUrl"])
        sleep = FakeSleep()
        aws = RecentlyDeleted(sqs, [dlq], sleep, refuse_for=3600)
        with pytest.raises(StillSettling) as refused:
            ensure_queues(definitions, sqs, sleep=sleep, progress=lambda line: None)
    assert sleep.clock == QUEUE_RECREATE_WAIT_SECONDS and len(aws.refused) == 8
    assert str(refused.value) == (
        f"create queue {dlq}: still refused after waiting 70 s "
        f"(AWS.SimpleQueueService.QueueDeletedRecently: {DELETED_RECENTLY})")
    # A deploy step reports it as one line, with what to do.
    with pytest.raises(DeployError) as failed:
        StepRunner().guarded("queues", partial(_raise, refused.value))
    assert failed.value.message == str(refused.value)
    assert "run the same command in a minute" in failed.value.hint


def _raise(exc: BaseException) -> None:
    raise exc


@pytest.fixture
def deployed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The example deployed on moto, then deleted with its queues a moment ago; deploys run
    with a fake sleep."""
    with deploy_sandbox(tmp_path, monkeypatch) as project:
        sleep = FakeSleep()
        monkeypatch.setattr(lambda_target, "Deployment",
                            partial(lambda_target.LambdaDeployment, sleep=sleep))
        args = ("--stage", STAGE, "--yes", "--project-dir", str(project))
        assert invoke(deploy, *args, "--skip-verify").exit_code == 0
        removed = invoke(delete, *args, "--include-queues")
        assert removed.exit_code == 0, removed.output
        yield project, sleep, args


def test_deploy_right_after_delete_include_queues_waits_and_says_so_once(deployed: Any) -> None:
    project, sleep, args = deployed
    aws = RecentlyDeleted(aws_client("sqs", REGION), [QUEUE, DLQ], sleep)
    again = invoke(deploy, *args, "--skip-verify")
    assert again.exit_code == 0, again.output
    waits = [line for line in again.output.splitlines() if "deleted less than 60 s" in line]
    assert waits == [f"      queues: queue {DLQ} was deleted less than 60 s ago; AWS refuses "
                     "to create it again until then: waiting up to 70 s"]
    assert f"queues: {DLQ} create, {QUEUE} create" in again.output
    assert sleep.clock == 60 and set(aws.refused) == {DLQ}


def test_deploy_gives_up_with_a_clear_error_when_aws_still_refuses(deployed: Any) -> None:
    project, sleep, args = deployed
    RecentlyDeleted(aws_client("sqs", REGION), [QUEUE, DLQ], sleep, refuse_for=3600)
    failed = invoke(deploy, *args, "--skip-verify")
    assert failed.exit_code == 1
    assert (f"error: queues: create queue {DLQ}: still refused after waiting 70 s "
            "(AWS.SimpleQueueService.QueueDeletedRecently: You must wait 60 seconds"
            ) in failed.output
    assert ("hint: a queue deleted less than 60 s ago can't be created again: run the same "
            "command in a minute") in failed.output
    assert "Traceback" not in failed.output and sleep.clock == QUEUE_RECREATE_WAIT_SECONDS
