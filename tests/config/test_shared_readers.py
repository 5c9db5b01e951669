"""One truth set for flags, one deep-merge, one snake_case."""
from __future__ import annotations

import pytest

from pym_lambda.config.environment import deep_merge, parse_flag
from pym_lambda.identifiers import snake_case


@pytest.mark.parametrize("word", ["1", "true", "Yes", " on "])
def test_every_source_reads_the_same_true_words(word: str) -> None:
    assert parse_flag(word, False, "X") is True


def test_a_flag_is_false_blank_or_refused() -> None:
    assert parse_flag("off", True, "X") is False and parse_flag("  ", True, "X") is True
    with pytest.raises(ValueError, match="X='maybe'"):
        parse_flag("maybe", False, "X")


def test_deep_merge_keeps_leaves_whole() -> None:
    low = {"a": {"b": 1, "c": 2}, "s": {"env": "A"}}
    high = {"a": {"c": 3}, "s": {"ssm": "/p"}}
    assert deep_merge(low, high) == {"a": {"b": 1, "c": 3}, "s": {"env": "A", "ssm": "/p"}}
    leaf = deep_merge(low, high, is_leaf=lambda v: "env" in v or "ssm" in v)
    assert leaf["s"] == {"ssm": "/p"} and low["a"] == {"b": 1, "c": 2}


def test_snake_case() -> None:
    assert [snake_case(n) for n in ("listBooks", "get-book", "HTTPServer", "v2Items")] == [
        "list_books", "get_book", "httpserver", "v2_items"]
