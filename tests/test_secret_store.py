"""Secrets pym-config.yaml reads from SSM and Secrets Manager: syntax, laziness, caching,
retries, errors that never show a value (moto in process, through pym_lambda.aws)."""
from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import boto3
import pytest

from pym_lambda.auth import check_settings, clear_key_cache, generate_token, verify_token
from pym_lambda.aws import aws_client, reset_aws_clients
from pym_lambda.config import CONFIG_FILENAME, ConfigError, Settings, load_settings
from pym_lambda.secret_store import (
    Secrets,
    SecretSource,
    SecretUnavailableError,
    SecretValue,
    reveal,
)

REGION = "us-east-1"
SECRET = "a-jwt-secret-from-ssm-0123456789abcdef"
PARAMETER = "/svc/prod/jwt-secret"
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


class Calls:
    """The AWS calls made through pym_lambda.aws's clients (a before-call hook on each)."""

    def __init__(self) -> None:
        self.names: List[str] = []

    def watch(self, *services: str) -> Calls:
        for service in services:
            aws_client(service).meta.events.register(
                "before-call", lambda model, **_: self.names.append(model.name))
        return self


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Calls]:
    from moto import mock_aws

    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SSM", "AWS_ENDPOINT_URL_SECRETSMANAGER",
                 "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    reset_aws_clients()
    clear_key_cache()
    with mock_aws():
        yield Calls().watch("ssm", "secretsmanager")
    reset_aws_clients()
    clear_key_cache()


def put_parameter(name: str = PARAMETER, value: str = SECRET) -> None:
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name=name, Value=value, Type="SecureString", Overwrite=True)


def create_secret(name: str, value: Any, region: str = REGION) -> str:
    client = boto3.client("secretsmanager", region_name=region)
    if isinstance(value, bytes):
        return str(client.create_secret(Name=name, SecretBinary=value)["ARN"])
    text = value if isinstance(value, str) else json.dumps(value)
    return str(client.create_secret(Name=name, SecretString=text)["ARN"])


def load(tmp_path: Path, text: str, environ: Optional[Dict[str, str]] = None,
         stage: str = "prod") -> Settings:
    (tmp_path / CONFIG_FILENAME).write_text(textwrap.dedent(text), encoding="utf-8")
    return load_settings(tmp_path, stage=stage, environ=environ or {})


def config_error(tmp_path: Path, text: str, environ: Optional[Dict[str, str]] = None) -> str:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text, environ)
    return str(info.value)


# --- the syntax ------------------------------------------------------------------------------

def test_references_become_secret_values_and_nothing_is_read(tmp_path: Path) -> None:
    # No moto, no credentials: loading must not call AWS.
    settings = load(tmp_path, f"""
        jwt:
          secret: {{ssm: {PARAMETER}}}
          private_key: {{secretsmanager: svc/prod/keys, key: private, kms_key: {KMS_KEY}}}
          public_key: {{ssm: /svc/prod/public-key, kms_key: {KMS_KEY}}}
        secrets:
          DB_PASSWORD: {{secretsmanager: "arn:aws:secretsmanager:eu-west-1:1:secret:db-AbCdEf"}}
          API_TOKEN: {{env: API_TOKEN}}
    """, {"API_TOKEN": "plain-from-env"})
    jwt = settings.jwt
    assert isinstance(jwt.secret, SecretValue)
    assert jwt.secret.source == SecretSource("ssm", PARAMETER)
    assert isinstance(jwt.private_key, SecretValue)
    assert jwt.private_key.source == SecretSource("secretsmanager", "svc/prod/keys", "private",
                                                  KMS_KEY)
    assert jwt.secret.where == f"{CONFIG_FILENAME}: jwt.secret"
    assert settings.secrets["API_TOKEN"] == "plain-from-env"
    assert sorted(settings.secrets) == ["API_TOKEN", "DB_PASSWORD"] and len(settings.secrets) == 2
    assert "DB_PASSWORD" in settings.secrets and "OTHER" not in settings.secrets
    assert repr(jwt.secret) == f"SecretValue(SSM parameter {PARAMETER})"


