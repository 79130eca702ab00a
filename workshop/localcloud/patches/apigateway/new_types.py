"""The API Gateway types moto 5.2.5's CloudFormation lacks: Stage, ApiKey, UsagePlan, UsagePlanKey,
RequestValidator and Model, each kept in moto's API Gateway backend so the data plane sees it.

Each says how to create itself, what it can change in place (anything else is a replacement),
and how to delete itself; the create / update / delete flow is ModelOfOurs's (patches/models.py).
Property names and update behaviours follow
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/AWS_ApiGateway.html
"""

from __future__ import annotations

import json
from typing import Any

from moto.core.common_models import CloudFormationModel

from ..models import ModelOfOurs
from .properties import boolean, gateway_backend, tags


class ApiGatewayStage(ModelOfOurs, CloudFormationModel):
    """AWS::ApiGateway::Stage (SAM writes one per API); Ref is the stage name."""

    TYPE = "AWS::ApiGateway::Stage"
    NAME_PROPERTY = "StageName"
    REF = "stage_name"

    def __init__(self, account_id: str, region_name: str, rest_api_id: str, stage_name: str):
        self.account_id, self.region_name = account_id, region_name
        self.rest_api_id, self.stage_name = rest_api_id, stage_name

    @classmethod
    def create(cls, account_id: str, region_name: str, name: str, properties: dict[str, Any]) -> ApiGatewayStage:
        stage = cls(account_id, region_name, properties["RestApiId"], name)
        stage._put(properties)
        return stage

    def update(self, name: str, properties: dict[str, Any]) -> bool:
        if (self.rest_api_id, self.stage_name) != (properties["RestApiId"], name):
            return False
        self._put(properties)
        return True

    def _put(self, properties: dict[str, Any]) -> None:
        backend = gateway_backend(self.account_id, self.region_name)
        api = backend.get_rest_api(self.rest_api_id)
        deployment_id = getattr(properties.get("DeploymentId"), "id", properties.get("DeploymentId"))
        variables = dict(properties.get("Variables") or {})
        if stage := api.stages.get(self.stage_name):
            stage.deployment_id, stage.variables = deployment_id, variables
            stage.description = properties.get("Description", "")
            return
        backend.create_stage(
            self.rest_api_id, self.stage_name, deployment_id, variables=variables,
            description=properties.get("Description", ""), tags=tags(properties.get("Tags")),
            tracing_enabled=properties.get("TracingEnabled"),
        )

    def delete(self, account_id: str, region_name: str) -> None:
        api = gateway_backend(self.account_id, self.region_name).apis.get(self.rest_api_id)
        if api:
            api.stages.pop(self.stage_name, None)


class ApiGatewayApiKey(ModelOfOurs, CloudFormationModel):
    """AWS::ApiGateway::ApiKey; Ref is the key id. CloudFormation's default for Enabled is false."""

    TYPE = "AWS::ApiGateway::ApiKey"
    NAME_PROPERTY = "Name"
    REF = "key_id"
    ATTRIBUTES = {"APIKeyId": "key_id"}

    def __init__(self, account_id: str, region_name: str, key_id: str):
        self.account_id, self.region_name, self.key_id = account_id, region_name, key_id

    @classmethod
    def create(cls, account_id: str, region_name: str, name: str, properties: dict[str, Any]) -> ApiGatewayApiKey:
        payload = {
            "name": name,
            "description": properties.get("Description"),
            "enabled": boolean(properties.get("Enabled", False)),
            "value": properties.get("Value"),
            "customerId": properties.get("CustomerId"),
            "generateDistinctId": boolean(properties.get("GenerateDistinctId", False)),
            "stageKeys": [f"{k['RestApiId']}/{k['StageName']}" for k in properties.get("StageKeys") or []],
            "tags": tags(properties.get("Tags")),
        }
        key = gateway_backend(account_id, region_name).create_api_key({k: v for k, v in payload.items() if v is not None})
        return cls(account_id, region_name, key.id)

    def update(self, name: str, properties: dict[str, Any]) -> bool:
        key = gateway_backend(self.account_id, self.region_name).keys.get(self.key_id)
        if key is None or (properties.get("Value") and properties["Value"] != key.value):
            return False  # a new value is a new key
        key.name, key.description = name, properties.get("Description")
        key.enabled = boolean(properties.get("Enabled", False))
        return True

    def delete(self, account_id: str, region_name: str) -> None:
        gateway_backend(self.account_id, self.region_name).keys.pop(self.key_id, None)


