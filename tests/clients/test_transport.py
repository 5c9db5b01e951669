"""The retry rules of typed clients, as urllib3's Retry decides them (clients/transport.py),
checked case by case against the rules the module documents."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Optional, Union

import pytest

from pym_lambda.clients.policy import CallPolicy
from pym_lambda.clients.transport import (
    BROKEN,
    CONNECT,
    READ_TIMEOUT,
    RawResponse,
    next_retry,
    retry_rules,
)

ROOT = Path(__file__).resolve().parents[2]
IDEMPOTENT = ("GET", "HEAD", "PUT", "DELETE", "OPTIONS")
UNSAFE = ("POST", "PATCH")
Failure = Union[str, int]  # a failure kind, or the status of an HTTP answer


def documented(method: str, failure: Failure) -> bool:
    """The module docstring's rules, written out independently of urllib3."""
    if failure == CONNECT:
        return True  # nothing reached the server
    if failure in (READ_TIMEOUT, BROKEN, 502, 503, 504):
        return method in IDEMPOTENT
    return False  # any other status is the answer


def granted(retry: object, method: str, failure: Failure) -> Optional[object]:
    """The next Retry when one more attempt is allowed after ``failure``, else None."""
    if isinstance(failure, int):
        if not retry.is_retry(method, failure):  # type: ignore[attr-defined]
            return None
        return next_retry(retry, method, "http://upstream/x", "", RawResponse(failure, {}, b""))
    return next_retry(retry, method, "http://upstream/x", failure, None)


FAILURES = (CONNECT, READ_TIMEOUT, BROKEN, 500, 501, 502, 503, 504, 429, 404)


@pytest.mark.parametrize("method", IDEMPOTENT + UNSAFE)
@pytest.mark.parametrize("failure", FAILURES)
def test_retry_decides_exactly_the_documented_rules(method: str, failure: Failure) -> None:
    retry = retry_rules(CallPolicy(retries=2))
    for _ in range(2):  # `retries` extra attempts when retryable, none otherwise
        retry = granted(retry, method, failure)
        assert (retry is not None) == documented(method, failure), (method, failure)
        if retry is None:
            return
    assert granted(retry, method, failure) is None  # the third failure is the last


@pytest.mark.parametrize("failure", (CONNECT, READ_TIMEOUT, 503))
def test_no_retries_means_one_attempt(failure: Failure) -> None:
    assert granted(retry_rules(CallPolicy(retries=0)), "GET", failure) is None


def test_mixed_failures_share_the_total() -> None:
    retry = granted(retry_rules(CallPolicy(retries=2)), "GET", CONNECT)
    retry = granted(retry, "GET", 503)
    assert retry is not None and granted(retry, "GET", READ_TIMEOUT) is None


def test_urllib3_is_not_imported_with_the_transport() -> None:
    code = "import sys, pym_lambda.clients.transport; print('urllib3' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.split() == ["False"]
