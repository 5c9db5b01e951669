"""pym_lambda/cold_start.py: the module bundle's format and finder, and the collector held
off while a Lambda cold start builds the app. The shipped package is tested in
tests/build/deploy/test_bytecode.py; here, the parts on their own."""
from __future__ import annotations

import gc
import importlib.util
import marshal
import subprocess
import sys
from pathlib import Path
from typing import List, Tuple

import pytest

from pym_lambda import cold_start

SOURCES = {"pkg/__init__.py": "VALUE = 1\n",
           "pkg/sub.py": "def boom():\n    raise ValueError('x')\n",
           "pkg/inner/__init__.py": "",
           "pkg/inner/leaf.py": "from .. import VALUE\nDOUBLE = 2 * VALUE\n"}


def make_bundle(root: Path, magic: bytes = importlib.util.MAGIC_NUMBER) -> bytes:
    modules: List[Tuple[str, bool, str, bytes]] = []
    for relative, text in SOURCES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        code = compile(text, "/var/task/" + relative, "exec")
        name = relative[:-3].replace("/", ".").removesuffix(".__init__")
        if name != "pkg":
            modules.append((name, relative.endswith("__init__.py"), relative,
                            marshal.dumps(code)))
    return cold_start.write_bundle(magic, modules)


def test_the_same_modules_give_the_same_bundle_whatever_their_order(tmp_path: Path) -> None:
    data = make_bundle(tmp_path)
    modules = [("b", False, "b.py", b"2"), ("a", True, "a/__init__.py", b"1")]
    assert cold_start.write_bundle(b"MAGI", modules) == \
        cold_start.write_bundle(b"MAGI", list(reversed(modules)))
    assert data == make_bundle(tmp_path / "again")


def run_isolated(tmp_path: Path, code: str) -> str:
    run = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, "
                          f"{str(tmp_path)!r}); {code}"], capture_output=True, text=True,
                         cwd=tmp_path, timeout=60)
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def test_a_bundle_serves_its_modules_named_as_their_files(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / cold_start.BUNDLE_FILE).write_bytes(make_bundle(tmp_path))
    # what pym_lambda/__init__.py does, for a package of its own
    (tmp_path / "pkg" / "__init__.py").write_text(
        "from pym_lambda.cold_start import install_bundle\n"
        "FINDER = install_bundle(__file__)\nVALUE = 1\n")
    out = run_isolated(tmp_path, (
        "sys.path.insert(1, " + repr(str(Path(cold_start.__file__).parents[1])) + "); "
        "import traceback, pkg, pkg.sub, pkg.inner.leaf; "
        "assert pkg.FINDER is not None and pkg.inner.leaf.DOUBLE == 2; "
        "assert type(pkg.sub.__spec__.loader).__name__ == 'BundleFinder'; "
        "assert pkg.inner.__path__ == [str(__import__('pathlib').Path(pkg.__file__).parent"
        " / 'inner')]\n"
        "try:\n    pkg.sub.boom()\nexcept ValueError:\n    print(traceback.format_exc())"))
    # the traceback names the file where it is and shows its line, as from a pyc
    assert f'File "{tmp_path / "pkg" / "sub.py"}", line 2, in boom' in out
    assert "raise ValueError('x')" in out


@pytest.mark.parametrize("content", [b"", b"not a bundle at all", b"PYMB\x05\x00\x00\x00junk"])
def test_no_finder_for_what_is_no_bundle(tmp_path: Path, content: bytes) -> None:
    (tmp_path / cold_start.BUNDLE_FILE).write_bytes(content)
    before = list(sys.meta_path)
    assert cold_start.install_bundle(str(tmp_path / "__init__.py")) is None
    assert sys.meta_path == before


def test_no_finder_for_a_bundle_of_another_python(tmp_path: Path) -> None:
    (tmp_path / cold_start.BUNDLE_FILE).write_bytes(make_bundle(tmp_path, magic=b"\x00\x01\r\n"))
    assert cold_start.install_bundle(str(tmp_path / "__init__.py")) is None
    assert cold_start.install_bundle(str(tmp_path / "missing" / "__init__.py")) is None


def test_collections_are_held_on_lambda_only_and_released_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    threshold = gc.get_threshold()
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    cold_start.hold_collections()
    assert gc.get_threshold() == threshold  # not on Lambda: untouched
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "f")
    frozen = gc.get_freeze_count()
    try:
        cold_start.hold_collections()
        assert gc.get_threshold()[0] == cold_start.HELD_THRESHOLD
        cold_start.hold_collections()  # held once: the thresholds kept are the real ones
    finally:
        cold_start.release_collections()
    assert gc.get_threshold() == threshold
    assert gc.get_freeze_count() > frozen
    gc.unfreeze()  # this test process's objects stay collectable
    cold_start.release_collections()  # nothing held: nothing done
    assert gc.get_freeze_count() == 0
