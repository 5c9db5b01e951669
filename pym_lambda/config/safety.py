"""Combinations of settings that are each valid alone but unsafe together, and a weak HMAC
key: refused when the settings are loaded (start-up, `pym-lambda validate`), one line per
problem naming the keys."""
from __future__ import annotations

from typing import List, Optional, Tuple

from .keys import CLIENT_TOKEN_MODES, ConfigError, Settings


def safety_problems(settings: Settings, where: str) -> List[str]:
    """Every unsafe combination in ``settings``, one line each."""
    problems = []
    cors = settings.cors
    if cors.allow_credentials and "*" in cors.allow_origins:
        # A credentialed wildcard would let any site call the API with the user's cookies.
        problems.append(f"{where}: cors.allow_origins: '*' may not be used with "
                        "cors.allow_credentials: true; list the allowed origins")
    for name, mode in settings.client_tokens.items():
        if mode not in CLIENT_TOKEN_MODES:
            problems.append(f"{where}: client_tokens.{name}: expected one of "
                            f"{', '.join(CLIENT_TOKEN_MODES)}, got {mode!r}")
    secret = settings.jwt.secret
    if isinstance(secret, str):  # one read from AWS is checked at its first use
        problem = hmac_secret_problem(secret, settings.jwt.algorithms)
        if problem:  # it would sign tokens too: weak even where nothing is protected
            problems.append(f"{where}: {problem}")
    return problems


def check_safety(settings: Settings, where: str) -> None:
    """Raise one ConfigError naming every unsafe combination in ``settings``."""
    problems = safety_problems(settings, where)
    if problems:
        raise ConfigError(*problems)


def hmac_secret_problem(secret: str, algorithms: Tuple[str, ...]) -> Optional[str]:
    """Why `secret` cannot be the key of these HS* algorithms, if it cannot (never quoting it)."""
    hmac_algs = [a for a in algorithms if a.startswith("HS")]
    if not hmac_algs:
        return None
    # RFC 7518 3.2: an HMAC key at least as long as the hash output.
    minimum, alg = max((int(a[2:]) // 8, a) for a in hmac_algs)
    if len(secret.encode("utf-8")) < minimum:
        # A PyMacaron service's secret often is: its tokens must be re-issued with a new one.
        return (f"jwt.secret is shorter than the {minimum} bytes {alg} needs: generate one "
                f"(python -c 'import secrets; print(secrets.token_urlsafe({minimum * 2}))'), "
                "set it, and re-issue the tokens signed with the old one (for a PyMacaron "
                "secret, see docs/MIGRATING_FROM_PYMACARON.md)")
    if "-----BEGIN" in secret:
        return "jwt.secret looks like a PEM key; put it in jwt.public_key"
    return None
