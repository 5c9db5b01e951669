"""Which key verifies (or signs) a token, chosen by the algorithm's family, never by the token.

The HMAC secret is only ever used for HS*; PEM keys and JWKS keys only for RS*/PS*/ES*/EdDSA.
So a token that says ``alg: HS256`` and was signed with the (public) RSA key as HMAC secret
is checked against the secret and fails, whatever algorithms are configured.

Keys are loaded on first use: a PEM file or JWKS file is read once, a secret, public or private
key that pym-config.yaml reads from SSM or Secrets Manager fetched once
(pym_lambda.secret_store); a failed read is not cached, so the next request tries again.

A JWKS URL is fetched by PyJWT's PyJWKClient (5 s timeout, no redirects) and its keys kept for
JWKS_LIFESPAN_SECONDS, then fetched again; a token naming an unknown kid makes it fetched again
too (a rotated key), at most once per JWKS_RETRY_SECONDS. A failed fetch is not retried before
JWKS_RETRY_SECONDS either: during an outage the last keys fetched keep serving (or, with none
yet, requests get a 503 at once) and only one request per window waits on the network.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple, TypeVar, cast

from pym_lambda.auth.errors import AuthKeysUnavailableError, TokenInvalidError
from pym_lambda.config.keys import ConfigError, JwtSettings
from pym_lambda.config.safety import hmac_secret_problem  # also checked by the loader
from pym_lambda.secret_store import SecretUnavailableError, SecretValue, reveal

log = logging.getLogger(__name__)

HMAC, RSA, EC, OKP = "hmac", "rsa", "ec", "okp"
JWKS_TIMEOUT_SECONDS = 5
JWKS_LIFESPAN_SECONDS = 300  # PyJWKClient's default
JWKS_RETRY_SECONDS = 30  # PyJWKClient's cooldown for an unknown kid; also our outage backoff

JwksKeys = List[Tuple[Optional[str], Optional[str], Any]]  # (kid, alg, key)

_cache: Dict[Tuple[str, str], Any] = {}
_T = TypeVar("_T")
_lock = threading.Lock()


def algorithm_family(alg: str) -> Optional[str]:
    if alg in ("HS256", "HS384", "HS512"):
        return HMAC
    if alg in ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"):
        return RSA
    if alg in ("ES256", "ES256K", "ES384", "ES512"):
        return EC
    if alg == "EdDSA":
        return OKP
    return None


def clear_key_cache() -> None:
    """Forget every loaded key and fetched JWKS (tests, or a process that rotates keys)."""
    with _lock:
        _cache.clear()


def verification_key(alg: str, kid: Any, settings: JwtSettings) -> Any:
    """The key to check a token signed with ``alg`` (already known to be configured)."""
    family = algorithm_family(alg)
    if family == HMAC:
        if not settings.secret:
            raise TokenInvalidError("this service accepts no HMAC-signed tokens")
        return _hmac_key(settings)
    if settings.public_key or settings.public_key_file:
        inline = reveal(settings.public_key)
        key = _cached(("public-key", inline or str(settings.public_key_file)),
                      lambda: _load_public_pem(_pem_text(inline, settings.public_key_file)))
    elif settings.jwks_file or settings.jwks_url:
        key = _key_from_jwks(_jwks(settings, kid), alg, kid)
    else:
        raise TokenInvalidError("this service accepts no asymmetrically signed tokens")
    if not key_fits(key, family):
        raise TokenInvalidError("the token's algorithm does not match the service's key")
    return key


def signing_key(settings: JwtSettings) -> Tuple[str, Any]:
    """The first configured algorithm this service holds a signing key for, and that key."""
    private = None
    if settings.private_key or settings.private_key_file:
        inline = reveal(settings.private_key)
        private = _cached(("private-key", inline or str(settings.private_key_file)),
                          lambda: _load_private_pem(_pem_text(inline, settings.private_key_file)))
    for alg in settings.algorithms:
        family = algorithm_family(alg)
        if family == HMAC and settings.secret:
            return alg, _hmac_key(settings)
        if family not in (None, HMAC) and private is not None and key_fits(private, family):
            return alg, private
    raise ConfigError("jwt: no key to sign tokens with: set jwt.secret (HS*) or "
                      "jwt.private_key / jwt.private_key_file matching jwt.algorithms")


def key_fits(key: Any, family: Optional[str]) -> bool:
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

    types: Dict[Optional[str], Tuple[Any, ...]] = {
        RSA: (rsa.RSAPublicKey, rsa.RSAPrivateKey),
        EC: (ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey),
        OKP: (ed25519.Ed25519PublicKey, ed25519.Ed25519PrivateKey,
              ed448.Ed448PublicKey, ed448.Ed448PrivateKey),
    }
    return isinstance(key, types.get(family, ()))


# --- loading ---------------------------------------------------------------------------------

def _hmac_key(settings: JwtSettings) -> bytes:
    """The HMAC secret as bytes. One read from AWS is checked as check_settings() checks a
    plain one at start-up; a bad one is a 500 (logged), never a weak key used."""
    secret = settings.secret
    text = reveal(secret) or ""
    if isinstance(secret, SecretValue):
        problem = hmac_secret_problem(text, settings.algorithms)
        if problem:
            raise SecretUnavailableError(f"{secret.where}: {secret.source.describe()}: {problem}")
    return text.encode("utf-8")


def _cached(cache_key: Tuple[str, str], load: Callable[[], _T]) -> _T:
    # One lock for all keys: loads are rare (once per process) and this keeps one fetch per URL.
    with _lock:
        if cache_key not in _cache:
            _cache[cache_key] = load()
        return cast(_T, _cache[cache_key])


def _pem_text(inline: Optional[str], path: Optional[str]) -> bytes:
    if inline:
        return inline.encode("utf-8")
    try:
        with open(str(path), "rb") as file:
            return file.read()
    except OSError as exc:
        log.error("cannot read JWT key file %s: %s", path, exc)
        raise AuthKeysUnavailableError("the keys to verify tokens are unavailable") from None


def _load_public_pem(pem: bytes) -> Any:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        if b"BEGIN CERTIFICATE" in pem:
            return x509.load_pem_x509_certificate(pem).public_key()
        return serialization.load_pem_public_key(pem)
    except ValueError as exc:
        log.error("the configured JWT public key is not a PEM public key: %s", exc)
        raise AuthKeysUnavailableError("the keys to verify tokens are unavailable") from None


def _load_private_pem(pem: bytes) -> Any:
    from cryptography.hazmat.primitives import serialization

    try:
        return serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"jwt: the private key is not an unencrypted PEM key: {exc}") from None


def _jwks(settings: JwtSettings, kid: Any) -> JwksKeys:
    """(kid, alg, key) for each usable signing key of the configured JWKS."""
    if settings.jwks_file:
        path = str(settings.jwks_file)
        return _cached(("jwks-file", path), lambda: _parse_jwks(_read_jwks_file(path), path))
    url = str(settings.jwks_url)
    source: JwksUrl = _cached(("jwks-url", url), lambda: JwksUrl(url))
    return source.keys(kid)


def _read_jwks_file(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as file:
            return json.loads(file.read())
    except (OSError, ValueError) as exc:
        log.error("cannot read the JWKS file %s: %s", path, exc)
        raise AuthKeysUnavailableError("the keys to verify tokens are unavailable") from None


class JwksUrl:
    """The keys of one JWKS URL: fetched by PyJWKClient, kept for a lifespan, refetched for an
    unknown kid, and never fetched more than once per JWKS_RETRY_SECONDS after a failure."""

    def __init__(self, url: str) -> None:
        import jwt

        self.url = url
        self._client = jwt.PyJWKClient(url, cache_jwk_set=False, timeout=JWKS_TIMEOUT_SECONDS)
        self._keys: Optional[JwksKeys] = None
        self._expires = 0.0  # monotonic time the keys go stale
        self._next_fetch = 0.0  # no fetch before (after a failure or a refetch)
        self._lock = threading.Lock()

    def keys(self, kid: Any) -> JwksKeys:
        with self._lock:  # one fetch at a time: the others wait for its keys
            now = time.monotonic()
            stale = self._keys is None or now >= self._expires
            unknown = kid is not None and self._keys is not None and all(
                key_id != kid for key_id, _, _ in self._keys)
            if (stale or unknown) and now >= self._next_fetch:
                self._fetch(now)
            if self._keys is None:
                raise AuthKeysUnavailableError(
                    "the keys to verify tokens are unavailable; retry later")
            return self._keys

    def _fetch(self, now: float) -> None:
        import jwt

        self._next_fetch = now + JWKS_RETRY_SECONDS
        try:
            document = self._client.fetch_data()
            keys = _parse_jwks(document, self.url)
        except (jwt.PyJWKClientError, AuthKeysUnavailableError, ValueError, OSError) as exc:
            if not isinstance(exc, AuthKeysUnavailableError):
                log.error("cannot fetch the JWKS at %s: %s", self.url, exc)
            if self._keys is not None:
                log.warning("keeping the JWKS keys fetched before from %s", self.url)
            return
        self._keys, self._expires = keys, time.monotonic() + JWKS_LIFESPAN_SECONDS


def _parse_jwks(document: Any, source: str) -> JwksKeys:
    import jwt

    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        log.error("the JWKS at %s has no 'keys' list", source)
        raise AuthKeysUnavailableError("the keys to verify tokens are unavailable")
    keys = []
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        try:
            key = jwt.PyJWK(entry).key
        except jwt.PyJWTError as exc:
            log.warning("skipping a key of the JWKS at %s: %s", source, exc)
            continue
        keys.append((entry.get("kid"), entry.get("alg"), key))
    return keys


def _key_from_jwks(keys: JwksKeys, alg: str, kid: Any) -> Any:
    family = algorithm_family(alg)
    if kid is not None:
        named = [(a, k) for key_id, a, k in keys if key_id == kid]
        if not named:
            raise TokenInvalidError("the token's key id (kid) is not known")
    else:
        named = [(a, k) for _, a, k in keys]
    # A JWK that declares its alg is only used for that alg (RFC 7517 section 4.4).
    usable = [k for a, k in named if (a is None or a == alg) and key_fits(k, family)]
    if len(usable) == 1 or (usable and kid is not None):
        return usable[0]
    if not usable:
        raise TokenInvalidError("the token's algorithm does not match its key")
    raise TokenInvalidError("the token has no key id (kid) to choose among the service's keys")


def check_settings(settings: JwtSettings) -> None:
    """Raise ConfigError if tokens could never be verified with these settings.

    Cheap on purpose (no PEM parsing, no fetch, no pyjwt import, no secret read from AWS): the
    runtime calls it at app creation when an operation is protected, so a missing key fails
    the start-up.
    """
    problems = []
    hmac_algs = [a for a in settings.algorithms if algorithm_family(a) == HMAC]
    asymmetric = [a for a in settings.algorithms if algorithm_family(a) not in (None, HMAC)]
    if hmac_algs:
        secret = settings.secret
        if not secret:
            problems.append(f"jwt.secret is needed to verify {', '.join(hmac_algs)} tokens")
        elif isinstance(secret, str):  # one read from AWS is checked at first use
            problem = hmac_secret_problem(secret, settings.algorithms)
            if problem:
                problems.append(problem)
    sources = [name for name in ("public_key", "public_key_file", "jwks_file", "jwks_url")
               if getattr(settings, name)]
    if asymmetric and not sources:
        problems.append(f"{', '.join(asymmetric)} needs one of jwt.public_key, "
                        "jwt.public_key_file, jwt.jwks_file, jwt.jwks_url")
    if len(sources) > 1:
        problems.append(f"set only one of {', '.join('jwt.' + s for s in sources)}")
    for name in ("public_key_file", "jwks_file", "private_key_file"):
        path = getattr(settings, name)
        if path and not os.path.isfile(path):
            problems.append(f"jwt.{name}: no file at {path}")
    if settings.jwks_url and not settings.jwks_url.startswith(("https://", "http://")):
        problems.append("jwt.jwks_url must be an http(s) URL")
    if problems:
        raise ConfigError("jwt: " + "; ".join(problems))
