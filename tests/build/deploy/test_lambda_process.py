"""The emulated Lambda runtime on small hand-made packages: what the function sees (context,
environment, isolation), how it fails (as AWS reports it), and what check_package makes of it."""
from __future__ import annotations

import io
import json
import sys
import textwrap
import zipfile
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

import pytest

from pym_lambda.build.deploy.artifact import (
    ArtifactError,
    find_interpreter,
    function_specs,
    runtime_libraries,
    unpack,
)
from pym_lambda.build.deploy.artifact_check import check_package
from pym_lambda.build.deploy.lambda_process import FunctionError, LambdaProcess

RUNTIME = f"python{sys.version_info[0]}.{sys.version_info[1]}"

PROBE = '''
import json, logging, os, sys, time
CALLS = 0
log = logging.getLogger("probe")

def handler(event, context):
    global CALLS
    CALLS += 1
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("exit"):
        os._exit(event["exit"])
    if event.get("fail"):
        raise ValueError(event["fail"])
    if event.get("unserialisable"):
        return {"value": object()}
    print('{"result": "printed, not returned"}')
    log.warning("warned while handling")
    found = {}
    for name in ("yaml", "pytest", "boto3", "botocore", "jmespath", "dateutil", "six"):
        try:
            module = __import__(name)
            found[name] = getattr(module, "__file__", "") or ""
        except ImportError:
            found[name] = None
    return {
        "calls": CALLS, "event": event, "cwd": os.getcwd(), "path": sys.path,
        "environ": dict(os.environ), "flags": [sys.flags.isolated, sys.flags.no_site,
                                               sys.flags.dont_write_bytecode],
        "modules": found,
        "context": {"function_name": context.function_name,
                    "function_version": context.function_version,
                    "memory_limit_in_mb": context.memory_limit_in_mb,
                    "invoked_function_arn": context.invoked_function_arn,
                    "aws_request_id": context.aws_request_id,
                    "log_group_name": context.log_group_name,
                    "log_stream_name": context.log_stream_name,
                    "remaining": context.get_remaining_time_in_millis()},
    }
'''


def sam(handlers: Dict[str, str], runtime: str = RUNTIME,
        variables: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    return {"Resources": {logical_id: {"Type": "AWS::Serverless::Function", "Properties": {
        "Handler": handler, "Runtime": runtime, "Timeout": 5, "MemorySize": 256,
        "Environment": {"Variables": dict(variables or {"GREETING": "hello"})}}}
        for logical_id, handler in handlers.items()}}


def make_package(path: Path, files: Dict[str, str]) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, textwrap.dedent(text))
    path.write_bytes(buffer.getvalue())
    return path


@pytest.fixture(scope="module")
def interpreter() -> str:
    found = find_interpreter(RUNTIME)
    assert found.available, found.reason  # this very Python stands in for its own runtime
    return str(found.executable)


@pytest.fixture(scope="module")
def probe_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("probe")
    return unpack(make_package(base / "probe.zip", {"app.py": PROBE}), base)


