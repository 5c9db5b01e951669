"""Routing every valid spec (#17): one Chalice route per path shape, each operation keeping its
own parameter names; parameters within a segment matched by the framework; duplicate and
unroutable operations warned about and answering 501 instead of refusing the spec."""
from __future__ import annotations

import logging
from typing import Any, Dict

import pytest
from chalice.test import Client

from pym_lambda import SpecErrors, create_app
from pym_lambda.wsgi import make_wsgi_app
from tests.conftest import JsonClient, make_project
from tests.wsgi.test_wsgi import call as wsgi_call

IMPL = "tests.runtime.routing_impl"
OK = "responses: {'200': {description: ok, content: {application/json: {schema: {type: object}}}}}"


def spec(paths: str) -> str:
    return f"openapi: 3.0.3\ninfo: {{title: t, version: '1'}}\npaths:\n{paths}"


def path_param(name: str, kind: str = "string") -> str:
    return f"{{name: {name}, in: path, required: true, schema: {{type: {kind}}}}}"


GITHUB = spec(f"""
  /orgs/{{org}}/attestations/{{subject_digest}}:
    get:
      operationId: listAttestations
      x-bind-server: {IMPL}.attestations
      parameters: [{path_param('org')}, {path_param('subject_digest')}]
      {OK}
  /orgs/{{org}}/attestations/{{attestation_id}}:
    delete:
      operationId: deleteAttestation
      x-bind-server: {IMPL}.delete_attestation
      parameters: [{path_param('org')}, {path_param('attestation_id', 'integer')}]
      {OK}
  /orgs/{{name}}/attestations/{{id}}:
    put:
      operationId: putAttestation
      parameters: [{path_param('name')}, {path_param('id')}]
      {OK}
""")

PARTIAL = spec(f"""
  /items/{{id}}:
    get: {{operationId: item, x-bind-server: {IMPL}.item, parameters: [{path_param('id')}],
          {OK}}}
  /items/{{id}}.json:
    get:
      operationId: itemJson
      x-bind-server: {IMPL}.item_json
      parameters: [{path_param('id', 'integer')}]
      {OK}
  /repos/{{owner}}/compare/{{base}}...{{head}}:
    get:
      operationId: compare
      x-bind-server: {IMPL}.compare
      parameters: [{path_param('owner')}, {path_param('base')}, {path_param('head')}]
      {OK}
  /models/{{model}}:generate:
    post: {{operationId: generate, x-bind-server: {IMPL}.generate,
           parameters: [{path_param('model')}], {OK}}}
  /pkg/v{{version}}-{{name}}:
    get:
      operationId: versioned
      x-bind-server: {IMPL}.versioned
      parameters: [{path_param('name')}, {path_param('version')}]
      {OK}
""")


def client_of(tmp_path: Any, specs: Dict[str, str]) -> JsonClient:
    app = create_app(make_project(tmp_path, specs), app_name="routing")
    return JsonClient(Client(app))


@pytest.fixture(scope="module")
def partial_app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return create_app(make_project(tmp_path_factory.mktemp("partial"), {"partial": PARTIAL}),
                      app_name="partial")


@pytest.fixture
def partial(partial_app: Any) -> Any:
    with partial_app.pym_service.use():
        yield JsonClient(Client(partial_app))


def test_one_route_per_position_each_operation_keeping_its_names(tmp_path: Any) -> None:
    client = client_of(tmp_path, {"github": GITHUB})
    reply = client.get("/orgs/acme/attestations/sha256:abc")
    assert reply.status == 200, reply.json
    assert reply.json == {"op": "list", "org": "acme", "subject_digest": "sha256:abc"}
    reply = client.request("DELETE", "/orgs/acme/attestations/42")
    assert reply.json == {"op": "delete", "org": "acme", "attestation_id": 42}
    reply = client.request("DELETE", "/orgs/acme/attestations/x")
    assert reply.status == 400 and "attestation_id" in reply.json["error_description"]
    reply = client.request("PUT", "/orgs/acme/attestations/1")  # third names, unbound
    assert reply.status == 501 and reply.json["error"] == "NOT_IMPLEMENTED"
    reply = client.request("PATCH", "/orgs/acme/attestations/1")
    assert reply.status == 405 and reply.headers["Allow"] == "DELETE, GET, HEAD, PUT"


def test_the_route_takes_the_first_operations_names(tmp_path: Any) -> None:
    app = create_app(make_project(tmp_path, {"github": GITHUB}), app_name="routing")
    assert "/orgs/{org}/attestations/{subject_digest}" in app.routes
    assert not any("attestation_id" in route for route in app.routes)


def level_names(routes: Any) -> Dict[str, set]:
    """Path prefix (parameters blanked) -> the parameter names ending it in these routes."""
    found: Dict[str, set] = {}
    for route in routes:
        parts = route.strip("/").split("/")
        for index, part in enumerate(parts):
            if part.startswith("{"):
                prefix = "/".join("{}" if p.startswith("{") else p for p in parts[:index + 1])
                found.setdefault(prefix, set()).add(part)
    return found


