"""Formats (pym_lambda/fastcheck/formats.py): right per their RFCs and the JSON Schema Test Suite.

The suite's optional/format tests of draft 4 and draft 2020-12 run through generated checkers
({"format": name}, both dialects); the unit tests cover what the suite does not; the black-box
tests send requests through a real operation.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
from chalice.test import Client

from pym_lambda import create_app
from pym_lambda.fastcheck import compile_checker, generate_module
from pym_lambda.fastcheck import formats as F
from pym_lambda.fastcheck.support import FORMATS
from tests.conftest import JsonClient, make_project
from tests.external.json_schema_suite import suite_folder as suite_dir

DIALECTS = ("oas30", "oas31")
DRAFTS = ("draft4", "draft2020-12")
# (draft, format, value) -> why we answer otherwise than the suite. None today: keep the
# mechanism so a new suite version's case is either fixed or listed here with its reason.
DEVIATIONS: Dict[Tuple[str, str, str], str] = {}


def suite_cases() -> List[Tuple[str, str, Any, bool, str]]:
    root = suite_dir()
    cases = []
    for draft in DRAFTS:
        for path in sorted((root / "tests" / draft / "optional" / "format").glob("*.json")):
            for group in json.loads(path.read_text(encoding="utf-8")):
                name = group["schema"]["format"]
                for test in group["tests"]:
                    cases.append((draft, name, test["data"], test["valid"],
                                  f"{path.name}: {test['description']}"))
    return cases


def test_the_suite_is_kept_with_its_licence() -> None:
    root = suite_dir()
    assert "MIT" in (root / "LICENSE").read_text(encoding="utf-8") or "Permission is hereby" in (
        root / "LICENSE").read_text(encoding="utf-8")
    assert len(suite_cases()) > 600


@pytest.mark.parametrize("dialect", DIALECTS)
def test_json_schema_test_suite_formats(dialect: str) -> None:
    checkers: Dict[str, Any] = {}
    wrong = []
    for draft, name, value, valid, description in suite_cases():
        if name not in checkers:
            checkers[name] = compile_checker({"format": name}, {}, dialect, "request")
        answer = checkers[name](value)
        key = (draft, name, json.dumps(value))
        if (answer is None) != valid and key not in DEVIATIONS:
            wrong.append(f"{draft} {description}: {value!r} valid={valid}, got {answer!r}")
    assert not wrong, "\n".join(wrong)


def test_every_listed_deviation_still_deviates() -> None:
    for (draft, name, value), reason in DEVIATIONS.items():
        expected = next(valid for d, n, v, valid, _ in suite_cases()
                        if (d, n, json.dumps(v)) == (draft, name, value))
        checker = compile_checker({"format": name}, {}, "oas31", "request")
        assert (checker(json.loads(value)) is None) != expected, reason


def test_every_format_openapi_names_is_checked_whatever_is_installed() -> None:
    named = {"date", "date-time", "time", "duration", "email", "idn-email", "hostname",
             "idn-hostname", "ipv4", "ipv6", "uri", "uri-reference", "iri", "iri-reference",
             "uri-template", "json-pointer", "relative-json-pointer", "uuid", "regex", "int32",
             "int64"}
    for dialect in DIALECTS:
        assert {name for name, helper in FORMATS[dialect].items() if helper} >= named
        assert {"float", "double", "password"} <= set(FORMATS[dialect])
    assert FORMATS["oas30"]["byte"] == "_fmt_byte" and FORMATS["oas30"]["binary"] is None
    unknown = compile_checker({"format": "color"}, {}, "oas31", "request")
    assert unknown("not a colour") is None  # unknown formats are ignored


# -- what the suite does not say ------------------------------------------------------------
VALID = {
    "date-time": ["1998-12-31T23:59:60Z", "1998-12-31t23:59:60.5z", "2020-01-01T00:29:60+00:30",
                  "2020-02-29T00:00:00-00:00", "2020-01-01T00:00:00.123456789+14:00"],
    "time": ["00:00:00Z", "23:59:59.999+23:59", "12:00:00-00:00"],
    "date": ["0001-01-01", "9999-12-31", "2000-02-29"],
    "duration": ["P1Y2M3DT4H5M6S", "PT1H", "PT1H30M", "P1YT1S", "p1d", "P10000Y"],
    "email": ["a@b", "a!#$%&'*+-/=?^_`{|}~@example.com", '""@example.com', '"a\\"b"@x.org',
              "x@[IPv6:2001:db8::1]", "x@a-b.c0"],
    "idn-email": ["δοκιμή@παράδειγμα.δοκιμή", "josé@example.com", "x@xn--nw2a"],
    "hostname": ["a", "A.B.C", "xn--nw2a.xn--j6w193g", "a" * 63, ".".join(["a" * 63] * 3) +
                 "." + "a" * 61, "ab--cd"],
    "idn-hostname": ["münchen", "MÜNCHEN.de".lower(), "xn--mnchen-3ya.de", "Host.Name",
                     "例え.テスト", "ab.ب"],
    "ipv4": ["0.0.0.0", "255.255.255.255"],
    "ipv6": ["::", "::ffff:1.2.3.4", "1:2:3:4:5:6:7::"],
    "uri": ["a:", "a:b", "http://[v1.x]/", "http://h:80", "http://h:/", "urn:a:b?c#d",
            "file:///etc/hosts", "http://u@h", "HTTP://H/%aF"],
    "uri-reference": ["", "#", "?", "./a:b", "//h", "a/b/c"],
    "iri": ["http://例え.テスト/パス?問い#断片", "http://h/?\ue000"],
    "iri-reference": ["パス", "#断片"],
    "uri-template": ["", "{a}", "{.a}", "{+a}{#b}{.c}{/d}{;e}{?f}{&g}", "{a,b*,c:9999}", "{a.b}",
                     "{%41}", "é{x}", "{=a}"],
    "json-pointer": ["/~0~1", "/é", "/\u0000"],
    "relative-json-pointer": ["0", "0#", "10/a", "0+1/a", "1-2#"],
    "uuid": ["00000000-0000-0000-0000-000000000000", "FFFFFFFF-ffff-FfFf-fFfF-000000000000"],
    "regex": ["", "a|b", "[(?i)]", "(?:a)", "(?<n>a)", "\\d\\w\\s\\b\\t\\u0041\\x41\\p{L}",
              "\\.\\*\\[\\]", "\\u{1F600}\\cJ"],
}
INVALID = {
    "date-time": ["2020-01-01T00:00:00Z\n", "2020-01-01 00:00:00Z", "2020-01-01T00:00:00",
                  "2020-01-01T00:00:60+01:00", "2020-01-01T00:00:00.Z", "0000-01-01T00:00:00Z",
                  "2020-01-01T00:00:00+0100", "2020-01-01T00:00Z"],
    "time": ["12:00:00", "12:00:00\n", "12:00Z", "23:59:60+00:01", "12:00:00+24:00",
             "１2:00:00Z"],
    "date": ["2020-01-01\n", "0000-01-01", "2020-00-01", "2020-01-00", "+2020-01-01"],
    "duration": ["P1W1D", "PT1H1S", "P1Y1D", "P1.5Y", "P-1D", "PT", "P1DT", "P T1H", "P1D "],
    "email": ["joe.bloggs@", "@example.com", "a@b@c", "a@-b.c", "a@b..c", "a@b.c.", "a b@c",
              "é@example.com", "x@[1.2.3.4.5]", "x@[IPv7:1]", "x@[::1]", '"a@b', '"a"b@c',
              "a" * 65 + "@b", "a@" + ".".join(["b" * 63] * 4), "a@b_c", "a@b.c\n"],
    "idn-email": ["é@", "a@例え..テスト", "\ud800@a"],
    "hostname": ["a.", "a..b", "-a", "a-", "a_b", "é.com", "a" * 64, "xn--X",
                 ".".join(["a" * 63] * 4), "a b", "a.b\n"],
    # an upper-case letter in a U-label is DISALLOWED by IDNA 2008 (RFC 5892: unstable under
    # case folding); lookups may map it (UTS 46), a valid host name does not hold it
    "idn-hostname": ["München", "ab--cd", "münchen-", "a.-b", "ب.1a", "Ⅻ", "a\u200db",
                     "\u0627\u200c\u0628", "\u0300a", "a\u0660\u06f0"],
    "ipv4": ["1.2.3.4\n", " 1.2.3.4", "1.2.3.04", "1.2.3.4.", "١.2.3.4"],
    "ipv6": ["::1\n", "fe80::1%eth0", "[::1]", "::1/128", "١::"],
    "uri": ["", "a", "1a:b", "a b:c", "http://h:x", "http://[::1", "http://[zz]/", "http://h/%",
            "http://h/%g0", "http://h/a b", "http://h/\\", "http://h#a#b", "http://é/",
            "http://h/{x}", "a:b\n"],
    "uri-reference": [":a", "a:b:c d", "%", "a b", "//[::1"],
    "iri": ["/a", "http://h/\ue000", "http://h/\ufffe", "http://h/\ud800"],
    "iri-reference": ["\\a", "a b"],
    "uri-template": ["{", "}", "{}", "{a", "{a,}", "{..a}", "{a.}", "{a..b}", "{a:0}", "{a:10000}",
                     "{a:x}", "{a*b}", "{a b}", "a b", "%", "%zz", "\"", "<x>", "a\\b"],
    "json-pointer": ["a", "#/a", "/~", "/~2", "/a~"],
    "relative-json-pointer": ["", "-1", "+1", "00", "01/a", "0##", "0+0/a", "0+01", "0-", "a"],
    "uuid": ["00000000-0000-0000-0000-000000000000-", "{00000000-0000-0000-0000-000000000000}",
             "urn:uuid:00000000-0000-0000-0000-000000000000", "00000000000000000000000000000000",
             "00000000-0000-0000-0000-00000000000g", "+0000000-0000-0000-0000-000000000000"],
    "regex": ["(", "\\a", "\\z", "\\A", "\\Q.\\E", "(?i)a", "(?P<n>a)", "(a)\\1", "(?=a)",
              "a{2,1}", "\\u12", "\\u{110000}", "\\c1", "\\u{"],
}


@pytest.mark.parametrize("name", sorted(set(VALID) | set(INVALID)))
def test_format_answers_beyond_the_suite(name: str) -> None:
    for dialect in DIALECTS:
        check = compile_checker({"format": name}, {}, dialect, "request")
        wrong = [v for v in VALID.get(name, []) if check(v) is not None]
        wrong += [v for v in INVALID.get(name, []) if check(v) is None]
        assert not wrong, f"{dialect} {name}: wrong on {wrong!r}"


def test_the_message_names_the_value_and_the_format() -> None:
    check = compile_checker({"format": "email"}, {}, "oas30", "request", "body")
    assert check("joe.bloggs@") == "body: 'joe.bloggs@' is not a 'email'"


def test_a_string_format_lets_other_types_through() -> None:
    for name in FORMATS["oas31"]:
        check = compile_checker({"format": name}, {}, "oas31", "request")
        for value in (None, True, 1.5, [], {}, ["x"]):
            assert check(value) is None, (name, value)
        if name not in ("int32", "int64"):
            assert check(2**70) is None, name


def test_openapi_numeric_and_binary_formats() -> None:
    int32 = compile_checker({"format": "int32"}, {}, "oas30", "request")
    assert int32(2**31 - 1) is None and int32(-(2**31)) is None
    assert int32(2**31) is not None and int32(-(2**31) - 1) is not None
    int64 = compile_checker({"format": "int64"}, {}, "oas31", "request")
    assert int64(2**63 - 1) is None and int64(2**63) is not None and int64(True) is None
    byte = compile_checker({"format": "byte"}, {}, "oas30", "request")
    assert byte("aGVsbG8=") is None and byte("") is None and byte(b"YQ==") is None
    assert byte("aGVsbG8") is not None and byte("é") is not None and byte("a b=") is not None
    for name in ("float", "double", "password", "binary"):
        assert compile_checker({"format": name}, {}, "oas30", "request")("anything") is None


def test_the_generated_module_carries_the_formats() -> None:
    source = generate_module({"mail": ({"format": "email"}, {}, "oas30", "request", "body")})
    namespace: Dict[str, Any] = {}
    exec(compile(source, "<formats>", "exec"), namespace)  # stdlib only: nothing imported
    assert namespace["check_mail"]("a@b.c") is None
    assert namespace["check_mail"]("a@") == "body: 'a@' is not a 'email'"
    assert "pym_lambda.fastcheck.formats" not in source  # pasted, not imported


@pytest.mark.parametrize("name", sorted(n for n, helper in FORMATS["oas30"].items() if helper))
def test_linear_time_on_long_client_input(name: str) -> None:
    helper = getattr(F, FORMATS["oas30"][name])  # type: ignore[arg-type]
    worst = []
    for unit in ("a", "0", "-", ".", "%", "{", "~", "\\", "é", "a.", "0:", "{a", "P1", "xn--",
                 "(?", "[", "@", "/", ":"):
        text = unit * (50_000 // len(unit))
        start = time.perf_counter()
        helper(text)
        helper(text + "\n")
        worst.append(time.perf_counter() - start)
    assert max(worst) < 0.5, f"{name}: {max(worst):.3f} s on 50 kB"


def test_the_reference_fallback_checks_the_same_formats() -> None:
    # a schema the fast checker refuses ('if' in 3.1) is checked by the reference validator:
    # its formats are formats.py's too
    from pym_lambda.build.reference_validator import SchemaValidator

    schema = {"type": "string", "format": "date-time", "if": {"minLength": 100}}
    validator = SchemaValidator(schema, {}, "oas31", "request", "body")
    assert validator.check("1998-12-31T23:59:60Z") is None
    assert validator.check("2020-01-01T00:00:00Z\n") == (
        "body: '2020-01-01T00:00:00Z\\n' is not a 'date-time'")
    hosts = SchemaValidator({"format": "hostname", "if": {}}, {}, "oas31", "request", "body")
    assert hosts.check("a_b") is not None  # checked although no 'fqdn' package is installed


# Where openapi-schema-validator's own format checks (jsonschema's, with the optional packages
# installed here or not) are wrong: the differential tests (test_differential.py) compare the
# fast checkers with the reference using these right checks, not the reference's.
REFERENCE_WRONG = [
    ("date-time", "1998-12-31T23:59:60Z", True),
    ("email", "joe.bloggs@", False),
    ("time", "08:30:06Z", True),
    ("time", "12:00:00", False),
    ("uuid", "2eb8aa08-aa98-11ea-b4aa-73b441d16380-", False),
    ("date-time", "2020-01-01T00:00:00Z\n", False),
    ("hostname", "not_a_host", False),  # unchecked unless 'fqdn' is installed
    ("uri", "http://a b", False),  # unchecked unless 'rfc3987' or 'rfc3986_validator' is
    ("uri-template", "{a", False),
    ("duration", "P1", False),
]


@pytest.mark.parametrize("name,value,valid", REFERENCE_WRONG)
def test_right_where_the_reference_is_wrong(name: str, value: str, valid: bool) -> None:
    import openapi_schema_validator as osv

    reference = osv.OAS30WriteValidator.FORMAT_CHECKER
    assert reference.conforms(value, name) is not valid  # what this test is about
    check = compile_checker({"format": name}, {}, "oas30", "request")
    assert (check(value) is None) is valid


# -- black box: requests through a real operation -------------------------------------------------
SPEC = """
openapi: 3.0.3
info: {title: events, version: '1'}
paths:
  /events:
    post:
      x-bind-server: tests.fastcheck.test_formats.create_event
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [at, contact]
              properties:
                at: {type: string, format: date-time}
                contact: {type: string, format: email}
                site: {type: string, format: hostname}
      responses:
        '201':
          description: created
          content: {application/json: {schema: {type: object}}}
