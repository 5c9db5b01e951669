"""JWT authentication: verify bearer tokens, sign new ones, know who is calling.

Importing this package is cheap: pyjwt, cryptography and requests are imported when a token
is first verified or signed.
"""
from pym_lambda.auth.errors import (
                                    AccessDeniedError,
                                    AuthKeysUnavailableError,
                                    AuthorizationHeaderMissingError,
                                    TokenExpiredError,
                                    TokenInvalidError,
)
from pym_lambda.auth.keys import check_settings, clear_key_cache
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
