"""What a spec has that loads but cannot all be served, told once: by `pym-lambda validate`
(every line) and in the log at load (the first LOG_CAP lines, then a count, so that a large
foreign spec does not flood a cold start's log)."""
from __future__ import annotations

import logging
from typing import List

from ..errors import SpecError
from .compiled_types import CompiledDocument

LOG_CAP = 20


def compiled_warnings(compiled: CompiledDocument) -> List[str]:
    """One line per warning the compiler left on a served spec (naming the file) or on its
    operations (naming the file, method, path and operation)."""
    served = [api for api in compiled["apis"] if not api.get("bind_client")]
    return [str(SpecError(message, spec_file=api["file"]))
            for api in served for message in api.get("warnings") or ()] + [
        str(SpecError(message, spec_file=api["file"], path=op["path"], method=op["method"],
                      operation=op["id"]))
        for api in served for op in api["operations"] for message in op.get("warnings") or ()]


def log_warnings(lines: List[str], log: logging.Logger, cap: int = LOG_CAP) -> None:
    for line in lines[:cap]:
        log.warning("spec warning: %s", line)
    if len(lines) > cap:
        log.warning("spec warning: and %d more (pym-lambda validate lists them all)",
                    len(lines) - cap)
