"""Operations the spec marks ``x-idempotent: true``: a request with an ``Idempotency-Key``
header runs once; a repeat with the same key gets the first response again.

- The first request with a key takes it (one conditional PutItem in the stage's table:
  tasks/idempotency.py), runs, and stores its response (one UpdateItem) for 24 hours.
- A repeat with the same key and the same request (method, path, query, body: their SHA-256)
  gets the stored response, with ``Idempotent-Replayed: true``; the function is not called.
- The same key with another request: 422 ``IDEMPOTENCY_KEY_REUSED``, naming the header.
- A repeat while the first still runs: 409 ``IDEMPOTENCY_KEY_IN_USE`` with ``Retry-After``.
  "Still runs" ends with the first request's Lambda invocation (its remaining time, at most
  30 s: API Gateway's limit), so a repeat after a Lambda that timed out runs at once.
- A first request that raised or answered 5xx stores nothing: a retry runs again.

Keys are scoped by operation and by the request's credential (its Authorization header, else
its `token` cookie; hashed): a caller can never be replayed another caller's response.
Without the header, the operation runs as any other. Imported only when an operation is
marked; boto3 at its first keyed request.
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
from typing import TYPE_CHECKING, Any, Callable, Optional, Tuple

from ..context import cookies, request_header
from ..errors import InvalidParameterError, PymError
from ..tasks.idempotency import COMPLETED, IdempotencyStore, run_seconds, task_store

if TYPE_CHECKING:
    from .operation import BoundOperation

log = logging.getLogger("pym_lambda")

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
FIELD = f"header '{HEADER}'"
EXPIRES_SECONDS = 86_400  # a repeat within a day is replayed (Stripe keeps keys as long)
RUN_SECONDS = 30  # the longest a request runs: API Gateway's 29 s
_KEY = re.compile(r"[\x21-\x7e][\x20-\x7e]{0,254}")  # printable ASCII, 1..255 characters


class IdempotencyKeyReused(PymError):
    status = 422
    code = "IDEMPOTENCY_KEY_REUSED"


class IdempotencyKeyInUse(PymError):
    status = 409
    code = "IDEMPOTENCY_KEY_IN_USE"


def _fingerprint(request: Any) -> str:
    from .body import raw_body

    event = request.to_original_event() or {}
    query = event.get("multiValueQueryStringParameters") or event.get(
        "queryStringParameters") or {}
    head = json.dumps([request.method, request.uri_params or {}, query], sort_keys=True)
    digest = hashlib.sha256(head.encode())
    digest.update(b"\0")
    digest.update(raw_body(request))
    return digest.hexdigest()


def _encode(response: Any) -> str:
    body = response.body
    binary = isinstance(body, (bytes, bytearray))
    text = base64.b64encode(body).decode() if binary else (
        body if isinstance(body, str) else json.dumps(body))
    return json.dumps({"status": response.status_code, "headers": dict(response.headers or {}),
                       "body": text, "binary": binary})


def _replay(data: str) -> Any:
    from chalice.app import Response

    stored = json.loads(data)
    body = base64.b64decode(stored["body"]) if stored["binary"] else stored["body"]
    headers = dict(stored["headers"])
    headers[REPLAYED_HEADER] = "true"
    return Response(body=body, status_code=stored["status"], headers=headers)


class IdempotentCall:
    """BoundOperation.call of a marked operation, wrapped (see the module docstring)."""

    def __init__(self, operation: BoundOperation, call: Callable[[Any], Any]) -> None:
        self.operation_id = operation.id
        self.call = call
        # The app's table, found at the first keyed request (its settings and environment are
        # the process's from then on): reading them per request was a third of this wrapper's
        # own cost (benchmarks/feature_cost.py, docs/operations.md).
        self.store: Optional[IdempotencyStore] = None

    def __call__(self, request: Any) -> Any:
        key = request_header(request, HEADER)
        if key is None:
            return self.call(request)
        record_key, fingerprint = self._identify(request, key)
        store = self.store
        if store is None:
            store = self.store = task_store()[0]  # the request's service's table
        lasts = run_seconds(getattr(request, "lambda_context", None), RUN_SECONDS)
        held = store.begin(record_key, run_seconds=lasts, expires_seconds=EXPIRES_SECONDS,
                           fingerprint=fingerprint)
        if held is not None:
            if held.fingerprint != fingerprint:
                raise IdempotencyKeyReused(
                    f"{FIELD}: this key was sent with another request to this operation; "
                    "use a new key for a new request", problems=[{
                        "field": FIELD, "rule": "reused", "message": "sent with another request"}])
            if held.status == COMPLETED and held.data is not None:
                return _replay(held.data)
            wait = held.seconds_left()
            raise IdempotencyKeyInUse(
                f"{FIELD}: a request with this key is still running; retry in {wait} s",
                headers={"Retry-After": str(wait)})
        try:
            response = self.call(request)
        except BaseException:
            store.release(record_key)  # a 4xx or a crash: nothing happened, a retry runs
            raise
        if response.status_code >= 500:
            store.release(record_key)
            return response
        try:
            store.complete(record_key, expires_seconds=EXPIRES_SECONDS, data=_encode(response))
        except Exception:  # it ran: a repeat gets 409 until the record's deadline, then runs
            log.exception("%s: the response to %s %s could not be stored in %s",
                          self.operation_id, HEADER, key[:40], store.table)
        return response

    def _identify(self, request: Any, key: str) -> Tuple[str, str]:
        if not _KEY.fullmatch(key):
            message = "must be 1 to 255 printable ASCII characters"
            raise InvalidParameterError(f"{FIELD} {message}", problems=[
                {"field": FIELD, "rule": "format", "message": message}])
        # Who asks: the Authorization header, else the `token` cookie (jwt.cookie), hashed
        credential = request_header(request, "authorization") or cookies(
            request_header(request, "cookie")).get("token", "")
        scope = hashlib.sha256("\0".join((self.operation_id, credential, key)).encode())
        return f"http#{self.operation_id}#{scope.hexdigest()}", _fingerprint(request)

