"""Sending one call: a pooled requests Session per client, timeouts, retries with backoff.

Retry rules (``retries`` extra attempts, sleeping ``backoff * 2**n`` seconds before each):

- a connection that could not be opened (refused, DNS, connect timeout) is retried for every
  method: the request never reached the server;
- a read timeout, a connection broken mid-call, or a 502/503/504 answer is retried only for
  idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS): a POST or PATCH may have been applied.

urllib3's ``Retry`` decides (retry_rules(), one per call): which failure is retried for which
method (connect errors always, read errors and RETRY_STATUSES for IDEMPOTENT_METHODS only) and
when the attempts are used up. The loop here classifies each failure (failure_kind) and hands
Retry the urllib3 error of that kind. tests/clients/test_transport.py checks Retry's
answers against the rules above, case by case.

The loop, not urllib3, performs the attempts (Retry is not mounted on the Session), because
urllib3 would retry with the same timeout each time and could not keep the total bound below,
nor retry a body that broke mid-download. It also keeps the backoff schedule above:
``Retry.get_backoff_time()`` sleeps 0 before the first retry.

Time bound: each attempt waits at most ``connect`` to connect and ``read`` for the response
(the read timeout also caps the whole body download, not only each socket read), so a call
takes at most ``(retries + 1) * (connect + read) + backoff * (2**retries - 1)`` seconds:
with the defaults (3.05, 10), 2 retries and 0.2 s backoff, about 40 s. API Gateway cuts a
request after 29 s and Lambda at its own timeout: pass ``total_timeout`` to cap the whole call
(no attempt starts, and no attempt waits, past it; each later attempt's timeouts shrink to
what remains).

requests and urllib3 are imported on the first call, never at import: the runtime stays cheap
to load. ``allowed_methods`` needs urllib3 >= 1.26 (2020; current requests requires it).
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Dict, Iterator, Mapping, NamedTuple, Optional, Tuple

from .errors import UpstreamBadResponse, UpstreamTimeout, UpstreamUnreachable
from .policy import CallPolicy

log = logging.getLogger("pym_lambda.clients")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRY_STATUSES = frozenset({502, 503, 504})
CHUNK_BYTES = 64 * 1024

# The function that performs one attempt, with requests.Session.request's signature; an
# x-decorate-request decorator wraps it.
SendFunction = Callable[..., Any]

# Why an attempt failed without an HTTP answer.
CONNECT, READ_TIMEOUT, BROKEN = "connect", "read_timeout", "broken"


class RawResponse(NamedTuple):
    status: int
    headers: Mapping[str, str]
    body: bytes


def default_session() -> Any:
    import requests
    from requests.adapters import HTTPAdapter

    session = requests.Session()
    # Retries are ours (they know which methods are idempotent): urllib3 must not add its own.
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def failure_kind(exc: BaseException) -> str:
    """Classify a requests exception: CONNECT (nothing sent), READ_TIMEOUT or BROKEN."""
    import requests
    from urllib3.exceptions import NewConnectionError, ReadTimeoutError

    if isinstance(exc, requests.ConnectTimeout):
        return CONNECT
    if isinstance(exc, requests.ReadTimeout):
        return READ_TIMEOUT
    reason: Any = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)  # MaxRetryError wraps the cause
    if isinstance(reason, ReadTimeoutError):  # iter_content reports it as a ConnectionError
        return READ_TIMEOUT
    if isinstance(reason, NewConnectionError) or "NameResolutionError" in type(reason).__name__:
        return CONNECT
    return BROKEN


def _body_chunks(response: Any) -> Iterator[bytes]:
    """The body as it arrives, so the deadline is checked between socket reads.

    iter_content waits for whole chunks, which a trickling server delivers slowly enough to
    outlive any deadline; urllib3 2's read1 returns what one read brings.
    """
    read1 = getattr(response.raw, "read1", None)
    if read1 is None:  # urllib3 1.x: the deadline is only checked between whole chunks
        yield from response.iter_content(CHUNK_BYTES)
        return
    import requests
    from urllib3.exceptions import HTTPError as Urllib3Error
    from urllib3.exceptions import ReadTimeoutError

    try:
        while True:
            data = read1(CHUNK_BYTES)
            if not data:
                return
            yield data
    except ReadTimeoutError as exc:  # as iter_content reports them
        raise requests.ConnectionError(exc) from None
    except Urllib3Error as exc:
        raise requests.exceptions.ChunkedEncodingError(exc) from None


def retry_rules(policy: CallPolicy) -> Any:
    """The urllib3 Retry that decides a call's retries (a fresh one per call: it counts)."""
    from urllib3.util.retry import Retry

    return Retry(total=policy.retries, connect=policy.retries, read=policy.retries,
                 status=policy.retries, other=0, redirect=0,
                 backoff_factor=policy.backoff, status_forcelist=RETRY_STATUSES,
                 allowed_methods=IDEMPOTENT_METHODS, raise_on_status=False,
                 respect_retry_after_header=False)


class _Answer:
    """The part of a urllib3 response that Retry.increment reads (our body is already read)."""

    def __init__(self, status: int) -> None:
        self.status = status

    def get_redirect_location(self) -> None:
        return None  # redirects are never followed (see Transport._attempt)


