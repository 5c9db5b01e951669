"""Typed clients for the services this one calls, described by their specs.

    from pym_lambda.clients import clients
    books = clients.catalog.list_books(shelf_id=3, tags=["sf"])   # model objects back

Each call validates what it sends, forwards the caller's JWT and the call id, retries what is
safe to retry, validates what comes back and raises RemoteError / UPSTREAM_* PymErrors. See
registry.py (loading), transport.py (timeouts and retries), decoding.py (answers -> errors).
Importing this package does not import requests: the first call does.
"""
from __future__ import annotations

from .errors import (
    ClientConfigError,
    ClientRequestError,
    RemoteError,
    UpstreamBadResponse,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from .registry import ApiClient, Clients, clients, install_clients, load_clients
from .specs import add_client_markers, compile_client_specs, mark_clients
from .transport import IDEMPOTENT_METHODS, CallPolicy

__all__ = [
    "clients", "load_clients", "install_clients", "Clients", "ApiClient",
    "compile_client_specs", "mark_clients", "add_client_markers", "CallPolicy",
    "IDEMPOTENT_METHODS", "ClientConfigError", "ClientRequestError", "RemoteError",
    "UpstreamError", "UpstreamTimeout", "UpstreamUnreachable", "UpstreamBadResponse",
]
