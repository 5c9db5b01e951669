"""The example service end to end with tasks on (moto) SQS: an endpoint enqueues, the worker
runs the task with the request's caller and call id."""
from __future__ import annotations

import datetime as dt

from moto import mock_aws

from pym_lambda import generate_token
from pym_lambda.aws import aws_client, reset_aws_clients
from pym_lambda.build.tasks.queues import ensure_queues, queue_definitions
from pym_lambda.tasks import configure_tasks
from pym_lambda.tasks.poller import run_local_worker
from pym_lambda.tasks.task_settings import get_task_settings


def receipts():
    """The receipts list of the task definition the worker runs (the example's service's,
    even if another project's chalicelib was imported since)."""
    from pym_lambda.tasks import resolve_task

    return resolve_task("chalicelib.tasks:send_loan_receipt").fn.__globals__["RECEIPTS"]


def test_a_loan_enqueues_a_receipt_that_the_worker_sends(library, monkeypatch):
    import app as example

    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    dev = get_task_settings()
    receipts().clear()
    try:
        with mock_aws():
            configure_tasks(dev._replace(inline=False))
            reset_aws_clients()
            sqs = aws_client("sqs")
            ensure_queues(queue_definitions(["default"], visibility_timeout=0), sqs)
            library.post("/v1/books", {"title": "Dune", "authors": [{"name": "F. Herbert"}]})
            due = (dt.date.today() + dt.timedelta(days=7)).isoformat()
            loan = library.post("/v1/books/1/loans", {"reader": "ann", "due": due}, headers={
                "Authorization": f"Bearer {generate_token('librarian-7')}",
                "PymCallID": "call-from-the-request"})
            assert loan.status == 201, loan
            url = sqs.get_queue_url(QueueName="pym-library-dev-default")["QueueUrl"]
            depth = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
                "ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"]
            assert depth == "1" and receipts() == []  # sent, not run
            # only the example's own queue (other tests register tasks on other queues)
            handlers = {"pym_task_worker_default": example.pym_task_worker_default}
            stats = run_local_worker(handlers, max_messages=1, idle_exit=1, wait_seconds=0,
                                     install_signal_handlers=False)
            assert (stats.received, stats.deleted, stats.failed) == (1, 1, 0), stats
    finally:
        configure_tasks(dev)
        reset_aws_clients()
    [receipt] = receipts()
    assert receipt["loan_id"] == loan.json["id"] and receipt["reader"] == "ann"
    assert receipt["due"] == due and receipt["lent_by"] == "librarian-7"


def test_in_the_dev_stage_tasks_run_inline(library):
    receipts().clear()
    library.post("/v1/books", {"title": "Dune", "authors": [{"name": "F. Herbert"}]})
    due = (dt.date.today() + dt.timedelta(days=7)).isoformat()
    library.post("/v1/books/1/loans", {"reader": "bob", "due": due},
                 headers={"Authorization": f"Bearer {generate_token('x')}"})
    assert [r["reader"] for r in receipts()] == ["bob"]
