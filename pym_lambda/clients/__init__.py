"""Typed clients for the services this one calls, described by their specs.

    from pym_lambda.clients import clients
    books = clients.catalog.list_books(shelf_id=3, tags=["sf"])   # model objects back

Each call validates what it sends, forwards the caller's JWT and the call id, retries what is
safe to retry, validates what comes back and raises RemoteError / UPSTREAM_* PymErrors. See
registry.py (loading), transport.py (timeouts and retries), decoding.py (answers -> errors).
Importing this package loads the registry only; the encoders, decoders and transport load
with a client's first use, and requests with its first call.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..lazy_exports import lazy_attribute
from .policy import CallPolicy
from .registry import ApiClient, Clients, clients, install_clients, load_clients

if TYPE_CHECKING:  # imported lazily below; spelled out for type checkers
    from .errors import (
        ClientConfigError,
        ClientRequestError,
        RemoteError,
        UpstreamBadResponse,
        UpstreamError,
        UpstreamTimeout,
        UpstreamUnreachable,
    )
    from .transport import IDEMPOTENT_METHODS

__all__ = [
    "clients", "load_clients", "install_clients", "Clients", "ApiClient", "CallPolicy",
    "IDEMPOTENT_METHODS", "ClientConfigError", "ClientRequestError", "RemoteError",
    "UpstreamError", "UpstreamTimeout", "UpstreamUnreachable", "UpstreamBadResponse",
]

# Imported at first access (PEP 562): `from pym_lambda.clients import clients`, in every
# service that calls another, loads the registry only.
_LAZY = {
    "IDEMPOTENT_METHODS": "transport", "ClientConfigError": "errors",
    "ClientRequestError": "errors", "RemoteError": "errors", "UpstreamError": "errors",
    "UpstreamTimeout": "errors", "UpstreamUnreachable": "errors",
    "UpstreamBadResponse": "errors",
}


def __getattr__(name: str) -> Any:
    return lazy_attribute(__name__, _LAZY, name)
