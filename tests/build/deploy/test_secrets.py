"""The build's side of secrets: the references a stage reads (for its roles), nothing read
nor forwarded for them, and plain secrets refused in a production stage's environment."""
from __future__ import annotations

import json
from typing import Any, Dict, Mapping, Optional

import pytest
import yaml

from pym_lambda.build.deploy.build import (
    StageConfig,
    env_references,
    function_environment,
    secret_references,
)
from pym_lambda.build.deploy.errors import DeployError
from pym_lambda.build.deploy.permissions import SecretRef

KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SECRET = "plain-secret-value-0123456789abcdef"


def doc(text: str) -> Dict[str, Any]:
    return dict(yaml.safe_load(text))


def stage(name: str = "prod", variables: Optional[Mapping[str, str]] = None) -> StageConfig:
    return StageConfig(app_name="svc", stage=name,
                       environment_variables={"PYM_STAGE": name, **(variables or {})})


def refused(document: Dict[str, Any], config: StageConfig,
            environ: Optional[Mapping[str, str]] = None) -> DeployError:
    with pytest.raises(DeployError) as info:
        function_environment(config, document, environ or {})
    assert info.value.step == "build"
    assert SECRET not in info.value.message and SECRET not in info.value.hint
    return info.value


# --- the references a stage reads ------------------------------------------------------------

def test_the_references_of_a_stage_sorted_once_each_with_their_kms_key() -> None:
    document = doc(f"""
        jwt:
          secret: {{env: JWT_SECRET}}
          public_key: {{ssm: /svc/shared/public-key}}
        secrets:
          DB_USER: {{secretsmanager: svc/db, key: username, kms_key: {KMS_KEY}}}
          DB_PASSWORD: {{secretsmanager: svc/db, key: password, kms_key: {KMS_KEY}}}
        extra: {{ssm: /not/a/reference/in/extra}}
        stages:
          prod:
            jwt:
              secret: {{ssm: /svc/prod/jwt-secret, kms_key: {KMS_KEY}}}
              private_key: {{secretsmanager: "arn:aws:secretsmanager:us-east-1:1:secret:k-AbCdEf"}}
          staging:
            jwt: {{secret: {{ssm: /svc/staging/jwt-secret}}}}
    """)
    assert secret_references(document, "prod") == (
        SecretRef("secretsmanager", "arn:aws:secretsmanager:us-east-1:1:secret:k-AbCdEf"),
        SecretRef("secretsmanager", "svc/db", KMS_KEY),
        SecretRef("ssm", "/svc/prod/jwt-secret", KMS_KEY),
        SecretRef("ssm", "/svc/shared/public-key"),
    )
    assert secret_references(document, "staging") == (
        SecretRef("secretsmanager", "svc/db", KMS_KEY),
        SecretRef("ssm", "/svc/shared/public-key"),
        SecretRef("ssm", "/svc/staging/jwt-secret"),
    )
    # A stage's reference replaces the top level's {env: ...}: nothing to forward for it.
    assert ("jwt.secret", "JWT_SECRET") not in env_references(document, "prod")
    assert ("jwt.secret", "JWT_SECRET") in env_references(document, "dev")


def test_a_malformed_reference_is_a_build_error_naming_the_key() -> None:
    document = doc("stages: {prod: {jwt: {secret: {ssm: /x, kms_key: alias/k}}}}")
    with pytest.raises(DeployError) as info:
        secret_references(document, "prod")
    assert info.value.message.startswith("pym-config.yaml: jwt.secret: kms_key: expected a KMS "
                                         "key ARN")


def test_references_need_nothing_in_the_environment_and_are_never_forwarded() -> None:
    document = doc("""
        jwt: {secret: {ssm: /svc/prod/jwt-secret}}
        secrets: {DB: {secretsmanager: svc/db, key: password}}
    """)
    variables, forwarded = function_environment(stage(), document, {"JWT_SECRET": SECRET})
    assert variables == {"PYM_APP_NAME": "svc", "PYM_STAGE": "prod"} and forwarded == ()


