"""Traces (issue #20 item 1): a service run as Lambda runs it (a fresh process, API Gateway and
SQS events of the shapes in pym_lambda/build/deploy/events/, the task queue on moto), its segment
documents read from the in-memory exporter or, as the X-Ray daemon would, from UDP datagrams."""
from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest

from tests.runtime import lambda_service
from tests.runtime.lambda_service import ROOT
from tests.runtime.lambda_service import report as _report

# Requests through the API function (see lambda_service.SCRIPT), then the queue's messages.
CALLS = [("POST", "/pets", {"name": "rex"}), ("POST", "/pets", {"name": ""}),
         ("GET", "/pets/boom", None)]

# lambda_service's pets service, its code with spans of its own (pym_lambda.tracing.span)
IMPL = """
from pym_lambda import PermanentFailure, async_task, tracing

@async_task
def remember(name):
    failure = {"flaky": RuntimeError("not now"), "never": PermanentFailure("never")}.get(name)
    with tracing.span("remember pet", pet=name):
        if failure is not None:
            raise failure

def create(pet):
    remember.delay(pet.name)
    with tracing.span("check stock", size=3, **{"shelf no.": "a-1"}) as stock:
        with tracing.span("count"):
            stock.annotate("seen", ["a list", "as text"])
    return 201, {"name": pet.name}

def get(name):
    with tracing.span("look up"):
        if name == "boom":
            raise RuntimeError("a bug")
    return {"name": name}
"""


def run_service(tmp_path: Path, config: str, **environ: str) -> str:
    """The script's stderr, run in the project; `TRACE_IDS` (optional) are Lambda's
    _X_AMZN_TRACE_ID, one per invocation."""
    return lambda_service.run_service(tmp_path, config, CALLS, "tracing", IMPL, **environ)[1]


def replies(stderr: str) -> List[Tuple[str, str]]:
    """Each reply's status and call id."""
    return list(zip(_report(stderr, "STATUS"), _report(stderr, "CALL_ID"), strict=True))


def walk(doc: Dict[str, Any]) -> Iterator[Dict[str, Any]]:
    yield doc
    for child in doc.get("subsegments", []):
        yield from walk(child)


def names(doc: Dict[str, Any]) -> List[str]:
    return [child["name"] for child in doc.get("subsegments", [])]


MEMORY = "tracing:\n  enabled: true\n  exporter: memory\n"