def test_one_parameter_name_per_level_of_the_resource_tree(tmp_path: Any) -> None:
    # API Gateway refuses sibling resources with different variable names (/repos/{owner} and
    # /repos/{user}), even on different path shapes
    text = spec(f"""
  /repos/{{org}}/{{subject_digest}}/issues:
    get:
      operationId: issues
      x-bind-server: {IMPL}.attestations
      parameters: [{path_param('org')}, {path_param('subject_digest')}]
      {OK}
  /repos/{{user}}/{{model}}/pulls:
    get:
      operationId: pulls
      x-bind-server: {IMPL}.pulls
      parameters: [{path_param('user')}, {path_param('model')}]
      {OK}
""")
    app = create_app(make_project(tmp_path, {"gh": text}), app_name="levels")
    routes = [r for r in app.routes if r.startswith("/repos")]
    assert sorted(routes) == ["/repos/{org}/{subject_digest}/issues",
                              "/repos/{org}/{subject_digest}/pulls"]
    assert all(len(names) == 1 for names in level_names(app.routes).values())
    client = JsonClient(Client(app))
    assert client.get("/repos/a/b/issues").json == {"op": "list", "org": "a",
                                                    "subject_digest": "b"}
    assert client.get("/repos/a/b/pulls").json == {"op": "pulls", "user": "a", "model": "b"}


K8S = spec(f"""
  /api/v1/namespaces/{{namespace}}/proxy/{{path}}:
    get:
      operationId: proxyGet
      x-bind-server: {IMPL}.%s
      parameters:
        - {path_param('namespace')}
        - {path_param('path')}
        - {{name: path, in: query, schema: {{type: string}}}}
      {OK}
  /api/v1/nodes/{{name}}/proxy/{{path}}:
    get:
      operationId: nodeProxy
      parameters:
        - {path_param('name')}
        - {path_param('path')}
        - {{name: path, in: query, schema: {{type: string}}}}
      {OK}
""")


def test_a_path_and_a_query_parameter_of_one_name_are_both_passed(tmp_path: Any,
                                                                 caplog: Any) -> None:
    with caplog.at_level(logging.WARNING, logger="pym_lambda"):
        client = client_of(tmp_path, {"k8s": K8S % "proxy"})
    reply = client.get("/api/v1/namespaces/default/proxy/healthz?path=/other")
    assert reply.json == {"namespace": "default", "path": "healthz", "path_query": "/other"}
    assert client.get("/api/v1/nodes/n1/proxy/x?path=y").status == 501  # bound to nothing
    warned = [r.getMessage() for r in caplog.records if "path_query" in r.getMessage()]
    assert len(warned) == 2 and "query parameter 'path' and path parameter 'path'" in warned[0]


def test_the_renamed_argument_is_an_error_only_where_the_function_cannot_take_it(
        tmp_path: Any) -> None:
    with pytest.raises(SpecErrors) as info:
        create_app(make_project(tmp_path, {"k8s": K8S % "proxy_without_query"}))
    assert len(info.value.errors) == 1  # the unbound nodeProxy loads
    assert "does not accept the argument(s) path_query" in str(info.value)
    assert "operation proxyGet" in str(info.value)


@pytest.mark.parametrize("path, expected", [
    ("/items/7", {"op": "item", "id": "7"}),
    ("/items/7.json", {"op": "item_json", "id": 7}),
    ("/items/a.b.json", 400),  # {id}.json tried first: 'a.b' is not an integer
    ("/items/.json", {"op": "item", "id": ".json"}),  # an empty id never matches {id}.json
    ("/repos/me/compare/main...dev", {"op": "compare", "owner": "me", "base": "main",
                                      "head": "dev"}),
    ("/repos/me/compare/a...b...c", {"op": "compare", "owner": "me", "base": "a",
                                     "head": "b...c"}),
    ("/repos/me/compare/main..dev", 404),
    ("/repos/me/compare/...dev", 404),
    ("/pkg/v2-left-pad", {"op": "versioned", "name": "left-pad", "version": "2"}),
    ("/pkg/2-left-pad", 404),
])
def test_parameters_within_a_segment(partial: JsonClient, path: str, expected: Any) -> None:
    reply = partial.get(path)
    if isinstance(expected, int):
        assert reply.status == expected, reply.json
        if expected == 404:
            assert reply.json["error"] == "UNKNOWN_PATH"
    else:
        assert reply.status == 200 and reply.json == expected


def test_a_verb_after_a_colon_and_the_methods_each_template_allows(partial: JsonClient) -> None:
    client = partial
    assert client.post("/models/gemini:generate").json == {"op": "generate", "model": "gemini"}
    reply = client.get("/models/gemini:generate")
    assert reply.status == 405 and reply.headers["Allow"] == "POST"
    assert client.post("/models/gemini").status == 404  # no template matches
    assert client.request("HEAD", "/items/7.json").status == 200