def test_the_example_service_reads_its_prod_secret_from_ssm() -> None:
    from pym_lambda.config import read_config_file
    from tests.conftest import ROOT

    document = read_config_file(ROOT / "pym-config.yaml")
    assert secret_references(document, "prod") == (
        SecretRef("ssm", "/pym-library/prod/jwt-secret"),)
    assert secret_references(document, "dev") == ()
    variables, forwarded = function_environment(stage(), document, {"JWT_SECRET": SECRET})
    assert SECRET not in variables.values() and forwarded == ()


def test_a_new_service_reads_its_prod_secret_from_ssm() -> None:
    from importlib import resources

    from pym_lambda.build.scaffold.generator import render, template_values

    values = template_values("demo-shop")
    template = resources.files("pym_lambda.build.scaffold") / "template"
    document = doc(render((template / "pym-config.yaml.tmpl").read_text(), values, "config"))
    chalice = json.loads(render((template / "dot-chalice" / "config.json.tmpl").read_text(),
                                values, "chalice"))
    assert secret_references(document, "prod") == (
        SecretRef("ssm", "/demo-shop/prod/jwt-secret"),)
    prod = stage("prod", chalice["stages"]["prod"]["environment_variables"])
    assert function_environment(prod, document, {"JWT_SECRET": SECRET}) == (
        {"PYM_APP_NAME": "svc", "PYM_STAGE": "prod"}, ())
    dev = stage("dev", chalice["stages"]["dev"]["environment_variables"])
    variables, _ = function_environment(dev, document, {})  # dev: its plain value is fine
    assert variables["JWT_SECRET"] == values["dev_jwt_secret"]


# --- plain secrets and production stages ------------------------------------------------------

def test_a_forwarded_jwt_secret_is_refused_with_the_command_that_moves_it() -> None:
    error = refused(doc("jwt: {secret: {env: JWT_SECRET}}"), stage(), {"JWT_SECRET": SECRET})
    assert error.message == "\n".join([
        "stage prod is a production stage and 1 plain secret(s) would be readable by anyone "
        "allowed lambda:GetFunctionConfiguration (or lambda:GetFunction for the package):",
        "  - jwt.secret (JWT_SECRET, forwarded from this shell)",
        "move each one to an SSM SecureString parameter (read by the functions at first use; "
        "deploy grants them read access to it):",
        '  aws ssm put-parameter --name /svc/prod/jwt-secret --type SecureString '
        '--value "$JWT_SECRET"',
        "and in pym-config.yaml:",
        "  stages: {prod: {jwt: {secret: {ssm: /svc/prod/jwt-secret}}}}",
    ])
    assert error.hint == ("a stage that is not production says so in pym-config.yaml: stages: "
                          "{prod: {production: false}}; to keep plain secrets in a production "
                          "stage anyway: stages: {prod: {allow_plain_secrets: true}}")


