"""The Lambda package ships bytecode for the functions' Python, reproducibly, and nothing the
runtime never reads; the package check proves the bytecode is what runs.

The example's package is built by `pym-lambda package --stage prod` (a subprocess, as a user
runs it), then read as a zip, unpacked into var/task and imported as Lambda imports it
(`python -I -S -B`, only boto3 and its dependencies beside the task root).
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any, Dict, List, cast

import pytest

from pym_lambda.build.deploy.artifact import find_interpreter, runtime_libraries, unpack
from pym_lambda.build.deploy.artifact_check import check_package
from pym_lambda.build.deploy.bytecode import compile_tree
from pym_lambda.build.deploy.package_zip import finish, unused
from pym_lambda.build.deploy.vendor import framework_root

from .deploy_fixtures import PROD_SECRET, STAGE
from .lambda_package import Built, ExamplePackage, build, clean_environ, pym_lambda_command

RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"  # Chalice's, for deploy
TAG = sys.implementation.cache_tag  # cpython-311
UNCHECKED_HASH_FLAGS = (0b01).to_bytes(4, "little")  # PEP 552: hash-based, not checked


@pytest.fixture(scope="module")
def project(example_package: ExamplePackage) -> Path:
    return example_package.project


@pytest.fixture(scope="module")
def built(example_package: ExamplePackage) -> Built:
    return example_package.built


def members(package: Path) -> Dict[str, bytes]:
    with zipfile.ZipFile(package) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def pyc_of(source: str, tag: str = TAG) -> str:
    folder, _, name = source.rpartition("/")
    return (f"{folder}/" if folder else "") + f"__pycache__/{name[:-3]}.{tag}.pyc"


def test_every_shipped_source_has_its_bytecode_for_the_runtime(built: Built) -> None:
    files = members(built.zip)
    sources = [name for name in files if name.endswith(".py")]
    assert len(sources) > 100 and "app.py" in sources
    assert any(s.startswith("chalicelib/") for s in sources)
    assert any(s.startswith("pym_lambda/runtime/") for s in sources)
    assert any(s.startswith("jwt/") for s in sources)  # a dependency Chalice installed
    before_bundle = {"pym_lambda/__init__.py", "pym_lambda/cold_start.py"}  # install it
    bundled = [s for s in sources if s.startswith("pym_lambda/") and s not in before_bundle]
    assert len(bundled) > 50  # their bytecode is in pym_lambda's bundle (the next test)
    for source in sorted(set(sources) - set(bundled)):
        pyc = files.get(pyc_of(source))
        assert pyc is not None, f"{source} has no {TAG} bytecode"
        assert pyc[:4] == importlib.util.MAGIC_NUMBER, source
        assert pyc[4:8] == UNCHECKED_HASH_FLAGS, source
        # the hash is the shipped source's: this bytecode was compiled from it
        assert pyc[8:16] == importlib.util.source_hash(files[source]), source
    pycs = [name for name in files if name.endswith(".pyc")]
    # no other Python's, no stray bytecode, and a bundled module's only in the bundle
    assert len(pycs) == len(sources) - len(bundled)


def test_the_zip_is_written_reproducibly(built: Built) -> None:
    with zipfile.ZipFile(built.zip) as archive:
        infos = archive.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} <= {0o100644, 0o100755}


def test_what_the_runtime_never_reads_is_left_out(built: Built) -> None:
    names = list(members(built.zip))
    assert not [n for n in names if n.endswith((".pyi", "py.typed"))]
    assert not [n for n in names if n.endswith(".dist-info/RECORD")]
    assert any(n.endswith(".dist-info/METADATA") for n in names)  # importlib.metadata reads it
    assert any(n.endswith(".dist-info/WHEEL") for n in names)  # the platform it was built for
    assert any("/licenses/" in n or n.endswith("LICENSE") for n in names)  # kept, as required
    assert not [n for n in names if n.startswith("pym_lambda/wsgi/")]  # Beanstalk's
    assert not [n for n in names if n.startswith("chalicelib/pym_apis/")]  # prod: no /doc
    assert "chalicelib/pym_compiled.json" in names
    assert (framework_root() / "wsgi").is_dir()  # what the rule names still exists


def test_two_builds_give_the_same_bytes_and_deploy_ships_them(built: Built,
                                                              project: Path) -> None:
    deployments = project / ".chalice" / "deployments"
    cached = list(deployments.glob("*.zip"))
    assert [p.read_bytes() for p in cached] == [built.zip.read_bytes()]  # what deploy reuses
    # Chalice's own zip is kept, and each build finishes it, never an earlier build's output
    original = members(deployments / "chalice" / cached[0].name)
    assert "jwt/py.typed" in original and not [n for n in original if n.endswith(".pyc")]
    with zipfile.ZipFile(cached[0], "w") as stale:  # say, finished by other rules
        stale.writestr("app.py", "")
    again = build(project, project.parent / "again", STAGE, JWT_SECRET=PROD_SECRET)
    assert again.zip.read_bytes() == built.zip.read_bytes()
    shutil.rmtree(deployments / "chalice")  # a cache finished before originals were kept
    shutil.copyfile(built.zip, cached[0])
    kept = build(project, project.parent / "kept", STAGE, JWT_SECRET=PROD_SECRET)
    assert kept.zip.read_bytes() == built.zip.read_bytes()
    assert members(deployments / "chalice" / cached[0].name) == original  # Chalice's, again
    shutil.rmtree(deployments)  # Chalice builds its zip anew
    fresh = build(project, project.parent / "fresh", STAGE, JWT_SECRET=PROD_SECRET)
    assert fresh.zip.read_bytes() == built.zip.read_bytes()


def run_import(task_root: Path, libraries: Path) -> subprocess.CompletedProcess[str]:
    code = f"import sys; sys.path[:0] = ['.']; sys.path.append({str(libraries)!r}); import app"
    environ = {"PATH": os.environ.get("PATH", ""), "PYM_APP_NAME": "pym-library",
               "PYM_STAGE": STAGE, "AWS_DEFAULT_REGION": "us-east-1"}
    return subprocess.run([sys.executable, "-I", "-S", "-B", "-c", code], cwd=task_root,
                          env=environ, capture_output=True, text=True, timeout=120)


def test_the_import_runs_the_shipped_bytecode_not_the_source(built: Built,
                                                             tmp_path: Path) -> None:
    task_root = unpack(built.zip, tmp_path)
    libraries, missing = runtime_libraries(tmp_path / "runtime")
    assert missing == ()
    before = sorted(p.relative_to(task_root) for p in task_root.rglob("*"))
    # a source changed after the build: the importer must not even read it
    app = task_root / "app.py"
    app.write_text(app.read_text() + "\nraise RuntimeError('the source was compiled')\n")
    run = run_import(task_root, libraries)
    assert run.returncode == 0, run.stderr
    assert sorted(p.relative_to(task_root) for p in task_root.rglob("*")) == before
    shutil.rmtree(task_root / "__pycache__")
    run = run_import(task_root, libraries)
    assert run.returncode != 0 and "the source was compiled" in run.stderr


def test_the_package_check_proves_every_module_came_from_bytecode(built: Built,
                                                                  tmp_path: Path) -> None:
    check = check_package(built.zip, built.sam)
    assert check.passed, check.problems or check.skipped
    for function in check.functions:
        assert function.modules > 50 and function.compiled_from_source == ()
    # a package whose bytecode is not used fails the check, naming the module
    task_root = unpack(built.zip, tmp_path)
    (task_root / "chalicelib" / "__pycache__" / f"library.{TAG}.pyc").unlink()
    check = check_package(task_root, built.sam)
    assert any("compiled from source at the cold start" in p and "chalicelib/library.py" in p
               for p in check.problems), check.problems


def other_runtime() -> str:
    """A python3.X that is not this Python's version and that this machine lacks."""
    minor = 14 if sys.version_info[:2] != (3, 14) else 13
    return f"python3.{minor}"


