"""`pym-lambda local` keeps its queues across restarts, dead letters included, and retries
within seconds: a failing task is dead-lettered, the service stopped, the task fixed, the
service started again, and the dead letter redriven runs the fixed task."""
from __future__ import annotations

import re
import signal
import subprocess
from pathlib import Path

from tests.build.test_chalice_reload import new_service
from tests.build.test_cli import (
    Output,
    clean_env,
    finish,
    free_port,
    group_members,
    http,
    pym,
    start,
)

BROKEN = '    raise ConnectionError("the card printer is off")\n'


def run_local(service: Path, *extra: str):
    port, moto_port = free_port(), free_port()
    stack = start(pym("local", "--port", str(port), "--moto-port", str(moto_port),
                      "--no-reload", "--visibility-timeout", "1", *extra), service, clean_env())
    output = Output(stack)
    output.wait_for(r"\[local\] ready: ", timeout=120)
    groups = {stack.pid} | {int(g) for g in re.findall(r"process group (\d+)", output.text())}
    return stack, output, groups, port, moto_port


def stop(stack, output, groups) -> None:
    stack.send_signal(signal.SIGINT)
    assert stack.wait(timeout=60) == 0, output.text()[-3000:]
    output.wait_for(r"\[local\] stopped", timeout=5)
    assert group_members(groups) == set()


def test_a_dead_letter_survives_a_restart_and_is_redriven_to_the_fixed_task(tmp_path):
    service = new_service(tmp_path)
    tasks = service / "chalicelib" / "tasks.py"
    fixed = tasks.read_text()
    tasks.write_text(fixed.replace('    log.info("greeting card', BROKEN + '    log.info('
                                   '"greeting card'))
    state = service / ".pym-local" / "sqs-state.pickle"

    stack, output, groups, port, _ = run_local(service)
    try:
        assert "visibility timeout 1 s" in output.text()
        status, _ = http("POST", f"http://127.0.0.1:{port}/v1/greetings", {"name": "Ann"})
        assert status == 201
        # three attempts a second apart, not six minutes
        output.wait_for(r"\[worker\] .*failed \(attempt 3 of 3\)", timeout=60)
        output.wait_for(r"\[worker\] .*dead-lettered \(max_attempts\) after attempt 3",
                        timeout=30)
        stop(stack, output, groups)
        assert re.search(r"\[moto\] saved 2 queue\(s\) and 1 message\(s\) to ", output.text())
        assert state.is_file()
    finally:
        finish(stack, groups, output)

    tasks.write_text(fixed)  # the fix
    stack, output, groups, _, _ = run_local(service)
    try:
        assert re.search(r"\[moto\] restored 2 queue\(s\) and 1 message\(s\)", output.text())
        output.wait_for(r"pym-lambda tasks list\|dlq\|redrive --local", timeout=10)
        # no AWS variables: --local finds the running local AWS
        redrive = subprocess.run(pym("tasks", "redrive", "--local"), cwd=service,
                                 env=clean_env(), capture_output=True, text=True, timeout=120)
        assert redrive.returncode == 0, redrive.stderr
        assert "moved 1 message(s) from the DLQ back to the queue" in redrive.stdout
        output.wait_for(r"\[worker\] .*greeting card for Ann sent", timeout=60)
        stop(stack, output, groups)
    finally:
        finish(stack, groups, output)
    after = subprocess.run(pym("tasks", "list", "--local"), cwd=service, env=clean_env(),
                           capture_output=True, text=True, timeout=120)
    assert after.returncode == 1
    assert after.stderr.strip() == (f"Error: --local: no `pym-lambda local` running in {service} "
                                    "(start it first, or use --project-dir)")

    # --fresh forgets it
    stack, output, groups, _, _ = run_local(service, "--fresh")
    try:
        assert "--fresh: deleted .pym-local/sqs-state.pickle" in output.text()
        assert "restored" not in output.text()
        stop(stack, output, groups)
    finally:
        finish(stack, groups, output)


def test_a_state_it_cannot_use_is_named_and_left_unread(tmp_path):
    import pickle
    from importlib.metadata import version

    from pym_lambda.build.local_aws import restore

    assert restore(tmp_path / "absent.pickle") is None  # a first run: nothing to say
    garbage = tmp_path / "garbage.pickle"
    garbage.write_bytes(b"not a pickle")
    assert restore(garbage).startswith(f"cannot read {garbage}: ")
    foreign = tmp_path / "foreign.pickle"
    foreign.write_bytes(pickle.dumps(("pym-lambda local sqs 1", "0.0.1", {})))
    assert restore(foreign) == (f"{foreign} was saved by moto 0.0.1, this is moto "
                                f"{version('moto')}: "
                                "starting with empty queues")
