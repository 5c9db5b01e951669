"""What a bound function returns -> a validated, serialised chalice Response.

A function may return a model object, a dict or list, None, `(status, body)` or
`(status, body, headers)`, or a chalice Response (passed through untouched).
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional, Tuple

from chalice.app import Response

from ..errors import BadResponseError
from .media_types import is_json
from .models import to_jsonable

if TYPE_CHECKING:
    from .schema_validator import Explainer

Check = Optional[Callable[[Any], Optional[str]]]
JSON_HEADERS = {"Content-Type": "application/json"}
NO_BODY_STATUSES = (204, 304)


# ASCII-only output: a lone surrogate sent in a request (valid JSON escape, invalid UTF-8) can
# be echoed back without breaking the response's encoding. Built once: json.dumps() with
# options builds a new encoder at every call.
dumps = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode


def _tree_dumps() -> Callable[[Any], str]:
    """dumps() for what to_jsonable() returns, a tree of fresh containers (no cycle can be
    there): the C encoder built once, without the cycle markers, where JSONEncoder.encode
    builds one at every call (~1.5 us of a small response)."""
    from json import encoder

    make = getattr(encoder, "c_make_encoder", None)  # not in typeshed: read, not imported
    if make is None:  # an interpreter without the C accelerator
        return dumps

    def default(value: Any) -> Any:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

    chunks = make(None, default, encoder.encode_basestring_ascii, None, ":", ",", False, False,
                  False)
    return lambda data: "".join(chunks(data, 0))


dumps_tree = _tree_dumps()


class ResponseSpec:
    __slots__ = ("content_type", "check", "has_schema", "json", "explain", "dump")

    def __init__(self, content_type: str, check: Check, has_schema: bool,
                 explain: Optional[Explainer] = None,
                 dump: Optional[Callable[[Any], Any]] = None) -> None:
        self.content_type = content_type
        self.check = check
        self.has_schema = has_schema
        self.json = is_json(content_type)
        self.explain = explain  # every problem of a refused response, for the log
        # The schema's generated dumper (fastcheck/dumper.py): the JSON-ready data, checked,
        # in one walk; a tuple when it refuses anything (the two passes then say what)
        self.dump = dump if check is not None else None


class ResponseWriter:
    def __init__(self, operation_id: str, specs: Dict[str, ResponseSpec]) -> None:
        self.operation_id = operation_id
        self.specs = specs
        success = sorted(int(s) for s in specs if s.isdigit() and 200 <= int(s) < 300)
        self.default_status = success[0] if success else 200
        # status -> its spec, resolved once per status (HTTP's 100-599 only: bounded)
        self._resolved: Dict[int, Optional[ResponseSpec]] = {}

    def spec_for(self, status: int) -> Optional[ResponseSpec]:
        key = str(status)
        if key in self.specs:
            return self.specs[key]
        return self.specs.get(f"{key[0]}XX") or self.specs.get(f"{key[0]}xx") or \
            self.specs.get("default")

    def _spec(self, status: int) -> Optional[ResponseSpec]:
        try:
            return self._resolved[status]
        except KeyError:
            spec = self.spec_for(status)
            if type(status) is int and 100 <= status <= 599:
                self._resolved[status] = spec
            return spec

    def build(self, result: Any) -> Response:
        if isinstance(result, Response):
            return result
        status, body, headers = self.default_status, result, None
        if isinstance(result, tuple) and 2 <= len(result) <= 3 and isinstance(result[0], int):
            status, body = result[0], result[1]
            headers = result[2] if len(result) == 3 else None
        spec = self._spec(status)
        if spec is None:
            raise BadResponseError(f"operation {self.operation_id} returned status {status}, "
                                   f"which its spec does not declare")
        out_headers = dict(headers) if headers else {}
        if status in NO_BODY_STATUSES:
            return Response(body="", status_code=status, headers=out_headers)
        if not spec.json:
            out_headers.setdefault("Content-Type", spec.content_type)
            if body is not None and not isinstance(body, (str, bytes)):
                raise BadResponseError(f"operation {self.operation_id} must return text for "
                                       f"{spec.content_type}, not {type(body).__name__}")
            return Response(body=body if body is not None else "", status_code=status,
                            headers=out_headers)
        if spec.dump is not None:
            try:
                data = spec.dump(body)
            except Exception:  # noqa: BLE001  # the two passes below raise it, as they did
                data = ()
            if data.__class__ is not tuple:  # valid: what to_jsonable() would have made
                out_headers.setdefault("Content-Type", spec.content_type)
                return Response(body=self._text(data), status_code=status,
                                headers=out_headers)
        try:
            data = to_jsonable(body)
        except TypeError as exc:
            raise BadResponseError(f"operation {self.operation_id} returned {exc}") from None
        if spec.check is not None:
            problem = spec.check(data)
            if problem:
                listed = spec.explain.listed(data, problem) if spec.explain else None
                raise BadResponseError(f"operation {self.operation_id}, status {status}: "
                                       f"response {problem}", problems=listed)
        out_headers.setdefault("Content-Type", spec.content_type)
        text = "" if data is None and not spec.has_schema else self._text(data)
        return Response(body=text, status_code=status, headers=out_headers)

    def _text(self, data: Any) -> str:
        try:
            return dumps_tree(data)
        except ValueError as exc:  # NaN or infinity
            raise BadResponseError(f"operation {self.operation_id} returned {exc}") from None


def pick_content(content: Dict[str, Any]) -> Tuple[str, Any]:
    """The content type a response is written in: JSON when declared, else the first one."""
    for ct, schema in content.items():
        if is_json(ct.lower()) or ct == "*/*":
            return "application/json" if ct == "*/*" else ct, schema
    if content:
        ct, schema = next(iter(content.items()))
        return ct, schema
    return "application/json", None

