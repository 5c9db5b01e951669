"""Request bodies: content type negotiated, parsed (JSON or form), validated, turned into models."""
from __future__ import annotations

import json
import math
import re
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import parse_qsl

from ..context import request_header
from ..errors import InvalidParameterError, PayloadTooLargeError, UnsupportedMediaTypeError
from ..quoting import clamp, quote
from .compiled_types import CompiledBody, CompiledParameter, Schema
from .jsontypes import schema_types
from .media_types import is_json, media_type
from .params import CoercionError, coerce_scalar

if TYPE_CHECKING:
    from .schema_validator import Explainer

Check = Optional[Callable[[Any], Optional[str]]]
DEFAULT_MAX_BODY_BYTES = 1024 * 1024  # API Gateway allows 10 MB; most APIs want far less
DEFAULT_MAX_JSON_DEPTH = 64
DEFAULT_MAX_FORM_FIELDS = 1000  # limits.max_form_fields


def _matches(mt: str, declared: str) -> bool:
    if declared in ("*/*", mt):
        return True
    major, _, minor = declared.partition("/")
    return minor == "*" and mt.split("/", 1)[0] == major


# RFC 9110 8.3.1: `type/subtype *( ; name=value )`, the value a token or a quoted string
_PARAMETER = re.compile(r';\s*([^\s;=]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')
_UTF8 = ("utf-8", "utf8")


def media_parameters(header: str) -> Dict[str, str]:
    """A media type's parameters: names case-insensitive, so lower-cased; a quoted value
    unquoted; charset's value lower-cased too (RFC 9110 8.3.2: it is case-insensitive)."""
    params: Dict[str, str] = {}
    for name, value in _PARAMETER.findall(header):
        name = name.lower()
        value = value.strip()
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params[name] = value.lower() if name == "charset" else value
    return params


class MediaRange:
    """A content type an operation declares, as RFC 9110 matches it: type and subtype
    case-insensitive, wildcards (`text/*`, `*/*`), and each parameter it names
    (`application/xml; charset=utf-8`) in the request too, but for a charset of UTF-8: a
    request naming none is read as UTF-8 anyway."""

    __slots__ = ("key", "type", "params", "rank")

    def __init__(self, key: str) -> None:
        self.key = key  # as the spec writes it: the body's entry
        self.type = media_type(key)
        self.params = media_parameters(key)
        wildcard = 2 if self.type == "*/*" else 1 if self.type.endswith("/*") else 0
        self.rank = (-wildcard, len(self.params))  # the most specific wins (OpenAPI 3)

    def accepts(self, mt: str, params: Dict[str, str]) -> bool:
        if not _matches(mt, self.type):
            return False
        for name, value in self.params.items():
            got = params.get(name)
            if got != value and not (got is None and name == "charset" and value in _UTF8):
                return False
        return True


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (math.inf, -math.inf):
        raise ValueError(f"number {text[:20]}... is out of range")
    return value


def _unique_keys(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"duplicate key {quote(key)}")
            seen.add(key)
    return result


# Built once: json.loads() with options builds a new decoder at every call.
_strict_decoder = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float,
                                   object_pairs_hook=_unique_keys)


def parse_json(text: str) -> Any:
    """Strict JSON: no NaN/Infinity, no number overflowing to infinity, no duplicate keys (which
    parsers disagree on: a classic way to smuggle a second value past a validator)."""
    return _strict_decoder.decode(text)


