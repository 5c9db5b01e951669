"""A generated module carries, of formats.py, only the checks its schemas use (and what those
call): a cold start unmarshals no format check it cannot run (issue #18)."""
from __future__ import annotations

from typing import Any, Dict

import pytest

from pym_lambda.fastcheck import generate_module
from pym_lambda.fastcheck.generator import only_used


def _module(schema: Any, dialect: str = "oas31") -> Dict[str, Any]:
    source = generate_module({"k": (schema, {}, dialect, "request", "")})
    namespace: Dict[str, Any] = {"__source__": source}
    exec(compile(source, "<generated>", "exec"), namespace)
    return namespace


def test_a_module_without_formats_carries_no_format_check():
    namespace = _module({"type": "object", "properties": {"n": {"type": "integer"}}})
    assert not [name for name in namespace if name.startswith(("_fmt_", "_f_"))]
    assert namespace["check_k"]({"n": 1}) is None and namespace["check_k"]({"n": "x"})


@pytest.mark.parametrize("fmt,good,bad", [
    ("email", "a@example.com", "nope"),
    ("idn-hostname", "bücher.example", "-bad-.x"),
    ("ipv6", "::1", "1::2::3"),
    ("uri", "https://example.com/a?b#c", "not a uri"),
])
def test_a_used_format_check_comes_with_what_it_calls(fmt, good, bad):
    namespace = _module({"type": "string", "format": fmt})
    assert namespace["check_k"](good) is None
    assert namespace["check_k"](bad) is not None
    helper = "_fmt_" + fmt.replace("-", "_")
    assert helper in namespace
    others = [n for n in namespace if n.startswith("_fmt_") and n != helper]
    assert others == []  # no other format's check


def test_only_used_keeps_order_imports_and_the_closure():
    code = ("import os\n\nA = 1\n\n\ndef f():\n    return g() + A\n\n\ndef g():\n    return 2\n\n\n"
            "def unused():\n    return os.sep\n")
    kept = only_used(code, "x = f()")
    assert kept.index("import os") < kept.index("A = 1") < kept.index("def f") < kept.index(
        "def g")
    assert "def unused" not in kept
    namespace: Dict[str, Any] = {}
    exec(kept, namespace)
    assert namespace["f"]() == 3
