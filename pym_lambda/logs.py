"""Logs that carry the call: JSON lines on Lambda, readable text elsewhere.

Every record logged while a request or task is handled (by the framework or by the service's
own loggers) gets the call id, the user id and the operation from the call context. On Lambda
one JSON object is written per line (level, message, logger, call_id, user_id, operation and
any `extra` fields such as status and duration_ms), which CloudWatch Logs Insights can query.
"""
from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from typing import Any, List, Optional

from .context import CallContext, current_context
from .errors import describe

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "call_id",
                                                     "user_id", "operation"}


class ContextFilter(logging.Filter):
    """Adds call_id, user_id and operation to every record (None outside a call)."""

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = current_context()
        record.call_id = ctx.call_id if ctx else None
        caller = ctx.caller if ctx else None
        record.user_id = getattr(caller, "user_id", None)
        record.operation = (ctx.operation or None) if ctx else None
        return True


# One record, one line, whatever a client put in a logged value (a path, a header, a JWT `sub`):
# in text, every control character (CR, LF, NEL, the Unicode line separators...) and every lone
# surrogate (which a UTF-8 stream refuses: the record would be lost) is written escaped.
# A pattern, not compiled here: compiling it costs ~0.7 ms at every cold start, and only a text
# that is not printable (rare) needs it; re's own cache keeps it compiled after that first use.
_UNSAFE_TEXT = "[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]"


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    return {"\n": "\\n", "\r": "\\r"}.get(char) or (
        f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def escape_text(text: str) -> str:
    """text on one line: control characters and lone surrogates as backslash escapes."""
    if text.isprintable():  # the common case, in C: no control character, no surrogate
        return text
    return re.sub(_UNSAFE_TEXT, _escape_char, text)


def record_message(record: logging.LogRecord) -> str:
    """record.getMessage(), or what can be said when its arguments cannot be formatted (an
    exception whose __str__ raises, a wrong number of arguments): logging never drops it."""
    try:
        return record.getMessage()
    except Exception:
        return f"{describe(record.msg)} (log arguments could not be formatted)"


def _json_value(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)):
        return value
    try:
        return repr(value)
    except Exception:
        return describe(value)


class JsonFormatter(logging.Formatter):
    """One JSON object per line. ensure_ascii: lone surrogates and control characters are
    \\u escapes, so the line is ASCII, one line, and json.loads reads it back."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) +
            f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record_message(record),
        }
        for key in ("call_id", "user_id", "operation"):
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = _json_value(value)
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = _json_value(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        try:
            return json.dumps(entry, ensure_ascii=True)
        except ValueError:  # a circular value... : the fields as text
            return json.dumps({k: describe(v) for k, v in entry.items()}, ensure_ascii=True)


class TextFormatter(logging.Formatter):
    """`time LEVEL logger [call]: message`, one line per record (escape_text)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(call)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        call_id = getattr(record, "call_id", None)
        record.call = f" [{describe(call_id)[:8]}]" if call_id else ""
        try:
            text = super().format(record)
        except Exception:  # arguments that cannot be formatted: the record still gets its line
            record.msg, record.args = record_message(record), None
            text = super().format(record)
        return escape_text(text)


def on_lambda() -> bool:
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


def configure_logging(level: str = "INFO", fmt: Optional[str] = None) -> None:
    """Install the context filter, and our handler where nobody configured logging.

    On Lambda the runtime's own root handler is replaced (it would print every line twice or
    in its plain format); elsewhere existing handlers (chalice local's, pytest's) are kept and
    just get the context filter. Calling it again changes nothing but the level.
    """
    from .config.environment import runtime_environment  # PYM_LOG_FORMAT

    fmt = (fmt or runtime_environment().log_format or ("json" if on_lambda() else "text"))
    root = logging.getLogger()
    if not any(getattr(h, "_pym", False) for h in root.handlers):
        if on_lambda():
            for handler in list(root.handlers):
                root.removeHandler(handler)
        if not root.handlers:
            handler = logging.StreamHandler(sys.stdout)
            handler._pym = True  # type: ignore[attr-defined]
            handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
            root.addHandler(handler)
            root.setLevel(level)
    for handler in root.handlers:
        if not any(isinstance(f, ContextFilter) for f in handler.filters):
            handler.addFilter(ContextFilter())
    logging.getLogger("pym_lambda").setLevel(level)
    quiet_libraries(level)


# boto3's INFO lines ("Found credentials in environment variables.", one per client) are noise
# in a service's log at INFO: they show from DEBUG only, unless their level was set already.
CHATTY_LIBRARIES = ("boto3", "botocore", "urllib3")