def test_every_kind_of_plain_secret_is_listed() -> None:
    document = doc("""
        env_secrets: [DB_PASSWORD]
        jwt: {private_key: {env: SIGNING_KEY}, public_key: {env: PUBLIC_KEY}}
        secrets: {API_TOKEN: {env: API_TOKEN}}
        clients: {reviews: {env: REVIEWS_URL}}
    """)
    config = stage("live", {"SIGNING_KEY": SECRET, "PYM_JWT_SECRET": SECRET,
                            "PUBLIC_KEY": "pem", "REVIEWS_URL": "https://r"})
    error = refused(document, config, {"DB_PASSWORD": SECRET, "API_TOKEN": SECRET})
    lines = error.message.splitlines()
    assert lines[0].startswith("stage live is a production stage and 4 plain secret(s)")
    assert lines[1:5] == [
        "  - jwt.private_key (SIGNING_KEY, set in .chalice/config.json (environment_variables))",
        "  - secrets.API_TOKEN (API_TOKEN, forwarded from this shell)",
        "  - env_secrets.DB_PASSWORD (DB_PASSWORD, forwarded from this shell)",
        "  - jwt.secret (PYM_JWT_SECRET, set in .chalice/config.json (environment_variables))",
    ]
    assert ('  aws ssm put-parameter --name /svc/live/db-password --type SecureString '
            '--value "$DB_PASSWORD"') in lines
    assert ("  stages: {live: {secrets: {DB_PASSWORD: {ssm: /svc/live/db-password}}}} (and "
            "DB_PASSWORD out of env_secrets; read as settings.secrets['DB_PASSWORD'])") in lines
    assert "  stages: {live: {secrets: {API_TOKEN: {ssm: /svc/live/api-token}}}}" in lines
    assert "  stages: {live: {jwt: {private_key: {ssm: /svc/live/jwt-private-key}}}}" in lines
    assert "PUBLIC_KEY" not in error.message and "REVIEWS_URL" not in error.message


def test_an_unset_plain_secret_is_refused_rather_than_asked_for() -> None:
    error = refused(doc("jwt: {secret: {env: JWT_SECRET}}"), stage(), {})
    assert ("  - jwt.secret (JWT_SECRET, to be forwarded from this shell, where it is not set)"
            in error.message.splitlines())
    assert "export it" not in error.message


def test_a_secret_written_in_the_file_is_refused_too() -> None:
    error = refused(doc(f"jwt: {{secret: {SECRET}}}"), stage())
    assert "  - jwt.secret (written in pym-config.yaml, which ships in the package)" in \
        error.message.splitlines()
    assert ("  aws ssm put-parameter --name /svc/prod/jwt-secret --type SecureString "
            "--value file://secret.txt") in error.message.splitlines()


@pytest.mark.parametrize("stage_name", ["dev", "local", "test", "staging", "prod"])
def test_every_stage_is_production_unless_the_file_says_otherwise(stage_name: str) -> None:
    document = doc("jwt: {secret: {env: JWT_SECRET}}")
    refused(document, stage(stage_name), {"JWT_SECRET": SECRET})


@pytest.mark.parametrize("text", [
    "stages: {dev: {production: false}}",
    "stages: {dev: {allow_plain_secrets: true}}",
    "allow_plain_secrets: true",
    "production: false\nstages: {prod: {production: true}}",
])
def test_a_non_production_or_allowing_stage_keeps_its_plain_secret(text: str) -> None:
    document = doc("jwt: {secret: {env: JWT_SECRET}}\n" + text)
    variables, forwarded = function_environment(stage("dev"), document, {"JWT_SECRET": SECRET})
    assert variables["JWT_SECRET"] == SECRET and forwarded == ("JWT_SECRET",)


def test_an_opt_out_for_one_stage_does_not_cover_another() -> None:
    document = doc("""
        jwt: {secret: {env: JWT_SECRET}}
        stages: {dev: {production: false}, staging: {allow_plain_secrets: true}}
    """)
    function_environment(stage("staging"), document, {"JWT_SECRET": SECRET})
    refused(document, stage("prod"), {"JWT_SECRET": SECRET})
    # Only a real `false` / `true` counts (load_settings then refuses anything else).
    refused(doc("jwt: {secret: {env: JWT_SECRET}}\nproduction: 'no'"), stage(),
            {"JWT_SECRET": SECRET})


def test_the_plain_path_still_works_where_it_is_allowed() -> None:
    document = doc("""
        jwt: {secret: {env: JWT_SECRET}}
        stages: {prod: {allow_plain_secrets: true}}
    """)
    variables, forwarded = function_environment(stage(), document, {"JWT_SECRET": SECRET})
    assert variables["JWT_SECRET"] == SECRET and forwarded == ("JWT_SECRET",)
