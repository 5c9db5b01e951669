"""Property-based fuzzing of the example service with schemathesis, in process.

Every operation of apis/library.yaml gets generated requests, conforming (positive) and
non-conforming (negative), sent to app.py's app through pym_lambda.wsgi. Each response must:
not be a 5xx; have a status the spec declares; match its declared content type and schema;
reject non-conforming data with a 4xx; and, for every error, be the one JSON error shape with
no internal detail. Variants go further in: lendBook (bearer JWT) is also fuzzed with a valid
token, and in positive mode it and the other operations on a book also get the id of a book
made for the case, so that they are fuzzed past the 401 and the 404. The reviews operation calls a
stub of the reviews service on 127.0.0.1.

CI: derandomized, FUZZ_EXAMPLES per variant (>= 1,000 requests in all, counted). The long run
(`pytest -m slow`) sends LONG_EXAMPLES per variant (over 20,000), randomized.
"""
from __future__ import annotations

import json
import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List, NamedTuple
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.test import Client

from pym_lambda import generate_token
from pym_lambda.clients import install_clients
from pym_lambda.runtime.app import load_compiled
from pym_lambda.runtime.service import deactivate
from pym_lambda.wsgi import make_wsgi_app

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "apis" / "library.yaml"
FUZZ_EXAMPLES = 80  # per variant: 17 variants (library.yaml as of now) = 1,360 requests
LONG_EXAMPLES = 1_200  # per variant: 20,400 requests
MIN_REQUESTS_PER_RUN = 1_000

SCHEMA = schemathesis.openapi.from_path(SPEC)
OPERATIONS = {op.label: op for op in (result.ok() for result in SCHEMA.get_all_operations())}
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]


class Variant(NamedTuple):
    label: str  # the operation
    mode: GenerationMode
    token: bool = False  # send a valid JWT (operations that need one are fuzzed both ways)
    book: bool = False  # in the path, the id of a book made for the case (not a random one)


def variants_of(label: str, op: Any) -> List[Variant]:
    found = [Variant(label, mode) for mode in MODES]
    if op.definition.raw.get("security"):
        found += [Variant(label, mode, token=True, book=mode is GenerationMode.POSITIVE)
                  for mode in MODES]
    elif "{book_id}" in op.path:
        found.append(Variant(label, GenerationMode.POSITIVE, book=True))
    return found


VARIANTS = [v for label, op in OPERATIONS.items() for v in variants_of(label, op)]

ERROR_KEYS = {"status", "error", "error_description", "error_id"}
ERROR_CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")
# What no response may show: a traceback, a source path, the framework's internals.
INTERNALS = re.compile(r"Traceback \(most recent|File \"|site-packages|\.py\b|pym_lambda\.|"
                       + re.escape(str(ROOT)))

# Filled as the tests run: requests sent per variant, statuses seen per operation.
SENT: Counter[Variant] = Counter()
STATUSES: Dict[str, Counter[int]] = {label: Counter() for label in OPERATIONS}


def one_error_shape(ctx: Any, response: Any, case: Any) -> None:
    """Every error (4xx, and a 5xx if one ever came) is {status, error, error_description,
    error_id} as JSON, with nothing of the server's insides in it."""
    if response.status_code < 400:
        return
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith("application/json"), f"error as {content_type!r}"
    body = json.loads(response.content)
    optional = {"user_message", "problems"}
    assert isinstance(body, dict) and ERROR_KEYS <= set(body) <= ERROR_KEYS | optional, \
        f"not the error shape: {body!r}"
    assert body["status"] == response.status_code, body
    assert ERROR_CODE.match(body["error"]), body
    assert isinstance(body["error_id"], str) and body["error_id"], body
    text = " ".join(str(value) for value in body.values())
    leaks = {m.group() for m in INTERNALS.finditer(text)}
    sent = sent_text(response.request)  # the client's own input may be quoted back to it
    assert not {leak for leak in leaks if leak not in sent}, body


def rejects_negative_data(ctx: Any, response: Any, case: Any) -> None:
    """schemathesis' negative_data_rejection, less one false positive: a negated query
    parameter whose text on the wire is valid after all (the number -2.0 as `tags` is sent as
    ?tags=-2.0, a valid one-item array of strings) is not negative data, and accepting it is
    right. Every other acceptance of negative data still fails."""
    try:
        negative_data_rejection(ctx, response, case)
    except AssertionError:
        if not query_as_sent_is_valid(response, case):
            raise


def query_as_sent_is_valid(response: Any, case: Any) -> bool:
    meta = case.meta
    if meta is None or not meta.is_negative_at(ParameterLocation.QUERY) or any(
            meta.is_negative_at(where) for where in ParameterLocation
            if where is not ParameterLocation.QUERY):
        return False
    sent = parse_qs(urlsplit(response.request.url).query, keep_blank_values=True)
    values: Dict[str, Any] = {}
    for parameter in case.operation.query:
        if parameter.name in sent:
            values[parameter.name] = wire_value(parameter, sent[parameter.name])
    return bool(case.operation.get_parameter_set(ParameterLocation.QUERY)
                .get_strict_validator().is_valid(values))


def wire_value(parameter: Any, texts: List[str]) -> Any:
    """The value a server reads from a query parameter's texts (style form)."""
    schema = parameter.validation_schema
    if schema.get("type") == "array":
        explode = parameter.definition.get("explode", True)
        items = texts if explode else [i for text in texts for i in text.split(",")]
        return [scalar(schema.get("items", {}), item) for item in items]
    return scalar(schema, texts[0]) if len(texts) == 1 else texts


