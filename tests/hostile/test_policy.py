"""Hostile input against the safe defaults: CORS, token expiry, /version, crafted tokens.

Every test runs in process (chalice.test.Client) or against the loader: no network.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import platform
import time
from pathlib import Path
from typing import Any, Dict, Iterator

import jwt
import pytest
from chalice.test import Client
from click.testing import CliRunner

from pym_lambda import create_app
from pym_lambda.auth.tokens import verify_token
from pym_lambda.build.cli import validate
from pym_lambda.config import ConfigError, JwtSettings, load_settings
from pym_lambda.errors import PymError
from tests.conftest import JsonClient, write_spec

SECRET = "s" * 32 + "-hostile-policy"
CREDENTIALED_WILDCARD = "cors:\n  enabled: true\n  allow_credentials: true\n"


def petshop_project(tmp_path: Path, config: str) -> Path:
    write_spec(tmp_path, "petshop", "petshop", "oas30")
    (tmp_path / ".chalice").mkdir(exist_ok=True)
    (tmp_path / ".chalice" / "config.json").write_text(json.dumps({"app_name": "petshop"}))
    (tmp_path / "pym-config.yaml").write_text(config)
    return tmp_path


@pytest.fixture
def app_of(tmp_path: Path) -> Iterator[Any]:
    """A client of the petshop app with the given pym-config.yaml."""
    opened = []

    def make(config: str) -> JsonClient:
        app = create_app(petshop_project(tmp_path, config), app_name="petshop")
        client = Client(app)
        opened.append((app.pym_service.use(), client))
        opened[-1][0].__enter__()
        return JsonClient(client.__enter__())
    yield make
    for use, client in reversed(opened):
        client.__exit__(None, None, None)
        use.__exit__(None, None, None)


# --- CORS --------------------------------------------------------------------------------------

def test_a_credentialed_wildcard_origin_is_refused_at_start_up(tmp_path: Path) -> None:
    project = petshop_project(tmp_path, CREDENTIALED_WILDCARD)
    with pytest.raises(ConfigError) as info:
        create_app(project, app_name="petshop")
    message = str(info.value)
    assert "\n" not in message
    assert "cors.allow_origins" in message and "cors.allow_credentials" in message


def test_pym_lambda_validate_refuses_it_too(tmp_path: Path) -> None:
    project = petshop_project(tmp_path, "stages:\n  prod:\n    " +
                              CREDENTIALED_WILDCARD.replace("\n  ", "\n      ")
                              .replace("\n", "\n    ").rstrip() + "\n")
    assert load_settings(project, stage="dev").cors.enabled is False  # only prod is unsafe
    result = CliRunner().invoke(validate, ["--stage", "prod", "--project-dir", str(project)])
    assert result.exit_code == 1
    assert "cors.allow_origins" in result.output and "(stage prod)" in result.output


@pytest.mark.parametrize("config", [
    "cors:\n  enabled: true\n",  # "*" without credentials
    "cors:\n  enabled: true\n  allow_credentials: true\n"
    "  allow_origins: ['https://app.example']\n"])
def test_a_null_origin_is_never_allowed_unless_listed(app_of: Any, config: str) -> None:
    client = app_of(config)
    for origin in ("null", "https://evil.example"):
        simple = client.get("/ping", headers={"Origin": origin})
        assert simple.status == 200
        assert simple.headers.get("Access-Control-Allow-Origin") in (None, "*")
        assert "Access-Control-Allow-Credentials" not in simple.headers or \
            simple.headers.get("Access-Control-Allow-Origin") is None
        preflight = client.request("OPTIONS", "/ping", headers={
            "Origin": origin, "Access-Control-Request-Method": "GET"})
        assert preflight.headers.get("Access-Control-Allow-Origin") != origin
    null = client.get("/ping", headers={"Origin": "null"})
    assert "Access-Control-Allow-Origin" not in null.headers


def test_a_listed_null_origin_is_allowed(app_of: Any) -> None:
    client = app_of("cors:\n  enabled: true\n  allow_origins: ['null']\n")
    assert client.get("/ping", headers={"Origin": "null"}).headers[
        "Access-Control-Allow-Origin"] == "null"


# --- tokens ------------------------------------------------------------------------------------

def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_made(header: Any, payload: Any, secret: str = SECRET) -> str:
    """A token pyjwt would refuse to make, signed with ``secret`` (HS256)."""
    def part(value: Any) -> str:
        return b64(value if isinstance(value, bytes) else json.dumps(value).encode())
    signing_input = f"{part(header)}.{part(payload)}"
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def claims(**extra: Any) -> Dict[str, Any]:
    now = int(time.time())
    return {"sub": "mallory", "iat": now, "exp": now + 600, **extra}


HS256 = {"alg": "HS256", "typ": "JWT"}
# Crafted tokens: each made some pyjwt version (2.8-2.14) raise something other than a
# PyJWTError (RecursionError, OverflowError), or could make ours (kid, crit, surrogates).
CRAFTED = {
    "header a list": hand_made([1, 2], claims()),
    "header a string": hand_made("x", claims()),
    "alg a list": hand_made({"alg": ["HS256"]}, claims()),
    "kid a list": hand_made({**HS256, "kid": ["a"]}, claims()),
    "kid an object": hand_made({**HS256, "kid": {"a": 1}}, claims()),
    "crit unknown": hand_made({**HS256, "crit": ["exp"]}, claims()),
    "crit not a list": hand_made({**HS256, "crit": 1}, claims()),
    "b64 false": hand_made({**HS256, "crit": ["b64"], "b64": False}, claims()),
    "header nested 5000 deep": hand_made(b"[" * 5000 + b"]" * 5000, claims()),
    "payload nested 5000 deep": hand_made(HS256, b'{"a":' + b"[" * 5000 + b"]" * 5000 + b"}"),
    "exp infinite": hand_made(HS256, b'{"sub":"m","exp":1e999}'),
    "iat infinite": hand_made(HS256, b'{"sub":"m","exp":4102444800,"iat":1e999}'),
    "nbf minus infinite": hand_made(HS256, b'{"sub":"m","exp":4102444800,"nbf":-1e999}'),
    "exp a list": hand_made(HS256, claims(exp=[1])),
    "exp 5000 digits": hand_made(HS256, b'{"sub":"m","exp":' + b"9" * 5000 + b"}"),
    "payload a list": hand_made(HS256, [1]),
    "header bad utf-8": hand_made(b"\xff\xfe", claims()),
    "lone surrogate": "\ud800." + hand_made(HS256, claims()).split(".", 1)[1],
}


@pytest.mark.parametrize("case", list(CRAFTED))
def test_a_crafted_token_is_a_401_and_never_a_traceback(
        case: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(PymError) as info:
            verify_token(CRAFTED[case], JwtSettings(secret=SECRET))
    assert info.value.status == 401 and info.value.code == "TOKEN_INVALID"
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING]


def test_a_jku_or_jwk_header_never_chooses_the_key() -> None:
    for extra in ({"jku": "http://127.0.0.1:9/keys"}, {"jwk": {"kty": "oct", "k": b64(b"x")}}):
        forged = hand_made({**HS256, **extra}, claims(), secret="x" * 40)
        with pytest.raises(PymError) as info:
            verify_token(forged, JwtSettings(secret=SECRET))
        assert info.value.description == "the token's signature is invalid"


@pytest.fixture
def example_secret() -> str:
    return os.environ["JWT_SECRET"]  # the example's dev stage (tests/conftest.py)


@pytest.mark.parametrize("case", ["header nested 5000 deep", "exp infinite", "kid a list",
                                  "payload a list", "crit unknown"])
def test_a_crafted_token_on_the_example_is_a_401_json_error(library: Any, example_secret: str,
                                                            case: str) -> None:
    header, payload, _ = CRAFTED[case].split(".")  # re-signed with the example's key
    signing_input = f"{header}.{payload}"
    signature = hmac.new(example_secret.encode(), signing_input.encode(), hashlib.sha256)
    token = f"{signing_input}.{b64(signature.digest())}"
    reply = library.get("/auth/version", headers={"Authorization": f"Bearer {token}"})
    assert reply.status == 401 and reply.json["error"] == "TOKEN_INVALID"
    assert reply.json["error_id"]


def test_a_token_without_exp_is_a_401_naming_the_claim(library: Any,
                                                       example_secret: str) -> None:
    forever = jwt.encode({"sub": "mallory", "iss": "pym-library"}, example_secret,
                         algorithm="HS256")
    reply = library.get("/auth/version", headers={"Authorization": f"Bearer {forever}"})
    assert reply.status == 401 and reply.json["error"] == "TOKEN_INVALID"
    assert "'exp'" in reply.json["error_description"]
    good = jwt.encode({"sub": "ann", "iss": "pym-library", "exp": int(time.time()) + 60},
                      example_secret, algorithm="HS256")
    assert library.get("/auth/version", headers={"Authorization": f"Bearer {good}"}).status == 200


def test_tokens_without_exp_pass_only_when_the_config_says_so(app_of: Any) -> None:
    client = app_of(f"jwt:\n  secret: {SECRET}\n  require_exp: false\n")
    forever = jwt.encode({"sub": "ann"}, SECRET, algorithm="HS256")
    assert client.get("/auth/version", headers={"Authorization": f"Bearer {forever}"}
                      ).status == 200


# --- /version ----------------------------------------------------------------------------------

PLATFORM_FIELDS = {"pym_lambda", "python", "runtime", "container"}


def test_version_in_a_production_stage_names_no_platform_details(app_of: Any) -> None:
    reply = app_of("name: shop\nversion: '2.0.0'\n").get("/version")
    assert reply.status == 200
    assert set(reply.json) == {"name", "version", "apis", "pym_env"}
    assert (reply.json["name"], reply.json["version"]) == ("shop", "2.0.0")
    text = reply.body.decode()
    for detail in (platform.python_version(), platform.release(), "Linux", "Python"):
        assert detail not in text


def test_version_in_a_development_stage_keeps_them(app_of: Any) -> None:
    reply = app_of("stages:\n  dev:\n    production: false\n").get("/version")
    assert PLATFORM_FIELDS <= set(reply.json)
    assert reply.json["python"] == platform.python_version()
