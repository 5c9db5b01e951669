"""What the worker says about a failure: bounded, and never raising itself."""
from __future__ import annotations

import logging

import pytest

from pym_lambda.tasks.errors import WorkerStop
from pym_lambda.tasks.failure_text import (
    MAX_ERROR_CHARS,
    UnprintableError,
    describe_error,
    log_safely,
    loggable,
)


class Unprintable(Exception):
    def __str__(self) -> str:
        raise SystemExit("from __str__")


class StopsTheWorker(Exception):
    def __str__(self) -> str:
        raise WorkerStop


def test_an_exception_whose_str_raises_is_described() -> None:
    assert describe_error(Unprintable()) == (
        "Unprintable: <the exception's text could not be made>")
    exc_type, value, _ = loggable(Unprintable())
    assert exc_type is UnprintableError and "could not be made" in str(value)


def test_a_huge_message_is_cut() -> None:
    text = describe_error(ValueError("x" * 1_000_000))
    assert len(text) < MAX_ERROR_CHARS + 50 and text.endswith("more characters)")
    assert loggable(ValueError("x" * 1_000_000))[0] is UnprintableError


def test_worker_stop_is_not_swallowed() -> None:
    with pytest.raises(WorkerStop):
        describe_error(StopsTheWorker())


class Broken(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            raise KeyboardInterrupt("a handler that fails on tracebacks")
        self.lines.append(record.getMessage())

    lines: list = []


def test_a_log_line_that_cannot_be_written_does_not_raise() -> None:
    log = logging.getLogger("tests.failure_text")
    handler = Broken()
    Broken.lines = []
    log.addHandler(handler)
    try:
        log_safely(log, logging.ERROR, "task %s failed (attempt %d)", "t-1", 2,
                   error=RuntimeError("boom"))
    finally:
        log.removeHandler(handler)
    assert Broken.lines == ["task t-1 failed (attempt 2) (traceback not loggable)"]
