"""Two clients with one interface, so that one test body runs in-process or against a URL.

`PymTestClient` calls the app through `chalice.test.Client` (no network, the stage's
environment variables applied per request, as Lambda would); `PymHttpClient` sends real HTTP
requests to a base URL (`chalice local`, a deployed stage). Both return a `Reply`.
"""
from __future__ import annotations

import json as jsonlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Dict, Mapping, MutableMapping, Optional, Sequence, Tuple, Union
from urllib.parse import urlencode

from requests.structures import CaseInsensitiveDict

Params = Union[Mapping[str, Any], Sequence[Tuple[str, Any]]]
_NO_BODY = object()  # `json=None` sends JSON null; leaving `json` out sends no body


@dataclass
class Reply:
    """An HTTP answer: status, headers (case-insensitive), body text and, if JSON, `.json`."""

    status: int
    headers: MutableMapping[str, str]
    body: str
    method: str = ""
    path: str = ""
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)

    @cached_property
    def json(self) -> Any:
        """The body parsed when the content type is JSON; None when empty or not JSON."""
        if not self.body or "json" not in (self.headers.get("Content-Type") or ""):
            return None
        return jsonlib.loads(self.body)

    def __repr__(self) -> str:
        return f"<Reply {self.method} {self.path} -> {self.status} {self.body[:200]!r}>"


class JsonClient:
    """The shared interface: `get/post/put/patch/delete/head/options/request`.

    `json=` sends a JSON body (and its content type), `body=` raw text or bytes, `params=` a
    query string (lists repeat the key), `token=` an `Authorization: Bearer` header.
    """

    def __init__(self, headers: Optional[Mapping[str, str]] = None) -> None:
        self.headers: Dict[str, str] = dict(headers or {})

    def request(self, method: str, path: str, *, json: Any = _NO_BODY,
                body: Union[str, bytes, None] = None, headers: Optional[Mapping[str, str]] = None,
                params: Optional[Params] = None, token: Optional[str] = None) -> Reply:
        sent: Dict[str, str] = {**self.headers, **dict(headers or {})}
        if json is not _NO_BODY:
            body = jsonlib.dumps(json)
            if not any(k.lower() == "content-type" for k in sent):
                sent["Content-Type"] = "application/json"
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        if not path.startswith("/"):
            path = "/" + path
        if params:
            path += ("&" if "?" in path else "?") + urlencode(params, doseq=True)
        data = body.encode("utf-8") if isinstance(body, str) else body
        status, reply_headers, text = self._send(method.upper(), path, sent, data)
        return Reply(status, reply_headers, text, method.upper(), path)

    def _send(self, method: str, path: str, headers: Dict[str, str], body: Optional[bytes]
              ) -> Tuple[int, MutableMapping[str, str], str]:
        raise NotImplementedError

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Reply:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Reply:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Reply:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Reply:
        return self.request("DELETE", path, **kwargs)

    def head(self, path: str, **kwargs: Any) -> Reply:
        return self.request("HEAD", path, **kwargs)

    def options(self, path: str, **kwargs: Any) -> Reply:
        return self.request("OPTIONS", path, **kwargs)


class PymTestClient(JsonClient):
    """The app in-process, through chalice.test.Client (API Gateway's behaviour emulated)."""

    is_remote = False

    def __init__(self, app: Any, *, project_dir: str = ".", stage: str = "dev",
                 headers: Optional[Mapping[str, str]] = None) -> None:
        from chalice.test import Client

        super().__init__(headers)
        self.app = app
        self.client = Client(app, stage_name=stage, project_dir=project_dir)

    def _send(self, method: str, path: str, headers: Dict[str, str], body: Optional[bytes]
              ) -> Tuple[int, MutableMapping[str, str], str]:
        response = self.client.http.request(method, path, headers=headers, body=body or b"")
        raw = response.body or b""
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        return response.status_code, CaseInsensitiveDict(response.headers), text


class PymHttpClient(JsonClient):
    """A service over HTTP at `base_url` (e.g. ``https://abc.execute-api.../api``).

    Each request opens its own connection: a kept-alive one costs ~40 ms a request against
    `chalice local`, and a deployed stage must be tested as a new client sees it.
    """

    is_remote = True

    def __init__(self, base_url: str, *, timeout: float = 30.0,
                 headers: Optional[Mapping[str, str]] = None) -> None:
        super().__init__(headers)
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"PymHttpClient: {base_url!r} is not an http(s) URL")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _send(self, method: str, path: str, headers: Dict[str, str], body: Optional[bytes]
              ) -> Tuple[int, MutableMapping[str, str], str]:
        import requests

        response = requests.request(method, self.base_url + path, headers=headers, data=body,
                                    timeout=self.timeout, allow_redirects=False)
        return response.status_code, CaseInsensitiveDict(response.headers), response.text