def scalar(schema: Dict[str, Any], text: str) -> Any:
    kind = schema.get("type")
    if kind == "integer" and re.fullmatch(r"[+-]?[0-9]+", text):
        return int(text)
    if kind == "number" and re.fullmatch(r"[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?", text):
        return float(text)
    if kind == "boolean" and text in ("true", "false", "1", "0"):
        return text in ("true", "1")
    return text


def sent_text(request: Any) -> str:
    """What the client sent, as text: URL, headers, body (and the body's values, unescaped)."""
    body = request.body or b""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    try:
        text += repr(json.loads(text))
    except ValueError:
        pass
    return " ".join([unquote(request.url), *map(str, request.headers.values()), text])


class ReviewsStub(BaseHTTPRequestHandler):
    """The reviews service the example calls through its typed client (apis/reviews.yaml)."""

    ANSWER = json.dumps({"reviews": [
        {"stars": 5, "author": "ann", "posted_at": "2024-01-02T03:04:05Z"},
        {"stars": 2, "author": "bob", "text": "too long"}]}).encode()

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.ANSWER)))
        self.end_headers()
        self.wfile.write(self.ANSWER)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def wsgi_app() -> Iterator[Any]:
    """app.py's app behind pym_lambda.wsgi, its reviews client pointed at a stub."""
    import app as example
    from chalicelib import library

    # The example's service is the fixture's own (generate_token(), install_clients() outside
    # requests), whatever app another test created since.
    token = example.app.pym_service.set_as_default()
    stub = ThreadingHTTPServer(("127.0.0.1", 0), ReviewsStub)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    install_clients(load_compiled(ROOT), {"reviews": f"http://127.0.0.1:{stub.server_port}"},
                    timeout=2, retries=0)
    library.reset()
    try:
        yield make_wsgi_app(example.app)
    finally:
        library.reset()
        deactivate(token)
        stub.shutdown()
        stub.server_close()


def new_book_id(wsgi_app: Any) -> int:
    reply = Client(wsgi_app).post("/v1/books", json={"title": "fuzz", "authors": [{"name": "a"}]})
    assert reply.status_code == 201, reply.get_data(as_text=True)
    return int(reply.get_json()["id"])


def fuzz(wsgi_app: Any, variant: Variant, examples: int, derandomize: bool) -> int:
    """Send `examples` generated requests to one operation; the number actually sent."""
    label, mode = variant.label, variant.mode
    operation = OPERATIONS[label]
    checks: List[Any] = [not_a_server_error, status_code_conformance, content_type_conformance,
                         response_schema_conformance, one_error_shape]
    if mode is GenerationMode.NEGATIVE:
        checks.append(rejects_negative_data)
    with wsgi_app.chalice_app.pym_service.use():  # the example's JWT settings sign the token
        token = generate_token("fuzzer")
    headers = {"Authorization": f"Bearer {token}"} if variant.token else None
    sent = 0

    @settings(max_examples=examples, derandomize=derandomize, database=None, deadline=None,
              print_blob=True, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode, headers=headers))
    def send(case: Any) -> None:
        nonlocal sent
        if variant.book:  # a book that exists, so that the operation can work
            case.path_parameters = {**case.path_parameters, "book_id": new_book_id(wsgi_app)}
        response = case.call(app=wsgi_app)
        sent += 1
        SENT[variant] += 1
        STATUSES[label][response.status_code] += 1
        case.validate_response(response, checks=checks)

    send()
    return sent


def variant_id(variant: Variant) -> str:
    return " ".join([variant.label, variant.mode.value] + ["with-token"] * variant.token
                    + ["existing-book"] * variant.book)


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_fuzzed_requests_get_conforming_answers(wsgi_app: Any, variant: Variant) -> None:
    assert fuzz(wsgi_app, variant, FUZZ_EXAMPLES, derandomize=True) >= FUZZ_EXAMPLES


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_long_fuzz(wsgi_app: Any, variant: Variant) -> None:
    assert fuzz(wsgi_app, variant, LONG_EXAMPLES, derandomize=False) >= LONG_EXAMPLES


def status_summary() -> str:
    declared = {label: {str(s) for s in op.definition.raw.get("responses", {})}
                for label, op in OPERATIONS.items()}
    seen = {label: dict(sorted(c.items())) for label, c in STATUSES.items() if c}
    only_default = {label: [s for s in statuses if str(s) not in declared[label]]
                    for label, statuses in seen.items()}
    return (f"fuzzed {sum(SENT.values())} requests; statuses per operation: {seen}; "
            f"answered under `default` only: {only_default}")


@pytest.fixture(scope="module", autouse=True)
def print_summary() -> Iterator[None]:
    yield
    if SENT:
        print(f"\n{status_summary()}")


def test_fuzzing_went_past_authentication_and_sent_enough() -> None:
    """Runs last: the tally of the tests above (skipped when some of them were deselected)."""
    if not all(SENT[variant] >= FUZZ_EXAMPLES for variant in VARIANTS):
        pytest.skip("not every fuzz test ran")
    assert sum(SENT.values()) >= MIN_REQUESTS_PER_RUN
    assert not any(status >= 500 for seen in STATUSES.values() for status in seen)
    lend = STATUSES["POST /books/{book_id}/loans"]
    assert lend[401] and lend[201], f"lendBook never got past the token check: {lend}"
    assert all(any(200 <= status < 300 for status in STATUSES[label]) for label in OPERATIONS), \
        f"an operation never succeeded: {status_summary()}"
