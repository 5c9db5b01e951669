"""The docs a service serves about itself (#7): /doc/<api>.yaml as PyMacaron had it, and the
/doc page rendering the specs with the vendored ReDoc or Swagger UI (no CDN)."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

import pytest
import yaml
from chalice.test import Client

from pym_lambda import create_app
from pym_lambda.build.compiled_form import publish_specs
from pym_lambda.docs.assets import ASSETS, STATIC_DIR
from tests.conftest import ROOT, make_project, write_spec

BOOKS_JSON = {
    "openapi": "3.0.3",
    "info": {"title": "Books", "version": "0.3.0"},
    "paths": {"/books": {"get": {"summary": "All the books", "responses": {
        "200": {"description": "books", "content": {"application/json": {
            "schema": {"type": "array", "items": {"type": "string"}}}}}}}}},
}


class Fetched:
    def __init__(self, response: Any) -> None:
        self.status: int = response.status_code
        self.headers: Dict[str, str] = {k.lower(): v for k, v in response.headers.items()}
        self.text: str = response.body.decode("utf-8") if response.body else ""

    def json(self) -> Any:
        return json.loads(self.text)


def fetch(app: Any, path: str, method: str = "GET") -> Fetched:
    with Client(app) as client:
        return Fetched(client.http.request(method, path, headers={}, body=b""))


def write_config(project: Path, text: str) -> None:
    (project / "pym-config.yaml").write_text(text)


@pytest.fixture(autouse=True)
def keep_process_settings() -> Iterator[None]:
    """create_app() makes its app's service the tests' own (the JWT key generate_token uses,
    what /version says, the task queues): put back the one before, which later test files
    share, once each test's own apps are done."""
    from pym_lambda.runtime.service import current_service

    with current_service().use():
        yield


@pytest.fixture
def project(tmp_path: Path, dialect: str) -> Path:
    """The petshop fixture (in each dialect) and a JSON spec, with a chalicelib/ folder."""
    write_spec(tmp_path, "petshop", "petshop", dialect)
    make_project(tmp_path, {})
    (tmp_path / "apis" / "books.json").write_text(json.dumps(BOOKS_JSON, indent=1))
    (tmp_path / "chalicelib").mkdir()
    return tmp_path


# --- the specs -------------------------------------------------------------------------------

def test_each_spec_is_served_as_written(project: Path) -> None:
    app = create_app(project)
    for name in ("petshop.yaml", "books.json"):
        reply = fetch(app, f"/doc/{name}")
        assert reply.status == 200
        assert reply.text == (project / "apis" / name).read_text()
        assert reply.headers["content-type"] == (
            "application/yaml" if name.endswith(".yaml") else "application/json")
        assert reply.headers["pymcallid"]


def test_the_other_format_is_converted(project: Path) -> None:
    app = create_app(project)
    as_json = fetch(app, "/doc/petshop.json")
    assert as_json.headers["content-type"] == "application/json"
    original = yaml.safe_load((project / "apis" / "petshop.yaml").read_text())
    assert as_json.json() == json.loads(json.dumps(original, default=str))
    as_yaml = fetch(app, "/doc/books.yaml")
    assert as_yaml.headers["content-type"] == "application/yaml"
    assert yaml.safe_load(as_yaml.text) == BOOKS_JSON


@pytest.mark.parametrize("path", ["/doc/nope.yaml", "/doc/petshop.xml", "/doc/petshop",
                                  "/doc/static/nope.js", "/doc/static/ASSETS.md",
                                  "/doc?api=nope"])
def test_unknown_api_or_file_is_a_404_json_error(project: Path, path: str) -> None:
    reply = fetch(create_app(project), path)
    assert reply.status == 404
    body = reply.json()
    assert set(body) == {"status", "error", "error_description", "error_id"}
    assert (body["status"], body["error"]) == (404, "UNKNOWN_PATH")


def test_specs_of_services_called_through_a_client_are_not_in_the_docs(project: Path) -> None:
    (project / "apis" / "reviews.yaml").write_text((ROOT / "apis" / "reviews.yaml").read_text())
    app = create_app(project)
    assert fetch(app, "/doc/reviews.yaml").status == 404
    page = fetch(app, "/doc").text
    assert "?api=petshop" in page and "reviews" not in page


