"""The API Gateway types moto has, completed for CloudFormation: RestApi, Method and Deployment.

moto 5.2.5's CloudFormation ignores a RestApi's `Body` (the OpenAPI document that
aws-sam-translator writes for `ServerlessRestApi` and `DefinitionBody`), keeps only the type,
URI and method of an `AWS::ApiGateway::Method`'s integration, and answers a `Ref` to a
Deployment with the object itself. These functions replace moto's hooks on its own models
(`apply()` in this package installs them).
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from moto.apigateway import models as apigw
from moto.apigateway.models import Method, RestAPI

from .openapi import import_openapi, put_integration
from .properties import boolean, booleans, gateway_backend, tags

# ---------------------------------------------------------------- AWS::ApiGateway::RestApi


def create_rest_api(
    cls: type, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
    region_name: str, **kwargs: Any,
) -> RestAPI:
    properties = cloudformation_json.get("Properties") or {}
    document = _openapi_document(properties, account_id)
    info = document.get("info") or {}
    api = gateway_backend(account_id, region_name).create_rest_api(
        name=properties.get("Name") or info.get("title") or resource_name,
        description=properties.get("Description") or info.get("description") or "",
        api_key_source=properties.get("ApiKeySourceType"),
        endpoint_configuration=_endpoint_configuration(properties),
        tags=tags(properties.get("Tags")),
        policy=_policy(properties.get("Policy")),
        minimum_compression_size=properties.get("MinimumCompressionSize"),
        disable_execute_api_endpoint=properties.get("DisableExecuteApiEndpoint"),
    )
    api.binaryMediaTypes = list(properties.get("BinaryMediaTypes") or [])
    if document:
        import_openapi(gateway_backend(account_id, region_name), api, document)
    return api


def update_rest_api(
    cls: type, original_resource: RestAPI, new_resource_name: str,
    cloudformation_json: dict[str, Any], account_id: str, region_name: str,
) -> RestAPI:
    """Update in place: the API keeps its id (and stages), as on AWS."""
    properties = cloudformation_json.get("Properties") or {}
    document = _openapi_document(properties, account_id)
    api = original_resource
    api.name = properties.get("Name") or (document.get("info") or {}).get("title") or api.name
    api.description = properties.get("Description") or api.description
    api.binaryMediaTypes = list(properties.get("BinaryMediaTypes") or [])
    if document:
        _clear_definition(api)
        import_openapi(gateway_backend(account_id, region_name), api, document)
    return api


def delete_rest_api(
    cls: type, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
    region_name: str,
) -> None:
    gateway_backend(account_id, region_name).apis.pop(resource_name, None)


def rest_api_attribute(original: Any) -> Any:
    def get_cfn_attribute(self: RestAPI, attribute_name: str) -> Any:
        if attribute_name == "RestApiId":
            return self.id
        return original(self, attribute_name)

    return get_cfn_attribute


def _openapi_document(properties: dict[str, Any], account_id: str) -> dict[str, Any]:
    if body := properties.get("Body"):
        return _parse_document(body) if isinstance(body, str) else body
    if location := properties.get("BodyS3Location"):
        from moto.s3.models import s3_backends

        s3 = s3_backends[account_id]["aws"]
        key = s3.get_object(location["Bucket"], location["Key"], version_id=location.get("Version"))
        return _parse_document(key.value.decode())
    return {}


def _parse_document(text: str) -> dict[str, Any]:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return yaml.safe_load(text)


def _endpoint_configuration(properties: dict[str, Any]) -> dict[str, Any] | None:
    config = properties.get("EndpointConfiguration")
    if not config:
        return None
    configuration = {"types": config.get("Types", ["EDGE"])}
    if "VpcEndpointIds" in config:
        configuration["vpcEndpointIds"] = config["VpcEndpointIds"]
    return configuration


def _policy(policy: Any) -> str | None:
    return json.dumps(policy) if isinstance(policy, dict) else policy


def _clear_definition(api: RestAPI) -> None:
    """Forget what a previous Body defined, keeping the root resource (and its id)."""
    root = api.default
    root.resource_methods = {}
    api.resources = {root.id: root}
    api.models = {}
    api.request_validators = {}
    api.authorizers = {}
    api.gateway_responses = {}


# ---------------------------------------------------------------- AWS::ApiGateway::Method


def create_method(
    cls: type, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
    region_name: str, **kwargs: Any,
) -> Method:
    properties = cloudformation_json.get("Properties") or {}
    backend = gateway_backend(account_id, region_name)
    api_id, resource_id = properties["RestApiId"], properties["ResourceId"]
    http_method = properties["HttpMethod"].upper()
    method = backend.put_method(
        api_id, resource_id, http_method, properties.get("AuthorizationType", "NONE"),
        api_key_required=boolean(properties.get("ApiKeyRequired", False)),
        request_parameters=booleans(properties.get("RequestParameters")),
        request_models=properties.get("RequestModels"),
        operation_name=properties.get("OperationName"),
        authorizer_id=properties.get("AuthorizerId"),
        authorization_scopes=properties.get("AuthorizationScopes"),
        request_validator_id=properties.get("RequestValidatorId"),
    )
    method.cfn_location = (account_id, region_name, api_id, resource_id)
    for response in properties.get("MethodResponses") or []:
        backend.put_method_response(
            api_id, resource_id, http_method, str(response["StatusCode"]),
            response_models=response.get("ResponseModels"),
            response_parameters=booleans(response.get("ResponseParameters")),
        )
    if integration := properties.get("Integration"):
        resource = backend.get_resource(api_id, resource_id)
        put_integration(
            backend, resource, http_method, _integration_doc(integration), _integration_responses(integration)
        )
    return method


def _integration_doc(integration: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation Integration property in the shape of `x-amazon-apigateway-integration`."""
    return {
        "type": integration.get("Type", "MOCK"),
        "uri": integration.get("Uri"),
        "httpMethod": integration.get("IntegrationHttpMethod"),
        "credentials": integration.get("Credentials"),
        "requestTemplates": integration.get("RequestTemplates"),
        "requestParameters": integration.get("RequestParameters"),
        "passthroughBehavior": integration.get("PassthroughBehavior"),
        "contentHandling": integration.get("ContentHandling"),
        "timeoutInMillis": integration.get("TimeoutInMillis"),
        "connectionType": integration.get("ConnectionType"),
        "cacheKeyParameters": integration.get("CacheKeyParameters"),
    }


