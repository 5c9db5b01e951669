"""JWT bearer tokens: find one in a request, verify it, sign new ones.

pyjwt is imported inside the functions (about 45 ms): a cold start pays for it only at the
first protected call. So is the key handling (pym_lambda.auth.keys): a service whose spec
protects no operation never imports it, even when its code asks current_caller().

Rules, beyond pyjwt's defaults:
- the token's algorithm must be one of ``settings.algorithms``; ``none`` never is; the key is
  chosen by the algorithm's family (see :mod:`pym_lambda.auth.keys`) and pyjwt is given only
  the configured algorithms of that family;
- ``exp``, ``nbf`` and ``iat`` are checked with ``settings.leeway`` seconds of slack; ``exp``
  is required (a token without it would be valid forever) unless ``settings.require_exp`` is
  false;
- a malformed token (whatever pyjwt raises on it, a non-string ``kid``) is 401 TOKEN_INVALID,
  never a 500;
- ``aud`` and ``iss`` are checked when configured. A token that names an audience when the
  service configures none is rejected (TOKEN_INVALID), as RFC 7519 4.1.3 asks: the service
  cannot tell that the token was meant for it. Set ``jwt.audience`` to accept it;
- every claim of ``settings.required_claims`` must be present, else 403 FORBIDDEN.

The token is read from ``Authorization: Bearer <jwt>``; with ``settings.cookie`` also from a
``token`` cookie (URL-quoted, optionally ``Bearer <jwt>``, as PyMacaron set it) when there is
no Authorization header.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Dict, FrozenSet, Iterable, List, Mapping, Optional, Union
from urllib.parse import unquote_plus

from pym_lambda.auth.errors import (
    AccessDeniedError,
    AuthorizationHeaderMissingError,
    TokenExpiredError,
    TokenInvalidError,
)
from pym_lambda.config.keys import JwtSettings, Settings
from pym_lambda.context import cookies, current_context
from pym_lambda.context import header as _header
from pym_lambda.records import Record, repr_hiding
from pym_lambda.runtime.service import current_service

log = logging.getLogger(__name__)

# Claims generate_token owns: pass user_id and expires_in instead.
_OWN_CLAIMS = frozenset({"sub", "iat", "exp"})


_CALLER_HIDDEN = frozenset({"token"})  # left out of Caller's repr


class Caller(Record):
    """Who made the call: the verified token's subject and claims (frozen; the token is kept
    out of the repr)."""

    user_id: Optional[str]
    claims: Dict[str, Any]
    token: str

    @property
    def scopes(self) -> FrozenSet[str]:
        """OAuth scopes, from ``scope`` (space-separated), ``scopes`` or ``scp``."""
        found: set[str] = set()
        for name in ("scope", "scopes", "scp"):
            value = self.claims.get(name)
            if isinstance(value, str):
                found.update(value.split())
            elif isinstance(value, (list, tuple)):
                found.update(v for v in value if isinstance(v, str))
        return frozenset(found)

    def __repr__(self) -> str:
        return repr_hiding(self, _CALLER_HIDDEN)


def set_settings(settings: Union[JwtSettings, Settings, None]) -> None:
    """Set the settings generate_token uses by default, on the current service (create_app
    sets its app's)."""
    current_service().jwt = _jwt_settings(settings) if settings is not None else None


def get_settings() -> JwtSettings:
    """The JWT settings of the current service (the request's or task's app, else the one
    create_app made in this context)."""
    jwt_settings: Optional[JwtSettings] = current_service().jwt
    if jwt_settings is None:
        raise RuntimeError("no JWT settings installed: call pym_lambda.auth.set_settings() "
                           "or pass settings=")
    return jwt_settings


def current_caller() -> Optional[Caller]:
    """The caller of the request being handled; None outside one or on an open operation."""
    context = current_context()
    caller = context.caller if context is not None else None
    return caller if isinstance(caller, Caller) else None


def authenticate(headers: Optional[Mapping[str, str]], settings: Union[JwtSettings, Settings],
                 *, cookies_header: Optional[str] = None) -> Caller:
    """Verify the request's bearer token and return its Caller, or raise a 401/403 PymError."""
    settings = _jwt_settings(settings)
    token = bearer_token(headers or {}, settings, cookies_header=cookies_header)
    claims = verify_token(token, settings)
    missing = [name for name in settings.required_claims if name not in claims]
    if missing:
        raise AccessDeniedError(f"the token lacks the required claim(s): {', '.join(missing)}")
    subject = claims.get("sub")
    return Caller(user_id=subject if isinstance(subject, str) else None, claims=claims,
                  token=token)


def require_scopes(caller: Caller, scopes: Union[str, Iterable[str]]) -> None:
    """Raise 403 FORBIDDEN unless the caller's token grants every one of ``scopes``."""
    wanted = scopes.split() if isinstance(scopes, str) else list(scopes)
    missing = [scope for scope in wanted if scope not in caller.scopes]
    if missing:
        raise AccessDeniedError(f"the token lacks the scope(s): {', '.join(missing)}")


def bearer_token(headers: Mapping[str, str], settings: JwtSettings, *,
                 cookies_header: Optional[str] = None) -> str:
    """The raw token of the request: the Authorization header, else the ``token`` cookie."""
    authorization = _header(headers, "Authorization")
    if authorization and authorization.strip():
        return _parse_bearer(authorization)
    if settings.cookie:
        cookie = _token_cookie(cookies_header if cookies_header is not None
                               else _header(headers, "Cookie"))
        if cookie:
            return _parse_bearer(cookie) if cookie[:7].lower() == "bearer " else cookie
        raise AuthorizationHeaderMissingError(
            "the request has no Authorization header and no token cookie")
    raise AuthorizationHeaderMissingError("the request has no Authorization header")


def verify_token(token: str, settings: JwtSettings) -> Dict[str, Any]:
    """The claims of a token whose signature and time and audience/issuer claims check out."""
    import jwt

    from .keys import algorithm_family, verification_key

    try:
        header = jwt.get_unverified_header(token)
    except Exception as exc:  # whatever the bytes: the token's fault (see _malformed)
        raise _malformed(exc) from None
    if not isinstance(header, dict):  # pyjwt checks this; a later version might not
        raise TokenInvalidError("the token is not a well-formed JWT")
    alg = header.get("alg")
    family = algorithm_family(alg) if isinstance(alg, str) else None
    if family is None or alg not in settings.algorithms:
        raise TokenInvalidError("the token's signing algorithm is not accepted")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):  # pyjwt >= 2.15 refuses it too
        raise TokenInvalidError("the token is not a well-formed JWT")
    key = verification_key(alg, kid, settings)
    try:
        return jwt.decode(
            token, key,
            algorithms=[a for a in settings.algorithms if algorithm_family(a) == family],
            audience=_audiences(settings) or None, issuer=settings.issuer,
            leeway=settings.leeway,
            options={"require": ["exp"] if settings.require_exp else []})
    except jwt.PyJWTError as exc:
        raise _token_error(exc) from None
    except Exception as exc:  # pyjwt broke its contract on this token: see _malformed
        raise _malformed(exc) from None