def json_depth_ok(value: Any, limit: int, text: Optional[str] = None) -> bool:
    """Whether no value of the document is nested deeper than limit (the top level is 1)."""
    if text is not None and text.count("{") + text.count("[") < limit:
        return True  # fewer brackets than the limit: no walk needed (the common case)
    stack: List[Tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return True


def raw_body(request: Any) -> bytes:
    """The request's body bytes; a 400 when the event's body cannot be decoded (Chalice raises
    ValueError for `isBase64Encoded` with a body that is not base64, UnicodeEncodeError for a
    text body holding a lone surrogate)."""
    try:
        return request.raw_body or b""
    except ValueError:  # binascii.Error and UnicodeError are ValueErrors
        if (request.to_original_event() or {}).get("isBase64Encoded"):
            raise InvalidParameterError("body is not valid base64") from None
        raise InvalidParameterError("body is not valid UTF-8") from None


class BodyReader:
    """Reads the body of one operation: one entry per declared content type."""

    def __init__(self, body: CompiledBody, checks: Dict[str, Check],
                 converts: Dict[str, Callable[[Any], Any]], deref: Callable[[Any], Any],
                 max_bytes: int = DEFAULT_MAX_BODY_BYTES,
                 max_depth: int = DEFAULT_MAX_JSON_DEPTH,
                 max_fields: int = DEFAULT_MAX_FORM_FIELDS,
                 explainers: Optional[Dict[str, Optional[Explainer]]] = None,
                 loaders: Optional[Dict[str, Optional[Callable[[Any, Any], Any]]]] = None,
                 classes: Any = None) -> None:
        self.required: bool = body["required"]
        self.content: Dict[str, Schema] = body["content"]
        self.declared = list(self.content)
        # A body read as text (XML...) under a schema that allows no string (an XML document's
        # `type: object`): the schema describes a document the framework does not parse, so
        # checked against the text it would refuse every request. The text is handed over.
        self.text_as_is = {ct for ct, schema in self.content.items()
                           if "string" not in (schema_types(deref(schema)) or ["string"])}
        self.ranges = [MediaRange(key) for key in self.declared]
        self.bare = {r.type: r.key for r in self.ranges if not r.params}  # one dict look-up
        self.checks = checks
        self.explainers = explainers or {}  # every problem, when a check fails
        self.converts = converts
        # A generated loader per content type (fastcheck/loader.py): the model objects built
        # while checking, or a tuple (anything it does not vouch for: the two passes answer)
        self.loaders = {ct: f for ct, f in (loaders or {}).items() if f is not None}
        self.classes = classes  # the API's name -> model class, the loaders' M
        self.form_fields: List[CompiledParameter] = body.get("form_fields") or []
        self.deref = deref
        self.max_bytes = max_bytes
        self.max_depth = max_depth
        self.max_fields = max_fields

    def _declared_for(self, mt: str, header: str) -> Optional[str]:
        """The declared content type a request's is read as: the most specific one accepting
        it, spec order between equals."""
        if ";" not in header and mt in self.bare:
            return self.bare[mt]  # the common case: `application/json` declared and sent
        params = media_parameters(header)
        best: Optional[MediaRange] = None
        for declared in self.ranges:
            if declared.accepts(mt, params) and (best is None or declared.rank > best.rank):
                best = declared
        return best.key if best is not None else None

    def read(self, request: Any) -> Any:
        raw = raw_body(request)
        if not raw:
            if self.required:
                raise InvalidParameterError("body is required")
            return None
        if len(raw) > self.max_bytes:
            raise PayloadTooLargeError(f"body is larger than {self.max_bytes} bytes")
        header = request_header(request, "content-type") or ""
        mt = media_type(header) or "application/json"
        declared = self._declared_for(mt, header)
        if declared is None:
            raise UnsupportedMediaTypeError(
                f"content type {quote(mt)} is not accepted; send one of: "
                f"{', '.join(self.declared)}")
        if mt == "multipart/form-data":
            value: Any = self.parse_multipart(raw, request.headers.get("content-type", ""),
                                              self.content[declared])
        else:
            value = self.parse(raw, mt, self.content[declared])
            if declared in self.text_as_is and isinstance(value, str) and not is_json(mt):
                return value
        load = self.loaders.get(declared)
        if load is not None:
            try:
                loaded = load(value, self.classes)
            except RecursionError:  # the check then reports it (a deep body's nested refs)
                loaded = ()
            if loaded.__class__ is not tuple:
                return loaded
        check = self.checks.get(declared)
        if check is not None:
            problem = check(value)
            if problem:
                explain = self.explainers.get(declared)
                listed = explain.listed(value, problem) if explain else None
                raise InvalidParameterError(problem, problems=listed)
        return self.converts[declared](value)

    def parse(self, raw: bytes, mt: str, schema: Any) -> Any:
        try:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError:
            raise InvalidParameterError("body is not valid UTF-8") from None
        if is_json(mt):
            try:
                value = parse_json(text)
            except RecursionError:
                raise self._too_deep() from None
            except ValueError as exc:
                raise InvalidParameterError(f"body is not valid JSON: {clamp(str(exc))}") \
                    from None
            if not json_depth_ok(value, self.max_depth, text):
                raise self._too_deep()
            return value
        if mt == "application/x-www-form-urlencoded":
            return self.parse_form(text, schema)
        return text

    def parse_form(self, text: str, schema: Any) -> Dict[str, Any]:
        try:  # parse_qsl counts the fields before it splits them
            pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=self.max_fields)
        except ValueError:
            raise self._too_many_fields() from None
        return self.form_fields_to_values(pairs, schema)

    def _too_deep(self) -> InvalidParameterError:
        return InvalidParameterError(
            f"body: JSON nested deeper than limits.max_json_depth ({self.max_depth}) levels")

    def _too_many_fields(self) -> InvalidParameterError:
        return InvalidParameterError(
            f"body: more than limits.max_form_fields ({self.max_fields}) form fields")

    def parse_multipart(self, raw: bytes, content_type: str, schema: Any) -> Dict[str, Any]:
        """multipart/form-data: text fields coerced like form fields; file parts (a filename,
        or a `format: binary` property) kept as bytes."""
        from email.parser import BytesParser
        from email.policy import HTTP

        if "boundary=" not in content_type:
            raise InvalidParameterError("body: multipart/form-data without a boundary")
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n" + raw)
        if not message.is_multipart():
            raise InvalidParameterError("body is not valid multipart/form-data")
        props = (self.deref(schema) or {}).get("properties") or {}
        fields = []
        files: Dict[str, Any] = {}
        parts = message.get_payload()
        if isinstance(parts, list) and len(parts) > self.max_fields:
            raise self._too_many_fields()
        for part in message.iter_parts():
            param = part.get_param("name", header="content-disposition")
            if not isinstance(param, str) or not param:
                continue
            name = param
            payload = part.get_payload(decode=True)
            if not isinstance(payload, bytes):
                payload = b""
            prop = self.deref(props.get(name)) or {}
            if part.get_filename() or prop.get("format") == "binary":
                files[name] = payload
                continue
            try:
                fields.append((name, payload.decode(part.get_content_charset() or "utf-8")))
            except (UnicodeDecodeError, LookupError):
                raise InvalidParameterError(
                    f"body field {quote(name)} is not valid text") from None
        values = self.form_fields_to_values(fields, schema)
        values.update(files)
        return values

    def form_fields_to_values(self, pairs: Any, schema: Any) -> Dict[str, Any]:
        props = (self.deref(schema) or {}).get("properties") or {}
        out: Dict[str, Any] = {}
        for name, value in pairs:
            prop = self.deref(props.get(name)) or {}
            types = schema_types(prop)
            try:
                if "array" in types:
                    item_types = schema_types(self.deref(prop.get("items")))
                    out.setdefault(name, []).append(coerce_scalar(value, item_types))
                else:
                    out[name] = coerce_scalar(value, types)
            except CoercionError as exc:
                raise InvalidParameterError(f"body field {quote(name)}: {exc}") from None
        return out
