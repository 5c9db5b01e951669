"""JWT authentication: verify bearer tokens, sign new ones, know who is calling.

Importing this package is cheap: pyjwt, cryptography and requests are imported when a token
is first verified or signed, and the key handling (keys.py) when a token is first verified or
signed or the settings checked (a cold start of a service that protects nothing skips it).
"""
from typing import TYPE_CHECKING, Any

from pym_lambda.auth.errors import (
    AccessDeniedError,
    AuthKeysUnavailableError,
    AuthorizationHeaderMissingError,
    TokenExpiredError,
    TokenInvalidError,
)
from pym_lambda.auth.tokens import (
    Caller,
    authenticate,
    bearer_token,
    current_caller,
    generate_token,
    get_settings,
    require_scopes,
    set_settings,
    verify_token,
)
from pym_lambda.lazy_exports import lazy_attribute

__all__ = [
    "AccessDeniedError",
    "AuthKeysUnavailableError",
    "AuthorizationHeaderMissingError",
    "Caller",
    "TokenExpiredError",
    "TokenInvalidError",
    "authenticate",
    "bearer_token",
    "check_settings",
    "clear_key_cache",
    "current_caller",
    "generate_token",
    "get_settings",
    "require_scopes",
    "set_settings",
    "verify_token",
]

if TYPE_CHECKING:
    from pym_lambda.auth.keys import check_settings, clear_key_cache

_LAZY = {"check_settings": "keys", "clear_key_cache": "keys"}


def __getattr__(name: str) -> Any:
    return lazy_attribute(__name__, _LAZY, name)
