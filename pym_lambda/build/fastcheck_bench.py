"""Micro-benchmark: generated checkers against openapi-schema-validator, per call and at import.

    python -m pym_lambda.build.fastcheck_bench [apis/library.yaml]

Build-time tool: it imports the reference validator, which the generated code never does.
"""
from __future__ import annotations

import importlib.util
import py_compile
import subprocess
import sys
import tempfile
import timeit
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

from ..fastcheck import compile_checker, generate_module

NEW_BOOK: Dict[str, Any] = {
    "title": "Dune", "authors": [{"name": "Frank Herbert", "born": 1920}],
    "tags": ["sf", "classic"], "published_at": "1965-08-01T00:00:00Z", "isbn": "978-0441013593"}
BOOK: Dict[str, Any] = dict(NEW_BOOK, id=7, available=True)
BAD_BOOK: Dict[str, Any] = dict(BOOK, authors=[{"name": "Frank Herbert", "born": "1920"}])


def per_call_us(check: Callable[[Any], Any], value: Any) -> float:
    timer = timeit.Timer(lambda: check(value))
    number, _ = timer.autorange()
    return min(timer.repeat(5, number)) / number * 1e6


def import_ms(setup: str, statement: str, cwd: str) -> float:
    """Best of 5 fresh interpreters: the time to run `statement` after `setup`."""
    code = (f"import time\n{setup}\nt = time.perf_counter()\n{statement}\n"
            "print((time.perf_counter() - t) * 1000)")
    runs = [float(subprocess.run([sys.executable, "-c", code], cwd=cwd, check=True,
                                 capture_output=True, text=True).stdout) for _ in range(5)]
    return min(runs)


def main(argv: List[str]) -> None:
    from pym_lambda.build.openapi.compiler import compile_specs
    from pym_lambda.build.reference_validator import SchemaValidator
    from pym_lambda.runtime.schema_validator import REQUEST, RESPONSE

    spec = Path(argv[0] if argv else "apis/library.yaml")
    api = compile_specs([(spec, str(spec))])["apis"][0]
    defs, dialect = api["definitions"], api["schema_dialect"]
    cases: List[Tuple[str, str, Any]] = [("NewBook", REQUEST, NEW_BOOK), ("Book", RESPONSE, BOOK),
                                         ("Book (invalid)", RESPONSE, BAD_BOOK)]
    print(f"{'per call (us)':<18}{'fast':>10}{'reference':>12}{'ratio':>8}")
    for name, context, value in cases:
        schema = {"$ref": f"#/definitions/{name.split()[0]}"}
        fast = compile_checker(schema, defs, dialect, context, "body")
        slow = SchemaValidator(schema, defs, dialect, context, "body").check
        assert fast(value) == slow(value), (fast(value), slow(value))
        f, s = per_call_us(fast, value), per_call_us(slow, value)
        print(f"{name:<18}{f:>10.2f}{s:>12.2f}{s / f:>7.0f}x")

    entries = {f"{op['id']}_{ct}": (s, defs, dialect, REQUEST, "body")
               for op in api["operations"] if op["body"]
               for ct, s in op["body"]["content"].items()}
    entries.update({f"{op['id']}_{status}": (s, defs, dialect, RESPONSE, "body")
                    for op in api["operations"] for status, r in op["responses"].items()
                    for s in r["content"].values() if s is not None})
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp, "checkers.py")
        text = generate_module(entries)
        source.write_text(text, encoding="utf-8")
        from_source = import_ms("", "import checkers", tmp)
        py_compile.compile(str(source), cfile=importlib.util.cache_from_source(str(source)))
        from_pyc = import_ms("", "import checkers", tmp)
        reference = import_ms("", "import openapi_schema_validator", tmp)
    print(f"\nimport of the generated module ({len(entries)} checkers, "
          f"{len(text.splitlines())} lines): {from_pyc:.1f} ms from its .pyc, "
          f"{from_source:.1f} ms from source (a read-only Lambda writes no .pyc: ship it)\n"
          f"import of openapi_schema_validator: {reference:.1f} ms")


if __name__ == "__main__":
    main(sys.argv[1:])
