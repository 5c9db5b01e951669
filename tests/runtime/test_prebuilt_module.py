"""The prebuilt checks module cut into pieces, each executed at its first use
(runtime/prebuilt_module.py): what a check needs is there, nothing else is run."""
from __future__ import annotations

from typing import Any, Dict

from pym_lambda.fastcheck import generate_module
from pym_lambda.runtime.prebuilt_module import PrebuiltModule, load_parts, split_module

ENTRIES = {
    "k0": ({"type": "string", "format": "email", "maxLength": 20}, {}, "oas31", "request", ""),
    "k1": ({"$ref": "#/definitions/Pet"}, {"Pet": {"type": "object", "required": ["name"],
            "properties": {"name": {"type": "string", "pattern": "^[a-z]+$"},
                           "kind": {"enum": ["cat", "dog"]}}}}, "oas31", "request", "body"),
    "k2": ({"type": "integer", "minimum": 1}, {}, "oas30", "request", ""),
}


def _split() -> PrebuiltModule:
    module = load_parts(memoryview(split_module(generate_module(ENTRIES))))
    assert module is not None
    return module


def test_a_check_is_found_with_what_it_needs_and_answers_as_the_whole_module():
    whole: Dict[str, Any] = {}
    exec(compile(generate_module(ENTRIES), "<whole>", "exec"), whole)
    module = _split()
    for value in ("a@b.co", "nope", {"name": "rex"}, {"name": "Rex", "kind": "cow"}, {}, 0, 5):
        for key in ENTRIES:
            assert module.get(f"check_{key}")(value) == whole[f"check_{key}"](value)


def test_nothing_but_the_base_runs_before_a_check_is_asked_for():
    module = _split()
    assert not [n for n in module.namespace if n.startswith(("check_", "_fmt_"))]
    module.get("check_k2")
    assert "check_k2" in module.namespace
    assert "check_k0" not in module.namespace and "_fmt_email" not in module.namespace
    assert module.get("check_k9") is None and module.get("check_k9", 1) == 1
