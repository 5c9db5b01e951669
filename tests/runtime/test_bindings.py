"""The signature check reads plain functions from their code object (no inspect at cold start):
it must see exactly what inspect.signature sees, and give the same verdicts."""
from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, List

import pytest

from pym_lambda.runtime.bindings import _code_parameters, _parameters, check_signature


def f_all_kinds(a, b=1, *args, c, d=2, **kw): ...  # type: ignore[no-untyped-def]
def f_positional_only(a, /, b, *, c): ...  # type: ignore[no-untyped-def]
def f_nothing(): ...  # type: ignore[no-untyped-def]
def f_star(*a): ...  # type: ignore[no-untyped-def]
def f_body(body, limit=20, tags=None): ...  # type: ignore[no-untyped-def]


def f_locals(x, y, /, z=3, **k):  # type: ignore[no-untyped-def]
    q = x + y  # local variables follow the parameters in co_varnames
    return q


def f_closure(a, b=lambda: 1, *, c=3):  # type: ignore[no-untyped-def]
    def inner():  # type: ignore[no-untyped-def]
        return a  # a becomes a cell variable
    return inner


def f_kwonly_and_kwargs(a, *, c, **kw): ...  # type: ignore[no-untyped-def]


FUNCTIONS = [f_all_kinds, f_positional_only, f_nothing, f_star, f_body, f_locals, f_closure,
             f_kwonly_and_kwargs]


@pytest.mark.parametrize("func", FUNCTIONS, ids=lambda f: f.__name__)
def test_code_object_parameters_match_inspect(func: Callable[..., Any]) -> None:
    expected = [(p.name, int(p.kind), p.default is not p.empty)
                for p in inspect.signature(func).parameters.values()]
    assert _code_parameters(func) == expected  # type: ignore[arg-type]


def test_wrapped_functions_are_read_through_inspect() -> None:
    @functools.wraps(f_body)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return f_body(*args, **kwargs)

    assert [name for name, _, _ in _parameters(wrapper) or []] == ["body", "limit", "tags"]
    assert check_signature(wrapper, True, ["limit"]) is None
    assert "does not accept" in (check_signature(wrapper, True, ["other"]) or "")


@pytest.mark.parametrize("func, wants_body, kwargs, problem", [
    (f_body, True, ["limit", "tags"], None),
    (f_body, True, ["other"], "does not accept the argument(s) other"),
    (f_nothing, True, [], "takes no positional argument"),
    (f_star, True, [], None),
    (f_kwonly_and_kwargs, True, ["anything"], "requires argument(s) the spec does not declare: c"),
    (f_kwonly_and_kwargs, True, ["c", "more"], None),
    (f_positional_only, False, ["a", "b", "c"], "does not accept the argument(s) a"),
])
def test_verdicts(func: Callable[..., Any], wants_body: bool, kwargs: List[str],
                  problem: Any) -> None:
    found = check_signature(func, wants_body, kwargs)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found
