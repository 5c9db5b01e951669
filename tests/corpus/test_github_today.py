"""GitHub's REST API description as published today (@octokit/openapi, 1,223 operations): it
loads unchanged, and every operation answers 501 naming itself to a valid request and a 4xx to
a wrong one, never a 500 (issue #17). The corpus's GitHub copy (APIs.guru) is older: this one
has the paths that refused the whole spec before, e.g. `/orgs/{org}/attestations/
{subject_digest}` (GET) beside `.../{attestation_id}` (DELETE). About 35 s."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.corpus.corpus import unavailable
from tests.corpus.harness import run_spec
from tests.external.github_rest_description import spec_file
from tests.external.openapi_directory import Unavailable


@pytest.fixture(scope="module")
def spec() -> Path:
    try:
        return spec_file()
    except Unavailable as exc:
        unavailable(str(exc))
        raise


def test_github_today_loads_and_answers_every_operation(spec: Path, tmp_path: Path) -> None:
    run = run_spec("api.github.com (@octokit/openapi)", spec, tmp_path)
    assert run.loaded, run.load_error
    assert run.operations == 1223
    assert run.findings() == []
    assert run.count("valid", "501") >= 1150  # the rest: the harness's own generator
    doc = json.loads(spec.read_text())
    pair = {doc["paths"]["/orgs/{org}/attestations/{subject_digest}"]["get"]["operationId"],
            doc["paths"]["/orgs/{org}/attestations/{attestation_id}"]["delete"]["operationId"]}
    answered = {c.operation: c for c in run.calls if c.kind == "valid" and c.operation in pair}
    assert sorted(answered) == sorted(pair)
    for call in answered.values():  # each reaches its own operation
        assert (call.status, call.verdict) == (501, "501") and call.operation in \
            call.description, call
