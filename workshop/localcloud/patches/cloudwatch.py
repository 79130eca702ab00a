"""CloudFormation: AWS::CloudWatch::Alarm creates a real alarm.

moto 5.2.5 has alarms (put_metric_alarm) but no CloudFormation type for them: a stack reports
CREATE_COMPLETE with a resource of no id and no alarm behind it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from moto.cloudformation import parsing
from moto.cloudwatch.models import cloudwatch_backends
from moto.core.common_models import CloudFormationModel

from .models import ModelOfOurs

if TYPE_CHECKING:
    from ..server import LocalCloud


class CloudWatchAlarm(ModelOfOurs, CloudFormationModel):
    """AWS::CloudWatch::Alarm; Ref is the alarm name, GetAtt Arn its ARN."""

    TYPE = "AWS::CloudWatch::Alarm"
    NAME_PROPERTY = "AlarmName"
    REF = "name"
    ATTRIBUTES = {"Arn": "arn"}

    def __init__(self, account_id: str, region_name: str, name: str, arn: str) -> None:
        self.account_id, self.region_name, self.name, self.arn = account_id, region_name, name, arn

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> CloudWatchAlarm:
        p = cloudformation_json.get("Properties") or {}
        alarm = cloudwatch_backends[account_id][region_name].put_metric_alarm(
            name=resource_name, namespace=p.get("Namespace"), metric_name=p.get("MetricName"),
            comparison_operator=p["ComparisonOperator"], evaluation_periods=int(p["EvaluationPeriods"]),
            period=int(p["Period"]) if p.get("Period") else None, threshold=float(p.get("Threshold", 0)),
            statistic=p.get("Statistic"), description=p.get("AlarmDescription"),
            dimensions=[{"Name": d["Name"], "Value": d["Value"]} for d in p.get("Dimensions") or []],
            alarm_actions=p.get("AlarmActions") or [], ok_actions=p.get("OKActions") or [],
            insufficient_data_actions=p.get("InsufficientDataActions") or [],
            datapoints_to_alarm=int(p["DatapointsToAlarm"]) if p.get("DatapointsToAlarm") else None,
            treat_missing_data=p.get("TreatMissingData"), unit=p.get("Unit"),
            actions_enabled=str(p.get("ActionsEnabled", True)).lower() != "false",
            extended_statistic=p.get("ExtendedStatistic"),
        )
        return cls(account_id, region_name, alarm.name, alarm.alarm_arn)

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource: CloudWatchAlarm, new_resource_name: str, cloudformation_json: dict[str, Any],
        account_id: str, region_name: str,
    ) -> CloudWatchAlarm:
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(original_resource.name, cloudformation_json, account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> None:
        cloudwatch_backends[account_id][region_name].delete_alarms([resource_name])

    def delete(self, account_id: str, region_name: str) -> None:
        cloudwatch_backends[account_id][region_name].delete_alarms([self.name])


def apply(cloud: LocalCloud | None = None) -> None:  # moto only: needs nothing of the running cloud
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()  # moto builds its type map once, from the model classes known then
