"""The runtime's value records are NamedTuples: no dataclasses at a cold start, defaults that
cannot be shared-and-mutated, secrets kept out of the reprs."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Tuple

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


def test_a_record_behaves_as_the_namedtuple_of_its_fields() -> None:
    """Records are built without collections.namedtuple (no eval per class at a cold start):
    construction, errors, methods, pickling and introspection stay namedtuple's."""
    import collections
    import inspect
    import pickle

    from pym_lambda.records import Record

    class Point(Record):
        x: int
        y: int = 0
        tags: Tuple[str, ...] = ()

    twin = collections.namedtuple("twin", "x y tags", defaults=(0, ()))  # type: ignore[misc]
    for make in (lambda c: c(1), lambda c: c(1, 2, ("a",)), lambda c: c(x=1, tags=("b",)),
                 lambda c: c._make([3, 4, ()]), lambda c: c(1)._replace(y=5)):
        mine, theirs = make(Point), make(twin)
        assert tuple(mine) == tuple(theirs) and mine._asdict() == theirs._asdict()
        assert repr(mine) == repr(theirs).replace("twin(", "Point(")
        assert hash(mine) == hash(theirs) and mine == theirs
    settings = JwtSettings(issuer="me", audience=("a",))  # a module-level record pickles
    assert pickle.loads(pickle.dumps(settings)) == settings
    assert Point(1, 2).y == 2 and Point.__match_args__ == ("x", "y", "tags")
    assert str(inspect.signature(Point)) == str(inspect.signature(twin))
    for call in (lambda c: c(), lambda c: c(1, 2, 3, 4), lambda c: c(1, z=2),
                 lambda c: c._make([1]), lambda c: c(1)._replace(z=1)):
        with pytest.raises(Exception) as mine_error:
            call(Point)
        with pytest.raises(Exception) as their_error:
            call(twin)
        assert type(mine_error.value) is type(their_error.value)
        assert str(mine_error.value) == str(their_error.value).replace("twin.", "Point.")


def test_records_of_every_arity_and_beyond_the_written_constructors() -> None:
    from pym_lambda import record_new
    from pym_lambda.records import _RecordMeta

    for arity in (0, 1, 2, 17, record_new.MAX_FIELDS, record_new.MAX_FIELDS + 3):
        names = [f"f{i}" for i in range(arity)]
        cls = _RecordMeta("Wide", (), {"__module__": __name__,
                                        "__annotations__": dict.fromkeys(names, "int")})
        values = list(range(arity))
        assert tuple(cls(*values)) == tuple(values)
        assert tuple(cls(**dict(zip(names, values, strict=True)))) == tuple(values)
        if arity:
            with pytest.raises(TypeError):
                cls(*values[1:])


def record_new_text() -> str:
    """What pym_lambda/record_new.py should hold: one constructor per arity up to 32."""
    def constructor(n: int) -> str:
        params = "".join(f", a{i}: Any" for i in range(n))
        items = ", ".join(f"a{i}" for i in range(n)) + ("," if n == 1 else "")
        return f"def new{n}(_cls: Any{params}) -> Any:\n    return _tuple_new(_cls, ({items}))\n"
    path = Path(__file__).resolve().parent.parent / "pym_lambda" / "record_new.py"
    head = path.read_text().split("def new0", 1)[0]
    return (head + "\n\n".join(constructor(n) for n in range(33))
            + "\n\nBY_ARITY = (" + ", ".join(f"new{n}" for n in range(33)) + ")\n")


def test_the_written_constructors_are_what_they_should_be() -> None:
    from pym_lambda import record_new

    path = Path(record_new.__file__)
    assert path.read_text() == record_new_text(), (
        "regenerate: python tests/test_records.py")
    assert len(record_new.BY_ARITY) == record_new.MAX_FIELDS + 1


if __name__ == "__main__":  # rewrites pym_lambda/record_new.py
    target = Path(__file__).resolve().parent.parent / "pym_lambda" / "record_new.py"
    target.write_text(record_new_text())
