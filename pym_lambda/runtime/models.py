"""Model objects: request bodies become instances with attribute access, results go back to JSON.

Every named schema of a spec (`definitions`, `components/schemas`) gets a class, subclass of
`Model`. Converters are built once per schema: a request body is validated as JSON first, then
converted (nested objects to their model class, lists, `date-time` to datetime, `date` to date).
"""
from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping  # a base below: typing's costs ~10 us more per class
from typing import Any, Callable, Dict, FrozenSet, Iterator, List, Optional, Type

from .. import errors
from .jsontypes import is_nullable
from .service import Service, current_service

Converter = Callable[[Any], Any]


def _identity(value: Any) -> Any:
    return value


class Model:
    """Base of every model class. Attributes are the object's declared properties.

    A property declared in the schema but not set reads as None; an undeclared name raises
    AttributeError, so typos show up. Client data never becomes an attribute of its own
    accord: undeclared properties are dropped (or, where the schema allows them with
    `additionalProperties`/`patternProperties`, kept as data reachable by item access,
    `obj["key"]`), and a declared property whose name is a class attribute (`to_json`,
    a method of an x-parent...) is kept the same way, so data never shadows a method.
    """

    # The extra properties live in a slot, not in __dict__: vars(obj) stays the attributes.
    __slots__ = ("__dict__", "__weakref__", "__pym_extra__")

    __pym_model_name__: str = ""
    __pym_api__: str = ""
    __pym_properties__: FrozenSet[str] = frozenset()
    __pym_nullable__: FrozenSet[str] = frozenset()
    __pym_converter__: Optional[Converter] = None
    # Declared names that cannot be attributes (class attributes): item access only.
    __pym_reserved__: FrozenSet[str] = frozenset()
    # Whether the schema allows undeclared properties (kept by item access).
    __pym_open__: bool = False

    def __init__(self, **properties: Any) -> None:
        self.__pym_extra__ = None
        cls = type(self)
        if (cls.__pym_properties__.issuperset(properties) and cls is not Model
                and not cls.__pym_reserved__.intersection(properties)):
            self.__dict__.update(properties)  # declared attributes only: what _put does each
            return
        for key, value in properties.items():
            _put(self, key, value, TypeError)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup failed: unset declared properties read as None.
        if name in type(self).__pym_properties__:
            return None
        raise AttributeError(f"{type(self).__name__} has no property {name!r}")

    def __getitem__(self, key: str) -> Any:
        """Any property, declared or extra, by name: `obj["to_json"]`, `obj["x-extra"]`."""
        if key in self.__dict__:
            return self.__dict__[key]
        extra = _extra(self)
        if extra and key in extra:
            return extra[key]
        if key in type(self).__pym_properties__:
            return None
        raise KeyError(key)

    def __setitem__(self, key: str, value: Any) -> None:
        _put(self, key, value, KeyError)

    def __contains__(self, key: str) -> bool:
        """Whether the property is set (declared or extra)."""
        extra = _extra(self)
        return key in self.__dict__ or bool(extra and key in extra)

    def to_json(self) -> Dict[str, Any]:
        """A JSON-ready dict; None values are left out unless the property is nullable."""
        nullable = type(self).__pym_nullable__
        out: Dict[str, Any] = {}
        # The common cases inline (this runs for every object served): plain values, lists
        # of plain values or models, nested models, datetimes; to_jsonable() for the rest.
        for k, v in self.__dict__.items():
            kind = type(v)
            if kind in _PLAIN:
                if v is not None or k in nullable:
                    out[k] = v
            elif kind is list:
                out[k] = [x if type(x) in _PLAIN else
                          type(x).to_json(x) if isinstance(x, Model) else to_jsonable(x)
                          for x in v]
            elif isinstance(v, Model):
                out[k] = type(v).to_json(v)
            elif kind is dt.datetime:
                out[k] = _format_datetime(v)
            else:
                out[k] = to_jsonable(v)
        try:
            extra = _EXTRA_SLOT.__get__(self, None)  # inline: this runs for every object served
        except AttributeError:
            extra = None
        if extra:
            for k, v in extra.items():
                if v is not None or k in nullable:
                    out[k] = to_jsonable(v)
        return out

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> Model:
        """Build an instance (nested models and datetimes included) from JSON-ready data."""
        converter = cls.__pym_converter__
        if converter is None:
            return cls(**data)
        result = converter(data)
        return result if isinstance(result, cls) else cls(**data)

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, Model):
            return NotImplemented
        return type(self) is type(other) and type(self).to_json(self) == type(other).to_json(other)

    __hash__ = None  # type: ignore[assignment]  # mutable, like a dict

    def __repr__(self) -> str:
        items = list(self.__dict__.items()) + list((_extra(self) or {}).items())
        fields = ", ".join(f"{k}={v!r}" for k, v in items)
        return f"{type(self).__name__}({fields})"


