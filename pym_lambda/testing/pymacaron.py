"""PyMacaron's acceptance test case, so that a service's `testaccept/` runs after one import:

    from pymacaron.test import PyMacaronTestCase            # before
    from pym_lambda.testing.pymacaron import PyMacaronTestCase  # after

The assertion API of pymacaron-unit's `PyMacaronTestCase` (assertGetReturnOk,
assertCallReturnJson, assertGetReturnError, assertPostReturnJson, ...) and of pymacaron's own
subclass (assertHasPing, assertHasVersion, assertHasAuthVersion), with the same arguments and
checks. `setUp()` reads the server from `PYM_SERVER_HOST` and `PYM_SERVER_PORT` (port 443:
https) and `self.token` from `PYM_JWT_TOKEN`, as PyMacaron did; `pym-lambda local` or
`chalice local` serves the service on 127.0.0.1.

Each call is a new connection (plain `requests` calls, no session), as pymacaron-unit made
them. `NO_SSL_CHECK` set and non-empty turns TLS verification off.
"""
from __future__ import annotations

import json
import os
import unittest
from typing import Any, Dict, Optional, Tuple


def load_port_host_token() -> Tuple[str, str, Optional[str]]:
    """(host, port, token) from PYM_SERVER_HOST, PYM_SERVER_PORT and PYM_JWT_TOKEN."""
    from ..config.environment import runtime_environment

    env = runtime_environment()
    host, port = env.server_host or "", env.server_port or ""
    for prefix in ("http://", "https://"):
        host = host.removeprefix(prefix)
    host = host.rstrip("/")
    if not host or not port:
        raise RuntimeError("Please set both of PYM_SERVER_HOST and PYM_SERVER_PORT environment "
                           "variables (the server the acceptance tests call)")
    return host, port, env.jwt_token


