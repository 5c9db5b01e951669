"""pym-config.yaml: precedence, secrets, validation messages, defaults."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Dict, Optional

import pytest

from pym_lambda.config import (
    CONFIG_FILENAME,
    ConfigError,
    CorsSettings,
    DocsSettings,
    JwtSettings,
    LimitSettings,
    Settings,
    load_settings,
)


def write_config(directory: Path, text: str) -> Path:
    path = directory / CONFIG_FILENAME
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load(directory: Path, environ: Optional[Dict[str, str]] = None, **kwargs: Any) -> Settings:
    # Always an explicit environ: the tests never depend on the machine's variables.
    return load_settings(directory, environ=environ or {}, **kwargs)


def config_error(directory: Path, environ: Optional[Dict[str, str]] = None,
                 **kwargs: Any) -> str:
    with pytest.raises(ConfigError) as info:
        load(directory, environ, **kwargs)
    return str(info.value)


# --- defaults and the file ------------------------------------------------------------------

def test_missing_file_gives_the_defaults(tmp_path: Path) -> None:
    settings = load(tmp_path)
    assert settings.config_file is None
    assert settings.stage == "dev"
    assert settings.log_level == "INFO"
    assert settings.jwt == JwtSettings()
    assert settings.jwt.algorithms == ("HS256",)
    assert settings.jwt.expires_in == 86400
    assert settings.jwt.cookie is False
    assert settings.limits == LimitSettings(max_body_bytes=1024 * 1024, max_json_depth=64)
    assert settings.cors == CorsSettings()
    assert settings.clients == {} and settings.secrets == {} and settings.raw == {}


def test_missing_file_is_an_error_when_required(tmp_path: Path) -> None:
    message = config_error(tmp_path, required=True)
    assert message.startswith(f"{CONFIG_FILENAME}: not found in ")
    assert str(tmp_path.resolve()) in message


def test_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    write_config(tmp_path, "")
    assert load(tmp_path).jwt == JwtSettings()


def test_a_full_file_is_read_into_typed_settings(tmp_path: Path) -> None:
    path = write_config(tmp_path, """
        name: hello
        version: "1.2.0"
        log_level: debug
        jwt:
          algorithms: [RS256, ES256]
          audience: [api.hello, api.other]
          issuer: auth.hello
          leeway: 30
          cookie: true
          required_claims: [email]
          public_key_file: keys/public.pem
        clients:
          user-api: https://users.example.com
        tasks:
          inline: true
          queues: {email: hello-email}
          max_receive_count: 8
        cors:
          enabled: true
          allow_origins: https://a.example.com, https://b.example.com
          max_age: 60
        limits:
          max_body_bytes: 2048
        extra:
          stripe: {plan: gold, retries: 3}
    """)
    settings = load(tmp_path)
    assert settings.config_file == str(path.resolve())
    assert (settings.name, settings.version, settings.log_level) == ("hello", "1.2.0", "DEBUG")
    assert settings.jwt.algorithms == ("RS256", "ES256")
    assert settings.jwt.audience == ("api.hello", "api.other")
    assert settings.jwt.issuer == "auth.hello"
    assert settings.jwt.leeway == 30 and settings.jwt.cookie is True
    assert settings.jwt.required_claims == ("email",)
    # Relative key files are read from the project directory, whatever the cwd.
    assert settings.jwt.public_key_file == str(tmp_path.resolve() / "keys" / "public.pem")
    assert settings.clients == {"user-api": "https://users.example.com"}
    assert settings.tasks.inline is True
    assert settings.tasks.queues == {"email": "hello-email"}
    assert settings.tasks.max_receive_count == 8
    assert settings.cors.enabled is True
    assert settings.cors.allow_origins == ("https://a.example.com", "https://b.example.com")
    assert settings.cors.max_age == 60
    assert settings.limits.max_body_bytes == 2048 and settings.limits.max_json_depth == 64
    assert settings.extra == {"stripe": {"plan": "gold", "retries": 3}}
    assert settings.raw["jwt"]["issuer"] == "auth.hello"


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = load(tmp_path)
    with pytest.raises(AttributeError):  # NamedTuple fields cannot be assigned
        settings.name = "changed"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        settings.jwt.secret = "changed"  # type: ignore[misc]


# --- precedence: overrides > environment > stage section > file top level > defaults ---------

PRECEDENCE_FILE = """
    jwt:
      leeway: 10
    stages:
      prod:
        jwt:
          leeway: 20
