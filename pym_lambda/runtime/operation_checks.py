"""Every schema check the operations of an app need, by key, compiled to plain Python once
(pym_lambda.fastcheck).

The checks are derived from the compiled specs in one fixed order, so the build can generate
them ahead of time (pym_lambda.build.compiled_form.write_prebuilt):
`chalicelib/pym_validators.bin` holds the generated module as a marshalled code object (a
Lambda cannot write .pyc files, and compiling the source at a cold start would cost tens of
ms), keyed by the Python magic number and the specs' fingerprint. Without it (or when it is
stale) they are compiled in process. A schema fastcheck does not cover is checked by
pym_lambda.schema_engine (schema_validator.EngineCheck), built at its first call; one the
prebuilt module refused is not compiled again at a cold start.
"""
from __future__ import annotations

import os
import threading
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    Iterator,
    Optional,
    Tuple,
    Union,
)

from .compiled_types import CompiledApi, CompiledOperation, CompiledParameter, Schema
from .stored_schemas import restore_operation

Check = Callable[[Any], Optional[str]]
# What a generated module defines beside an entry's check_<id>: a response's dumper, a body's
# loader (fastcheck/dumper.py, fastcheck/loader.py)
GENERATED = ("dump_", "load_")
# A response's JSON-ready data, checked; a tuple when it is refused (fastcheck/dumper.py)
Dump = Callable[[Any], Any]
# schema, definitions, dialect, context, prefix
Entry = Tuple[Any, Dict[str, Schema], str, str, str]
PREBUILT_FILE = "pym_validators.bin"
# What generated code may call: bump it when fastcheck's pasted helpers change their names, so
# that a file built by an older pym-lambda is compiled afresh, not run (2: quote, _all_unique;
# 3: the module cut into pieces executed at first use, runtime/prebuilt_module.py).
CHECKERS_FORMAT = b"3"


def accepts_everything(schema: Any) -> bool:
    return schema is None or schema == {} or schema is True


# Keyed by the spec's own path key, unique in its spec: `path` is not (`/wms/` and `/wms//` are
# both /wms, TomTom's two operations), and one operation's checks then served the other.
def param_key(api: str, op: CompiledOperation, param: CompiledParameter) -> str:
    return f"{api}|{op['method']} {op['spec_path']}|param|{param['in']}|{param['name']}"


def body_key(api: str, op: CompiledOperation, content_type: str) -> str:
    return f"{api}|{op['method']} {op['spec_path']}|body|{content_type}"


def response_key(api: str, op: CompiledOperation, status: str) -> str:
    return f"{api}|{op['method']} {op['spec_path']}|response|{status}"


def collect_entries(apis: Iterable[CompiledApi]) -> Dict[str, Entry]:
    """Every check the operations of these APIs need, by key, in a fixed order."""
    entries: Dict[str, Entry] = {}
    for api in apis:
        for key, schema, context, prefix in _api_checks(api):
            if not accepts_everything(schema):
                entries[key] = (schema, api["definitions"], api["schema_dialect"], context,
                                prefix)
    return entries


def _api_checks(api: CompiledApi) -> Iterator[Tuple[str, Any, str, str]]:
    # Here, not at import: a cold start (which loads no check) then skips these modules.
    from .responses import pick_content
    from .schema_validator import REQUEST, RESPONSE

    name = api["name"]
    for op in map(restore_operation, api["operations"]):
        for p in op["params"]:
            yield (param_key(name, op, p), p["schema"], REQUEST,
                   f"{p['in']} parameter '{p['name']}'")
        body = op.get("body")
        for ct, schema in ((body.get("content") or {}) if body else {}).items():
            yield body_key(name, op, ct), schema, REQUEST, "body"
        for status, resp in op["responses"].items():
            yield response_key(name, op, status), pick_content(resp["content"])[1], RESPONSE, ""


def prebuilt_header(fingerprint: str) -> bytes:
    """What starts pym_validators.bin: this Python's magic number and the specs' fingerprint."""
    # The public constant (importlib.util costs ~1 ms more at a Lambda cold start, measured).
    from importlib.util import MAGIC_NUMBER

    return MAGIC_NUMBER + b"|" + CHECKERS_FORMAT + b"|" + fingerprint.encode() + b"\n"


def load_prebuilt(path: Union[str, os.PathLike[str]], fingerprint: Optional[str]
                  ) -> Optional[Dict[str, Any]]:
    if not fingerprint:
        return None
    from .prebuilt_module import load_parts, mapped

    data = mapped(path)  # the pages a first call reads, not the 4+ MB of a big spec's checks
    if data is None:
        return None
    header = prebuilt_header(fingerprint)
    if bytes(data[:len(header)]) != header:
        return None  # another Python, or other specs: compile in process instead
    return load_parts(data[len(header):])  # type: ignore[return-value]  # get() like a dict


