"""Model objects hold declared properties only; data never shadows a method (issue #16)."""
from __future__ import annotations

import datetime as dt

import pytest

from pym_lambda.runtime.models import Model, ModelFactory

DEFS = {
    "Book": {"type": "object", "required": ["title"], "properties": {
        "title": {"type": "string"}, "available": {"type": "boolean"},
        "to_json": {"type": "string", "format": "date"}}},
    "Tags": {"type": "object", "properties": {"name": {"type": "string"}},
             "additionalProperties": {"type": "string", "format": "date"}},
    "Free": {"type": "object"},
    "Shape": {"type": "object", "oneOf": [
        {"properties": {"radius": {"type": "number"}}},
        {"properties": {"side": {"type": "number"}}}]},
    "Holder": {"type": "object", "properties": {
        "inner": {"type": "object", "properties": {"a": {"type": "integer"}}}}},
}


@pytest.fixture(scope="module")
def classes():
    return ModelFactory("t", DEFS).classes


def test_undeclared_properties_are_dropped(classes):
    book = classes["Book"].from_json({"title": "Dune", "role": "admin", "__class__": "x",
                                      "from_json": 1, "__dict__": {}})
    assert book.title == "Dune" and vars(book) == {"title": "Dune"}
    assert book.to_json() == {"title": "Dune"}
    with pytest.raises(AttributeError):
        book.role  # noqa: B018
    with pytest.raises(KeyError):
        book["role"]  # noqa: B018
    assert type(book) is classes["Book"] and callable(book.from_json)


def test_a_declared_property_named_like_a_method_is_data_not_an_attribute(classes):
    book = classes["Book"].from_json({"title": "Dune", "to_json": "2020-01-02"})
    assert book["to_json"] == dt.date(2020, 1, 2)  # converted by its schema, as data
    assert "to_json" not in vars(book) and callable(book.to_json)
    assert book.to_json() == {"title": "Dune", "to_json": "2020-01-02"}
    made = classes["Book"](title="T", to_json="2021-01-01")
    assert made["to_json"] == "2021-01-01" and made.to_json()["to_json"] == "2021-01-01"


def test_constructor_refuses_undeclared_names(classes):
    with pytest.raises(TypeError, match="no property 'role'"):
        classes["Book"](title="T", role="admin")
    book = classes["Book"](title="T")
    book["available"] = False
    assert book.available is False
    with pytest.raises(KeyError):
        book["role"] = "admin"


def test_additional_properties_are_kept_as_data_converted_by_their_schema(classes):
    tags = classes["Tags"].from_json({"name": "n", "to_json": "2020-01-02", "x-y": "2021-02-03"})
    assert vars(tags) == {"name": "n"}
    assert tags["x-y"] == dt.date(2021, 2, 3) and tags["to_json"] == dt.date(2020, 1, 2)
    assert "x-y" in tags and "zzz" not in tags
    assert tags.to_json() == {"name": "n", "to_json": "2020-01-02", "x-y": "2021-02-03"}
    assert classes["Tags"].from_json(tags.to_json()) == tags


def test_a_free_form_object_keeps_everything_as_data(classes):
    free = classes["Free"].from_json({"a": 1, "to_json": 2, "__class__": 3})
    assert vars(free) == {} and free["a"] == 1 and free["__class__"] == 3
    assert free.to_json() == {"a": 1, "to_json": 2, "__class__": 3}


def test_one_of_branches_declare_properties(classes):
    shape = classes["Shape"].from_json({"radius": 2, "side": 3, "role": "admin"})
    assert shape.radius == 2 and shape.side == 3 and "role" not in shape


def test_inline_objects_drop_undeclared_and_protect_model_methods(classes):
    holder = classes["Holder"].from_json({"inner": {"a": 1, "to_json": 5, "b": 2}})
    assert type(holder.inner) is Model and vars(holder.inner) == {"a": 1}
    assert holder.to_json() == {"inner": {"a": 1}}
    plain = Model(a=1, to_json=2)
    assert plain["to_json"] == 2 and plain.to_json() == {"a": 1, "to_json": 2}


def test_a_model_found_by_name_is_remembered_until_the_next_register() -> None:
    from pym_lambda.runtime.models import CurrentModels, ModelRegistry
    from pym_lambda.runtime.service import Service

    first, second, other = (type("Pet", (Model,), {}), type("Pet", (Model,), {}),
                            type("Owner", (Model,), {}))
    registry = ModelRegistry()
    registry.register("a", {"Pet": first, "Owner": other})
    assert registry.find("Pet") is first and registry.Pet is first  # the second from memory
    registry.register("a", {"Pet": second})  # the same API again: its new classes
    assert registry.find("Pet") is second
    with pytest.raises(LookupError, match="Owner"):
        registry.find("Owner")
    registry.register("b", {"Pet": first})  # now two APIs define it: ambiguous again
    with pytest.raises(LookupError, match="several apis"):
        registry.find("Pet")
    assert registry.find("Pet", api="b") is first
    registry.clear()
    with pytest.raises(LookupError):
        registry.find("Pet")
    service = Service()  # `pym_lambda.models`: the current service's registry answers
    token = service.set_as_default()
    try:
        current = CurrentModels()
        current.register("a", {"Pet": first})
        assert current.Pet is first and current.find("Pet") is first
        current._by_api = {"a": {"Pet": second}}
        assert current.Pet is second and current.a.Pet is second
        current.register("Pet", {"Owner": other})  # an API named as another API's model
        assert current.find("Pet") is second  # the model, found and remembered
        assert current.Pet.Owner is other  # the API's models, memory or not
        with pytest.raises(AttributeError):
            current.Nothing  # noqa: B018
    finally:
        from pym_lambda.runtime.service import deactivate

        deactivate(token)


def test_the_constructor_puts_each_property_where_it_belongs() -> None:
    book_cls = ModelFactory("api", DEFS).classes["Book"]
    plain = book_cls(title="Dune", available=True)  # declared names only: attributes
    assert vars(plain) == {"title": "Dune", "available": True} and plain["title"] == "Dune"
    reserved = book_cls(title="Dune", to_json="2020-01-01")  # a method's name: item access only
    assert vars(reserved) == {"title": "Dune"} and reserved["to_json"] == "2020-01-01"
    assert reserved.to_json() == {"title": "Dune", "to_json": "2020-01-01"}
    with pytest.raises(TypeError, match="no property 'color'"):
        book_cls(title="Dune", color="red")
    assert vars(Model(anything=1)) == {"anything": 1}  # the base class takes any name