def test_a_request_that_enqueues_a_task_gives_one_joined_trace(tmp_path: Path) -> None:
    stderr = run_service(tmp_path, MEMORY)
    statuses = replies(stderr)
    assert [s[0] for s in statuses] == ["201", "400", "500"]
    documents = json.loads(_report(stderr, "DOCUMENTS")[0])
    assert len(documents) == 3 + 1  # one per request, one per task run
    created, refused, crashed, task = documents
    # Not on Lambda (no _X_AMZN_TRACE_ID): each request starts a trace of its own.
    assert len({d["trace_id"] for d in documents[:3]}) == 3
    assert "parent_id" not in created and "type" not in created
    assert created["name"] == "createPet"
    assert created["annotations"] == {"operation": "createPet", "call_id": statuses[0][1]}
    assert created["http"]["response"]["status"] == 201
    assert created["http"]["request"]["method"] == "POST"
    assert names(created) == ["validation", "function", "response"]
    function = created["subsegments"][1]
    # The function's calls to SQS (the queue's URL, looked up once, and the message), as AWS
    # calls in the function's span, then the function's own span and the one nested in it.
    *sqs, stock = function["subsegments"]
    assert [(s["name"], s["namespace"], s["aws"]["operation"]) for s in sqs
            ] == [("sqs", "aws", "GetQueueUrl"), ("sqs", "aws", "SendMessage")]
    assert all(s["http"]["response"]["status"] == 200 and s["aws"]["request_id"] for s in sqs)
    assert stock["name"] == "check stock" and "namespace" not in stock
    assert stock["annotations"] == {"call_id": statuses[0][1], "size": 3, "shelf_no_": "a-1",
                                    "seen": "['a list', 'as text']"}
    (count,) = stock["subsegments"]
    assert count["name"] == "count" and count["annotations"] == {"call_id": statuses[0][1]}
    assert function["start_time"] <= stock["start_time"] <= count["start_time"]
    assert count["end_time"] <= stock["end_time"] <= function["end_time"]
    for doc in walk(created):
        assert doc["start_time"] <= doc["end_time"]
        assert len(doc["id"]) == 16 and int(doc["id"], 16) >= 0
    starts = [s["start_time"] for s in created["subsegments"]]
    assert starts == sorted(starts) and created["start_time"] <= starts[0]
    assert created["subsegments"][-1]["end_time"] <= created["end_time"]
    # The task's segment is in the request's trace, its parent the span that sent it.
    assert task["trace_id"] == created["trace_id"]
    assert task["parent_id"] == function["id"]
    assert task["annotations"]["call_id"] == statuses[0][1]  # the request's call id
    assert task["annotations"]["task"] == "chalicelib.pets:remember"
    assert task["annotations"]["outcome"] == "succeeded" and "fault" not in task
    (remembered,) = task["subsegments"]  # the task's own span, in the task's segment
    assert remembered["name"] == "remember pet"
    assert remembered["annotations"] == {"call_id": statuses[0][1], "pet": "rex"}
    # A refused body is a client error; the crash a fault whose function span names it.
    assert refused["error"] is True and names(refused) == []  # refused before its function
    assert refused["http"]["response"]["status"] == 400
    assert crashed["fault"] is True and crashed["annotations"]["call_id"] == statuses[2][1]
    crash = crashed["subsegments"][1]
    assert crash["fault"] is True
    assert crash["cause"]["exceptions"][0]["type"] == "RuntimeError"
    (looked_up,) = crash["subsegments"]  # the user's span the exception left: its cause too
    assert looked_up["name"] == "look up" and looked_up["fault"] is True
    assert looked_up["cause"]["exceptions"][0]["message"] == "a bug"
    assert _report(stderr, "MODULES") != ["[]"]


def test_on_lambda_the_request_is_a_subsegment_of_lambdas_segment_sent_to_the_daemon(
        tmp_path: Path) -> None:
    daemon = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    daemon.bind(("127.0.0.1", 0))
    daemon.settimeout(5)
    port = daemon.getsockname()[1]
    traces = [f"Root=1-5759e988-bd862e3fe1be46a99427250{i};Parent=53995c3f42cd8ad{i};Sampled=1"
              for i in range(3)]
    traces[1] = traces[1].replace("Sampled=1", "Sampled=0")  # Lambda didn't sample this one
    traces.append("Root=1-5759e988-bd862e3fe1be46a994272509;Parent=53995c3f42cd8ad9;Sampled=1")
    try:
        stderr = run_service(tmp_path, "tracing:\n  enabled: true\n",
                             AWS_XRAY_DAEMON_ADDRESS=f"127.0.0.1:{port}",
                             TRACE_IDS=json.dumps(traces))
        packets = []
        daemon.settimeout(0.5)
        try:
            while True:
                packets.append(daemon.recv(70000))
        except TimeoutError:
            pass
    finally:
        daemon.close()
    assert [line.split()[0] for line in _report(stderr, "STATUS")] == ["201", "400", "500"]
    headers = {p.split(b"\n", 1)[0] for p in packets}
    assert headers == {b'{"format": "json", "version": 1}'}
    documents = [json.loads(p.split(b"\n", 1)[1]) for p in packets]
    assert len(documents) == 3  # request 2 was not sampled: nothing sent for it
    created, crashed, task = documents
    assert created["type"] == crashed["type"] == "subsegment"
    assert traces[0].startswith(f"Root={created['trace_id']};Parent={created['parent_id']};")
    assert traces[2].startswith(f"Root={crashed['trace_id']};Parent={crashed['parent_id']};")
    # The worker's invocation has its own trace id; the task joins the request's trace.
    assert task["trace_id"] == created["trace_id"] and "type" not in task
    function = created["subsegments"][1]
    assert task["parent_id"] == function["id"]