class ApiGatewayUsagePlan(ModelOfOurs, CloudFormationModel):
    """AWS::ApiGateway::UsagePlan; Ref is the plan id."""

    TYPE = "AWS::ApiGateway::UsagePlan"
    NAME_PROPERTY = "UsagePlanName"
    REF = "plan_id"
    ATTRIBUTES = {"Id": "plan_id"}

    def __init__(self, account_id: str, region_name: str, plan_id: str):
        self.account_id, self.region_name, self.plan_id = account_id, region_name, plan_id

    @staticmethod
    def _payload(name: str, properties: dict[str, Any]) -> dict[str, Any]:
        quota, throttle = properties.get("Quota") or {}, properties.get("Throttle") or {}
        return {
            "name": name,
            "description": properties.get("Description"),
            "apiStages": [
                {"apiId": s["ApiId"], "stage": s["Stage"], **({"throttle": s["Throttle"]} if s.get("Throttle") else {})}
                for s in properties.get("ApiStages") or []
            ],
            "quota": {k.lower(): v for k, v in quota.items()},
            "throttle": {k[0].lower() + k[1:]: v for k, v in throttle.items()},
            "tags": tags(properties.get("Tags")),
        }

    @classmethod
    def create(cls, account_id: str, region_name: str, name: str, properties: dict[str, Any]) -> ApiGatewayUsagePlan:
        plan = gateway_backend(account_id, region_name).create_usage_plan(cls._payload(name, properties))
        return cls(account_id, region_name, plan.id)

    def update(self, name: str, properties: dict[str, Any]) -> bool:
        plan = gateway_backend(self.account_id, self.region_name).usage_plans.get(self.plan_id)
        if plan is None:
            return False
        payload = self._payload(name, properties)
        plan.name, plan.description, plan.api_stages = payload["name"], payload["description"], payload["apiStages"]
        plan.quota, plan.throttle = payload["quota"], payload["throttle"]
        return True

    def delete(self, account_id: str, region_name: str) -> None:
        backend = gateway_backend(self.account_id, self.region_name)
        backend.usage_plans.pop(self.plan_id, None)
        backend.usage_plan_keys.pop(self.plan_id, None)


class ApiGatewayUsagePlanKey(ModelOfOurs, CloudFormationModel):
    """AWS::ApiGateway::UsagePlanKey; Ref is the key id. Every property change is a replacement."""

    TYPE = "AWS::ApiGateway::UsagePlanKey"
    NAME_PROPERTY = ""
    REF = "key_id"
    ATTRIBUTES = {"Id": "key_id"}

    def __init__(self, account_id: str, region_name: str, plan_id: str, key_id: str):
        self.account_id, self.region_name, self.plan_id, self.key_id = account_id, region_name, plan_id, key_id

    @classmethod
    def create(cls, account_id: str, region_name: str, name: str,
               properties: dict[str, Any]) -> ApiGatewayUsagePlanKey:
        plan_id = properties["UsagePlanId"]
        gateway_backend(account_id, region_name).create_usage_plan_key(
            plan_id, {"keyId": properties["KeyId"], "keyType": properties.get("KeyType", "API_KEY")}
        )
        return cls(account_id, region_name, plan_id, properties["KeyId"])

    def delete(self, account_id: str, region_name: str) -> None:
        gateway_backend(self.account_id, self.region_name).usage_plan_keys.get(self.plan_id, {}).pop(self.key_id, None)


class ApiGatewayRequestValidator(ModelOfOurs, CloudFormationModel):
    """AWS::ApiGateway::RequestValidator; Ref is the validator id."""

    TYPE = "AWS::ApiGateway::RequestValidator"
    NAME_PROPERTY = "Name"
    REF = "validator_id"
    ATTRIBUTES = {"RequestValidatorId": "validator_id"}

    def __init__(self, account_id: str, region_name: str, rest_api_id: str, validator_id: str):
        self.account_id, self.region_name = account_id, region_name
        self.rest_api_id, self.validator_id = rest_api_id, validator_id

    @classmethod
    def create(cls, account_id: str, region_name: str, name: str,
               properties: dict[str, Any]) -> ApiGatewayRequestValidator:
        validator = gateway_backend(account_id, region_name).create_request_validator(
            properties["RestApiId"], name,
            boolean(properties.get("ValidateRequestBody", False)),
            boolean(properties.get("ValidateRequestParameters", False)),
        )
        return cls(account_id, region_name, properties["RestApiId"], validator.id)

    def update(self, name: str, properties: dict[str, Any]) -> bool:
        api = gateway_backend(self.account_id, self.region_name).apis.get(self.rest_api_id)
        validator = api.request_validators.get(self.validator_id) if api else None
        if validator is None or properties["RestApiId"] != self.rest_api_id:
            return False
        validator.name = name
        validator.validate_request_body = boolean(properties.get("ValidateRequestBody", False))
        validator.validate_request_parameters = boolean(properties.get("ValidateRequestParameters", False))
        return True

    def delete(self, account_id: str, region_name: str) -> None:
        api = gateway_backend(self.account_id, self.region_name).apis.get(self.rest_api_id)
        if api:
            api.request_validators.pop(self.validator_id, None)


class ApiGatewayModel(ModelOfOurs, CloudFormationModel):
    """AWS::ApiGateway::Model; Ref is the model name. Every property change is a replacement."""

    TYPE = "AWS::ApiGateway::Model"
    NAME_PROPERTY = "Name"
    REF = "name"

    def __init__(self, account_id: str, region_name: str, rest_api_id: str, name: str):
        self.account_id, self.region_name, self.rest_api_id, self.name = account_id, region_name, rest_api_id, name

    @classmethod
    def create(cls, account_id: str, region_name: str, name: str, properties: dict[str, Any]) -> ApiGatewayModel:
        schema = properties.get("Schema") or {}
        gateway_backend(account_id, region_name).create_model(
            properties["RestApiId"], name, properties.get("ContentType", "application/json"),
            properties.get("Description", ""), schema if isinstance(schema, str) else json.dumps(schema),
        )
        return cls(account_id, region_name, properties["RestApiId"], name)

    def delete(self, account_id: str, region_name: str) -> None:
        api = gateway_backend(self.account_id, self.region_name).apis.get(self.rest_api_id)
        if api:
            api.models.pop(self.name, None)


NEW_TYPES = (
    ApiGatewayStage, ApiGatewayApiKey, ApiGatewayUsagePlan, ApiGatewayUsagePlanKey,
    ApiGatewayRequestValidator, ApiGatewayModel,
)
