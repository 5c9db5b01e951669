"""A cold start of the example's Lambda package imports only what routing needs (issue #18):
the request readers, the schema explainer and strict mode's checks are imported at an
operation's first call, and the log escaper's pattern is compiled at its first use (no other
pattern is compiled by the framework at a cold start); the
framework's records and typed dicts are built without turning their annotations into
typing.ForwardRefs (a compile() each)."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional

from tests.build.deploy.deploy_fixtures import copy_example
from tests.conftest import make_service

ROOT = Path(__file__).resolve().parents[2]
# Imported by an operation's first call (BoundOperation.prepare) or the first request
# (lean_rest), never by `import app`.
DEFERRED = ("pym_lambda.runtime.body", "pym_lambda.runtime.params",
            "pym_lambda.runtime.schema_validator", "pym_lambda.runtime.strict",
            "pym_lambda.runtime.numeric_text", "pym_lambda.quoting",
            "pym_lambda.runtime.lean_rest")
PROBE = """
import json, sys, typing
sys.path[:0] = ['.', {root!r}]
forward_refs = []
made = typing.ForwardRef.__init__
def counting(self, arg, *args, **kwargs):
    frame, in_class = sys._getframe(1), False
    while frame.f_globals.get("__name__") == "typing":
        in_class = in_class or frame.f_code.co_name in ("__new__", "_make_nmtuple")
        frame = frame.f_back
    if in_class:  # typing building a NamedTuple's or a TypedDict's annotations
        forward_refs.append([frame.f_globals.get("__name__"), arg])
    made(self, arg, *args, **kwargs)
typing.ForwardRef.__init__ = counting
import re
patterns, re_compile = [], re._compile
def recording(pattern, flags):
    frame = sys._getframe(1)
    while frame.f_globals.get("__name__") == "re":
        frame = frame.f_back
    if frame.f_globals.get("__name__", "").startswith("pym_lambda"):
        patterns.append([frame.f_globals["__name__"], str(pattern)])
    return re_compile(pattern, flags)
re._compile = recording
import app
re._compile = re_compile
typing.ForwardRef.__init__ = made
import pym_lambda.logs as logs
from pym_lambda.runtime import operation
cold = {{"deferred": sorted(m for m in {deferred!r} if m in sys.modules),
        "patterns": sorted(p.pattern for p in getattr(__import__("re"), "_cache", {{}}).values()
                           if getattr(p, "pattern", None) == logs._UNSAFE_TEXT),
        "framework": operation.__file__,
        "docs": sorted(m for m in sys.modules if m.startswith("pym_lambda.docs")),
        "forward_refs": [ref for ref in forward_refs if ref[0].startswith("pym_lambda")],
        "compiled": patterns}}
print("COLD", json.dumps(cold))
from chalice.test import Client
with app.app.pym_service.use(), Client(app.app) as client:
    reply = client.http.post("/v1/books", headers={{"content-type": "application/json"}},
                             body=json.dumps({{"title": 5}}))
print("CALLED", json.dumps({{"status": reply.status_code,
                            "deferred": sorted(m for m in {deferred!r} if m in sys.modules)}}))
"""


def _package(tmp_path: Path, project: Optional[Path] = None) -> Path:
    """app.py and chalicelib/ as `pym-lambda build` leaves them: what the Lambda package runs
    (no apis/, the compiled form and prebuilt checks in chalicelib/). Default: the example."""
    project = project or copy_example(tmp_path / "project")
    built = subprocess.run([sys.executable, "-m", "pym_lambda.build.cli", "build",
                            "--project-dir", str(project)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-2000:]
    task = tmp_path / "task"
    task.mkdir()
    shutil.copy(project / "app.py", task / "app.py")
    shutil.copytree(project / "chalicelib", task / "chalicelib")
    return task


def test_a_cold_start_of_the_example_skips_what_only_a_call_needs(tmp_path: Path) -> None:
    task = _package(tmp_path)
    out = subprocess.run(
        [sys.executable, "-I", "-B", "-c", PROBE.format(root=str(ROOT), deferred=DEFERRED)],
        cwd=task, capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "PYM_STAGE": "prod", "AWS_DEFAULT_REGION": "us-east-1"})
    assert out.returncode == 0, out.stderr[-2000:]
    found = {tag: json.loads(text) for tag, text in
             (line.split(" ", 1) for line in out.stdout.splitlines())
             if tag in ("COLD", "CALLED")}
    assert found["COLD"]["framework"].startswith(str(ROOT / "pym_lambda"))
    assert found["COLD"]["deferred"] == []  # none imported by `import app`
    assert found["COLD"]["patterns"] == []  # the escaper's regex not compiled yet
    assert found["COLD"]["docs"] == []  # prod disables /doc: its modules are not imported
    # records (config.keys, tasks, auth) and compiled_types' shapes keep their annotations as
    # strings: typing compiles none of them
    assert found["COLD"]["forward_refs"] == []
    # no regular expression compiled by the framework (~0.3-0.5 M instructions each): names
    # (views, clients, task handlers, queue keys, error codes) are made with str methods
    assert found["COLD"]["compiled"] == []
    # the first call of an operation imports what it reads with, and answers as before
    called = found["CALLED"]
    assert called["deferred"] == sorted(DEFERRED)
    assert 400 <= called["status"] < 500


SPEC_UNPROTECTED = """
openapi: 3.0.3
info: {title: notes, version: '1'}
paths:
  /whoami:
    get:
      x-bind-server: chalicelib.notes.whoami
      responses:
        '200':
          description: ok
          content: {application/json: {schema: {type: object}}}
"""
IMPL_CALLER = """
from pym_lambda import current_caller

def whoami():
    caller = current_caller()
    return {"anonymous": caller is None}
"""
KEYS_PROBE = """
import json, sys
sys.path[:0] = ['.', {root!r}]
import app
cold = "pym_lambda.auth.keys" in sys.modules
from chalice.test import Client
with app.app.pym_service.use(), Client(app.app) as client:
    reply = client.http.get("/whoami")
print("KEYS", json.dumps({{"cold": cold, "status": reply.status_code,
                          "body": json.loads(reply.body), "auth": "pym_lambda.auth" in sys.modules,
                          "called": "pym_lambda.auth.keys" in sys.modules}}))
"""


def test_a_service_that_protects_nothing_never_imports_the_key_handling(tmp_path: Path) -> None:
    project = make_service(tmp_path / "project", {"notes": SPEC_UNPROTECTED},
                           {"notes": IMPL_CALLER})
    task = _package(tmp_path, project)
    out = subprocess.run([sys.executable, "-I", "-B", "-c", KEYS_PROBE.format(root=str(ROOT))],
                         cwd=task, capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "PYM_STAGE": "dev"})
    assert out.returncode == 0, out.stderr[-2000:]
    found = next(json.loads(line.split(" ", 1)[1]) for line in out.stdout.splitlines()
                 if line.startswith("KEYS "))
    # the code asks who calls (pym_lambda.auth is imported), the spec protects nothing: no key
    # handling at the cold start nor at the call, and the call answers
    assert found == {"cold": False, "status": 200, "body": {"anonymous": True}, "auth": True,
                     "called": False}