def test_docs_routes_answer_get_and_head_only(project: Path) -> None:
    app = create_app(project)
    head = fetch(app, "/doc/petshop.yaml", method="HEAD")
    assert (head.status, head.text) == (200, "")
    post = fetch(app, "/doc", method="POST")
    assert (post.status, post.json()["error"]) == (405, "METHOD_NOT_ALLOWED")
    assert post.headers["allow"] == "GET, HEAD"


def test_specs_are_read_at_the_first_request_then_kept(project: Path) -> None:
    app = create_app(project)
    spec = project / "apis" / "petshop.yaml"
    spec.write_text(spec.read_text() + "# edited after start-up\n")
    first = fetch(app, "/doc/petshop.yaml").text
    assert first.endswith("# edited after start-up\n")  # nothing was read at start-up
    spec.write_text("changed again")
    assert fetch(app, "/doc/petshop.yaml").text == first  # cached in memory


def test_without_apis_the_published_copies_are_served(project: Path) -> None:
    originals = {p.name: p.read_text() for p in (project / "apis").iterdir()}
    create_app(project)  # compiles, writes chalicelib/pym_compiled.json and the copies
    published = project / "chalicelib" / "pym_apis"
    assert {p.name: p.read_text() for p in published.iterdir()} == originals
    shutil.rmtree(project / "apis")  # as in the Lambda package
    app = create_app(project)
    for name, text in originals.items():
        assert fetch(app, f"/doc/{name}").text == text
    assert "petshop" in fetch(app, "/doc").text


def test_copies_are_written_only_when_changed_and_stale_ones_removed(tmp_path: Path) -> None:
    make_project(tmp_path, {"a": "openapi: 3.0.3\n", "b": "swagger: '2.0'\n"})
    chalicelib = tmp_path / "chalicelib"
    chalicelib.mkdir()
    assert publish_specs(tmp_path / "apis", chalicelib) == ["a.yaml", "b.yaml"]
    assert publish_specs(tmp_path / "apis", chalicelib) == []
    (tmp_path / "apis" / "a.yaml").write_text("openapi: 3.1.0\n")
    (tmp_path / "apis" / "b.yaml").unlink()
    assert sorted(publish_specs(tmp_path / "apis", chalicelib)) == ["a.yaml", "b.yaml"]
    assert [p.name for p in (chalicelib / "pym_apis").iterdir()] == ["a.yaml"]
    assert publish_specs(tmp_path / "nowhere", chalicelib) == []


# --- the page and its files ------------------------------------------------------------------

def test_the_page_lists_every_api_and_renders_the_selected_one(project: Path) -> None:
    app = create_app(project)
    page = fetch(app, "/doc")
    assert page.status == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert '<a href="?api=books"' in page.text and '<a href="?api=petshop"' in page.text
    assert 'data-ui="redoc" data-spec-url="doc/books.json"' in page.text  # the first API
    assert '<script src="doc/static/redoc.standalone.js?v=' in page.text
    assert "<script>" not in page.text and " style=" not in page.text
    selected = fetch(app, "/doc?api=petshop").text
    assert 'data-spec-url="doc/petshop.yaml"' in selected
    # /doc/ is routed as /doc (as API Gateway does): links are relative to what was asked.
    assert 'data-spec-url="petshop.yaml"' in fetch(app, "/doc/?api=petshop").text


def test_the_page_lists_every_operation_as_html_without_javascript(project: Path) -> None:
    # In every dialect: served paths (basePath /api included), summaries, parameters with
    # their types, the request body, the responses and the named schemas, linked.
    page = fetch(create_app(project), "/doc?api=petshop").text
    static = page[page.index('<article id="pym-docs-static"'):page.index("</article>")]
    for method, path in (("GET", "/api/pets"), ("POST", "/api/pets"),
                         ("GET", "/api/pets/{pet_id}"), ("DELETE", "/api/pets/{pet_id}"),
                         ("GET", "/api/owners/{owner-name}/pets"), ("PUT", "/api/echo")):
        assert f"<h2><code>{method} {path}</code></h2>" in static, (method, path)
    assert ("<tr><td><code>limit</code></td><td>query</td><td>integer (&gt;= 1, &lt;= 50)</td>"
            "<td>no</td>") in static
    assert "<tr><td><code>pet_id</code></td><td>path</td><td>integer</td><td>yes</td>" in static
    assert "<td><code>X-Trace-Id</code></td><td>header</td>" in static
    assert '<h3>Request body</h3><p>required.</p><ul><li>application/json: ' \
           '<a href="#schema-NewPet">NewPet</a></li></ul>' in static
    # A response given as a $ref (OpenAPI 3) is followed to its schema.
    [row] = [r for r in static.split("<tr>") if r.startswith("<td>404</td>")]
    assert '<a href="#schema-Error">Error</a>' in row
    assert '<section class="pym-docs-schema" id="schema-Pet">' in static
    assert "<script" not in static


