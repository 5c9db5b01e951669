"""The schemas of the compiled form, stored apart and decoded one by one when first used.

The schemas are most of a big spec's compiled form (GitHub's: 3.3 of 3.6 MB), and a cold start
needs none of them: the readers, checks, models and error explanations that use them are made
at an operation's first call (BoundOperation.prepare). So the build writes them to
`chalicelib/pym_schemas.json`, a JSON array, and the compiled form records where each lies in
it ([start, end], byte offsets):

- each API's named schemas: `definitions` is left out, `stored_definitions` has `slices` (name
  -> place) and `extended` (the names with `x-parent`/`x-persist`, imported at start-up);
- each served operation's schemas: its `responses`, its body's `content` and its parameters'
  `schema` are left out, and `stored` gives the place of the record holding them.

The runtime (project_files.read_compiled, and the build's cache) calls `restore()`: each
API's `definitions` becomes a `StoredDefinitions` mapping, which reads the file at the first
lookup and decodes a schema at its first lookup, returning the same object afterwards
(fastcheck's generator compares schemas by identity); `restore_operation(op)` puts an
operation's schemas back, once, before anything reads them.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping  # typing's cost more as a base
from typing import Any, Dict, List, Optional

SCHEMAS_FILE = "pym_schemas.json"  # under chalicelib/, beside pym_compiled.json
STORED_KEY = "stored_definitions"  # in each API of the compiled form, as written
OPERATION_KEY = "stored"  # in each served operation, as written


class _File:
    """The file's bytes, read once (shared by every API and operation stored in it)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._data: Optional[memoryview] = None

    def decode(self, place: List[int]) -> Any:
        if self._data is None:
            from .prebuilt_module import mapped

            self._data = mapped(self.path)  # only the pages decoded are read
            if self._data is None:
                raise FileNotFoundError(self.path)
        return json.loads(bytes(self._data[place[0]:place[1]]))


class StoredDefinitions(Mapping[str, Any]):
    """An API's named schemas, each decoded from the file at its first lookup."""

    def __init__(self, file: _File, slices: Dict[str, List[int]], extended: List[str]) -> None:
        self._file = file
        self._slices = slices
        self._decoded: Dict[str, Any] = {}
        self.extended = extended  # names whose schema has x-parent or x-persist

    def __getitem__(self, name: str) -> Any:
        try:
            return self._decoded[name]
        except KeyError:
            pass
        place = self._slices[name]  # KeyError: no such schema
        schema = self._decoded[name] = self._file.decode(place)
        return schema

    def __contains__(self, name: object) -> bool:
        return name in self._slices

    def __iter__(self) -> Iterator[str]:
        return iter(self._slices)

    def __len__(self) -> int:
        return len(self._slices)

    def decoded(self) -> List[str]:
        """The names decoded so far (tests, diagnostics)."""
        return list(self._decoded)


class _StoredRecord:
    """Where an operation's schemas lie (in memory only: the file and the place)."""

    __slots__ = ("file", "place")

    def __init__(self, file: _File, place: List[int]) -> None:
        self.file = file
        self.place = place


def restore(document: Dict[str, Any], chalicelib: str) -> None:
    """Make what the build stored apart reachable: StoredDefinitions in each API's
    `definitions`, and each operation's record ready for restore_operation()."""
    file: Optional[_File] = None
    for api in document.get("apis") or []:
        stored = api.pop(STORED_KEY, None)
        if stored is not None:
            file = file or _File(os.path.join(chalicelib, SCHEMAS_FILE))
            api["definitions"] = StoredDefinitions(file, stored["slices"], stored["extended"])
        for op in api.get("operations") or []:
            place = op.get(OPERATION_KEY)
            if isinstance(place, list):
                file = file or _File(os.path.join(chalicelib, SCHEMAS_FILE))
                op[OPERATION_KEY] = _StoredRecord(file, place)


def restore_operation(op: Any) -> Any:
    """The operation with its schemas back (decoded at the first call; no-op afterwards)."""
    stored = op.get(OPERATION_KEY)
    if isinstance(stored, _StoredRecord):
        record = stored.file.decode(stored.place)
        op["responses"] = record["responses"]
        for param, schema in zip(op["params"], record["params"], strict=True):
            param["schema"] = schema
        if op.get("body") is not None:
            op["body"]["content"] = record["content"]
        op.pop(OPERATION_KEY, None)  # last: another thread restoring it meanwhile is harmless
    return op


def extended_names(definitions: Mapping[str, Any]) -> List[str]:
    """The names whose schema may carry x-parent or x-persist (all, unless stored apart)."""
    if isinstance(definitions, StoredDefinitions):
        return definitions.extended
    return list(definitions)
