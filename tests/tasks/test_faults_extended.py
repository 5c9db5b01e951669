"""Task faults beyond test_task_faults.py, on moto SQS in process: nothing is lost.

- A worker that dies in the middle of a batch (a BaseException out of a task: the handler never
  returns, so nothing of the batch is deleted): the batch's messages come back when their
  visibility timeout ends and are run again; the records that had already succeeded run twice,
  which current_task().task_id makes detectable (and skippable).
- The same message delivered twice (twice in one event, and sent twice by a retrying producer):
  the task skips the duplicate by its task_id.
- A DLQ redrive after a fix: tasks fail until a flag flips and land in the DLQ; redriven before
  the fix they come back to it; redriven after it they succeed.

At every stage: processed + dead-lettered == sent.
"""
from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

from pym_lambda.aws_events import sqs_record_from_message
from pym_lambda.build.tasks.admin import redrive_dead_letters
from pym_lambda.build.tasks.queues import ensure_queues, queue_definitions
from pym_lambda.tasks import async_task, current_task, send_tasks
from pym_lambda.tasks.envelope import encode_envelope, new_envelope
from pym_lambda.tasks.errors import WorkerStop
from pym_lambda.tasks.poller import run_local_worker
from pym_lambda.tasks.sender import dead_letter_queue_url, queue_url

from .tasks_fixtures import (
    FakeLambdaContext,
    build_app,
    create_queues,
    depth,
    drain,
    moto_sqs,
)

SEED = 20240917
# moto's ReceiveMessage costs O(queue length) per message: queues of 60-100 keep this fast;
# test_task_faults.py has the 1,000-task run.
CRASH_TASKS = 100
DUPE_TASKS = 60
FIX_TASKS = 60
CRASH_VISIBILITY_SECONDS = 2  # a crashed batch is invisible this long, then delivered again
MAX_WORKER_RESTARTS = 50


class WorkerDied(WorkerStop):
    """The worker process dying mid-batch: the one exception the per-record guard lets
    through (any other, BaseExceptions included, fails its record alone)."""


@dataclass(frozen=True)
class Run:
    batch: int
    task_id: str
    message_id: str
    attempt: int


RUNS: List[Run] = []  # every completed execution
EFFECTS: Dict[str, Any] = {}  # the side effect, done once per task_id
BATCH: Dict[str, Any] = {"number": 0, "done": 0, "die_after": None}
FIX = {"deployed": False}


def run_once(value: Any) -> None:
    """The task body: record the run; do the side effect unless this task_id already did it."""
    info = current_task()
    assert info is not None and info.message_id is not None
    if BATCH["die_after"] is not None and BATCH["done"] == BATCH["die_after"]:
        raise WorkerDied(f"worker killed in batch {BATCH['number']}")
    BATCH["done"] += 1
    RUNS.append(Run(BATCH["number"], info.task_id, info.message_id, info.attempt))
    if info.task_id in EFFECTS:
        return  # a duplicate delivery: the idempotency check current_task() allows
    EFFECTS[info.task_id] = value


@async_task(queue="crashes", max_attempts=10)
def crash_prone(n: int) -> None:
    run_once(n)


@async_task(queue="dupes", max_attempts=3)
def duplicated(n: int) -> None:
    run_once(n)


@async_task(queue="fixes", max_attempts=2)
def needs_fix(n: int, broken_until_fixed: bool) -> None:
    if broken_until_fixed and not FIX["deployed"]:
        raise RuntimeError(f"task {n}: bug not fixed yet")
    run_once(n)


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    RUNS.clear()
    EFFECTS.clear()
    BATCH.update(number=0, done=0, die_after=None)
    FIX["deployed"] = False
    with moto_sqs(monkeypatch) as client:
        yield client


def batch_tracking(handler: Any, queue: str, batches: List[List[Dict[str, Any]]],
                   die_after: Optional[Callable[[int], Optional[int]]] = None) -> Any:
    """The queue's handler, numbering batches and logging their records (and maybe dying)."""
    def handle(event: Dict[str, Any], context: Any) -> Any:
        batches.append(event["Records"])
        BATCH.update(number=len(batches), done=0,
                     die_after=die_after(len(batches)) if die_after else None)
        return handler(event, context)

    handle.pym_task_queue = queue  # type: ignore[attr-defined]
    return handle


def drain_queue(handler: Any, queue: str) -> int:
    """Run the local worker until the queue is empty; messages received."""
    return run_local_worker({queue: handler}, idle_exit=0, wait_seconds=0,
                            install_signal_handlers=False).received


def attempt(record: Dict[str, Any]) -> int:
    return int(record["attributes"]["ApproximateReceiveCount"])


def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)  # moto's GetQueueAttributes is slow on a long queue: don't spin
    return condition()


