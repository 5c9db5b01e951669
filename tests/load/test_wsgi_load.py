"""The WSGI fallback under load: gunicorn gthread (2 workers x 8 threads) serving the example
service on 127.0.0.1, and concurrent clients, each request on a new connection.

Each job is three requests carrying data of their own: POST /v1/books with a unique title, GET
/v1/books/{id} of that book, and a loan of it with a unique X-Library-Branch header, reader and
JWT subject. Every answer must echo that data and nobody else's.

Each gunicorn worker has its own in-memory library, so the harness gives each worker its own
book ids (pid x 1,000,000 + n) and an X-Load-Worker header: a GET or loan answered by the worker
that made the book must echo it; by the other worker, it must be a 404 naming that same id.
"""
from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from statistics import quantiles
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

from pym_lambda import generate_token
from pym_lambda.config import load_settings
from tests.gunicorn_server import running_gunicorn

ROOT = Path(__file__).resolve().parents[2]
WORKERS, THREADS, CLIENTS = 2, 8, 16
CI_REQUESTS, CI_SECONDS = 1_002, 30.0  # 334 jobs of 3 requests
LONG_REQUESTS, LONG_SECONDS = 20_001, 60.0  # whichever comes first
ID_BLOCK = 1_000_000
WRK_SECONDS = 20

LOAD_APP_MODULE = '''
import itertools
import os
import shutil

import app as example
from chalicelib import library

# Book ids of this worker: pid x 1,000,000 + n, so that no id names another worker's book.
library._ids = itertools.count(os.getpid() * 1_000_000 + 1)


@example.app.middleware("http")
def name_the_worker(event, get_response):
    response = get_response(event)
    response.headers["X-Load-Worker"] = str(os.getpid())
    return response


app = example.app
'''


# --- gunicorn ---------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


Reply = Tuple[int, Dict[str, str], Any]


