"""JWT auth declared in the spec, enforced by the pipeline (every dialect)."""
from __future__ import annotations

import pytest
from chalice.test import Client

from pym_lambda import create_app, generate_token
from tests.conftest import JsonClient, write_spec
from tests.runtime.test_requests import assert_error

SECRET = "test-secret-of-at-least-thirty-two-bytes!"


@pytest.fixture(scope="module")
def secured_app(tmp_path_factory, dialect):
    """The secured app, built once per dialect; its secret stays in the environment."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("TEST_JWT_SECRET", SECRET)
        project = tmp_path_factory.mktemp(f"secured-{dialect}")
        (project / "pym-config.yaml").write_text(
            "name: secured\njwt:\n  secret: {env: TEST_JWT_SECRET}\n  issuer: tests\n")
        write_spec(project, "secured", "secured", dialect)
        yield create_app(project, app_name="secured")


@pytest.fixture
def secured(secured_app):
    # its service is the current one outside requests (generate_token(), models)
    with secured_app.pym_service.use(), Client(secured_app) as client:
        yield JsonClient(client)


def bearer(user="alice", **data):
    return {"Authorization": f"Bearer {generate_token(user, data=data or None)}"}


def test_root_security_protects_and_current_caller_knows_the_user(secured):
    assert_error(secured.get("/me"), 401, "AUTHORIZATION_HEADER_MISSING")
    reply = secured.get("/me", headers=bearer("alice"))
    assert reply.status == 200 and reply.json["user_id"] == "alice"


@pytest.mark.parametrize("header, code", [
    ("Basic YWxhZGRpbjpvcGVuc2VzYW1l", "TOKEN_INVALID"),
    ("Bearer", "TOKEN_INVALID"),
    ("Bearer not.a.jwt", "TOKEN_INVALID"),
])
def test_bad_headers_are_401(secured, header, code):
    assert_error(secured.get("/me", headers={"Authorization": header}), 401, code)


def test_expired_token_is_401_token_expired(secured):
    token = generate_token("alice", expires_in=-10)
    assert_error(secured.get("/me", headers={"Authorization": f"Bearer {token}"}), 401,
                 "TOKEN_EXPIRED")


def test_opt_out_optional_and_scopes(secured):
    assert secured.get("/public").json["user_id"] is None
    assert secured.get("/maybe").json["user_id"] is None
    assert secured.get("/maybe", headers=bearer("bob")).json["user_id"] == "bob"
    assert_error(secured.get("/maybe", headers={"Authorization": "Bearer x.y.z"}), 401,
                 "TOKEN_INVALID")
    assert_error(secured.get("/admin", headers=bearer("bob")), 403, "FORBIDDEN")
    assert secured.get("/admin", headers=bearer("root", scope="admin")).json["user_id"] == "root"


def test_pymacaron_requires_auth_decorator_protects(secured):
    assert_error(secured.get("/legacy"), 401, "AUTHORIZATION_HEADER_MISSING")
    assert secured.get("/legacy", headers=bearer("carol")).json["user_id"] == "carol"


def test_auth_version_is_behind_auth(secured):
    assert_error(secured.get("/auth/version"), 401, "AUTHORIZATION_HEADER_MISSING")
    reply = secured.get("/auth/version", headers=bearer())
    assert reply.status == 200 and reply.json["name"] == "secured"


def test_protected_spec_without_a_key_fails_at_start(tmp_path, monkeypatch):
    from pym_lambda import ConfigError

    write_spec(tmp_path, "secured", "secured", "oas30")
    with pytest.raises(ConfigError):
        create_app(tmp_path, app_name="x")
