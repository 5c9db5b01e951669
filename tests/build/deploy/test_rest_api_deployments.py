"""The REST API deployment skipper around Chalice's client: API Gateway answered by a Stubber,
Chalice's own client by a recorder (the moto server test deploys for real)."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Dict, Iterator, List, Tuple

import boto3
import pytest
from botocore.stub import Stubber

from pym_lambda.build.deploy.rest_api_deployments import (
    DeploymentSkipper,
    definition_digest,
    description_for,
    skip_unchanged_deployments,
)

API = "abc123"
DOCUMENT = {"swagger": "2.0", "info": {"title": "shop"},
            "paths": {"/ping": {"get": {"x-amazon-apigateway-integration": {
                "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                       "arn:aws:lambda:us-east-1:1:function:shop-prod/invocations"}}}}}
COMPRESSION = {"op": "replace", "path": "/minimumCompressionSize", "value": ""}
ENDPOINT = {"op": "replace", "path": "/endpointConfiguration/types/EDGE", "value": "EDGE"}


class ChaliceClient:
    """Stands for TypedAWSClient: records the calls the skipper passes on."""

    def __init__(self) -> None:
        self.calls: List[Tuple[str, Dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        def call(**kwargs: Any) -> Any:
            self.calls.append((name, kwargs))
            return API if name == "import_rest_api" else None
        return call


@pytest.fixture
def apigateway() -> Iterator[Any]:
    client = boto3.client("apigateway", region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    with Stubber(client) as stubber:
        client.stubber = stubber  # type: ignore[attr-defined]
        yield client
    stubber.assert_no_pending_responses()


def skipper(apigateway: Any) -> Tuple[DeploymentSkipper, ChaliceClient]:
    chalice = ChaliceClient()
    return DeploymentSkipper(chalice, lambda: apigateway), chalice


def stage_serves(apigateway: Any, description: str, deployment: str = "dep1") -> None:
    apigateway.stubber.add_response("get_stage", {"deploymentId": deployment, "stageName": "api"},
                                    {"restApiId": API, "stageName": "api"})
    apigateway.stubber.add_response("get_deployment", {"id": deployment,
                                                       "description": description},
                                    {"restApiId": API, "deploymentId": deployment})


def expect_deployment(apigateway: Any, digest: str, xray: bool = False) -> None:
    apigateway.stubber.add_response(
        "create_deployment", {"id": "dep2"},
        {"restApiId": API, "stageName": "api", "tracingEnabled": xray,
         "description": description_for(digest)})


def put_definition(skip: DeploymentSkipper, *patches: Dict[str, Any], new: bool = False,
                   document: Any = DOCUMENT) -> None:
    if new:
        assert skip.import_rest_api(swagger_document=document, endpoint_type="EDGE") == API
    else:
        skip.update_api_from_swagger(rest_api_id=API, swagger_document=document)
    skip.update_rest_api(rest_api_id=API, patch_operations=list(patches))


def test_a_new_stage_gets_a_deployment_named_by_its_definition(apigateway: Any) -> None:
    skip, chalice = skipper(apigateway)
    put_definition(skip, COMPRESSION, new=True)
    apigateway.stubber.add_client_error("get_stage", service_error_code="NotFoundException",
                                        http_status_code=404)
    digest = definition_digest(DOCUMENT, [COMPRESSION], "api", False)
    expect_deployment(apigateway, digest)
    skip.deploy_rest_api(rest_api_id=API, api_gateway_stage="api", xray=False)
    assert [name for name, _ in chalice.calls] == ["import_rest_api", "update_rest_api"]
    assert skip.lines == [f"REST API {API}: deployment dep2 of stage 'api' "
                          f"(definition {digest[:12]})"]


def test_the_same_definition_is_not_deployed_again(apigateway: Any) -> None:
    skip, chalice = skipper(apigateway)
    # Chalice patches the endpoint type only on an update: not part of the definition.
    put_definition(skip, COMPRESSION, ENDPOINT)
    stage_serves(apigateway, description_for(definition_digest(DOCUMENT, [COMPRESSION], "api",
                                                               False)))
    skip.deploy_rest_api(rest_api_id=API, api_gateway_stage="api", xray=False)
    assert "deploy_rest_api" not in [name for name, _ in chalice.calls]
    assert skip.lines == [f"REST API {API}: definition unchanged, stage 'api' keeps "
                          "deployment dep1 (no new deployment)"]


@pytest.mark.parametrize("change", ["document", "compression", "xray", "by hand"])
def test_any_change_of_what_a_deployment_snapshots_deploys(apigateway: Any, change: str) -> None:
    skip, _ = skipper(apigateway)
    served = description_for(definition_digest(DOCUMENT, [COMPRESSION], "api", False))
    document = {**DOCUMENT, "paths": {}} if change == "document" else DOCUMENT
    compression = {**COMPRESSION, "value": "1024"} if change == "compression" else COMPRESSION
    xray = change == "xray"
    put_definition(skip, compression, ENDPOINT, document=document)
    stage_serves(apigateway, "deployed with the console" if change == "by hand" else served)
    expect_deployment(apigateway, definition_digest(document, [compression], "api", xray), xray)
    skip.deploy_rest_api(rest_api_id=API, api_gateway_stage="api", xray=xray)
    assert skip.lines[-1].startswith(f"REST API {API}: deployment dep2 of stage 'api'")


def test_without_a_definition_put_this_run_chalice_deploys_as_it_would(apigateway: Any) -> None:
    skip, chalice = skipper(apigateway)
    skip.deploy_rest_api(rest_api_id=API, api_gateway_stage="api", xray=True)
    assert chalice.calls == [("deploy_rest_api", {"rest_api_id": API,
                                                  "api_gateway_stage": "api", "xray": True})]


def test_the_skipper_wraps_the_client_of_chalices_default_deployer() -> None:
    import botocore.session
    from chalice.awsclient import TypedAWSClient
    from chalice.config import Config
    from chalice.deploy.deployer import create_default_deployer

    session = botocore.session.get_session()
    config = Config.create(chalice_stage="prod", app_name="shop", project_dir=".")
    deployer = create_default_deployer(session, config, SimpleNamespace())  # type: ignore
    skip = skip_unchanged_deployments(deployer, session)
    assert deployer._executor._client is skip
    assert isinstance(skip._client, TypedAWSClient) and skip.lines == []

    other = skip_unchanged_deployments(SimpleNamespace(), session)
    assert other.lines == ["REST API: deployed on every run (this Chalice's deployer has no "
                           "client pym-lambda can wrap)"]
