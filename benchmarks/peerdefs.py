"""The peers: where each one's app lives, how to import it, how to send it a request."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEERS_DIR = HERE / "peers"
COMMON = PEERS_DIR / "common"


@dataclass
class Peer:
    key: str                 # short id, used on the command line and in the JSON
    label: str               # what the table shows
    dir: str                 # put first on sys.path (and the cwd of its processes)
    module: str              # imported for the cold start
    attr: str = "app"        # the callable in that module
    kind: str = "lambda"     # lambda: attr(event, context); asgi: ASGI app; flask: WSGI test client
    python: Optional[str] = None  # another interpreter (PyMacaron's own venv)
    env: Dict[str, str] = field(default_factory=dict)
    requests: bool = True    # measured per request (False: cold start only)
    cold: bool = True        # measured at cold start (False: per request only)
    note: str = ""
    is_project: bool = False  # pym-lambda itself: its errors fail --smoke

    def sys_path(self) -> List[str]:
        return [self.dir, str(COMMON)]


def stage_env(project_dir: Path, stage: str = "dev") -> Dict[str, str]:
    """The environment variables a Chalice stage gives the Lambda (.chalice/config.json)."""
    import json

    try:
        config = json.loads((project_dir / ".chalice" / "config.json").read_text())
    except (OSError, ValueError):
        return {}
    env = dict(config.get("environment_variables") or {})
    env.update(((config.get("stages") or {}).get(stage) or {}).get("environment_variables") or {})
    return {str(k): str(v) for k, v in env.items()}


def peers(project_dir: Optional[str] = None, nocache_dir: Optional[str] = None,
          built_dir: Optional[str] = None, pymacaron_dir: Optional[str] = None,
          pymacaron_python: Optional[str] = None) -> List[Peer]:
    """project_dir: a copy of the example service (app.py, apis/, chalicelib/, configs) with a
    fresh chalicelib/pym_compiled.json cache; nocache_dir: the same without the cache (run
    with PYM_NO_COMPILE_CACHE=1: the YAML is compiled at every import); built_dir: the Lambda
    package's view (`pym-lambda build`, then no apis/ and no pym-config.yaml)."""
    p = str(PEERS_DIR)
    project = project_dir or str(ROOT)
    env = stage_env(Path(project))
    out = [
        Peer("pym", "pym-lambda, project tree (apis/ + compile cache)", project, "app",
             env=env, is_project=True,
             note="the example service: app.py + apis/library.yaml + chalicelib/library.py, "
                  "pym-config.yaml; its dev stage's environment"),
    ]
    if built_dir:
        out.insert(0, Peer("pym_built", "pym-lambda, Lambda package (pym_compiled.json)",
                           built_dir, "app", env=stage_env(Path(built_dir)), requests=False,
                           is_project=True,
                           note="as packaged: `pym-lambda build`, without apis/ and "
                                "pym-config.yaml (what Chalice ships)"))
    if nocache_dir:
        out.append(Peer("pym_nocache", "pym-lambda, apis/ compiled at import (no cache)",
                        nocache_dir, "app", env=dict(env, PYM_NO_COMPILE_CACHE="1"),
                        requests=False, is_project=True,
                        note="no chalicelib/pym_compiled.json: the YAML is parsed and "
                             "compiled at every cold start"))
    out.append(Peer("pym_quiet", "pym-lambda, PYM_LOG_LEVEL=WARNING", project, "app",
                    env=dict(env, PYM_LOG_LEVEL="WARNING"), is_project=True, cold=False,
                    note="the same, without its INFO line per request"))
    out += [
        Peer("bare", "bare Chalice (no validation)", f"{p}/bare_chalice", "app"),
        Peer("osv", "Chalice + openapi-schema-validator", f"{p}/chalice_osv", "app"),
        Peer("pt_validate", "Powertools + validate()", f"{p}/powertools", "app_validate",
             note="utilities.validation.validate(): fastjsonschema compiles the schema per call"),
        Peer("pt_fjs", "Powertools + compiled fastjsonschema", f"{p}/powertools", "app_fjs"),
        Peer("pt_pydantic", "Powertools + pydantic (enable_validation)", f"{p}/powertools",
             "app_pydantic"),
        Peer("connexion", "connexion 3 FlaskApp (ASGI, in process)", f"{p}/connexion_app", "app",
             kind="asgi", env={"BENCH_LIBRARY_SPEC": str(ROOT / "apis" / "library.yaml")},
             note="ASGI app driven on one asyncio loop (no app(event, context) exists)"),
    ]
    if pymacaron_dir and pymacaron_python:
        out.append(Peer("pymacaron", "PyMacaron 2 (Flask test client)", pymacaron_dir, "app",
                        kind="flask", python=pymacaron_python,
                        note="Flask 1.1 app, its own venv; Flask test client in process"))
    return out


def child_env(peer: Peer) -> Dict[str, str]:
    env = dict(os.environ)
    env.update(peer.env)
    env.pop("PYTHONPATH", None)
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    # As on Lambda, for every peer: pym-lambda then logs JSON lines, as it would there.
    env["AWS_LAMBDA_FUNCTION_NAME"] = "pym-bench"
    env.setdefault("AWS_REGION", "us-east-1")
    return env