def test_parameters_within_a_segment_under_wsgi(partial_app: Any) -> None:
    app = make_wsgi_app(partial_app)
    assert wsgi_call(app, "GET", "/items/7.json").json == {"op": "item_json", "id": 7}
    assert wsgi_call(app, "GET", "/repos/me/compare/a...b").json["head"] == "b"
    assert wsgi_call(app, "GET", "/pkg/x").status == 404


DUPLICATES = {
    "a": spec(f"""
  /things/{{id}}:
    get: {{operationId: getThing, parameters: [{path_param('id')}], {OK}}}
  /stuff:
    get: {{operationId: listStuff, x-bind-server: {IMPL}.generate,
          parameters: [{{name: model, in: query, schema: {{type: string}}}}], {OK}}}
"""),
    "b": spec(f"""
  /things/{{thing}}:
    get: {{operationId: fetchThing, parameters: [{path_param('thing')}], {OK}}}
  /search?kind=people:
    get: {{operationId: searchPeople, {OK}}}
  /search?kind=places:
    get: {{operationId: searchPlaces, {OK}}}
  /docs#intro:
    get: {{operationId: intro, {OK}}}
  /docs:
    get: {{operationId: docs, {OK}}}
"""),
}


def test_duplicate_and_unroutable_operations_warn_and_never_take_the_spec_down(
        tmp_path: Any, caplog: Any) -> None:
    with caplog.at_level(logging.WARNING, logger="pym_lambda"):
        client = client_of(tmp_path, DUPLICATES)
    assert client.get("/stuff?model=m").json == {"op": "generate", "model": "m"}
    reply = client.get("/things/1")
    assert reply.status == 501 and "getThing is not implemented" in \
        reply.json["error_description"]
    reply = client.get("/search")  # the first '?' key answers on the path before it
    assert reply.status == 501
    assert "searchPeople cannot be served" in reply.json["error_description"]
    assert "'?'" in reply.json["error_description"]
    assert "operation docs is not implemented" in client.get("/docs").json["error_description"]
    warnings = [r.getMessage() for r in caplog.records if "spec warning" in r.getMessage()]
    assert len(warnings) == 4, warnings
    assert any("apis/b.yaml: GET /things/{thing}: operation fetchThing: duplicate route" in w
               and "apis/a.yaml" in w for w in warnings)
    assert any("operation searchPlaces" in w and "no path reaches it" in w for w in warnings)
    assert any("operation intro" in w and "'#'" in w for w in warnings)


def test_an_unservable_operation_bound_to_a_function_is_an_error(tmp_path: Any) -> None:
    bound = DUPLICATES["b"].replace("operationId: searchPeople,",
                                    f"operationId: searchPeople, x-bind-server: {IMPL}.item,")
    with pytest.raises(SpecErrors) as info:
        create_app(make_project(tmp_path, {"a": DUPLICATES["a"], "b": bound}))
    assert len(info.value.errors) == 1
    assert "operation searchPeople" in str(info.value) and "cannot be served" in str(info.value)


def test_load_warnings_are_capped_in_the_log(tmp_path: Any, caplog: Any) -> None:
    paths = "".join(f"  /x{i}?a=b:\n    get: {{operationId: op{i}, {OK}}}\n" for i in range(25))
    with caplog.at_level(logging.WARNING, logger="pym_lambda"):
        create_app(make_project(tmp_path, {"many": spec(paths)}), app_name="many")
    warnings = [r.getMessage() for r in caplog.records if "spec warning" in r.getMessage()]
    assert len(warnings) == 21 and warnings[-1].endswith(
        "and 5 more (pym-lambda validate lists them all)")


def test_an_operation_id_never_binds_the_standard_library(tmp_path: Any, caplog: Any) -> None:
    text = spec(f"""
  /cwd:
    get: {{operationId: os.getcwd, {OK}}}
""")
    with caplog.at_level(logging.WARNING, logger="pym_lambda"):
        client = client_of(tmp_path, {"cwd": text})
    assert client.get("/cwd").status == 501
    assert any("'os.getcwd' is the standard library" in r.getMessage()
               for r in caplog.records)


@pytest.mark.parametrize("target, what", [
    ("os.getcwd", "the standard library"),
    ("yaml.safe_load", "an installed package (yaml)"),
    ("pym_lambda.build.cli.main", "the framework (pym_lambda)"),
])
def test_x_bind_server_to_foreign_code_is_an_error(tmp_path: Any, target: str,
                                                   what: str) -> None:
    text = spec(f"""
  /cwd:
    get: {{operationId: cwd, x-bind-server: {target}, {OK}}}
""")
    with pytest.raises(SpecErrors) as info:
        create_app(make_project(tmp_path, {"cwd": text}))
    assert f"x-bind-server {target!r} is {what}, not the service's own code" in str(info.value)
