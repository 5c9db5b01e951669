"""The example's Lambda package, run as AWS runs it.

`pym-lambda package --stage prod` builds sam.json and deployment.zip in a subprocess, from a
copy of the example with its requirements.txt; the zip is unpacked into var/task and its
functions run in the emulated runtime (only boto3 and its dependencies beside the task root,
`python -I -S -B`), driven by real API Gateway REST proxy and SQS events. AWS is a moto server
on 127.0.0.1. What is asserted is the functions' JSON answers: the subject is the artifact,
not the project tree.
"""
from __future__ import annotations

import base64
import json
import shutil
import time
import zipfile
from pathlib import Path
from typing import Any, Dict, Iterator, Tuple

import jwt
import pytest

from pym_lambda.build.deploy.artifact_check import check_package
from pym_lambda.build.deploy.lambda_events import api_gateway_event, sqs_event
from pym_lambda.build.deploy.lambda_process import LambdaProcess

from .deploy_fixtures import (
    APP,
    DLQ,
    JWT_PARAMETER,
    PROD_SECRET,
    QUEUE,
    REGION,
    STAGE,
    copy_example,
    moto_server,
)
from .lambda_package import Built, ExamplePackage, Runtime, build, moto_sqs, open_runtime, start

# prod reads its JWT secret from SSM (the moto server's): the template takes no parameter.
PARAMETERS: Dict[str, str] = {}


@pytest.fixture(scope="module")
def built(example_package: ExamplePackage) -> Built:
    assert (example_package.project / "requirements.txt").is_file()
    return example_package.built


