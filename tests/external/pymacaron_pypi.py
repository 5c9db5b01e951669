"""PyMacaron's own acceptance test case, as published on PyPI: `pymacaron/test.py` and
`pymacaron/log.py` of pymacaron 2.0.345, `pymacaron_unit/` of pymacaron-unit 1.0.20 (the
releases matching pymacaron-helloworld's last commit). Downloaded by pip at the first use
(sources only, no dependencies), pinned by version and sha256, cached in tests/.external/.
Without the network the tests skip, saying why (they fail on CI).
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
from typing import Dict, Tuple

import pytest

CACHE = Path(__file__).resolve().parents[1] / ".external"
FOLDER = CACHE / "pymacaron-2.0.345-unit-1.0.20"
# sdist -> (sha256, {member inside the archive: path under FOLDER})
SDISTS: Dict[str, Tuple[str, Dict[str, str]]] = {
    "pymacaron==2.0.345": (
        "61ea65fdd8a2ca52f247bb653c0e891abbe2cbe01b0916b1f49dae3758801417",
        {"pymacaron-2.0.345/pymacaron/test.py": "pymacaron/test.py",
         "pymacaron-2.0.345/pymacaron/log.py": "pymacaron/log.py"}),
    "pymacaron-unit==1.0.20": (
        "bbe296e6000fbb623b8d8657dadfad58b60a8a26e55f71c908ac27b38c7de6b4",
        {"pymacaron-unit-1.0.20/pymacaron_unit/__init__.py": "pymacaron_unit/__init__.py",
         "pymacaron-unit-1.0.20/pymacaron_unit/testcase.py": "pymacaron_unit/testcase.py"}),
}


def _unavailable(why: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"PyMacaron's test case: {why}")
    pytest.skip(f"PyMacaron's test case not available: {why}")


def _fetch(requirement: str, sha256: str, members: Dict[str, str], into: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                   "--disable-pip-version-check", "-q", requirement, "-d", tmp]
        subprocess.run(command, check=True, capture_output=True, timeout=300)
        archives = list(Path(tmp).glob("*.tar.gz"))
        if len(archives) != 1:
            raise RuntimeError(f"pip left {[p.name for p in Path(tmp).iterdir()]}")
        digest = hashlib.sha256(archives[0].read_bytes()).hexdigest()
        if digest != sha256:
            raise RuntimeError(f"{requirement}: sha256 {digest}, expected {sha256}")
        with tarfile.open(archives[0]) as tar:
            for member, target in members.items():
                source = tar.extractfile(member)
                if source is None:
                    raise RuntimeError(f"{requirement}: no {member}")
                (into / target).parent.mkdir(parents=True, exist_ok=True)
                (into / target).write_bytes(source.read())


def pymacaron_test_files() -> Path:
    """A folder holding pymacaron/{test,log}.py and pymacaron_unit/, downloaded once."""
    wanted = [target for _, members in SDISTS.values() for target in members.values()]
    if all((FOLDER / target).is_file() for target in wanted):
        return FOLDER
    try:
        with tempfile.TemporaryDirectory() as tmp:
            partial = Path(tmp) / "files"
            for requirement, (sha256, members) in SDISTS.items():
                _fetch(requirement, sha256, members, partial)
            CACHE.mkdir(exist_ok=True)
            shutil.rmtree(FOLDER, ignore_errors=True)
            shutil.copytree(partial, FOLDER)
    except (OSError, subprocess.SubprocessError, RuntimeError, tarfile.TarError) as exc:
        _unavailable(f"{type(exc).__name__}: {exc}")
    return FOLDER