def generate_token(user_id: str, data: Optional[Mapping[str, Any]] = None,
                   expires_in: Optional[int] = None, *,
                   settings: Union[JwtSettings, Settings, None] = None) -> str:
    """Sign a token for ``user_id`` with ``data`` as extra claims (``aud``/``iss`` may be set
    there; by default they come from the settings)."""
    import jwt

    from .keys import signing_key

    if not isinstance(user_id, str) or not user_id:
        raise ValueError("generate_token() needs a non-empty string user_id")
    jwt_settings = _jwt_settings(settings) if settings is not None else get_settings()
    clashing = _OWN_CLAIMS.intersection(data or {})
    if clashing:
        raise ValueError(f"generate_token(): data may not set {', '.join(sorted(clashing))}: "
                         "pass user_id and expires_in")
    alg, key = signing_key(jwt_settings)
    now = int(time.time())
    claims: Dict[str, Any] = {}
    audiences = _audiences(jwt_settings)
    if audiences:
        claims["aud"] = audiences[0] if len(audiences) == 1 else audiences
    if jwt_settings.issuer:
        claims["iss"] = jwt_settings.issuer
    claims.update(data or {})
    lifetime = jwt_settings.expires_in if expires_in is None else expires_in
    claims.update(sub=user_id, iat=now, exp=now + lifetime)
    headers = {"kid": jwt_settings.key_id} if jwt_settings.key_id else None
    return jwt.encode(claims, key, algorithm=alg, headers=headers)


# --- helpers ---------------------------------------------------------------------------------

def _jwt_settings(settings: Union[JwtSettings, Settings]) -> JwtSettings:
    return settings.jwt if isinstance(settings, Settings) else settings


def _audiences(settings: JwtSettings) -> List[str]:
    audience: Any = settings.audience  # a str set in code is one audience, not letters
    return [audience] if isinstance(audience, str) else list(audience)


def _parse_bearer(value: str) -> str:
    parts = value.split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        # Never quote the header: it may hold Basic credentials or the token.
        raise TokenInvalidError("the Authorization header must be 'Bearer <token>'")
    return parts[1]


def _token_cookie(cookie_header: Optional[str]) -> Optional[str]:
    value = cookies(cookie_header).get("token")
    return unquote_plus(value).strip() or None if value is not None else None


def _malformed(exc: Exception) -> TokenInvalidError:
    """A token pyjwt failed on without a PyJWTError (pyjwt < 2.15: RecursionError for a deeply
    nested header or payload, OverflowError for an infinite exp/iat/nbf; any version:
    UnicodeEncodeError for a lone surrogate). Nothing is verified yet: the caller's fault, a
    401, and one short log line without a traceback."""
    log.info("token rejected: %s", type(exc).__name__)
    return TokenInvalidError("the token is not a well-formed JWT")


def _token_error(exc: Exception) -> Exception:
    """The PymError for a pyjwt error, described in words of our own (theirs may change)."""
    from jwt import exceptions as jwt_errors

    if isinstance(exc, jwt_errors.ExpiredSignatureError):
        return TokenExpiredError("the token has expired")
    if isinstance(exc, jwt_errors.MissingRequiredClaimError):
        return TokenInvalidError(f"the token has no '{exc.claim}' claim")
    descriptions = [
        ("ImmatureSignatureError", "the token is not valid yet"),
        ("InvalidAudienceError", "the token's audience is not accepted"),
        ("InvalidIssuerError", "the token's issuer is not accepted"),
        ("InvalidSignatureError", "the token's signature is invalid"),
        ("InvalidAlgorithmError", "the token's signing algorithm is not accepted"),
        ("InvalidIssuedAtError", "the token's 'iat' claim is invalid"),
        ("InvalidSubjectError", "the token's 'sub' claim is invalid"),  # pyjwt >= 2.10
        ("InvalidJTIError", "the token's 'jti' claim is invalid"),  # pyjwt >= 2.10
        ("InvalidKeyError", "the token's algorithm does not match the service's key"),
        ("DecodeError", "the token is not a well-formed JWT"),
    ]
    for name, description in descriptions:
        exc_type = getattr(jwt_errors, name, None)
        if exc_type is not None and isinstance(exc, exc_type):
            return TokenInvalidError(description)
    return TokenInvalidError("the token is invalid")
