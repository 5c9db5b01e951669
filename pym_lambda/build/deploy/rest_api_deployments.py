"""A new API Gateway deployment only when the REST API's definition changed.

Chalice's planner ends every deploy of a REST API with `deploy_rest_api`, which calls
create_deployment: each `pym-lambda deploy` added a deployment (a snapshot of the API) to the
stage, although nothing had changed. Chalice puts the whole definition on every run (the
swagger document, then the API settings), so whether a deployment is due can be told exactly:
the stage serves a snapshot of the definition it was made from.

`DeploymentSkipper` wraps the TypedAWSClient Chalice's executor calls. It keeps what Chalice put
(`import_rest_api` / `update_api_from_swagger`: the swagger document with the Lambda ARN
resolved; `update_rest_api`: the settings a deployment snapshots, such as
minimumCompressionSize, but not the endpoint type, which is the API's own) and, at
`deploy_rest_api`, takes a digest of it with the stage name and the X-Ray flag. The deployment
it creates carries the digest in its description; when the stage's current deployment
already carries the same one, no deployment is made. A stage changed by hand, a deployment
made by plain `chalice deploy` or a half-finished run all show another description: the API
is then deployed, as before.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Callable, Dict, List, Optional

DESCRIPTION_PREFIX = "pym-lambda definition sha256:"
# update_rest_api patches that describe the API itself, not what a deployment snapshots.
_NOT_DEPLOYED_PATHS = ("/endpointConfiguration/",)


def definition_digest(document: Any, settings: List[Dict[str, Any]], stage: str,
                      xray: bool) -> str:
    """sha256 of the definition a deployment of `stage` would snapshot."""
    payload = json.dumps({"document": document, "settings": settings, "stage": stage,
                          "xray": bool(xray)}, sort_keys=True, separators=(",", ":"),
                         default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def description_for(digest: str) -> str:
    return DESCRIPTION_PREFIX + digest


class DeploymentSkipper:
    """A TypedAWSClient whose `deploy_rest_api` is skipped when nothing changed (see above).
    Every other method is the wrapped client's."""

    def __init__(self, client: Any, apigateway: Callable[[], Any]) -> None:
        self._client = client
        self._apigateway_factory = apigateway
        self._apigateway: Optional[Any] = None
        self._documents: Dict[str, Any] = {}
        self._settings: Dict[str, List[Dict[str, Any]]] = {}
        self.lines: List[str] = []  # what was done, for the deploy's output

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    @property
    def apigateway(self) -> Any:
        if self._apigateway is None:
            self._apigateway = self._apigateway_factory()
        return self._apigateway

    # Chalice's executor calls these with keyword arguments named as in TypedAWSClient.
    def import_rest_api(self, swagger_document: Dict[str, Any], endpoint_type: str) -> str:
        rest_api_id = str(self._client.import_rest_api(swagger_document=swagger_document,
                                                       endpoint_type=endpoint_type))
        self._documents[rest_api_id] = swagger_document
        return rest_api_id

    def update_api_from_swagger(self, rest_api_id: str,
                                swagger_document: Dict[str, Any]) -> None:
        self._client.update_api_from_swagger(rest_api_id=rest_api_id,
                                             swagger_document=swagger_document)
        self._documents[rest_api_id] = swagger_document

    def update_rest_api(self, rest_api_id: str, patch_operations: List[Dict[str, Any]]) -> None:
        self._client.update_rest_api(rest_api_id=rest_api_id, patch_operations=patch_operations)
        self._settings[rest_api_id] = [
            op for op in patch_operations
            if not str(op.get("path", "")).startswith(_NOT_DEPLOYED_PATHS)]

    def deploy_rest_api(self, rest_api_id: str, api_gateway_stage: str, xray: bool) -> None:
        document = self._documents.get(rest_api_id)
        if document is None:  # Chalice put no definition this run: deploy, as it would
            self._client.deploy_rest_api(rest_api_id=rest_api_id,
                                         api_gateway_stage=api_gateway_stage, xray=xray)
            self.lines.append(f"REST API {rest_api_id}: stage {api_gateway_stage!r} deployed")
            return
        digest = definition_digest(document, self._settings.get(rest_api_id, []),
                                   api_gateway_stage, xray)
        current = self.current_deployment(rest_api_id, api_gateway_stage)
        if current is not None and current.get("description") == description_for(digest):
            self.lines.append(f"REST API {rest_api_id}: definition unchanged, stage "
                              f"{api_gateway_stage!r} keeps deployment {current.get('id')} "
                              "(no new deployment)")
            return
        created = self.apigateway.create_deployment(
            restApiId=rest_api_id, stageName=api_gateway_stage, tracingEnabled=bool(xray),
            description=description_for(digest))
        self.lines.append(f"REST API {rest_api_id}: deployment {created.get('id')} of stage "
                          f"{api_gateway_stage!r} (definition {digest[:12]})")

    def current_deployment(self, rest_api_id: str, stage: str) -> Optional[Dict[str, Any]]:
        """The deployment the stage serves; None if there is no such stage yet."""
        try:
            found = self.apigateway.get_stage(restApiId=rest_api_id, stageName=stage)
        except Exception as exc:
            code = (getattr(exc, "response", None) or {}).get("Error", {}).get("Code")
            if code == "NotFoundException":
                return None
            raise
        deployment_id = found.get("deploymentId")
        if not deployment_id:
            return None
        return dict(self.apigateway.get_deployment(restApiId=rest_api_id,
                                                   deploymentId=deployment_id))


def skip_unchanged_deployments(deployer: Any, session: Any) -> DeploymentSkipper:
    """Wrap the client of the executor of Chalice's default deployer (in place). With a
    deployer built otherwise (another Chalice), nothing is wrapped: every deploy deploys the
    REST API, as Chalice does, and the returned skipper says so."""
    executor = getattr(deployer, "_executor", None)
    client = getattr(executor, "_client", None)
    if client is None or not callable(getattr(client, "deploy_rest_api", None)):
        skipper = DeploymentSkipper(client, lambda: None)
        skipper.lines.append("REST API: deployed on every run (this Chalice's deployer has "
                             "no client pym-lambda can wrap)")
        return skipper
    skipper = DeploymentSkipper(client, lambda: session.create_client("apigateway"))
    executor._client = skipper  # type: ignore[union-attr]
    return skipper
