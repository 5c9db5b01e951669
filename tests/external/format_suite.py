"""The JSON Schema Test Suite's format tests, from the jsonschema sdist on PyPI (which ships the
suite under json/, with its MIT licence), pinned by version and sha256, cached in
tests/.external/. Nothing of it is committed.

`suite_dir()` is the extracted json/ directory, or pytest.skip saying why the download failed
(pytest.fail under CI=true: CI must run these tests).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest

VERSION = "4.26.0"
SHA256 = "0c26707e2efad8aa1bfc5b7ce170f3fccc2e4918ff85989ba9ffa9facb2be326"
CACHE = Path(__file__).resolve().parents[1] / ".external"
TARGET = CACHE / f"jsonschema-{VERSION}-json"


def _download(into: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                    "--disable-pip-version-check", f"jsonschema=={VERSION}", "-d", str(into)],
                   check=True, capture_output=True, timeout=300)
    archive = into / f"jsonschema-{VERSION}.tar.gz"
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    if digest != SHA256:
        raise RuntimeError(f"{archive.name}: sha256 {digest}, expected {SHA256}")
    return archive


def _extract(archive: Path, into: Path) -> None:
    prefix = f"jsonschema-{VERSION}/json/"
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            if not member.name.startswith(prefix) or not member.isfile():
                continue
            relative = Path(member.name[len(prefix):])
            if ".." in relative.parts or relative.is_absolute():
                continue  # nothing may land outside the target
            source = tar.extractfile(member)
            assert source is not None
            destination = into / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(source.read())


def suite_dir() -> Path:
    """tests/.external/jsonschema-<version>-json: the suite's json/ directory (tests/, LICENSE)."""
    if (TARGET / "LICENSE").is_file():
        return TARGET
    try:
        CACHE.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=CACHE, prefix=".partial-"))
        try:
            with tempfile.TemporaryDirectory() as tmp:
                _extract(_download(Path(tmp)), staging)
            if not (TARGET / "LICENSE").is_file():
                staging.rename(TARGET)  # whole or not at all: a half-extracted suite is never used
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except (OSError, subprocess.SubprocessError, RuntimeError, tarfile.TarError) as exc:
        reason = f"the JSON Schema Test Suite (jsonschema {VERSION} sdist) is unavailable: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return TARGET