@pytest.fixture(scope="module")
def libraries(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder, missing = runtime_libraries(tmp_path_factory.mktemp("runtime") / "libs")
    assert missing == ()
    return folder


@pytest.fixture()
def probe(probe_root: Path, interpreter: str, libraries: Path,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[LambdaProcess]:
    monkeypatch.setenv("PYM_PARENT_CANARY", "must-not-leak")
    [spec] = function_specs(sam({"Probe": "app.handler"}), region="eu-west-3",
                            stack_name="emu")
    with LambdaProcess(spec, probe_root, interpreter=interpreter, libraries=libraries,
                       environment={"AWS_ACCESS_KEY_ID": "testing"}, region="eu-west-3",
                       invoke_timeout=5) as process:
        yield process


def test_the_handler_gets_a_context_like_lambdas(probe: LambdaProcess) -> None:
    first, second = probe.invoke({"n": 1}), probe.invoke({"n": 2})
    context = first["context"]
    assert first["event"] == {"n": 1} and second["event"] == {"n": 2}
    assert context["function_name"] == "emu-Probe"
    assert context["function_version"] == "$LATEST"
    assert context["memory_limit_in_mb"] == "256"  # a string, as awslambdaric gives it
    assert context["invoked_function_arn"] == \
        "arn:aws:lambda:eu-west-3:123456789012:function:emu-Probe"
    assert context["log_group_name"] == "/aws/lambda/emu-Probe"
    assert "[$LATEST]" in context["log_stream_name"]
    assert 0 < context["remaining"] <= 5000
    assert context["aws_request_id"] != second["context"]["aws_request_id"]


def test_the_process_stays_warm_across_invocations(probe: LambdaProcess) -> None:
    assert [probe.invoke({})["calls"] for _ in range(3)] == [1, 2, 3]
    assert probe.init is not None and probe.init["importMs"] > 0


def test_the_function_sees_lambdas_environment_and_nothing_of_ours(
        probe: LambdaProcess, probe_root: Path) -> None:
    answer = probe.invoke({})
    environ = answer["environ"]
    assert environ["GREETING"] == "hello"  # the function's own variable
    assert environ["AWS_ACCESS_KEY_ID"] == "testing"  # what the caller passed
    assert environ["AWS_LAMBDA_FUNCTION_NAME"] == "emu-Probe"
    assert environ["AWS_REGION"] == environ["AWS_DEFAULT_REGION"] == "eu-west-3"
    assert environ["LAMBDA_TASK_ROOT"] == str(probe_root)
    assert environ["_HANDLER"] == "app.handler"
    assert environ["AWS_EXECUTION_ENV"] == f"AWS_Lambda_{RUNTIME}"
    assert "PYM_PARENT_CANARY" not in environ
    assert not {"HOME", "VIRTUAL_ENV", "PYTHONPATH", "PYTEST_CURRENT_TEST"} & set(environ)
    assert answer["cwd"] == str(probe_root) and answer["path"][0] == str(probe_root)
    assert answer["flags"] == [1, 1, 1]  # -I -S -B


def test_only_the_runtimes_libraries_are_importable(probe: LambdaProcess,
                                                    libraries: Path) -> None:
    modules = probe.invoke({})["modules"]
    assert modules["yaml"] is None and modules["pytest"] is None  # installed here, not there
    for name in ("boto3", "botocore", "jmespath", "dateutil", "six"):
        assert modules[name] and modules[name].startswith(str(libraries)), name


def test_what_the_code_prints_and_logs_goes_to_the_logs_not_the_result(
        probe: LambdaProcess) -> None:
    answer = probe.invoke({})
    request_id = answer["context"]["aws_request_id"]
    assert "calls" in answer
    assert '{"result": "printed, not returned"}' in probe.logs
    assert "[WARNING]\t" in probe.logs and f"\t{request_id}\twarned while handling" in probe.logs
    # Lambda's own lines around the invocation
    start = probe.logs.index(f"START RequestId: {request_id} Version: $LATEST")
    end = probe.logs.index(f"END RequestId: {request_id}")
    assert start < probe.logs.index("warned while handling") < end
    assert f"REPORT RequestId: {request_id}\tDuration: " in probe.logs


def test_an_exception_is_answered_as_lambdas_error_document(probe: LambdaProcess) -> None:
    with pytest.raises(FunctionError) as raised:
        probe.invoke({"fail": "no such book"})
    error = raised.value.error
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "no such book")
    trace = "".join(error["stackTrace"])
    assert "app.py" in trace and "lambda_bootstrap" not in trace
    assert "[ERROR] ValueError: no such book" in probe.logs  # logged, as Lambda does
    assert probe.invoke({})["event"] == {}  # still warm after a failed invocation


def test_an_answer_that_is_not_json_is_a_marshal_error(probe: LambdaProcess) -> None:
    invocation = probe.call({"unserialisable": True})
    assert invocation.error is not None
    assert invocation.error["errorType"] == "Runtime.MarshalError"
    assert "not JSON serializable" in invocation.error["errorMessage"]


def test_a_timed_out_invocation_ends_the_sandbox_and_the_next_starts_cold(
        probe: LambdaProcess) -> None:
    assert probe.invoke({})["calls"] == 1
    probe.invoke_timeout = 0.5
    invocation = probe.call({"sleep": 10})
    assert invocation.error is not None and invocation.error["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 0.50 seconds" in invocation.error["errorMessage"]
    probe.invoke_timeout = 5
    assert probe.invoke({})["calls"] == 1  # a new process: the module imported anew


def test_a_runtime_that_exits_is_reported_as_lambda_does(probe: LambdaProcess) -> None:
    invocation = probe.call({"exit": 3})
    assert invocation.error is not None and invocation.error["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in invocation.error["errorMessage"]


def test_a_variable_the_template_computes_must_be_given(probe_root: Path,
                                                        interpreter: str) -> None:
    [spec] = function_specs(sam({"Probe": "app.handler"},
                                variables={"QUEUE_URL": {"Ref": "TaskQueue"}}))
    with pytest.raises(ArtifactError, match=r'no value for QUEUE_URL \(\{"Ref": "TaskQueue"\}'):
        LambdaProcess(spec, probe_root, interpreter=interpreter)
    given = LambdaProcess(spec, probe_root, interpreter=interpreter,
                          environment={"QUEUE_URL": "http://q"})
    assert given.environ()["QUEUE_URL"] == "http://q"


# --- init faults, and check_package's one-line problems ------------------------------------

@pytest.mark.parametrize(("files", "handler", "error_type", "message"), [
    ({"app.py": "import nothere\n"}, "app.handler", "Runtime.ImportModuleError",
     "Unable to import module 'app': No module named 'nothere'"),
    ({"app.py": "x = 1\n"}, "app.handler", "Runtime.HandlerNotFound",
     "Handler 'handler' missing on module 'app'"),
    ({"app.py": "def handler(:\n"}, "app.handler", "Runtime.UserCodeSyntaxError",
     "Syntax error in module 'app'"),
    ({"app.py": "raise RuntimeError('no config')\n"}, "app.handler", "RuntimeError",
     "no config"),
    ({"app.py": ""}, "apphandler", "Runtime.MalformedHandlerName", "Bad handler 'apphandler'"),
    ({}, "app.handler", "Runtime.ImportModuleError", "No module named 'app'"),
])
def test_a_function_that_does_not_load_answers_every_call_with_its_init_error(
        tmp_path: Path, interpreter: str, files: Dict[str, str], handler: str,
        error_type: str, message: str) -> None:
    root = unpack(make_package(tmp_path / "p.zip", {"README": "", **files}), tmp_path)
    [spec] = function_specs(sam({"Fn": handler}))
    with LambdaProcess(spec, root, interpreter=interpreter) as process:
        assert process.init is None and process.init_error is not None
        for _ in range(2):
            invocation = process.call({})
            assert invocation.error is not None
            assert invocation.error["errorType"] == error_type
            assert message in invocation.error["errorMessage"]


def test_check_package_names_the_missing_module_in_one_line(tmp_path: Path) -> None:
    package = make_package(tmp_path / "p.zip", {
        "app.py": "from lib import helper\ndef handler(event, context):\n    return {}\n",
        "lib/__init__.py": "import not_shipped\n"})
    result = check_package(package, sam({"Api": "app.handler", "Other": "app.handler"}))
    assert not result.passed
    assert result.problems == (
        "app.py: No module named 'not_shipped' (Runtime.ImportModuleError): the package "
        "lacks it [Api, Other]",)
    with pytest.raises(Exception, match="check: app.py: No module named 'not_shipped'"):
        result.raise_for_problems()


def test_check_package_points_at_the_line_that_failed_at_import(tmp_path: Path) -> None:
    package = make_package(tmp_path / "p.zip", {
        "app.py": "import lib\ndef handler(event, context):\n    return {}\n",
        "lib.py": "import os\nSECRET = os.environ['MISSING_SECRET']\n"})
    [problem] = check_package(package, sam({"Fn": "app.handler"})).problems
    assert problem == "app.py: 'MISSING_SECRET' (KeyError) at lib.py:2 [Fn]"


def test_check_package_finds_a_function_writing_into_its_task_root(tmp_path: Path) -> None:
    package = make_package(tmp_path / "p.zip", {
        "app.py": "open('cache.json', 'w').write('{}')\n"
                  "def handler(event, context):\n    return {}\n"})
    result = check_package(package, sam({"Fn": "app.handler"}))
    assert result.problems == ("the functions wrote into the task root, read-only on Lambda: "
                               "+cache.json",)


def test_a_clean_package_passes_and_writes_no_bytecode(tmp_path: Path) -> None:
    package = make_package(tmp_path / "p.zip", {
        "app.py": "import lib.sub\ndef handler(event, context):\n    return lib.sub.VALUE\n",
        "lib/__init__.py": "", "lib/sub.py": "VALUE = {'ok': True}\n"})
    result = check_package(package, sam({"Fn": "app.handler"}), workdir=tmp_path / "w")
    assert result.passed and result.problems == ()
    assert result.package_bytes == package.stat().st_size and result.unpacked_bytes > 0
    [function] = result.functions
    assert function.role == "other" and function.checked == "loaded"
    assert function.import_ms is not None and function.import_ms > 0
    assert not list((tmp_path / "w" / "var" / "task").rglob("__pycache__"))


def test_a_runtime_without_an_interpreter_here_is_skipped_with_the_reason(
        tmp_path: Path) -> None:
    package = make_package(tmp_path / "p.zip", {"app.py": ""})
    result = check_package(package, sam({"Fn": "app.handler"}, runtime="python2.7"))
    assert not result.passed and result.problems == () and result.functions == ()
    assert "python2.7" in result.skipped
    assert not find_interpreter("nodejs20.x").available
    assert find_interpreter("nodejs20.x").reason == "nodejs20.x is not a Python runtime"


def test_the_emulation_never_reads_our_site_packages(probe: LambdaProcess) -> None:
    answer = probe.invoke({})
    site = [p for p in answer["path"] if "site-packages" in p]
    assert site == [], json.dumps(answer["path"])
