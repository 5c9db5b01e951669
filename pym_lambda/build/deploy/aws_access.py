"""Region and credentials, checked before the first AWS call; the account and its clients.

boto3 resolves both lazily, so a missing region or credentials would otherwise surface as a
traceback from deep inside Chalice, after some resources already exist.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

from .errors import DeployError, one_line

ClientFactory = Callable[[str], Any]  # service name -> boto3 client


@dataclass(frozen=True)
class AwsTarget:
    region: str
    account_id: str
    endpoint_url: Optional[str] = None  # a local moto server or LocalStack, when set


def resolve_region(region: Optional[str] = None) -> str:
    import os

    import boto3

    # boto3 reads AWS_DEFAULT_REGION only; AWS_REGION is what Lambda and most CI set.
    found = region or boto3.session.Session().region_name or os.environ.get("AWS_REGION")
    if not found:
        raise DeployError("aws", "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION), pass "
                                 "--region, or set region in ~/.aws/config")
    return str(found)


def check_credentials(step: str = "aws") -> None:
    """botocore's credential chain finds some (read locally: no AWS call)."""
    import boto3

    if boto3.session.Session().get_credentials() is None:
        raise DeployError(step, "no AWS credentials: set AWS_ACCESS_KEY_ID and "
                                "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run `aws configure`")


def check_access(region: Optional[str] = None, clients: Optional[ClientFactory] = None,
                 step: str = "aws") -> AwsTarget:
    """The region, the credentials (read locally first), then the account (one STS call)."""
    import os

    resolved = resolve_region(region)
    check_credentials(step)
    clients = clients or client_factory(resolved)
    try:
        account = clients("sts").get_caller_identity()["Account"]
    except Exception as exc:
        raise DeployError(step, f"cannot use the AWS credentials: {one_line(exc)}") from None
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or None
    return AwsTarget(region=resolved, account_id=str(account), endpoint_url=endpoint)


def client_factory(region: str) -> ClientFactory:
    """Clients from pym_lambda.aws, the project's one factory, in `region`."""
    from ...aws import aws_client

    return lambda service: aws_client(service, region)