def _integration_responses(integration: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "status_code": response["StatusCode"],
            "selection_pattern": response.get("SelectionPattern"),
            "response_templates": response.get("ResponseTemplates"),
            "response_parameters": response.get("ResponseParameters"),
            "content_handling": response.get("ContentHandling"),
        }
        for response in integration.get("IntegrationResponses") or []
    ]


def update_method(
    cls: type, original_resource: Method, new_resource_name: str,
    cloudformation_json: dict[str, Any], account_id: str, region_name: str,
) -> Method:
    if getattr(original_resource, "cfn_location", None):
        original_resource.delete(account_id, region_name)
    return create_method(cls, new_resource_name, cloudformation_json, account_id, region_name)


def delete_method(self: Method, account_id: str, region_name: str) -> None:
    account_id, region_name, api_id, resource_id = self.cfn_location  # AttributeError -> moto's fallback
    api = gateway_backend(account_id, region_name).apis.get(api_id)
    resource = api.resources.get(resource_id) if api else None
    if resource and resource.resource_methods.get(self.http_method) is self:
        resource.delete_method(self.http_method)


# ---------------------------------------------------------------- AWS::ApiGateway::Deployment


def deployment_attribute(self: apigw.Deployment, attribute_name: str) -> str:
    if attribute_name == "DeploymentId":
        return self.id
    from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

    raise UnformattedGetAttTemplateException()


def update_deployment(
    cls: type, original_resource: apigw.Deployment, new_resource_name: str,
    cloudformation_json: dict[str, Any], account_id: str, region_name: str,
) -> apigw.Deployment:
    properties = cloudformation_json.get("Properties") or {}
    original_resource.description = properties.get("Description", "")
    return original_resource
