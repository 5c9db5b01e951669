"""The project's own code outside chalicelib/ is shipped in the Lambda package.

PyMacaron's helloworld, as migrated (tests/fixtures/pymacaron_service/helloworld_migrated: its
code stays in helloworld/, bound by `x-bind-server: helloworld.api.do_hello`), is packaged by
`pym-lambda package --stage prod` in a subprocess; the zip is unpacked and its API function
run as Lambda runs it (`python -I -S -B`, only boto3 beside the task root), driven by a real
API Gateway event. Then vendor_project_code's bookkeeping: copies renewed at each build, the
user's own vendor/ content never touched.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Iterator

import pytest

from pym_lambda.build.deploy.errors import DeployError
from pym_lambda.build.deploy.lambda_events import api_gateway_event, sqs_event
from pym_lambda.build.deploy.lambda_process import LambdaProcess
from pym_lambda.build.deploy.package import logical_id
from pym_lambda.build.deploy.project_code import MANIFEST, vendor_project_code
from tests.compat.test_pymacaron_migration import HELLO_SPEC, MIGRATED, ROOT, SECRET

from .deploy_fixtures import REGION, moto_server
from .lambda_package import (
    Built,
    Runtime,
    build,
    clean_environ,
    moto_sqs,
    open_runtime,
    pym_lambda_command,
    start,
)
from .test_iam_rehearsal import ACCOUNT, received

STAGE = "prod"
UUID_FILE = "/tmp/test-pymacaron-async"


def helloworld(base: Path) -> Path:
    """PyMacaron's helloworld with its code where it was; what a Lambda deploy adds: a prod
    stage for Chalice, the framework's requirements, and the stage allowing the plain
    PYM_JWT_SECRET forwarded at deploy (deploy.md's SSM route is another matter)."""
    project = base / "hello"
    shutil.copytree(MIGRATED, project)
    (project / "apis").mkdir()
    shutil.copy(HELLO_SPEC, project / "apis" / "helloworld.yaml")
    shutil.copy(ROOT / "requirements.txt", project / "requirements.txt")
    chalice = project / ".chalice" / "config.json"
    config = json.loads(chalice.read_text())
    config["stages"][STAGE] = {"api_gateway_stage": "api"}
    chalice.write_text(json.dumps(config, indent=2))
    config = project / "pym-config.yaml"  # where its task writes: this test's own file
    config.write_text(config.read_text().replace(UUID_FILE, str(base / "uuid")))
    with config.open("a") as out:
        out.write(f"\nstages:\n  {STAGE}: {{allow_plain_secrets: true}}\n")
    return project


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    base = tmp_path_factory.mktemp("helloworld")
    return build(helloworld(base), base / "out", STAGE, PYM_JWT_SECRET=SECRET)


@pytest.fixture(scope="module")
def runtime(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    return open_runtime(built, tmp_path_factory.mktemp("lambda"),
                        {logical_id("PYM_JWT_SECRET"): SECRET})


@pytest.fixture(scope="module")
def sqs_url(runtime: Runtime) -> Iterator[str]:
    """A moto server holding the stage's task queues (helloworld has @asynctask functions)."""
    with moto_server() as url:
        sqs = moto_sqs(url)
        for resource in runtime.template["Resources"].values():
            if resource["Type"] == "AWS::SQS::Queue":
                sqs.create_queue(QueueName=resource["Properties"]["QueueName"])
        yield url


@pytest.fixture(scope="module")
def api_function(runtime: Runtime, sqs_url: str) -> Iterator[LambdaProcess]:
    process = start(runtime, "APIHandler", sqs_url)
    yield process
    process.close()


def test_the_package_ships_helloworld_at_its_root(built: Built) -> None:
    with zipfile.ZipFile(built.zip) as package:
        names = package.namelist()
    assert {"helloworld/__init__.py", "helloworld/api.py", "helloworld/models.py"} <= set(names)
    assert not [n for n in names if n.startswith("vendor/")]  # Chalice unpacks vendor/


def test_hello_answers_on_lambda_from_the_code_left_in_helloworld(
        api_function: LambdaProcess, runtime: Runtime) -> None:
    assert api_function.init_error is None, api_function.init_error
    result = api_function.invoke(api_gateway_event(runtime.api, "GET", "/hello"))
    assert result["statusCode"] == 200, result
    assert json.loads(result["body"]) == {"message": "Hello world!"}


def test_helloworlds_async_call_runs_its_task_on_the_worker_lambda(
        api_function: LambdaProcess, runtime: Runtime, sqs_url: str, built: Built) -> None:
    """GET /async calls my_task_async, an @asynctask left in helloworld/api.py: task_workers()
    finds it through the bindings, so the package has a worker Lambda, which runs it."""
    reply = api_function.invoke(api_gateway_event(runtime.api, "GET", "/async"))
    assert reply["statusCode"] == 200, reply
    code = json.loads(reply["body"])["message"].removeprefix("Writing code ")
    [worker] = [s.logical_id for s in runtime.functions.values() if s.is_sqs_worker]
    queue = next(r["Properties"]["QueueName"] for r in runtime.template["Resources"].values()
                 if r["Type"] == "AWS::SQS::Queue" and not r["Properties"]["QueueName"]
                 .endswith("-dlq"))
    messages = received(moto_sqs(sqs_url), queue, 1)
    with start(runtime, worker, sqs_url) as process:
        result = process.invoke(sqs_event(messages, f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}"))
        logs = process.logs
    assert result == {"batchItemFailures": []}, logs
    uuid_file = built.zip.parents[1] / "uuid"  # helloworld()'s base: see its config
    assert uuid_file.read_text() == code  # the task ran, with its model arguments


def test_validate_says_helloworld_is_shipped_and_warns_no_more(tmp_path: Path) -> None:
    project = helloworld(tmp_path)
    done = subprocess.run([*pym_lambda_command(), "validate"], cwd=project, text=True,
                          capture_output=True, timeout=300,
                          env=clean_environ(PYM_JWT_SECRET=SECRET))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "info: helloworld/ is outside chalicelib/: `package` and `deploy` copy it into the " \
           "package's vendor/ (at the zip's root), so it imports on AWS as here" \
           in done.stdout.splitlines()
    assert "outside chalicelib/" not in "".join(
        line for line in done.stdout.splitlines() if line.startswith("warning: "))


# --- vendor_project_code, in process ----------------------------------------------------------

def service(root: Path, imports: str) -> Path:
    (root / "chalicelib").mkdir(parents=True)
    (root / "app.py").write_text(imports)
    (root / "helpers.py").write_text("X = 1\n")
    (root / "shop").mkdir()
    (root / "shop" / "__init__.py").write_text("from helpers import X\n")  # followed
    (root / "shop" / "prices.csv").write_text("a,1\n")  # data of the package, shipped too
    (root / "scripts").mkdir()
    (root / "scripts" / "__init__.py").write_text("")  # imported by nothing: left out
    return root


def test_the_copies_are_renewed_and_the_users_vendor_is_left_alone(tmp_path: Path) -> None:
    root = service(tmp_path, "import shop\n")
    (root / "vendor" / "theirs").mkdir(parents=True)
    code = vendor_project_code(root, ["chalicelib.api.f"])
    assert [p.name for p in code.paths] == ["helpers.py", "shop"] and code.files == 3
    assert (root / "vendor" / "shop" / "prices.csv").is_file()
    assert (root / MANIFEST).read_text().split() == ["helpers.py", "shop"]

    (root / "app.py").write_text("import helpers\n")  # shop is no longer imported
    code = vendor_project_code(root, [])
    assert [p.name for p in code.paths] == ["helpers.py"]
    assert not (root / "vendor" / "shop").exists()
    assert (root / "vendor" / "theirs").is_dir()


def test_a_vendored_copy_of_the_users_own_is_refused(tmp_path: Path) -> None:
    root = service(tmp_path, "")
    (root / "vendor" / "shop").mkdir(parents=True)
    with pytest.raises(DeployError) as info:
        vendor_project_code(root, ["shop.api.f"])
    assert "vendor/shop would shadow the project's own shop: remove one of the two" \
        in str(info.value)
    assert (root / "vendor" / "shop").is_dir()


def test_code_named_only_by_x_parent_is_shipped_too(tmp_path: Path) -> None:
    from pym_lambda.build.validation import binding_targets

    root = service(tmp_path, "")
    compiled = {"apis": [{"operations": [{"bind": "chalicelib.api.f"}],
                          "definitions": {"Price": {"type": "object",
                                                    "x-parent": "shop.Price"}}}]}
    code = vendor_project_code(root, binding_targets(compiled))
    assert [p.name for p in code.paths] == ["helpers.py", "shop"]

