"""Shared fixtures: apps built from spec fixtures, in every dialect, behind chalice.test."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Dict, Optional

import pytest
import yaml
from chalice.test import Client

from pym_lambda import create_app

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parent.parent
DIALECTS = ["swagger2", "oas30", "oas31"]

# The example service reads its dev stage's environment (JWT_SECRET...), as `chalice local` does.
for _name, _value in json.loads((ROOT / ".chalice" / "config.json").read_text())[
        "stages"]["dev"].get("environment_variables", {}).items():
    os.environ.setdefault(_name, _value)


class Reply:
    def __init__(self, response: Any) -> None:
        self.status = response.status_code
        self.headers = response.headers
        self.body = response.body
        is_json = "json" in (response.headers.get("Content-Type") or "application/json")
        self.json: Any = json.loads(response.body) if response.body and is_json else None

    def __repr__(self) -> str:
        return f"<Reply {self.status} {self.body[:200]!r}>"


class JsonClient:
    """chalice.test.Client with JSON in and out."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def request(self, method: str, path: str, json_body: Any = None, body: Any = None,
                headers: Optional[Dict[str, str]] = None) -> Reply:
        headers = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body)
            headers.setdefault("content-type", "application/json")
        return Reply(self.client.http.request(method, path, headers=headers, body=body))

    def get(self, path: str, **kw: Any) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, json_body: Any = None, **kw: Any) -> Reply:
        return self.request("POST", path, json_body=json_body, **kw)


def to_oas31(doc: Any) -> Any:
    """The OpenAPI 3.0 fixture as 3.1: `nullable: true` becomes a type list with 'null'."""
    if isinstance(doc, dict):
        out = {k: to_oas31(v) for k, v in doc.items() if k != "nullable"}
        if doc.get("nullable") is True and isinstance(doc.get("type"), str):
            out["type"] = [doc["type"], "null"]
        return out
    if isinstance(doc, list):
        return [to_oas31(v) for v in doc]
    return doc


def write_spec(project: Path, name: str, fixture: str, dialect: str) -> Path:
    apis = project / "apis"
    apis.mkdir(parents=True, exist_ok=True)
    source = FIXTURES / fixture / ("swagger.yaml" if dialect == "swagger2" else "openapi.yaml")
    target = apis / f"{name}.yaml"
    if dialect == "oas31":
        doc = to_oas31(yaml.safe_load(source.read_text()))
        doc["openapi"] = "3.1.0"
        target.write_text(yaml.safe_dump(doc))
    else:
        shutil.copy(source, target)
    return target


def make_project(tmp_path: Path, specs: Dict[str, str], app_name: str = "test-app") -> Path:
    """A project folder with apis/<name>.yaml for each spec text."""
    (tmp_path / "apis").mkdir(parents=True, exist_ok=True)
    (tmp_path / ".chalice").mkdir(exist_ok=True)
    (tmp_path / ".chalice" / "config.json").write_text(json.dumps({"app_name": app_name}))
    for name, text in specs.items():
        (tmp_path / "apis" / f"{name}.yaml").write_text(text)
    return tmp_path


PLAIN_APP = "from pym_lambda import create_app\napp = create_app(__file__)\n"


def make_service(tmp_path: Path, specs: Dict[str, str], code: Dict[str, str],
                 app_name: str = "test-app", app: str = PLAIN_APP) -> Path:
    """make_project's folder with chalicelib/<name>.py for each module's text, and app.py."""
    project = make_project(tmp_path, specs, app_name=app_name)
    (project / "chalicelib").mkdir()
    (project / "chalicelib" / "__init__.py").write_text("")
    for name, text in code.items():
        (project / "chalicelib" / f"{name}.py").write_text(text)
    (project / "app.py").write_text(app)
    return project


@pytest.fixture(autouse=True)
def own_service() -> Any:
    """Each test starts in a bare service of its own: what it sets outside a request
    (set_settings(), configure_tasks(), set_error_reporter()...) goes there, not into the
    service of an app another test created, and is gone after it. A test that wants an app's
    service enters it (`with app.pym_service.use():`, as the client fixtures do) or creates
    the app itself (create_app makes it the calling context's)."""
    from pym_lambda.runtime.service import Service

    with Service().use() as service:
        yield service


@pytest.fixture(scope="module", params=DIALECTS)
def dialect(request: Any) -> str:
    """Module-scoped, so that an app built from it is built once per test module and dialect
    (pytest then runs a module's tests grouped by dialect)."""
    return str(request.param)


@pytest.fixture(scope="module")
def petshop_app(tmp_path_factory: pytest.TempPathFactory, dialect: str) -> Any:
    """The petshop app, built once per test module and dialect."""
    project = tmp_path_factory.mktemp(f"petshop-{dialect}")
    write_spec(project, "petshop", "petshop", dialect)
    return create_app(project, app_name="petshop")


@pytest.fixture
def petshop(petshop_app: Any) -> Any:
    """A client of the petshop app, its pets and recorded calls emptied."""
    from tests.fixtures import petshop_impl

    petshop_impl.CALLS.clear()
    petshop_impl.PETS.clear()
    # its service is the current one outside requests (generate_token(), models)
    with petshop_app.pym_service.use(), Client(petshop_app) as client:
        yield JsonClient(client)


@pytest.fixture
def library() -> Any:
    """The example service of the repository (app.py), emptied."""
    import app as example
    from chalicelib import library as impl

    impl.reset()
    # Requests run in the example's service; this makes it the tests' own too (generate_token()
    # outside a request), whatever app another test created since.
    with example.app.pym_service.use(), Client(example.app) as client:
        yield JsonClient(client)