def failure_error(kind: str) -> Exception:
    """The urllib3 exception that Retry classifies as ``kind`` (connect or read error)."""
    from urllib3.exceptions import ConnectTimeoutError, ProtocolError, ReadTimeoutError

    if kind == CONNECT:
        return ConnectTimeoutError("could not connect")
    if kind == READ_TIMEOUT:
        return ReadTimeoutError(None, None, "read timed out")  # type: ignore[arg-type]
    return ProtocolError("connection broken")


def next_retry(retry: Any, method: str, url: str, kind: str,
               answer: Optional[RawResponse]) -> Any:
    """``retry`` counting one more failed attempt, or None when Retry says stop."""
    from urllib3.exceptions import HTTPError

    try:
        if answer is not None:
            return retry.increment(method, url, response=_Answer(answer.status))
        return retry.increment(method, url, error=failure_error(kind))
    except HTTPError:  # MaxRetryError (exhausted), or the error re-raised (not retryable)
        return None


class _Deadline(Exception):
    """The response did not arrive within the read timeout."""


class Transport:
    """The HTTP side of one client: its base URL, its Session (made on first use), its policy."""

    def __init__(self, name: str, base_url: str, policy: CallPolicy,
                 session_factory: Optional[Callable[[], Any]] = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.policy = policy
        self._session_factory = session_factory or default_session
        self._session: Any = None
        self._lock = threading.Lock()
        self._sleep = sleep

    def session(self) -> Any:
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self._session = self._session_factory()
        return self._session

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        """The undecorated send function: one attempt through the pooled session, the path
        sent as the encoder wrote it (encoded_path.py)."""
        session = self.session()
        if not callable(getattr(session, "prepare_request", None)):  # a stand-in (tests)
            return session.request(method, url, **kwargs)
        from .encoded_path import send_encoded

        return send_encoded(session, method, url, **kwargs)

    def close(self) -> None:
        with self._lock:
            session, self._session = self._session, None
        if session is not None:
            session.close()

    def perform(self, send: SendFunction, method: str, url: str, label: str,
                **kwargs: Any) -> RawResponse:
        """Send with retries; an HTTP answer (maybe an error status) or an UPSTREAM_* error."""
        import requests

        policy = self.policy
        retry = retry_rules(policy)
        started = time.monotonic()
        attempts = policy.retries + 1
        attempt = 0
        while True:
            attempt += 1
            connect, read = policy.connect_timeout, policy.read_timeout
            if policy.total_timeout is not None:
                left = max(0.001, policy.total_timeout - (time.monotonic() - started))
                connect, read = min(connect, left), min(read, left)
            kind = ""
            response: Optional[RawResponse] = None
            try:
                response = self._attempt(send, method, url, (connect, read), kwargs)
            except _Deadline:
                kind = READ_TIMEOUT
            except requests.RequestException as exc:
                kind = failure_kind(exc)
                log.info("%s: attempt %d/%d failed: %s", label, attempt, attempts,
                         type(exc).__name__)
            if response is not None and not retry.is_retry(method, response.status):
                return response
            retry = next_retry(retry, method, url, kind, response)
            # Our schedule, not retry.get_backoff_time(): urllib3 sleeps 0 before the first
            # retry, and a refused connection retried at once fails again at once.
            delay = policy.delay(attempt)
            elapsed = time.monotonic() - started
            out_of_time = policy.total_timeout is not None and \
                elapsed + delay >= policy.total_timeout
            if retry is None or out_of_time:
                if response is not None:
                    return response  # the last 5xx answer: the decoder reports it
                raise self._failure(kind, label, attempt, read)
            log.info("%s: retrying in %.2fs (%s)", label, delay,
                     f"status {response.status}" if response is not None else kind)
            self._sleep(delay)

    def _attempt(self, send: SendFunction, method: str, url: str,
                 timeout: Tuple[float, float], kwargs: Dict[str, Any]) -> RawResponse:
        # Streaming lets the read timeout bound the whole download: requests' own read
        # timeout only bounds each socket read, which a trickling server can keep alive.
        deadline = time.monotonic() + timeout[0] + timeout[1]
        # A redirect is not followed: it is an undeclared status (e.g. http -> https), which
        # says the base URL is wrong, and following it would turn a POST into a GET.
        kwargs = {"allow_redirects": False, **kwargs}
        response = send(method, url, timeout=timeout, stream=True, **kwargs)
        try:
            chunks = []
            for chunk in _body_chunks(response):
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise _Deadline()
            return RawResponse(response.status_code, response.headers, b"".join(chunks))
        finally:
            response.close()

    def _failure(self, kind: str, label: str, attempts: int, read: float) -> Exception:
        tries = f"{attempts} attempt{'s' if attempts > 1 else ''}"
        if kind == READ_TIMEOUT:
            return UpstreamTimeout(f"{label}: no response within {read:g}s ({tries})",
                                   operation=label)
        if kind == CONNECT:
            return UpstreamUnreachable(f"{label}: could not connect ({tries})", operation=label)
        return UpstreamBadResponse(f"{label}: the connection broke before a full response "
                                   f"({tries})", operation=label)
