"""JWT auth: token extraction, verification rules, key selection, JWKS, signing, errors."""
from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import jwt
import pytest
from chalice.app import CaseInsensitiveMapping
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from pym_lambda import auth
from pym_lambda.auth import (
    AccessDeniedError,
    AuthKeysUnavailableError,
    AuthorizationHeaderMissingError,
    Caller,
    TokenExpiredError,
    TokenInvalidError,
)
from pym_lambda.auth import keys as auth_keys
from pym_lambda.config import ConfigError, JwtSettings, Settings
from pym_lambda.context import CallContext, enter_context, exit_context
from pym_lambda.errors import PymError, error_body

SECRET = "s" * 32 + "-test-secret"
OTHER_SECRET = "o" * 32 + "-other-secret"


# --- keys and helpers ------------------------------------------------------------------------

def pem_private(key: Any) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def pem_public(key: Any) -> str:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(autouse=True)
def fresh_auth_state() -> Iterator[None]:
    # Keys are cached per process and settings installed per module: isolate each test.
    auth.clear_key_cache()
    auth.set_settings(None)
    yield
    auth.clear_key_cache()
    auth.set_settings(None)


def hs_settings(**changes: Any) -> JwtSettings:
    return JwtSettings(secret=SECRET)._replace(**changes)


def claims(**extra: Any) -> Dict[str, Any]:
    now = int(time.time())
    return {"sub": "user-1", "iat": now, "exp": now + 600, **extra}