def test_worker_dying_mid_batch_loses_nothing(sqs: Any) -> None:
    started = time.monotonic()
    ensure_queues(queue_definitions(["crashes"], visibility_timeout=CRASH_VISIBILITY_SECONDS),
                  sqs)
    url = queue_url("crashes")
    sent = send_tasks([(crash_prone, (n,), {}) for n in range(CRASH_TASKS)])
    rng = random.Random(SEED)
    deaths = {batch: rng.randint(0, 8) for batch in (1, 4, 8)}  # batch -> records done
    batches: List[List[Dict[str, Any]]] = []
    _, handlers = build_app(["crashes"])
    handler = batch_tracking(handlers["pym_task_worker_crashes"], "crashes", batches,
                             die_after=deaths.get)

    died_in: List[int] = []
    for _ in range(MAX_WORKER_RESTARTS):
        try:
            drain_queue(handler, "crashes")
        except WorkerDied:
            died_in.append(len(batches))
            # The batch was neither deleted nor reported: in flight, then visible again.
            assert depth(sqs, url)["in_flight"] == len(batches[-1])
            assert wait_until(lambda: depth(sqs, url)["in_flight"] == 0,
                              CRASH_VISIBILITY_SECONDS + 5)
            continue
        if depth(sqs, url) == {"visible": 0, "in_flight": 0}:
            break
    assert died_in == [b for b in sorted(deaths) if deaths[b] < len(batches[b - 1])]
    assert len(died_in) >= 2

    # Every message of a dead batch was delivered again, later, as a further attempt.
    for number in died_in:
        again = {r["messageId"]: r for batch in batches[number:] for r in batch}
        for record in batches[number - 1]:
            assert attempt(again[record["messageId"]]) > attempt(record)
    # No success lost; each task's side effect done once; the re-runs are exactly the records
    # that had completed in a batch before its worker died, and task_id tells them apart.
    task_ids = {handle.task_id for handle in sent}
    dead = drain(sqs, dead_letter_queue_url("crashes"))
    assert len(EFFECTS) + len(dead) == len(sent) and set(EFFECTS) == task_ids
    runs = Counter(run.task_id for run in RUNS)
    rerun_expected = Counter(run.task_id for run in RUNS if run.batch in died_in)
    assert all(runs[tid] == 1 + rerun_expected[tid] for tid in task_ids)
    assert sum(rerun_expected.values()) == sum(deaths[b] for b in died_in) > 0
    assert time.monotonic() - started < 30


def test_duplicate_deliveries_are_skipped_by_task_id(sqs: Any) -> None:
    create_queues(sqs, ["dupes"])
    url = queue_url("dupes")
    envelopes = [new_envelope(duplicated.name, [n], {}) for n in range(DUPE_TASKS)]
    bodies = [encode_envelope(envelope) for envelope in envelopes]
    send_bodies(sqs, url, bodies)
    _, handlers = build_app(["dupes"])
    handler = handlers["pym_task_worker_dupes"]

    # Messages in the same event twice (SQS delivers at least once): every record succeeds,
    # the task runs twice, its side effect happens once.
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=5, VisibilityTimeout=60,
                                   MessageSystemAttributeNames=["All"])["Messages"]
    records = [sqs_record_from_message(m, arn) for m in messages]
    response = handler({"Records": records + records}, FakeLambdaContext())
    assert response == {"batchItemFailures": []}
    sqs.delete_message_batch(QueueUrl=url, Entries=[
        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
    assert len(RUNS) == 2 * len(messages) and len(EFFECTS) == len(messages)

    # A producer that retried its sends: 20 other bodies on the queue twice, new message ids.
    seen = {m["Body"] for m in messages}
    send_bodies(sqs, url, [body for body in bodies if body not in seen][:20])
    received = len(messages) + drain_queue(handler, "dupes")

    dead = drain(sqs, dead_letter_queue_url("dupes"))
    assert received == len(bodies) + 20 and not dead  # processed + dead-lettered == sent
    assert depth(sqs, url) == {"visible": 0, "in_flight": 0}
    runs = Counter(run.task_id for run in RUNS)
    assert sorted(Counter(runs.values()).items()) == [(1, DUPE_TASKS - 25), (2, 25)]
    assert set(EFFECTS) == {envelope.task_id for envelope in envelopes}  # once each


def send_bodies(sqs: Any, url: str, bodies: List[str]) -> None:
    for start in range(0, len(bodies), 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies[start:start + 10])])


def test_dead_letters_redriven_after_a_fix_succeed(sqs: Any) -> None:
    create_queues(sqs, ["fixes"])
    url, dlq = queue_url("fixes"), dead_letter_queue_url("fixes")
    broken = {n: n % 3 == 0 for n in range(FIX_TASKS)}
    sent = send_tasks([(needs_fix, (n, broken[n]), {}) for n in range(FIX_TASKS)])
    broken_ids = {handle.task_id for n, handle in enumerate(sent) if broken[n]}
    _, handlers = build_app(["fixes"])
    handler = handlers["pym_task_worker_fixes"]

    def dead_ids() -> List[str]:
        return [handle.task_id for handle in sent if handle.task_id not in EFFECTS]

    # Before the fix: the healthy ones succeed, the broken ones are dead-lettered.
    drain_queue(handler, "fixes")
    dead_count = depth(sqs, dlq)["visible"]
    assert len(EFFECTS) + dead_count == len(sent)
    assert set(dead_ids()) == broken_ids and dead_count == len(broken_ids) > 0

    # Redriven too early: they fail again and are back in the DLQ; still nothing lost.
    assert redrive_dead_letters("fixes", wait_seconds=0) == dead_count
    drain_queue(handler, "fixes")
    assert len(EFFECTS) + depth(sqs, dlq)["visible"] == len(sent)

    # The fix is deployed, then the redrive: every dead letter now succeeds, once.
    FIX["deployed"] = True
    assert redrive_dead_letters("fixes", wait_seconds=0) == dead_count
    drain_queue(handler, "fixes")
    assert depth(sqs, dlq)["visible"] == 0 and depth(sqs, url) == {"visible": 0, "in_flight": 0}
    assert len(EFFECTS) == len(sent) and not dead_ids()
    redriven = [run for run in RUNS if run.task_id in broken_ids]
    assert len(redriven) == dead_count and {run.attempt for run in redriven} == {1}  # new messages
    assert Counter(run.task_id for run in RUNS).most_common(1)[0][1] == 1