def request(port: int, method: str, path: str, body: Any = None,
            headers: Optional[Dict[str, str]] = None) -> Reply:
    """One request on a new connection; (status, lower-cased headers, JSON body or None)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        sent = {"Connection": "close", **(headers or {})}
        data = None if body is None else json.dumps(body).encode()
        if data is not None:
            sent["Content-Type"] = "application/json"
        connection.request(method, path, body=data, headers=sent)
        response = connection.getresponse()
        raw = response.read()
        return (response.status, {k.lower(): v for k, v in response.getheaders()},
                json.loads(raw) if raw else None)
    finally:
        connection.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    pytest.importorskip("gunicorn", reason="gunicorn is not installed (pip install gunicorn)")
    folder = tmp_path_factory.mktemp("load")
    (folder / "pym_load_app.py").write_text(LOAD_APP_MODULE)
    port = free_port()
    log_path = folder / "gunicorn.log"
    env = {**os.environ, "PYM_APP_MODULE": "pym_load_app", "PYM_STAGE": "dev",
           "PYM_LOG_LEVEL": "WARNING", "PYTHONPATH": os.pathsep.join([str(folder), str(ROOT)])}
    options = ["--worker-class", "gthread", "--workers", str(WORKERS), "--threads", str(THREADS)]
    with running_gunicorn(options, port, env, log_path, lambda p: request(p, "GET", "/ping")[0]):
        yield port


# --- the load ---------------------------------------------------------------------------------

@dataclass
class Tally:
    requests: int = 0
    latencies: List[float] = field(default_factory=list)
    errors: List[str] = field(default_factory=list)
    cross_talk: List[str] = field(default_factory=list)
    same_worker: int = 0  # GETs and loans answered by the book's own worker (echo checked)
    other_worker: int = 0  # ... by the other worker (its 404 checked)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Job:
    """POST a book, GET it, lend it: three requests, each checked against this job's data."""

    def __init__(self, port: int, tally: Tally, jwt_settings: Any) -> None:
        self.port, self.tally = port, tally
        self.tag = uuid.uuid4().hex
        self.token = generate_token(f"lender-{self.tag}", settings=jwt_settings)

    def send(self, method: str, path: str, body: Any = None,
             headers: Optional[Dict[str, str]] = None) -> Optional[Reply]:
        call_id = f"call-{uuid.uuid4().hex}"
        started = time.perf_counter()
        try:
            reply = request(self.port, method, path, body,
                            {"PymCallID": call_id, **(headers or {})})
        except Exception as exc:
            self.error(f"{method} {path}: {exc!r}")
            return None
        with self.tally.lock:
            self.tally.requests += 1
            self.tally.latencies.append(time.perf_counter() - started)
        if reply[1].get("pymcallid") != call_id:
            self.cross_talk(f"{method} {path}: sent call id {call_id}, got {reply[1]}")
        return reply

    def error(self, text: str) -> None:
        with self.tally.lock:
            self.tally.errors.append(text)

    def cross_talk(self, text: str) -> None:
        with self.tally.lock:
            self.tally.cross_talk.append(text)

    def run(self) -> None:
        title = f"title-{self.tag}"
        created = self.send("POST", "/v1/books", {"title": title,
                                                  "authors": [{"name": f"author-{self.tag}"}]})
        if created is None:
            return
        status, headers, book = created
        if status != 201:
            return self.error(f"POST /v1/books: {status} {book}")
        if book["title"] != title or book["authors"] != [{"name": f"author-{self.tag}"}] \
                or str(book["id"] // ID_BLOCK) != headers.get("x-load-worker"):
            return self.cross_talk(f"POST /v1/books {title}: got {book} from {headers}")
        book_id, maker = book["id"], headers["x-load-worker"]
        expected = {"id": book_id, "title": title}
        self.check(maker, book_id, expected, self.send("GET", f"/v1/books/{book_id}"), 200)
        loan = {"reader": f"reader-{self.tag}", "due": "2099-01-31"}
        lent = self.send("POST", f"/v1/books/{book_id}/loans", loan, {
            "Authorization": f"Bearer {self.token}", "X-Library-Branch": f"branch-{self.tag}"})
        self.check(maker, book_id, {**loan, "book_id": book_id, "branch": f"branch-{self.tag}",
                                    "lent_by": f"lender-{self.tag}"}, lent, 201)

    def check(self, maker: str, book_id: int, expected: Dict[str, Any], reply: Optional[Reply],
              status: int) -> None:
        if reply is None:
            return
        got_status, headers, body = reply
        if headers.get("x-load-worker") == maker:
            if got_status != status:
                return self.error(f"book {book_id}: {got_status} {body}")
            if {k: body.get(k) for k in expected} != expected:
                return self.cross_talk(f"book {book_id}: expected {expected}, got {body}")
            with self.tally.lock:
                self.tally.same_worker += 1
        else:  # the other worker has no such book, and must say so about this very id
            if got_status != 404:
                return self.error(f"book {book_id} on another worker: {got_status} {body}")
            if body.get("error_description") != f"there is no book {book_id}":
                return self.cross_talk(f"book {book_id} on another worker: {body}")
            with self.tally.lock:
                self.tally.other_worker += 1


def run_load(port: int, requests: int, seconds: float) -> Tuple[Tally, float]:
    """Jobs of 3 requests from CLIENTS threads, until `requests` are sent or `seconds` pass."""
    tally = Tally()
    jwt_settings = load_settings(ROOT, stage="dev")
    deadline = time.monotonic() + seconds
    started = time.perf_counter()

    def job(_: int) -> None:
        if time.monotonic() < deadline:
            Job(port, tally, jwt_settings).run()

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        list(pool.map(job, range(requests // 3)))
    return tally, time.perf_counter() - started


def summary(tally: Tally, elapsed: float) -> str:
    cuts = quantiles(tally.latencies, n=100) if len(tally.latencies) > 1 else [0.0] * 99
    return (f"{tally.requests} requests, {CLIENTS} clients on gunicorn gthread "
            f"{WORKERS}x{THREADS}: {len(tally.errors)} errors, {len(tally.cross_talk)} "
            f"cross-talk, {tally.requests / elapsed:.0f} req/s, p50 {cuts[49] * 1000:.1f} ms, "
            f"p99 {cuts[98] * 1000:.1f} ms ({tally.same_worker} echoes checked on the book's "
            f"worker, {tally.other_worker} 404s checked on the other)")


def assert_held(tally: Tally, elapsed: float) -> None:
    report = summary(tally, elapsed)
    print(f"\n{report}")
    assert not tally.errors, f"{report}\n" + "\n".join(tally.errors[:5])
    assert not tally.cross_talk, f"{report}\n" + "\n".join(tally.cross_talk[:5])
    assert tally.same_worker > 0, report


def test_load_on_gunicorn_gthread(server: int) -> None:
    tally, elapsed = run_load(server, CI_REQUESTS, CI_SECONDS)
    assert_held(tally, elapsed)
    assert tally.requests == CI_REQUESTS, "not every request was sent within the time limit"
    assert elapsed < CI_SECONDS + 10


@pytest.mark.slow
def test_long_load_on_gunicorn_gthread(server: int) -> None:
    tally, elapsed = run_load(server, LONG_REQUESTS, LONG_SECONDS)
    assert_held(tally, elapsed)
    assert tally.requests >= 1_000


@pytest.mark.slow
def test_wrk_load_on_gunicorn_gthread(server: int) -> None:
    """The same server under wrk (if installed): POSTs echoing their title, GETs of unknown ids
    echoing the id, 8 connections for WRK_SECONDS; wrk's Lua script checks every answer."""
    wrk = shutil.which("wrk")
    if wrk is None:
        pytest.skip("wrk is not installed (apt-get install wrk)")
    script = Path(__file__).with_name("echo_check.lua")
    run = subprocess.run([wrk, "-t", "8", "-c", "8", "-d", f"{WRK_SECONDS}s", "--timeout", "10s",
                          "-s", str(script), f"http://127.0.0.1:{server}"],
                         capture_output=True, text=True, timeout=WRK_SECONDS + 30, check=True)
    line = next(x for x in run.stdout.splitlines() if x.startswith("WRK_RESULT "))
    result = json.loads(line.removeprefix("WRK_RESULT "))
    print(f"\nwrk, 8 connections on gunicorn gthread {WORKERS}x{THREADS}: {result}, "
          f"{result['requests'] / result['seconds']:.0f} req/s")
    assert result["requests"] > 0 and result["socket_errors"] == 0, run.stdout
    assert result["errors"] == 0 and result["wrong"] == 0, run.stdout
    assert result["echoed"] == result["requests"], run.stdout
