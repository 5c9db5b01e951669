"""What the Lambda package gets of pym_lambda (vendor/), and the requirements.txt lines the
build asks for: decided by what the project installs and uses, never by text in a comment."""
from __future__ import annotations

from pathlib import Path

import pytest

from pym_lambda.build.deploy.build import build_project, project_imports
from pym_lambda.build.deploy.errors import DeployError
from pym_lambda.build.deploy.vendor import (
    LEFT_OUT,
    below_floor,
    framework_root,
    read_requirements,
    runtime_files,
    wall_problems,
)

from .deploy_fixtures import PROD_SECRET, copy_example, framework_state_sandbox

RSA_PUBLIC_KEY = """-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo
4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u
+qKhbwKfBstIs+bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyeh
kd3qqGElvW/VDL5AaWTg0nLVkjRo9z+40RQzuVaE8AkAFmxZzow3x+VJYKdjykkJ
0iT9wCS0DRTXu269V264Vf/3jvredZiKRkgwlL9xNAwxXFg0x/XFw005UWVRIkdg
cKWTjpBP2dPwVZ4WWC+9aGVd+Gyn1o0CLelf4rEjGoXbAAEgAqeGUxrcIlbjXfbc
mwIDAQAB
-----END PUBLIC KEY-----"""


def build(project: Path, stage: str = "prod") -> object:
    with framework_state_sandbox(), project_imports(project):
        return build_project(project, stage)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("JWT_SECRET", PROD_SECRET)
    monkeypatch.delenv("PYM_APP_NAME", raising=False)
    return copy_example(tmp_path / "svc")


def test_the_example_gets_the_runtime_although_its_requirements_mention_pym_lambda(
        project: Path) -> None:
    text = (project / "requirements.txt").read_text()
    assert "pym-lambda" in text or "pym_lambda" in text  # in a comment: not a requirement
    result = build(project)
    vendored = project / "vendor" / "pym_lambda"
    assert result.framework.vendored  # type: ignore[attr-defined]
    assert (vendored / "runtime" / "app.py").is_file()
    assert (vendored / "tasks" / "worker.py").is_file()
    for left_out in ("build", "testing"):  # deploy, CLI, scaffold, local service; the plugin
        assert not (vendored / left_out).exists(), left_out
    # The runtime's WSGI adapter and SQS poller (the Beanstalk container's) ship too: small.
    assert (vendored / "wsgi" / "__init__.py").is_file()
    assert (vendored / "tasks" / "poller.py").is_file()
    # prod disables /doc (pym-config.yaml): the 3 MB of page assets stay out, the routes too
    assert not (vendored / "docs" / "static").exists()
    assert (vendored / "docs" / "routes.py").is_file()
    assert not list(vendored.rglob("__pycache__"))


def test_a_stage_with_the_docs_page_gets_its_assets(project: Path) -> None:
    build(project, "dev")
    assert (project / "vendor" / "pym_lambda" / "docs" / "static" / "pym-docs.js").is_file()


def test_a_pinned_pym_lambda_distribution_is_installed_by_chalice_not_copied(
        project: Path) -> None:
    build(project)
    assert (project / "vendor" / "pym_lambda").is_dir()
    (project / "requirements.txt").write_text("pym-lambda==0.1.0\n")
    result = build(project)
    assert not result.framework.vendored  # type: ignore[attr-defined]
    assert not (project / "vendor" / "pym_lambda").exists()  # no stale copy shadowing it


def test_a_missing_runtime_dependency_fails_the_build_naming_the_line(project: Path) -> None:
    (project / "requirements.txt").write_text("requests>=2.31\n")
    with pytest.raises(DeployError) as caught:
        build(project)
    assert caught.value.step == "build"
    assert "pyjwt" in caught.value.message and "requests" not in caught.value.message.split(
        "lacks")[1].split("(")[0]
    assert "requirements.txt" in caught.value.hint


