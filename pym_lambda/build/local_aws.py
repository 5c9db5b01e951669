"""The local AWS of `pym-lambda local`: moto's server, its SQS state kept across restarts.

`python -m pym_lambda.build.local_aws --host H --port P --state FILE` serves moto on H:P, as
`python -m moto.server` does, after loading the SQS state FILE holds (queues, messages with
their receive counts and timers, dead letters), and saves it there when stopped (SIGTERM,
SIGINT, SIGHUP). So a dead letter survives a restart, and "fix the task, restart, redrive"
works locally as on AWS.

The state is moto's own objects, pickled: a file written by another moto version is not
read (one line says so, and the service starts with empty queues). The file is in the
project (`.pym-local/`, which the scaffold's .gitignore lists): only whoever can already
change the project's code can change it. A SIGKILL loses what changed since the start.
"""
from __future__ import annotations

import argparse
import copyreg
import io
import json
import os
import pickle
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

STATE_DIR = ".pym-local"
STATE_FILE = "sqs-state.pickle"
_FORMAT = "pym-lambda local sqs 1"


ENDPOINT_FILE = "endpoint.json"  # while `pym-lambda local` runs: where its moto answers


def state_path(root: Path) -> Path:
    return root / STATE_DIR / STATE_FILE


def write_endpoint(root: Path, url: str, region: str, stage: str) -> Path:
    """Tell `pym-lambda tasks ... --local` where the running local AWS is."""
    path = root / STATE_DIR / ENDPOINT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"url": url, "region": region, "stage": stage,
                                "pid": os.getpid()}), encoding="utf-8")
    return path


def use_local_endpoint(root: Path) -> Dict[str, str]:
    """Point this process's AWS clients at the running `pym-lambda local` of `root` (fake
    credentials, its region); its settings. A ClickException when none runs."""
    import click

    path = root / STATE_DIR / ENDPOINT_FILE
    try:
        local = json.loads(path.read_text(encoding="utf-8"))
        pid = int(local["pid"])
        os.kill(pid, 0)  # still running?
    except (OSError, ValueError, KeyError, TypeError):
        raise click.ClickException(f"--local: no `pym-lambda local` running in {root} (start "
                                   "it first, or use --project-dir)") from None
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)  # never real AWS from here
    os.environ.update({"AWS_ENDPOINT_URL": local["url"], "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": local["region"]})
    return {k: str(v) for k, v in local.items()}


def _moto_version() -> str:
    from importlib.metadata import version

    return version("moto")


def _dispatch_table() -> Dict[Any, Any]:
    # moto's queues hold locks, which pickle refuses: a restored queue gets new ones.
    table = copyreg.dispatch_table.copy()
    table[type(threading.RLock())] = lambda lock: (threading.RLock, ())
    table[type(threading.Lock())] = lambda lock: (threading.Lock, ())
    return table


def _backends() -> Any:
    from moto.sqs.models import sqs_backends

    return sqs_backends


def count(backends: Any) -> Tuple[int, int]:
    """(queues, messages) held, dead-letter queues and in-flight messages included."""
    queues = messages = 0
    for account in list(dict(backends).values()):
        for region in list(dict(account).values()):
            for queue in list(getattr(region, "queues", {}).values()):
                queues += 1
                messages += len(getattr(queue, "_messages", ()))
    return queues, messages


def save(path: Path) -> Tuple[int, int]:
    backends = dict(_backends())
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _dispatch_table()
    pickler.dump((_FORMAT, _moto_version(), backends))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(buffer.getvalue())
    os.replace(tmp, path)  # atomic: a crash mid-write leaves the previous state
    return count(backends)


def restore(path: Path) -> Optional[str]:
    """Load the saved state into moto; None, or why it was not (one line)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        form, moto_version, backends = pickle.loads(data)  # noqa: S301 - our own file
    except Exception as exc:  # a truncated or foreign file
        return f"cannot read {path}: {type(exc).__name__}: {exc}; starting with empty queues"
    if form != _FORMAT or moto_version != _moto_version():
        return (f"{path} was saved by moto {moto_version}, this is moto {_moto_version()}: "
                "starting with empty queues")
    _backends().update(backends)
    return None


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pym_lambda.build.local_aws")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--state", type=Path, default=None,
                        help="where the SQS state is loaded from and saved to")
    args = parser.parse_args(argv)
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    if args.state is not None:
        problem = restore(args.state)
        if problem:
            print(f"warning: {problem}", flush=True)
        elif args.state.is_file():
            queues, messages = count(_backends())
            print(f"restored {queues} queue(s) and {messages} message(s) from {args.state}",
                  flush=True)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, lambda *_: stop.set())
    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    server.start()
    print(f"moto serving on http://{args.host}:{args.port}", flush=True)
    while not stop.wait(0.5):  # a signal sets it
        pass
    server.stop()
    if args.state is not None:
        queues, messages = save(args.state)
        print(f"saved {queues} queue(s) and {messages} message(s) to {args.state}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
