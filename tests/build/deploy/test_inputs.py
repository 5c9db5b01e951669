"""`pym-lambda deploy` on bad input, and --dry-run: a clear one-line error and exit 1, never a
traceback, and no AWS call before the problems that can be found without one."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from pym_lambda.build.deploy.cli import deploy

from .deploy_fixtures import (
    DLQ,
    JWT_PARAMETER,
    PROD_SECRET,
    QUEUE,
    REGION,
    STAGE,
    AwsCallCounter,
    allow_plain_jwt_secret,
    deploy_sandbox,
    invoke,
)


@pytest.fixture
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The example project, fake credentials, no moto: any AWS call would be counted (and
    fail)."""
    with deploy_sandbox(tmp_path, monkeypatch, in_process_moto=False) as project:
        monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
        yield project, AwsCallCounter().install(monkeypatch)


def forbid_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """A build (compile, load the app, package it) fails the test: the refusals come first."""
    def build(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("deploy built before refusing")

    monkeypatch.setattr("pym_lambda.build.deploy.prepare.prepared", build)


def run(project: Path, *args: str) -> Any:
    return invoke(deploy, "--stage", STAGE, "--project-dir", str(project), *args)


def assert_clean_failure(result: Any, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert message in result.output, result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("target", ["lambda", "beanstalk"])
def test_dry_run_prints_the_plan_and_makes_no_aws_call(offline: Any, target: str,
                                                        tmp_path: Path) -> None:
    project, counter = offline
    if target == "beanstalk":
        from .deploy_fixtures import copy_example

        project = copy_example(tmp_path / "with-infra", with_infra=True)
    result = run(project, "--dry-run", "--target", target)
    assert result.exit_code == 0, result.output
    assert f"queue {QUEUE} (visibility 360 s, to DLQ {DLQ} after 5 receives)" in result.output
    assert "dry run: stopped before any AWS call" in result.output
    if target == "lambda":
        assert "function pym-library-prod (app.app" in result.output
        assert "ReportBatchItemFailures" in result.output
    else:
        assert "Dockerfile and Dockerrun.aws.json at its root" in result.output
        assert "environment pym-library-prod: create or update" in result.output
        # the roles deploy will create, and the container's SQS rights, by queue name
        assert ("instance profile pym-library-prod-beanstalk-ec2: create or update its role "
                "(trusted by ec2.amazonaws.com): AWSElasticBeanstalkWebTier; inline policy "
                f"pym-lambda-container: consume {QUEUE}; send to {QUEUE}, {DLQ}; "
                "read SSM /pym-library/prod/jwt-secret") in result.output
        assert ("service role pym-library-beanstalk-service: create or update (trusted by "
                "elasticbeanstalk.amazonaws.com, shared by the app's stages): "
                "AWSElasticBeanstalkEnhancedHealth, "
                "AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy") in result.output
    # prod reads its secret from SSM at run time: nothing forwarded, nothing read now.
    assert "forwarded" not in result.output and "prod-secret" not in result.output
    assert counter.calls == []
    # The build wrote the compiled form the Lambda package needs.
    assert json.loads((project / "chalicelib" / "pym_compiled.json").read_text())["apis"]


def test_the_redrive_max_receive_count_comes_from_the_tasks_section(offline: Any) -> None:
    project, counter = offline
    config = project / "pym-config.yaml"
    config.write_text(config.read_text().replace(
        "  prod:\n", "  prod:\n    tasks:\n      max_receive_count: 9\n", 1))
    result = run(project, "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"queue {QUEUE} (visibility 360 s, to DLQ {DLQ} after 9 receives)" in result.output
    assert counter.calls == []


def test_an_unknown_stage_is_refused(offline: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    project, counter = offline
    forbid_build(monkeypatch)
    result = invoke(deploy, "--stage", "staging", "--project-dir", str(project), "--yes")
    assert_clean_failure(result, "error: build: unknown stage 'staging': .chalice/config.json "
                                 "defines dev, prod")
    assert counter.calls == []


def test_a_folder_that_is_no_chalice_project_is_refused(offline: Any, tmp_path: Path) -> None:
    result = invoke(deploy, "--stage", STAGE, "--project-dir", str(tmp_path), "--yes")
    assert_clean_failure(result, "no .chalice/config.json in")


def test_a_spec_that_does_not_compile_fails_the_build(offline: Any) -> None:
    project, counter = offline
    spec = project / "apis" / "library.yaml"
    spec.write_text(spec.read_text().replace("#/components/schemas/Book'",
                                             "#/components/schemas/Missing'", 1))
    result = run(project, "--yes")
    assert_clean_failure(result, "error: build: ")
    assert "spec problem(s)" in result.output and "Missing" in result.output
    assert counter.calls == []


def test_a_plain_secret_in_a_production_stage_is_refused_before_any_call(
        offline: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    project, counter = offline
    forbid_build(monkeypatch)
    config = project / "pym-config.yaml"
    config.write_text(config.read_text().replace(f"{{ssm: {JWT_PARAMETER}}}",
                                                 "{env: JWT_SECRET}"))
    result = run(project, "--yes")
    assert_clean_failure(result, "error: build: stage prod is a production stage and 1 plain "
                                 "secret(s) would be readable by anyone allowed "
                                 "lambda:GetFunctionConfiguration")
    assert "  - jwt.secret (JWT_SECRET, forwarded from this shell)" in result.output
    assert (f'aws ssm put-parameter --name {JWT_PARAMETER} --type SecureString '
            '--value "$JWT_SECRET"') in result.output
    assert "hint: a stage that is not production says so" in result.output
    assert PROD_SECRET not in result.output
    assert counter.calls == []


def test_a_secret_the_config_reads_must_be_set(offline: Any,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    project, counter = offline
    allow_plain_jwt_secret(project)
    monkeypatch.delenv("JWT_SECRET")
    forbid_build(monkeypatch)
    result = run(project, "--yes")
    assert_clean_failure(result, "error: build: stage prod: JWT_SECRET (pym-config.yaml "
                                 "jwt.secret) not set")
    assert counter.calls == []


NO_CREDENTIALS = "error: aws: no AWS credentials: set AWS_ACCESS_KEY_ID"
NO_REGION = "error: aws: no AWS region: set AWS_REGION"


CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


def without(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *names: str) -> None:
    """No AWS config files, none of `names` set, and no build allowed."""
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    for name in names:
        monkeypatch.delenv(name)
    forbid_build(monkeypatch)


@pytest.mark.parametrize("target", ["lambda", "beanstalk"])
@pytest.mark.parametrize("missing", ["credentials", "region"])
def test_missing_credentials_or_region_stop_before_the_build(
        offline: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, missing: str,
        target: str) -> None:
    project, counter = offline
    if missing == "credentials":
        without(monkeypatch, tmp_path, *CREDENTIALS)
        expected, other = NO_CREDENTIALS, NO_REGION
    else:
        without(monkeypatch, tmp_path, "AWS_DEFAULT_REGION")
        expected, other = NO_REGION, NO_CREDENTIALS
    result = run(project, "--yes", "--target", target)
    assert_clean_failure(result, expected)
    assert other not in result.output
    assert "[1/5] build" not in result.output
    assert counter.calls == []


def test_independent_problems_are_reported_together_before_the_build(
        offline: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    project, counter = offline
    without(monkeypatch, tmp_path, *CREDENTIALS, "AWS_DEFAULT_REGION")
    config = project / "pym-config.yaml"
    config.write_text(config.read_text().replace(f"{{ssm: {JWT_PARAMETER}}}",
                                                 "{env: JWT_SECRET}")
                      + "alarms:\n  enabled: true\n  period_seconds: 90\n")
    result = run(project, "--yes")
    assert_clean_failure(result, "error: build: stage prod is a production stage and 1 plain")
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert errors[1:] == [NO_REGION + " (or AWS_DEFAULT_REGION), pass --region, or set "
                          "region in ~/.aws/config", NO_CREDENTIALS + " and "
                          "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run `aws configure`"]
    assert "hint: a stage that is not production says so" in result.output
    assert counter.calls == []


def test_a_missing_app_py_and_the_compile_cache_switch_stop_before_the_build(
        offline: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    project, counter = offline
    without(monkeypatch, tmp_path)
    (project / "app.py").unlink()
    monkeypatch.setenv("PYM_NO_COMPILE_CACHE", "1")
    result = run(project, "--dry-run")
    assert_clean_failure(result, f"error: build: no app.py in {project.resolve()}\n"
                                 "error: build: PYM_NO_COMPILE_CACHE is set: unset it")
    assert counter.calls == []


def test_a_dry_run_needs_no_credentials_and_checks_the_rest_before_the_build(
        offline: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    project, counter = offline
    without(monkeypatch, tmp_path, *CREDENTIALS, "AWS_DEFAULT_REGION")
    result = run(project, "--dry-run", "--target", "beanstalk")
    assert "deploy built before refusing" in result.output, result.output  # none refused
    result = run(project, "--dry-run")  # Lambda's packager needs the region
    assert_clean_failure(result, NO_REGION)
    assert NO_CREDENTIALS not in result.output
    assert counter.calls == []


def test_a_queue_with_a_conflicting_configuration_stops_before_chalice(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with deploy_sandbox(tmp_path, monkeypatch) as project:
        counter = AwsCallCounter().install(monkeypatch)
        sqs = boto3.client("sqs", region_name=REGION)
        other = sqs.create_queue(QueueName="someone-elses-dlq")["QueueUrl"]
        other_arn = sqs.get_queue_attributes(QueueUrl=other, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        sqs.create_queue(QueueName=QUEUE, Attributes={"RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": other_arn, "maxReceiveCount": 3})})
        result = run(project, "--yes", "--skip-verify")
        assert_clean_failure(result, "error: queues: queue configuration conflict: "
                                     f"{QUEUE}: RedrivePolicy sends to someone-elses-dlq")
        assert f"queue {QUEUE}" in result.output  # what exists is listed
        assert boto3.client("lambda", region_name=REGION).list_functions()["Functions"] == []
        assert "GetQueueUrl" in counter.calls  # the hook the offline tests rely on counts


def test_verify_checks_ping_and_version_and_gives_up_at_a_deadline() -> None:
    from pym_lambda.build.deploy.errors import DeployError
    from pym_lambda.build.deploy.verify import verify_service

    from .deploy_fixtures import ping_server

    with ping_server() as address:
        assert verify_service(f"http://{address}/", ("/ping",)) == [
            f"GET http://{address}/ping -> 200 {{}}"]
        with pytest.raises(DeployError) as failed:
            verify_service(f"http://{address}", ("/ping", "/version"), deadline_seconds=0)
    assert str(failed.value) == (f"verify: GET http://{address}/version answered 404: "
                                 "{'error': 'UNKNOWN_PATH'}")
    assert "rollback" in failed.value.hint


def test_the_runtime_never_imports_the_deploy_code() -> None:
    import subprocess
    import sys

    from .deploy_fixtures import ROOT

    code = ("import sys, pym_lambda, pym_lambda.runtime.app, pym_lambda.tasks.worker; "
            "print([m for m in sys.modules if m.startswith('pym_lambda.build')])")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True, timeout=60).stdout
    assert out.strip() == "[]"


def test_deploy_acceptance_runs_the_tests_against_the_deployed_url(monkeypatch, tmp_path):
    """--acceptance hands the deployed URL to the acceptance runner; a failure fails verify."""
    from types import SimpleNamespace

    from pym_lambda.build import acceptance_runner as acceptance
    from pym_lambda.build.deploy.cli import run_acceptance
    from pym_lambda.build.deploy.errors import DeployError
    from pym_lambda.build.deploy.prepare import DeployOptions

    calls = []
    monkeypatch.setattr(acceptance, "run_acceptance_tests",
                        lambda root, **kw: calls.append((root, kw)) or (1 if kw["url"] ==
                                                                       "http://bad" else 0))
    options = DeployOptions(tmp_path, "prod")
    lines = []
    run_acceptance(options, SimpleNamespace(api_url="https://x.example/api/"), lines.append)
    assert calls[-1] == (tmp_path, {"url": "https://x.example/api/", "stage": "prod"})
    assert lines[-1] == "acceptance tests passed"
    with pytest.raises(DeployError, match="acceptance tests failed"):
        run_acceptance(options, SimpleNamespace(api_url="http://bad"), lines.append)
    with pytest.raises(DeployError, match="no deployed URL"):
        run_acceptance(options, SimpleNamespace(api_url=None), lines.append)
