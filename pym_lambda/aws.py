"""The one factory of boto3 clients.

Every AWS call of pym-lambda gets its client from `aws_client()`, so tests hand in moto-backed
clients by resetting the cache (`reset_aws_clients()`) instead of patching modules.

boto3 is imported inside the function: it costs ~145 ms, which a Lambda would pay at each cold
start even when a request never talks to AWS.

Endpoints: botocore itself honours ``AWS_ENDPOINT_URL`` and ``AWS_ENDPOINT_URL_<SERVICE>``
(a local moto server, LocalStack). The endpoint is part of the cache key, so a test that changes
those variables gets a fresh client.
"""
from __future__ import annotations

import os
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple

_ClientKey = Tuple[str, Optional[str], Optional[str]]

_clients: Dict[_ClientKey, Any] = {}
# boto3 sessions are not thread-safe while creating clients (clients are, once created).
_lock = threading.Lock()
# Called with each client made (pym_lambda.tracing registers botocore event handlers): clients
# are the process's, so are these.
_client_hooks: List[Callable[[Any], None]] = []


def _endpoint_from_env(service: str) -> Optional[str]:
    # Same precedence as botocore: the service-specific variable wins over the global one.
    specific = "AWS_ENDPOINT_URL_" + service.upper().replace("-", "_")
    return os.environ.get(specific) or os.environ.get("AWS_ENDPOINT_URL") or None


def _region_from_env() -> Optional[str]:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None


def aws_client(service: str, region: Optional[str] = None) -> Any:
    """A cached boto3 client for `service` (e.g. "sqs") in `region` (default: the env's)."""
    region = region or _region_from_env()
    key = (service, region, _endpoint_from_env(service))
    client = _clients.get(key)
    if client is not None:
        return client
    with _lock:
        client = _clients.get(key)
        if client is None:
            import boto3  # noqa: PLC0415 - deliberately lazy, see the module docstring
            from botocore.config import Config  # noqa: PLC0415

            session = boto3.session.Session()
            config = Config(retries={"mode": "standard", "max_attempts": 3})
            client = session.client(service, region_name=region, config=config)
            for hook in _client_hooks:
                hook(client)
            _clients[key] = client
    return client


def add_client_hook(hook: Callable[[Any], None]) -> None:
    """Call `hook` with every client, those already made and those to come (once per hook)."""
    with _lock:
        if hook in _client_hooks:
            return
        _client_hooks.append(hook)
        for client in _clients.values():
            hook(client)


def reset_aws_clients() -> None:
    """Forget every cached client (tests: after changing credentials, endpoints or mocks)."""
    with _lock:
        _clients.clear()
