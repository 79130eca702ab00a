"""API Gateway: REST APIs made by CloudFormation (from SAM templates) are complete.

- completed_types.py: moto's RestApi (its `Body` imported), Method (its whole integration) and
  Deployment (a `Ref` that is its id), as CloudFormation creates, updates and deletes them;
- openapi.py: the OpenAPI 2.0 / 3.0 import with API Gateway's extensions, which RestApi's Body uses;
- new_types.py: the types moto lacks (Stage, ApiKey, UsagePlan, UsagePlanKey, RequestValidator, Model);
- properties.py: CloudFormation property values as moto's backend takes them.

moto's CloudFormation finds resource types among the direct subclasses of
`CloudFormationModel` (cached by `parsing.get_model_list`), so importing new_types registers
them and `apply()` clears that cache.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from moto.apigateway import models as apigw
from moto.apigateway.models import APIGatewayBackend, Method, RestAPI
from moto.cloudformation import parsing

from . import completed_types as completed
from .new_types import NEW_TYPES
from .openapi import import_openapi

if TYPE_CHECKING:
    from ...server import LocalCloud

__all__ = ["NEW_TYPES", "apply", "import_openapi"]

_applied = False


def apply(cloud: LocalCloud | None = None) -> None:
    """Patch moto's API Gateway models and register the missing CloudFormation types (needs no running cloud)."""
    global _applied
    if _applied:
        return
    require_moto_hooks()
    RestAPI.create_from_cloudformation_json = classmethod(completed.create_rest_api)
    RestAPI.update_from_cloudformation_json = classmethod(completed.update_rest_api)
    RestAPI.delete_from_cloudformation_json = classmethod(completed.delete_rest_api)
    RestAPI.has_cfn_attr = classmethod(lambda cls, attr: attr in ("RootResourceId", "RestApiId"))
    RestAPI.get_cfn_attribute = completed.rest_api_attribute(RestAPI.get_cfn_attribute)
    Method.create_from_cloudformation_json = classmethod(completed.create_method)
    Method.update_from_cloudformation_json = classmethod(completed.update_method)
    Method.delete = completed.delete_method
    apigw.Deployment.physical_resource_id = property(lambda self: self.id)
    apigw.Deployment.has_cfn_attr = classmethod(lambda cls, attr: attr == "DeploymentId")
    apigw.Deployment.get_cfn_attribute = completed.deployment_attribute
    apigw.Deployment.update_from_cloudformation_json = classmethod(completed.update_deployment)
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()
    _applied = True


def require_moto_hooks() -> None:
    """Fail loudly, not subtly, when a moto upgrade moves what these patches replace."""
    needed = [
        (parsing, "get_model_list"), (parsing, "get_model_map"), (parsing, "get_name_type_map"),
        (APIGatewayBackend, "create_rest_api"), (APIGatewayBackend, "put_method"),
        (APIGatewayBackend, "put_method_response"), (APIGatewayBackend, "create_resource"),
        (APIGatewayBackend, "create_request_validator"), (APIGatewayBackend, "create_model"),
        (APIGatewayBackend, "create_stage"), (APIGatewayBackend, "create_api_key"),
        (APIGatewayBackend, "create_usage_plan"), (APIGatewayBackend, "create_usage_plan_key"),
        (APIGatewayBackend, "_build_integration_args"),
        (APIGatewayBackend, "_build_integration_responses_args"),
        (apigw.Resource, "add_integration"), (apigw.Integration, "create_integration_response"),
    ]
    missing = [f"{owner.__name__}.{name}" for owner, name in needed if not hasattr(owner, name)]
    if missing:
        raise RuntimeError(f"moto moved what patches/apigateway/ relies on: {missing}")
