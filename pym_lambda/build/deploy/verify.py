"""Step 4 of a deploy: the deployed service answers GET /ping and /version.

A new API Gateway deployment or Beanstalk version can take a few seconds to answer everywhere,
so failures are retried until a deadline before being reported.
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any, Callable, Dict, List, Sequence, Tuple

from .errors import DeployError

DEFAULT_DEADLINE_SECONDS = 60.0


def _get(url: str, timeout: float) -> Tuple[int, Any]:
    request = urllib.request.Request(url, headers={"Accept": "application/json",
                                                   "User-Agent": "pym-lambda-deploy"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, body = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read()
    try:
        return status, json.loads(body or b"null")
    except ValueError:
        return status, body[:200].decode("utf-8", "replace")


def verify_service(base_url: str, paths: Sequence[str] = ("/ping", "/version"), *,
                   deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
                   pause_seconds: float = 2.0, step: str = "verify",
                   sleep: Callable[[float], None] = time.sleep) -> List[str]:
    """GET each path under `base_url` until it answers 200 with JSON; one line per path."""
    base = base_url.rstrip("/")
    results: List[str] = []
    for path in paths:
        url = base + path
        deadline = time.monotonic() + deadline_seconds
        while True:
            try:
                status, body = _get(url, timeout=10)
                problem = "" if status == 200 and isinstance(body, (dict, list)) else (
                    f"answered {status}: {str(body)[:200]}")
            except (urllib.error.URLError, OSError) as exc:
                problem = f"no answer ({getattr(exc, 'reason', exc)})"
                body = None
            if not problem:
                results.append(f"GET {url} -> 200 {_summary(body)}")
                break
            if time.monotonic() >= deadline:
                raise DeployError(step, f"GET {url} {problem}", hint=(
                    "the new version is deployed but does not answer: see its logs, or "
                    "`pym-lambda rollback` to the previous one"))
            sleep(pause_seconds)
    return results


def _summary(body: Any) -> str:
    if isinstance(body, Dict) and body.get("name"):
        return f"({body.get('name')} {body.get('version', '')})".replace(" )", ")")
    return json.dumps(body)[:80]
