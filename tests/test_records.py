"""The runtime's value records are NamedTuples: no dataclasses at a cold start, defaults that
cannot be shared-and-mutated, secrets kept out of the reprs."""
from __future__ import annotations

import subprocess
import sys

import pytest

from pym_lambda.auth.tokens import Caller
from pym_lambda.config.keys import JwtSettings, Settings
from pym_lambda.tasks.task_settings import TaskSettings


def test_the_runtime_modules_that_had_dataclasses_do_not_import_dataclasses() -> None:
    code = ("import sys, pym_lambda.runtime.app, pym_lambda.tasks.sender, pym_lambda.tasks.poller,"
            " pym_lambda.route_matching, pym_lambda.docs.page, pym_lambda.docs.assets;"
            " print('dataclasses' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_mapping_defaults_cannot_be_mutated() -> None:
    with pytest.raises(TypeError):
        Settings().extra["key"] = "value"  # type: ignore[index]
    with pytest.raises(TypeError):
        TaskSettings().queue_urls["Q"] = "url"  # type: ignore[index]


def test_replace_keeps_the_hidden_fields_out_of_the_repr() -> None:
    jwt = JwtSettings(secret="s3cr3t")._replace(issuer="me")
    assert "s3cr3t" not in repr(jwt) and "issuer='me'" in repr(jwt)
    assert "tok3n" not in repr(Caller(user_id="u", claims={}, token="tok3n"))
