"""API Gateway: REST APIs made by CloudFormation (from SAM templates) are complete.

moto 5.2.5's CloudFormation ignores a RestApi's `Body` (the OpenAPI document that
aws-sam-translator writes for `ServerlessRestApi` and `DefinitionBody`), has no
`AWS::ApiGateway::Stage`, `ApiKey`, `UsagePlan`, `UsagePlanKey`, `RequestValidator` or `Model`,
keeps only the type, URI and method of an `AWS::ApiGateway::Method`'s integration, and answers a
`Ref` to a Deployment with the object itself. moto's own `put_rest_api` refuses Swagger 2.0
(what SAM writes), turns `x-amazon-apigateway-any-method` into a method of that name, cannot
import MOCK integrations and drops security, parameters, validators and models, so the
importer here is our own; it reuses moto's parsing of `x-amazon-apigateway-integration`.

moto's CloudFormation finds resource types among the direct subclasses of
`CloudFormationModel` (cached by `parsing.get_model_list`), so the new types below subclass it
directly and `apply()` clears that cache.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import yaml
from moto.apigateway import models as apigw
from moto.apigateway.models import APIGatewayBackend, Method, RestAPI, apigateway_backends
from moto.cloudformation import parsing
from moto.core.common_models import CloudFormationModel

from .models import ModelOfOurs

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch"}
ANY_METHOD = "x-amazon-apigateway-any-method"
PARAMETER_LOCATIONS = {"path": "path", "query": "querystring", "header": "header"}
MODEL_URL = "https://apigateway.amazonaws.com/restapis/{api_id}/models/{name}"

_applied = False


def apply() -> None:
    """Patch moto's API Gateway models and register the missing CloudFormation types."""
    global _applied
    if _applied:
        return
    _require_moto_hooks()
    RestAPI.create_from_cloudformation_json = classmethod(_create_rest_api)
    RestAPI.update_from_cloudformation_json = classmethod(_update_rest_api)
    RestAPI.delete_from_cloudformation_json = classmethod(_delete_rest_api)
    RestAPI.has_cfn_attr = classmethod(lambda cls, attr: attr in ("RootResourceId", "RestApiId"))
    RestAPI.get_cfn_attribute = _rest_api_attribute(RestAPI.get_cfn_attribute)
    Method.create_from_cloudformation_json = classmethod(_create_method)
    Method.update_from_cloudformation_json = classmethod(_update_method)
    Method.delete = _delete_method
    apigw.Deployment.physical_resource_id = property(lambda self: self.id)
    apigw.Deployment.has_cfn_attr = classmethod(lambda cls, attr: attr == "DeploymentId")
    apigw.Deployment.get_cfn_attribute = _deployment_attribute
    apigw.Deployment.update_from_cloudformation_json = classmethod(_update_deployment)
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()
    _applied = True


def _require_moto_hooks() -> None:
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
        raise RuntimeError(f"moto moved what patches/apigateway.py relies on: {missing}")


# ---------------------------------------------------------------- AWS::ApiGateway::RestApi


def _backend(account_id: str, region_name: str) -> APIGatewayBackend:
    return apigateway_backends[account_id][region_name]


def _create_rest_api(
    cls: type, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
    region_name: str, **kwargs: Any,
) -> RestAPI:
    properties = cloudformation_json.get("Properties") or {}
    document = _openapi_document(properties, account_id)
    info = document.get("info") or {}
    api = _backend(account_id, region_name).create_rest_api(
        name=properties.get("Name") or info.get("title") or resource_name,
        description=properties.get("Description") or info.get("description") or "",
        api_key_source=properties.get("ApiKeySourceType"),
        endpoint_configuration=_endpoint_configuration(properties),
        tags=_tags(properties.get("Tags")),
        policy=_policy(properties.get("Policy")),
        minimum_compression_size=properties.get("MinimumCompressionSize"),
        disable_execute_api_endpoint=properties.get("DisableExecuteApiEndpoint"),
    )
    api.binaryMediaTypes = list(properties.get("BinaryMediaTypes") or [])
    if document:
        import_openapi(_backend(account_id, region_name), api, document)
    return api


