"""The request line written straight to pym-lambda's JSON handler (the Lambda case) is the line
the logging machinery would write, key for key; anything else in the way takes the slow path."""
from __future__ import annotations

import contextlib
import io
import json
import logging
from typing import Any, Iterator, List

import pytest

from pym_lambda import logs
from pym_lambda.context import CallContext, enter_context, exit_context
from pym_lambda.logs import CHATTY_LIBRARIES, configure_logging


class Caller:
    def __init__(self, user_id: Any) -> None:
        self.user_id = user_id


@contextlib.contextmanager
def json_root() -> Iterator[io.StringIO]:
    """The root logger as configure_logging() leaves it on Lambda: our JSON handler alone
    (pytest adds its capture handlers around the test call, so this is entered inside it)."""
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler._pym = True  # type: ignore[attr-defined]
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.ContextFilter())
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.handlers[:] = saved
        root.setLevel(level)


def reference_line(ctx: CallContext, status: int, duration: float) -> dict:
    record = logs.access_log.makeRecord(
        "pym_lambda", logging.INFO, __file__, 0, "%s %s %s %.1fms",
        (ctx.method, ctx.path, status, duration), None, "dispatch",
        {"http_method": ctx.method, "path": ctx.path, "status": status,
         "duration_ms": round(duration, 2)})
    logs.ContextFilter().filter(record)
    return json.loads(logs.JsonFormatter().format(record))


CONTEXTS: List[CallContext] = [
    CallContext("c-1", operation="getBook", method="GET", path="/v1/books/1"),
    CallContext("c-2", method="POST", path='/v1/"quoted"\\back\nslash/é/\u2028'),
    CallContext("c-3", operation="addBook", method="POST", path="/v1/books",
                caller=Caller("alice")),
    CallContext("c-4", operation="x", method="GET", path="/", caller=Caller(42)),
    CallContext("c-5", method="G\"T", path="/lone/\ud800/pair/\U0001f600/\x7f"),
]


@pytest.mark.parametrize("ctx", CONTEXTS, ids=lambda c: c.call_id)
def test_the_direct_line_is_the_formatter_line(ctx: CallContext) -> None:
    with json_root() as stream:
        assert logs._direct_handler() is not None
        token = enter_context(ctx)
        try:
            logs.log_request(ctx, 201)
            text = stream.getvalue()
            assert text.endswith("\n") and text.count("\n") == 1
            line = json.loads(text)
            expected = reference_line(ctx, 201, line["duration_ms"])
        finally:
            exit_context(token)
    # The message shows the duration to 0.1 ms; the reference is rebuilt from the rounded value.
    assert line.pop("message").rsplit(" ", 1)[0] == expected.pop("message").rsplit(" ", 1)[0]
    assert line.pop("time")[:10] == expected.pop("time")[:10]
    assert list(line.items()) == list(expected.items())  # same keys, same order, same values


