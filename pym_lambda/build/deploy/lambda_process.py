"""One function of the Lambda package, running as the Lambda Python runtime runs it (build time
only): `lambda_bootstrap.py` in an isolated interpreter (`-I -S -B`) started with the task root,
the runtime's libraries and only the environment Lambda would give the function; invocations
are written to it one by one and their results read back on a file descriptor of their own,
the function's logs on stderr. A timeout kills the process, as Lambda's sandbox would, and the
next invocation starts a fresh one.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import queue
import secrets
import signal
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Dict, List, Mapping, Optional

from .artifact import ACCOUNT, BOOTSTRAP, ArtifactError, FunctionSpec

_STDERR_KEPT = 256 * 1024  # bytes of the function's logs kept for diagnostics


class FunctionError(Exception):
    """The function answered with an error (Lambda's FunctionError): `error` is its document
    (errorType, errorMessage, stackTrace)."""

    def __init__(self, error: Mapping[str, Any], logs: str = "") -> None:
        self.error = dict(error)
        self.logs = logs
        super().__init__(f"{error.get('errorType')}: {error.get('errorMessage')}")


@dataclass(frozen=True)
class Invocation:
    request_id: str
    result: Any = None
    error: Optional[Mapping[str, Any]] = None
    duration_ms: float = 0.0


XRAY_DAEMON = "169.254.79.129:2000"  # Lambda's, unless the caller's environment says another


def new_trace_header() -> str:
    """What Lambda's runtime API gives an actively traced invocation (Lambda-Runtime-Trace-Id),
    set as _X_AMZN_TRACE_ID: a new trace, Lambda's segment as parent, sampled."""
    return (f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)};"
            f"Parent={secrets.token_hex(8)};Sampled=1")


