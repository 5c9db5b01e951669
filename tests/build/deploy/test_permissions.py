"""The IAM statements of a stage: each function's least privilege, on the stage's ARNs."""
from __future__ import annotations

from pym_lambda.build.deploy.permissions import (
    Arns,
    SecretRef,
    StageAccess,
    api_statements,
    cloudformation,
    container_statements,
    worker_statements,
)
from pym_lambda.build.tasks.queues import QueueDefinition

DEFAULT = QueueDefinition(queue="default", name="shop-prod-default",
                          dlq_name="shop-prod-default-dlq")
EMAILS = QueueDefinition(queue="emails", name="shop-prod-emails", dlq_name="shop-prod-emails-dlq")
ARNS = Arns("eu-west-1", "123456789012")


def allowed(statements, action):
    """Every resource `action` is allowed on."""
    found = []
    for s in statements:
        if action in s["Action"]:
            found += s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
    return sorted(found)


def queue_arn(name):
    return f"arn:aws:sqs:eu-west-1:123456789012:{name}"


def test_the_api_function_sends_to_the_task_queues_and_nothing_else():
    access = StageAccess(queues=(DEFAULT, EMAILS))
    statements = api_statements(access, ARNS, "shop-prod")
    assert allowed(statements, "sqs:SendMessage") == [queue_arn("shop-prod-default"),
                                                      queue_arn("shop-prod-emails")]
    for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"):
        assert allowed(statements, action) == []
    assert allowed(statements, "logs:PutLogEvents") == [
        "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/shop-prod:*"]
    assert all("*" != r for s in statements for r in ([s["Resource"]] if isinstance(
        s["Resource"], str) else s["Resource"]))


def test_a_worker_consumes_its_queue_and_dead_letters_to_its_own_dlq():
    access = StageAccess(queues=(DEFAULT, EMAILS))
    statements = worker_statements(access, ARNS, "shop-prod-pym_task_worker_emails", EMAILS)
    for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                   "sqs:GetQueueAttributes"):
        assert queue_arn("shop-prod-emails") in allowed(statements, action)
        assert queue_arn("shop-prod-default") not in allowed(statements, action) or \
            action == "sqs:GetQueueAttributes"
    assert allowed(statements, "sqs:ReceiveMessage") == [queue_arn("shop-prod-emails")]
    # its DLQ, and the task queues (a task may .delay() another); never another DLQ
    assert allowed(statements, "sqs:SendMessage") == sorted([
        queue_arn("shop-prod-emails-dlq"), queue_arn("shop-prod-default"),
        queue_arn("shop-prod-emails")])


def test_secrets_are_readable_by_name_only():
    access = StageAccess(secrets=(SecretRef("ssm", "/shop/prod/jwt"),
                                  SecretRef("secretsmanager", "shop/prod/api-key",
                                            kms_key="arn:aws:kms:eu-west-1:123456789012:key/k")))
    statements = api_statements(access, ARNS, "shop-prod")
    assert allowed(statements, "ssm:GetParameter") == [
        "arn:aws:ssm:eu-west-1:123456789012:parameter/shop/prod/jwt"]
    assert allowed(statements, "secretsmanager:GetSecretValue") == [
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/prod/api-key-??????"]
    assert allowed(statements, "kms:Decrypt") == ["arn:aws:kms:eu-west-1:123456789012:key/k"]


def test_the_container_does_what_the_api_and_every_worker_do():
    access = StageAccess(queues=(DEFAULT, EMAILS))
    statements = container_statements(access, ARNS)
    assert allowed(statements, "sqs:ReceiveMessage") == [queue_arn("shop-prod-default"),
                                                         queue_arn("shop-prod-emails")]
    assert queue_arn("shop-prod-emails-dlq") in allowed(statements, "sqs:SendMessage")


def test_partitions_and_cloudformation_placeholders():
    assert Arns("cn-north-1", "1").queue("q") == "arn:aws-cn:sqs:cn-north-1:1:q"
    assert Arns("us-gov-west-1", "1").queue("q") == "arn:aws-us-gov:sqs:us-gov-west-1:1:q"
    statements = api_statements(StageAccess(queues=(DEFAULT,)), Arns.cloudformation(), "f")
    sent = cloudformation(statements)
    [send] = [s for s in sent if s["Sid"] == "SendTasks"]
    assert send["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:shop-prod-default"}