def test_the_html_of_the_operations_escapes_the_spec(tmp_path: Path) -> None:
    hostile = {"openapi": "3.0.3", "info": {"title": "<b>T</b>", "version": "1"},
               "paths": {"/x": {"get": {
                   "summary": "<script>alert(1)</script>",
                   "parameters": [{"name": "q\"><img src=x>", "in": "query",
                                   "schema": {"type": "string", "pattern": "^<a>$"}}],
                   "responses": {"200": {"description": "<i>ok</i>"}}}}}}
    make_project(tmp_path, {})
    (tmp_path / "apis" / "x.json").write_text(json.dumps(hostile))
    (tmp_path / "chalicelib").mkdir()
    page = fetch(create_app(tmp_path), "/doc").text
    static = page[page.index('<article id="pym-docs-static"'):page.index("</article>")]
    assert "<script>alert" not in static and "<img" not in static and "<i>" not in static
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in static
    assert "matches ^&lt;a&gt;$" in static


def test_the_page_allows_only_its_own_sources(project: Path) -> None:
    policy = fetch(create_app(project), "/doc").headers["content-security-policy"]
    directives = dict(d.split(" ", 1) for d in policy.split("; "))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"  # no inline script, no eval
    assert directives["connect-src"] == "'self'"
    # ReDoc's two needs (see pym_lambda/docs/page.py):
    assert directives["style-src"] == "'self' 'unsafe-inline'"
    assert directives["worker-src"] == "'self' blob:"
    assert "http" not in policy


def test_swagger_ui_gets_the_strictest_policy(project: Path) -> None:
    write_config(project, "docs: {ui: swagger-ui}\n")
    page = fetch(create_app(project), "/doc")
    assert 'data-ui="swagger-ui"' in page.text
    assert 'href="doc/static/swagger-ui.css?v=' in page.text
    policy = page.headers["content-security-policy"]
    assert "style-src 'self';" in policy and "unsafe" not in policy and "blob:" not in policy


@pytest.mark.parametrize("name, content_type", [
    ("redoc.standalone.js", "text/javascript; charset=utf-8"),
    ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
    ("swagger-ui.css", "text/css; charset=utf-8"),
    ("pym-docs.js", "text/javascript; charset=utf-8"),
    ("pym-docs.css", "text/css; charset=utf-8"),
    ("redoc.standalone.js.LICENSE.txt", "text/plain; charset=utf-8"),
])
def test_static_files_are_served_with_their_type_and_cached_long(
        project: Path, name: str, content_type: str) -> None:
    reply = fetch(create_app(project), f"/doc/static/{name}")
    assert reply.status == 200
    assert reply.headers["content-type"] == content_type
    assert reply.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.text == (STATIC_DIR / ASSETS[name].path).read_text(encoding="utf-8")


def test_vendored_files_keep_their_licences_and_are_recorded() -> None:
    notes = (STATIC_DIR / "ASSETS.md").read_text()
    for asset in ASSETS.values():
        assert (STATIC_DIR / asset.path).is_file()
        if asset.version:  # a vendored package: its licence beside it, its version recorded
            assert (STATIC_DIR / asset.path).parent.joinpath("LICENSE").is_file()
            assert asset.version.rsplit("-", 1)[1] in notes


# --- configuration ---------------------------------------------------------------------------

def test_disabled_docs_register_no_route(project: Path) -> None:
    write_config(project, "docs: {enabled: false}\n")
    app = create_app(project)
    assert not [route for route in app.routes if route.startswith("/doc")]
    for path in ("/doc", "/doc/petshop.yaml", "/doc/static/redoc.standalone.js"):
        reply = fetch(app, path)
        assert (reply.status, reply.json()["error"]) == (404, "UNKNOWN_PATH")


