"""The stage's CloudWatch alarms (`alarms.enabled`): made by deploy, written into `package`'s
template, removed by `delete`.

- each task queue's dead-letter queue holds a message (ApproximateNumberOfMessagesVisible > 0);
- each task queue's oldest message is older than `alarms.oldest_message_seconds`;
- the REST API answers 5xx to more than `alarms.error_rate_percent` of its requests: with
  `metrics.enabled`, the average of the stage's own `status_5xx` metric (exact per stage; see
  pym_lambda/metrics.py), else API Gateway's `5XXError` average (which Chalice's naming shares
  between the stages of one app in one region: every stage's REST API is named after the app).

Each alarm notifies `alarms.sns_topic` when it fires and when it clears. An alarm is the
stage's when its name starts with `<app>-<stage>-` and its description with the mark below
(so stage `prod` never takes `prod-eu`'s): deploy deletes the stage's alarms it no longer
plans, delete removes them all.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..tasks.queues import QueueDefinition
from .errors import DeployError

_DELETE_BATCH = 100  # DeleteAlarms takes at most 100 names


def name_prefix(app_name: str, stage: str) -> str:
    return f"{app_name}-{stage}-"


def description_mark(app_name: str, stage: str) -> str:
    return f"pym-lambda {app_name}/{stage}: "


@dataclass(frozen=True)
class AlarmDefinition:
    name: str
    description: str
    namespace: str
    metric: str
    dimensions: Tuple[Tuple[str, str], ...]
    statistic: str
    comparison: str
    threshold: float
    period: int
    # A queue's metrics stop when it is idle for hours: its alarm keeps its state meanwhile
    # (a DLQ holding messages stays in alarm); no API traffic is no error.
    missing_data: str = "notBreaching"

    def properties(self, topic: Optional[str]) -> Dict[str, Any]:
        """PutMetricAlarm's arguments, which are AWS::CloudWatch::Alarm's properties too."""
        actions = [topic] if topic else []
        return {"AlarmName": self.name, "AlarmDescription": self.description,
                "Namespace": self.namespace, "MetricName": self.metric,
                "Dimensions": [{"Name": k, "Value": v} for k, v in self.dimensions],
                "Statistic": self.statistic, "Period": self.period, "EvaluationPeriods": 1,
                "Threshold": self.threshold, "ComparisonOperator": self.comparison,
                "TreatMissingData": self.missing_data, "AlarmActions": actions,
                "OKActions": actions}

    def describe(self) -> str:
        comparison = {"GreaterThanThreshold": ">", "GreaterThanOrEqualToThreshold": ">="}
        return (f"{self.name} ({self.metric} {self.statistic} "
                f"{comparison.get(self.comparison, self.comparison)} {self.threshold:g})")


@dataclass(frozen=True)
class ApiErrors:
    """Where the API's 5xx rate is read: the service's EMF metrics, or API Gateway's."""
    app_name: str
    api_gateway_stage: str
    metrics_namespace: Optional[str] = None  # set when metrics.enabled
    service: str = ""


def check_period(period: int) -> int:
    """The alarms' period, if CloudWatch takes it (a multiple of 60 s)."""
    if period % 60:
        raise DeployError("alarms", f"alarms.period_seconds is {period}: CloudWatch needs a "
                                    "multiple of 60")
    return period


def stage_alarms(app_name: str, stage: str, settings: Any, queues: Sequence[QueueDefinition],
                 api: Optional[ApiErrors]) -> Tuple[AlarmDefinition, ...]:
    """The alarms the stage should have; `settings` is its AlarmsSettings."""
    period = check_period(settings.period_seconds)
    prefix, mark = name_prefix(app_name, stage), description_mark(app_name, stage)
    alarms: List[AlarmDefinition] = []
    if api is not None:
        rate = settings.error_rate_percent / 100
        if api.metrics_namespace:
            source = (api.metrics_namespace, "status_5xx",
                      (("service", api.service), ("stage", stage)), "its metrics")
        else:
            source = ("AWS/ApiGateway", "5XXError", (("ApiName", api.app_name),
                      ("Stage", api.api_gateway_stage)), "API Gateway's metric")
        namespace, metric, dimensions, origin = source
        alarms.append(AlarmDefinition(
            f"{prefix}api-5xx-rate", f"{mark}more than {settings.error_rate_percent}% of API "
            f"requests answered 5xx in {period} s ({origin})", namespace, metric, dimensions,
            "Average", "GreaterThanThreshold", rate, period))
    for queue in queues:
        alarms.append(AlarmDefinition(
            f"{prefix}{queue.queue}-dead-letters", f"{mark}messages in dead-letter queue "
            f"{queue.dlq_name} (`pym-lambda tasks dlq` lists them)", "AWS/SQS",
            "ApproximateNumberOfMessagesVisible", (("QueueName", queue.dlq_name),), "Maximum",
            "GreaterThanThreshold", 0, period, missing_data="ignore"))
        alarms.append(AlarmDefinition(
            f"{prefix}{queue.queue}-oldest-message", f"{mark}a message of {queue.name} waits "
            f"longer than {settings.oldest_message_seconds} s", "AWS/SQS",
            "ApproximateAgeOfOldestMessage", (("QueueName", queue.name),), "Maximum",
            "GreaterThanOrEqualToThreshold", settings.oldest_message_seconds, period,
            missing_data="ignore"))
    return tuple(alarms)


def existing_alarms(cloudwatch: Any, app_name: str, stage: str) -> List[str]:
    """The names of the stage's alarms that exist (see the module docstring)."""
    mark = description_mark(app_name, stage)
    names: List[str] = []
    for page in cloudwatch.get_paginator("describe_alarms").paginate(
            AlarmNamePrefix=name_prefix(app_name, stage), AlarmTypes=["MetricAlarm"]):
        names += [a["AlarmName"] for a in page.get("MetricAlarms", [])
                  if str(a.get("AlarmDescription") or "").startswith(mark)]
    return names


def delete_alarms(cloudwatch: Any, names: Sequence[str]) -> None:
    for start in range(0, len(names), _DELETE_BATCH):
        cloudwatch.delete_alarms(AlarmNames=list(names[start:start + _DELETE_BATCH]))


def ensure_alarms(cloudwatch: Any, app_name: str, stage: str,
                  alarms: Sequence[AlarmDefinition], topic: Optional[str]) -> List[str]:
    """Create or update each alarm, delete the stage's others; what was done, one line each."""
    before = set(existing_alarms(cloudwatch, app_name, stage))
    done = []
    for alarm in alarms:
        cloudwatch.put_metric_alarm(**alarm.properties(topic))
        done.append(f"{alarm.name} {'updated' if alarm.name in before else 'created'}")
    stale = sorted(before - {a.name for a in alarms})
    delete_alarms(cloudwatch, stale)
    return done + [f"{name} deleted" for name in stale]


def planned_alarms(build: Any, graph: Any, queues: Sequence[QueueDefinition]
                   ) -> Optional[Tuple[Tuple[AlarmDefinition, ...], Optional[str]]]:
    """The alarms and topic of a stage whose pym-config.yaml says `alarms.enabled`, else None
    (build: a BuildResult, graph: its AppGraph)."""
    settings = build.alarms
    if settings is None:
        return None
    stage = build.stage
    api = None
    if graph.rest_api_stage is not None:
        namespace, service = build.metrics or (None, "")
        api = ApiErrors(stage.app_name, graph.rest_api_stage, namespace, service)
    return (stage_alarms(stage.app_name, stage.stage, settings, queues, api),
            settings.sns_topic)