def _update_rest_api(
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
        import_openapi(_backend(account_id, region_name), api, document)
    return api


def _delete_rest_api(
    cls: type, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
    region_name: str,
) -> None:
    _backend(account_id, region_name).apis.pop(resource_name, None)


def _rest_api_attribute(original: Any) -> Any:
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


def _tags(tags: list[dict[str, str]] | None) -> dict[str, str] | None:
    return {tag["Key"]: tag["Value"] for tag in tags} if tags else None


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


# ---------------------------------------------------------------- OpenAPI import


def import_openapi(backend: APIGatewayBackend, api: RestAPI, document: dict[str, Any]) -> None:
    """Build resources, methods, integrations, validators and models from an OpenAPI 2.0/3.0
    document with API Gateway extensions, as API Gateway's import does."""
    if media_types := document.get("x-amazon-apigateway-binary-media-types"):
        api.binaryMediaTypes = sorted(set(api.binaryMediaTypes) | set(media_types))
    if key_source := document.get("x-amazon-apigateway-api-key-source"):
        api.api_key_source = key_source
    _import_models(backend, api, document)
    validator_ids = _import_request_validators(backend, api, document)
    authorizer_ids = _import_authorizers(backend, api, document)
    _import_gateway_responses(api, document)
    for path, path_item in (document.get("paths") or {}).items():
        resource = _ensure_resource(backend, api, path)
        for key, operation in path_item.items():
            method = "ANY" if key == ANY_METHOD else key.upper() if key.lower() in HTTP_METHODS else None
            if method and isinstance(operation, dict):
                _import_method(
                    backend, api, document, resource, method, operation,
                    path_item.get("parameters") or [], validator_ids, authorizer_ids,
                )


def _ensure_resource(backend: APIGatewayBackend, api: RestAPI, path: str) -> apigw.Resource:
    resource = api.default
    for part in [p for p in path.split("/") if p]:
        child = next(
            (r for r in api.resources.values() if r.parent_id == resource.id and r.path_part == part),
            None,
        )
        resource = child or backend.create_resource(api.id, resource.id, part)
    return resource


def _import_models(backend: APIGatewayBackend, api: RestAPI, document: dict[str, Any]) -> None:
    schemas = document.get("definitions") or (document.get("components") or {}).get("schemas") or {}
    for name, schema in schemas.items():
        _create_model(backend, api, name, schema)


def _create_model(backend: APIGatewayBackend, api: RestAPI, name: str, schema: dict[str, Any]) -> None:
    schema = _model_references_as_urls(schema, api.id)
    backend.create_model(api.id, name, "application/json", schema.get("description", ""), json.dumps(schema))


def _model_references_as_urls(schema: Any, api_id: str) -> Any:
    """API Gateway stores `#/definitions/X` as the URL of model X; the gateway resolves those."""
    if isinstance(schema, dict):
        return {
            key: _model_url(value, api_id) if key == "$ref" and isinstance(value, str)
            else _model_references_as_urls(value, api_id)
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [_model_references_as_urls(item, api_id) for item in schema]
    return schema


def _model_url(reference: str, api_id: str) -> str:
    for prefix in ("#/definitions/", "#/components/schemas/"):
        if reference.startswith(prefix):
            return MODEL_URL.format(api_id=api_id, name=reference[len(prefix):])
    return reference


def _model_name(schema: dict[str, Any] | None, backend: APIGatewayBackend, api: RestAPI) -> str | None:
    """The model a schema names, creating one for an inline schema, as the import does."""
    if not schema:
        return None
    reference = schema.get("$ref")
    if isinstance(reference, str):
        return reference.rsplit("/", 1)[-1]
    name = "Model" + hashlib.sha1(json.dumps(schema, sort_keys=True).encode()).hexdigest()[:10]
    if name not in api.models:
        _create_model(backend, api, name, schema)
    return name


def _import_request_validators(
    backend: APIGatewayBackend, api: RestAPI, document: dict[str, Any]
) -> dict[str, str]:
    ids = {}
    for name, settings in (document.get("x-amazon-apigateway-request-validators") or {}).items():
        validator = backend.create_request_validator(
            api.id, name,
            bool(settings.get("validateRequestBody", False)),
            bool(settings.get("validateRequestParameters", False)),
        )
        ids[name] = validator.id
    return ids


def _security_schemes(document: dict[str, Any]) -> dict[str, Any]:
    return document.get("securityDefinitions") or (document.get("components") or {}).get("securitySchemes") or {}


def _import_authorizers(backend: APIGatewayBackend, api: RestAPI, document: dict[str, Any]) -> dict[str, str]:
    ids = {}
    for name, scheme in _security_schemes(document).items():
        authorizer = scheme.get("x-amazon-apigateway-authorizer")
        if not authorizer:
            continue
        created = backend.create_authorizer(
            api.id, name, authorizer.get("type", "token").upper(),
            provider_arns=authorizer.get("providerARNs"),
            auth_type=scheme.get("x-amazon-apigateway-authtype"),
            authorizer_uri=authorizer.get("authorizerUri"),
            authorizer_credentials=authorizer.get("authorizerCredentials"),
            identity_source=authorizer.get("identitySource")
            or f"method.request.header.{scheme.get('name', 'Authorization')}",
            identiy_validation_expression=authorizer.get("identityValidationExpression"),
            authorizer_result_ttl=authorizer.get("authorizerResultTtlInSeconds"),
        )
        ids[name] = created.id
    return ids


def _import_gateway_responses(api: RestAPI, document: dict[str, Any]) -> None:
    for response_type, settings in (document.get("x-amazon-apigateway-gateway-responses") or {}).items():
        api.put_gateway_response(
            response_type,
            status_code=settings.get("statusCode"),
            response_parameters=settings.get("responseParameters"),
            response_templates=settings.get("responseTemplates"),
        )


def _import_method(
    backend: APIGatewayBackend, api: RestAPI, document: dict[str, Any], resource: apigw.Resource,
    http_method: str, operation: dict[str, Any], path_parameters: list[dict[str, Any]],
    validator_ids: dict[str, str], authorizer_ids: dict[str, str],
) -> None:
    parameters = [_resolve(document, p) for p in [*path_parameters, *(operation.get("parameters") or [])]]
    authorization_type, authorizer_id, api_key_required = _authorization(document, operation, authorizer_ids)
    validator_name = operation.get(
        "x-amazon-apigateway-request-validator", document.get("x-amazon-apigateway-request-validator")
    )
    backend.put_method(
        api.id, resource.id, http_method, authorization_type,
        api_key_required=api_key_required,
        request_parameters=_request_parameters(parameters) or None,
        request_models=_request_models(backend, api, document, operation, parameters) or None,
        operation_name=operation.get("operationId"),
        authorizer_id=authorizer_id,
        request_validator_id=validator_ids.get(validator_name) if validator_name else None,
    )
    for status_code, response in (operation.get("responses") or {}).items():
        if str(status_code).isdigit():
            response = _resolve(document, response)
            backend.put_method_response(
                api.id, resource.id, http_method, str(status_code),
                response_models=_response_models(backend, api, document, operation, response) or None,
                response_parameters={
                    f"method.response.header.{header}": False for header in response.get("headers") or {}
                } or None,
            )
    if integration := operation.get("x-amazon-apigateway-integration"):
        _put_integration(backend, resource, http_method, integration)


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    reference = node.get("$ref") if isinstance(node, dict) else None
    if not isinstance(reference, str) or not reference.startswith("#/"):
        return node
    target: Any = document
    for part in reference[2:].split("/"):
        target = target.get(part, {})
    return target


def _authorization(
    document: dict[str, Any], operation: dict[str, Any], authorizer_ids: dict[str, str]
) -> tuple[str, str | None, bool]:
    """authorizationType, authorizerId and apiKeyRequired from `security`, as the import maps them."""
    schemes = _security_schemes(document)
    requirements = operation.get("security", document.get("security")) or []
    authorization_type, authorizer_id, api_key_required = "NONE", None, False
    for name in [name for requirement in requirements for name in requirement]:
        scheme = schemes.get(name) or {}
        authorizer = scheme.get("x-amazon-apigateway-authorizer")
        if scheme.get("x-amazon-apigateway-authtype") == "awsSigv4":
            authorization_type = "AWS_IAM"
        elif authorizer:
            is_cognito = authorizer.get("type", "").lower() == "cognito_user_pools"
            authorization_type = "COGNITO_USER_POOLS" if is_cognito else "CUSTOM"
            authorizer_id = authorizer_ids.get(name)
        elif scheme.get("type") == "apiKey" and str(scheme.get("name", "")).lower() == "x-api-key":
            api_key_required = True
    return authorization_type, authorizer_id, api_key_required


def _request_parameters(parameters: list[dict[str, Any]]) -> dict[str, bool]:
    return {
        f"method.request.{PARAMETER_LOCATIONS[p['in']]}.{p['name']}": bool(p.get("required", p["in"] == "path"))
        for p in parameters
        if p.get("in") in PARAMETER_LOCATIONS
    }


def _request_models(
    backend: APIGatewayBackend, api: RestAPI, document: dict[str, Any], operation: dict[str, Any],
    parameters: list[dict[str, Any]],
) -> dict[str, str]:
    if request_body := operation.get("requestBody"):  # OpenAPI 3
        return _content_models(backend, api, _resolve(document, request_body).get("content") or {})
    body = next((p for p in parameters if p.get("in") == "body"), None)  # Swagger 2.0
    name = _model_name(body.get("schema"), backend, api) if body else None
    content_types = operation.get("consumes") or document.get("consumes") or ["application/json"]
    return {ctype: name for ctype in content_types} if name else {}


def _response_models(
    backend: APIGatewayBackend, api: RestAPI, document: dict[str, Any], operation: dict[str, Any],
    response: dict[str, Any],
) -> dict[str, str]:
    if content := response.get("content"):  # OpenAPI 3
        return _content_models(backend, api, content)
    name = _model_name(response.get("schema"), backend, api)
    content_types = operation.get("produces") or document.get("produces") or ["application/json"]
    return {ctype: name for ctype in content_types} if name else {}


def _content_models(backend: APIGatewayBackend, api: RestAPI, content: dict[str, Any]) -> dict[str, str]:
    models = {ctype: _model_name(media.get("schema"), backend, api) for ctype, media in content.items()}
    return {ctype: name for ctype, name in models.items() if name}


def _put_integration(
    backend: APIGatewayBackend, resource: apigw.Resource, http_method: str,
    integration_doc: dict[str, Any], responses: list[dict[str, Any]] | None = None,
) -> None:
    """Put an integration given as `x-amazon-apigateway-integration`, with its responses
    (by default those of the document, parsed by moto)."""
    arguments = {k: v for k, v in backend._build_integration_args(integration_doc).items() if v is not None}
    arguments["integration_type"] = str(arguments.get("integration_type", "MOCK")).upper()
    arguments.setdefault("uri", "")
    arguments["passthrough_behavior"] = str(arguments.get("passthrough_behavior", "WHEN_NO_MATCH")).upper()
    # Resource.add_integration, not backend.put_integration: the latter refuses valid documents
    # (MOCK without a uri, caller credentials `arn:aws:iam::*:user/*`).
    integration = resource.add_integration(http_method, **arguments)
    if integration_doc.get("cacheKeyParameters"):
        integration.cache_key_parameters = list(integration_doc["cacheKeyParameters"])
    if responses is None:
        responses = backend._build_integration_responses_args(integration_doc)
    for response in responses:
        integration.create_integration_response(
            str(response["status_code"]),
            response.get("selection_pattern") or None,
            response.get("response_templates") or {},
            response.get("response_parameters") or {},
            response.get("content_handling"),
        )


# ---------------------------------------------------------------- AWS::ApiGateway::Method


def _create_method(
    cls: type, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
    region_name: str, **kwargs: Any,
) -> Method:
    properties = cloudformation_json.get("Properties") or {}
    backend = _backend(account_id, region_name)
    api_id, resource_id = properties["RestApiId"], properties["ResourceId"]
    http_method = properties["HttpMethod"].upper()
    method = backend.put_method(
        api_id, resource_id, http_method, properties.get("AuthorizationType", "NONE"),
        api_key_required=_boolean(properties.get("ApiKeyRequired", False)),
        request_parameters=_booleans(properties.get("RequestParameters")),
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
            response_parameters=_booleans(response.get("ResponseParameters")),
        )
    if integration := properties.get("Integration"):
        resource = backend.get_resource(api_id, resource_id)
        _put_integration(
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


def _update_method(
    cls: type, original_resource: Method, new_resource_name: str,
    cloudformation_json: dict[str, Any], account_id: str, region_name: str,
) -> Method:
    if getattr(original_resource, "cfn_location", None):
        original_resource.delete(account_id, region_name)
    return _create_method(cls, new_resource_name, cloudformation_json, account_id, region_name)


def _delete_method(self: Method, account_id: str, region_name: str) -> None:
    account_id, region_name, api_id, resource_id = self.cfn_location  # AttributeError -> moto's fallback
    api = _backend(account_id, region_name).apis.get(api_id)
    resource = api.resources.get(resource_id) if api else None
    if resource and resource.resource_methods.get(self.http_method) is self:
        resource.delete_method(self.http_method)


def _boolean(value: Any) -> bool:
    return value.lower() == "true" if isinstance(value, str) else bool(value)


def _booleans(mapping: dict[str, Any] | None) -> dict[str, bool] | None:
    return {key: _boolean(value) for key, value in mapping.items()} if mapping else None


# ---------------------------------------------------------------- AWS::ApiGateway::Deployment


def _deployment_attribute(self: apigw.Deployment, attribute_name: str) -> str:
    if attribute_name == "DeploymentId":
        return self.id
    from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

    raise UnformattedGetAttTemplateException()


def _update_deployment(
    cls: type, original_resource: apigw.Deployment, new_resource_name: str,
    cloudformation_json: dict[str, Any], account_id: str, region_name: str,
) -> apigw.Deployment:
    properties = cloudformation_json.get("Properties") or {}
    original_resource.description = properties.get("Description", "")
    return original_resource


# ---------------------------------------------------------------- the missing types


class ApiGatewayStage(ModelOfOurs, CloudFormationModel):
    """AWS::ApiGateway::Stage (SAM writes one per API); Ref is the stage name."""

    TYPE = "AWS::ApiGateway::Stage"
    NAME_PROPERTY = "StageName"
    REF = "stage_name"

    def __init__(self, account_id: str, region_name: str, rest_api_id: str, stage_name: str):
        self.account_id, self.region_name = account_id, region_name
        self.rest_api_id, self.stage_name = rest_api_id, stage_name

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> ApiGatewayStage:
        properties = cloudformation_json.get("Properties") or {}
        stage = cls(account_id, region_name, properties["RestApiId"], resource_name)
        stage._put(properties)
        return stage

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: ApiGatewayStage, new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> ApiGatewayStage:
        properties = cloudformation_json.get("Properties") or {}
        original = (original_resource.rest_api_id, original_resource.stage_name)
        if original == (properties["RestApiId"], new_resource_name):
            original_resource._put(properties)
            return original_resource
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

    def _put(self, properties: dict[str, Any]) -> None:
        backend = _backend(self.account_id, self.region_name)
        api = backend.get_rest_api(self.rest_api_id)
        deployment_id = getattr(properties.get("DeploymentId"), "id", properties.get("DeploymentId"))
        variables = dict(properties.get("Variables") or {})
        if stage := api.stages.get(self.stage_name):
            stage.deployment_id, stage.variables = deployment_id, variables
            stage.description = properties.get("Description", "")
            return
        backend.create_stage(
            self.rest_api_id, self.stage_name, deployment_id, variables=variables,
            description=properties.get("Description", ""), tags=_tags(properties.get("Tags")),
            tracing_enabled=properties.get("TracingEnabled"),
        )

    def delete(self, account_id: str, region_name: str) -> None:
        api = _backend(self.account_id, self.region_name).apis.get(self.rest_api_id)
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
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> ApiGatewayApiKey:
        properties = cloudformation_json.get("Properties") or {}
        payload = {
            "name": resource_name,
            "description": properties.get("Description"),
            "enabled": _boolean(properties.get("Enabled", False)),
            "value": properties.get("Value"),
            "customerId": properties.get("CustomerId"),
            "generateDistinctId": _boolean(properties.get("GenerateDistinctId", False)),
            "stageKeys": [f"{k['RestApiId']}/{k['StageName']}" for k in properties.get("StageKeys") or []],
            "tags": _tags(properties.get("Tags")),
        }
        key = _backend(account_id, region_name).create_api_key({k: v for k, v in payload.items() if v is not None})
        return cls(account_id, region_name, key.id)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: ApiGatewayApiKey, new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> ApiGatewayApiKey:
        properties = cloudformation_json.get("Properties") or {}
        key = _backend(account_id, region_name).keys.get(original_resource.key_id)
        if key is None or (properties.get("Value") and properties["Value"] != key.value):
            original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)
        key.name, key.description = new_resource_name, properties.get("Description")
        key.enabled = _boolean(properties.get("Enabled", False))
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        _backend(self.account_id, self.region_name).keys.pop(self.key_id, None)


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
            "tags": _tags(properties.get("Tags")),
        }

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> ApiGatewayUsagePlan:
        payload = cls._payload(resource_name, cloudformation_json.get("Properties") or {})
        plan = _backend(account_id, region_name).create_usage_plan(payload)
        return cls(account_id, region_name, plan.id)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: ApiGatewayUsagePlan, new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> ApiGatewayUsagePlan:
        plan = _backend(account_id, region_name).usage_plans[original_resource.plan_id]
        payload = cls._payload(new_resource_name, cloudformation_json.get("Properties") or {})
        plan.name, plan.description, plan.api_stages = payload["name"], payload["description"], payload["apiStages"]
        plan.quota, plan.throttle = payload["quota"], payload["throttle"]
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        backend = _backend(self.account_id, self.region_name)
        backend.usage_plans.pop(self.plan_id, None)
        backend.usage_plan_keys.pop(self.plan_id, None)


class ApiGatewayUsagePlanKey(ModelOfOurs, CloudFormationModel):
    """AWS::ApiGateway::UsagePlanKey; Ref is the key id."""

    TYPE = "AWS::ApiGateway::UsagePlanKey"
    NAME_PROPERTY = ""
    REF = "key_id"
    ATTRIBUTES = {"Id": "key_id"}

    def __init__(self, account_id: str, region_name: str, plan_id: str, key_id: str):
        self.account_id, self.region_name, self.plan_id, self.key_id = account_id, region_name, plan_id, key_id

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> ApiGatewayUsagePlanKey:
        properties = cloudformation_json.get("Properties") or {}
        plan_id = properties["UsagePlanId"]
        _backend(account_id, region_name).create_usage_plan_key(
            plan_id, {"keyId": properties["KeyId"], "keyType": properties.get("KeyType", "API_KEY")}
        )
        return cls(account_id, region_name, plan_id, properties["KeyId"])

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: ApiGatewayUsagePlanKey, new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> ApiGatewayUsagePlanKey:
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        _backend(self.account_id, self.region_name).usage_plan_keys.get(self.plan_id, {}).pop(self.key_id, None)


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
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> ApiGatewayRequestValidator:
        properties = cloudformation_json.get("Properties") or {}
        validator = _backend(account_id, region_name).create_request_validator(
            properties["RestApiId"], resource_name,
            _boolean(properties.get("ValidateRequestBody", False)),
            _boolean(properties.get("ValidateRequestParameters", False)),
        )
        return cls(account_id, region_name, properties["RestApiId"], validator.id)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: ApiGatewayRequestValidator, new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> ApiGatewayRequestValidator:
        properties = cloudformation_json.get("Properties") or {}
        api = _backend(account_id, region_name).apis.get(original_resource.rest_api_id)
        validator = api.request_validators.get(original_resource.validator_id) if api else None
        if validator is None or properties["RestApiId"] != original_resource.rest_api_id:
            original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)
        validator.name = new_resource_name
        validator.validate_request_body = _boolean(properties.get("ValidateRequestBody", False))
        validator.validate_request_parameters = _boolean(properties.get("ValidateRequestParameters", False))
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        api = _backend(self.account_id, self.region_name).apis.get(self.rest_api_id)
        if api:
            api.request_validators.pop(self.validator_id, None)