@pytest.fixture(scope="module")
def runtime(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    return open_runtime(built, tmp_path_factory.mktemp("lambda"), PARAMETERS)


@pytest.fixture(scope="module")
def aws() -> Iterator[Tuple[str, Any]]:
    """A moto server with the stage's task queue and JWT secret, and a client of its SQS."""
    import boto3

    with moto_server() as url:
        sqs = moto_sqs(url)
        for name in (QUEUE, DLQ):
            sqs.create_queue(QueueName=name)
        boto3.client("ssm", region_name=REGION, endpoint_url=url, aws_access_key_id="testing",
                     aws_secret_access_key="testing").put_parameter(
            Name=JWT_PARAMETER, Value=PROD_SECRET, Type="SecureString")
        yield url, sqs


@pytest.fixture(scope="module")
def api_function(runtime: Runtime, aws: Tuple[str, Any]) -> Iterator[LambdaProcess]:
    """The REST API's function, warm for the whole module as a Lambda sandbox would be."""
    process = start(runtime, "APIHandler", aws[0])
    assert process.init_error is None, process.init_error
    yield process
    process.close()


def answer(process: LambdaProcess, event: Dict[str, Any]) -> Tuple[int, Any]:
    result = process.invoke(event)
    assert result["headers"]["Content-Type"].startswith("application/json"), result
    return result["statusCode"], json.loads(result["body"]) if result["body"] else None


def call(process: LambdaProcess, runtime: Runtime, method: str, path: str,
         **kwargs: Any) -> Tuple[int, Any]:
    return answer(process, api_gateway_event(runtime.api, method, path, **kwargs))


def token(user: str = "alice") -> str:
    now = int(time.time())
    return jwt.encode({"sub": user, "iss": APP, "iat": now, "exp": now + 300}, PROD_SECRET,
                      algorithm="HS256")


def new_book(process: LambdaProcess, runtime: Runtime, title: str) -> Dict[str, Any]:
    status, book = call(process, runtime, "POST", "/v1/books",
                        json_body={"title": title, "authors": [{"name": "Ursula K. Le Guin"}]})
    assert status == 201, book
    return dict(book)


# --- the build-time smoke check -------------------------------------------------------------

def test_check_package_passes_on_the_example_package(built: Built, runtime: Runtime) -> None:
    result = check_package(built.zip, built.sam, parameters=PARAMETERS)
    assert result.problems == () and result.skipped == "" and result.passed
    assert set(result.checks_passed) == {"APIHandler: GET /ping -> 200",
                                         "PymTaskWorkerDefault: empty SQS batch -> no error"}
    assert result.package_bytes == built.zip.stat().st_size
    assert result.unpacked_bytes > result.package_bytes
    roles = {f.logical_id: f.role for f in result.functions}
    assert roles == {"APIHandler": "api", "PymTaskWorkerDefault": "sqs worker"}
    assert all(f.import_ms and f.import_ms > 0 for f in result.functions)


def test_a_package_without_the_framework_fails_the_check_as_it_would_on_aws(
        runtime: Runtime, built: Built, tmp_path: Path) -> None:
    copy = tmp_path / "var" / "task"
    shutil.copytree(runtime.task_root, copy)
    assert (copy / "pym_lambda").is_dir()  # Chalice ships vendor/'s content at the root
    shutil.rmtree(copy / "pym_lambda")
    result = check_package(copy, built.template, parameters=PARAMETERS)
    assert not result.passed
    assert result.problems == (
        "app.py: No module named 'pym_lambda' (Runtime.ImportModuleError): the package lacks "
        "it [PymTaskWorkerDefault, APIHandler]",)


def test_the_package_holds_no_secret_and_its_template_asks_for_none(built: Built) -> None:
    assert "Parameters" not in built.template
    assert PROD_SECRET not in built.sam.read_text()
    with zipfile.ZipFile(built.zip) as package:
        assert not [n for n in package.namelist() if PROD_SECRET.encode() in package.read(n)]
        compiled = json.loads(package.read("chalicelib/pym_compiled.json"))
    assert compiled["config"]["stages"]["prod"]["jwt"]["secret"] == {"ssm": JWT_PARAMETER}


def test_a_missing_secret_parameter_is_named(built: Built) -> None:
    # A stage that allows plain secrets gets them as template parameters (package.py).
    template = json.loads(json.dumps(built.template))
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["Environment"]["Variables"]["JWT_SECRET"] = {
                "Ref": "JwtSecret"}
    result = check_package(built.zip, template)
    assert result.problems and all('JWT_SECRET ({"Ref": "JwtSecret"}' in p
                                   for p in result.problems)


# --- the API function -----------------------------------------------------------------------

def test_ping_and_version(api_function: LambdaProcess, runtime: Runtime) -> None:
    assert call(api_function, runtime, "GET", "/ping") == (200, {})
    status, version = call(api_function, runtime, "GET", "/version")
    assert status == 200
    assert (version["name"], version["pym_env"]) == (APP, "prod")
    # a production stage: no platform details (Python, framework, kernel) for the public
    assert not {"pym_lambda", "python", "runtime", "container"} & set(version)


def test_a_book_created_is_listed_and_read_back(api_function: LambdaProcess,
                                                runtime: Runtime) -> None:
    book = new_book(api_function, runtime, "The Dispossessed")
    assert book["available"] is True and isinstance(book["id"], int)
    status, listed = call(api_function, runtime, "GET", "/v1/books")
    assert status == 200 and listed["count"] == len(listed["books"])
    assert book in listed["books"]
    assert call(api_function, runtime, "GET", f"/v1/books/{book['id']}") == (200, book)


def test_a_base64_encoded_body_is_decoded(api_function: LambdaProcess, runtime: Runtime) -> None:
    sent = {"title": "Solaris", "authors": [{"name": "Stanisław Lem"}], "tags": ["sf"]}
    event = api_gateway_event(runtime.api, "POST", "/v1/books", json_body=sent,
                              base64_body=True)
    assert event["isBase64Encoded"] is True
    assert json.loads(base64.b64decode(event["body"])) == sent
    status, book = answer(api_function, event)
    assert status == 201
    assert {k: book[k] for k in sent} == sent


def test_a_missing_field_is_a_400_naming_it(api_function: LambdaProcess,
                                            runtime: Runtime) -> None:
    status, error = call(api_function, runtime, "POST", "/v1/books", json_body={"title": "x"})
    assert status == 400 and error["error"] == "INVALID_PARAMETER"
    assert "'authors'" in error["error_description"] and error["error_id"]
    status, error = call(api_function, runtime, "GET", "/v1/books?limit=0")
    assert status == 400 and "'limit'" in error["error_description"]


RE2_LINES = ('google-re2==1.1; python_version < "3.12"\n'  # as the example's requirements
             'google-re2>=1.1; python_version >= "3.12"\n')


def test_spec_patterns_run_on_the_re2_the_package_ships(api_function: LambdaProcess,
                                                        runtime: Runtime,
                                                        built: Built) -> None:
    with zipfile.ZipFile(built.zip) as archive:
        names = archive.namelist()
    assert "re2.py" in names or "re2/__init__.py" in names  # google-re2, from requirements.txt
    book = {"title": "x", "authors": [{"name": "y"}]}
    status, error = call(api_function, runtime, "POST", "/v1/books",
                         json_body=dict(book, isbn="0123456789\n"))  # `re`'s `$` took it
    assert status == 400 and "body.isbn" in error["error_description"], error
    assert call(api_function, runtime, "POST", "/v1/books",
                json_body=dict(book, isbn="0123456789"))[0] == 201


def test_an_unknown_path_is_the_frameworks_404_json(api_function: LambdaProcess,
                                                    runtime: Runtime) -> None:
    event = api_gateway_event(runtime.api, "GET", "/v1/no-such-thing")
    assert event["resource"] == "/{proxy+}"  # API Gateway's catch-all resource reached
    status, error = answer(api_function, event)
    assert status == 404
    assert error["error"] == "UNKNOWN_PATH" and error["status"] == 404 and error["error_id"]


def test_a_loan_without_a_token_is_401(api_function: LambdaProcess, runtime: Runtime) -> None:
    book = new_book(api_function, runtime, "Kindred")
    status, error = call(api_function, runtime, "POST", f"/v1/books/{book['id']}/loans",
                         json_body={"reader": "bob", "due": "2099-01-01"})
    assert status == 401 and error["status"] == 401 and error["error_id"]
    assert call(api_function, runtime, "GET", f"/v1/books/{book['id']}")[1]["available"]


def test_null_query_parameters_take_the_defaults(api_function: LambdaProcess,
                                                 runtime: Runtime) -> None:
    for title in ("A", "B"):
        new_book(api_function, runtime, title)
    event = api_gateway_event(runtime.api, "GET", "/v1/books")
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    status, everything = answer(api_function, event)
    assert status == 200 and len(everything["books"]) == min(everything["count"], 20) >= 2
    status, one = call(api_function, runtime, "GET", "/v1/books?limit=1")
    assert status == 200 and len(one["books"]) == 1 and one["count"] == everything["count"]


def test_an_event_with_only_multi_value_headers_is_answered(api_function: LambdaProcess,
                                                            runtime: Runtime) -> None:
    book = new_book(api_function, runtime, "Parable of the Sower")
    event = api_gateway_event(runtime.api, "GET", f"/v1/books/{book['id']}",
                              headers={"Accept": "application/json"})
    event["headers"] = None  # some sources send multiValueHeaders alone
    assert event["multiValueHeaders"]["Accept"] == ["application/json"]
    assert answer(api_function, event) == (200, book)


# --- a loan, its task on the queue, the worker ------------------------------------------------

def test_a_loan_is_queued_and_the_worker_runs_it(api_function: LambdaProcess, runtime: Runtime,
                                                 aws: Tuple[str, Any]) -> None:
    url, sqs = aws
    book = new_book(api_function, runtime, "The Left Hand of Darkness")
    event = api_gateway_event(
        runtime.api, "POST", f"/v1/books/{book['id']}/loans",
        json_body={"reader": "bob", "due": "2099-01-01"},
        headers=[("Authorization", f"Bearer {token('alice')}"),
                 ("X-Library-Branch", "north"), ("X-Library-Branch", "south")])
    assert event["multiValueHeaders"]["X-Library-Branch"] == ["north", "south"]
    status, loan = answer(api_function, event)
    assert status == 201, loan
    # API Gateway's `headers` holds a repeated header's last value
    assert (loan["book_id"], loan["branch"], loan["lent_by"]) == (book["id"], "south", "alice")

    queue_url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                   AttributeNames=["All"], MessageAttributeNames=["All"],
                                   WaitTimeSeconds=1).get("Messages", [])
    assert len(messages) == 1 and loan["id"] in messages[0]["Body"]
    garbage = {"MessageId": "not-a-task", "ReceiptHandle": "r", "Body": "not a task envelope"}
    arn = f"arn:aws:sqs:{REGION}:123456789012:{QUEUE}"
    batch = sqs_event([*messages, garbage], arn)
    assert batch["Records"][0]["attributes"]["ApproximateReceiveCount"] == "1"
    with start(runtime, "PymTaskWorkerDefault", url) as worker:
        assert worker.init_error is None, worker.init_error
        result = worker.invoke(batch)
    # the task ran; the record that is no task fails alone (partial batch response)
    assert result == {"batchItemFailures": [{"itemIdentifier": "not-a-task"}]}, worker.logs


