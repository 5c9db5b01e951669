"""Every schema check of an app, compiled to plain Python once (pym_lambda.fastcheck).

The checks are derived from the compiled specs in one fixed order, so the build step can
generate them ahead of time: `chalicelib/pym_validators.bin` holds the generated module as a
marshalled code object (a Lambda cannot write .pyc files, and compiling the source at a cold
start would cost tens of ms), keyed by the Python magic number and the specs' fingerprint.
Without it (or when it is stale) they are compiled in process. A schema fastcheck does not
mirror keeps openapi-schema-validator, the reference (imported only then).
"""
from __future__ import annotations

import hashlib
import marshal
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple

from .responses import pick_content
from .validation import REQUEST, RESPONSE, SchemaValidator

Check = Callable[[Any], Optional[str]]
Entry = Tuple[Any, Dict[str, Any], str, str, str]  # schema, definitions, dialect, context, prefix
PREBUILT_FILE = "pym_validators.bin"


def accepts_everything(schema: Any) -> bool:
    return schema is None or schema == {} or schema is True


def param_key(api: str, op: Dict[str, Any], param: Dict[str, Any]) -> str:
    return f"{api}|{op['method']} {op['path']}|param|{param['in']}|{param['name']}"


def body_key(api: str, op: Dict[str, Any], content_type: str) -> str:
    return f"{api}|{op['method']} {op['path']}|body|{content_type}"


def response_key(api: str, op: Dict[str, Any], status: str) -> str:
    return f"{api}|{op['method']} {op['path']}|response|{status}"


def collect_entries(apis: Iterable[Dict[str, Any]]) -> Dict[str, Entry]:
    """Every check the operations of these APIs need, by key, in a fixed order."""
    entries: Dict[str, Entry] = {}
    for api in apis:
        for key, schema, context, prefix in _api_checks(api):
            if not accepts_everything(schema):
                entries[key] = (schema, api["definitions"], api["schema_dialect"], context,
                                prefix)
    return entries


def _api_checks(api: Dict[str, Any]) -> Iterator[Tuple[str, Any, str, str]]:
    name = api["name"]
    for op in api["operations"]:
        for p in op["params"]:
            yield (param_key(name, op, p), p["schema"], REQUEST,
                   f"{p['in']} parameter '{p['name']}'")
        for ct, schema in ((op.get("body") or {}).get("content") or {}).items():
            yield body_key(name, op, ct), schema, REQUEST, "body"
        for status, resp in op["responses"].items():
            yield response_key(name, op, status), pick_content(resp["content"])[1], RESPONSE, ""


def function_key(key: str) -> str:
    # Generated function names come from these: the same at build time and at run time
    # whatever else the app serves, and free of the punctuation of paths and media types.
    return "k" + hashlib.sha1(key.encode()).hexdigest()[:20]


def _indexed(entries: Dict[str, Entry]) -> Dict[str, Entry]:
    return {function_key(key): entry for key, entry in entries.items()}


def _header(fingerprint: str) -> bytes:
    from importlib.util import MAGIC_NUMBER

    return MAGIC_NUMBER + b"|" + fingerprint.encode() + b"\n"


def write_prebuilt(target: Path, apis: List[Dict[str, Any]], fingerprint: str) -> None:
    """Generate and marshal the checks of these APIs (build time)."""
    from ..fastcheck import generate_module

    source = generate_module(_indexed(collect_entries(apis)), skip_unsupported=True)
    code = compile(source, "<pym_validators>", "exec")
    target.write_bytes(_header(fingerprint) + marshal.dumps(code))


def load_prebuilt(path: Path, fingerprint: Optional[str]) -> Optional[Dict[str, Any]]:
    if not fingerprint or not path.is_file():
        return None
    data = path.read_bytes()
    header = _header(fingerprint)
    if not data.startswith(header):
        return None  # another Python, or other specs: compile in process instead
    namespace: Dict[str, Any] = {"__name__": "pym_validators"}
    exec(marshal.loads(data[len(header):]), namespace)
    return namespace


def build_checks(entries: Dict[str, Entry], prebuilt: Optional[Dict[str, Any]] = None
                 ) -> Dict[str, Check]:
    """A check per entry: prebuilt, else compiled now, else the reference validator."""
    checks: Dict[str, Check] = {}
    missing: Dict[str, Tuple[str, Entry]] = {}
    for key, entry in entries.items():
        index = function_key(key)
        found = prebuilt.get("check_" + index) if prebuilt else None
        if found is not None:
            checks[key] = found
        else:
            missing[index] = (key, entry)
    if missing:
        from ..fastcheck import compile_checkers  # the generator: only when something is missing

        compiled, _refused = compile_checkers({i: e for i, (_, e) in missing.items()})
        for index, (key, entry) in missing.items():
            checks[key] = compiled.get(index) or SchemaValidator(
                entry[0], entry[1], entry[2], entry[3], entry[4]).check
    return checks