def test_a_stage_reference_replaces_the_top_level_env_one_which_is_never_read(
        tmp_path: Path) -> None:
    text = f"""
        jwt: {{secret: {{env: JWT_SECRET}}}}
        stages:
          prod: {{jwt: {{secret: {{ssm: {PARAMETER}}}}}}}
    """
    assert isinstance(load(tmp_path, text).jwt.secret, SecretValue)  # JWT_SECRET not set: fine
    assert load(tmp_path, text, {"JWT_SECRET": "x" * 32}, stage="dev").jwt.secret == "x" * 32


def test_the_env_form_is_unchanged(tmp_path: Path) -> None:
    settings = load(tmp_path, "jwt: {secret: {env: S}}\nenv_secrets: [DB]\n",
                    {"S": "s" * 32, "DB": "pw"})
    assert settings.jwt.secret == "s" * 32 and settings.secrets == {"DB": "pw"}


@pytest.mark.parametrize("text, expected", [
    ("jwt: {secret: {ssm: 3}}", "jwt.secret: {ssm: ...} needs a parameter name"),
    ("jwt: {secret: {ssm: ''}}", "jwt.secret: {ssm: ...} needs a parameter name"),
    ("jwt: {secret: {secretsmanager: null}}",
     "jwt.secret: {secretsmanager: ...} needs a secret name or ARN"),
    ("jwt: {secret: {ssm: 'arn:aws:ssm:us-east-1:1:parameter/x'}}",
     "jwt.secret: {ssm: ...} takes the parameter's name (/app/stage/name), not its ARN"),
    ("jwt: {secret: {ssm: 'my param'}}",
     "jwt.secret: 'my param' is not an SSM parameter name (letters, digits and _.-/ only)"),
    ("jwt: {secret: {ssm: /x, key: f}}",
     "jwt.secret: {ssm: ...} takes only ssm, kms_key, not key"),
    ("jwt: {secret: {ssm: /x, secretsmanager: y}}",
     "jwt.secret: name one of ssm or secretsmanager, not both"),
    ("jwt: {secret: {secretsmanager: y, key: ''}}",
     "jwt.secret: key: expected the name of a field of the JSON secret"),
    ("jwt: {secret: {ssm: /x, kms_key: alias/mine}}",
     "jwt.secret: kms_key: expected a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), "
     "got 'alias/mine': IAM grants kms:Decrypt on keys, not on aliases"),
    ("log_level: {ssm: /x}",
     "log_level: {ssm: ...} and {secretsmanager: ...} are read at first use, so only "
     "jwt.secret, jwt.public_key, jwt.private_key and secrets.<NAME> take them; here use "
     "{env: NAME}"),
    ("jwt: {issuer: {secretsmanager: x}}", "jwt.issuer: {ssm: ...} and {secretsmanager: ...} "
                                           "are read at first use"),
    ("clients: {reviews: {ssm: /x}}", "clients.reviews: {ssm: ...} and {secretsmanager: ...} "
                                      "are read at first use"),
    ("secrets: {DB: hunter2}", "secrets.DB: expected {ssm: NAME}, {secretsmanager: NAME} or "
                               "{env: NAME}, got 'hunter2' (str): a secret is never written "
                               "in pym-config.yaml"),
    ("secrets: [DB]", "secrets: expected a mapping of names to {ssm: NAME}, "
                      "{secretsmanager: NAME} or {env: NAME}, got ['DB'] (list)"),
    ("extra: {db: {password: {ssm: /x}}}",
     "extra.db.password: extra is read at start-up: put the secret in secrets: {NAME: ...} "
     "and read settings.secrets[NAME] (at first use)"),
    ("env_secrets: [DB]\nsecrets: {DB: {ssm: /x}}",
     "secrets.DB: also listed in env_secrets: keep one of the two"),
    ("production: maybe", "production: expected true or false, got 'maybe' (str)"),
])
def test_a_bad_reference_names_the_key_and_the_problem(tmp_path: Path, text: str,
                                                      expected: str) -> None:
    message = config_error(tmp_path, text, {"DB": "pw"})
    last_line = text.count("\n") + 1  # each problem is on the file's last line
    assert message.startswith(f"{CONFIG_FILENAME}: line {last_line}: {expected}"), message