def test_off_by_default_nothing_imported_and_no_trace_header_sent(tmp_path: Path) -> None:
    """Off, the service's spans cost the call: only the API module itself is loaded."""
    stderr = run_service(tmp_path, "name: pets\n")
    assert [line.split()[0] for line in _report(stderr, "STATUS")] == ["201", "400", "500"]
    assert json.loads(_report(stderr, "DOCUMENTS")[0]) == []
    assert _report(stderr, "MODULES") == ['["pym_lambda.tracing"]']


def test_an_operations_auth_step_is_its_own_span_and_a_refusal_an_error(
        monkeypatch: Any) -> None:
    """In process, the repository's example service (a JWT-protected operation) made with
    tracing on and the memory exporter, called through Chalice's test client."""
    from chalice.test import Client

    from pym_lambda import create_app, generate_token

    monkeypatch.setenv("PYM_TRACING_ENABLED", "true")
    monkeypatch.setenv("PYM_TRACING_EXPORTER", "memory")
    monkeypatch.delenv("_X_AMZN_TRACE_ID", raising=False)
    app = create_app(str(ROOT / "app.py"))
    from chalicelib import library  # the example's books, kept by the module: none

    library.reset()
    documents = app.pym_service.tracer.exporter.documents
    body = json.dumps({"reader": "ann", "due": "2099-01-01"})
    with app.pym_service.use(), Client(app) as client:
        token = generate_token("librarian-7")
        refused = client.http.post("/v1/books/1/loans", body=body,
                                   headers={"Content-Type": "application/json"})
        found = client.http.post("/v1/books/1/loans", body=body, headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {token}",
            "X-Amzn-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8"})
    assert (refused.status_code, found.status_code) == (401, 404)  # no book 1: the function's
    anonymous, known = documents
    assert names(anonymous) == ["auth"]  # refused there: no validation, no function
    assert anonymous["subsegments"][0]["error"] is True and "fault" not in anonymous
    assert anonymous["subsegments"][0]["cause"]["exceptions"][0]["type"].endswith("Error")
    assert anonymous["error"] is True and anonymous["annotations"]["operation"] == "lendBook"
    assert names(known) == ["auth", "validation", "function"]  # the function raised: no response
    assert known["subsegments"][2]["error"] is True  # a 404 PymError: the client's error
    # The incoming header names the trace and the caller's segment as the parent.
    assert (known["trace_id"], known["parent_id"]) == ("1-5759e988-bd862e3fe1be46a994272793",
                                                       "53995c3f42cd8ad8")
    assert "type" not in known  # a segment of its own in that trace, not a subsegment


def test_a_client_call_is_a_remote_span_and_passes_the_trace_on(monkeypatch: Any) -> None:
    """The example service's reviews client (x-bind-client) calling a stub on 127.0.0.1: the
    call is a `remote` span of the function's, and the stub gets the trace header naming it."""
    from http.server import ThreadingHTTPServer
    from threading import Thread

    from chalice.test import Client

    from pym_lambda import create_app
    from pym_lambda.clients import install_clients
    from pym_lambda.runtime.app import load_compiled
    from tests.example.test_clients import ReviewsStub

    monkeypatch.setenv("PYM_TRACING_ENABLED", "true")
    monkeypatch.setenv("PYM_TRACING_EXPORTER", "memory")
    monkeypatch.delenv("_X_AMZN_TRACE_ID", raising=False)
    seen: List[str] = []
    monkeypatch.setattr(ReviewsStub, "answer", (200, {"reviews": [{"stars": 4, "author": "a"}]}))
    original = ReviewsStub.do_GET

    def do_get(handler: Any) -> None:
        seen.append(handler.headers.get("X-Amzn-Trace-Id"))
        original(handler)

    monkeypatch.setattr(ReviewsStub, "do_GET", do_get)
    server = ThreadingHTTPServer(("127.0.0.1", 0), ReviewsStub)
    Thread(target=server.serve_forever, daemon=True).start()
    app = create_app(str(ROOT / "app.py"))
    documents = app.pym_service.tracer.exporter.documents
    try:
        with app.pym_service.use(), Client(app) as client:
            install_clients(load_compiled(ROOT), {
                "reviews": f"http://127.0.0.1:{server.server_port}"}, timeout=2, retries=0)
            made = client.http.post("/v1/books", body=json.dumps(
                {"title": "Dune", "authors": [{"name": "F"}]}),
                headers={"Content-Type": "application/json"})
            book = json.loads(made.body)["id"]
            reply = client.http.get(f"/v1/books/{book}/reviews")
    finally:
        server.shutdown()
        server.server_close()
    assert reply.status_code == 200, reply.body
    request = documents[-1]
    function = request["subsegments"][1]
    assert function["name"] == "function"
    (call,) = function["subsegments"]
    assert call["namespace"] == "remote" and call["name"].startswith("reviews.")
    assert call["http"]["request"]["method"] == "GET"
    assert call["http"]["request"]["url"].startswith(f"http://127.0.0.1:{server.server_port}/")
    assert call["http"]["response"]["status"] == 200
    assert seen == [f"Root={request['trace_id']};Parent={call['id']};Sampled=1"]


