"""One configuration path: every PYM_* variable read in pym_lambda/config/, one precedence
(aliases below the key's own variable), one flag parser, one deep merge, a generated reference."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from pym_lambda.config import ConfigError, load_settings
from pym_lambda.config.environment import (
    ConfigValueError,
    deep_merge,
    parse_flag,
    queue_overrides,
    runtime_environment,
)
from pym_lambda.config.key_docs import KEY_DOCS
from pym_lambda.config.keys import ALIASES, Settings, schema_of
from pym_lambda.tasks.task_settings import TaskSettings

PACKAGE = Path(__file__).resolve().parents[2] / "pym_lambda"
PING_SPEC = """
openapi: 3.0.3
info: {title: ping, version: '1'}
paths: {}
"""


def test_task_backoff_alias_is_below_its_key_and_above_the_file(tmp_path: Path) -> None:
    (tmp_path / "pym-config.yaml").write_text("tasks: {backoff_base_seconds: 10}\n")
    assert load_settings(tmp_path, environ={}).tasks.backoff_base_seconds == 10
    old = {"PYM_TASK_BACKOFF_SECONDS": "7"}
    assert load_settings(tmp_path, environ=old).tasks.backoff_base_seconds == 7
    both = {**old, "PYM_TASKS_BACKOFF_BASE_SECONDS": "3"}
    assert load_settings(tmp_path, environ=both).tasks.backoff_base_seconds == 3
    assert load_settings(tmp_path, environ=both, overrides={
        "tasks.backoff_base_seconds": 1}).tasks.backoff_base_seconds == 1
    # Without an app the task system reads the same variables with the same precedence.
    assert TaskSettings.from_env(both).backoff_base_seconds == 3
    assert TaskSettings.from_env(old).backoff_base_seconds == 7


def test_an_app_hands_the_settings_backoff_to_the_task_system(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pym_lambda.runtime.app import configure_tasks_from
    from pym_lambda.tasks.task_settings import configure_tasks, get_task_settings

    (tmp_path / "pym-config.yaml").write_text("tasks: {backoff_base_seconds: 10}\n")
    monkeypatch.setenv("PYM_TASK_BACKOFF_SECONDS", "7")
    monkeypatch.setenv("PYM_TASKS_BACKOFF_BASE_SECONDS", "3")
    try:
        configure_tasks_from(load_settings(tmp_path), "shop")
        assert get_task_settings().backoff_base_seconds == 3  # was 7: the old name won
    finally:
        configure_tasks(None)


def test_wsgi_body_limit_is_the_apps_limits_key(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pym_lambda import create_app
    from pym_lambda.wsgi import make_wsgi_app
    from tests.conftest import make_project

    for name in ("PYM_MAX_BODY_BYTES", "PYM_LIMITS_MAX_BODY_BYTES"):
        monkeypatch.delenv(name, raising=False)
    project = make_project(tmp_path, {"ping": PING_SPEC})
    assert make_wsgi_app(create_app(project)).max_body_bytes == 1024 * 1024  # was 6 MiB
    (project / "pym-config.yaml").write_text("limits: {max_body_bytes: 2048}\n")
    assert make_wsgi_app(create_app(project)).max_body_bytes == 2048
    monkeypatch.setenv("PYM_MAX_BODY_BYTES", "4096")  # the old name: above the file
    app = create_app(project)
    assert make_wsgi_app(app).max_body_bytes == 4096
    assert app.pym_settings.limits.max_body_bytes == 4096  # the same key on Lambda
    monkeypatch.setenv("PYM_LIMITS_MAX_BODY_BYTES", "8192")  # the key's own: above the alias
    assert make_wsgi_app(create_app(project)).max_body_bytes == 8192


def test_one_flag_parser_and_one_deep_merge(tmp_path: Path) -> None:
    assert [parse_flag(t, False, "X") for t in ("1", "TRUE", "yes", " on ")] == [True] * 4
    assert [parse_flag(t, True, "X") for t in ("0", "false", "No", "off")] == [False] * 4
    assert parse_flag(None, True, "X") is True and parse_flag(" ", False, "X") is False
    with pytest.raises(ConfigValueError, match="PYM_X='maybe'") as caught:
        parse_flag("maybe", False, "PYM_X")
    assert isinstance(caught.value, ConfigError) and isinstance(caught.value, ValueError)
    assert load_settings(tmp_path, environ={"PYM_CORS_ENABLED": "yes"}).cors.enabled is True
    with pytest.raises(ConfigError, match="PYM_CORS_ENABLED"):
        load_settings(tmp_path, environ={"PYM_CORS_ENABLED": "maybe"})
    assert deep_merge({"a": {"x": 1, "y": 2}, "b": 1}, {"a": {"y": 3}, "b": {"z": 4}}) == {
        "a": {"x": 1, "y": 3}, "b": {"z": 4}}
    leaf = deep_merge({"s": {"env": "A"}}, {"s": {"ssm": "/p"}},
                      is_leaf=lambda v: "env" in v or "ssm" in v)
    assert leaf == {"s": {"ssm": "/p"}}
    # No other module defines its own.
    sources = {p: p.read_text() for p in PACKAGE.rglob("*.py")}
    merges = [p for p, text in sources.items() if re.search(r"def _?deep_merge|def _merge\(",
                                                             text)]
    assert merges == [PACKAGE / "config" / "environment.py"]
    truth_sets = [p for p, text in sources.items() if re.search(r"\"yes\", \"on\"", text)]
    assert truth_sets == [PACKAGE / "config" / "environment.py"]


def test_runtime_plumbing_is_read_typed_in_one_place() -> None:
    env = runtime_environment({"PYM_APP_NAME": "shop", "PYM_STAGE": "prod",
                               "PYM_TASK_QUEUE_URL_EMAILS": "https://q", "PYM_ENV": "",
                               "PYM_TRUSTED_PROXY_HOPS": "2"})
    assert (env.app_name, env.stage, env.env_name, env.app_module) == ("shop", "prod", None,
                                                                       "app")
    assert env.trusted_proxy_hops == 2
    assert queue_overrides({"PYM_TASK_QUEUE_URL_EMAILS": "https://q"}).queue_urls == {
        "EMAILS": "https://q"}
    # one pass over the environment sorts each per-queue variable into its own mapping
    overrides = queue_overrides({
        "PYM_TASK_QUEUE_URL_EMAILS": "https://q", "PYM_TASK_QUEUE_NAME_EMAILS": "mail-q",
        "PYM_TASK_DLQ_URL_EMAILS": "https://dlq", "PYM_TASK_QUEUE_URL_IDLE": "",
        "PYM_TASK_QUEUE_NAME_REPORTS": "rep", "PYM_TASK_OTHER_X": "no", "TASK_DLQ_URL_X": "no"})
    assert overrides.queue_urls == {"EMAILS": "https://q"}  # an empty value sets nothing
    assert overrides.queue_names == {"EMAILS": "mail-q", "REPORTS": "rep"}
    assert overrides.dlq_urls == {"EMAILS": "https://dlq"}
    with pytest.raises(ValueError, match="PYM_TRUSTED_PROXY_HOPS"):
        runtime_environment({"PYM_TRUSTED_PROXY_HOPS": "-1"})


def test_no_module_outside_config_reads_a_pym_variable() -> None:
    # The build side sets PYM_* variables for the functions it deploys and reads its own
    # (PYM_STATE_BUCKET...); everything else asks pym_lambda.config.
    reads = re.compile(r"""(environ(\.get)?[\[(]|getenv\()\s*["']PYM_""")
    offenders = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                 if reads.search(p.read_text())
                 and p.relative_to(PACKAGE).parts[0] not in ("config", "build")]
    assert offenders == []


def test_every_key_is_documented_and_aliases_name_keys() -> None:
    dotted = set()
    for key, entry in schema_of(Settings).items():
        if isinstance(entry, type):
            dotted |= {f"{key}.{child}" for child in schema_of(entry)}
        else:
            dotted.add(key)
    assert dotted == set(KEY_DOCS)
    assert {".".join(path) for path in ALIASES.values()} <= dotted


def test_generated_reference_in_the_docs_is_up_to_date() -> None:
    from pym_lambda.build import config_reference

    document = config_reference.DOC.read_text(encoding="utf-8")
    assert document == config_reference.replaced(document, config_reference.generate()), (
        "docs/configuration.md is out of date: run "
        "python -m pym_lambda.build.config_reference --write")
    for variable in ("PYM_TASKS_BACKOFF_BASE_SECONDS", "PYM_TASK_BACKOFF_SECONDS",
                     "PYM_MAX_BODY_BYTES", "PYM_APP_NAME", "PYM_TASK_QUEUE_URL_<QUEUE>"):
        assert f"`{variable}`" in document
