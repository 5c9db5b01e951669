"""What the worker says about a failed record: text and log lines that cannot themselves fail.

A task (or a hostile message) may raise an exception whose ``__str__`` raises, even a
BaseException, or whose message is megabytes long. Everything here is bounded and never raises,
so that the failure path of one record cannot fail its batch.
"""
from __future__ import annotations

import logging
from types import TracebackType
from typing import Any, Optional, Tuple, Type

from .errors import WorkerStop

MAX_ERROR_CHARS = 1000  # of an error's text in a log line, a result and a dead letter's pym_error

ExcInfo = Tuple[Type[BaseException], BaseException, Optional[TracebackType]]


class UnprintableError(Exception):
    """Logged in place of an exception whose text could not be made or was too long."""


def _type_name(error: BaseException) -> str:
    try:
        return str(type(error).__name__)[:100]
    except BaseException:  # noqa: BLE001 - a hostile metaclass
        return "exception"


def _message(error: BaseException) -> Optional[str]:
    """str(error), or None if that raises or gives something other than a str."""
    try:
        text = str(error)
    except WorkerStop:
        raise
    except BaseException:  # noqa: BLE001 - __str__ may raise anything, SystemExit included
        return None
    return text if isinstance(text, str) else None


def bounded(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


def describe_error(error: BaseException, limit: int = MAX_ERROR_CHARS) -> str:
    """``"TypeName: message"``, at most about `limit` characters; never raises."""
    name = _type_name(error)
    message = _message(error)
    if message is None:
        return f"{name}: <the exception's text could not be made>"
    return bounded(f"{name}: {message}", limit)


def loggable(error: BaseException) -> ExcInfo:
    """The exc_info to log for `error`: itself when its text is printable and short, else a
    stand-in with a bounded description and the same traceback."""
    message = _message(error)
    if message is not None and len(message) <= MAX_ERROR_CHARS:
        return type(error), error, error.__traceback__
    stand_in = UnprintableError(describe_error(error))
    return UnprintableError, stand_in, error.__traceback__


def log_safely(log: logging.Logger, level: int, message: str, *args: Any,
               error: Optional[BaseException] = None) -> None:
    """log.log(level, message, *args, exc_info=...), and if that raises (a chained exception
    that cannot be printed, a broken handler), the line again without the traceback; if even
    that fails, nothing: the record's outcome matters more than its log line."""
    try:
        log.log(level, message, *args, exc_info=loggable(error) if error is not None else None)
        return
    except WorkerStop:
        raise
    except BaseException:  # noqa: BLE001,S110 - see the docstring
        pass
    try:
        safe_args = tuple(a if type(a) in (int, float) else bounded(_plain(a)) for a in args)
        log.log(level, message + " (traceback not loggable)", *safe_args)
    except WorkerStop:
        raise
    except BaseException:  # noqa: BLE001,S110
        pass


def _plain(value: Any) -> str:
    return value if type(value) is str else f"<{_type_name_of(value)}>"


def _type_name_of(value: Any) -> str:
    try:
        return str(type(value).__name__)[:100]
    except BaseException:  # noqa: BLE001
        return "value"
