"""`deploy --target beanstalk` rehearsed on moto in process. moto's Elastic Beanstalk lacks
create_application_version, update_environment and terminate_environment: a botocore Stubber
answers those three (and checks what they are sent); moto answers the rest, IAM included.
Beanstalk turning Green (or Terminated) is played by setting moto's environment while the
deploy (or delete) waits."""
from __future__ import annotations

import functools
import io
import json
import zipfile
from pathlib import Path
from typing import Any, Dict, List

import boto3
import pytest
from botocore.exceptions import ClientError

from pym_lambda.aws import aws_client
from pym_lambda.build.deploy import beanstalk_target
from pym_lambda.build.deploy.aws_access import check_access
from pym_lambda.build.deploy.beanstalk_iam import (
    INLINE_POLICY,
    INSTANCE_POLICIES,
    SERVICE_POLICIES,
    stage_access,
)
from pym_lambda.build.deploy.permissions import Arns, container_statements, document
from pym_lambda.build.deploy.plan import EnsureQueues
from pym_lambda.build.deploy.prepare import DeployOptions, prepared
from pym_lambda.build.deploy.teardown import run_delete

from .deploy_fixtures import (
    APP,
    BUCKET,
    DLQ,
    PROD_SECRET,
    QUEUE,
    REGION,
    STAGE,
    HalfStubbedClient,
    clients_with,
    deploy_sandbox,
    ping_server,
    set_moto_environment,
)

ENV = f"{APP}-{STAGE}"
PROFILE = f"{APP}-{STAGE}-beanstalk-ec2"
SERVICE_ROLE = f"{APP}-beanstalk-service"


def bundle_names(key: str) -> List[str]:
    body = boto3.client("s3", region_name=REGION).get_object(Bucket=BUCKET, Key=key)["Body"]
    return zipfile.ZipFile(io.BytesIO(body.read())).namelist()


class IamCalls:
    """The IAM API calls a client makes (botocore's before-call event)."""

    WRITES = ("Create", "Put", "Attach", "Update", "Add", "Tag", "Delete", "Remove", "Detach")

    def __init__(self, iam: Any) -> None:
        self.calls: List[str] = []
        iam.meta.events.register("before-call.iam.*", self._record)

    def _record(self, model: Any = None, **_: Any) -> None:
        self.calls.append(model.name)

    def writes(self) -> List[str]:
        return [c for c in self.calls if c.startswith(self.WRITES)]


def spy_on(client: Any, operation: str) -> List[Dict[str, Any]]:
    """The parameters of each `operation` call the client makes."""
    seen: List[Dict[str, Any]] = []
    client.meta.events.register(f"provide-client-params.elasticbeanstalk.{operation}",
                                lambda params, **_: seen.append(dict(params)))
    return seen


def setting(settings: List[Dict[str, str]], namespace: str, name: str) -> str:
    return next(s["Value"] for s in settings
                if s["Namespace"] == namespace and s["OptionName"] == name)


def resources(statements: List[Dict[str, Any]]) -> List[str]:
    return sorted({r for s in statements for r in (
        [s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])})


def terminate_stub(eb: HalfStubbedClient) -> None:
    eb.stubber.add_response("terminate_environment",
                            {"EnvironmentName": ENV, "Status": "Terminating"},
                            {"EnvironmentName": ENV, "TerminateResources": True})


def terminated(_seconds: float) -> None:  # what Beanstalk does while delete waits
    set_moto_environment(APP, ENV, status="Terminated")


@functools.lru_cache(maxsize=1)
def beanstalk_managed_policies() -> str:
    """moto's copy of the AWS managed policies that deploy attaches to the Beanstalk roles."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    every = json.loads(aws_managed_policies_data)
    return json.dumps({name: every[name] for name in (
        policy.rsplit("/", 1)[-1] for policy in INSTANCE_POLICIES + SERVICE_POLICIES)})


@pytest.fixture
def managed_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto knows AWS's managed policies (AWSElasticBeanstalkWebTier...) only when asked; then
    each IAM backend it makes parses all 1,500 of them (seconds each): it is given the ones
    deploy attaches, as moto has them."""
    import moto.iam.models

    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    monkeypatch.setattr(moto.iam.models, "aws_managed_policies_data",
                        beanstalk_managed_policies())


