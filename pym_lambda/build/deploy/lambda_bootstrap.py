"""The AWS Lambda Python runtime's loop for one function, run by the artifact check.

Standard library only: this file runs inside the isolated interpreter (`python -I -S -B`) that
stands in for Lambda's, where nothing but the task root and the runtime's own libraries
(boto3, botocore...) may be imported. Run as

    python -I -S -B lambda_bootstrap.py TASK_ROOT HANDLER --result-fd N [--library DIR]...

It does what Lambda's runtime interface client (awslambdaric) does: task root first on
sys.path, cwd there, the handler's module imported once (an init error reported as
Runtime.ImportModuleError, Runtime.HandlerNotFound... with awslambdaric's messages), then one
invocation per JSON line read on stdin ({"event": ..., "request_id"?, "deadline_ms"?,
"trace_id"?: Lambda-Runtime-Trace-Id, set as _X_AMZN_TRACE_ID as awslambdaric does}) and one
JSON line written per invocation on fd N, the process kept warm in between. Results never share
a stream with what the code prints or logs: stdout is pointed at stderr, stdin at /dev/null
(the invocations are read on a private copy of it). The init report also counts the task
root's modules and names those compiled from source while loading: none, when the package
ships bytecode for this Python.
"""
import argparse
import decimal
import importlib
import io
import json
import logging
import os
import sys
import time
import traceback
import uuid

# awslambdaric's error types, for the faults of loading the handler.
IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
MARSHAL_ERROR = "Runtime.MarshalError"

_request_id = ""  # the invocation being handled, for the log lines (as Lambda's logger does)


class Fault(Exception):
    def __init__(self, error_type, message, trace=None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


def error(message, error_type, trace=None, request_id=""):
    """Lambda's error document: what `Invoke` returns with FunctionError set."""
    return {"errorMessage": message or "", "errorType": error_type or "",
            "requestId": request_id, "stackTrace": list(trace or [])}


def fault_of(exc_info, request_id=""):
    """An exception as Lambda reports it: class name, message, the user's frames only."""
    etype, value, tb = exc_info
    frames = traceback.extract_tb(tb)
    while frames and frames[0].filename == __file__:
        frames.pop(0)
    return error(str(value), etype.__name__, traceback.format_list(frames), request_id)


def load_handler(handler):
    """The handler function, or a Fault with awslambdaric's type and message."""
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as exc:
        raise Fault(MALFORMED_HANDLER_NAME, f"Bad handler '{handler}': {exc}") from None
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise Fault(BUILT_IN_MODULE_CONFLICT,
                    f"Cannot use built-in module {module_name} as a handler module")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise Fault(IMPORT_MODULE_ERROR,
                    f"Unable to import module '{module_name}': {exc}") from None
    except SyntaxError as exc:
        raise Fault(USER_CODE_SYNTAX_ERROR, f"Syntax error in module '{module_name}': {exc}",
                    [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']) from None
    try:
        return getattr(module, function_name)
    except AttributeError:
        raise Fault(HANDLER_NOT_FOUND,
                    f"Handler '{function_name}' missing on module '{module_name}'") from None


class LambdaContext:
    """What awslambdaric hands the handler: names from the environment, a deadline."""

    def __init__(self, request_id, deadline_ms, function_arn):
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = function_arn
        self.client_context = None
        self.identity = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline_ms - time.time() * 1000))

    def log(self, message):
        sys.stdout.write(str(message))


class _RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = _request_id
        return True


def setup_logging():
    """Lambda's root handler and line format (level left at Python's default, WARNING)."""
    logging.Formatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
        "%Y-%m-%dT%H:%M:%S"))
    handler.addFilter(_RequestIdFilter())
    logging.getLogger().addHandler(handler)


