"""A pattern RE2 cannot run is refused when the specs are compiled, naming file, place, pattern."""
from __future__ import annotations

from pathlib import Path

import pytest

from pym_lambda.build.openapi.compiler import compile_specs
from pym_lambda.build.openapi.patterns import spec_patterns
from pym_lambda.errors import SpecErrors

SPEC = """\
openapi: 3.0.3
info: {title: Books, version: '1', description: books}
paths:
  /books/{id}:
    get:
      operationId: get_book
      parameters:
        - {name: id, in: path, required: true, schema: {type: string, pattern: '%(path)s'}}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Book'}
components:
  schemas:
    Book:
      type: object
      example: {pattern: '(?=not a regex, an example)'}
      properties:
        pattern: {type: string}
        isbn: {type: string, pattern: '%(isbn)s'}
        tags:
          type: object
          additionalProperties: false
"""


def _compile(tmp_path: Path, isbn: str = "^[0-9X-]+$", path: str = "^[0-9]+$") -> None:
    spec = tmp_path / "books.yaml"
    spec.write_text(SPEC % {"isbn": isbn, "path": path})
    compile_specs([(spec, "apis/books.yaml")])


def test_patterns_re2_runs_compile(tmp_path: Path) -> None:
    _compile(tmp_path)  # an example's "pattern" key and a property named "pattern" are no regex


def test_a_repetition_bound_above_re2s_limit_that_cannot_change_the_answer_compiles(
        tmp_path: Path) -> None:
    _compile(tmp_path, isbn="^.{1,2097152}")  # Seldon's; tests/fastcheck/test_pattern_repeats


@pytest.mark.parametrize("isbn, reason", [("^(\\d)\\1$", "invalid escape sequence"),
                                          ("^(?=97)[0-9]+$", "invalid perl operator"),
                                          ("^.{1,2000}$", "RE2 repeats at most 1000 times")])
def test_a_pattern_re2_cannot_run_is_refused_naming_spec_place_and_pattern(
        tmp_path: Path, isbn: str, reason: str) -> None:
    with pytest.raises(SpecErrors) as caught:
        _compile(tmp_path, isbn=isbn, path="(a)\\1")
    messages = [str(e) for e in caught.value.errors]
    assert len(messages) == 2, messages
    assert any(m.startswith("apis/books.yaml: #/components/schemas/Book/properties/isbn/pattern:"
                            f" pattern {isbn!r} cannot run on RE2") and reason in m
               for m in messages), messages
    assert any("#/paths/~1books~1{id}/get/parameters/0/schema/pattern: pattern '(a)\\\\1'" in m
               for m in messages), messages


def test_pattern_properties_keys_are_patterns() -> None:
    doc = {"components": {"schemas": {"A": {"patternProperties": {"^x-(?!y)": {}},
                                            "properties": {"patternProperties": {}}}}}}
    assert list(spec_patterns(doc)) == [
        ("#/components/schemas/A/patternProperties/^x-(?!y)", "^x-(?!y)")]
