"""Tasks through moto SQS with injected faults: nothing is lost, nothing runs twice. 200 tasks
in the default suite; the 1,000-task run (with its time bound) is marked `slow`.

Seeded: some tasks succeed at once, some fail once or twice then succeed, some always fail,
and poison messages (not JSON, another envelope version, unknown or undecorated tasks, wrong
arguments) are sent straight to the queue. At the end every message is either processed or in
the dead-letter queue.
"""
from __future__ import annotations

import json
import random
import time
from collections import Counter
from typing import Any, Dict, Iterator, List, Optional

import pytest

from pym_lambda.context import CallContext, enter_context, exit_context
from pym_lambda.tasks import send_tasks
from pym_lambda.tasks.envelope import encode_envelope, new_envelope
from pym_lambda.tasks.poller import run_local_worker
from pym_lambda.tasks.sender import dead_letter_queue_url, queue_url

from . import sample_tasks as tasks
from .tasks_fixtures import build_app, create_queues, depth, drain, moto_sqs

SEED = 20240501
MAX_ATTEMPTS = tasks.fault_task.max_attempts


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with moto_sqs(monkeypatch) as client:
        create_queues(client, ["faults"])
        yield client


def poison_bodies(rng: random.Random) -> List[str]:
    fault = f"{tasks.__name__}:fault_task"
    kinds = [
        lambda i: f"not json {i}",
        lambda i: json.dumps({"v": 2, "task": fault, "task_id": str(i)}),
        lambda i: json.dumps([i]),
        lambda i: encode_envelope(new_envelope(f"{tasks.__name__}:vanished_{i}", [i], {})),
        lambda i: encode_envelope(new_envelope("os:system", [f"echo {i}"], {})),
        lambda i: encode_envelope(new_envelope(f"{tasks.__name__}:not_a_task", [i], {})),
        # A real task with arguments it can't take: fails as a task, every attempt.
        lambda i: encode_envelope(new_envelope(fault, [i], {"unexpected": True})),
    ]
    return [rng.choice(kinds)(i) for i in range(rng.randint(30, 50))]


# (tasks, waves of sends, seconds the run may take: the long run's bound on moto's cost)
@pytest.mark.parametrize("task_count, waves, seconds", [
    pytest.param(200, 4, None, id="200"),
    pytest.param(1_000, 20, 60, id="1000", marks=pytest.mark.slow)])
def test_every_task_is_processed_or_dead_lettered(sqs: Any, task_count: int, waves: int,
                                                  seconds: Optional[int]) -> None:
    started = time.monotonic()
    rng = random.Random(SEED)
    plans = [rng.choices([0, 1, 2, MAX_ATTEMPTS], weights=[70, 12, 8, 10])[0]
             for _ in range(task_count)]
    poison = poison_bodies(rng)
    url = queue_url("faults")

    _, handlers = build_app(["faults"])
    handler = handlers["pym_task_worker_faults"]
    batches: List[List[str]] = []

    def counting_handler(event: Dict[str, Any], context: Any) -> Any:
        batches.append([record["messageId"] for record in event["Records"]])
        tasks.BATCH["number"] = len(batches)
        return handler(event, context)

    counting_handler.pym_task_queue = "faults"  # type: ignore[attr-defined]

    # Waves of sends, each drained by the worker: moto's ReceiveMessage costs O(queue length)
    # per message, so one queue of 1,000 takes a minute where 20 of 50 take seconds.
    handles: List[Any] = []
    received = 0
    for wave in range(waves):
        calls = [(tasks.fault_task, (n, plans[n]), {})
                 for n in range(wave * task_count // waves, (wave + 1) * task_count // waves)]
        token = enter_context(CallContext(call_id=f"fault-test-{wave}"))
        try:
            handles.extend(send_tasks(calls))
        finally:
            exit_context(token)
        wave_poison = poison[wave::waves]
        for start in range(0, len(wave_poison), 10):
            sqs.send_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "MessageBody": body}
                for i, body in enumerate(wave_poison[start:start + 10])])
        stats = run_local_worker({"faults": counting_handler}, idle_exit=0, wait_seconds=0,
                                 install_signal_handlers=False)
        received += stats.received
    sent = len(handles) + len(poison)
    fail_times_of = {h.task_id: plans[n] for n, h in enumerate(handles)}

    successes = [(batch, task_id, attempt) for batch, task_id, attempt, ok in tasks.FAULT_RUNS
                 if ok]
    succeeded = Counter(task_id for _, task_id, _ in successes)
    dead = drain(sqs, dead_letter_queue_url("faults"))

    # Nothing lost: every message sent was processed or dead-lettered, and nothing is left.
    assert len(succeeded) + len(dead) == sent
    assert depth(sqs, url) == {"visible": 0, "in_flight": 0}
    # Each success exactly once, and never twice within a batch.
    assert max(succeeded.values()) == 1
    assert all(len(ids) == len(set(ids)) for ids in batches)
    per_batch = Counter((batch, task_id) for batch, task_id, _ in successes)
    assert max(per_batch.values()) == 1
    # The right ones succeeded, on the right attempt.
    expected = {task_id for task_id, fail_times in fail_times_of.items()
                if fail_times < MAX_ATTEMPTS}
    assert set(succeeded) == expected
    assert all(attempt == fail_times_of[task_id] + 1 for _, task_id, attempt in successes)
    # The DLQ holds the always-failing tasks (dead-lettered by the worker at their last
    # attempt) and the poison (moved by SQS's redrive policy after maxReceiveCount).
    dead_bodies = Counter(message["Body"] for message in dead)
    assert dead_bodies == Counter(poison) + Counter(
        message["Body"] for message in dead if "pym_failure" in message.get(
            "MessageAttributes", {}) and json.loads(message["Body"])["task_id"] in fail_times_of)
    dead_task_ids = {json.loads(m["Body"]).get("task_id") for m in dead if m["Body"] not in poison}
    assert dead_task_ids == set(fail_times_of) - expected
    assert received >= sent
    if seconds is not None:
        assert time.monotonic() - started < seconds