def build_checks(entries: Dict[str, Entry], prebuilt: Optional[Dict[str, Any]] = None,
                 dumpers: Optional[Dict[str, Dump]] = None) -> Dict[str, Check]:
    """A check per entry: prebuilt, else compiled now, else SchemaEngine. The response dumpers
    and body loaders compiled now (fastcheck/dumper.py, loader.py) go into `dumpers`, by
    "dump_<key>" and "load_<key>"."""
    from .schema_validator import EngineCheck  # at the first check looked up, not at import

    checks: Dict[str, Check] = {}
    missing: Dict[str, Tuple[str, Entry]] = {}
    index: Dict[str, str] = (prebuilt or {}).get("INDEX") or {}
    refused = (prebuilt or {}).get("UNSUPPORTED") or {}
    for key, entry in entries.items():
        found = prebuilt.get(f"check_{index[key]}") if key in index and prebuilt else None
        if found is not None:
            checks[key] = found
        elif key in index and index[key] in refused:  # refused by the prebuilt module: no
            # generator at a cold start
            checks[key] = EngineCheck(*entry)
        else:
            missing[f"m{len(missing)}"] = (key, entry)
    if missing:
        from ..fastcheck import compile_checkers  # the generator: only when something is missing

        compiled, _refused = compile_checkers({i: e for i, (_, e) in missing.items()})
        for ident, (key, entry) in missing.items():
            checks[key] = compiled.get(ident) or EngineCheck(*entry)
            namespace = getattr(compiled.get(ident), "__globals__", None)  # the module's
            for kind in GENERATED:
                made = _with_helpers(namespace.get(kind + ident) if namespace else None)
                if made is not None and dumpers is not None:
                    dumpers[kind + key] = made
    return checks


def _with_helpers(dump: Any) -> Optional[Dump]:
    """A generated module's `dump_<id>` or `load_<id>` (None: the schema is not covered, the
    two-pass path serves it), with what they take from the runtime (models.DUMP_HELPERS) put
    in its module: the generated module imports nothing."""
    namespace = getattr(dump, "__globals__", None)
    if namespace is None:
        return None
    if "_to_jsonable" not in namespace:
        from .models import DUMP_HELPERS

        namespace.update(DUMP_HELPERS)
    return dump  # type: ignore[no-any-return]


class LazyChecks:
    """The app's checks by key, found at the first lookup of each (an operation looks its checks
    up at its first call): a cold start loads none. With a prebuilt module, a check is its
    function, found by the module's INDEX. Only without one, or for a key it refused or does
    not index (callers ask only for schemas that check something), are the entries of every
    operation collected and compiled: never a schema left unchecked."""

    def __init__(self, apis: Iterable[CompiledApi],
                 load_prebuilt: Callable[[], Optional[Dict[str, Any]]]) -> None:
        self._apis = list(apis)
        self._load_prebuilt = load_prebuilt
        self._prebuilt: Optional[Dict[str, Any]] = None
        self._checks: Optional[Dict[str, Check]] = None
        self._dumpers: Dict[str, Dump] = {}  # compiled in process (no prebuilt module)
        self._complete = False  # every entry's check is in _checks
        self._lock = threading.Lock()

    def loaded(self) -> bool:
        return self._checks is not None

    def get(self, key: str, default: Optional[Check] = None) -> Optional[Check]:
        checks = self._checks
        if checks is not None and key in checks:
            return checks[key]  # found before
        with self._lock:  # first lookups, maybe in several threads: one loads, one builds
            return self._find(key, default)

    def _find(self, key: str, default: Optional[Check]) -> Optional[Check]:
        checks = self._checks
        if checks is None:
            self._prebuilt = self._load_prebuilt()
            checks = self._checks = {}
            if self._prebuilt is None:
                self._build_all()
                checks = self._checks
        if key in checks or self._complete:
            return checks.get(key, default)
        assert self._prebuilt is not None
        index = self._prebuilt.get("INDEX") or {}
        if key not in index:  # never for a schema of these specs (the fingerprint matched):
            self._build_all()  # compiled here rather than let a value through unchecked
            return self._checks.get(key, default) if self._checks else default
        found = self._prebuilt.get(f"check_{index[key]}")
        if found is None:  # refused by the generator: the engine's, from the entry
            self._build_all()
            return self._checks.get(key, default) if self._checks else default
        checks[key] = found
        return found  # type: ignore[no-any-return]

    def dumper(self, key: str) -> Optional[Dump]:
        """The response entry's dumper (convert and check in one walk), None without one.
        Looked up once per operation, at its first call, after its check."""
        dump: Optional[Dump] = self._generated("dump_", key)
        return dump

    def loader(self, key: str) -> Optional[Callable[[Any, Any], Any]]:
        """The body entry's loader (check and build models in one walk), None without one."""
        load: Optional[Callable[[Any, Any], Any]] = self._generated("load_", key)
        return load

    def _generated(self, kind: str, key: str) -> Any:
        check = self.get(key)
        with self._lock:
            if kind + key in self._dumpers:
                return self._dumpers[kind + key]
            prebuilt = self._prebuilt
            index = (prebuilt.get("INDEX") or {}) if prebuilt is not None else {}
            if prebuilt is None or key not in index or check is None:
                return None
            return _with_helpers(prebuilt.get(kind + index[key]))

    def _build_all(self) -> None:
        self._checks = build_checks(collect_entries(self._apis), self._prebuilt, self._dumpers)
        self._complete = True
