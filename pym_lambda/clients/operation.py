"""One callable client operation: encode, send (with the caller's token and call id), decode."""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

from ..context import CALL_ID_HEADER, current_context, new_call_id
from ..runtime.compiled_types import CompiledApi, CompiledOperation, Schema
from ..runtime.media_types import is_json
from ..runtime.models import ModelFactory
from ..runtime.responses import pick_content
from ..runtime.schema_validator import REQUEST, RESPONSE, make_validator
from .decoding import ExpectedResponse, ResponseDecoder
from .encoding import BodyEncoder, ParamEncoder, RequestEncoder
from .errors import ClientRequestError
from .transport import SendFunction, Transport

EXTRA_HEADERS_ARG = "_headers"  # per-call headers; they override the standard ones


class ClientApi:
    """What the operations of one client share: its spec's definitions, dialect and models."""

    def __init__(self, api: CompiledApi) -> None:
        self.name: str = api["name"]
        self.file: str = api.get("file", "")
        self.dialect: str = api["schema_dialect"]
        self.definitions: Dict[str, Schema] = api.get("definitions") or {}
        self.models = ModelFactory(self.name, self.definitions)

    def validator(self, schema: Any, context: str, prefix: str) -> Any:
        return make_validator(schema, self.definitions, self.dialect, context, prefix)


def build_encoder(op: CompiledOperation, api: ClientApi) -> RequestEncoder:
    params = [ParamEncoder(p, api.models._deref,
                           api.validator(p["schema"], REQUEST, f"{p['in']} parameter "
                                                               f"'{p['name']}'"))
              for p in op["params"]]
    body = op.get("body")
    encoder = None
    if body:
        checks = {ct: api.validator(schema, REQUEST, "body")
                  for ct, schema in (body.get("content") or {}).items()}
        encoder = BodyEncoder(body, checks)
    return RequestEncoder(op["path"], params, encoder)


def build_decoder(op: CompiledOperation, api: ClientApi, label: str) -> ResponseDecoder:
    expected = {}
    for status, response in op["responses"].items():
        content = response.get("content") or {}
        content_type, schema = pick_content(content)
        expected[status] = ExpectedResponse(
            content_type, api.validator(schema, RESPONSE, "response"),
            api.models.converter(schema), bool(content))
    return ResponseDecoder(label, op["method"], expected)


def _accept(op: CompiledOperation) -> str:
    types = {ct for r in op["responses"].values() for ct in (r.get("content") or {})}
    json_types = sorted(ct for ct in types if is_json(ct.lower()))
    return ", ".join(json_types or sorted(types) or ["application/json"])


def merge_headers(base: Dict[str, str], extra: Dict[str, Any]) -> Dict[str, str]:
    """``extra`` wins, whatever the case of its names (HTTP header names are case-blind);
    a None value removes the header (``_headers={"Authorization": None}``: no token sent)."""
    lowered = {str(k).lower() for k in extra}
    merged = {k: v for k, v in base.items() if k.lower() not in lowered}
    merged.update({str(k): str(v) for k, v in extra.items() if v is not None})
    return merged


def standard_headers(accept: str, forward_token: bool = True) -> Dict[str, str]:
    """Accept, the call id of the request being handled (or a new one), the caller's JWT
    (when ``forward_token``: registry.forwards_token() decides it per client)."""
    ctx = current_context()
    headers = {"Accept": accept, CALL_ID_HEADER: ctx.call_id if ctx and ctx.call_id
               else new_call_id()}
    token = getattr(getattr(ctx, "caller", None), "token", None) if forward_token else None
    if isinstance(token, str) and token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


class ClientOperation:
    """``clients.<api>.<operation>(body?, **params)``: the decoded answer, or an error.

    Raises ClientRequestError (nothing sent) for arguments the spec forbids, RemoteError for
    an error answer, UpstreamTimeout / UpstreamUnreachable / UpstreamBadResponse otherwise.
    """

    def __init__(self, op: CompiledOperation, api: ClientApi, transport: Transport, label: str,
                 decorators: Optional[List[Callable[[SendFunction], SendFunction]]] = None,
                 *, forward_token: bool = True) -> None:
        self.label = label
        self.forward_token = forward_token
        self.method: str = op["method"]
        self.path: str = op["path"]
        self.transport = transport
        self.encoder = build_encoder(op, api)
        self.decoder = build_decoder(op, api, label)
        self.accept = _accept(op)
        send: SendFunction = transport.request
        for decorate in reversed(decorators or []):  # the first listed is the outermost
            send = decorate(send)
        self.send = send
        self.__name__ = label.rsplit(".", 1)[-1]
        self.__doc__ = f"{self.method} {self.path}: takes " + \
            (", ".join((["body"] if self.encoder.body else []) + self.encoder.accepted)
             or "no argument")

    def __repr__(self) -> str:
        return f"<client operation {self.label}: {self.method} {self.path}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        extra = kwargs.pop(EXTRA_HEADERS_ARG, None) or {}
        try:
            body = self._body_argument(args, kwargs)
            outgoing = self.encoder.encode(kwargs, body)
        except ClientRequestError as exc:
            raise ClientRequestError(str(exc), operation=self.label, field=exc.field) from None
        headers = merge_headers(merge_headers(standard_headers(self.accept, self.forward_token),
                                              outgoing.headers),
                                dict(extra))
        raw = self.transport.perform(self.send, self.method, self.transport.base_url +
                                     outgoing.path, self.label, params=outgoing.query,
                                     data=outgoing.body, headers=headers)
        return self.decoder.decode(raw)

    def _body_argument(self, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        if len(args) > 1:
            raise ClientRequestError(f"takes at most one positional argument (the body), "
                                     f"{len(args)} given", field="body")
        body_keyword = "body" in kwargs and not self.encoder.takes("body")
        if args and body_keyword:
            raise ClientRequestError("the body was given twice", field="body")
        if body_keyword:
            return kwargs.pop("body")
        return args[0] if args else None