def test_extra_keeps_its_own_ssm_keys_that_are_not_references(tmp_path: Path) -> None:
    settings = load(tmp_path, "extra: {ssm: {region: eu-west-1}, tags: {ssm: 3}}")
    assert settings.extra == {"ssm": {"region": "eu-west-1"}, "tags": {"ssm": 3}}


def test_production_and_allow_plain_secrets_come_from_the_file_only(tmp_path: Path) -> None:
    text = "stages: {dev: {production: false}, prod: {allow_plain_secrets: true}}"
    environ = {"PYM_PRODUCTION": "false", "PYM_ALLOW_PLAIN_SECRETS": "true"}
    (tmp_path / CONFIG_FILENAME).write_text(text)
    dev = load_settings(tmp_path, stage="dev", environ=environ)
    prod = load_settings(tmp_path, stage="prod", environ=environ)
    other = load_settings(tmp_path, stage="staging", environ=environ)
    assert (dev.production, dev.allow_plain_secrets) == (False, False)
    assert (prod.production, prod.allow_plain_secrets) == (True, True)
    assert (other.production, other.allow_plain_secrets) == (True, False)


# --- reading ---------------------------------------------------------------------------------

def test_an_ssm_securestring_is_read_decrypted_once(tmp_path: Path, aws: Calls) -> None:
    put_parameter()
    settings = load(tmp_path, f"jwt: {{secret: {{ssm: {PARAMETER}}}}}")
    assert aws.names == []  # loading read nothing
    assert [reveal(settings.jwt.secret) for _ in range(50)] == [SECRET] * 50
    assert aws.names == ["GetParameter"]


def test_secrets_manager_string_and_json_fields(tmp_path: Path, aws: Calls) -> None:
    create_secret("svc/prod/token", "plain-token-value")
    create_secret("svc/prod/db", {"username": "app", "password": "pw-0123456789", "port": 5432})
    settings = load(tmp_path, """
        secrets:
          TOKEN: {secretsmanager: svc/prod/token}
          DB_USER: {secretsmanager: svc/prod/db, key: username}
          DB_PASSWORD: {secretsmanager: svc/prod/db, key: password}
          DB_PORT: {secretsmanager: svc/prod/db, key: port}
    """)
    assert aws.names == []
    assert dict(settings.secrets) == {"TOKEN": "plain-token-value", "DB_USER": "app",
                                      "DB_PASSWORD": "pw-0123456789", "DB_PORT": "5432"}
    assert settings.secrets["DB_PASSWORD"] == "pw-0123456789"
    # One call per secret, however many fields are picked from it.
    assert aws.names == ["GetSecretValue", "GetSecretValue"]


def test_a_secret_arn_is_read_in_its_own_region(tmp_path: Path, aws: Calls) -> None:
    arn = create_secret("svc/prod/west", "from-the-west", region="eu-west-1")
    settings = load(tmp_path, f"secrets: {{WEST: {{secretsmanager: '{arn}'}}}}")
    assert settings.secrets["WEST"] == "from-the-west"


