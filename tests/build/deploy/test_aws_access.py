"""build/deploy/aws_access.py: the region is found where users and Lambda set it."""
from __future__ import annotations

import pytest

from pym_lambda.build.deploy.aws_access import resolve_region
from pym_lambda.build.deploy.errors import DeployError


@pytest.fixture
def no_region(monkeypatch: pytest.MonkeyPatch, tmp_path) -> pytest.MonkeyPatch:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))  # no ~/.aws/config region
    return monkeypatch


@pytest.mark.parametrize("variable", ["AWS_REGION", "AWS_DEFAULT_REGION"])
def test_either_region_variable_is_enough(no_region: pytest.MonkeyPatch, variable: str) -> None:
    no_region.setenv(variable, "eu-west-3")
    assert resolve_region() == "eu-west-3"


def test_the_option_wins_and_none_at_all_is_one_clear_error(no_region) -> None:
    no_region.setenv("AWS_REGION", "eu-west-3")
    assert resolve_region("us-east-2") == "us-east-2"
    no_region.delenv("AWS_REGION")
    with pytest.raises(DeployError, match="no AWS region: set AWS_REGION"):
        resolve_region()


def test_a_region_given_as_aws_region_alone_reaches_chalice(tmp_path, monkeypatch) -> None:
    # boto3 (Chalice's packager and deployer) reads AWS_DEFAULT_REGION only: `package` with
    # AWS_REGION alone failed inside Chalice with NoRegionError
    import os

    from pym_lambda.build.deploy.prepare import DeployOptions, prepared
    from tests.build.deploy.deploy_fixtures import deploy_sandbox

    with deploy_sandbox(tmp_path, monkeypatch) as project:
        monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
        monkeypatch.setenv("AWS_REGION", "eu-west-3")
        with prepared(DeployOptions(project, "prod"), lambda line: None):
            assert os.environ["AWS_DEFAULT_REGION"] == "eu-west-3"
        assert "AWS_DEFAULT_REGION" not in os.environ  # put back as it was