def quiet_libraries(level: str) -> None:
    quiet = logging.getLevelName(level) != logging.DEBUG
    for name in CHATTY_LIBRARIES:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or getattr(logger, "_pym_quiet", False):
            logger.setLevel(logging.WARNING if quiet else logging.NOTSET)
            logger._pym_quiet = True  # type: ignore[attr-defined]


# ------------------------------------------------------------------ the line per request
access_log = logging.getLogger("pym_lambda")
_root = logging.getLogger()
# A str as json.dumps(ensure_ascii=True) writes it (C, as fast as the ensure_ascii=False one):
# a lone surrogate in a path or `sub` is an escape, never a line the stream refuses.
_encode = json.encoder.encode_basestring_ascii
_second: List[Any] = [0, ""]  # the last second formatted, and its text


def log_request(ctx: CallContext, status: int, metrics: Any = None) -> None:
    """The one INFO line per request (the caller checked the level, unless `metrics`):
    method, path, status and duration, with the call's id, user and operation.

    `metrics` (pym_lambda.metrics.Metrics, when on): the request's EMF members. Written
    directly (the Lambda case), the line carries them itself, so a request costs one line;
    otherwise they get a line of their own (metrics.py says why)."""
    duration = (time.perf_counter() - ctx.started) * 1000
    info = metrics is None or access_log.isEnabledFor(logging.INFO)
    handler = _direct_handler() if info else None
    if handler is None:
        if info:
            # Built with makeRecord: log.info() would also walk the stack to find its caller.
            access_log.handle(access_log.makeRecord(
                access_log.name, logging.INFO, __file__, 0, "%s %s %s %.1fms",
                (ctx.method, ctx.path, status, duration), None, "dispatch",
                {"http_method": ctx.method, "path": ctx.path, "status": status,
                 "duration_ms": round(duration, 2)}))
        if metrics is not None:
            metrics.write(metrics.request_line(ctx.operation, status, duration))
        return
    line = _json_line(ctx, status, duration, metrics)
    handler.acquire()
    try:
        stream = handler.stream
        stream.write(line)
        stream.flush()  # as handler.flush() does, without taking the lock a second time
    except (OSError, ValueError):
        pass  # as logging does: a closed or full stream never fails the request
    finally:
        handler.release()


def _direct_handler() -> Optional[logging.StreamHandler]:  # type: ignore[type-arg]
    """pym-lambda's own JSON handler when the request line goes there and nowhere else, so
    that it can be written directly (the Lambda case): through a LogRecord, the filter and
    the formatter, the same line costs ~15 us, more than the rest of a small request."""
    handlers = _root.handlers
    if (len(handlers) != 1 or _root.filters or access_log.handlers or access_log.filters
            or not access_log.propagate):
        return None
    handler = handlers[0]
    if (not getattr(handler, "_pym", False) or type(handler.formatter) is not JsonFormatter
            or handler.level > logging.INFO or len(handler.filters) != 1
            or type(handler.filters[0]) is not ContextFilter):
        return None
    return handler  # type: ignore[return-value]


def _json_line(ctx: CallContext, status: int, duration: float, metrics: Any = None) -> str:
    """What JsonFormatter writes for the request line, key for key, value for value (and the
    EMF members of `metrics`, when on)."""
    now = time.time()
    second = int(now)
    if second != _second[0]:
        _second[:] = [second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))]
    # Each text escaped once: escaping is char by char, so the message is made of the method's
    # and the path's escaped texts.
    method, path = _encode(ctx.method), _encode(ctx.path)
    line = (f'{{"time": "{_second[1]}.{int((now - second) * 1000):03d}Z", "level": "INFO", '
            f'"logger": "{access_log.name}", '
            f'"message": "{method[1:-1]} {path[1:-1]} {status} {duration:.1f}ms"')
    if ctx.call_id is not None:
        line += f', "call_id": {_encode(ctx.call_id)}'
    caller = ctx.caller  # None unless a token was verified: getattr(None, ...) would raise
    user_id = None if caller is None else getattr(caller, "user_id", None)  # and catch
    if user_id is not None:
        line += f', "user_id": {_json_user(user_id)}'
    if ctx.operation:
        line += f', "operation": {_encode(ctx.operation)}'
    # duration_ms: ".2f" is round(duration, 2) as JSON reads it (1.20 is 1.2), at half its cost
    line += (f', "http_method": {method}, "path": {path}, "status": {status}, '
             f'"duration_ms": {duration:.2f}')
    if metrics is not None:
        line += metrics.request_members(ctx.operation, status)
    return line + "}\n"


def _json_user(user_id: Any) -> str:
    try:
        return json.dumps(user_id, ensure_ascii=True)
    except (TypeError, ValueError):
        return _encode(describe(user_id))
