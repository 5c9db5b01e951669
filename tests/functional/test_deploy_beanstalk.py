"""`deploy --target beanstalk` rehearsed on moto in process. moto's Elastic Beanstalk lacks
create_application_version, update_environment and terminate_environment: a botocore Stubber
answers those three (and checks what they are sent); moto answers the rest. Beanstalk turning
Green is played by setting moto's environment while the deploy waits."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any, List

import boto3
import pytest

from pym_lambda.aws import aws_client
from pym_lambda.deploy import beanstalk_target
from pym_lambda.deploy.aws_access import check_access
from pym_lambda.deploy.prepare import DeployOptions, prepared
from pym_lambda.deploy.teardown import run_delete

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


def bundle_names(key: str) -> List[str]:
    body = boto3.client("s3", region_name=REGION).get_object(Bucket=BUCKET, Key=key)["Body"]
    return zipfile.ZipFile(io.BytesIO(body.read())).namelist()


def test_beanstalk_deploy_redeploy_and_delete(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    with deploy_sandbox(tmp_path, monkeypatch, with_infra=True) as project:
        eb = HalfStubbedClient(aws_client("elasticbeanstalk", REGION))
        clients = clients_with({"elasticbeanstalk": eb})
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
                             "pym_lambda/wsgi.py", "infra/beanstalk/requirements.txt",
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

            # Unchanged project: same bundle, same label; moto's environment reports another
            # version, so the environment is updated to it, and no new version is recorded.
            again = beanstalk_target.make_plan(ready)
            assert again == plan
            eb.stubber.add_client_error("create_application_version", "InvalidParameterValue",
                                        f"Application Version {label} already exists.")
            eb.stubber.add_response(
                "update_environment", {"EnvironmentName": ENV, "VersionLabel": label},
                {"ApplicationName": APP, "EnvironmentName": ENV, "VersionLabel": label,
                 "OptionSettings": settings})
            second = beanstalk_target.BeanstalkDeployment(ready, again, aws, clients,
                                                          lines.append, sleep=turn_green,
                                                          poll_seconds=0).apply()
            assert not second.new_version and f"version {label} exists" in lines

        eb.stubber.add_response("terminate_environment",
                                {"EnvironmentName": ENV, "Status": "Terminating"},
                                {"EnvironmentName": ENV, "TerminateResources": True})
        run_delete(options, include_queues=False, confirm=lambda question: None,
                   clients=clients, echo=lines.append)
        assert f"environment {ENV}: terminating" in lines
        assert any(line.startswith("kept queues") for line in lines)
        eb.stubber.assert_no_pending_responses()


def test_beanstalk_wait_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pym_lambda.deploy.errors import DeployError

    with deploy_sandbox(tmp_path, monkeypatch, with_infra=True):
        eb = boto3.client("elasticbeanstalk", region_name=REGION)
        eb.create_application(ApplicationName=APP)
        eb.create_environment(ApplicationName=APP, EnvironmentName=ENV,
                              SolutionStackName=beanstalk_target.docker_stack(eb))
        with pytest.raises(DeployError, match="not healthy after 0.05 s: status Ready, "
                                              "health Grey"):
            beanstalk_target.wait_until_healthy(eb, APP, ENV, 0.05, lambda s: None, 0)


def test_a_project_without_beanstalk_files_is_refused(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from pym_lambda.deploy.cli import deploy

    from .deploy_fixtures import invoke

    with deploy_sandbox(tmp_path, monkeypatch, in_process_moto=False) as project:
        result: Any = invoke(deploy, "--stage", STAGE, "--project-dir", str(project),
                             "--target", "beanstalk", "--dry-run")
    assert result.exit_code == 1
    assert "error: build: no infra/beanstalk/Dockerfile in" in result.output