def test_a_runtime_without_its_interpreter_ships_sources_and_says_why(
        built: Built, project: Path, tmp_path: Path) -> None:
    runtime = other_runtime()
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "out"
    environ = clean_environ(JWT_SECRET=PROD_SECRET, PATH=str(empty), PYENV_ROOT=str(empty))
    run = subprocess.run([*pym_lambda_command(), "package", "--stage", STAGE, "--out", str(out),
                          "--runtime", runtime], cwd=project, env=environ,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = [line for line in run.stdout.splitlines() if "bytecode" in line]
    assert len(lines) == 1 and lines[0].startswith(
        f"package: bytecode skipped: no {runtime} on PATH (nor in pyenv) to run the package as "
        f"the {runtime} runtime does; the package ships sources only, compiled at every cold "
        "start; left out: ")
    names = list(members(out / "deployment.zip"))
    assert "app.py" in names and not [n for n in names if "__pycache__" in n]
    # the zip Chalice cached (what deploy ships, for this Python) still has its bytecode
    cached = list((project / ".chalice" / "deployments").glob("*.zip"))
    assert cached and all(pyc_of("app.py") in members(p) for p in cached)


# --- the pieces, on small trees -----------------------------------------------------------------

def write_tree(root: Path, files: Dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_another_runtime_is_compiled_by_its_own_interpreter(tmp_path: Path) -> None:
    found = [find_interpreter(f"python3.{m}") for m in range(10, 15)
             if (3, m) != sys.version_info[:2]]
    other = next((i for i in found if i.available), None)
    if other is None or other.executable is None:
        pytest.skip("no Python of another version here")
    write_tree(tmp_path, {"mod.py": "VALUE = 1\n", "pkg/__init__.py": "",
                          "pkg/broken.py": "def (:\n"})
    result = compile_tree(tmp_path, other.runtime)
    assert result.compiled == 2 and [p for p, _ in result.failed] == ["pkg/broken.py"]
    probe = subprocess.run([other.executable, "-I", "-S", "-c",
                            "import importlib.util, sys; print(sys.implementation.cache_tag); "
                            "print(importlib.util.MAGIC_NUMBER.hex())"],
                           capture_output=True, text=True, check=True).stdout.split()
    tag, magic = probe[0], bytes.fromhex(probe[1])
    assert magic != importlib.util.MAGIC_NUMBER
    pyc = (tmp_path / "__pycache__" / f"mod.{tag}.pyc").read_bytes()
    assert pyc[:4] == magic and pyc[4:8] == UNCHECKED_HASH_FLAGS
    assert not list(tmp_path.rglob(f"*.{TAG}.pyc"))  # never this Python's bytecode


def make_zip(path: Path, files: Dict[str, str], order: List[str]) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name in order:
            archive.writestr(zipfile.ZipInfo(name, (2024, 5, 17, 12, 0, 0)), files[name])


def test_finishing_is_independent_of_member_order_dates_and_earlier_finishing(
        tmp_path: Path) -> None:
    files = {"app.py": "import lib\n", "lib/__init__.py": "X = 1\n", "lib/py.typed": "",
             "lib-1.0.dist-info/RECORD": "lib/__init__.py,,\n",
             "lib-1.0.dist-info/METADATA": "Name: lib\n"}
    one, two = tmp_path / "one.zip", tmp_path / "two.zip"
    make_zip(one, files, sorted(files))
    make_zip(two, files, sorted(files, reverse=True))
    first = finish(one, RUNTIME, docs_enabled=False)
    finish(two, RUNTIME, docs_enabled=False)
    assert one.read_bytes() == two.read_bytes()
    assert first.bytecode.compiled == 2
    assert first.removed == {"type-checker files": (1, 0), "installer records": (1, 18)}
    before = one.read_bytes()
    again = finish(one, RUNTIME, docs_enabled=False)  # Chalice's cached zip, reused
    assert one.read_bytes() == before and again.bytecode.compiled == 2
    assert sorted(members(one)) == sorted([
        f"__pycache__/app.{TAG}.pyc", "app.py", "lib-1.0.dist-info/METADATA",
        "lib/__init__.py", f"lib/__pycache__/__init__.{TAG}.pyc"])


def test_the_specs_as_written_ship_only_when_the_stage_serves_the_docs() -> None:
    assert unused("chalicelib/pym_apis/library.yaml", docs_enabled=True) is None
    assert unused("chalicelib/pym_apis/library.yaml", docs_enabled=False)
    assert unused("chalicelib/pym_compiled.json", docs_enabled=False) is None
    assert unused("yaml-6.0.dist-info/METADATA", docs_enabled=False) is None


COLD_START_PROBE = """
import gc, json, sys
collections = []
gc.callbacks.append(lambda phase, info: collections.append(gc.get_threshold()[0])
                    if phase == "start" else None)  # the threshold each collection ran under
sys.path[:0] = ["."]
sys.path.append(sys.argv[1])
import app
from pym_lambda.cold_start import BundleFinder
import pym_lambda.errors
bundled = sorted(name for name, module in sys.modules.items()
                 if isinstance(getattr(getattr(module, "__spec__", None), "loader", None),
                               BundleFinder))
print(json.dumps({"bundled": bundled, "collections": collections,
                  "threshold": gc.get_threshold(), "frozen": gc.get_freeze_count(),
                  "router_file": sys.modules["pym_lambda.runtime.router"].__file__,
                  "code_file": pym_lambda.errors.SpecError.__init__.__code__.co_filename,
                  "app_loader": type(sys.modules["app"].__spec__.loader).__name__}))
"""


def test_pym_lambdas_modules_are_read_from_one_bundle_and_no_collection_runs_at_the_cold_start(
        built: Built, tmp_path: Path) -> None:
    """cold_start.py on the shipped package, as Lambda imports it: pym_lambda's modules come
    from pym_lambda/_modules.bundle (the same code as their pycs, files named where they are),
    and the garbage collector waits until create_app() ends, then is as it was."""
    import gc
    import json
    import marshal

    from pym_lambda.cold_start import BUNDLE_FILE, HELD_THRESHOLD, read_bundle_index

    files = members(built.zip)
    bundle = files[f"pym_lambda/{BUNDLE_FILE}"]
    task_root = unpack(built.zip, tmp_path)
    fd = os.open(task_root / "pym_lambda" / BUNDLE_FILE, os.O_RDONLY)
    try:
        index = read_bundle_index(fd)
    finally:
        os.close(fd)
    assert index is not None
    shipped = {name[:-3].replace("/", ".").removesuffix(".__init__") for name in files
               if name.startswith("pym_lambda/") and name.endswith(".py")}
    assert set(index) == shipped - {"pym_lambda", "pym_lambda.cold_start"}  # they install it
    for name, (is_package, source, offset, length) in index.items():
        # the bytecode of the shipped source, compiled for this runtime as its pyc would be
        code = marshal.loads(bundle[offset:offset + length])
        assert code == compile(files[source], "/var/task/" + source, "exec",
                               dont_inherit=True), name
        assert code.co_filename == "/var/task/" + source
        assert is_package == source.endswith("/__init__.py")
        assert pyc_of(source) not in files  # its bytecode ships once
    libraries, missing = runtime_libraries(tmp_path / "runtime")
    assert missing == ()
    environ = {"PATH": os.environ.get("PATH", ""), "PYM_APP_NAME": "pym-library",
               "PYM_STAGE": STAGE, "AWS_DEFAULT_REGION": "us-east-1"}

    def probe(**more: str) -> Dict[str, Any]:
        run = subprocess.run([sys.executable, "-I", "-S", "-B", "-c", COLD_START_PROBE,
                              str(libraries)], cwd=task_root, env={**environ, **more},
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        return cast(Dict[str, Any], json.loads(run.stdout.splitlines()[-1]))

    seen = probe(AWS_LAMBDA_FUNCTION_NAME="pym-library-prod")
    assert len(seen["bundled"]) > 40 and "pym_lambda.runtime.router" in seen["bundled"]
    assert seen["router_file"] == str(task_root / "pym_lambda" / "runtime" / "router.py")
    assert seen["code_file"] == str(task_root / "pym_lambda" / "errors.py")
    assert seen["app_loader"] != "BundleFinder"  # the project's own modules: their pycs
    # none while the framework and the app were built (task_workers' may run after)
    assert HELD_THRESHOLD not in seen["collections"]
    assert tuple(seen["threshold"]) == gc.get_threshold()  # put back
    assert seen["frozen"] > 10_000  # what the cold start made, never walked again
    outside = probe()  # not on Lambda: the collector is left alone
    assert outside["frozen"] == 0 and len(outside["collections"]) > 10
    assert set(outside["collections"]) == {gc.get_threshold()[0]}
    assert len(seen["collections"]) * 3 < len(outside["collections"])