def sign(payload: Dict[str, Any], key: Any = SECRET, alg: str = "HS256",
         headers: Optional[Dict[str, Any]] = None) -> str:
    return jwt.encode(payload, key, algorithm=alg, headers=headers)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_made_token(header: Dict[str, Any], payload: Dict[str, Any],
                    hmac_key: Optional[bytes] = None) -> str:
    """A token built without pyjwt, which refuses to make some of the attacks."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    signature = b""
    if hmac_key is not None:
        signature = hmac.new(hmac_key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def bearer(token: str) -> Dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def authenticate(token: str, settings: JwtSettings) -> Caller:
    return auth.authenticate(bearer(token), settings)


def rejected(token: str, settings: JwtSettings, error: type = TokenInvalidError) -> PymError:
    with pytest.raises(error) as info:
        authenticate(token, settings)
    assert isinstance(info.value, PymError)
    return info.value


# --- valid tokens ----------------------------------------------------------------------------

def test_a_valid_hs256_token_gives_the_caller() -> None:
    token = sign(claims(email="a@example.com"))
    caller = authenticate(token, hs_settings())
    assert caller.user_id == "user-1"
    assert caller.claims["email"] == "a@example.com"
    assert caller.token == token
    assert token not in repr(caller)


@pytest.mark.parametrize("headers", [
    {"authorization": "Bearer {}"},
    {"AUTHORIZATION": "bearer {}"},
    CaseInsensitiveMapping({"authorization": "Bearer {}"}),
])
def test_the_header_name_and_scheme_are_case_insensitive(headers: Any) -> None:
    token = sign(claims())
    filled: Any = {key: value.format(token) for key, value in headers.items()}
    if isinstance(headers, CaseInsensitiveMapping):
        filled = CaseInsensitiveMapping(filled)
    assert auth.authenticate(filled, hs_settings()).user_id == "user-1"


def test_a_valid_rs256_token_with_an_inline_public_key(rsa_key: Any) -> None:
    settings = JwtSettings(algorithms=("RS256",), public_key=pem_public(rsa_key))
    token = sign(claims(), rsa_key, "RS256")
    assert authenticate(token, settings).user_id == "user-1"


def test_a_valid_rs256_token_with_a_public_key_file(tmp_path: Path, rsa_key: Any) -> None:
    key_file = tmp_path / "public.pem"
    key_file.write_text(pem_public(rsa_key))
    settings = JwtSettings(algorithms=("RS256",), public_key_file=str(key_file))
    assert authenticate(sign(claims(), rsa_key, "RS256"), settings).user_id == "user-1"
    key_file.unlink()  # read once: the loaded key stays
    assert authenticate(sign(claims(), rsa_key, "RS256"), settings).user_id == "user-1"


def test_a_certificate_pem_is_accepted_as_public_key(rsa_key: Any) -> None:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "auth.example.com")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(rsa_key.public_key()).serial_number(1)
                   .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
                   .sign(rsa_key, hashes.SHA256()))
    settings = JwtSettings(algorithms=("RS256",), public_key=certificate.public_bytes(
        serialization.Encoding.PEM).decode())
    assert authenticate(sign(claims(), rsa_key, "RS256"), settings).user_id == "user-1"


def test_a_valid_es256_token(ec_key: Any) -> None:
    settings = JwtSettings(algorithms=("ES256",), public_key=pem_public(ec_key))
    assert authenticate(sign(claims(), ec_key, "ES256"), settings).user_id == "user-1"


def test_a_valid_eddsa_token() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    settings = JwtSettings(algorithms=("EdDSA",), public_key=pem_public(key))
    assert authenticate(sign(claims(), key, "EdDSA"), settings).user_id == "user-1"


def test_a_token_without_sub_has_no_user_id() -> None:
    caller = authenticate(sign({"exp": int(time.time()) + 60}), hs_settings())
    assert caller.user_id is None


# --- JWKS ------------------------------------------------------------------------------------

def jwks_of(*entries: tuple) -> Dict[str, Any]:
    keys = []
    for kid, key, extra in entries:
        public = key.public_key()
        algorithm = jwt.algorithms.RSAAlgorithm if isinstance(public, rsa.RSAPublicKey) \
            else jwt.algorithms.ECAlgorithm
        keys.append({**algorithm.to_jwk(public, as_dict=True), "kid": kid, **extra})
    return {"keys": keys}


def test_jwks_file_selects_the_key_by_kid(tmp_path: Path, rsa_key: Any, other_rsa_key: Any,
                                          ec_key: Any) -> None:
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(jwks_of(("k1", rsa_key, {}), ("k2", other_rsa_key, {}),
                                            ("k3", ec_key, {"alg": "ES256"}))))
    settings = JwtSettings(algorithms=("RS256", "ES256"), jwks_file=str(jwks_file))
    for kid, key, alg in (("k1", rsa_key, "RS256"), ("k2", other_rsa_key, "RS256"),
                          ("k3", ec_key, "ES256")):
        token = sign(claims(), key, alg, headers={"kid": kid})
        assert authenticate(token, settings).user_id == "user-1"
    # Signed by k1 but naming k2: k2's key is used, and the signature fails.
    wrong = sign(claims(), rsa_key, "RS256", headers={"kid": "k2"})
    assert rejected(wrong, settings).description == "the token's signature is invalid"
    jwks_file.unlink()  # read once
    assert authenticate(sign(claims(), rsa_key, "RS256", headers={"kid": "k1"}),
                        settings).user_id == "user-1"


def test_jwks_unknown_kid_and_missing_kid_are_invalid(tmp_path: Path, rsa_key: Any,
                                                     other_rsa_key: Any) -> None:
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(jwks_of(("k1", rsa_key, {}), ("k2", other_rsa_key, {}))))
    settings = JwtSettings(algorithms=("RS256",), jwks_file=str(jwks_file))
    unknown = sign(claims(), rsa_key, "RS256", headers={"kid": "nope"})
    assert rejected(unknown, settings).description == "the token's key id (kid) is not known"
    no_kid = sign(claims(), rsa_key, "RS256")
    assert "no key id" in rejected(no_kid, settings).description


def test_jwks_with_a_single_key_accepts_a_token_without_kid(tmp_path: Path,
                                                           rsa_key: Any) -> None:
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(jwks_of(("k1", rsa_key, {}))))
    settings = JwtSettings(algorithms=("RS256",), jwks_file=str(jwks_file))
    assert authenticate(sign(claims(), rsa_key, "RS256"), settings).user_id == "user-1"


def test_a_jwk_declaring_another_alg_is_not_used(tmp_path: Path, rsa_key: Any) -> None:
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(jwks_of(("k1", rsa_key, {"alg": "RS512"}))))
    settings = JwtSettings(algorithms=("RS256", "RS512"), jwks_file=str(jwks_file))
    token = sign(claims(), rsa_key, "RS256", headers={"kid": "k1"})
    assert rejected(token, settings).description == ("the token's algorithm does not match "
                                                     "its key")


def test_an_unreadable_jwks_file_is_a_503(tmp_path: Path) -> None:
    settings = JwtSettings(algorithms=("RS256",), jwks_file=str(tmp_path / "absent.json"))
    token = hand_made_token({"alg": "RS256", "kid": "k1"}, claims())
    error = rejected(token, settings, AuthKeysUnavailableError)
    assert (error.status, error.code) == (503, "AUTH_KEYS_UNAVAILABLE")


class JwksServer:
    """A JWKS endpoint on 127.0.0.1 that counts its hits; never the internet."""

    def __init__(self) -> None:
        self.hits = 0
        self.status = 200
        self.body = b"{}"
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                server.hits += 1
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(server.body)))
                self.end_headers()
                self.wfile.write(server.body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def serve(self, document: Dict[str, Any], status: int = 200) -> None:
        self.body, self.status = json.dumps(document).encode(), status


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    server = JwksServer()
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()
    server.thread.join()


def test_jwks_url_is_fetched_once_and_selects_by_kid(jwks_server: JwksServer, rsa_key: Any,
                                                    other_rsa_key: Any) -> None:
    jwks_server.serve(jwks_of(("k1", rsa_key, {}), ("k2", other_rsa_key, {})))
    settings = JwtSettings(algorithms=("RS256",), jwks_url=jwks_server.url)
    for _ in range(3):
        for kid, key in (("k1", rsa_key), ("k2", other_rsa_key)):
            token = sign(claims(), key, "RS256", headers={"kid": kid})
            assert authenticate(token, settings).user_id == "user-1"
    unknown = sign(claims(), rsa_key, "RS256", headers={"kid": "k9"})
    assert rejected(unknown, settings).code == "TOKEN_INVALID"
    assert jwks_server.hits == 1


def test_a_failed_jwks_fetch_is_a_503_and_is_retried(jwks_server: JwksServer, rsa_key: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth_keys, "JWKS_RETRY_SECONDS", 0)  # retried after the backoff
    jwks_server.serve({"error": "down"}, status=500)
    settings = JwtSettings(algorithms=("RS256",), jwks_url=jwks_server.url)
    token = sign(claims(), rsa_key, "RS256", headers={"kid": "k1"})
    error = rejected(token, settings, AuthKeysUnavailableError)
    assert error.status == 503 and "retry" in error.description
    jwks_server.serve(jwks_of(("k1", rsa_key, {})))
    assert authenticate(token, settings).user_id == "user-1"
    assert jwks_server.hits == 2


def test_a_jwks_document_without_keys_is_a_503(jwks_server: JwksServer, rsa_key: Any) -> None:
    jwks_server.serve({"not": "a jwks"})
    settings = JwtSettings(algorithms=("RS256",), jwks_url=jwks_server.url)
    rejected(sign(claims(), rsa_key, "RS256"), settings, AuthKeysUnavailableError)


def test_an_unreachable_jwks_url_is_a_503(rsa_key: Any) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()  # nothing listens on that port any more
    settings = JwtSettings(algorithms=("RS256",), jwks_url=f"http://127.0.0.1:{port}/jwks")
    error = rejected(sign(claims(), rsa_key, "RS256"), settings, AuthKeysUnavailableError)
    assert "127.0.0.1" not in error.description


class HangingJwksServer(JwksServer):
    """A JWKS endpoint that answers, then stops answering (accepts, never replies)."""

    def __init__(self) -> None:
        super().__init__()
        self.hanging = threading.Event()
        self.released = threading.Event()
        handler = self.httpd.RequestHandlerClass
        original = handler.do_GET  # type: ignore[attr-defined]

        def do_get(request: Any) -> None:
            if self.hanging.is_set():
                self.hits += 1
                self.released.wait(5)
                return
            original(request)

        handler.do_GET = do_get  # type: ignore[attr-defined]


def test_a_jwks_outage_costs_one_bounded_fetch_per_window(
        rsa_key: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth_keys, "JWKS_TIMEOUT_SECONDS", 0.5)
    server = HangingJwksServer()
    server.thread.start()
    try:
        server.serve(jwks_of(("k1", rsa_key, {})))
        settings = JwtSettings(algorithms=("RS256",), jwks_url=server.url)
        token = sign(claims(), rsa_key, "RS256", headers={"kid": "k1"})
        assert authenticate(token, settings).user_id == "user-1"
        server.hanging.set()
        source = auth_keys._cache[("jwks-url", server.url)]
        source._expires = source._next_fetch = 0.0  # the lifespan is over
        started = time.monotonic()
        assert authenticate(token, settings).user_id == "user-1"  # the stale keys serve
        first = time.monotonic() - started
        started = time.monotonic()
        for _ in range(5):  # within the backoff window: no request waits on the network
            assert authenticate(token, settings).user_id == "user-1"
        assert time.monotonic() - started < 0.25 <= first + 0.3
        assert server.hits == 2  # the first fetch, then one that timed out
        # A process that never got keys answers 503 at once during the outage too.
        auth.clear_key_cache()
        rejected(token, settings, AuthKeysUnavailableError)
        started = time.monotonic()
        error = rejected(token, settings, AuthKeysUnavailableError)
        assert time.monotonic() - started < 0.25 and error.status == 503
        assert server.hits == 3
    finally:
        server.released.set()
        server.httpd.shutdown()
        server.httpd.server_close()
        server.thread.join()


# --- every failure, with its code ------------------------------------------------------------

def test_no_header_is_authorization_header_missing() -> None:
    with pytest.raises(AuthorizationHeaderMissingError) as info:
        auth.authenticate({}, hs_settings())
    assert (info.value.status, info.value.code) == (401, "AUTHORIZATION_HEADER_MISSING")
    with pytest.raises(AuthorizationHeaderMissingError):
        auth.authenticate(None, hs_settings())
    with pytest.raises(AuthorizationHeaderMissingError):
        auth.authenticate({"Authorization": "  "}, hs_settings())


@pytest.mark.parametrize("value", ["Basic dXNlcjpwYXNzd29yZA==", "Bearer", "Bearer a b",
                                   "Token abc.def.ghi", "abc.def.ghi"])
def test_a_malformed_header_is_token_invalid_and_not_echoed(value: str) -> None:
    with pytest.raises(TokenInvalidError) as info:
        auth.authenticate({"Authorization": value}, hs_settings())
    assert (info.value.status, info.value.code) == (401, "TOKEN_INVALID")
    assert info.value.description == "the Authorization header must be 'Bearer <token>'"


def tamper_payload(token: str) -> str:
    header, payload, signature = token.split(".")
    claims_ = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims_["sub"] = "admin"
    return ".".join((header, b64(json.dumps(claims_).encode()), signature))


def valid_token() -> str:
    return sign(claims())


def hs_and_rs(rsa_key: Any) -> JwtSettings:
    return hs_settings(algorithms=("HS256", "RS256"), public_key=pem_public(rsa_key))


def ago(seconds: int) -> int:
    return int(time.time()) - seconds


# name -> (rsa_key -> (token, settings, error class, description))
BAD_TOKENS: Dict[str, Callable[[Any], tuple]] = {
    "garbage": lambda key: ("not-a-jwt", hs_settings(), TokenInvalidError,
                            "the token is not a well-formed JWT"),
    "three garbage segments": lambda key: ("a.b.c", hs_settings(), TokenInvalidError,
                                           "the token is not a well-formed JWT"),
    # An HS256 signature is 43 base64 characters: 40 still decode, 41 never do.
    "truncated signature": lambda key: (valid_token()[:-3], hs_settings(), TokenInvalidError,
                                        "the token's signature is invalid"),
    "truncated, bad base64": lambda key: (valid_token()[:-2], hs_settings(),
                                          TokenInvalidError, "the token is not a well-formed JWT"),
    "cut in half": lambda key: (valid_token()[:len(valid_token()) // 2], hs_settings(),
                                TokenInvalidError, "the token is not a well-formed JWT"),
    "tampered payload": lambda key: (tamper_payload(valid_token()), hs_settings(),
                                     TokenInvalidError, "the token's signature is invalid"),
    "bad signature": lambda key: (sign(claims(), OTHER_SECRET), hs_settings(),
                                  TokenInvalidError, "the token's signature is invalid"),
    "alg none": lambda key: (jwt.encode(claims(), "", algorithm="none"), hs_settings(),
                             TokenInvalidError, "the token's signing algorithm is not accepted"),
    "alg None spelt otherwise": lambda key: (
        hand_made_token({"alg": "None"}, claims()), hs_settings(), TokenInvalidError,
        "the token's signing algorithm is not accepted"),
    "no alg": lambda key: (hand_made_token({"typ": "JWT"}, claims(), SECRET.encode()),
                           hs_settings(), TokenInvalidError,
                           "the token's signing algorithm is not accepted"),
    "HS256 signed with the RSA public key": lambda key: (
        hand_made_token({"alg": "HS256", "typ": "JWT"}, claims(), pem_public(key).encode()),
        hs_and_rs(key), TokenInvalidError, "the token's signature is invalid"),
    "HS256 signed with the RSA public key, no secret": lambda key: (
        hand_made_token({"alg": "HS256", "typ": "JWT"}, claims(), pem_public(key).encode()),
        hs_and_rs(key)._replace(secret=None), TokenInvalidError,
        "this service accepts no HMAC-signed tokens"),
    "algorithm not allowed (HS512)": lambda key: (
        sign(claims(), SECRET * 2, "HS512"), hs_settings(), TokenInvalidError,
        "the token's signing algorithm is not accepted"),
    "algorithm not allowed (RS256)": lambda key: (
        sign(claims(), key, "RS256"), hs_settings(), TokenInvalidError,
        "the token's signing algorithm is not accepted"),
    "RS256 configured without a public key": lambda key: (
        sign(claims(), key, "RS256"), hs_settings(algorithms=("HS256", "RS256")),
        TokenInvalidError, "this service accepts no asymmetrically signed tokens"),
    "ES256 token, RSA key configured": lambda key: (
        sign(claims(), ec.generate_private_key(ec.SECP256R1()), "ES256"),
        JwtSettings(algorithms=("RS256", "ES256"), public_key=pem_public(key)),
        TokenInvalidError, "the token's algorithm does not match the service's key"),
    "expired": lambda key: (sign(claims(exp=ago(120))), hs_settings(), TokenExpiredError,
                            "the token has expired"),
    "expired beyond the leeway": lambda key: (
        sign(claims(exp=ago(120))), hs_settings(leeway=60), TokenExpiredError,
        "the token has expired"),
    "nbf in the future": lambda key: (sign(claims(nbf=ago(-300))), hs_settings(),
                                      TokenInvalidError, "the token is not valid yet"),
    "iat in the future": lambda key: (sign(claims(iat=ago(-300))), hs_settings(),
                                      TokenInvalidError, "the token is not valid yet"),
    "exp not a number": lambda key: (sign(claims(exp="tomorrow")), hs_settings(),
                                     TokenInvalidError, "the token is not a well-formed JWT"),
    "wrong aud": lambda key: (sign(claims(aud="other-api")), hs_settings(audience=("my-api",)),
                              TokenInvalidError, "the token's audience is not accepted"),
    "no aud when one is configured": lambda key: (
        sign(claims()), hs_settings(audience=("my-api",)), TokenInvalidError,
        "the token has no 'aud' claim"),
    # RFC 7519 4.1.3: a service that declares no audience cannot tell the token is for it.
    "aud when none is configured": lambda key: (
        sign(claims(aud="my-api")), hs_settings(), TokenInvalidError,
        "the token's audience is not accepted"),
    "wrong iss": lambda key: (sign(claims(iss="evil")), hs_settings(issuer="auth.example.com"),
                              TokenInvalidError, "the token's issuer is not accepted"),
    "no iss when one is configured": lambda key: (
        sign(claims()), hs_settings(issuer="auth"), TokenInvalidError,
        "the token has no 'iss' claim"),
    "sub not a string": lambda key: (sign(claims(sub=42)), hs_settings(), TokenInvalidError,
                                     "the token's 'sub' claim is invalid"),
    # Without exp a token would be valid forever: jwt.require_exp (default true).
    "no exp": lambda key: (sign({"sub": "user-1", "iat": ago(0)}), hs_settings(),
                           TokenInvalidError, "the token has no 'exp' claim"),
    "kid not a string": lambda key: (
        hand_made_token({"alg": "HS256", "kid": ["a", "b"]}, claims(), SECRET.encode()),
        hs_settings(), TokenInvalidError, "the token is not a well-formed JWT"),
    "missing required claim": lambda key: (
        sign(claims()), hs_settings(required_claims=("email", "tenant")), AccessDeniedError,
        "the token lacks the required claim(s): email, tenant"),
}


@pytest.mark.parametrize("case", list(BAD_TOKENS))
def test_each_bad_token_gets_its_code(case: str, rsa_key: Any) -> None:
    token, settings, error_class, description = BAD_TOKENS[case](rsa_key)
    with pytest.raises(PymError) as info:
        authenticate(token, settings)
    error = info.value
    assert type(error) is error_class
    assert error.description == description
    assert (error.status, error.code) == {
        TokenInvalidError: (401, "TOKEN_INVALID"),
        TokenExpiredError: (401, "TOKEN_EXPIRED"),
        AccessDeniedError: (403, "FORBIDDEN"),
    }[error_class]
    # Useful, but never the token, a traceback or a class name.
    body = json.dumps(error_body(error.status, error.code, error.description, None,
                                 error.user_message))
    for segment in token.split("."):
        assert len(segment) < 8 or segment not in body
    assert "Traceback" not in body and "Error" not in body and "jwt." not in body
    assert error.__cause__ is None


def test_a_token_without_exp_is_accepted_only_when_the_config_says_so() -> None:
    forever = sign({"sub": "user-1"})
    assert authenticate(forever, hs_settings(require_exp=False)).user_id == "user-1"
    assert rejected(forever, hs_settings()).description == "the token has no 'exp' claim"


@pytest.mark.parametrize("where", ["get_unverified_header", "decode"])
@pytest.mark.parametrize("raised", [RecursionError, OverflowError, KeyError, AttributeError])
def test_whatever_pyjwt_raises_on_a_token_is_a_401(monkeypatch: pytest.MonkeyPatch, where: str,
                                                   raised: type,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    # pyjwt < 2.15 raised RecursionError (nested header) and OverflowError (exp: 1e999)
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise raised("from pyjwt")
    monkeypatch.setattr(jwt, where, fail)
    with caplog.at_level("INFO", logger="pym_lambda.auth.tokens"):
        error = rejected(sign(claims()), hs_settings())
    assert (error.status, error.description) == (401, "the token is not a well-formed JWT")
    assert [r.getMessage() for r in caplog.records] == [f"token rejected: {raised.__name__}"]
    assert not any(r.exc_info for r in caplog.records)


def test_generate_token_always_sets_exp() -> None:
    token = auth.generate_token("user-1", settings=hs_settings())
    assert isinstance(jwt.decode(token, SECRET, algorithms=["HS256"])["exp"], int)
    assert authenticate(token, hs_settings()).user_id == "user-1"


def test_expired_within_the_leeway_is_accepted() -> None:
    token = sign(claims(exp=int(time.time()) - 30))
    assert authenticate(token, hs_settings(leeway=60)).user_id == "user-1"


def test_nbf_within_the_leeway_is_accepted() -> None:
    token = sign(claims(nbf=int(time.time()) + 30))
    assert authenticate(token, hs_settings(leeway=60)).user_id == "user-1"


def test_the_configured_audience_and_issuer_are_accepted() -> None:
    settings = hs_settings(audience=("api-a", "api-b"), issuer="auth.example.com")
    token = sign(claims(aud=["api-b", "api-c"], iss="auth.example.com"))
    assert authenticate(token, settings).claims["aud"] == ["api-b", "api-c"]


def test_required_claims_present_are_accepted() -> None:
    settings = hs_settings(required_claims=("email", "tenant"))
    token = sign(claims(email="a@example.com", tenant="t1"))
    assert authenticate(token, settings).claims["tenant"] == "t1"


# --- scopes ----------------------------------------------------------------------------------

def test_scopes_come_from_scope_scopes_and_scp() -> None:
    caller = authenticate(sign(claims(scope="read write", scopes=["admin"], scp="audit")),
                          hs_settings())
    assert caller.scopes == frozenset({"read", "write", "admin", "audit"})
    auth.require_scopes(caller, ["read", "admin"])
    auth.require_scopes(caller, "write audit")


def test_a_missing_scope_is_forbidden() -> None:
    caller = authenticate(sign(claims(scope="read")), hs_settings())
    with pytest.raises(AccessDeniedError) as info:
        auth.require_scopes(caller, ["read", "write", "admin"])
    assert (info.value.status, info.value.code) == (403, "FORBIDDEN")
    assert info.value.description == "the token lacks the scope(s): write, admin"


def test_a_token_without_scopes_is_forbidden_any_scope() -> None:
    caller = authenticate(sign(claims()), hs_settings())
    with pytest.raises(AccessDeniedError):
        auth.require_scopes(caller, "read")


# --- cookie ----------------------------------------------------------------------------------

def test_the_token_cookie_is_ignored_by_default() -> None:
    headers = {"Cookie": f"token={sign(claims())}"}
    with pytest.raises(AuthorizationHeaderMissingError) as info:
        auth.authenticate(headers, hs_settings())
    assert info.value.description == "the request has no Authorization header"


@pytest.mark.parametrize("cookie", ["token={}", "a=1; token={}; b=2", 'token="{}"',
                                    "token=Bearer%20{}", "token=Bearer+{}"])
def test_the_token_cookie_is_read_when_configured(cookie: str) -> None:
    headers = {"cookie": cookie.format(sign(claims()))}
    assert auth.authenticate(headers, hs_settings(cookie=True)).user_id == "user-1"


def test_the_cookie_header_may_be_passed_apart() -> None:
    caller = auth.authenticate({}, hs_settings(cookie=True),
                               cookies_header=f"token={sign(claims())}")
    assert caller.user_id == "user-1"


def test_the_authorization_header_wins_over_the_cookie() -> None:
    headers = {**bearer(sign(claims(sub="from-header"))),
               "Cookie": f"token={sign(claims(sub='from-cookie'))}"}
    assert auth.authenticate(headers, hs_settings(cookie=True)).user_id == "from-header"


def test_no_header_and_no_cookie_names_both() -> None:
    with pytest.raises(AuthorizationHeaderMissingError) as info:
        auth.authenticate({"Cookie": "other=1"}, hs_settings(cookie=True))
    assert info.value.description == ("the request has no Authorization header "
                                      "and no token cookie")


# --- signing ---------------------------------------------------------------------------------

def test_generate_token_round_trip_with_installed_settings() -> None:
    settings = Settings(jwt=hs_settings(audience=("my-api",), issuer="auth.example.com",
                                        expires_in=120))
    auth.set_settings(settings)
    token = auth.generate_token("user-7", {"scope": "read", "email": "u@example.com"})
    caller = auth.authenticate(bearer(token), settings)
    assert caller.user_id == "user-7"
    assert caller.claims["aud"] == "my-api" and caller.claims["iss"] == "auth.example.com"
    assert caller.claims["exp"] - caller.claims["iat"] == 120
    assert caller.scopes == frozenset({"read"})
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_generate_token_with_explicit_settings_and_lifetime() -> None:
    settings = hs_settings(audience=("a", "b"))
    token = auth.generate_token("user-8", expires_in=60, settings=settings)
    caller = authenticate(token, settings)
    assert caller.claims["exp"] - caller.claims["iat"] == 60
    assert caller.claims["aud"] == ["a", "b"]


def test_generate_token_data_may_set_aud_and_iss_but_not_owned_claims() -> None:
    settings = hs_settings(audience=("my-api",))
    token = auth.generate_token("u", {"aud": "other-api", "iss": "me"}, settings=settings)
    assert jwt.decode(token, SECRET, algorithms=["HS256"], audience="other-api")["iss"] == "me"
    with pytest.raises(ValueError, match="exp, sub"):
        auth.generate_token("u", {"sub": "x", "exp": 1}, settings=settings)
    with pytest.raises(ValueError):
        auth.generate_token("", settings=settings)


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_generate_token_with_a_private_key(alg: str, rsa_key: Any, ec_key: Any,
                                           tmp_path: Path) -> None:
    key = rsa_key if alg == "RS256" else ec_key
    key_file = tmp_path / "private.pem"
    key_file.write_text(pem_private(key))
    settings = JwtSettings(algorithms=("HS256", alg), private_key_file=str(key_file),
                           public_key=pem_public(key), key_id="signing-1")
    token = auth.generate_token("user-9", settings=settings)
    header = jwt.get_unverified_header(token)
    assert (header["alg"], header["kid"]) == (alg, "signing-1")
    assert authenticate(token, settings).user_id == "user-9"


def test_generated_tokens_verify_through_a_jwks(tmp_path: Path, rsa_key: Any) -> None:
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(jwks_of(("signing-1", rsa_key, {"alg": "RS256"}))))
    signer = JwtSettings(algorithms=("RS256",), private_key=pem_private(rsa_key),
                         key_id="signing-1")
    verifier = JwtSettings(algorithms=("RS256",), jwks_file=str(jwks_file))
    assert authenticate(auth.generate_token("u", settings=signer), verifier).user_id == "u"


def test_generate_token_needs_settings_and_a_key() -> None:
    with pytest.raises(RuntimeError, match="set_settings"):
        auth.generate_token("u")
    with pytest.raises(ConfigError, match="no key to sign tokens with"):
        auth.generate_token("u", settings=JwtSettings(algorithms=("RS256",)))


# --- current caller --------------------------------------------------------------------------

def test_current_caller_outside_and_inside_a_call() -> None:
    assert auth.current_caller() is None
    caller = authenticate(sign(claims()), hs_settings())
    token = enter_context(CallContext(call_id="c1", caller=caller))
    try:
        assert auth.current_caller() is caller
    finally:
        exit_context(token)
    assert auth.current_caller() is None


def test_current_caller_is_none_on_an_open_operation() -> None:
    token = enter_context(CallContext(call_id="c2"))
    try:
        assert auth.current_caller() is None
    finally:
        exit_context(token)


# --- start-up checks -------------------------------------------------------------------------

@pytest.mark.parametrize("settings, expected", [
    (JwtSettings(), "jwt.secret is needed to verify HS256 tokens"),
    (JwtSettings(secret="short"), "jwt.secret is shorter than the 32 bytes HS256 needs"),
    (JwtSettings(secret=SECRET, algorithms=("HS256", "HS512")),
     "jwt.secret is shorter than the 64 bytes HS512 needs"),
    (JwtSettings(secret="-----BEGIN PUBLIC KEY-----" + "x" * 40),
     "jwt.secret looks like a PEM key"),
    (JwtSettings(algorithms=("RS256", "ES256")),
     "RS256, ES256 needs one of jwt.public_key, jwt.public_key_file, jwt.jwks_file, "
     "jwt.jwks_url"),
    (JwtSettings(algorithms=("RS256",), public_key="x", jwks_url="https://a/jwks"),
     "set only one of jwt.public_key, jwt.jwks_url"),
    (JwtSettings(algorithms=("RS256",), jwks_file="/nonexistent/jwks.json"),
     "jwt.jwks_file: no file at /nonexistent/jwks.json"),
    (JwtSettings(algorithms=("RS256",), jwks_url="ftp://a/jwks"),
     "jwt.jwks_url must be an http(s) URL"),
])
def test_check_settings_names_what_is_missing(settings: JwtSettings, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        auth.check_settings(settings)
    assert expected in str(info.value)


def test_check_settings_accepts_usable_settings(rsa_key: Any) -> None:
    auth.check_settings(hs_settings())
    auth.check_settings(hs_settings(algorithms=("HS256", "RS256"),
                                    public_key=pem_public(rsa_key)))


def test_error_classes_carry_status_and_code() -> None:
    expected: List[tuple] = [
        (AuthorizationHeaderMissingError, 401, "AUTHORIZATION_HEADER_MISSING"),
        (TokenInvalidError, 401, "TOKEN_INVALID"),
        (TokenExpiredError, 401, "TOKEN_EXPIRED"),
        (AccessDeniedError, 403, "FORBIDDEN"),
        (AuthKeysUnavailableError, 503, "AUTH_KEYS_UNAVAILABLE"),
    ]
    for error_class, status, code in expected:
        error: Callable[..., PymError] = error_class
        raised = error("why")
        body = error_body(raised.status, raised.code, raised.description, None,
                          raised.user_message)
        assert (body["status"], body["error"], body["error_description"]) == (status, code,
                                                                               "why")