class PyMacaronTestCase(unittest.TestCase):
    """pymacaron-unit's test case (module doc)."""

    host = "127.0.0.1"
    port: Any = 8080
    token: Optional[str] = None
    timeout_connect = 10
    timeout_read = 10

    def setUp(self) -> None:
        super().setUp()
        self.maxDiff = None
        self.host, self.port, self.token = load_port_host_token()
        proto = "https" if str(self.port) == "443" else "http"
        self.base_url = f"{proto}://{self.host}:{self.port}"

    # --- the calls ---------------------------------------------------------------------------

    def _try(self, method: str, url: str, headers: Dict[str, str], data: Any,
             allow_redirects: bool = True, verify_ssl: bool = True) -> Any:
        import requests  # the tests' dependency, not the service's

        if os.environ.get("NO_SSL_CHECK"):
            verify_ssl = False
        if verify_ssl is False:
            import urllib3

            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        if data is None:
            body = None
        elif isinstance(data, dict):
            body = json.dumps(data)
            headers["Content-Type"] = "application/json"
        elif isinstance(data, str):
            body = data
        else:
            raise TypeError(f"Unsupported data type {type(data).__name__}")
        timeout = (5 * self.timeout_connect, 5 * self.timeout_read)
        for attempt in range(3):  # a GET that timed out reading is tried again, as before
            try:
                return requests.request(method, url, headers=headers, data=body,
                                        timeout=timeout, verify=verify_ssl,
                                        allow_redirects=allow_redirects)
            except requests.exceptions.ReadTimeout:
                if method != "get" or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _assertMethodReturnContent(self, path: str, method: str, data: Any, status: int,
                                   auth: Optional[str], contenttype: Optional[str],
                                   allow_redirects: bool = True, verify_ssl: bool = True,
                                   port: Any = None, quiet: bool = False,
                                   allow_error: bool = False) -> Any:
        method = method.lower()
        assert method in ("post", "get", "delete", "patch", "put"), method
        assert self.host and self.port, "self.host|port undefined. Did you call setUp()?"
        self.assertTrue(isinstance(path, str), f"[{path}] is str (type: {type(path)})")
        self.assertTrue(isinstance(status, int), f"[{status}] is int")
        target_port = port or self.port
        protocol = "https" if str(target_port) == "443" else "http"
        url = f"{protocol}://{self.host}:{target_port}/{path.lstrip('/')}"
        headers: Dict[str, str] = {}
        if contenttype:
            headers["Content-Type"] = contenttype
        if auth:
            headers["Authorization"] = auth
        print(f"calling {method.upper()} {url}")
        r = self._try(method, url, headers, data, allow_redirects=allow_redirects,
                      verify_ssl=verify_ssl)
        if not quiet:
            print(f"r: {r.text}")
        if not (allow_error and r.status_code != 200):
            self.assertEqual(r.status_code, status, f"{method.upper()} {url}: {r.text[:500]}")
        return r

    def _assertMethodReturnJson(self, path: str, method: str, data: Any, status: int,
                                auth: Optional[str], verify_ssl: bool = True,
                                allow_error: bool = False) -> Any:
        r = self._assertMethodReturnContent(path, method, data, status, auth,
                                            "application/json", verify_ssl=verify_ssl,
                                            allow_error=allow_error)
        return r.json()

    def _assertMethodReturnDict(self, path: str, method: str, data: Any, kv: Dict[str, Any],
                                status: int, auth: Optional[str],
                                verify_ssl: bool = True) -> Any:
        self.assertTrue(isinstance(kv, dict), f"[{kv}] is dict")
        j = self._assertMethodReturnJson(path, method, data, status, auth, verify_ssl=verify_ssl)
        for k, v in kv.items():
            self.assertTrue(k in j, f"{k} in json {json.dumps(j)}")
            self.assertEqual(j[k], v)
        return j

    # --- pymacaron-unit's assertions -------------------------------------------------------

    def assertGetReturnJson(self, path: str, status: int = 200, auth: Optional[str] = None,
                            verify_ssl: bool = True) -> Any:
        return self._assertMethodReturnJson(path, "get", None, status, auth,
                                            verify_ssl=verify_ssl)

    def assertDeleteReturnJson(self, path: str, status: int = 200,
                               auth: Optional[str] = None) -> Any:
        return self._assertMethodReturnJson(path, "delete", None, status, auth)

    def assertPostReturnJson(self, path: str, data: Any, status: int = 200,
                             auth: Optional[str] = None, verify_ssl: bool = True) -> Any:
        return self._assertMethodReturnJson(path, "post", data, status, auth,
                                            verify_ssl=verify_ssl)

    def assertGetReturnDict(self, path: str, kv: Dict[str, Any], status: int = 200,
                            auth: Optional[str] = None, verify_ssl: bool = True) -> Any:
        return self._assertMethodReturnDict(path, "get", None, kv, status, auth,
                                            verify_ssl=verify_ssl)

    def assertPostReturnDict(self, path: str, data: Any, kv: Dict[str, Any], status: int = 200,
                             auth: Optional[str] = None, verify_ssl: bool = True) -> Any:
        return self._assertMethodReturnDict(path, "post", data, kv, status, auth,
                                            verify_ssl=verify_ssl)

    def assertGetReturnOk(self, path: str, auth: Optional[str] = None) -> None:
        self.assertDictEqual(self.assertGetReturnJson(path, 200, auth), {})

    def assertPostReturnOk(self, path: str, data: Any, auth: Optional[str] = None) -> None:
        self.assertDictEqual(self.assertPostReturnJson(path, data, 200, auth), {})

    def assertGetReturnError(self, path: str, status: int, error: str,
                             auth: Optional[str] = None, verify_ssl: bool = True) -> Any:
        self.assertTrue(isinstance(error, str), f"[{error}] is str")
        return self.assertGetReturnDict(path, {"status": status, "error": error}, status, auth,
                                        verify_ssl=verify_ssl)

    def assertPostReturnError(self, path: str, data: Any, status: int, error: str,
                              auth: Optional[str] = None, verify_ssl: bool = True) -> Any:
        self.assertTrue(isinstance(error, str), f"[{error}] is str")
        return self.assertPostReturnDict(path, data, {"status": status, "error": error},
                                         status, auth, verify_ssl=verify_ssl)

    def assertCallReturnJson(self, method: str, path: str, data: Any = None,
                             auth: Optional[str] = None, status: int = 200,
                             allow_error: bool = False, verify_ssl: bool = True) -> Any:
        return self._assertMethodReturnJson(path, method, data, status, auth,
                                            allow_error=allow_error, verify_ssl=verify_ssl)

    def assertCallReturnDict(self, method: str, path: str, kv: Dict[str, Any], data: Any = None,
                             auth: Optional[str] = None, status: int = 200,
                             verify_ssl: bool = True) -> Any:
        return self._assertMethodReturnDict(path, method, data, kv, status, auth,
                                            verify_ssl=verify_ssl)

    def assertCallReturnOk(self, method: str, path: str, data: Any = None,
                           auth: Optional[str] = None) -> None:
        self.assertDictEqual(self.assertCallReturnJson(method, path, data, auth, 200), {})

    def assertCallReturnError(self, method: str, path: str, status: int, error: str,
                              data: Any = None, auth: Optional[str] = None) -> Any:
        self.assertTrue(isinstance(error, str), f"[{error}] is str")
        return self.assertCallReturnDict(method, path, {"status": status, "error": error},
                                         data, auth, status)

    def assertCallReturnHtml(self, method: str, path: str, data: Any = None,
                             auth: Optional[str] = None, status: int = 200,
                             allow_redirects: bool = True, verify_ssl: bool = True,
                             quiet: bool = False) -> str:
        return self._assertCallReturnTyped(method, path, data, auth, status, allow_redirects,
                                           verify_ssl, quiet, "text/html; charset=utf-8")

    def assertCallReturnText(self, method: str, path: str, data: Any = None,
                             auth: Optional[str] = None, status: int = 200,
                             allow_redirects: bool = True, verify_ssl: bool = True,
                             quiet: bool = False) -> str:
        return self._assertCallReturnTyped(method, path, data, auth, status, allow_redirects,
                                           verify_ssl, quiet, "text/plain; charset=utf-8")

    def _assertCallReturnTyped(self, method: str, path: str, data: Any, auth: Optional[str],
                               status: int, allow_redirects: bool, verify_ssl: bool,
                               quiet: bool, content_type: str) -> str:
        r = self._assertMethodReturnContent(path, method, data, status, auth, None,
                                            allow_redirects=allow_redirects,
                                            verify_ssl=verify_ssl, quiet=quiet)
        self.assertEqual(r.headers["Content-Type"].lower(), content_type)
        return str(r.text)

    def assertCallReturnRedirect(self, method: str, path: str, data: Any = None,
                                 auth: Optional[str] = None, status: int = 302,
                                 allow_redirects: bool = False, verify_ssl: bool = True,
                                 quiet: bool = False) -> str:
        r = self._assertMethodReturnContent(path, method, data, status, auth, None,
                                            allow_redirects=allow_redirects,
                                            verify_ssl=verify_ssl, quiet=quiet)
        self.assertTrue(r.is_redirect)
        return str(r.next.url)

    # --- pymacaron's own: the built-in endpoints --------------------------------------------

    def assertIsVersion(self, j: Dict[str, Any]) -> None:
        self.assertTrue(type(j["apis"]) is list)
        self.assertTrue(type(j["name"]) is str)
        self.assertTrue(type(j["version"]) is str)
        self.assertTrue(type(j["pym_env"]) is str)
        # PyMacaron before 2022 named the deployed version `container`: still there.
        self.assertTrue(type(j["container"]) is str)

    def assertHasPing(self) -> None:
        self.assertGetReturnOk("ping")

    def assertHasVersion(self, verify_ssl: bool = True) -> Any:
        j = self.assertGetReturnJson("version", 200, verify_ssl=verify_ssl)
        self.assertIsVersion(j)
        return j

    def assertHasAuthVersion(self, verify_ssl: bool = True) -> Any:
        self.assertGetReturnError("auth/version", 401, "AUTHORIZATION_HEADER_MISSING",
                                  verify_ssl=verify_ssl)
        for header, status, error in [
                ("", 401, "AUTHORIZATION_HEADER_MISSING"),
                ("Bearer1234567890", 401, "TOKEN_INVALID"),
                ("bearer foo bar", 401, "TOKEN_INVALID"),
                ("Bearer 1234567890", 401, "TOKEN_INVALID")]:
            self.assertGetReturnError("auth/version", status, error, header,
                                      verify_ssl=verify_ssl)
        j = self.assertGetReturnJson("auth/version", 200, f"Bearer {self.token}",
                                     verify_ssl=verify_ssl)
        self.assertIsVersion(j)
        return j


__all__ = ["PyMacaronTestCase", "load_port_host_token"]
