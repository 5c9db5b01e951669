"""An operation whose spec does not compile (a broken $ref) still has its binding checked by
`pym-lambda validate`: one run names both problems. Run as a process on a new service."""
from __future__ import annotations

from pathlib import Path

from tests.build.test_validate_everything import new_service, run


def test_a_broken_ref_does_not_hide_the_same_operations_binding(tmp_path: Path) -> None:
    service = new_service(tmp_path)
    spec = service / "apis" / "shop.yaml"
    spec.write_text(spec.read_text()
                    .replace("schemas/GreetingRequest'", "schemas/Nope'")
                    .replace("chalicelib.shop.create_greeting", "chalicelib.shop.create_greetin"))

    result = run(service, "validate")
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [
        "error: apis/shop.yaml: POST /greetings: operation createGreeting: $ref "
        "'#/components/schemas/Nope' points to nothing",
        "error: apis/shop.yaml: POST /greetings: operation createGreeting: x-bind-server "
        "'chalicelib.shop.create_greetin' cannot be bound: module 'chalicelib.shop' has no "
        "attribute 'create_greetin'",
    ], result.stderr
    assert "2 problem(s) found" in result.stderr

    # a module that does not exist at all is named as such
    spec.write_text(spec.read_text().replace("chalicelib.shop.create_greetin",
                                             "chalicelib.nowhere.create_greeting"))
    result = run(service, "validate")
    assert "x-bind-server 'chalicelib.nowhere.create_greeting' cannot be bound: module " \
        "'chalicelib.nowhere' not found" in result.stderr, result.stderr