_EXTRA_SLOT = Model.__dict__["__pym_extra__"]  # the slot's descriptor: read without __getattr__


def _extra(obj: Model, create: bool = False) -> Any:
    """The object's extra properties (None when it has none, unless create)."""
    try:
        extra = _EXTRA_SLOT.__get__(obj, None)  # set (to None) by __init__ and the converters
    except AttributeError:  # made another way (cls.__new__, copy): raising costs ~1 us
        extra = None
    if extra is None and create:
        extra = {}
        _EXTRA_SLOT.__set__(obj, extra)
    return extra


def _put(obj: Model, key: str, value: Any, error: type) -> None:
    """Set one property where it belongs: an attribute if declared and not reserved, the
    extra mapping if reserved or allowed as additional, else `error` (TypeError, KeyError)."""
    cls = type(obj)
    if key in cls.__pym_reserved__ or (cls is Model and _reserved(Model, key)):
        _extra(obj, create=True)[key] = value
    elif key in cls.__pym_properties__ or cls is Model:
        obj.__dict__[key] = value
    elif cls.__pym_open__:
        _extra(obj, create=True)[key] = value
    else:
        raise error(f"{cls.__name__} has no property {key!r}")


def _reserved(cls: type, name: str) -> bool:
    """Whether data must not set name as an attribute: a dunder, or an attribute of the class
    (methods, x-persist functions, an x-parent's attributes, Model's internals)."""
    return name.startswith("__") or hasattr(cls, name)


def reserved_names(cls: type, names: Any) -> FrozenSet[str]:
    return frozenset(n for n in names if _reserved(cls, n))


def _format_datetime(value: dt.datetime) -> str:
    text = value.isoformat()
    # RFC 3339 needs an offset; a naive datetime is taken as UTC.
    return text + "Z" if value.tzinfo is None else text


_PLAIN = frozenset((str, int, float, bool, type(None)))  # exactly these types: JSON as they are


def to_jsonable(value: Any) -> Any:
    """Models, datetimes, dates, tuples -> plain JSON data; anything else unknown -> TypeError."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is list or kind is tuple:
        return [v if type(v) in _PLAIN else to_jsonable(v) for v in value]
    if isinstance(value, Model):
        # Through the class: a property named "to_json" in the data must not hide the method.
        return type(value).to_json(value)
    if isinstance(value, (str, bool, int, float)):
        return value  # subclasses: enums of str or int, ...
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        return _format_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    to_json = getattr(value, "to_json", None)
    if callable(to_json):
        return to_jsonable(to_json())
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class _NullableByClass(dict[type, "Optional[FrozenSet[str]]"]):
    """Model class -> the names its to_json keeps when None, for the response dumpers
    (fastcheck/dumper.py), which copy such an object's attributes as to_json would; None for
    any other class (a to_json of its own, not a model): the dumper then calls to_jsonable.
    Filled at the first value of each class (bounded by the classes a service returns)."""

    def __missing__(self, cls: type) -> Optional[FrozenSet[str]]:
        plain = isinstance(cls, type) and issubclass(cls, Model) and \
            getattr(cls, "to_json", None) is Model.to_json
        found = self[cls] = cls.__pym_nullable__ if plain else None  # type: ignore[attr-defined]
        return found




def _parse_datetime(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    text = value.upper()
    if text[16:19] == ":60":  # a leap second (RFC 3339): datetime has none, it becomes :59
        text = text[:17] + "59" + text[19:]
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise errors.InvalidParameterError(f"{value!r} is not a valid date-time") from None


def _parse_date(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise errors.InvalidParameterError(f"{value!r} is not a valid date") from None


def _parsed_or_none(parse: Converter) -> Converter:
    """For body loaders (fastcheck/loader.py): the parsed value, None when the converter
    would refuse it (the two passes then word the error)."""
    def parsed(value: Any) -> Any:
        try:
            return parse(value)
        except errors.InvalidParameterError:
            return None
    return parsed


# RFC 3339 date-times as clients send them: upper-case T and Z, hours 00-23, minutes and
# seconds 00-59 (a leap second's 60 is left to the check), offsets within a day.
_COMMON_DATE_TIME = (r"[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
                     r"(?:\.[0-9]+)?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])")
_date_time_shape: List[Any] = []  # compiled at the first body read that needs it


def _common_date_time(text: str) -> Any:
    """For body loaders: a date-time text of the common shape (above), parsed as the
    converter parses it; None for any other text, or a day that does not exist. Such a
    text's check passes exactly when fromisoformat() reads it (it checks the days of each
    month, year 0 aside), so the loader need not run the format's check on it."""
    if not _date_time_shape:
        import re

        _date_time_shape.append(re.compile(_COMMON_DATE_TIME).fullmatch)
    if _date_time_shape[0](text) is None:
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


