"""Alarms made by deploy (issue #20 item 3), rehearsed on moto in process: the example service
deployed for prod with `alarms.enabled`, its alarms read back with describe_alarms, kept in
step by a second deploy, written into `package`'s template, removed by delete."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

import boto3
import pytest

from pym_lambda.build.deploy.cli import delete, deploy

from .deploy_fixtures import APP, DLQ, QUEUE, REGION, STAGE, deploy_sandbox, invoke

DEPLOY = ("--stage", STAGE, "--yes", "--skip-verify")
API_ALARM = f"{APP}-{STAGE}-api-5xx-rate"
DLQ_ALARM = f"{APP}-{STAGE}-default-dead-letters"
AGE_ALARM = f"{APP}-{STAGE}-default-oldest-message"


def client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


def enable(project: Path, settings: str) -> None:
    config = project / "pym-config.yaml"
    config.write_text(config.read_text(encoding="utf-8") + settings, encoding="utf-8")


def alarms() -> Dict[str, Dict[str, Any]]:
    return {a["AlarmName"]: a for a in client("cloudwatch").describe_alarms()["MetricAlarms"]}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    with deploy_sandbox(tmp_path, monkeypatch) as folder:
        yield folder


def test_deploy_makes_the_alarms_that_notify_the_topic_and_delete_removes_them(
        project: Path) -> None:
    topic = client("sns").create_topic(Name="ops")["TopicArn"]
    enable(project, f"alarms:\n  enabled: true\n  sns_topic: {topic}\n"
                    "  oldest_message_seconds: 600\n  error_rate_percent: 2\n")
    # Another stage's alarm whose name shares the prefix, and one of nobody's: left alone.
    cloudwatch = client("cloudwatch")
    for name, description in ((f"{APP}-{STAGE}-eu-x", f"pym-lambda {APP}/{STAGE}-eu: x"),
                              (f"{APP}-{STAGE}-mine", "my own alarm")):
        cloudwatch.put_metric_alarm(
            AlarmName=name, AlarmDescription=description, Namespace="AWS/SQS",
            MetricName="NumberOfMessagesSent", Statistic="Sum", Period=60,
            EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")

    dry = invoke(deploy, *DEPLOY, "--dry-run", "--project-dir", str(project))
    assert dry.exit_code == 0, dry.output
    assert f"CloudWatch alarms, notifying {topic}" in dry.output
    assert alarms().keys() == {f"{APP}-{STAGE}-eu-x", f"{APP}-{STAGE}-mine"}  # nothing made

    first = invoke(deploy, *DEPLOY, "--project-dir", str(project))
    assert first.exit_code == 0, first.output
    assert f"alarms: {DLQ_ALARM} created" in first.output
    found = alarms()
    assert {API_ALARM, DLQ_ALARM, AGE_ALARM} <= found.keys()
    dead = found[DLQ_ALARM]
    assert (dead["Namespace"], dead["MetricName"]) == ("AWS/SQS",
                                                       "ApproximateNumberOfMessagesVisible")
    assert dead["Dimensions"] == [{"Name": "QueueName", "Value": DLQ}]
    assert (dead["ComparisonOperator"], dead["Threshold"]) == ("GreaterThanThreshold", 0)
    age = found[AGE_ALARM]
    assert age["Dimensions"] == [{"Name": "QueueName", "Value": QUEUE}]
    assert (age["MetricName"], age["Threshold"]) == ("ApproximateAgeOfOldestMessage", 600)
    api = found[API_ALARM]  # metrics off: API Gateway's metric of the app's REST API
    assert (api["Namespace"], api["MetricName"], api["Statistic"]) == (
        "AWS/ApiGateway", "5XXError", "Average")
    assert {d["Name"]: d["Value"] for d in api["Dimensions"]} == {"ApiName": APP, "Stage": "api"}
    assert api["Threshold"] == pytest.approx(0.02)
    for alarm in (dead, age, api):
        assert alarm["AlarmActions"] == [topic] and alarm["OKActions"] == [topic]

    # Metrics on: the 5xx alarm reads the stage's own metric; a queue alarm gone from the
    # plan (here: made by hand under the stage's mark) is deleted.
    enable(project, "metrics:\n  enabled: true\n  namespace: Library\n")
    stale = f"{APP}-{STAGE}-gone-dead-letters"
    cloudwatch.put_metric_alarm(
        AlarmName=stale, AlarmDescription=f"pym-lambda {APP}/{STAGE}: messages in gone",
        Namespace="AWS/SQS", MetricName="ApproximateNumberOfMessagesVisible",
        Statistic="Maximum", Period=60, EvaluationPeriods=1, Threshold=0,
        ComparisonOperator="GreaterThanThreshold")
    second = invoke(deploy, *DEPLOY, "--project-dir", str(project))
    assert second.exit_code == 0, second.output
    assert f"alarms: {API_ALARM} updated" in second.output
    assert f"alarms: {stale} deleted" in second.output
    api = alarms()[API_ALARM]
    assert (api["Namespace"], api["MetricName"]) == ("Library", "status_5xx")
    assert {d["Name"]: d["Value"] for d in api["Dimensions"]} == {"service": "pym-library",
                                                                  "stage": STAGE}
    assert stale not in alarms()

    removed = invoke(delete, "--stage", STAGE, "--yes", "--project-dir", str(project))
    assert removed.exit_code == 0, removed.output
    assert f"CloudWatch alarm {DLQ_ALARM}" in removed.output  # listed before confirming
    assert alarms().keys() == {f"{APP}-{STAGE}-eu-x", f"{APP}-{STAGE}-mine"}


@pytest.mark.parametrize("dry_run", [("--dry-run",), ()])
def test_a_period_cloudwatch_refuses_is_a_deploy_error_before_the_build(
        project: Path, monkeypatch: pytest.MonkeyPatch, dry_run: Any) -> None:
    from .test_inputs import forbid_build

    forbid_build(monkeypatch)
    enable(project, "alarms:\n  enabled: true\n  period_seconds: 90\n")
    result = invoke(deploy, *DEPLOY, *dry_run, "--project-dir", str(project))
    assert result.exit_code == 1, result.output
    assert ("error: alarms: alarms.period_seconds is 90: CloudWatch needs a multiple of 60"
            in result.output)
    assert "Traceback" not in result.output and "[1/5] build" not in result.output


def test_without_alarms_enabled_deploy_makes_none(project: Path) -> None:
    result = invoke(deploy, *DEPLOY, "--project-dir", str(project))
    assert result.exit_code == 0, result.output
    assert "alarms: " not in result.output and "CloudWatch alarms" not in result.output
    assert alarms() == {}


def test_package_writes_the_alarms_into_the_template_and_it_passes_cfn_lint(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pym_lambda.build.deploy.cli import package

    from .test_package import RUNTIME, cfn_lint, lint

    command = cfn_lint()
    topic = "arn:aws:sns:us-east-1:123456789012:ops"
    with deploy_sandbox(tmp_path, monkeypatch, in_process_moto=False) as project:
        enable(project, f"alarms:\n  enabled: true\n  sns_topic: {topic}\n")
        out = tmp_path / "out"
        result = invoke(package, "--stage", STAGE, "--project-dir", str(project),
                        "--out", str(out), "--runtime", RUNTIME)
        assert result.exit_code == 0, result.output
        assert "3 CloudWatch alarm(s)" in result.output
    template = json.loads((out / "sam.json").read_text())
    made = {r["Properties"]["AlarmName"]: r["Properties"]
            for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert made.keys() == {API_ALARM, DLQ_ALARM, AGE_ALARM}
    assert made[DLQ_ALARM]["Dimensions"] == [{"Name": "QueueName", "Value": DLQ}]
    assert all(p["AlarmActions"] == [topic] for p in made.values())
    assert lint(command, out / "sam.json") == ""
