"""gunicorn settings of the Beanstalk image (the bind address is on the Dockerfile's CMD).

Threads (gthread) rather than many processes: requests mostly wait on AWS calls, and
pym_lambda.wsgi makes Chalice's per-request state thread-local. Every value can be tuned per
environment through Beanstalk environment properties, without rebuilding the image.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from typing import Any

from gunicorn.glogging import Logger


def _env_int(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip()
    return int(text) if text else default


def _default_workers() -> int:
    # The CPUs this container may run on (not the host's count); gthread adds the concurrency.
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(2, cpus or 1)


worker_class = "gthread"
workers = _env_int("WEB_CONCURRENCY", _default_workers())  # the variable gunicorn also knows
threads = _env_int("GUNICORN_THREADS", 8)
timeout = _env_int("GUNICORN_TIMEOUT", 30)  # a request stuck longer: API Gateway gives up at 29 s
# Docker's `stop` sends SIGKILL 10 s after SIGTERM: finish in-flight requests before that.
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 8)
# Longer than the idle timeout of the proxies in front (nginx and the ALB: 60 s), so that they
# close idle connections first and never send a request on one gunicorn is closing (502s).
keepalive = _env_int("GUNICORN_KEEPALIVE", 75)
# The heartbeat file on tmpfs: on the overlay filesystem, a slow disk can make workers miss it.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
preload_app = False  # each worker imports app.py itself: no AWS client is shared across fork
# No runtime control socket (gunicorn >= 25 opens one under $HOME, read-only in the image):
# the container is managed by replacing it, not by `gunicornc`.
control_socket_disable = True

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("PYM_LOG_LEVEL", "info").lower()


class JsonAccessLogger(Logger):
    """One JSON object per request (CloudWatch Logs Insights reads the fields). json.dumps
    escapes quotes and control characters that an `access_log_format` string would not."""

    def access(self, resp: Any, req: Any, environ: Any, request_time: dt.timedelta) -> None:
        if not self.access_log_enabled:
            return
        atoms = self.atoms(resp, req, environ, request_time)
        record = {
            "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"),
            "remote_addr": atoms["h"],
            "forwarded_for": atoms.get("{x-forwarded-for}i"),
            "method": atoms["m"],
            "path": atoms["U"],
            "query": atoms["q"] or None,
            "status": int(atoms["s"]),
            "bytes": atoms["B"],
            "duration_ms": round(request_time.total_seconds() * 1000, 3),
            "user_agent": atoms["a"],
            "call_id": atoms.get("{pymcallid}o"),
            "pid": os.getpid(),
        }
        self.access_log.info(json.dumps(record, separators=(",", ":")))


logger_class = JsonAccessLogger
