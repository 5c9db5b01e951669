"""The long corpus run: every spec of the manifest, every operation called.

    python -m tests.corpus.run --all              # the table, every spec (~N minutes)
    python -m tests.corpus.run api/stripe.com.json --calls   # one spec, each call printed
    python -m tests.corpus.run --all --json out.json          # and every call, for findings

Columns: operations, valid requests answered 501 naming the operation, 4xx the generator
earned (a parameter it could not satisfy), wrong requests refused with a 4xx, 500s, other
answers breaking the contract, load seconds. A request meant for an operation the framework
reports as a duplicate route (its first is served) counts apart (dup), never as a finding.
"""
from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import sys
import tempfile
import time
from pathlib import Path

from tests.corpus.corpus import entries, fetch
from tests.corpus.harness import run_spec


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.corpus.run")
    parser.add_argument("files", nargs="*", help="files of the manifest (api/...json)")
    parser.add_argument("--all", action="store_true", help="every spec of the manifest")
    parser.add_argument("--calls", action="store_true", help="print every call")
    parser.add_argument("--load-only", action="store_true", help="load, call nothing")
    parser.add_argument("--json", help="write every result to this file")
    args = parser.parse_args(argv)
    files = [e["file"] for e in entries()] if args.all else args.files
    paths = fetch(files)
    results = []
    print(f"{'spec':55} {'ops':>5} {'501':>5} {'gen4xx':>6} {'auth':>5} {'wrong4xx':>8} "
          f"{'500':>4} {'dup':>4} {'other':>5} {'load s':>7}  outcome")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for file in files:
            try:
                run = run_spec(file, paths[file], Path(tmp), call=not args.load_only)
            except Exception as exc:  # the harness itself failed on this spec: say so, go on
                print(f"{file[:55]:55} HARNESS ERROR {type(exc).__name__}: {exc}"[:300])
                continue
            results.append(run)
            if run.loaded:
                outcome = "ok" if run.ok else "FINDINGS"
            else:
                outcome = ("refused, invalid per openapi-spec-validator" if run.spec_valid is False
                           else "NOT LOADED (valid spec): " + run.load_error.splitlines()[0][:150])
            wrong = run.count("wrong", "4xx")
            other = sum(1 for c in run.calls if c.verdict == "unexpected")
            print(f"{file[:55]:55} {run.operations:5} {run.count('valid', '501'):5} "
                  f"{run.count('valid', 'generator'):6} "
                  f"{sum(1 for c in run.calls if c.verdict == 'auth'):5} {wrong:8} "
                  f"{sum(1 for c in run.calls if c.verdict == '500'):4} "
                  f"{sum(1 for c in run.calls if c.verdict == 'duplicate'):4} {other:5} "
                  f"{run.load_seconds:7.2f}  {outcome}", flush=True)
            if args.calls:
                for c in run.calls:
                    print(f"    {c.verdict:10} {c.kind:5} {c.status} {c.method} {c.url[:90]} "
                          f"{c.description[:120]!r} {c.note[:80]}")
            if args.json:
                Path(args.json).write_text(json.dumps(
                    [dataclasses.asdict(r) for r in results], indent=1))
            gc.collect()
    ok = sum(1 for r in results if r.ok)
    print(f"{ok}/{len(results)} specs as expected, {time.perf_counter() - started:.0f} s")
    return 0 if ok == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
