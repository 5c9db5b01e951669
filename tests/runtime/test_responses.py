"""Results validated and serialised; every error in one JSON shape with the right status."""
from __future__ import annotations

import logging

import pytest

from tests.runtime.test_requests import NEW_PET, assert_error


def test_custom_error_class_gives_its_status_and_code(petshop):
    assert_error(petshop.get("/api/pets/5"), 404, "PET_NOT_FOUND", "no pet 5")


def test_unhandled_exception_is_an_opaque_500_logged_with_its_error_id(petshop, caplog):
    with caplog.at_level(logging.ERROR, logger="pym_lambda"):
        reply = petshop.get("/api/pets/13")
    assert_error(reply, 500, "SERVER_ERROR")
    assert "hunter2" not in reply.body.decode() and "RuntimeError" not in reply.body.decode()
    assert "Traceback" not in reply.body.decode()
    logged = [r for r in caplog.records if reply.json["error_id"] in r.getMessage()]
    assert logged and logged[0].exc_info is not None  # the traceback is in the logs


def test_result_breaking_the_response_schema_is_bad_response(petshop, caplog):
    with caplog.at_level(logging.ERROR, logger="pym_lambda"):
        reply = petshop.get("/api/pets/66")
    assert_error(reply, 500, "BAD_RESPONSE")
    assert "not-an-int" not in reply.body.decode()
    assert any("id" in r.getMessage() and reply.json["error_id"] in r.getMessage()
               for r in caplog.records)


def test_a_bad_response_logs_every_problem_and_shows_none(petshop, caplog):
    with caplog.at_level(logging.ERROR, logger="pym_lambda"):
        reply = petshop.get("/api/pets/67")
    assert_error(reply, 500, "BAD_RESPONSE")
    assert "problems" not in reply.json and "snake" not in reply.body.decode()
    logged = [r.getMessage() for r in caplog.records if reply.json["error_id"] in r.getMessage()]
    assert len(logged) == 1
    problems = logged[0].split("; problems: ", 1)[1]
    assert "id: " in problems and "name: " in problems and "kind: " in problems, problems


def test_undeclared_status_is_bad_response(petshop):
    assert_error(petshop.get("/api/pets/77"), 500, "BAD_RESPONSE")


def test_unserialisable_result_is_bad_response(petshop):
    assert_error(petshop.get("/api/pets/88"), 500, "BAD_RESPONSE")


def test_model_result_and_status_tuple(petshop):
    created = petshop.post("/api/pets", NEW_PET)
    assert created.status == 201
    assert created.headers["Content-Type"] == "application/json"
    fetched = petshop.get(f"/api/pets/{created.json['id']}")
    assert fetched.status == 200 and fetched.json == created.json


def test_204_has_no_body(petshop):
    reply = petshop.request("DELETE", "/api/pets/1")
    assert reply.status == 204 and reply.body == b""


def test_unknown_path_is_404_json(petshop):
    assert_error(petshop.get("/nowhere"), 404, "UNKNOWN_PATH", "/nowhere")
    assert_error(petshop.get("/api/pets/1/2/3/4"), 404, "UNKNOWN_PATH")
    assert_error(petshop.get("/"), 404, "UNKNOWN_PATH")


def test_undeclared_method_is_405_json_with_allow(petshop):
    reply = petshop.request("PATCH", "/api/pets")
    assert_error(reply, 405, "METHOD_NOT_ALLOWED", "PATCH")
    assert reply.headers["Allow"] == "GET, HEAD, POST"


def test_head_is_served_by_get_without_body(petshop):
    reply = petshop.request("HEAD", "/api/pets")
    assert reply.status == 200 and reply.body == b""


def test_ping_and_version(petshop):
    assert petshop.get("/ping").json == {}
    version = petshop.get("/version").json
    assert version["name"] == "petshop"
    assert version["version"] == "2.1.0"
    assert version["apis"] == ["petshop"]
    # no pym-config.yaml: a production stage, whose /version names no platform details
    assert not {"pym_lambda", "python", "runtime", "container"} & set(version)


def test_call_id_is_returned_and_propagated_when_given(petshop):
    fresh = petshop.get("/ping")
    assert len(fresh.headers["PymCallID"]) == 36
    given = petshop.get("/ping", headers={"PymCallID": "abc-123"})
    assert given.headers["PymCallID"] == "abc-123"
    hostile = petshop.get("/ping", headers={"PymCallID": "x" * 500})
    assert hostile.headers["PymCallID"] != "x" * 500


def test_a_status_resolves_to_the_same_spec_at_every_call():
    from pym_lambda.runtime.responses import ResponseSpec, ResponseWriter

    ok, client, fallback = (ResponseSpec("application/json", None, True),
                            ResponseSpec("application/json", None, True),
                            ResponseSpec("text/plain", None, True))
    writer = ResponseWriter("op", {"200": ok, "4XX": client, "default": fallback})
    for _ in range(2):  # the second answer comes from the per-status table
        assert writer._spec(200) is ok and writer._spec(404) is client
        assert writer._spec(503) is fallback and writer._spec(True) is writer.spec_for(True)
        assert writer.build((404, {"a": 1})).status_code == 404
        assert writer.build((503, "down")).headers["Content-Type"] == "text/plain"
    assert set(writer._resolved) == {200, 404, 503}  # HTTP statuses only: bounded
    bare = ResponseWriter("op", {"200": ok})
    for _ in range(2):
        try:
            bare.build((418, {}))
        except Exception as exc:  # noqa: BLE001 - the BadResponseError, at every call
            assert "418" in str(exc)
        else:
            raise AssertionError("an undeclared status was accepted")


@pytest.mark.parametrize("data", [
    {"a": [1, 2.5, None, True, "é\ud800\n"], "b": {"c": -0.0, "d": 10 ** 30}}, [], "text", 3,
    None, {"ß": "\u2028"}])
def test_a_response_tree_is_written_as_dumps_writes_it(data):
    from pym_lambda.runtime.responses import dumps, dumps_tree

    assert dumps_tree(data) == dumps(data)


@pytest.mark.parametrize("bad", [float("nan"), {"x": [float("inf")]}])
def test_a_response_tree_refuses_what_json_cannot_hold(bad):
    from pym_lambda.runtime.responses import dumps_tree

    with pytest.raises(ValueError):
        dumps_tree(bad)
