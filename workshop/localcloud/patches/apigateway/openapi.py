"""API Gateway's OpenAPI import: resources, methods, integrations, validators, models, authorizers.

moto's own `put_rest_api` refuses Swagger 2.0 (what SAM writes), turns
`x-amazon-apigateway-any-method` into a method of that name, cannot import MOCK integrations and
drops security, parameters, validators and models, so this importer is our own, after
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions.html;
it reuses moto's parsing of `x-amazon-apigateway-integration`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from moto.apigateway import models as apigw
from moto.apigateway.models import APIGatewayBackend, RestAPI

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch"}
ANY_METHOD = "x-amazon-apigateway-any-method"
PARAMETER_LOCATIONS = {"path": "path", "query": "querystring", "header": "header"}
MODEL_URL = "https://apigateway.amazonaws.com/restapis/{api_id}/models/{name}"


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
        # moto 5.2.5 passes the expression on under a misspelt name and stores None: set it here.
        created.identity_validation_expression = authorizer.get("identityValidationExpression")
        ids[name] = str(created.id)
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
        put_integration(backend, resource, http_method, integration)


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


def put_integration(
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