class LambdaProcess:
    """One function in the emulated runtime, kept warm across invocations (a context manager).

    Its environment is Lambda's for the function (names, region, task root, handler, the
    function's variables) plus `environment` (credentials, AWS_ENDPOINT_URL...), and nothing
    inherited from this process. An init error (the module or handler not loading) is kept in
    `init_error` and answered to every invocation, as Lambda does. A timed-out invocation kills
    the process; the next one starts it again (a cold start).
    """

    def __init__(self, spec: FunctionSpec, task_root: Path, *, interpreter: str,
                 libraries: Optional[Path] = None,
                 environment: Optional[Mapping[str, str]] = None,
                 region: str = "us-east-1", invoke_timeout: Optional[float] = None,
                 start_timeout: float = 60.0) -> None:
        self.spec = spec
        self.task_root = Path(task_root)
        self.interpreter = interpreter
        self.libraries = libraries
        self.region = region
        self.invoke_timeout = float(invoke_timeout or spec.timeout)
        self.start_timeout = start_timeout
        self.extra_environment = dict(environment or {})
        missing = sorted(set(spec.unresolved) - set(self.extra_environment))
        if missing:
            raise ArtifactError(f"{spec.logical_id}: no value for " + ", ".join(
                f"{n} ({json.dumps(spec.unresolved[n])} in the template)" for n in missing)
                + ": give the template parameter, or the variable in `environment`")
        self.init: Optional[Dict[str, Any]] = None  # {"importMs", "python"} once loaded
        self.init_error: Optional[Dict[str, Any]] = None
        self.start_ms = 0.0  # process start to handler loaded, as measured from here
        self._process: Optional[subprocess.Popen[bytes]] = None
        self._results: queue.Queue[Optional[Dict[str, Any]]] = queue.Queue()
        self._stderr = bytearray()
        self._stderr_closed = False
        self._stderr_lock = threading.Condition()
        self._generation = 0

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{ACCOUNT}:function:{self.spec.function_name}"

    def environ(self) -> Dict[str, str]:
        """The whole environment of the function's process."""
        name = self.spec.function_name
        today = dt.datetime.now(dt.timezone.utc).strftime("%Y/%m/%d")
        lambda_set = {
            "PATH": "/usr/local/bin:/usr/bin/:/bin:/opt/bin", "LANG": "en_US.UTF-8",
            "TZ": ":UTC", "LAMBDA_TASK_ROOT": str(self.task_root),
            "LAMBDA_RUNTIME_DIR": str(self.libraries or ""), "_HANDLER": self.spec.handler,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{self.spec.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": name, "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.spec.memory),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"{today}/[$LATEST]{uuid.uuid4().hex}",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region}
        if self.spec.tracing:  # with active tracing Lambda runs an X-Ray daemon and names it
            lambda_set.update(AWS_XRAY_DAEMON_ADDRESS=XRAY_DAEMON,
                              AWS_XRAY_CONTEXT_MISSING="LOG_ERROR")
        return {**self.spec.environment, **lambda_set, **self.extra_environment}

    def command(self, result_fd: int) -> List[str]:
        command = [self.interpreter, "-I", "-S", "-B", str(BOOTSTRAP), str(self.task_root),
                   self.spec.handler, "--result-fd", str(result_fd),
                   "--function-arn", self.arn,
                   "--timeout-ms", str(int(self.spec.timeout * 1000))]
        if self.libraries is not None:
            command += ["--library", str(self.libraries)]
        return command

    # -- process life --

    def start(self) -> LambdaProcess:
        """Start the process and wait for its handler to load (or fail to)."""
        if self._process is not None:
            return self
        read_fd, write_fd = os.pipe()
        started = time.perf_counter()
        try:
            self._process = subprocess.Popen(
                self.command(write_fd), env=self.environ(), cwd=str(self.task_root),
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                pass_fds=(write_fd,), start_new_session=True)
        except OSError as exc:
            os.close(read_fd)
            raise ArtifactError(f"cannot start {self.interpreter}: {exc}") from None
        finally:
            os.close(write_fd)
        # Each process gets its own queue and log generation: the readers of a killed one may
        # still be draining its pipes when the next one starts.
        self._results = queue.Queue()
        self._generation += 1
        self._stderr_closed = False
        results = os.fdopen(read_fd, "rb")
        assert self._process.stderr is not None
        threading.Thread(target=self._read_results, args=(results, self._results),
                         daemon=True).start()
        threading.Thread(target=self._read_stderr, args=(self._process.stderr, self._generation),
                         daemon=True).start()
        try:
            first = self._next(self.start_timeout)
        except TimeoutError:
            self._kill()
            raise ArtifactError(f"{self.spec.logical_id}: {self.spec.handler} not loaded after "
                                f"{self.start_timeout:.0f} s: {self.logs[-600:]}") from None
        self.start_ms = round((time.perf_counter() - started) * 1000, 1)
        if first is None:
            self.close()
            raise ArtifactError(f"{self.spec.logical_id}: the runtime emulation stopped "
                                f"before loading {self.spec.handler}: {self.logs[-600:]}")
        if "initError" in first:
            self.init_error = dict(first["initError"])
            self.close()
        else:
            self.init = dict(first["init"])
        return self

    @staticmethod
    def _read_results(stream: IO[bytes], results: queue.Queue[Optional[Dict[str, Any]]]) -> None:
        with stream:
            for line in stream:
                try:
                    results.put(json.loads(line))
                except ValueError:
                    continue
        results.put(None)  # end of stream: the process is gone

    def _read_stderr(self, stream: IO[bytes], generation: int) -> None:
        with stream:
            for chunk in iter(lambda: stream.read1(65536), b""):  # type: ignore[attr-defined]
                with self._stderr_lock:
                    self._stderr += chunk
                    del self._stderr[:-_STDERR_KEPT]
                    self._stderr_lock.notify_all()
        with self._stderr_lock:
            if generation == self._generation:
                self._stderr_closed = True
                self._stderr_lock.notify_all()

    def _wait_for_log(self, marker: str, timeout: float = 5.0) -> None:
        """Until `marker` is in the logs read so far (or they end): the runtime writes
        "END RequestId: <id>" once an invocation's logs are all written."""
        wanted = marker.encode("utf-8")
        with self._stderr_lock:
            self._stderr_lock.wait_for(
                lambda: wanted in self._stderr or self._stderr_closed,
                timeout)

    def _next(self, timeout: float) -> Optional[Dict[str, Any]]:
        try:
            return self._results.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError from None

    @property
    def logs(self) -> str:
        """What the function printed and logged (its last 256 KB)."""
        with self._stderr_lock:
            return self._stderr.decode("utf-8", "replace")

    def close(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        try:
            assert process.stdin is not None
            process.stdin.close()
            process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self._process = process
            self._kill()

    def _kill(self) -> None:
        """The process and any it started (its own session), at once."""
        process, self._process = self._process, None
        if process is not None:
            with contextlib.suppress(OSError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            if process.stdin is not None:
                with contextlib.suppress(OSError):
                    process.stdin.close()

    def __enter__(self) -> LambdaProcess:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- invocations --

    def call(self, event: Any) -> Invocation:
        """One invocation; an error of the function is in the answer, never raised."""
        request_id = str(uuid.uuid4())
        if self._process is None and self.init_error is None:
            self.start()
        if self.init_error is not None:
            return Invocation(request_id, error={**self.init_error, "requestId": request_id})
        process = self._process
        assert process is not None and process.stdin is not None
        deadline_ms = time.time() * 1000 + self.invoke_timeout * 1000
        message = {"event": event, "request_id": request_id, "deadline_ms": deadline_ms}
        if self.spec.tracing:
            message["trace_id"] = new_trace_header()
        line = json.dumps(message)
        try:
            process.stdin.write(line.encode("utf-8") + b"\n")
            process.stdin.flush()
            answer = self._next(self.invoke_timeout)
        except TimeoutError:
            self._kill()  # as Lambda stops a timed-out sandbox: the next call starts anew
            return Invocation(request_id, error={
                "errorType": "Sandbox.Timedout", "requestId": request_id, "stackTrace": [],
                "errorMessage": f"{request_id} Task timed out after "
                                f"{self.invoke_timeout:.2f} seconds"})
        except OSError:
            answer = None
        if answer is None:  # its results closed: the process is ending, or has ended
            try:
                code: Optional[int] = process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                code = None
            self.close()
            return Invocation(request_id, error={
                "errorType": "Runtime.ExitError", "requestId": request_id, "stackTrace": [],
                "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: "
                                f"exit status {code}"})
        self._wait_for_log(f"END RequestId: {request_id}")
        return Invocation(request_id, result=answer.get("result"), error=answer.get("error"),
                          duration_ms=float(answer.get("durationMs", 0.0)))

    def invoke(self, event: Any) -> Any:
        """The handler's answer to `event`; FunctionError when it fails."""
        invocation = self.call(event)
        if invocation.error is not None:
            raise FunctionError(invocation.error, self.logs)
        return invocation.result
