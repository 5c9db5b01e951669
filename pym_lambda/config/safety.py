"""Combinations of settings that are each valid alone but unsafe together: refused when the
settings are loaded (start-up, `pym-lambda validate`), one line naming the keys."""
from __future__ import annotations

from .keys import CLIENT_TOKEN_MODES, ConfigError, Settings


def check_safety(settings: Settings, where: str) -> None:
    """Raise ConfigError for the first unsafe combination in ``settings``."""
    cors = settings.cors
    if cors.allow_credentials and "*" in cors.allow_origins:
        # A credentialed wildcard would let any site call the API with the user's cookies.
        raise ConfigError(f"{where}: cors.allow_origins: '*' may not be used with "
                          "cors.allow_credentials: true; list the allowed origins")
    for name, mode in settings.client_tokens.items():
        if mode not in CLIENT_TOKEN_MODES:
            raise ConfigError(f"{where}: client_tokens.{name}: expected one of "
                              f"{', '.join(CLIENT_TOKEN_MODES)}, got {mode!r}")