def test_asymmetric_keys_need_pyjwt_crypto(project: Path) -> None:
    config = (project / "pym-config.yaml").read_text()
    config = config.replace("  secret: {env: JWT_SECRET}\n  algorithms: [HS256]\n",
                            "  public_key: |\n"
                            + "".join(f"    {line}\n" for line in RSA_PUBLIC_KEY.splitlines())
                            + "  algorithms: [RS256]\n")
    assert "RS256" in config
    (project / "pym-config.yaml").write_text(config)
    with pytest.raises(DeployError, match=r"pyjwt\[crypto\] \(pym-config.yaml jwt"):
        build(project)
    (project / "requirements.txt").write_text("pyjwt[crypto]>=2.15\nrequests\ngoogle-re2\n")
    build(project)
    (project / "requirements.txt").write_text("PyJWT>=2.15\ncryptography\nrequests\ngoogle-re2\n")
    build(project)


def test_requirements_are_read_as_pip_reads_them(tmp_path: Path) -> None:
    (tmp_path / "base.txt").write_text("PyJWT[crypto] >= 2.8  # signed tokens\n")
    (tmp_path / "requirements.txt").write_text(
        "# pym-lambda is vendored, not listed\n"
        "--index-url https://example.invalid/simple\n"
        "-r base.txt\n"
        "requests>=2.31 ; python_version >= '3.8'\n"
        "Py_YAML \\\n  >=6\n")
    found = read_requirements(tmp_path / "requirements.txt")
    assert found == {"pyjwt": frozenset({"crypto"}), "requests": frozenset(),
                     "py-yaml": frozenset()}
    (tmp_path / "requirements.txt").write_text("requests\nthis is not a requirement\n")
    with pytest.raises(DeployError, match="requirements.txt: line 2"):
        read_requirements(tmp_path / "requirements.txt")


def test_no_copied_module_imports_one_left_out_of_the_package() -> None:
    root = framework_root()
    files = runtime_files(root, with_docs_assets=False)
    assert wall_problems(root, files) == []
    names = {str(f) for f in files}
    assert "runtime/app.py" in names and "tasks/record_processing.py" in names
    assert not any(n.startswith(tuple(LEFT_OUT)) for n in names)


def test_a_runtime_module_importing_build_time_code_is_caught(tmp_path: Path) -> None:
    root = tmp_path / "pym_lambda"
    (root / "build" / "deploy").mkdir(parents=True)
    (root / "runtime").mkdir()
    for name in ("__init__.py", "build/__init__.py", "build/deploy/__init__.py",
                 "build/deploy/plan.py", "runtime/__init__.py"):
        (root / name).write_text("")
    (root / "runtime" / "app.py").write_text(
        "def later():\n    from ..build.deploy.plan import lambda_plan\n")
    files = runtime_files(root, with_docs_assets=False)
    assert [str(f) for f in files] == ["__init__.py", "runtime/__init__.py", "runtime/app.py"]
    [problem] = wall_problems(root, files)
    assert "runtime/app.py imports pym_lambda.build.deploy" in problem


@pytest.mark.parametrize("line, refused", [
    ("pyjwt>=2.8", True), ("PyJWT[crypto] >= 2.14.0", True), ("pyjwt", True),
    ("pyjwt<3", True), ("pyjwt==2.13.0", True), ("pyjwt>=2.15", False),
    ("pyjwt[crypto]>=2.8,>=2.15.1", False), ("pyjwt==2.15.*", False), ("pyjwt~=2.16", False),
    ("requests", False)])
def test_pyjwt_must_be_bounded_above_the_versions_that_crash_on_crafted_tokens(
        tmp_path: Path, line: str, refused: bool) -> None:
    # pyjwt < 2.15 lets RecursionError/OverflowError out of decode() on crafted tokens
    (tmp_path / "requirements.txt").write_text(line + "\n")
    assert bool(below_floor(tmp_path / "requirements.txt")) is refused


def test_spec_patterns_need_google_re2(project: Path) -> None:
    # the example's spec has two `pattern`s: the Lambda searches them with RE2
    (project / "requirements.txt").write_text("pyjwt>=2.15\nrequests>=2.31\npyyaml>=6\n")
    with pytest.raises(DeployError, match=r"google-re2 \(2 spec regex\(es\)"):
        build(project)