def test_another_handler_or_a_formatter_takes_the_logging_path() -> None:
    seen: List[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    extra = Keep()
    with json_root() as stream:
        logs.access_log.addHandler(extra)
        try:
            assert logs._direct_handler() is None
            logs.log_request(CONTEXTS[0], 200)
        finally:
            logs.access_log.removeHandler(extra)
        assert logs._direct_handler() is not None
        logging.getLogger().handlers[0].setFormatter(logs.TextFormatter())
        assert logs._direct_handler() is None
    assert len(seen) == 1 and seen[0].status == 200  # type: ignore[attr-defined]
    assert json.loads(stream.getvalue())["status"] == 200  # and still written once


# ---------------------------------------------------------------- one line per record (#16)
HOSTILE = ["a\r\nFORGED 2026-01-01 INFO pym_lambda: admin logged in", "nel\x85ls\u2028ps\u2029",
           "nul\x00esc\x1b[31m", "lone \udcff surrogate", "\ud800", "é \t ok"]


def _utf8_stream() -> io.TextIOWrapper:
    # What Lambda's stdout is: UTF-8, errors="strict" (a StringIO takes a lone surrogate).
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", newline="\n")


def _written(stream: io.TextIOWrapper) -> str:
    stream.flush()
    return stream.buffer.getvalue().decode("utf-8")  # type: ignore[attr-defined]


@pytest.mark.parametrize("value", HOSTILE)
def test_text_lines_escape_control_characters_and_surrogates(value: str) -> None:
    record = logging.makeLogRecord({"msg": "path %s", "args": (value,), "levelname": "INFO",
                                    "name": "pym_lambda", "call_id": value})
    line = logs.TextFormatter().format(record)
    assert len(line.splitlines()) == 1 and line.replace("\t", " ").isprintable()
    assert line.encode("utf-8")  # no lone surrogate left
    assert "FORGED" not in line or "\\r\\nFORGED" in line


@pytest.mark.parametrize("value", HOSTILE)
def test_json_lines_are_ascii_and_parse_back(value: str) -> None:
    record = logging.makeLogRecord({"msg": "path %s", "args": (value,), "levelname": "INFO",
                                    "name": "pym_lambda", "user_id": value, "path": value})
    line = logs.JsonFormatter().format(record)
    assert line.isascii() and "\n" not in line
    parsed = json.loads(line)
    assert parsed["message"] == f"path {value}" and parsed["user_id"] == value


@pytest.mark.parametrize("value", HOSTILE)
def test_the_direct_request_line_survives_surrogates(value: str) -> None:
    ctx = CallContext("c-9", operation="op", method="GET", path=f"/v1/{value}",
                      caller=Caller(value))
    with json_root():
        handler = logging.getLogger().handlers[0]
        stream = handler.stream = _utf8_stream()  # type: ignore[attr-defined]
        token = enter_context(ctx)
        try:
            logs.log_request(ctx, 200)
        finally:
            exit_context(token)
    text = _written(stream)
    assert text.count("\n") == 1 and text.endswith("\n")
    line = json.loads(text)
    assert line["path"] == f"/v1/{value}" and line["user_id"] == value


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no str for you")


@pytest.mark.parametrize("formatter", [logs.TextFormatter, logs.JsonFormatter])
def test_unformattable_arguments_and_exceptions_still_give_one_record(formatter: Any) -> None:
    bad = logging.makeLogRecord({"msg": "value %s and %s", "args": (Unprintable(),),
                                 "levelname": "ERROR", "name": "x"})
    line = formatter().format(bad)
    assert "value %s and %s" in line and "could not be formatted" in line
    try:
        raise Unprintable()
    except Unprintable:
        import sys
        record = logging.makeLogRecord({"msg": "boom\nFORGED", "levelname": "ERROR", "name": "x",
                                        "exc_info": sys.exc_info()})
    line = formatter().format(record)
    assert "Unprintable" in line and "\nFORGED" not in line
    if formatter is logs.TextFormatter:
        assert len(line.splitlines()) == 1  # the traceback too: one line per record


@pytest.fixture
def library_loggers() -> Iterator[None]:
    """boto3, botocore and urllib3's loggers put back as they were."""
    saved = {name: (logging.getLogger(name).level, logging.getLogger(name).__dict__.pop(
        "_pym_quiet", None)) for name in CHATTY_LIBRARIES}
    pym_level = logging.getLogger("pym_lambda").level
    yield
    logging.getLogger("pym_lambda").setLevel(pym_level)
    for name, (level, mark) in saved.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.__dict__.pop("_pym_quiet", None)
        if mark is not None:
            logger._pym_quiet = mark  # type: ignore[attr-defined]


def test_boto3s_info_lines_show_only_at_debug(library_loggers: None) -> None:
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.NOTSET)
        logging.getLogger(name).__dict__.pop("_pym_quiet", None)
    logging.getLogger("urllib3").setLevel(logging.INFO)  # the service's own choice: kept
    configure_logging("INFO")
    assert not logging.getLogger("botocore.credentials").isEnabledFor(logging.INFO)
    assert not logging.getLogger("boto3.resources").isEnabledFor(logging.INFO)
    assert logging.getLogger("botocore").isEnabledFor(logging.WARNING)
    assert logging.getLogger("urllib3").level == logging.INFO
    configure_logging("DEBUG")  # debugging: everything, as the root's level says
    assert logging.getLogger("botocore").level == logging.NOTSET
    assert logging.getLogger("urllib3").level == logging.INFO