@pytest.mark.parametrize("environ", [{"PYM_DOCS_ENABLED": "false"}, {"PYM_STAGE": "prod"}])
def test_production_turns_the_docs_off(project: Path, monkeypatch: Any,
                                       environ: Dict[str, str]) -> None:
    write_config(project, "stages:\n  prod: {docs: {enabled: false}}\n")
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert fetch(create_app(project), "/doc").status == 404


def test_the_docs_path_is_configurable(project: Path) -> None:
    write_config(project, "docs: {path: /api/docs}\n")
    app = create_app(project)
    assert fetch(app, "/doc").status == 404
    page = fetch(app, "/api/docs")
    assert page.status == 200 and 'data-spec-url="docs/books.json"' in page.text
    assert fetch(app, "/api/docs/petshop.yaml").status == 200
    assert fetch(app, "/api/docs/static/pym-docs.js").status == 200


def test_a_spec_that_declares_the_docs_path_keeps_it(tmp_path: Path) -> None:
    make_project(tmp_path, {"site": """
openapi: 3.0.3
info: {title: Site, version: '1'}
paths:
  /doc:
    get:
      responses: {'200': {description: the service's own page}}
"""})
    app = create_app(tmp_path)
    assert fetch(app, "/doc").json()["error"] == "NOT_IMPLEMENTED"  # the spec's operation
    assert fetch(app, "/doc/site.yaml").status == 200


# --- in a real browser -----------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--window-size=1280,900"]
# The only request the page may have refused: ReDoc's footer asks for a logo on a CDN.
ALLOWED_CONSOLE_ERRORS = ("cdn.redoc.ly/redoc/logo-mini.svg",)


def _missing_browser() -> Optional[str]:
    if not (CHROMIUM and CHROMEDRIVER):
        return ("needs Chromium and its driver: apt-get install -y chromium chromium-driver")
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "needs selenium: pip install selenium"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def example_service(request: Any, tmp_path: Path) -> Iterator[str]:
    """`chalice local` serving the example service (docs.ui from the test's parameter)."""
    port = _free_port()
    chalice = Path(sys.executable).parent / "chalice"
    environ = {**os.environ, "PYM_DOCS_ENABLED": "true", "PYM_DOCS_UI": request.param}
    log_path = tmp_path / "chalice-local.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [str(chalice), "local", "--host", "127.0.0.1", "--port", str(port),
             "--no-autoreload"], cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)  # its own process group: killed whole below
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/ping", timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"chalice local did not start:\n{log_path.read_text()}")
                time.sleep(0.1)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@pytest.mark.skipif(_missing_browser() is not None, reason=str(_missing_browser()))
@pytest.mark.parametrize("example_service", ["redoc", "swagger-ui"], indirect=True)
def test_the_page_renders_the_example_api_in_headless_chromium(example_service: str) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="pym-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        driver.get(f"{example_service}/doc")
        operations = ("List books, optionally filtered", "Add a book", "Get one book")
        WebDriverWait(driver, 30).until(lambda d: all(
            op in d.find_element(By.TAG_NAME, "body").text for op in operations))
        errors = [entry["message"] for entry in driver.get_log("browser")
                  if entry["level"] == "SEVERE"
                  and not any(allowed in entry["message"] for allowed in ALLOWED_CONSOLE_ERRORS)]
        assert errors == []  # nothing refused by the Content-Security-Policy, nothing failed
        # The server-rendered operations give way to the UI.
        assert not driver.find_element(By.ID, "pym-docs-static").is_displayed()
        assert driver.find_element(By.ID, "pym-docs").text
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.mark.skipif(_missing_browser() is not None, reason=str(_missing_browser()))
@pytest.mark.parametrize("example_service", ["redoc"], indirect=True)
def test_without_javascript_the_page_still_lists_the_operations(example_service: str) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs", {"profile.managed_default_content_settings.javascript": 2})
    profile = tempfile.mkdtemp(prefix="pym-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        driver.get(f"{example_service}/doc")
        static = driver.find_element(By.ID, "pym-docs-static")
        assert static.is_displayed()
        text = static.text
        for line in ("GET /v1/books", "List books, optionally filtered", "POST /v1/books",
                     "Add a book", "GET /v1/books/{book_id}", "Get one book"):
            assert line in text
        assert driver.find_element(By.ID, "pym-docs").text == ""  # no UI ran
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