# What generated response dumpers and body loaders take from the runtime
# (runtime/operation_checks.py puts these in the generated module).
DUMP_HELPERS: Dict[str, Any] = {"_to_jsonable": to_jsonable, "_DATETIME": dt.datetime,
                                "_MODEL_NULLABLE": _NullableByClass(),
                                "_LOAD_DT": _parsed_or_none(_parse_datetime),
                                "_LOAD_DATE": _parsed_or_none(_parse_date),
                                "_LOAD_DT_COMMON": _common_date_time,
                                "_SET_EXTRA": _EXTRA_SLOT.__set__}


class ModelFactory:
    """Builds the model classes and converters of one API from its compiled definitions."""

    def __init__(self, api: str, definitions: Dict[str, Any],
                 parents: Optional[Dict[str, type]] = None,
                 persist: Optional[Dict[str, Any]] = None) -> None:
        self.api = api
        self.definitions = definitions
        self.parents = parents or {}
        self.persist = persist or {}
        # Each class (and its converter) is made when first looked up: a cold start of a spec
        # of thousands of schemas makes none (models.<Name> and the first call make them).
        self.classes: Mapping[str, Type[Model]] = LazyClasses(self)
        self._converters: Dict[str, Converter] = {}
        # name -> class, for the generated body loaders (fastcheck/loader.py)
        self.loader_classes: Dict[str, Optional[Type[Model]]] = _LoaderClasses(self.classes)
        # Held while classes and converters are made (at first calls, maybe in several threads:
        # a converter's placeholder must never be called while it is being built).
        self.lock = threading.RLock()

    def _make_class(self, name: str) -> Type[Model]:
        schema = self.definitions[name]
        props = self._properties(schema)
        nullable = frozenset(k for k, s in props.items() if is_nullable(self._deref(s)))
        bases = (self.parents[name], Model) if name in self.parents else (Model,)
        namespace: Dict[str, Any] = {
            "__pym_model_name__": name, "__pym_api__": self.api,
            "__pym_properties__": frozenset(props), "__pym_nullable__": nullable,
            "__module__": "pym_lambda.models",
        }
        namespace.update(_persistence_methods(self.persist.get(name)))
        cls: Type[Model] = type(_class_name(name), bases, namespace)
        cls.__pym_reserved__ = reserved_names(cls, props)
        cls.__pym_open__ = self._is_open(schema, props)
        return cls

    def _is_open(self, schema: Any, props: Dict[str, Any], depth: int = 0) -> bool:
        """Whether the object schema allows undeclared properties: `additionalProperties`
        other than false, `patternProperties`, or no declared property at all (a free-form
        object). Those are kept as data, by item access; by default they are dropped."""
        if depth == 0 and not props:
            return True
        schema = self._deref(schema)
        if not isinstance(schema, dict) or depth > 16:
            return False
        if schema.get("additionalProperties", False) is not False or "patternProperties" in schema:
            return True
        return any(self._is_open(part, props, depth + 1) for part in schema.get("allOf") or [])

    def _deref(self, schema: Any) -> Any:
        seen = 0
        while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and seen < 32:
            schema = self.definitions.get(schema["$ref"][len("#/definitions/"):], {})
            seen += 1
        return schema

    def _properties(self, schema: Any, depth: int = 0) -> Dict[str, Any]:
        schema = self._deref(schema)
        if not isinstance(schema, dict) or depth > 16:
            return {}
        props: Dict[str, Any] = {}
        for part in schema.get("allOf") or []:
            props.update(self._properties(part, depth + 1))
        props.update(schema.get("properties") or {})
        # The branches of oneOf/anyOf declare properties too (the first schema seen wins).
        for key in ("oneOf", "anyOf"):
            for part in schema.get(key) or []:
                for name, prop in self._properties(part, depth + 1).items():
                    props.setdefault(name, prop)
        return props

    def converter(self, schema: Any) -> Converter:
        """JSON value -> Python value for this schema (identity where nothing changes)."""
        if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            name = schema["$ref"][len("#/definitions/"):]
            if name not in self.classes:
                return _identity
            if name not in self._converters:
                # Placeholder first: a recursive schema refers to itself while being built.
                self._converters[name] = lambda v: self._converters[name](v)
                cls = self.classes[name]
                self._converters[name] = self._object_converter(self.definitions[name], cls)
                cls.__pym_converter__ = self._converters[name]
            return self._converters[name]
        if not isinstance(schema, dict):
            return _identity
        types = schema.get("type")
        fmt = schema.get("format")
        if types == "array" or (types is None and "items" in schema):
            item = self.converter(schema.get("items") or {})
            if item is _identity:
                return _identity
            return lambda v: [item(x) for x in v] if isinstance(v, list) else v
        if types == "object" or "properties" in schema or "allOf" in schema:
            return self._object_converter(schema, Model)
        if fmt == "date-time":
            return _parse_datetime
        if fmt == "date":
            return _parse_date
        return _identity

    def _object_converter(self, schema: Any, cls: Type[Model]) -> Converter:
        props = self._properties(schema)
        reserved = reserved_names(cls, props)
        attributes = frozenset(props) - reserved
        attribute_order = tuple(k for k in props if k not in reserved)
        is_open = self._is_open(schema, props)
        extra_schema = self._deref(schema)
        extra_schema = (extra_schema.get("additionalProperties")
                        if isinstance(extra_schema, dict) else None)
        convert_extra = (self.converter(extra_schema) if isinstance(extra_schema, dict)
                         else _identity)
        per_prop = {k: c for k, c in ((k, self.converter(s)) for k, s in props.items())
                    if c is not _identity}

        set_extra = _EXTRA_SLOT.__set__

        def convert(value: Any) -> Any:
            if not isinstance(value, dict):
                return value
            obj = cls.__new__(cls)
            set_extra(obj, None)  # set, so that reading it never raises (to_json reads it)
            attrs = obj.__dict__
            if attributes.issuperset(value):
                attrs.update(value)  # the common case: declared properties only
            elif not is_open and not reserved.intersection(value):
                # Undeclared ones dropped: a walk over the declared names (in the schema's
                # order), not over the client's keys, however many they sent.
                attrs.update({k: value[k] for k in attribute_order if k in value})
            else:
                extra: Dict[str, Any] = {}
                for key, item in value.items():
                    if key in attributes:
                        attrs[key] = item
                    elif key in reserved:
                        extra[key] = item
                    elif is_open:
                        extra[key] = convert_extra(item)
                    # else dropped: the schema does not declare it (refused under strict)
                if extra:
                    set_extra(obj, extra)
                    for key in reserved.intersection(extra):
                        if key in per_prop:
                            extra[key] = per_prop[key](extra[key])
            for key, conv in per_prop.items():
                if key in attrs:
                    attrs[key] = conv(attrs[key])
            return obj
        return convert


