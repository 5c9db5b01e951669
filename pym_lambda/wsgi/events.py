"""WSGI <-> API Gateway translation for the WSGI adapter (pym_lambda.wsgi).

Reads a WSGI environ as API Gateway would read the HTTP request (path, headers, query, body,
client address, for the REST proxy event, payload format 1.0) and turns the Lambda proxy result
back into a WSGI status, headers and body. Pure functions: no routing, no app.
"""
from __future__ import annotations

import base64
import http
from typing import Any, Dict, Iterable, List, Optional, Tuple
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from ..errors import InvalidParameterError, PayloadTooLargeError
from .routes import path_segments

# PEP 3333: an application must not set hop-by-hop headers; the server frames the body.
_SERVER_HEADERS = frozenset({"connection", "keep-alive", "proxy-authenticate",
                             "proxy-authorization", "te", "trailers", "transfer-encoding",
                             "upgrade", "content-length"})
# What API Gateway leaves unencoded in `path` (RFC 3986 pchar and "/").
_PATH_SAFE = "/:@!$&'()*+,;=-._~"

WsgiHeaders = List[Tuple[str, str]]


# --- WSGI request -> API Gateway event ---------------------------------------------------------

def _text(wsgi_value: str) -> str:
    # PEP 3333 strings carry bytes as latin-1; API Gateway hands UTF-8 text to Lambda.
    raw = wsgi_value.encode("latin-1", "replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return wsgi_value


def request_path(environ: Dict[str, Any]) -> Tuple[str, List[str]]:
    """The path as API Gateway's event carries it (percent-encoded), and its decoded segments.

    gunicorn's RAW_URI keeps `%2F` apart from `/`, so a path parameter may contain a slash as
    on API Gateway; other servers only give PATH_INFO, already decoded.
    """
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
    if raw and not raw.startswith("/"):
        raw = urlsplit(raw).path  # absolute-form request target (http://host/path)
    raw = raw.split("?", 1)[0].split("#", 1)[0]
    script_name = environ.get("SCRIPT_NAME", "")
    if raw and script_name and raw.startswith(script_name):
        raw = raw[len(script_name):]
    if raw:
        return raw, [unquote(s, errors="replace") for s in path_segments(raw)]
    decoded = _text(environ.get("PATH_INFO", "")) or "/"
    return quote(decoded, safe=_PATH_SAFE), path_segments(decoded)


def request_headers(environ: Dict[str, Any]) -> Dict[str, List[str]]:
    """Lower-cased names (as chalice local and HTTP/2 have them) to their values."""
    headers: Dict[str, List[str]] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:]
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            name = key
        else:
            continue
        # The server joins repeated headers with ", ": one value each is all WSGI gives us.
        headers.setdefault(name.replace("_", "-").lower(), []).append(_text(str(value)))
    return headers


def query_params(query_string: str) -> Dict[str, List[str]]:
    params: Dict[str, List[str]] = {}
    for name, value in parse_qsl(_text(query_string), keep_blank_values=True):
        params.setdefault(name, []).append(value)
    return params


def is_binary_type(content_type: str, binary_types: Iterable[str]) -> bool:
    """API Gateway's binaryMediaTypes test, wildcards included (`image/*`, `*/*`)."""
    media = content_type.split(";", 1)[0].strip().lower()
    if not media:
        return False
    for declared in (t.lower() for t in binary_types):
        if declared in ("*/*", media):
            return True
        if declared.endswith("/*") and media.startswith(declared[:-1]):
            return True
    return False


def encode_body(body: bytes, content_type: str,
                binary_types: Iterable[str]) -> Tuple[Optional[str], bool]:
    """(event body, isBase64Encoded). Bytes that are not UTF-8 travel base64-encoded too, so
    that the app sees them unchanged and can answer 400 rather than fail on a mangled string."""
    if not body:
        return None, False
    if not is_binary_type(content_type, binary_types):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


def read_body(environ: Dict[str, Any], max_bytes: int) -> bytes:
    """The request body; PayloadTooLargeError before reading it when it is declared too large."""
    stream = environ["wsgi.input"]
    declared = environ.get("CONTENT_LENGTH") or ""
    if declared:
        try:
            length = int(declared)
        except ValueError:
            length = -1
        if length < 0:
            raise InvalidParameterError(f"Content-Length {declared!r} is not a length")
        if length > max_bytes:
            raise PayloadTooLargeError(f"body is larger than {max_bytes} bytes")
        return bytes(stream.read(length)) if length else b""
    if environ.get("wsgi.input_terminated"):  # a chunked body: read one byte past the limit
        data = bytes(stream.read(max_bytes + 1))
        if len(data) > max_bytes:
            raise PayloadTooLargeError(f"body is larger than {max_bytes} bytes")
        return data
    return b""


def source_ip(environ: Dict[str, Any], trusted_proxy_hops: int) -> str:
    """The client's address: REMOTE_ADDR, or the X-Forwarded-For entry added by the outermost
    of `trusted_proxy_hops` proxies (entries further left are whatever the client sent)."""
    if trusted_proxy_hops > 0:
        forwarded = [p.strip() for p in environ.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= trusted_proxy_hops:
            return str(forwarded[-trusted_proxy_hops])
    return str(environ.get("REMOTE_ADDR", ""))


# --- API Gateway response -> WSGI response -----------------------------------------------------

def status_line(status: int) -> str:
    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def _header_value(value: Any) -> str:
    # WSGI header values are latin-1 strings; send UTF-8 bytes as API Gateway would.
    return str(value).encode("utf-8").decode("latin-1")


def response_headers(result: Dict[str, Any], body_length: int) -> WsgiHeaders:
    """headers + multiValueHeaders merged as API Gateway merges them (a name present in
    multiValueHeaders takes its values from there only), framed for a WSGI server."""
    multi: Dict[str, List[Any]] = result.get("multiValueHeaders") or {}
    multi_names = {name.lower() for name in multi}
    pairs: WsgiHeaders = [(name, _header_value(value))
                          for name, value in (result.get("headers") or {}).items()
                          if name.lower() not in multi_names]
    for name, values in multi.items():
        pairs.extend((name, _header_value(value)) for value in values)
    pairs = [(name, value) for name, value in pairs if name.lower() not in _SERVER_HEADERS]
    if body_length and not any(name.lower() == "content-type" for name, _ in pairs):
        pairs.append(("Content-Type", "application/json"))  # API Gateway's default too
    pairs.append(("Content-Length", str(body_length)))
    return pairs


def response_body(result: Dict[str, Any]) -> bytes:
    body = result.get("body")
    if body is None:
        return b""
    if result.get("isBase64Encoded"):
        return base64.b64decode(body)
    return body if isinstance(body, bytes) else str(body).encode("utf-8")