def _json_default(value):
    if isinstance(value, decimal.Decimal):
        return float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def invoke(handler, message, function_arn, default_timeout_ms):
    """One invocation: the result line to write."""
    global _request_id
    request_id = message.get("request_id") or str(uuid.uuid4())
    deadline_ms = message.get("deadline_ms") or time.time() * 1000 + default_timeout_ms
    _request_id = request_id
    # as awslambdaric: each invocation's trace header (active tracing), none when not traced
    if message.get("trace_id"):
        os.environ["_X_AMZN_TRACE_ID"] = message["trace_id"]
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    # Lambda's own log lines around each invocation (the parent waits for END: the logs of
    # an invocation are all in when its result is)
    sys.stderr.write(f"START RequestId: {request_id} Version: $LATEST\n")
    started = time.perf_counter()
    try:
        result = handler(message.get("event"), LambdaContext(request_id, deadline_ms,
                                                             function_arn))
        try:
            payload = json.loads(json.dumps(result, default=_json_default))
        except (TypeError, ValueError) as exc:
            answer = {"error": error(f"Unable to marshal response: {exc}", MARSHAL_ERROR,
                                     request_id=request_id)}
        else:
            answer = {"result": payload}
    except Exception:
        answer = {"error": fault_of(sys.exc_info(), request_id)}
    finally:
        _request_id = ""
    duration_ms = (time.perf_counter() - started) * 1000
    if "error" in answer:
        failure = answer["error"]
        sys.stderr.write(f"[ERROR] {failure['errorType']}: {failure['errorMessage']}\n"
                         + "".join(failure["stackTrace"]))
    memory = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "")
    sys.stderr.write(f"END RequestId: {request_id}\nREPORT RequestId: {request_id}\t"
                     f"Duration: {duration_ms:.2f} ms\tMemory Size: {memory} MB\n")
    sys.stderr.flush()
    answer.update(requestId=request_id, durationMs=round(duration_ms, 3))
    return answer


def watch_compiling(root):
    """The task root's modules compiled from source while loading (no usable bytecode beside
    them): the importer calls source_to_code only then. Recorded, not changed."""
    from importlib.machinery import SourceFileLoader

    compiled = []
    original = SourceFileLoader.source_to_code
    prefix = root + os.sep

    def source_to_code(self, data, path, *args, **kwargs):
        if isinstance(path, str) and path.startswith(prefix):
            compiled.append(path[len(prefix):])
        return original(self, data, path, *args, **kwargs)

    SourceFileLoader.source_to_code = source_to_code  # type: ignore[method-assign]
    return compiled


def task_modules(root):
    """How many loaded modules come from the task root."""
    prefix = root + os.sep
    return sum(1 for module in list(sys.modules.values())
               if str(getattr(module, "__file__", None) or "").startswith(prefix))


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description="Lambda's Python runtime loop, emulated")
    parser.add_argument("task_root")
    parser.add_argument("handler")
    parser.add_argument("--result-fd", type=int, required=True)
    parser.add_argument("--library", action="append", default=[],
                        help="a folder of what the runtime provides (boto3...), after the root")
    parser.add_argument("--function-arn", default="")
    parser.add_argument("--timeout-ms", type=int, default=3000)
    return parser.parse_args(argv)


def main(argv=None):
    options = parse_arguments(sys.argv[1:] if argv is None else argv)
    results = os.fdopen(options.result_fd, "w", encoding="utf-8")
    invocations = os.fdopen(os.dup(0), "r", encoding="utf-8")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)  # what the code prints joins the logs, never the results
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(line_buffering=True)  # logs in order, as Lambda's unbuffered

    def send(document):
        results.write(json.dumps(document) + "\n")
        results.flush()

    root = os.path.abspath(options.task_root)
    sys.path[:0] = [root]
    sys.path.extend(os.path.abspath(p) for p in options.library)
    os.chdir(root)
    setup_logging()
    compiled = watch_compiling(root)
    started = time.perf_counter()
    try:
        handler = load_handler(options.handler)
    except Fault as fault:
        send({"initError": error(fault.message, fault.error_type, fault.trace)})
        return 1
    except Exception:  # the module raised while being imported
        send({"initError": fault_of(sys.exc_info())})
        return 1
    send({"init": {"importMs": round((time.perf_counter() - started) * 1000, 3),
                   "python": ".".join(map(str, sys.version_info[:3])),
                   "modules": task_modules(root), "compiledFromSource": sorted(compiled)}})
    for line in invocations:
        if line.strip():
            send(invoke(handler, json.loads(line), options.function_arn, options.timeout_ms))
    return 0


if __name__ == "__main__":
    sys.exit(main())
