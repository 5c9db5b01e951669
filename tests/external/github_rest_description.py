"""GitHub's REST API description as GitHub publishes it today (1,223 operations, OpenAPI 3.0.3),
from the npm package `@octokit/openapi` (MIT): fetched at test time, pinned, cached."""
from __future__ import annotations

import hashlib
from pathlib import Path

from tests.external.npm_tarball import CACHE, Unavailable, extract, tarball

PACKAGE = "@octokit/openapi"
VERSION = "23.0.2"
INTEGRITY = ("sha512-pV8M7L9GY23AybNvTmo2nyjmpmnt6+2sRE/tqr0ZLQcPS4lnw7u5eZGNmwRNkBC3D7gZXbFx5"
             "AHzLUVRBXGDhg==")
SPEC = "generated/api.github.com.json"
SPEC_SHA256 = "829b4bebb19a53133289f7b0bc819f4f1118115821db2ca9f25e9ee995a7da2a"


def spec_file() -> Path:
    """generated/api.github.com.json of the pinned package, checked against its sha256."""
    archive = tarball(PACKAGE, VERSION, INTEGRITY)
    found = extract(archive, [SPEC, "LICENSE"], CACHE / f"octokit-openapi-{VERSION}")
    path = found[SPEC]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SPEC_SHA256:
        path.unlink()
        raise Unavailable(f"{SPEC}: sha256 {digest}, expected {SPEC_SHA256}")
    return path