class ApiGatewayModel(ModelOfOurs, CloudFormationModel):
    """AWS::ApiGateway::Model; Ref is the model name."""

    TYPE = "AWS::ApiGateway::Model"
    NAME_PROPERTY = "Name"
    REF = "name"

    def __init__(self, account_id: str, region_name: str, rest_api_id: str, name: str):
        self.account_id, self.region_name, self.rest_api_id, self.name = account_id, region_name, rest_api_id, name

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> ApiGatewayModel:
        properties = cloudformation_json.get("Properties") or {}
        schema = properties.get("Schema") or {}
        _backend(account_id, region_name).create_model(
            properties["RestApiId"], resource_name, properties.get("ContentType", "application/json"),
            properties.get("Description", ""), schema if isinstance(schema, str) else json.dumps(schema),
        )
        return cls(account_id, region_name, properties["RestApiId"], resource_name)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: ApiGatewayModel, new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> ApiGatewayModel:
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        api = _backend(self.account_id, self.region_name).apis.get(self.rest_api_id)
        if api:
            api.models.pop(self.name, None)


NEW_TYPES = (
    ApiGatewayStage, ApiGatewayApiKey, ApiGatewayUsagePlan, ApiGatewayUsagePlanKey,
    ApiGatewayRequestValidator, ApiGatewayModel,
)
