"""A service that cannot start under Chalice's own command (`chalice local`, the server that
`pym-lambda local` runs): its configuration or spec problems as one `error:` line each, instead
of Chalice printing a 40-190-line traceback whose useful line is the last. `chalice --debug`
keeps the traceback. Imported only when create_app() fails: nothing at a cold start.

Lambda, tests and `pym-lambda` commands are left alone: there the exception itself is the
report (the Lambda runtime logs it, pytest shows it, the CLI prints one line already).
"""
from __future__ import annotations

import os
import sys
from typing import List, Optional

DEBUG_HINT = "(chalice --debug local shows the traceback)"


def under_chalice_command() -> bool:
    """Run by the `chalice` console script, without its --debug."""
    return (os.path.basename(sys.argv[0] or "") == "chalice"
            and "--debug" not in sys.argv[1:])


def problem_lines(exc: BaseException) -> Optional[List[str]]:
    """The lines that say what is wrong, for a problem of the service's own making (its
    config, its specs); None for anything else, which keeps its traceback."""
    from ..config.keys import ConfigError
    from ..errors import SpecErrors

    if isinstance(exc, SpecErrors):
        return [str(error) for error in exc.errors]
    if isinstance(exc, ConfigError):
        return list(exc.problems)
    return None


def exit_if_reportable(exc: BaseException) -> None:
    """Under Chalice's command, print the problem as `error:` lines and exit 1; else return
    (the caller re-raises). SystemExit goes past chalice's catch-all, which would print the
    traceback."""
    if not under_chalice_command():
        return
    lines = problem_lines(exc)
    if lines is None:
        return
    for line in lines:
        print(f"error: {line}", file=sys.stderr)
    print(f"the service cannot start: {len(lines)} problem(s) {DEBUG_HINT}", file=sys.stderr,
          flush=True)
    raise SystemExit(1)
