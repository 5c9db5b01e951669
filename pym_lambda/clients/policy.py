"""CallPolicy: the timeouts, retries and backoff of a client's calls, checked when the clients
are loaded (registry.py) and applied to each call (transport.py)."""
from __future__ import annotations

from typing import Optional, Tuple, Union

from ..records import Record

TimeoutArg = Union[float, Tuple[float, float]]  # (connect, read) seconds, or one for both


class CallPolicy(Record):
    """The timeouts, retries and backoff of a client's calls (transport.py applies them)."""

    connect_timeout: float = 3.05
    read_timeout: float = 10.0
    retries: int = 2
    backoff: float = 0.2
    total_timeout: Optional[float] = None

    @classmethod
    def make(cls, timeout: TimeoutArg, retries: int, backoff: float,
             total_timeout: Optional[float]) -> CallPolicy:
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        if min(connect, read) <= 0 or retries < 0 or backoff < 0 or \
                (total_timeout is not None and total_timeout <= 0):
            raise ValueError("client timeouts must be > 0, retries and backoff >= 0")
        return cls(float(connect), float(read), int(retries), float(backoff), total_timeout)

    def delay(self, attempt: int) -> float:
        """Seconds to sleep after failed attempt number ``attempt`` (1-based)."""
        return self.backoff * (2.0 ** (attempt - 1))

    def worst_case(self) -> float:
        attempts = self.retries + 1
        bound = attempts * (self.connect_timeout + self.read_timeout) + \
            sum(self.delay(n) for n in range(1, attempts))
        return min(bound, self.total_timeout) if self.total_timeout else bound
