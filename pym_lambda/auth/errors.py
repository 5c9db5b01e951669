"""The errors a protected call can end with; descriptions never quote the token."""
from __future__ import annotations

from pym_lambda.errors import ForbiddenError, PymError, UnauthorizedError


class AuthorizationHeaderMissingError(UnauthorizedError):
    code = "AUTHORIZATION_HEADER_MISSING"


class TokenInvalidError(UnauthorizedError):
    code = "TOKEN_INVALID"


class TokenExpiredError(UnauthorizedError):
    code = "TOKEN_EXPIRED"


class AccessDeniedError(ForbiddenError):
    """A valid token that lacks a scope or a claim the operation requires."""

    code = "FORBIDDEN"


class AuthKeysUnavailableError(PymError):
    """The keys to verify tokens could not be read or fetched: retrying may work."""

    status = 503
    code = "AUTH_KEYS_UNAVAILABLE"