# --- native wheels for the Lambda platform ----------------------------------------------------

def test_rs256_keys_work_on_lambda_with_the_crypto_wheels_chalice_ships(
        tmp_path: Path) -> None:
    """pyjwt[crypto] pulls cryptography, a native wheel: Chalice's packager fetches the one for
    the Lambda platform (manylinux, this Python), and the package verifies RS256 tokens."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    project = copy_example(tmp_path / "service")
    config = project / "pym-config.yaml"
    config.write_text(config.read_text().replace(
        "  secret: {env: JWT_SECRET}\n  algorithms: [HS256]\n",
        "  public_key: {env: JWT_PUBLIC_KEY}\n  algorithms: [RS256]\n"))
    (project / "requirements.txt").write_text(
        "pyjwt[crypto]>=2.15\nrequests>=2.31\n" + RE2_LINES)
    built = build(project, tmp_path / "out", STAGE, JWT_PUBLIC_KEY=public.decode())
    with zipfile.ZipFile(built.zip) as archive:
        natives = [n for n in archive.namelist() if n.startswith("cryptography/")
                   and n.endswith(".so")]
        wheel = [n for n in archive.namelist() if n.startswith("cryptography-")
                 and n.endswith("/WHEEL")]
        tags = archive.read(wheel[0]).decode()
    assert natives and "manylinux" in tags and "x86_64" in tags
    runtime = open_runtime(built, tmp_path / "lambda", {"JwtPublicKey": public.decode()})
    with moto_server() as url:
        sqs = moto_sqs(url)
        for name in (QUEUE, DLQ):
            sqs.create_queue(QueueName=name)
        with start(runtime, "APIHandler", url) as api:
            book = new_book(api, runtime, "The Dispossessed")
            now = int(time.time())
            signed = jwt.encode({"sub": "carol", "iss": APP, "iat": now, "exp": now + 300},
                                key, algorithm="RS256")
            status, loan = call(api, runtime, "POST", f"/v1/books/{book['id']}/loans",
                                json_body={"reader": "dan", "due": "2099-01-01"},
                                headers={"Authorization": f"Bearer {signed}"})
            assert status == 201 and loan["lent_by"] == "carol", loan
            forged = jwt.encode({"sub": "eve", "iss": APP, "exp": now + 300},
                                "not-the-key-but-long-enough-for-hs256-0123456789",
                                algorithm="HS256")
            status, error = call(api, runtime, "POST", f"/v1/books/{book['id']}/loans",
                                 json_body={"reader": "dan", "due": "2099-01-01"},
                                 headers={"Authorization": f"Bearer {forged}"})
            assert status == 401, error