class _LoaderClasses(dict[str, "Optional[Type[Model]]"]):
    """Schema name -> its model class, as a generated body loader builds it (a plain dict
    look-up per object once known); None for a class with reserved names (its converter
    keeps those as extra data, which a loader does not mirror): the two passes then serve."""

    def __init__(self, classes: Mapping[str, Type[Model]]) -> None:
        super().__init__()
        self._classes = classes

    def __missing__(self, name: str) -> Optional[Type[Model]]:
        cls: Optional[Type[Model]] = self._classes[name]
        if cls is not None and cls.__pym_reserved__:
            cls = None
        self[name] = cls
        return cls


class LazyClasses(Mapping[str, "Type[Model]"]):
    """The model classes of one API by name, each made (with its converter) on first lookup."""

    def __init__(self, factory: ModelFactory) -> None:
        self._factory = factory
        self._made: Dict[str, Type[Model]] = {}

    def __getitem__(self, name: str) -> Type[Model]:
        cls = self._made.get(name)
        if cls is None:
            # One class per name, whichever thread asks first (a threaded WSGI server);
            # reentrant, as making a class's converter looks up the classes it refers to.
            with self._factory.lock:
                cls = self._made.get(name)
                if cls is None:
                    if name not in self._factory.definitions:
                        raise KeyError(name)
                    cls = self._made[name] = self._factory._make_class(name)
                    # sets __pym_converter__
                    self._factory.converter({"$ref": "#/definitions/" + name})
        return cls

    def __contains__(self, name: object) -> bool:
        return name in self._factory.definitions

    def __iter__(self) -> Iterator[str]:
        return iter(self._factory.definitions)

    def __len__(self) -> int:
        return len(self._factory.definitions)

    def made(self) -> List[str]:
        """The names whose class exists already (tests, diagnostics)."""
        return list(self._made)