def test_beanstalk_deploy_redeploy_and_delete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              managed_policies: None) -> None:
    with deploy_sandbox(tmp_path, monkeypatch, with_infra=True) as project:
        eb = HalfStubbedClient(aws_client("elasticbeanstalk", REGION))
        clients = clients_with({"elasticbeanstalk": eb})
        created = spy_on(eb.real, "CreateEnvironment")
        options = DeployOptions(project, STAGE, target="beanstalk", wait_timeout=30)
        lines: List[str] = []
        with prepared(options, lines.append) as ready, ping_server() as address:
            aws = check_access(None, clients)
            plan = beanstalk_target.make_plan(ready)
            label = next(s.value for s in plan.steps if getattr(s, "action", "") == "version")
            key = f"{REGION}/{STAGE}/beanstalk/{label}.zip"
            eb.stubber.add_response(
                "create_application_version",
                {"ApplicationVersion": {"ApplicationName": APP, "VersionLabel": label}},
                {"ApplicationName": APP, "VersionLabel": label, "Process": True,
                 "SourceBundle": {"S3Bucket": BUCKET, "S3Key": key}})

            def turn_green(_seconds: float) -> None:  # what Beanstalk does while we wait
                set_moto_environment(APP, ENV, health="Green", cname=address)

            first = beanstalk_target.BeanstalkDeployment(ready, plan, aws, clients,
                                                         lines.append, sleep=turn_green,
                                                         poll_seconds=0).apply()
            assert first.verify() == [f"GET http://{address}/ping -> 200 {{}}"]
            assert first.new_version and f"environment {ENV} created" in lines
            environments = boto3.client("elasticbeanstalk", region_name=REGION
                                        ).describe_environments()["Environments"]
            assert [e["EnvironmentName"] for e in environments] == [ENV]
            names = bundle_names(key)
            for expected in ("Dockerfile", "Dockerrun.aws.json", ".dockerignore", "app.py",
                             "chalicelib/pym_compiled.json", "apis/library.yaml",
                             "pym_lambda/wsgi/__init__.py", "infra/beanstalk/requirements.txt",
                             "infra/beanstalk/supervise.py", ".chalice/config.json"):
                assert expected in names
            assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
            sqs = boto3.client("sqs", region_name=REGION)
            assert {QUEUE, DLQ} <= {u.rsplit("/", 1)[-1] for u in sqs.list_queues()["QueueUrls"]}
            settings = beanstalk_target.option_settings(ready, aws, True)
            variables = {s["OptionName"]: s["Value"] for s in settings
                         if s["Namespace"] == beanstalk_target.ENVIRONMENT}
            assert variables == {"PYM_STAGE": "prod", "PYM_APP_NAME": "pym-library",
                                 "AWS_DEFAULT_REGION": REGION, "PYM_TASK_WORKER": "1"}
            assert PROD_SECRET not in json.dumps(settings)  # read from SSM by the container

            # The environment runs as the instance profile and service role deploy made.
            [create] = created
            assert create["OptionSettings"] == settings
            assert setting(settings, "aws:autoscaling:launchconfiguration",
                           "IamInstanceProfile") == PROFILE
            assert setting(settings, "aws:elasticbeanstalk:environment",
                           "ServiceRole") == SERVICE_ROLE
            iam = boto3.client("iam", region_name=REGION)
            profile = iam.get_instance_profile(InstanceProfileName=PROFILE)["InstanceProfile"]
            assert [r["RoleName"] for r in profile["Roles"]] == [PROFILE]
            role = iam.get_role(RoleName=PROFILE)["Role"]
            assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
                "Service": "ec2.amazonaws.com"}
            assert attached(iam, PROFILE) == ["AWSElasticBeanstalkWebTier"]
            inline = iam.get_role_policy(RoleName=PROFILE, PolicyName=INLINE_POLICY)
            statements = inline["PolicyDocument"]["Statement"]
            assert statements == container_statements(
                stage_access(plan.step(EnsureQueues).definitions,  # type: ignore
                             ready.access), Arns(REGION, "123456789012"))
            # the stage's queue and DLQ, and the prod JWT secret the container reads from SSM
            assert resources(statements) == [
                f"arn:aws:sqs:{REGION}:123456789012:{q}" for q in (QUEUE, DLQ)] + [
                f"arn:aws:ssm:{REGION}:123456789012:parameter/{APP}/{STAGE}/jwt-secret"]
            actions = {a for s in statements for a in s["Action"]}
            assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:SendMessage",
                    "sqs:ChangeMessageVisibility"} <= actions
            assert not [a for a in actions if "*" in a]
            service = iam.get_role(RoleName=SERVICE_ROLE)["Role"]
            assert service["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
                "Service": "elasticbeanstalk.amazonaws.com"}
            assert attached(iam, SERVICE_ROLE) == [
                "AWSElasticBeanstalkEnhancedHealth",
                "AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy"]
            for name, tag in ((PROFILE, f"{APP}/{STAGE}"), (SERVICE_ROLE, APP)):
                assert {"Key": "pym-lambda", "Value": tag} in iam.list_role_tags(
                    RoleName=name)["Tags"]
            assert f"instance profile: {PROFILE}" in first.summary_lines()

            # Unchanged project: same bundle, same label; moto's environment reports another
            # version, so the environment is updated to it, and no new version is recorded.
            # The roles match: no IAM write at all.
            again = beanstalk_target.make_plan(ready)
            assert again == plan
            eb.stubber.add_client_error("create_application_version", "InvalidParameterValue",
                                        f"Application Version {label} already exists.")
            eb.stubber.add_response(
                "update_environment", {"EnvironmentName": ENV, "VersionLabel": label},
                {"ApplicationName": APP, "EnvironmentName": ENV, "VersionLabel": label,
                 "OptionSettings": settings})
            calls = IamCalls(aws_client("iam", REGION))
            second = beanstalk_target.BeanstalkDeployment(ready, again, aws, clients,
                                                          lines.append, sleep=turn_green,
                                                          poll_seconds=0).apply()
            assert not second.new_version and f"version {label} exists" in lines
            assert calls.calls and calls.writes() == []
            assert f"instance profile {PROFILE}: unchanged" in lines

            # An inline policy changed by hand is put back, and only it is written.
            iam.put_role_policy(RoleName=PROFILE, PolicyName=INLINE_POLICY,
                                PolicyDocument=json.dumps(document([{
                                    "Effect": "Allow", "Action": "sqs:*", "Resource": "*"}])))
            calls.calls.clear()
            set_moto_environment(APP, ENV, version_label=label)
            eb.stubber.add_client_error("create_application_version", "InvalidParameterValue",
                                        f"Application Version {label} already exists.")
            beanstalk_target.BeanstalkDeployment(ready, again, aws, clients, lines.append,
                                                 sleep=turn_green, poll_seconds=0).apply()
            assert calls.writes() == ["PutRolePolicy"]
            assert iam.get_role_policy(RoleName=PROFILE, PolicyName=INLINE_POLICY)[
                "PolicyDocument"]["Statement"] == statements

        # delete: terminate, wait for Terminated (the service role does the terminating),
        # then the roles deploy made.
        terminate_stub(eb)
        run_delete(options, include_queues=False, confirm=lambda question: None,
                   clients=clients, echo=lines.append, sleep=terminated, poll_seconds=0)
        assert f"environment {ENV}: terminating" in lines
        assert f"environment {ENV}: terminated" in lines
        assert any(line.startswith("kept queues") for line in lines)
        for line in (f"deleted instance profile {PROFILE}", f"deleted IAM role {PROFILE}",
                     f"deleted service role {SERVICE_ROLE}"):
            assert line in lines
        assert iam.list_instance_profiles()["InstanceProfiles"] == []
        assert iam.list_roles()["Roles"] == []
        eb.stubber.assert_no_pending_responses()


