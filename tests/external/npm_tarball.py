"""An npm package's tarball, fetched at test time with `npm pack`, pinned by version and
integrity hash (npm's sha512), cached in tests/.external/ (gitignored). Nothing of it is
committed."""
from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Dict, Iterable

CACHE = Path(__file__).resolve().parent.parent / ".external"


class Unavailable(Exception):
    """The package could not be fetched or does not match its pinned hash."""


def integrity(path: Path) -> str:
    digest = hashlib.sha512()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return "sha512-" + base64.b64encode(digest.digest()).decode()


def tarball(package: str, version: str, expected: str) -> Path:
    """The tarball in the cache, downloaded once by `npm pack` and hash-checked."""
    name = package.lstrip("@").replace("/", "-")
    path = CACHE / f"{name}-{version}.tgz"
    if path.is_file() and integrity(path) == expected:
        return path
    npm = shutil.which("npm")
    if npm is None:
        raise Unavailable(f"npm is not installed: it fetches {package}")
    CACHE.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run([npm, "pack", f"{package}@{version}", "--pack-destination", str(CACHE)],
                       check=True, capture_output=True, timeout=600, cwd=CACHE)
    except (subprocess.SubprocessError, OSError) as exc:
        stderr = getattr(exc, "stderr", b"") or b""
        raise Unavailable(f"npm pack {package}@{version} failed: {exc} "
                          f"{stderr.decode(errors='replace')[-500:]}") from None
    found = integrity(path) if path.is_file() else "no file"
    if found != expected:
        path.unlink(missing_ok=True)
        raise Unavailable(f"{path.name}: integrity {found}, expected {expected}")
    return path


def extract(archive: Path, names: Iterable[str], into: Path) -> Dict[str, Path]:
    """The named files of the package (paths inside it, without 'package/'), under into."""
    wanted = {f"package/{name}": into / name for name in names}
    missing = {member for member, path in wanted.items() if not path.is_file()}
    if missing:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                if member.name in missing and member.isfile():
                    target = wanted[member.name]
                    target.parent.mkdir(parents=True, exist_ok=True)
                    source = tar.extractfile(member)
                    assert source is not None
                    tmp = target.with_suffix(f".{os.getpid()}.tmp")
                    tmp.write_bytes(source.read())
                    tmp.replace(target)
    for member, path in wanted.items():
        if not path.is_file():
            raise Unavailable(f"{member} is not in {archive.name}")
    return {member[len("package/"):]: path for member, path in wanted.items()}