"""


def create_event(body):
    return 201, {"at": body.at.isoformat(), "contact": body.contact}


@pytest.fixture(scope="module")
def events_app(tmp_path_factory: Any) -> Any:
    return create_app(make_project(tmp_path_factory.mktemp("events"), {"events": SPEC}))


@pytest.fixture
def events(events_app: Any) -> Any:
    with events_app.pym_service.use(), Client(events_app) as client:
        yield JsonClient(client)


def test_a_bad_email_answers_400_naming_the_field(events: Any) -> None:
    reply = events.request("POST", "/events",
                           json_body={"at": "2020-01-01T00:00:00Z", "contact": "joe.bloggs@"})
    assert reply.status == 400, reply
    assert "contact" in reply.json["error_description"]
    assert "'joe.bloggs@' is not a 'email'" in reply.json["error_description"]


def test_a_leap_second_is_a_date_time(events: Any) -> None:
    reply = events.request("POST", "/events", json_body={"at": "1998-12-31T23:59:60Z",
                                                        "contact": "joe@example.com"})
    assert reply.status == 201, reply
    assert reply.json["contact"] == "joe@example.com"
    assert reply.json["at"].startswith("1998-12-31T23:59:59")  # Python has no second 60


@pytest.mark.parametrize("body", [
    {"at": "2020-01-01T00:00:00Z\n", "contact": "a@b.c"},
    {"at": "2020-01-01T00:00:00Z", "contact": "a@b.c", "site": "not_a_host"},
])
def test_other_bad_formats_answer_400(events: Any, body: Dict[str, str]) -> None:
    reply = events.request("POST", "/events", json_body=body)
    assert reply.status == 400, reply
    assert reply.json["error"] and "is not a" in reply.json["error_description"]


def test_the_suite_files_come_from_the_cache(tmp_path: Path) -> None:
    assert suite_dir() == suite_dir()  # downloaded once, then read from tests/.external
