"""Fixtures shared by the deploy tests' modules (helpers are in deploy_fixtures.py and
lambda_package.py)."""
from __future__ import annotations

import pytest

from .deploy_fixtures import PROD_SECRET, STAGE, copy_example
from .lambda_package import ExamplePackage, build


@pytest.fixture(scope="session")
def example_package(tmp_path_factory: pytest.TempPathFactory) -> ExamplePackage:
    """The example's prod package, built once by `pym-lambda package` for the modules that
    only read it (test_artifact.py, test_bytecode.py): a build is the longest step of both."""
    project = copy_example(tmp_path_factory.mktemp("example-package") / "service")
    return ExamplePackage(project, build(project, project.parent / "out", STAGE,
                                         JWT_SECRET=PROD_SECRET))
