"""SimpleCookie unquoting values in linear time, whatever the Python.

Python before 3.11.10 / 3.12.6 unquotes a quoted cookie value in quadratic time
(CVE-2024-7592: 16 KB of backslashes took 5 s). This is CPython's fix, through value_decode,
the documented place to change how values decode. Imported by context.cookies() at the first
cookie, so a service without cookies never loads http.cookies.
"""
from __future__ import annotations

import re
from http.cookies import SimpleCookie
from typing import Any, Tuple

_ESCAPE = re.compile(r"\\(?:([0-3][0-7][0-7])|(.))")  # fixed-length branches: one pass


def _unescape(match: Any) -> str:
    return chr(int(match[1], 8)) if match[1] else str(match[2])


class LinearCookie(SimpleCookie):
    def value_decode(self, val: str) -> Tuple[Any, str]:
        if len(val) < 2 or val[0] != '"' or val[-1] != '"':
            return val, val
        return _ESCAPE.sub(_unescape, val[1:-1]), val
