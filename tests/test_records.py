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


def test_a_record_is_a_named_tuple_whose_annotations_stay_as_written() -> None:
    from pym_lambda.config.keys import DocsSettings

    docs = DocsSettings(path="/api-doc")
    assert isinstance(docs, tuple) and docs._fields == ("enabled", "path", "ui")
    assert docs == (True, "/api-doc", "redoc") and docs._replace(ui="swagger-ui").ui == "swagger-ui"
    assert DocsSettings._field_defaults == {"enabled": True, "path": "/doc", "ui": "redoc"}
    assert DocsSettings.__annotations__ == {"enabled": "bool", "path": "str", "ui": "str"}
    assert DocsSettings.__doc__ and DocsSettings.__module__ == "pym_lambda.config.keys"
    assert "s3cr3t" not in repr(JwtSettings(secret="s3cr3t"))  # its own __repr__ is kept
    with pytest.raises(AttributeError):
        docs.path = "/other"  # type: ignore[misc]


def test_a_record_refuses_what_a_named_tuple_refuses() -> None:
    from pym_lambda.records import Record

    with pytest.raises(TypeError, match="b without a default"):
        class Bad(Record):  # noqa: F841 - the class statement is what fails
            a: int = 1
            b: int
    with pytest.raises(AttributeError, match="_replace"):
        class Worse(Record):  # noqa: F841
            a: int = 1

            def _replace(self) -> None:  # type: ignore[override]
                pass


def test_a_shape_is_a_dict_class_whose_hints_typing_reads() -> None:
    from typing import NotRequired, Optional, get_type_hints

    from pym_lambda.runtime.compiled_types import CompiledOperation, CompiledParameter

    assert issubclass(CompiledOperation, dict)
    assert CompiledOperation.__annotations__["route"] == "NotRequired[str]"
    hints = get_type_hints(CompiledOperation, include_extras=True)
    assert hints["route"] == NotRequired[str] and hints["bind"] == Optional[str]
    assert CompiledParameter.__name__ == "CompiledParameter"
    assert CompiledParameter.__module__ == "pym_lambda.runtime.compiled_types"
    assert get_type_hints(CompiledParameter)["in"] is str
