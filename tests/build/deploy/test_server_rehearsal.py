"""The rehearsal of the README: `pym-lambda deploy` against a moto server on 127.0.0.1
(AWS_ENDPOINT_URL), as a new user runs it from a fresh clone, then deploy again and delete."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

import boto3
import pytest

from pym_lambda.build.deploy.cli import delete, deploy

from .deploy_fixtures import (
    API_FUNCTION,
    DLQ,
    PROD_SECRET,
    QUEUE,
    REGION,
    STAGE,
    WORKER,
    deploy_sandbox,
    fake_aws_environment,
    fresh_moto,
    invoke,
    moto_server,
    put_jwt_parameter,
)


def test_deploy_against_a_moto_server_on_localhost(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    with deploy_sandbox(tmp_path, monkeypatch, in_process_moto=False) as project, \
            fresh_moto(), moto_server() as endpoint:
        fake_aws_environment(monkeypatch, endpoint=endpoint)
        put_jwt_parameter()  # the README's first step: the prod stage reads it from SSM

        def client(service: str) -> Any:  # AWS_ENDPOINT_URL points it at the server
            return boto3.client(service, region_name=REGION)

        args = ("--stage", STAGE, "--yes", "--skip-verify", "--project-dir", str(project))
        first = invoke(deploy, *args)
        assert first.exit_code == 0, first.output
        assert f"endpoint {endpoint}" in first.output
        functions = {f["FunctionName"]: f["Handler"]
                     for f in client("lambda").list_functions()["Functions"]}
        assert functions == {API_FUNCTION: "app.app", WORKER: "app.pym_task_worker_default"}
        for configuration in client("lambda").list_functions()["Functions"]:
            assert "JWT_SECRET" not in configuration["Environment"]["Variables"]
            assert PROD_SECRET not in json.dumps(configuration)
        [mapping] = client("lambda").list_event_source_mappings()["EventSourceMappings"]
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        sqs = client("sqs")
        url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])[
            "Attributes"]
        assert json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"].endswith(DLQ)
        [api] = client("apigateway").get_rest_apis()["items"]
        assert client("apigateway").get_stages(restApiId=api["id"])["item"][0][
            "stageName"] == "api"

        apigateway = client("apigateway")

        def deployments() -> List[Dict[str, Any]]:
            return list(apigateway.get_deployments(restApiId=api["id"])["items"])

        [first_deployment] = deployments()
        assert first_deployment["description"].startswith("pym-lambda definition sha256:")
        assert f"deployment {first_deployment['id']} of stage 'api'" in first.output

        second = invoke(deploy, *args)
        assert second.exit_code == 0, second.output
        assert "version: 1 unchanged" in second.output
        assert len(client("lambda").list_event_source_mappings()["EventSourceMappings"]) == 1
        assert len(apigateway.get_rest_apis()["items"]) == 1
        # Nothing changed: the stage keeps its deployment, none is added.
        assert deployments() == [first_deployment]
        assert (f"definition unchanged, stage 'api' keeps deployment {first_deployment['id']}"
                in second.output)
        assert apigateway.get_stage(restApiId=api["id"], stageName="api")[
            "deploymentId"] == first_deployment["id"]

        # A new operation in the spec is a new route: the REST API changed, one deployment.
        spec = project / "apis" / "library.yaml"
        spec.write_text(spec.read_text().replace("paths:\n", (
            "paths:\n  /shelves:\n    get:\n      operationId: listShelves\n"
            "      responses:\n        '200': {description: the shelves}\n"), 1))
        third = invoke(deploy, *args)
        assert third.exit_code == 0, third.output
        assert len(deployments()) == 2
        current = apigateway.get_stage(restApiId=api["id"], stageName="api")["deploymentId"]
        assert current != first_deployment["id"]
        assert f"deployment {current} of stage 'api'" in third.output
        paths = {r["path"] for r in apigateway.get_resources(restApiId=api["id"])["items"]}
        assert "/v1/shelves" in paths

        fourth = invoke(deploy, *args)
        assert fourth.exit_code == 0, fourth.output
        assert len(deployments()) == 2 and "definition unchanged" in fourth.output

        removed = invoke(delete, "--stage", STAGE, "--yes", "--include-queues",
                         "--project-dir", str(project))
        assert removed.exit_code == 0, removed.output
        assert client("lambda").list_functions()["Functions"] == []
        assert sqs.list_queues().get("QueueUrls", []) == []
