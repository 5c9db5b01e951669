"""Per-request time of one unzipped package, inside the Lambda-faithful runtime.

    <runtime python> -I -B benchmarks/lambda_child.py JSON-ARGS

Run by lambda_runtime.py with the interpreter that has only boto3/botocore, the cwd at the
package's var/task and Lambda's environment. As Lambda's Python bootstrap does: var/task first
on sys.path, the runtime's root log handler installed before the handler's module is imported
(pym-lambda replaces it with its JSON line, as it does on Lambda), then `module.attr(event,
context)` called with real API Gateway REST proxy events (built by the parent from the
workload). This file's folder goes last on sys.path, for child.py's timer only.
Prints one JSON object on the last line of stdout.
"""
import json
import logging
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))


class LambdaContext:
    """The attributes of the runtime's context object (awslambdaric's LambdaContext)."""

    function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "pym-bench")
    function_version = "$LATEST"
    memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
    invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
    log_group_name = f"/aws/lambda/{function_name}"
    log_stream_name = "2026/01/01/[$LATEST]0123456789abcdef"
    identity = None
    client_context = None

    def __init__(self, request_id="6f7d3ba2-0000-4000-8000-000000000000"):
        self.aws_request_id = request_id
        self._deadline_ms = time.time() * 1000 + 900_000

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline_ms - time.time() * 1000))


class _RequestId(logging.Filter):
    def filter(self, record):
        record.aws_request_id = LambdaContext().aws_request_id
        return True


def lambda_root_handler():
    """The root handler and line format the Python runtime installs (level left at WARNING)."""
    logging.Formatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
        "%Y-%m-%dT%H:%M:%S"))
    handler.addFilter(_RequestId())
    logging.getLogger().addHandler(handler)


def main(args):
    sys.path.insert(0, args["task_root"])
    sys.path.append(HERE)
    from child import emit, maxrss_kb, silence_output, timed

    silence_output()
    try:
        lambda_root_handler()
        import importlib

        module = importlib.import_module(args.get("module", "app"))
        handler = getattr(module, args.get("attr") or "app")
        with open(args["events"]) as f:
            events = json.load(f)
        ctx = LambdaContext()
        lenient = args.get("lenient_201", False)

        def sender(event):
            def send():
                out = handler(event, ctx)
                return out["statusCode"], out.get("body")
            return send

        def check(send, req):
            status, body = send()
            if status != req["expect"] and not (lenient and req["expect"] == 201
                                                 and status == 200):
                raise AssertionError(f"{req['name']}: status {status}, expected "
                                     f"{req['expect']}: {str(body)[:300]}")
            return json.loads(body) if body else None

        for req in events["seed"]:
            check(sender(req["event"]), req)
        out = {"requests": {}}
        for req in events["requests"]:
            entry = out["requests"][req["name"]] = {}
            try:
                send = sender(req["event"])
                data = check(send, req)
                if isinstance(data, dict) and "books" in data:
                    entry["sample"] = {"count": data.get("count"),
                                       "returned": len(data["books"])}
                entry.update(timed(send, args.get("target_s", 0.1), args.get("repeats", 7),
                                   args.get("smoke", False), args.get("timer", "cpu")))
            except Exception as exc:  # noqa: BLE001 - reported, the run goes on
                entry["error"] = f"{type(exc).__name__}: {exc}"[:500]
                entry["traceback"] = traceback.format_exc()[-2000:]
        # pym-lambda's JSON request line is an INFO record of its logger: on, or the table lies
        if "pym_lambda" in sys.modules:
            out["request_line_on"] = logging.getLogger("pym_lambda").isEnabledFor(logging.INFO)
        out["maxrss_kb"] = maxrss_kb()
        out["sys_path0"] = sys.path[0]
        out["python"] = sys.version.split()[0]
        emit(out)
    except Exception as exc:  # noqa: BLE001 - stderr is /dev/null: report it in the result
        emit({"error": f"{type(exc).__name__}: {exc}"[:500],
              "traceback": traceback.format_exc()[-2000:]})


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