@pytest.mark.parametrize("stored, key, problem", [
    ("not json", "password", "the secret is not a JSON object, so no field can be picked"),
    ({"user": "app"}, "password", "the field is missing (fields: user)"),
    ({"password": ["x"]}, "password", "the field is not a string"),
    (b"\x00binary", None, "holds binary data; store the secret as a string"),
])
def test_a_secret_of_the_wrong_shape_says_why_without_its_value(
        tmp_path: Path, aws: Calls, stored: Any, key: Optional[str], problem: str) -> None:
    create_secret("svc/prod/odd", stored)
    field = f", key: {key}" if key else ""
    settings = load(tmp_path, f"secrets: {{ODD: {{secretsmanager: svc/prod/odd{field}}}}}")
    with pytest.raises(SecretUnavailableError) as info:
        settings.secrets["ODD"]
    message = str(info.value)
    assert message.startswith(f"{CONFIG_FILENAME}: secrets.ODD: Secrets Manager secret "
                              "svc/prod/odd")
    assert message.endswith(problem)
    assert "not json" not in message and "app" not in message.replace("app/", "")


def test_a_missing_parameter_fails_clearly_and_is_retried(tmp_path: Path, aws: Calls) -> None:
    settings = load(tmp_path, f"""
        stages: {{prod: {{jwt: {{secret: {{ssm: {PARAMETER}}}}}}}}}
    """)
    for _ in range(2):  # a failure is not kept: each use asks again
        with pytest.raises(SecretUnavailableError) as info:
            reveal(settings.jwt.secret)
        assert str(info.value).startswith(f"{CONFIG_FILENAME}: stages.prod.jwt.secret: cannot "
                                          f"read SSM parameter {PARAMETER}: ParameterNotFound")
        assert info.value.status == 500 and info.value.code == "SERVER_ERROR"
    put_parameter()
    assert reveal(settings.jwt.secret) == SECRET
    assert reveal(settings.jwt.secret) == SECRET
    assert aws.names == ["GetParameter"] * 3


def test_access_denied_names_the_cause(tmp_path: Path, aws: Calls) -> None:
    from botocore.stub import Stubber

    settings = load(tmp_path, f"jwt: {{secret: {{ssm: {PARAMETER}}}}}")
    with Stubber(aws_client("ssm")) as stub:
        stub.add_client_error("get_parameter", "AccessDeniedException",
                              "not authorized to perform: ssm:GetParameter")
        with pytest.raises(SecretUnavailableError) as info:
            reveal(settings.jwt.secret)
    assert str(info.value) == (f"{CONFIG_FILENAME}: jwt.secret: cannot read SSM parameter "
                               f"{PARAMETER}: AccessDeniedException: not authorized to perform: "
                               "ssm:GetParameter")


