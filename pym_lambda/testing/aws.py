"""AWS in-process: moto's `mock_aws` with fake credentials and no endpoint override.

With AWS_ENDPOINT_URL set (as `pym-lambda local` sets it), botocore would talk to that URL and
`mock_aws` would intercept nothing: it is unset for the duration, then restored.
"""
from __future__ import annotations

import contextlib
import os
from typing import Any, Dict, Iterator, Optional

from ..aws import aws_client, reset_aws_clients

FAKE_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}
# Real credentials or endpoints must never leak into a test.
REMOVED_VARIABLES = ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE",
                     "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL")


class InProcessAws:
    """What the `pym_aws` fixture gives: boto3 clients that moto answers."""

    def __init__(self, region: str) -> None:
        self.region = region

    def client(self, service: str) -> Any:
        """The framework's own cached client (`pym_lambda.aws.aws_client`), moto-backed."""
        return aws_client(service, self.region)


@contextlib.contextmanager
def in_process_aws(region: str = "us-east-1") -> Iterator[InProcessAws]:
    """Everything AWS inside the block is moto's; the environment is restored after."""
    from moto import mock_aws  # moto is a test dependency: imported only when used

    saved: Dict[str, Optional[str]] = {}

    def put(name: str, value: Optional[str]) -> None:
        saved.setdefault(name, os.environ.get(name))
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value

    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL"):
            put(name, None)
    for name in REMOVED_VARIABLES:
        put(name, None)
    for name, value in {**FAKE_ENVIRONMENT, "AWS_DEFAULT_REGION": region,
                        "AWS_REGION": region}.items():
        put(name, value)
    reset_aws_clients()  # clients made before would bypass the mock
    try:
        with mock_aws():
            yield InProcessAws(region)
    finally:
        for name, previous in saved.items():
            if previous is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = previous
        reset_aws_clients()
