"""WSGI fallback throughput: pym-lambda's example app behind gunicorn vs the same endpoint in a
plain Flask app, same gunicorn settings, same bounded load on 127.0.0.1 (wrk when installed,
else a Python loop). Issue #6's target: at least 0.8x Flask's requests/s.

    python benchmarks/wsgi_throughput.py [--seconds 10] [--connections 16]
"""
from __future__ import annotations

import argparse
import concurrent.futures
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parent.parent
BENCH_VENV = Path(os.environ.get("BENCH_VENV", "/work/bench-venv"))
PATH = "/v1/books?limit=5"
GUNICORN = ["--worker-class", "gthread", "--workers", "2", "--threads", "4",
            "--log-level", "warning"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def dev_environment() -> Dict[str, str]:
    import json

    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = dict(os.environ)
    env.update(config["stages"]["dev"].get("environment_variables", {}))
    return env


def start(python: str, app: str, cwd: Path, env: Dict[str, str], port: int) -> subprocess.Popen:
    proc = subprocess.Popen([python, "-m", "gunicorn", *GUNICORN, "--bind",
                             f"127.0.0.1:{port}", app], cwd=cwd, env=env,
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{PATH}", timeout=1) as reply:
                if reply.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
    stop(proc)
    raise RuntimeError(f"{app} did not answer on port {port}")


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


def load(port: int, seconds: float, connections: int) -> float:
    url = f"http://127.0.0.1:{port}{PATH}"
    if shutil.which("wrk"):
        out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{int(seconds)}s", url],
                             capture_output=True, text=True, timeout=seconds + 30).stdout
        match = re.search(r"Requests/sec:\s+([\d.]+)", out)
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        if not match or errors:
            raise RuntimeError(f"wrk failed or saw errors:\n{out}")
        return float(match.group(1))
    done = 0
    deadline = time.monotonic() + seconds

    def worker() -> int:
        count = 0
        while time.monotonic() < deadline:
            with urllib.request.urlopen(url, timeout=5) as reply:
                assert reply.status == 200
            count += 1
        return count
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(connections) as pool:
        done = sum(pool.map(lambda _: worker(), range(connections)))
    return done / (time.monotonic() - started)


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args(argv)
    python = str(BENCH_VENV / "bin" / "python")
    env = dev_environment()
    env["PYM_LOG_LEVEL"] = "WARNING"  # the peer logs nothing per request either
    peers = {"pym-lambda (pym_lambda.wsgi:application)": ("pym_lambda.wsgi:application", ROOT),
             "Flask": ("app:app", ROOT / "benchmarks" / "peers" / "flask_app")}
    results = {}
    for name, (app, cwd) in peers.items():
        port = free_port()
        proc = start(python, app, cwd, env, port)
        try:
            load(port, 2, args.connections)  # warm-up
            results[name] = load(port, args.seconds, args.connections)
        finally:
            stop(proc)
    flask = results["Flask"]
    print(f"| server (gunicorn {' '.join(GUNICORN[:6])}) | req/s | vs Flask |")
    print("|---|---|---|")
    for name, rate in results.items():
        print(f"| {name} | {rate:,.0f} | {rate / flask:.2f}x |")
    ratio = results["pym-lambda (pym_lambda.wsgi:application)"] / flask
    print(f"\n{'PASS' if ratio >= 0.8 else 'FAIL'}  WSGI fallback >= 0.8x Flask: {ratio:.2f}x "
          f"(GET {PATH}, {args.connections} connections, {args.seconds:.0f} s each)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
