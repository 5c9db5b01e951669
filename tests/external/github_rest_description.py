"""GitHub's REST API description as GitHub publishes it today (1,223 operations, OpenAPI 3.0.3),
from the npm package `@octokit/openapi` (MIT): fetched at test time, pinned by version,
integrity and sha256, cached (tests/external/openapi_directory.py does the fetching)."""
from __future__ import annotations

from pathlib import Path

from tests.external.openapi_directory import NpmPackage, spec_files

PACKAGE = NpmPackage(
    "@octokit/openapi", "23.0.2",
    "sha512-pV8M7L9GY23AybNvTmo2nyjmpmnt6+2sRE/tqr0ZLQcPS4lnw7u5eZGNmwRNkBC3D7gZXbFx5AHzLUVRBXGDhg==")
SPEC = "generated/api.github.com.json"
SPEC_SHA256 = "829b4bebb19a53133289f7b0bc819f4f1118115821db2ca9f25e9ee995a7da2a"


def spec_file() -> Path:
    """generated/api.github.com.json of the pinned package, checked against its sha256."""
    return spec_files({SPEC: SPEC_SHA256}, PACKAGE)[SPEC]
