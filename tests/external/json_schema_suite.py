"""The official JSON Schema Test Suite (MIT licence, kept beside it), as shipped in the sdist of
jsonschema 4.26.0 on PyPI: downloaded by pip at the first use, pinned by version and sha256,
cached in tests/.external/. Without the network the tests skip, saying why (they fail on CI).
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
FOLDER = CACHE / f"json-schema-test-suite-jsonschema-{VERSION}"


def _unavailable(why: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"JSON Schema Test Suite: {why}")
    pytest.skip(f"JSON Schema Test Suite not available: {why}")


def _download(into: Path) -> Path:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
               "--disable-pip-version-check", "-q", f"jsonschema=={VERSION}", "-d", str(into)]
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    archives = list(into.glob("jsonschema-*.tar.gz"))
    if len(archives) != 1:
        raise RuntimeError(f"pip left {[p.name for p in into.iterdir()]}")
    return archives[0]


def _extract(archive: Path, into: Path) -> None:
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if "/json/" in m.name and m.isfile()]
        for member in members:
            relative = member.name.split("/json/", 1)[1]
            target = into / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            assert source is not None
            target.write_bytes(source.read())


def suite_folder() -> Path:
    """The suite's folder (tests/, remotes/, LICENSE), downloaded once."""
    if (FOLDER / "tests").is_dir() and (FOLDER / "LICENSE").is_file():
        return FOLDER
    try:
        with tempfile.TemporaryDirectory() as tmp:
            archive = _download(Path(tmp))
            digest = hashlib.sha256(archive.read_bytes()).hexdigest()
            if digest != SHA256:
                raise RuntimeError(f"sha256 {digest}, expected {SHA256}")
            partial = Path(tmp) / "suite"
            _extract(archive, partial)
            if not (partial / "tests").is_dir() or not (partial / "LICENSE").is_file():
                raise RuntimeError("the sdist has no json/tests or json/LICENSE")
            CACHE.mkdir(exist_ok=True)
            shutil.rmtree(FOLDER, ignore_errors=True)
            shutil.copytree(partial, FOLDER)
    except (OSError, subprocess.SubprocessError, RuntimeError, tarfile.TarError) as exc:
        _unavailable(f"{type(exc).__name__}: {exc}")
    return FOLDER