def test_concurrent_first_uses_share_one_call(tmp_path: Path, aws: Calls) -> None:
    put_parameter()
    settings = load(tmp_path, f"jwt: {{secret: {{ssm: {PARAMETER}}}}}")
    start = threading.Barrier(16)
    seen: List[Optional[str]] = []

    def use() -> None:
        start.wait()
        seen.append(reveal(settings.jwt.secret))

    threads = [threading.Thread(target=use) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [SECRET] * 16 and aws.names == ["GetParameter"]


def test_each_loaded_settings_has_its_own_store(tmp_path: Path, aws: Calls) -> None:
    put_parameter()
    text = f"jwt: {{secret: {{ssm: {PARAMETER}}}}}"
    first, second = load(tmp_path, text), load(tmp_path, text)
    assert first == second  # same configuration
    assert reveal(first.jwt.secret) == reveal(second.jwt.secret) == SECRET
    assert aws.names == ["GetParameter"] * 2


def test_no_value_in_repr_or_in_the_logs_even_at_debug(tmp_path: Path, aws: Calls,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    put_parameter()
    create_secret("svc/prod/db", {"password": "pw-in-json-0123456789"})
    settings = load(tmp_path, f"""
        jwt: {{secret: {{ssm: {PARAMETER}}}}}
        secrets: {{DB: {{secretsmanager: svc/prod/db, key: password}}}}
    """)
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("botocore").setLevel(logging.DEBUG)
        try:
            assert reveal(settings.jwt.secret) == SECRET
            assert settings.secrets["DB"] == "pw-in-json-0123456789"
            aws_client("ssm").describe_parameters()  # other responses are still logged
        finally:
            logging.getLogger("botocore").setLevel(logging.NOTSET)
    assert "Response body" in caplog.text  # botocore did log at DEBUG...
    text = caplog.text + repr(settings) + repr(settings.jwt) + repr(settings.secrets)
    assert SECRET not in text and "pw-in-json" not in text  # ...but never a secret


def test_secrets_mapping_reads_only_what_is_asked(tmp_path: Path, aws: Calls) -> None:
    put_parameter("/svc/a", "value-a")
    settings = load(tmp_path, "secrets: {A: {ssm: /svc/a}, B: {ssm: /svc/missing}}")
    assert list(settings.secrets) == ["A", "B"] and aws.names == []
    assert settings.secrets["A"] == "value-a"
    assert settings.secrets.get("C") is None
    assert aws.names == ["GetParameter"]
    assert settings.secrets == Secrets(dict(settings.secrets.references()))
    assert settings.secrets != {"A": "value-a", "B": "x"}  # equality never reads


# --- the JWT keys ----------------------------------------------------------------------------

def test_tokens_are_signed_and_verified_with_a_secret_from_ssm(tmp_path: Path,
                                                               aws: Calls) -> None:
    put_parameter()
    settings = load(tmp_path, f"jwt: {{secret: {{ssm: {PARAMETER}}}, issuer: svc}}")
    check_settings(settings.jwt)  # at start-up: reads nothing
    assert aws.names == []
    token = generate_token("ann", settings=settings)
    for _ in range(20):
        assert verify_token(token, settings.jwt)["sub"] == "ann"
    assert aws.names == ["GetParameter"]


def test_a_too_short_secret_from_ssm_is_refused_at_first_use(tmp_path: Path,
                                                             aws: Calls) -> None:
    put_parameter(value="short-secret")
    settings = load(tmp_path, f"jwt: {{secret: {{ssm: {PARAMETER}}}}}")
    check_settings(settings.jwt)
    with pytest.raises(SecretUnavailableError) as info:
        generate_token("ann", settings=settings)
    assert str(info.value).startswith(
        f"{CONFIG_FILENAME}: jwt.secret: SSM parameter {PARAMETER}: "
        "jwt.secret is shorter than the 32 bytes HS256 needs: generate one")


def test_rsa_keys_from_secrets_manager_and_ssm(tmp_path: Path, aws: Calls) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    create_secret("svc/prod/signing", {"private": private})
    put_parameter("/svc/prod/public-key", public.decode())
    settings = load(tmp_path, """
        jwt:
          algorithms: [RS256]
          private_key: {secretsmanager: svc/prod/signing, key: private}
          public_key: {ssm: /svc/prod/public-key}
    """)
    check_settings(settings.jwt)
    token = generate_token("ann", settings=settings)
    assert verify_token(token, settings.jwt)["sub"] == "ann"
    assert verify_token(token, settings.jwt)["sub"] == "ann"
    assert sorted(aws.names) == ["GetParameter", "GetSecretValue"]


def test_loading_and_checking_a_reference_imports_no_aws_module(tmp_path: Path) -> None:
    (tmp_path / CONFIG_FILENAME).write_text(f"jwt: {{secret: {{ssm: {PARAMETER}}}}}\n"
                                            "secrets: {DB: {secretsmanager: svc/db}}\n")
    code = ("import sys, pym_lambda.config as c, pym_lambda.auth as a; "
            f"s = c.load_settings({str(tmp_path)!r}, environ={{}}); a.check_settings(s.jwt); "
            "print(sorted(m for m in ('boto3', 'botocore', 'jwt') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=Path(__file__).resolve().parents[1])
    assert result.stdout.strip() == "[]"
