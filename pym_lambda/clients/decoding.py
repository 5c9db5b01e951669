"""An HTTP answer -> the value a client call returns, or the error it raises.

- a 2xx/3xx status the spec declares: its body validated (RESPONSE context) and converted to
  model objects; None when the status declares no content (204, HEAD, no schema);
- an error status (>= 400) whose body is in the one error shape: RemoteError with the remote's
  status, code, description and error_id;
- an error status with another body that the spec declares for it (exactly, NXX or
  ``default``): RemoteError, code from the status name (NOT_FOUND), the body on ``.body``;
- anything else is the upstream's fault: a 504 is UPSTREAM_TIMEOUT and a 502/503 (a gateway
  with nobody behind it) UPSTREAM_UNREACHABLE; any other undeclared status, or a body that is
  not JSON or breaks its schema, UPSTREAM_BAD_RESPONSE, naming the operation and the field.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Callable, Dict, Optional

from ..errors import PymError
from ..runtime.media_types import is_json, media_type
from .errors import (
    RemoteError,
    UpstreamBadResponse,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnreachable,
    is_error_shape,
    remote_error,
)
from .transport import RawResponse

log = logging.getLogger("pym_lambda.clients")

Check = Optional[Callable[[Any], Optional[str]]]
NO_BODY_STATUSES = (204, 205, 304)
_NOT_JSON = object()


class ExpectedResponse:
    """What the spec declares for one status: content type, validator, converter."""

    __slots__ = ("content_type", "check", "convert", "declares_content")

    def __init__(self, content_type: str, check: Check, convert: Callable[[Any], Any],
                 declares_content: bool) -> None:
        self.content_type = content_type
        self.check = check
        self.convert = convert
        self.declares_content = declares_content


def _parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _NOT_JSON


class ResponseDecoder:
    def __init__(self, label: str, method: str, expected: Dict[str, ExpectedResponse]) -> None:
        self.label = label
        self.method = method
        self.expected = expected

    def expected_for(self, status: int) -> Optional[ExpectedResponse]:
        key = str(status)
        return self.expected.get(key) or self.expected.get(f"{key[0]}XX") or \
            self.expected.get(f"{key[0]}xx") or self.expected.get("default")

    def decode(self, raw: RawResponse) -> Any:
        try:
            return self._decode(raw)
        except UpstreamError as error:
            # Details (content type, size) go to the logs, not to this service's caller.
            log.warning("%s (content type %r, %d bytes)", error.description,
                        raw.headers.get("Content-Type"), len(raw.body))
            raise

    def _decode(self, raw: RawResponse) -> Any:
        expected = self.expected_for(raw.status)
        if raw.status < 400:
            if expected is None:
                raise self._undeclared(raw.status)
            return self._value(expected, raw)
        data = _parse_json(raw.body)
        if is_error_shape(data):
            error = remote_error(raw.status, data, self.label)
            log.info("%s: remote error %s %s (remote error_id %s)", self.label, raw.status,
                     error.code, error.remote_error_id)
            raise error
        problem = None
        if expected is not None:
            try:
                value = self._value(expected, raw)
            except UpstreamBadResponse as exc:
                problem = exc
            else:
                raise RemoteError.from_status(raw.status, self.label, value)
        # An error answer that is not what the spec declares: most often a gateway or load
        # balancer speaking (API Gateway's {"message": ...}, an HTML 502 page).
        if raw.status in (502, 503, 504):
            raise self._undeclared(raw.status)
        raise problem or self._undeclared(raw.status)

    def _undeclared(self, status: int) -> UpstreamError:
        if status == 504:
            return UpstreamTimeout(f"{self.label}: its gateway timed out (status 504)",
                                   operation=self.label)
        if status in (502, 503):
            return UpstreamUnreachable(f"{self.label}: unavailable (status {status})",
                                       operation=self.label)
        return UpstreamBadResponse(f"{self.label} answered status {status}, which its spec "
                                   f"does not declare", operation=self.label)

    def _bad(self, raw: RawResponse, problem: str) -> UpstreamBadResponse:
        return UpstreamBadResponse(f"{self.label}, status {raw.status}: {problem}",
                                   operation=self.label)

    def _value(self, expected: ExpectedResponse, raw: RawResponse) -> Any:
        if self.method == "HEAD" or raw.status in NO_BODY_STATUSES or \
                not expected.declares_content:
            return None
        if not raw.body.strip():
            if expected.check is None:
                return None
            raise self._bad(raw, f"empty body where {expected.content_type} was declared")
        if not is_json(media_type(expected.content_type)):
            charset = _charset(raw.headers.get("Content-Type", ""))
            return raw.body.decode(charset, errors="replace")
        data = _parse_json(raw.body)
        if data is _NOT_JSON:
            got = media_type(raw.headers.get("Content-Type")) or "no content type"
            raise self._bad(raw, f"the response is not JSON ({got})")
        if expected.check is not None:
            problem = expected.check(data)
            if problem:
                raise self._bad(raw, problem)
        try:
            return expected.convert(data)
        except PymError as exc:  # a date-time the format checker let through
            raise self._bad(raw, f"response: {exc.description}") from None


def _charset(content_type: str) -> str:
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            try:
                "".encode(value.strip('"'))
                return value.strip('"')
            except LookupError:
                break
    return "utf-8"
