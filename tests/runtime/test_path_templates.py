"""Path keys -> route segments, and the linear match within a segment."""
from __future__ import annotations

import time

import pytest

from pym_lambda.runtime.path_templates import (
    UnroutablePath,
    literal_weight,
    match_segment,
    parse_path,
)


def test_segments_and_their_shapes() -> None:
    segments = parse_path("/repos/{owner}/compare/{base}...{head}/{rest+}")
    assert [s.kind for s in segments] == ["literal", "param", "literal", "partial", "greedy"]
    assert [s.shape for s in segments] == ["repos", "{}", "compare", "{}", "{+}"]
    assert segments[3].template_shape == "{}...{}" and segments[3].names == ("base", "head")
    assert literal_weight(segments) == 3 and parse_path("/") == []


@pytest.mark.parametrize("path, why", [
    ("/search?q=x", "'?'"),
    ("/docs#intro", "'#'"),
    ("/a//b", "empty segment"),
    ("/a/{b", "unbalanced"),
    ("/a/b}", "unbalanced"),
    ("/a/{}", "without a name"),
    ("/a/{x}{y}", "nothing between them"),
    ("/{p+}/x", "must be the last"),
    ("/a/x{p+}", "greedy parameter inside"),
])
def test_unroutable_path_keys(path: str, why: str) -> None:
    with pytest.raises(UnroutablePath, match=why):
        parse_path(path)


@pytest.mark.parametrize("template, value, expected", [
    ("{id}.json", "7.json", {"id": "7"}),
    ("{id}.json", ".json", None),
    ("{id}.json", "7.xml", None),
    ("{name}:verb", "a:b:verb", {"name": "a:b"}),
    ("v{version}-{name}", "v1-2-3", {"version": "1", "name": "2-3"}),
    ("{base}...{head}", "a...b...c", {"base": "a", "head": "b...c"}),
    ("{base}...{head}", "a...", None),
    ("{a}.{b}.{c}", "x.y.z", {"a": "x", "b": "y", "c": "z"}),
    ("{a}.{b}.{c}", "x..z", None),  # b would start at the second '.', and end at none
])
def test_match_within_a_segment(template: str, value: str, expected: object) -> None:
    parts = parse_path("/" + template)[0].parts
    assert match_segment(parts, value) == expected


def test_matching_is_linear_in_the_segment() -> None:
    parts = parse_path("/{a}.{b}.{c}.{d}:end")[0].parts
    started = time.perf_counter()
    for _ in range(20):
        assert match_segment(parts, "." * 200_000) is None
        assert match_segment(parts, "a." * 100_000 + "x") is None
    assert time.perf_counter() - started < 0.5
