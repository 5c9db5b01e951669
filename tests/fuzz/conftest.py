"""Fuzz tests: the long runs (marked slow) only when asked for with `pytest -m slow`."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _slow_only_when_selected(request: pytest.FixtureRequest) -> None:
    selected = request.config.getoption("markexpr", default="") or ""
    if request.node.get_closest_marker("slow") and "slow" not in selected:
        pytest.skip("long run: `pytest -m slow`")
