"""Which operations need a JWT, from the spec, and the pipeline step that checks it.

An operation is protected when its `security` (or the spec's root `security`) names a scheme
that carries a bearer token: Swagger 2 `apiKey` in the `Authorization` header, OpenAPI 3 `http`
with scheme `bearer`, and `oauth2`/`openIdConnect` (their tokens are bearer tokens too).
`security: []` opts an operation out; an empty alternative (`- {}`) makes the token optional.
PyMacaron's `x-decorate-server: pymacaron.auth.requires_auth` also means "requires a JWT".
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

from ..context import current_context
from ..errors import SpecError
from .compiled_types import CompiledOperation, SecurityScheme

REQUIRES_AUTH_DECORATORS = ("pymacaron.auth.requires_auth",)


def _is_bearer(scheme: SecurityScheme) -> bool:
    kind = str(scheme.get("type", "")).lower()
    if kind == "apikey":
        return scheme.get("in") == "header" and str(scheme.get("name", "")).lower() == \
            "authorization"
    if kind == "http":
        return str(scheme.get("scheme", "")).lower() == "bearer"
    return kind in ("oauth2", "openidconnect")


def requirement(op: CompiledOperation, schemes: Dict[str, SecurityScheme], file: str
                ) -> Tuple[bool, bool, List[str]]:
    """(protected, token required, scopes) for an operation."""
    if any(d in REQUIRES_AUTH_DECORATORS for d in op.get("decorate") or []):
        return True, True, []
    alternatives = op.get("security") or []
    if not alternatives:
        return False, False, []
    optional = False
    scopes: List[str] = []
    bearer = False
    for alternative in alternatives:
        if not alternative:
            optional = True
            continue
        for name, wanted in alternative.items():
            scheme = schemes.get(name)
            if not isinstance(scheme, dict):
                raise SpecError(f"security scheme {name!r} is not defined", spec_file=file,
                                path=op["path"], method=op["method"], operation=op["id"])
            if _is_bearer(scheme):
                bearer = True
                scopes.extend(s for s in (wanted or []) if s not in scopes)
    return bearer, bearer and not optional, scopes


def auth_step(required: bool, scopes: List[str], settings: Any) -> Callable[[Any, Any], None]:
    from ..auth import authenticate, require_scopes
    from ..auth.errors import AuthorizationHeaderMissingError

    def check_token(request: Any, _op: Any) -> None:
        try:
            caller = authenticate(request.headers, settings)
        except AuthorizationHeaderMissingError:
            if required:
                raise
            return
        if scopes:
            require_scopes(caller, scopes)
        ctx = current_context()
        if ctx is not None:
            ctx.caller = caller
    return check_token


def steps_for(op: CompiledOperation, schemes: Dict[str, SecurityScheme], file: str,
              settings: Optional[Any]) -> List[Callable[[Any, Any], None]]:
    protected, required, scopes = requirement(op, schemes, file)
    if not protected:
        return []
    return [auth_step(required, scopes, settings)]
