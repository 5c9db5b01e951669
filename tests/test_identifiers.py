"""Names made with str methods (not compiled patterns, see pym_lambda/identifiers.py) are the
names the regular expressions they replace gave: checked against those expressions on names
from the specs and on hostile text (Unicode letters and digits, runs, edges, newlines)."""
from __future__ import annotations

import re

import pytest

from pym_lambda.errors import PymError
from pym_lambda.identifiers import snake_case, split_camel, underscore_runs
from pym_lambda.runtime.router import _valid_call_id
from pym_lambda.tasks.errors import TaskDefinitionError
from pym_lambda.tasks.naming import HANDLER_PREFIX, handler_name, validate_queue_name
from pym_lambda.tasks.task_settings import queue_env_key

NAMES = ["listBooks", "get-book", "GetBookByID", "get_book", "__x__", "a--b__c", "v2Items",
         "/v1/books/{book_id}", "/", "", "_", "-", "HTTPServer", "ünïcödeName", "nameÉtat",
         "x\n", "\nx", "a b\tc", "٣digits٣", "ǅungla", "ⅫRoman", "emails-high", "e.mails:high",
         "9lives", "a" * 50, "ABC", "aB1cD2", "ß-strasse", "日本語Name", "x\u0301y"]


@pytest.mark.parametrize("name", NAMES)
def test_each_name_is_what_the_patterns_made(name: str) -> None:
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", re.sub(r"[^0-9a-zA-Z]+", "_", name))
    assert snake_case(name) == snake.lower().strip("_")
    assert underscore_runs(name) == re.sub(r"\W+", "_", name)
    assert split_camel(name) == re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    assert handler_name(name) == HANDLER_PREFIX + re.sub(r"[^A-Za-z0-9_]", "_", name)
    assert queue_env_key(name) == re.sub(r"[^A-Z0-9]", "_", name.upper())
    valid = re.fullmatch(r"^[A-Za-z0-9_-]{1,40}$", name) is not None
    if valid:
        assert validate_queue_name(name) == name
    else:
        with pytest.raises(TaskDefinitionError, match="1-40 letters"):
            validate_queue_name(name)
    assert _valid_call_id(name) == (re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", name) is not None)


def test_call_ids_and_queue_names_at_their_length_limits() -> None:
    assert _valid_call_id("a" * 128) and not _valid_call_id("a" * 129)
    assert not _valid_call_id(None) and not _valid_call_id("")
    assert validate_queue_name("q" * 40) == "q" * 40
    with pytest.raises(TaskDefinitionError):
        validate_queue_name("q" * 41)


def test_an_error_class_without_a_code_gets_its_name_in_upper_snake_case() -> None:
    class BookNotFound2Times(PymError):
        status = 404

    class HTTPTeapot(PymError):
        status = 418

    assert BookNotFound2Times.code == "BOOK_NOT_FOUND2_TIMES"
    assert HTTPTeapot.code == "HTTPTEAPOT"