def attached(iam: Any, role: str) -> List[str]:
    return sorted(p["PolicyName"] for p in iam.list_attached_role_policies(
        RoleName=role)["AttachedPolicies"])


def test_existing_roles_named_by_the_user_are_used_as_they_are(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with deploy_sandbox(tmp_path, monkeypatch, with_infra=True) as project:
        iam = boto3.client("iam", region_name=REGION)
        iam.create_role(RoleName="team-ec2", AssumeRolePolicyDocument="{}")
        iam.create_instance_profile(InstanceProfileName="team-ec2")
        iam.add_role_to_instance_profile(InstanceProfileName="team-ec2", RoleName="team-ec2")
        iam.create_role(RoleName="team-eb", AssumeRolePolicyDocument="{}")
        config_file = project / ".chalice" / "config.json"
        config = json.loads(config_file.read_text())
        config["stages"][STAGE]["beanstalk_service_role"] = "team-eb"
        config_file.write_text(json.dumps(config))
        eb = HalfStubbedClient(aws_client("elasticbeanstalk", REGION))
        clients = clients_with({"elasticbeanstalk": eb})
        created = spy_on(eb.real, "CreateEnvironment")
        options = DeployOptions(project, STAGE, target="beanstalk", wait_timeout=30,
                                instance_profile="team-ec2")
        lines: List[str] = []
        with prepared(options, lines.append) as ready, ping_server() as address:
            plan = beanstalk_target.make_plan(ready)
            described = [s.describe() for s in plan.steps]
            assert ("instance profile team-ec2 (yours, from --instance-profile: used as is; "
                    f"it must let the container consume {QUEUE}; send to {QUEUE}, {DLQ}; "
                    f"read SSM /{APP}/{STAGE}/jwt-secret)") in described
            assert ("service role team-eb (yours, from .chalice/config.json "
                    "beanstalk_service_role: used as is)") in described
            label = next(s.value for s in plan.steps if getattr(s, "action", "") == "version")
            eb.stubber.add_response("create_application_version", {}, None)
            calls = IamCalls(aws_client("iam", REGION))
            beanstalk_target.BeanstalkDeployment(
                ready, plan, check_access(None, clients), clients, lines.append,
                sleep=lambda _s: set_moto_environment(APP, ENV, health="Green", cname=address),
                poll_seconds=0).apply()
            assert label and calls.writes() == []
            settings = created[0]["OptionSettings"]
            assert setting(settings, "aws:autoscaling:launchconfiguration",
                           "IamInstanceProfile") == "team-ec2"
            assert setting(settings, "aws:elasticbeanstalk:environment",
                           "ServiceRole") == "team-eb"
            assert iam.list_role_policies(RoleName="team-ec2")["PolicyNames"] == []

        terminate_stub(eb)
        run_delete(options, include_queues=False, confirm=lambda question: None,
                   clients=clients, echo=lines.append, sleep=terminated, poll_seconds=0)
        assert "kept service role team-eb (yours)" in lines
        assert sorted(r["RoleName"] for r in iam.list_roles()["Roles"]) == ["team-eb",
                                                                            "team-ec2"]
        assert [p["InstanceProfileName"] for p in iam.list_instance_profiles()[
            "InstanceProfiles"]] == ["team-ec2"]


def test_a_missing_user_profile_fails_before_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pym_lambda.build.deploy.errors import DeployError

    with deploy_sandbox(tmp_path, monkeypatch, with_infra=True) as project:
        options = DeployOptions(project, STAGE, target="beanstalk", instance_profile="nope")
        with prepared(options, lambda line: None) as ready:
            clients = clients_with({})
            deployment = beanstalk_target.BeanstalkDeployment(
                ready, beanstalk_target.make_plan(ready), check_access(None, clients), clients,
                lambda line: None)
            with pytest.raises(DeployError) as caught:
                deployment.apply()
    assert caught.value.step == "instance-profile"
    assert "NoSuchEntity" in caught.value.message and "nope" in caught.value.message
    assert "no environment pym-library-prod" in caught.value.existing


def test_create_environment_is_retried_while_a_new_profile_propagates(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, managed_policies: None) -> None:
    with deploy_sandbox(tmp_path, monkeypatch, with_infra=True) as project:
        eb = HalfStubbedClient(aws_client("elasticbeanstalk", REGION))
        refusals = [2]
        real_create = eb.real.create_environment

        def create_environment(**params: Any) -> Any:
            if refusals[0]:
                refusals[0] -= 1
                raise ClientError({"Error": {"Code": "InvalidParameterValue", "Message": (
                    f"The instance profile {PROFILE} associated with the environment does "
                    "not exist.")}}, "CreateEnvironment")
            return real_create(**params)

        eb.create_environment = create_environment  # type: ignore[method-assign]
        clients = clients_with({"elasticbeanstalk": eb})
        slept: List[float] = []
        lines: List[str] = []
        options = DeployOptions(project, STAGE, target="beanstalk", wait_timeout=30,
                                skip_verify=True)
        with prepared(options, lines.append) as ready:
            eb.stubber.add_response("create_application_version", {}, None)

            def sleep(seconds: float) -> None:
                slept.append(seconds)
                if len(slept) > 2:  # the wait for Green, once the environment exists
                    set_moto_environment(APP, ENV, health="Green")

            beanstalk_target.BeanstalkDeployment(ready, beanstalk_target.make_plan(ready),
                                                 check_access(None, clients), clients,
                                                 lines.append, sleep=sleep,
                                                 poll_seconds=0).apply()
        assert slept[:2] == [beanstalk_target.IAM_RETRY_SECONDS] * 2
        assert sum("IAM not propagated yet" in line for line in lines) == 2
        assert f"environment {ENV} created" in lines


def test_the_propagation_retry_is_bounded_and_only_for_iam_errors() -> None:
    from pym_lambda.build.deploy.beanstalk_iam import retry_while_propagating

    def refuse(code: str, message: str) -> Any:
        def call() -> None:
            raise ClientError({"Error": {"Code": code, "Message": message}}, "CreateEnvironment")
        return call

    slept: List[float] = []
    with pytest.raises(ClientError):
        retry_while_propagating(refuse("InvalidParameterValue", "The instance profile x "
                                       "associated with the environment does not exist."),
                                slept.append, 4, 2.5, lambda line: None)
    assert slept == [2.5, 2.5, 2.5]
    slept.clear()
    with pytest.raises(ClientError):
        retry_while_propagating(refuse("InvalidParameterValue", "No Solution Stack named x"),
                                slept.append, 4, 2.5, lambda line: None)
    assert slept == []


def test_beanstalk_wait_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pym_lambda.build.deploy.errors import DeployError

    with deploy_sandbox(tmp_path, monkeypatch, with_infra=True):
        eb = boto3.client("elasticbeanstalk", region_name=REGION)
        eb.create_application(ApplicationName=APP)
        eb.create_environment(ApplicationName=APP, EnvironmentName=ENV,
                              SolutionStackName=beanstalk_target.docker_stack(eb))
        with pytest.raises(DeployError, match="not healthy after 0.05 s: status Ready, "
                                              "health Grey"):
            beanstalk_target.wait_until_healthy(eb, APP, ENV, 0.05, lambda s: None, 0)


def test_beanstalk_wait_says_each_change_while_it_waits(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with deploy_sandbox(tmp_path, monkeypatch, with_infra=True):
        eb = boto3.client("elasticbeanstalk", region_name=REGION)
        eb.create_application(ApplicationName=APP)
        eb.create_environment(ApplicationName=APP, EnvironmentName=ENV,
                              SolutionStackName=beanstalk_target.docker_stack(eb))
        polls: List[float] = []

        def sleep(seconds: float) -> None:  # Beanstalk turning healthy, one step per poll
            polls.append(seconds)
            if len(polls) == 2:
                set_moto_environment(APP, ENV, health="Green", cname="shop.example.com")

        lines: List[str] = []
        cname = beanstalk_target.wait_until_healthy(eb, APP, ENV, 60, sleep, 0, lines.append)
        assert cname == "shop.example.com" and len(polls) == 2
        # Said once while unchanged (two polls), not once per poll.
        assert [line.split(" after ")[0] for line in lines] == [
            f"environment {ENV}: status Ready, health Grey"]
        assert lines[0].endswith("(waiting up to 60 s)")


def test_a_project_without_beanstalk_files_is_refused(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from pym_lambda.build.deploy.cli import deploy

    from .deploy_fixtures import invoke

    with deploy_sandbox(tmp_path, monkeypatch, in_process_moto=False) as project:
        result: Any = invoke(deploy, "--stage", STAGE, "--project-dir", str(project),
                             "--target", "beanstalk", "--dry-run")
    assert result.exit_code == 1
    assert "error: build: no infra/beanstalk/Dockerfile in" in result.output