def _persistence_methods(persist: Any) -> Dict[str, Any]:
    """x-persist: `obj.save_to_db()` calls `Persist.save_to_db(obj)`; `Model.load_from_db(...)`
    calls `Persist.load_from_db(...)`, as PyMacaron attached them."""
    if persist is None:
        return {}
    methods: Dict[str, Any] = {}
    save = getattr(persist, "save_to_db", None)
    if save is not None:
        methods["save_to_db"] = lambda self, *a, **kw: save(self, *a, **kw)
    load = getattr(persist, "load_from_db", None)
    if load is not None:
        methods["load_from_db"] = staticmethod(lambda *a, **kw: load(*a, **kw))
    return methods


def _class_name(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name)
    return cleaned if cleaned and not cleaned[0].isdigit() else "M_" + cleaned


class ModelRegistry:
    """`pym_lambda.models.Pet`: the model classes of every loaded API.

    A name defined by two APIs is reachable as `models.<api>.<Name>` (or find_model(name, api)).
    """

    def __init__(self) -> None:
        self._by_api: Dict[str, Mapping[str, type]] = {}
        # name -> the one class of that name, as find() answered it: `models.Book` in a
        # handler is then one dict lookup, not a walk over every API (until the next register)
        self._found: Dict[str, type] = {}

    def register(self, api: str, classes: Mapping[str, type]) -> None:
        # A LazyClasses is kept as it is: copying it would make every class now.
        self._by_api[api] = classes if isinstance(classes, LazyClasses) else dict(classes)
        self._found.clear()

    def clear(self) -> None:
        self._by_api.clear()
        self._found.clear()

    def find(self, name: str, api: Optional[str] = None) -> type:
        if api is not None:
            try:
                return self._by_api[api][name]
            except KeyError:
                raise LookupError(f"no model {name!r} in api {api!r}") from None
        cached = self._found.get(name)
        if cached is not None:
            return cached
        found: List[type] = [c[name] for c in self._by_api.values() if name in c]
        if not found:
            raise LookupError(f"no model named {name!r} in the loaded apis")
        if len(found) > 1:
            apis = [a for a, c in self._by_api.items() if name in c]
            raise LookupError(f"model {name!r} is defined by several apis {apis}: "
                              f"use find_model({name!r}, api=...)")
        self._found[name] = found[0]
        return found[0]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if name in self._by_api:
            return _ApiModels(self._by_api[name])
        try:
            return self.find(name)
        except LookupError as exc:
            raise AttributeError(str(exc)) from None


class _ApiModels:
    def __init__(self, classes: Mapping[str, type]) -> None:
        self._classes = classes

    def __getattr__(self, name: str) -> type:
        try:
            return self._classes[name]
        except KeyError:
            raise AttributeError(name) from None


class CurrentModels(ModelRegistry):
    """`pym_lambda.models`: the model classes of the current service (runtime/service.py),
    the request's or task's app; outside one, the app create_app made in this context."""

    def __init__(self) -> None:  # no state of its own
        pass

    @property
    def _by_api(self) -> Dict[str, Mapping[str, type]]:
        return service_models(current_service())._by_api

    @_by_api.setter
    def _by_api(self, value: Dict[str, Mapping[str, type]]) -> None:
        registry = service_models(current_service())
        registry._by_api = value
        registry._found.clear()

    def register(self, api: str, classes: Mapping[str, type]) -> None:
        service_models(current_service()).register(api, classes)

    def clear(self) -> None:
        service_models(current_service()).clear()

    def find(self, name: str, api: Optional[str] = None) -> type:
        return service_models(current_service()).find(name, api)

    def __getattr__(self, name: str) -> Any:
        # the current service's registry answers (its find() remembers each name). A name it
        # found already is taken from there at once: `models.Book` in a handler is then one
        # failed lookup and a dict's, not a second failed lookup and the registry's walk.
        if name.startswith("__"):
            raise AttributeError(name)
        registry = service_models(current_service())
        found = registry._found.get(name)
        if found is None or name in registry._by_api:  # an API's name: its models
            return getattr(registry, name)
        return found


def service_models(service: Service) -> ModelRegistry:
    """The service's model registry (made on first use)."""
    if service.models is None:
        service.models = ModelRegistry()
    return service.models


models = CurrentModels()


def find_model(name: str, api: Optional[str] = None) -> type:
    return models.find(name, api)