"""


def test_file_top_level_beats_defaults(tmp_path: Path) -> None:
    write_config(tmp_path, PRECEDENCE_FILE)
    assert JwtSettings().leeway == 0
    assert load(tmp_path, stage="dev").jwt.leeway == 10


def test_stage_section_beats_file_top_level(tmp_path: Path) -> None:
    write_config(tmp_path, PRECEDENCE_FILE)
    assert load(tmp_path, stage="prod").jwt.leeway == 20


def test_environment_beats_stage_section(tmp_path: Path) -> None:
    write_config(tmp_path, PRECEDENCE_FILE)
    assert load(tmp_path, {"PYM_JWT_LEEWAY": "30"}, stage="prod").jwt.leeway == 30


def test_overrides_beat_environment(tmp_path: Path) -> None:
    write_config(tmp_path, PRECEDENCE_FILE)
    settings = load(tmp_path, {"PYM_JWT_LEEWAY": "30"}, stage="prod",
                    overrides={"jwt": {"leeway": 40}})
    assert settings.jwt.leeway == 40


def test_overrides_accept_dotted_keys(tmp_path: Path) -> None:
    write_config(tmp_path, PRECEDENCE_FILE)
    settings = load(tmp_path, overrides={"jwt.leeway": 50, "jwt.issuer": "me", "name": "svc"})
    assert (settings.jwt.leeway, settings.jwt.issuer, settings.name) == (50, "me", "svc")


def test_levels_merge_key_by_key(tmp_path: Path) -> None:
    write_config(tmp_path, """
        jwt: {issuer: top, audience: top-aud}
        clients: {users: https://users, orders: https://orders}
        stages:
          prod:
            jwt: {audience: prod-aud}
            clients: {orders: https://prod-orders}
    """)
    settings = load(tmp_path, {"PYM_JWT_LEEWAY": "5"}, stage="prod")
    assert settings.jwt.issuer == "top"
    assert settings.jwt.audience == ("prod-aud",)
    assert settings.jwt.leeway == 5
    assert settings.clients == {"users": "https://users", "orders": "https://prod-orders"}


def test_stage_comes_from_argument_then_pym_stage_then_dev(tmp_path: Path) -> None:
    write_config(tmp_path, """
        name: top
        stages:
          dev: {name: dev-name}
          prod: {name: prod-name}
          test: {name: test-name}
    """)
    assert load(tmp_path).name == "dev-name"
    assert load(tmp_path).stage == "dev"
    assert load(tmp_path, {"PYM_STAGE": "prod"}).name == "prod-name"
    settings = load(tmp_path, {"PYM_STAGE": "prod"}, stage="test")
    assert (settings.stage, settings.name) == ("test", "test-name")
    # A stage with no section uses the top level.
    assert load(tmp_path, stage="staging").name == "top"


def test_every_stage_section_is_checked_not_only_the_current_one(tmp_path: Path) -> None:
    write_config(tmp_path, """
        stages:
          prod:
            jwt: {isuer: x}
    """)
    message = config_error(tmp_path, stage="dev")
    assert message == (f"{CONFIG_FILENAME}: line 4: stages.prod.jwt.isuer: unknown key "
                       "(did you mean 'issuer'?)")


# --- environment variables -------------------------------------------------------------------

def test_environment_values_are_parsed_to_the_declared_type(tmp_path: Path) -> None:
    settings = load(tmp_path, {
        "PYM_NAME": "from-env",
        "PYM_LOG_LEVEL": "warning",
        "PYM_JWT_AUDIENCE": "api.one",
        "PYM_JWT_ALGORITHMS": "HS256, RS256",
        "PYM_JWT_COOKIE": "true",
        "PYM_CORS_ENABLED": "1",
        "PYM_CORS_ALLOW_CREDENTIALS": "0",
        "PYM_LIMITS_MAX_BODY_BYTES": "4096",
        "PYM_TASKS_INLINE": "1",
    })
    assert settings.name == "from-env"
    assert settings.log_level == "WARNING"
    assert settings.jwt.audience == ("api.one",)
    assert settings.jwt.algorithms == ("HS256", "RS256")
    assert settings.jwt.cookie is True
    assert settings.cors.enabled is True and settings.cors.allow_credentials is False
    assert settings.limits.max_body_bytes == 4096
    assert settings.tasks.inline is True


def test_environment_list_is_comma_separated(tmp_path: Path) -> None:
    settings = load(tmp_path, {"PYM_JWT_AUDIENCE": "a, b"})
    assert settings.jwt.audience == ("a", "b")


def test_an_empty_environment_value_unsets_an_optional_key(tmp_path: Path) -> None:
    write_config(tmp_path, "jwt: {issuer: file-issuer}")
    assert load(tmp_path, {"PYM_JWT_ISSUER": ""}).jwt.issuer is None


@pytest.mark.parametrize("variable, value, expected", [
    # a variable's value may be a secret: never shown
    ("PYM_JWT_COOKIE", "maybe", "expected true or false; the value (not shown) is not"),
    ("PYM_JWT_LEEWAY", "soon", "expected an integer; the value (not shown) is not"),
    ("PYM_LIMITS_MAX_JSON_DEPTH", "0", "must be at least 1, got 0"),
    ("PYM_TASKS_MAX_RECEIVE_COUNT", "5000", "must be at most 1000, got 5000"),
])
def test_a_bad_environment_value_names_the_variable_and_the_key(
        tmp_path: Path, variable: str, value: str, expected: str) -> None:
    message = config_error(tmp_path, {variable: value})
    assert message.startswith(f"environment variable {variable}: ")
    assert expected in message and (value not in message or value.isdigit())


def test_a_misspelt_section_variable_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    message = config_error(tmp_path, {"PYM_JWT_AUDIANCE": "x"})
    assert message == ("environment variable PYM_JWT_AUDIANCE: names no setting "
                       "(did you mean 'PYM_JWT_AUDIENCE'?)")


def test_other_pym_variables_are_left_alone(tmp_path: Path) -> None:
    settings = load(tmp_path, {"PYM_SOMETHING_ELSE": "x", "PYM_STAGE": "dev", "HOME": "/"})
    assert settings.stage == "dev"


def test_mapping_entries_come_one_variable_each(tmp_path: Path) -> None:
    write_config(tmp_path, """
        clients: {user-api: https://users, orders: https://orders}
        tasks: {queues: {email: q-email}}
    """)
    settings = load(tmp_path, {"PYM_CLIENTS_USER_API": "http://localhost:8081",
                               "PYM_CLIENTS_BILLING": "http://billing",
                               "PYM_TASKS_QUEUES_EMAIL": "q-email-test"})
    assert settings.clients == {"user-api": "http://localhost:8081", "orders": "https://orders",
                                "billing": "http://billing"}
    assert settings.tasks.queues == {"email": "q-email-test"}


# --- secrets ---------------------------------------------------------------------------------

def test_env_indirection_reads_the_variable_and_parses_it(tmp_path: Path) -> None:
    write_config(tmp_path, """
        jwt:
          secret: {env: JWT_SECRET}
          leeway: {env: JWT_LEEWAY}
          algorithms: {env: JWT_ALGS}
        clients:
          users: {env: USERS_URL}
        extra:
          stripe: {key: {env: STRIPE_KEY}}
    """)
    settings = load(tmp_path, {"JWT_SECRET": "s3cret" * 11, "JWT_LEEWAY": "15",
                               "JWT_ALGS": "HS256,HS512", "USERS_URL": "https://users",
                               "STRIPE_KEY": "sk_live"})
    assert settings.jwt.secret == "s3cret" * 11
    assert settings.jwt.leeway == 15
    assert settings.jwt.algorithms == ("HS256", "HS512")
    assert settings.clients == {"users": "https://users"}
    assert settings.extra == {"stripe": {"key": "sk_live"}}
    # The file as parsed keeps the reference, never the secret.
    assert settings.raw["jwt"]["secret"] == {"env": "JWT_SECRET"}


def test_env_indirection_to_a_missing_variable_names_key_and_variable(tmp_path: Path) -> None:
    write_config(tmp_path, "jwt: {secret: {env: JWT_SECRET}}")
    assert config_error(tmp_path) == (f"{CONFIG_FILENAME}: line 1: jwt.secret: environment "
                                      "variable JWT_SECRET is not set")


def test_env_indirection_in_a_stage_section_names_the_stage_path(tmp_path: Path) -> None:
    write_config(tmp_path, "stages: {prod: {jwt: {secret: {env: PROD_SECRET}}}}")
    # Another stage's secret is not needed ...
    assert load(tmp_path, stage="dev").jwt.secret is None
    # ... the current stage's is.
    assert config_error(tmp_path, stage="prod") == (
        f"{CONFIG_FILENAME}: line 1: stages.prod.jwt.secret: environment variable PROD_SECRET "
        "is not set")


def test_an_overridden_env_indirection_is_never_read(tmp_path: Path) -> None:
    write_config(tmp_path, """
        jwt: {secret: {env: DEV_SECRET}}
        stages: {prod: {jwt: {secret: {env: PROD_SECRET}}}}
    """)
    settings = load(tmp_path, {"PROD_SECRET": "p" * 32}, stage="prod")
    assert settings.jwt.secret == "p" * 32


def test_env_indirection_with_a_bad_value_names_the_variable(tmp_path: Path) -> None:
    write_config(tmp_path, "jwt: {leeway: {env: LEEWAY}}")
    message = config_error(tmp_path, {"LEEWAY": "lots"})
    assert message == (f"{CONFIG_FILENAME} (via environment variable LEEWAY): jwt.leeway: "
                       "expected an integer; the value (not shown) is not")


def test_env_secrets_are_exposed_under_secrets(tmp_path: Path) -> None:
    write_config(tmp_path, "env_secrets: [JWT_SECRET, DB_PASSWORD]")
    settings = load(tmp_path, {"JWT_SECRET": "a", "DB_PASSWORD": "b", "OTHER": "c"})
    assert settings.secrets == {"JWT_SECRET": "a", "DB_PASSWORD": "b"}
    assert settings.env_secrets == ("JWT_SECRET", "DB_PASSWORD")


def test_a_missing_env_secret_is_an_error(tmp_path: Path) -> None:
    write_config(tmp_path, "env_secrets: [JWT_SECRET, DB_PASSWORD]")
    message = config_error(tmp_path, {"JWT_SECRET": "a"})
    assert message == (f"{CONFIG_FILENAME}: line 1: env_secrets: environment variable(s) not set: "
                       "DB_PASSWORD")


def test_pymacaron_style_secret_name_as_value_says_how_to_read_it(tmp_path: Path) -> None:
    # PyMacaron replaced such a value by the variable; silently signing with the literal
    # string "JWT_SECRET" would be worse than failing.
    write_config(tmp_path, """
        env_secrets: [JWT_SECRET]
        jwt: {secret: JWT_SECRET}
    """)
    message = config_error(tmp_path, {"JWT_SECRET": "x" * 32})
    assert message == (f"{CONFIG_FILENAME}: line 3: jwt.secret: the value names the secret "
                       "JWT_SECRET; write {env: JWT_SECRET} to read it")


def test_secrets_stay_out_of_repr(tmp_path: Path) -> None:
    write_config(tmp_path, """
        env_secrets: [DB_PASSWORD]
        jwt: {secret: {env: JWT_SECRET}, private_key: {env: PRIVATE_KEY}}
    """)
    settings = load(tmp_path, {"DB_PASSWORD": "pw-123456", "JWT_SECRET": "jwt-123456" * 4,
                               "PRIVATE_KEY": "pk-123456"})
    text = repr(settings)
    assert "pw-123456" not in text and "jwt-123456" * 4 not in text and "pk-123456" not in text


# --- validation messages ---------------------------------------------------------------------

def test_unknown_key_names_its_path_and_suggests_the_closest(tmp_path: Path) -> None:
    write_config(tmp_path, "jwt: {algoritms: [HS256]}")
    assert config_error(tmp_path) == (f"{CONFIG_FILENAME}: line 1: jwt.algoritms: unknown key "
                                      "(did you mean 'algorithms'?)")


def test_unknown_top_level_key_without_a_close_match(tmp_path: Path) -> None:
    write_config(tmp_path, "zzz: 1")
    assert config_error(tmp_path) == f"{CONFIG_FILENAME}: line 1: zzz: unknown key"


def test_pymacaron_flat_jwt_keys_point_to_their_new_place(tmp_path: Path) -> None:
    # At the top level they are mapped (tests/compat/test_pymacaron_migration.py); PyMacaron
    # had no stages, so one in a stage section is named with its new place.
    write_config(tmp_path, "stages: {dev: {jwt_audience: api}}")
    assert config_error(tmp_path) == (f"{CONFIG_FILENAME}: line 1: stages.dev.jwt_audience: "
                                      "unknown key (PyMacaron's 'jwt_audience' is "
                                      "'jwt.audience' here)")


def test_stage_is_not_a_file_key(tmp_path: Path) -> None:
    write_config(tmp_path, "stage: prod")
    assert "the stage comes from the stage argument or PYM_STAGE" in config_error(tmp_path)


def test_unknown_override_key_names_the_overrides(tmp_path: Path) -> None:
    message = config_error(tmp_path, overrides={"jwt.audiense": "x"})
    assert message == "overrides: jwt.audiense: unknown key (did you mean 'audience'?)"


@pytest.mark.parametrize("text, expected", [
    ("jwt: {leeway: soon}", "jwt.leeway: expected an integer, got 'soon' (str)"),
    ("jwt: {leeway: true}", "jwt.leeway: expected an integer, got True (bool)"),
    ("jwt: {cookie: 'yes'}", "jwt.cookie: expected true or false, got 'yes' (str)"),
    ("jwt: {issuer: [a, b]}", "jwt.issuer: expected a string or null, got ['a', 'b'] (list)"),
    ("jwt: {required_claims: [1, 2]}",
     "jwt.required_claims: expected a list of strings, got [1, 2] (list)"),
    ("clients: [a, b]", "clients: expected a mapping of strings, got ['a', 'b'] (list)"),
    ("extra: [a, b]", "extra: expected a mapping, got ['a', 'b'] (list)"),
    ("clients: {users: 8080}", "clients.users: expected a string, got 8080 (int) "
                               "(quote it to make it a string)"),
    ("version: 1.2", "version: expected a string, got 1.2 (float) "
                     "(quote it to make it a string)"),
    ("jwt: HS256", "jwt: expected a mapping, got 'HS256' (str)"),
    ("cors: {max_age: -1}", "cors.max_age: must be at least 0, got -1"),
    ("tasks: {max_receive_count: 0}", "tasks.max_receive_count: must be at least 1, got 0"),
    ("tasks: {max_receive_count: 1001}",
     "tasks.max_receive_count: must be at most 1000, got 1001"),
    ("log_level: verbose", "log_level: expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL, "
                           "got 'VERBOSE' (str)"),
    ("jwt: {algorithms: [none]}", "jwt.algorithms: 'none' is not a JWT algorithm "
                                  "pym-lambda accepts"),
    ("jwt: {algorithms: [HS265]}", "jwt.algorithms: 'HS265' is not a JWT algorithm "
                                   "pym-lambda accepts (did you mean 'HS256'?)"),
    ("jwt: {algorithms: []}", "jwt.algorithms: needs at least one algorithm"),
    ("stages: [prod]", "stages: expected a mapping of stage names to settings, "
                       "got ['prod'] (list)"),
    ("jwt: {secret: {env: 3}}", "jwt.secret: {env: ...} needs a variable name"),
])
def test_wrong_type_names_key_expected_type_and_value(tmp_path: Path, text: str,
                                                      expected: str) -> None:
    write_config(tmp_path, text)
    assert config_error(tmp_path) == f"{CONFIG_FILENAME}: line 1: {expected}"


def test_invalid_yaml_is_a_config_error_with_the_line(tmp_path: Path) -> None:
    write_config(tmp_path, "name: [unclosed\nversion: '1'\n")
    message = config_error(tmp_path)
    assert message.startswith(f"{CONFIG_FILENAME}: not valid YAML:")
    assert "line" in message


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    write_config(tmp_path, "- a\n- b\n")
    assert config_error(tmp_path) == (f"{CONFIG_FILENAME}: expected a mapping at the top level, "
                                      "got list")


def test_duplicate_keys_are_an_error(tmp_path: Path) -> None:
    write_config(tmp_path, "name: a\nversion: '1'\nname: b\n")
    assert config_error(tmp_path) == f"{CONFIG_FILENAME}: line 3: duplicate key 'name'"


def test_yaml_merge_keys_may_repeat_keys(tmp_path: Path) -> None:
    write_config(tmp_path, """
        stages:
          prod: &prod
            name: prod
            jwt: {leeway: 5}
          staging:
            <<: *prod
            name: staging
    """)
    settings = load(tmp_path, stage="staging")
    assert (settings.name, settings.jwt.leeway) == ("staging", 5)


# --- import cost -----------------------------------------------------------------------------

def test_importing_config_and_auth_loads_no_heavy_module() -> None:
    code = ("import sys, pym_lambda.config, pym_lambda.auth; "
            "print(sorted(m for m in ('yaml', 'jwt', 'cryptography', 'requests', 'difflib') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=Path(__file__).resolve().parents[2])
    assert result.stdout.strip() == "[]"


# --- docs: (the /doc pages) ------------------------------------------------------------------

def test_docs_default_to_redoc_at_doc(tmp_path: Path) -> None:
    assert load(tmp_path).docs == DocsSettings(enabled=True, path="/doc", ui="redoc")


def test_docs_are_turned_off_by_a_stage_or_by_the_environment(tmp_path: Path) -> None:
    write_config(tmp_path, """
        docs: {path: /api-docs/, ui: swagger-ui}
        stages:
          prod: {docs: {enabled: false}}
    """)
    dev = load(tmp_path, stage="dev").docs
    assert (dev.enabled, dev.path, dev.ui) == (True, "/api-docs", "swagger-ui")
    assert load(tmp_path, stage="prod").docs.enabled is False
    assert load(tmp_path, {"PYM_DOCS_ENABLED": "false"}).docs.enabled is False


@pytest.mark.parametrize("text, expected", [
    ("docs: {ui: rapidoc}", "docs.ui: expected one of redoc, swagger-ui, got 'rapidoc' (str)"),
    ("docs: {path: /}", "docs.path: expected a path of plain segments such as '/doc', "
                        "got '/' (str)"),
    ("docs: {path: '/doc/{api}'}", "docs.path: expected a path of plain segments such as "
                                   "'/doc', got '/doc/{api}' (str)"),
    ("docs: {enabled: 'no'}", "docs.enabled: expected true or false, got 'no' (str)"),
    ("docs: {theme: dark}", "docs.theme: unknown key"),
])
def test_bad_docs_settings_name_the_key(tmp_path: Path, text: str, expected: str) -> None:
    write_config(tmp_path, text)
    assert config_error(tmp_path) == f"{CONFIG_FILENAME}: line 1: {expected}"
