"""The compiled form of schemas (build/openapi/schemas.py): refs into named schemas, nested
definitions and discriminator mappings rewritten to '#/definitions/...'; a ref leading nowhere
is a load error naming the file and the pointer (issue #17)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import pytest
import yaml

from pym_lambda.build.openapi.compiler import compile_specs
from pym_lambda.build.openapi.loader import RawSpec
from pym_lambda.build.openapi.schemas import RefError, SchemaNormalizer
from pym_lambda.errors import SpecErrors


def normalizer(dialect: str, schemas: Dict[str, Any], **extra: Any) -> SchemaNormalizer:
    if dialect == "swagger2":
        doc: Dict[str, Any] = {"swagger": "2.0", "definitions": schemas, **extra}
    else:
        doc = {"openapi": "3.1.0" if dialect == "oas31" else "3.0.3",
               "components": {"schemas": schemas}, **extra}
    return SchemaNormalizer(RawSpec("s", "apis/s.yaml", dialect, doc))


@pytest.mark.parametrize("dialect,prefix", [("oas30", "#/components/schemas/"),
                                            ("swagger2", "#/definitions/")])
def test_refs_into_nested_definitions_are_kept_and_their_targets_compiled(dialect, prefix):
    norm = normalizer(dialect, {
        "Outer": {"type": "object", "definitions": {
            "A": {"$ref": prefix + "Outer/definitions/B"},
            "B": {"type": "integer", "x-nullable": True}}}})
    defs = norm.definitions()
    assert defs["Outer"]["definitions"]["A"] == {"$ref": "#/definitions/Outer/definitions/B"}
    if dialect == "swagger2":  # normalised like any schema
        assert defs["Outer"]["definitions"]["B"] == {"type": "integer", "nullable": True}
    assert norm.normalize({"$ref": prefix + "Outer/definitions/A"}) == \
        {"$ref": "#/definitions/Outer/definitions/A"}


def test_a_ref_through_a_place_the_compiled_form_changes_is_inlined():
    norm = normalizer("oas30", {"A": {"properties": {"p": {"$ref": "#/components/x"}},
                                      "x-extra": {"type": "string"}}})
    norm.spec.doc["components"]["x"] = {"type": "integer"}
    assert norm.normalize({"$ref": "#/components/schemas/A/x-extra"}) == {"type": "string"}
    assert norm.normalize({"$ref": "#/components/schemas/A/properties/p"}) == \
        {"$ref": "#/definitions/A/properties/p"}  # inlined in place: the same pointer leads there


@pytest.mark.parametrize("target", ["#/components/schemas/Cat", "#/definitions/Cat", "Cat"])
def test_discriminator_mappings_are_rewritten(target):
    norm = normalizer("oas30", {"Cat": {"type": "object"}})
    if target == "#/definitions/Cat":  # not a pointer of this 3.0 document
        with pytest.raises(RefError, match="points to nothing"):
            norm.normalize({"discriminator": {"propertyName": "k", "mapping": {"c": target}}})
        return
    out = norm.normalize({"oneOf": [{"$ref": "#/components/schemas/Cat"}],
                          "discriminator": {"propertyName": "k", "mapping": {"c": target}}})
    assert out["discriminator"]["mapping"] == {"c": "#/definitions/Cat" if "/" in target
                                               else "Cat"}
    assert out["oneOf"] == [{"$ref": "#/definitions/Cat"}]


def spec_text(schema: Any) -> str:
    return yaml.safe_dump({
        "openapi": "3.0.3", "info": {"title": "t", "version": "1"},
        "paths": {"/x": {"post": {
            "requestBody": {"content": {"application/json": {"schema": schema}}},
            "responses": {"200": {"description": "ok"}}}}},
        "components": {"schemas": {"Cat": {"type": "object"}}}})


@pytest.mark.parametrize("schema,pointer", [
    ({"$ref": "#/components/schemas/Cat/definitions/Nope"},
     "#/components/schemas/Cat/definitions/Nope"),
    ({"oneOf": [{"$ref": "#/components/schemas/Cat"}],
      "discriminator": {"propertyName": "k", "mapping": {"d": "#/components/schemas/Dog"}}},
     "#/components/schemas/Dog"),
    ({"oneOf": [{"$ref": "#/components/schemas/Cat"}],
      "discriminator": {"propertyName": "k", "mapping": {"d": "Dog"}}}, "'Dog'"),
])
def test_a_ref_leading_nowhere_is_a_load_error_naming_file_and_pointer(tmp_path: Path, schema,
                                                                       pointer):
    path = tmp_path / "cats.yaml"
    path.write_text(spec_text(schema))
    with pytest.raises(SpecErrors) as caught:
        compile_specs([(path, "apis/cats.yaml")])
    message = str(caught.value)
    assert "apis/cats.yaml" in message and pointer in message, message