def test_a_document_too_big_for_a_datagram_goes_as_its_subsegments() -> None:
    from pym_lambda.tracing.export import UdpExporter
    from pym_lambda.tracing.spans import Span

    daemon = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    daemon.bind(("127.0.0.1", 0))
    daemon.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    daemon.settimeout(2)
    export = UdpExporter(f"tcp:127.0.0.1:1 udp:127.0.0.1:{daemon.getsockname()[1]}")
    try:
        root = Span("big", "1-5759e988-bd862e3fe1be46a994272793")
        for index in range(40):  # 40 x ~2.5 KB of annotations: more than 64 KB in all
            root.child(f"step{index}").annotations["text"] = "x" * 2500
        export(root.document())
        packets = [daemon.recv(70000) for _ in range(41)]
    finally:
        export.close()
        daemon.close()
    assert all(len(p) < 64 * 1024 for p in packets)
    documents = [json.loads(p.split(b"\n", 1)[1]) for p in packets]
    head, children = documents[0], documents[1:]
    assert head["id"] == root.id and "subsegments" not in head
    assert {c["name"] for c in children} == {f"step{i}" for i in range(40)}
    assert all((c["type"], c["trace_id"], c["parent_id"]) == ("subsegment", root.trace_id,
                                                               root.id) for c in children)


def test_names_x_ray_would_refuse_are_made_safe() -> None:
    from pym_lambda.tracing.spans import safe_name

    assert safe_name('get"pet<1>;é ok_.:/%&#=+\\-@') == "get_pet_1__é ok_.:/%&#=+\\-@"
    assert safe_name("x" * 300) == "x" * 200 and safe_name("") == "-"


def test_a_span_outside_a_traced_call_is_one_shared_do_nothing_object() -> None:
    """tracing.span() with no current span (tracing off, or spans.py loaded by another app):
    the same NoSpan each time, its exception passed on; in a traced call, nested spans."""
    from pym_lambda import tracing
    from pym_lambda.tracing.spans import Span, current_span

    assert tracing.span("a") is tracing.span("b", key=1)
    with pytest.raises(ValueError, match="passed on"):
        with tracing.span("a") as nothing:
            nothing.annotate("key", 1)
            raise ValueError("passed on")
    root = Span("task", "1-5759e988-bd862e3fe1be46a994272793")
    token = current_span.set(root)
    try:
        with pytest.raises(KeyError):
            with tracing.span("outer") as outer, tracing.span("inner", n=2):
                raise KeyError("gone")
    finally:
        current_span.reset(token)
    assert current_span.get() is None
    (made,) = root.children
    assert made is outer.span and made.fault and isinstance(made.cause, KeyError)
    (inner,) = made.children
    assert inner.annotations == {"n": 2} and inner.end is not None  # no call: no call_id
    assert tracing.span("after") is tracing.span("b")
