"""CORS answers, structured logs carrying the call, and the token command, on the example app."""
from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import jwt

from pym_lambda.logs import ContextFilter, JsonFormatter

ROOT = Path(__file__).resolve().parents[2]
ORIGIN = "http://localhost:3000"


def test_preflight_from_an_allowed_origin(library):
    reply = library.request("OPTIONS", "/v1/books", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
    assert reply.status == 204
    assert reply.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert reply.headers["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS, POST"
    assert "Authorization" in reply.headers["Access-Control-Allow-Headers"]


def test_preflight_from_another_origin_is_refused(library):
    reply = library.request("OPTIONS", "/v1/books", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert reply.status == 403 and reply.json["error"] == "FORBIDDEN"
    assert "Access-Control-Allow-Origin" not in reply.headers


def test_simple_requests_get_cors_headers_only_for_allowed_origins(library):
    allowed = library.get("/v1/books", headers={"Origin": ORIGIN})
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "PymCallID" in allowed.headers["Access-Control-Expose-Headers"]
    other = library.get("/v1/books", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    # errors carry them too, so that a browser can read the error
    error = library.get("/v1/books/abc", headers={"Origin": ORIGIN})
    assert error.status == 400 and error.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_options_without_preflight_headers_is_405(library):
    assert library.request("OPTIONS", "/v1/books").status == 405


class Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.addFilter(ContextFilter())
        self.lines = []

    def emit(self, record):
        self.lines.append(json.loads(JsonFormatter().format(record)))


def test_request_line_and_errors_are_logged_as_json_with_the_call_id(library):
    handler = Collect()
    logger = logging.getLogger("pym_lambda")
    logger.addHandler(handler)
    try:
        reply = library.get("/v1/books/12345", headers={"PymCallID": "call-42"})
    finally:
        logger.removeHandler(handler)
    line = next(entry for entry in handler.lines if entry.get("status") == 404)
    assert line["call_id"] == "call-42" and line["operation"] == "getBook"
    assert line["http_method"] == "GET" and line["path"].endswith("/v1/books/12345")
    assert isinstance(line["duration_ms"], float) and line["level"] == "INFO"
    assert reply.headers["PymCallID"] == "call-42"


def test_token_command_signs_with_the_stage_secret(tmp_path):
    out = subprocess.run([sys.executable, "-m", "pym_lambda.build.cli", "token", "alice",
                          "--claim", "scope=admin", "--project-dir", str(ROOT)],
                         capture_output=True, text=True, check=True)
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    secret = config["stages"]["dev"]["environment_variables"]["JWT_SECRET"]
    claims = jwt.decode(out.stdout.strip(), secret, algorithms=["HS256"],
                        issuer="pym-library")
    assert claims["sub"] == "alice" and claims["scope"] == "admin"
