"""A stage's environment as `chalice local --stage` applies it, for the build commands that run
the service's code or read its settings here (`validate`, `token`, `local`)."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Dict


def stage_environment(root: Path, stage: str) -> Dict[str, str]:
    """os.environ plus the stage's environment_variables from .chalice/config.json, as
    `chalice local --stage` applies them (variables already set win)."""
    environ = dict(os.environ)
    try:
        config = json.loads((root / ".chalice" / "config.json").read_text())
    except (OSError, ValueError):
        return environ
    for key in ("environment_variables",):
        for name, value in {**config.get(key, {}),
                            **config.get("stages", {}).get(stage, {}).get(key, {})}.items():
            environ.setdefault(name, str(value))
    return environ
