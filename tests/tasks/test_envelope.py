"""The task envelope, the decorator's calling rules, settings and naming: no AWS, no IO."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal
from typing import Any, Dict, Iterator, Optional

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pym_lambda.auth import Caller, set_settings
from pym_lambda.build.tasks.queues import queue_definitions
from pym_lambda.config import JwtSettings
from pym_lambda.context import CallContext, enter_context, exit_context
from pym_lambda.runtime.service import Service
from pym_lambda.tasks import (
    AsyncTask,
    MalformedEnvelope,
    TaskArgumentError,
    TaskDefinitionError,
    TaskPayloadTooLarge,
    TaskSettings,
    UnknownTask,
    UnsupportedEnvelopeVersion,
    async_task,
    configure_tasks,
    current_task,
    resolve_task,
)
from pym_lambda.tasks.envelope import (
    TYPE_TAG,
    TaskEnvelope,
    check_message_size,
    decode_envelope,
    decode_value,
    encode_envelope,
    encode_value,
    new_envelope,
    restore_caller,
)
from pym_lambda.tasks.errors import ForgedCaller
from pym_lambda.tasks.naming import dead_letter_queue_name, handler_name, physical_queue_name

TASK = "tests.tasks.test_envelope:echo"


class Pet:
    """A fake model class: the protocol of pym_lambda.runtime.models, nothing more."""

    __pym_model_name__ = "Pet"

    def __init__(self, name: str, born: dt.date) -> None:
        self.name, self.born = name, born

    def to_json(self) -> Dict[str, Any]:
        return {"name": self.name, "born": self.born.isoformat()}

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> Pet:
        return cls(data["name"], dt.date.fromisoformat(data["born"]))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pet) and (self.name, self.born) == (other.name, other.born)


def resolve_pet(name: str, api: Optional[str]) -> type:
    if name != "Pet":
        raise LookupError(name)
    return Pet


@async_task
def echo(*args: Any, **kwargs: Any) -> Dict[str, Any]:
    return {"args": args, "kwargs": kwargs, "info": current_task()}


@async_task(queue="mail", delay_seconds=30, max_attempts=2)
def send_mail(to: str) -> str:
    return to


def undecorated(x: Any) -> Any:
    return x


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("PYM_TASKS_INLINE", "PYM_APP_NAME", "PYM_STAGE",
                 "PYM_TASKS_PARTIAL_BATCH_RESPONSES"):
        monkeypatch.delenv(name, raising=False)
    # A bare service (no app) for each test: its tasks are every module's imported so far,
    # whatever app another test file created.
    with Service().use():
        configure_tasks(None)
        yield
        configure_tasks(None)


def round_trip(args: Any = (), kwargs: Any = None, context: Any = None) -> TaskEnvelope:
    body = encode_envelope(new_envelope(TASK, args, kwargs or {}, context))
    return decode_envelope(body, model_resolver=resolve_pet)


# --- round trips ----------------------------------------------------------------------------

def test_envelope_has_the_documented_fields() -> None:
    token = enter_context(CallContext(call_id="call-1", caller=None))
    try:
        body = encode_envelope(new_envelope(TASK, [1], {"a": 2}, CallContext(call_id="call-1")))
    finally:
        exit_context(token)
    data = json.loads(body)
    assert list(data) == ["v", "task", "task_id", "args", "kwargs", "call_id", "caller",
                          "attempt", "created_at"]
    assert data["v"] == 2 and data["task"] == TASK and data["attempt"] == 1
    assert data["call_id"] == "call-1" and data["caller"] is None
    assert dt.datetime.fromisoformat(data["created_at"]).tzinfo is not None


def test_datetimes_dates_decimals_and_models_round_trip() -> None:
    aware = dt.datetime(2024, 5, 1, 12, 30, 1, 250, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    naive = dt.datetime(2024, 5, 1, 12, 30)
    value = {"when": aware, "local": naive, "day": dt.date(2024, 2, 29),
             "price": Decimal("10.10"), "pets": [Pet("Rex", dt.date(2020, 1, 1))],
             "nested": {"deep": [[aware]]}}
    envelope = round_trip([value, Pet("Tom", dt.date(2019, 5, 5))], {"also": naive})
    assert envelope.args == [value, Pet("Tom", dt.date(2019, 5, 5))]
    assert envelope.kwargs == {"also": naive}
    assert envelope.args[0]["when"].utcoffset() == dt.timedelta(hours=2)
    assert envelope.args[0]["local"].tzinfo is None


def test_tuples_travel_as_lists_and_tag_like_user_keys_survive() -> None:
    envelope = round_trip([(1, 2), {TYPE_TAG: "datetime", "value": "not a date"}],
                          {TYPE_TAG: "a keyword named like the tag"})
    assert envelope.args == [[1, 2], {TYPE_TAG: "datetime", "value": "not a date"}]
    assert envelope.kwargs == {TYPE_TAG: "a keyword named like the tag"}


def test_the_caller_travels_signed_without_its_token_and_is_restored() -> None:
    set_settings(JwtSettings(secret="s" * 40))
    claims = {"scope": ["read"], "exp": dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)}
    caller = {"user_id": "u-1", "claims": claims, "token": "jwt.token.here"}
    body = encode_envelope(new_envelope(TASK, [1], {}, CallContext(call_id="c-9", caller=caller)))
    assert "jwt.token.here" not in body and "token" not in json.loads(body)["caller"]
    assert len(json.loads(body)["sig"]) == 64
    envelope = decode_envelope(body)
    assert envelope.call_id == "c-9"
    restored = restore_caller(envelope.caller)
    assert restored == Caller("u-1", claims, "")  # auth's Caller: current_caller() sees it


def test_without_a_key_the_caller_stays_behind(caplog: pytest.LogCaptureFixture) -> None:
    caller = {"user_id": "u-1", "claims": {}, "token": "t"}
    envelope = round_trip([1], context=CallContext(call_id="c", caller=caller))
    assert envelope.caller is None
    assert "without its caller" in caplog.text


def _signed_body(**changes: Any) -> str:
    set_settings(JwtSettings(secret="s" * 40))
    caller = {"user_id": "u-1", "claims": {"role": "reader"}}
    data = json.loads(encode_envelope(new_envelope(TASK, [1], {}, CallContext(call_id="c",
                                                                            caller=caller))))
    data.update(changes)
    return json.dumps(data)


@pytest.mark.parametrize("changes, reason", [
    ({"caller": {"user_id": "admin", "claims": {"role": "reader"}}}, "signature"),
    ({"args": [2]}, "signature"),  # the caller cannot be moved onto other arguments
    ({"task": "tests.tasks.test_envelope:send_mail"}, "signature"),
    ({"sig": None}, "signature"),
    ({"sig": "0" * 64}, "signature"),
    ({"v": 1}, "version 1"),
    ({"caller": {"user_id": "u-1", "claims": {}, "token": "x"}}, "not {user_id, claims}"),
])
def test_a_forged_or_unsigned_caller_is_refused(changes: Dict[str, Any], reason: str) -> None:
    assert decode_envelope(_signed_body()).caller == {"user_id": "u-1",
                                                      "claims": {"role": "reader"}}
    with pytest.raises(ForgedCaller, match=reason):
        decode_envelope(_signed_body(**changes))


def test_another_stage_or_secret_refuses_the_signature(monkeypatch: pytest.MonkeyPatch) -> None:
    body = _signed_body()
    monkeypatch.setenv("PYM_STAGE", "prod")
    configure_tasks(None)
    with pytest.raises(ForgedCaller, match="signature"):
        decode_envelope(body)
    monkeypatch.delenv("PYM_STAGE")
    configure_tasks(None)
    set_settings(JwtSettings(secret="t" * 40))
    with pytest.raises(ForgedCaller, match="signature"):
        decode_envelope(body)


def test_an_old_envelope_without_caller_is_still_read() -> None:
    body = json.dumps({"v": 1, "task": TASK, "task_id": "t-1", "args": [1], "kwargs": {},
                       "call_id": None, "caller": None, "attempt": 1, "created_at": ""})
    assert decode_envelope(body).args == [1]


json_scalars = (st.none() | st.booleans() | st.integers() | st.text()
                | st.floats(allow_nan=False, allow_infinity=False))
# Whole seconds, as every real zone (LMT offsets such as +00:19:32 included): Python 3.11's
# fromisoformat drops the microseconds of an offset like +00:00:00.000001.
offsets = st.integers(min_value=-23 * 3600, max_value=23 * 3600).map(
    lambda seconds: dt.timedelta(seconds=seconds))
timezones = st.none() | st.just(dt.timezone.utc) | st.builds(dt.timezone, offsets)
values = st.recursive(
    json_scalars | st.datetimes(timezones=timezones) | st.dates()
    | st.decimals(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(args=st.lists(values, max_size=4),
       kwargs=st.dictionaries(st.text(min_size=1, max_size=8), values, max_size=4))
def test_any_supported_argument_round_trips(args: Any, kwargs: Any) -> None:
    envelope = round_trip(args, kwargs)
    assert envelope.args == args
    assert envelope.kwargs == kwargs


@settings(max_examples=200, deadline=None)
@given(value=values)
def test_encoded_values_are_plain_json(value: Any) -> None:
    encoded = encode_value(value, "args[0]", TASK)
    assert json.loads(json.dumps(encoded, allow_nan=False)) == encoded
    assert decode_value(encoded) == value


# --- refusals -------------------------------------------------------------------------------

@pytest.mark.parametrize("bad, where", [
    (object(), "args[0]"),
    ({"a": [1, {2}]}, "args[0]['a'][1]"),
    ({"a": b"bytes"}, "args[0]['a']"),
    ([float("nan")], "args[0][0]"),
    ({1: "int key"}, "args[0]"),
    (Decimal("Infinity"), "args[0]"),
])
def test_unserialisable_arguments_fail_naming_the_argument(bad: Any, where: str) -> None:
    with pytest.raises(TaskArgumentError) as info:
        encode_envelope(new_envelope(TASK, [bad], {}))
    assert isinstance(info.value, TypeError)
    assert f"argument {where}:" in str(info.value) and TASK in str(info.value)


def test_delay_with_a_bad_argument_is_a_type_error_naming_the_keyword() -> None:
    with pytest.raises(TypeError, match=r"argument kwargs\['to'\]: set is not serialisable"):
        send_mail.delay(to={"a"})  # type: ignore[arg-type]


def test_cycles_fail_cleanly() -> None:
    cycle: list = []
    cycle.append(cycle)
    with pytest.raises(TaskArgumentError, match="nested too deeply"):
        encode_envelope(new_envelope(TASK, [cycle], {}))


@pytest.mark.parametrize("body", [
    '{"v": 3, "task": "x:y", "task_id": "1", "args": [], "kwargs": {}}',
    '{"v": "1", "task": "x:y"}', '{"v": true}', '{"v": 0}',
])
def test_other_envelope_versions_are_refused(body: str) -> None:
    with pytest.raises(UnsupportedEnvelopeVersion):
        decode_envelope(body)


@pytest.mark.parametrize("body", [
    "not json", "[1, 2]", '{"task": "x:y"}', '{"v": 1, "task": "x:y"}',
    '{"v": 1, "task": 3, "task_id": "1", "args": [], "kwargs": {}}',
    '{"v": 1, "task": "x:y", "task_id": "1", "args": {}, "kwargs": {}}',
    '{"v": 1, "task": "x:y", "task_id": "1", "args": [{"__pym_type__": "nope"}], "kwargs": {}}',
    '{"v": 1, "task": "x:y", "task_id": "1", "kwargs": {},'
    ' "args": [{"__pym_type__": "datetime", "value": "yesterday"}]}',
    '{"v": 1, "task": "x:y", "task_id": "1", "kwargs": {},'
    ' "args": [{"__pym_type__": "model", "name": "Cat", "value": {}}]}',
])
def test_malformed_envelopes_are_refused(body: str) -> None:
    with pytest.raises(MalformedEnvelope):
        decode_envelope(body, model_resolver=resolve_pet)


def test_payloads_over_the_sqs_limit_fail_with_task_and_size() -> None:
    check_message_size(TASK, "x" * 262_144, 262_144)
    with pytest.raises(TaskPayloadTooLarge) as info:
        check_message_size(TASK, "x" * 262_145, 262_144)
    assert "262145 bytes" in str(info.value) and TASK in str(info.value)
    with pytest.raises(TaskPayloadTooLarge, match="test_envelope:echo"):
        echo.delay("y" * 300_000)
    configure_tasks(TaskSettings(max_message_bytes=1_000))
    with pytest.raises(TaskPayloadTooLarge):
        echo.delay("y" * 1_000)


# --- the decorator ----------------------------------------------------------------------------

def test_bare_and_configured_decorator() -> None:
    assert isinstance(echo, AsyncTask) and echo.name == TASK
    assert (echo.queue, echo.delay_seconds, echo.max_attempts) == ("default", 0, 5)
    assert (send_mail.queue, send_mail.delay_seconds, send_mail.max_attempts) == ("mail", 30, 2)
    assert send_mail.__name__ == "send_mail" and send_mail.__wrapped__ is not None


def test_a_direct_call_runs_now_and_returns_the_result() -> None:
    assert send_mail("a@b.c") == "a@b.c"
    assert echo(1, b=2)["info"] is None  # not run as a task


def test_delay_outside_a_request_runs_inline_through_the_envelope() -> None:
    handle = echo.delay((1, 2), when=dt.date(2024, 1, 1))
    assert handle.inline and handle.message_id is None
    result = handle.result
    assert result["args"] == ([1, 2],)  # the tuple travelled as a list
    assert result["kwargs"] == {"when": dt.date(2024, 1, 1)}
    info = result["info"]
    assert info.task_id == handle.task_id and info.attempt == 1 and info.inline


def test_inline_mode_runs_inline_even_in_a_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYM_TASKS_INLINE", "1")
    configure_tasks(None)
    token = enter_context(CallContext(call_id="c-1"))
    try:
        assert echo.delay(3).result["args"] == (3,)
        assert echo.send(4).inline
    finally:
        exit_context(token)


@pytest.mark.parametrize("options, message", [
    ({"queue": "bad name!"}, "task queue name"),
    ({"delay_seconds": 901}, "delay_seconds"),
    ({"max_attempts": 0}, "max_attempts"),
    ({"max_receive_count": 0}, "max_receive_count must be 1..1000"),
    ({"max_receive_count": 1001}, "max_receive_count must be 1..1000"),
    ({"max_receive_count": True}, "max_receive_count must be 1..1000"),
    ({"max_attempts": 6, "max_receive_count": 5},
     "max_receive_count 5 is below max_attempts 6: SQS would dead-letter"),
])
def test_bad_options_fail_at_decoration(options: Dict[str, Any], message: str) -> None:
    with pytest.raises(TaskDefinitionError, match=message):
        async_task(**options)(undecorated)


def test_nested_and_async_functions_are_refused() -> None:
    def inner() -> None: ...

    async def coroutine() -> None: ...

    with pytest.raises(TaskDefinitionError, match="module-level"):
        async_task(inner)
    with pytest.raises(TaskDefinitionError, match="async def"):
        async_task(coroutine)


def test_only_decorated_functions_resolve() -> None:
    assert resolve_task(TASK) is echo
    for name in ("os:system", "tests.tasks.test_envelope:undecorated",
                 "tests.tasks.test_envelope:Pet", "no.such.module:f", "nocolon",
                 "x:y:z", "tests.tasks.test_envelope:echo.__call__", ""):
        with pytest.raises(UnknownTask):
            resolve_task(name)


# --- settings and naming ----------------------------------------------------------------------

def test_settings_from_the_environment() -> None:
    settings_ = TaskSettings.from_env({
        "PYM_APP_NAME": "shop", "PYM_STAGE": "prod", "PYM_TASKS_INLINE": "yes",
        "PYM_TASK_QUEUE_URL_EMAILS_HIGH": "https://sqs.eu-west-1.amazonaws.com/1/ext-queue",
        "PYM_TASK_QUEUE_NAME_BULK": "shared-bulk"})
    assert (settings_.app_name, settings_.stage, settings_.inline) == ("shop", "prod", True)
    assert physical_queue_name("default", settings_) == "shop-prod-default"
    assert dead_letter_queue_name("default", settings_) == "shop-prod-default-dlq"
    assert physical_queue_name("emails-high", settings_) == "ext-queue"
    assert physical_queue_name("bulk", settings_) == "shared-bulk"
    assert TaskSettings.from_env({}).stage == "dev"
    with pytest.raises(ValueError, match="PYM_TASKS_INLINE"):
        TaskSettings.from_env({"PYM_TASKS_INLINE": "maybe"})


def test_names_need_an_app_name_and_handlers_are_identifiers() -> None:
    with pytest.raises(Exception, match="PYM_APP_NAME"):
        physical_queue_name("default", TaskSettings())
    assert handler_name("emails-high") == "pym_task_worker_emails_high"


def test_queue_definitions_follow_the_tasks() -> None:
    configure_tasks(TaskSettings(app_name="shop", stage="prod"))
    by_queue = {d.queue: d for d in queue_definitions()}
    mail = by_queue["mail"]
    assert (mail.name, mail.dlq_name) == ("shop-prod-mail", "shop-prod-mail-dlq")
    # max_attempts=2 is the worker's business; SQS's redrive keeps AWS's advised minimum.
    assert mail.max_receive_count == 5 and mail.visibility_timeout == 360
    attributes = mail.queue_attributes("arn:aws:sqs:eu-west-1:1:shop-prod-mail-dlq")
    assert json.loads(attributes["RedrivePolicy"])["maxReceiveCount"] == 5
    assert attributes["MaximumMessageSize"] == "262144"


@async_task(queue="receives-patient", max_attempts=8)
def patient_task() -> None: ...


@async_task(queue="receives-patient", max_attempts=2, max_receive_count=12)
def throttled_task() -> None: ...


@async_task(queue="receives-lenient", max_attempts=2, max_receive_count=3)
def lenient_task() -> None: ...


def test_the_redrive_max_receive_count_per_queue() -> None:
    queues = ["mail", "receives-patient", "receives-lenient", "receives-none"]

    def counts(**settings: Any) -> Dict[str, int]:
        configure_tasks(TaskSettings(app_name="shop", stage="prod", **settings))
        return {d.queue: d.max_receive_count for d in queue_definitions(queues)}

    # The highest of each task's max_receive_count (default: the settings') and max_attempts.
    assert counts() == {"mail": 5, "receives-patient": 12, "receives-lenient": 3,
                        "receives-none": 5}
    assert counts(max_receive_count=10) == {"mail": 10, "receives-patient": 12,
                                            "receives-lenient": 3, "receives-none": 10}
    assert counts(max_receive_count=1)["mail"] == 2  # never below a task's max_attempts
    assert TaskSettings.from_env({"PYM_TASKS_MAX_RECEIVE_COUNT": "7"}).max_receive_count == 7
    assert (patient_task.max_receive_count, throttled_task.max_receive_count) == (None, 12)


def test_importing_the_task_package_stays_light() -> None:
    code = ("import sys, pym_lambda.tasks; "
            "print(sorted(m for m in ('boto3', 'botocore', 'click') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


# read_envelope is the worker's fast path: it must read exactly what decode_envelope reads and
# refuse exactly what it refuses, with the same error.
_JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False)
    | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                  max_size=3),
    max_leaves=8)
_FIELDS = {"v": st.sampled_from([1, 1, 1, 2, True, "1", None]),
           "task": st.sampled_from(["m:f", 3, None]) | _JSONISH,
           "task_id": st.sampled_from(["id-1", 7]) | _JSONISH,
           "args": st.lists(_JSONISH, max_size=3) | _JSONISH,
           "kwargs": st.dictionaries(st.text(max_size=4), _JSONISH, max_size=3) | _JSONISH,
           "call_id": st.sampled_from(["c-1", None, 5]),
           "caller": st.sampled_from([None, {"user_id": "u"}, "u"]),
           "attempt": st.sampled_from([None, 1, 3, True, "2"]),
           "created_at": st.sampled_from([None, "2024-01-01T00:00:00Z", 0])}


def _outcome(read: Any, body: Any) -> Any:
    try:
        return read(body)
    except Exception as exc:  # compared by type and message
        return (type(exc).__name__, str(exc))


@settings(max_examples=300, deadline=None)
@example(fields={"v": 1, "task": "m:f", "task_id": "id-1", "args": [1, {"a": [1]}],
                 "kwargs": {"k": encode_value(Decimal("1.5"), "k", "m:f")}, "call_id": "c"},
         spacing="")
@given(fields=st.fixed_dictionaries({}, optional=_FIELDS),
       spacing=st.sampled_from(["", " ", "\n", "\ufeff"]))
def test_the_worker_reads_envelopes_exactly_as_decode_envelope(fields: Dict[str, Any],
                                                               spacing: str) -> None:
    from pym_lambda.tasks.envelope import read_envelope

    body = spacing + json.dumps(fields) + spacing.strip("\ufeff")
    expected = _outcome(decode_envelope, body)
    if isinstance(expected, TaskEnvelope):
        expected = (expected.task, expected.task_id, expected.args, expected.kwargs,
                    expected.call_id, expected.caller)
    assert _outcome(read_envelope, body) == expected


def test_a_value_nested_past_the_bound_is_malformed() -> None:
    from pym_lambda.tasks.envelope import _MAX_DEPTH, read_envelope

    deep: Any = "x"
    for _ in range(_MAX_DEPTH + 2):
        deep = [deep]
    body = json.dumps({"v": 1, "task": "m:t", "task_id": "i", "args": [deep], "kwargs": {}})
    with pytest.raises(MalformedEnvelope, match="nested deeper"):
        read_envelope(body)
    with pytest.raises(MalformedEnvelope, match="not JSON"):  # json.loads' own recursion limit
        read_envelope('{"v": 1, "args": ' + "[" * 100_000 + "]" * 100_000 + "}")


def test_a_body_is_read_as_json_loads_reads_it_whatever_its_form() -> None:
    from pym_lambda.tasks.envelope import read_envelope

    body = json.dumps({"v": 2, "task": "m:t", "task_id": "i", "args": [1, "a", None],
                       "kwargs": {}})
    expected = ("m:t", "i", [1, "a", None], {}, None, None)
    assert read_envelope(body) == expected
    assert read_envelope(body.encode("utf-8")) == expected  # bytes: json.loads detects UTF-8
    for bad in ("\ufeff" + body, "", "[1]", b"\xff"):
        with pytest.raises(MalformedEnvelope):
            read_envelope(bad)
    tagged = json.loads(body)
    tagged["args"] = [{TYPE_TAG: "date", "value": "2020-01-02"}]
    assert read_envelope(json.dumps(tagged))[2] == [dt.date(2020, 1, 2)]  # a tagged value


def test_the_fast_decoder_leaves_anything_around_the_value_to_json_loads() -> None:
    from pym_lambda.tasks.envelope import read_envelope

    body = json.dumps({"v": 2, "task": "m:t", "task_id": "i", "args": [], "kwargs": {}})
    expected = ("m:t", "i", [], {}, None, None)
    assert read_envelope(" \n" + body + "\n ") == expected  # whitespace, as json.loads allows
    for bad in (body + "x", body + body, body[:-1], "\ufeff" + body):
        try:
            json.loads(bad)
        except ValueError as exc:
            error = str(exc)
        with pytest.raises(MalformedEnvelope) as raised:
            read_envelope(bad)
        assert str(raised.value) == f"message body is not JSON: {error}"  # json.loads' words
