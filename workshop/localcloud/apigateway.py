"""The API Gateway REST API data plane: serves the REST APIs held in moto's apigateway backend.

A WSGI app mounted at `/_aws/execute-api/{restApiId}/{stageName}/...` (it strips that prefix
itself). It follows API Gateway's documented request flow: route to a resource and method,
method request (API key, request validators), integration request (`AWS_PROXY` to Lambda with
the payload format 1.0 event; `AWS` to Lambda, DynamoDB or Step Functions with VTL mapping
templates and passthrough behaviour; `MOCK`), integration response (selection patterns,
response templates, response parameters, `$context.responseOverride`), and gateway responses
for its own errors (`Missing Authentication Token`, `Forbidden`, `Invalid request body`...).
"""

from __future__ import annotations

import base64
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import jsonschema
import referencing
from moto.apigateway.models import Integration, IntegrationResponse, Method, Resource, RestAPI, Stage
from werkzeug.datastructures import Headers
from werkzeug.http import parse_accept_header, parse_options_header
from werkzeug.wrappers import Request, Response

from . import vtl
from .concurrency import Throttled

LOG = logging.getLogger(__name__)

MOUNT_PREFIX = "/_aws/execute-api/"

InvokeLambda = Callable[[str, bytes], tuple[bytes, str | None]]
# (account, region, service, action, body, credentials=the integration's credentials role ARN or None)
CallAwsService = Callable[..., tuple[int, bytes]]

LAMBDA_URI = re.compile(r"^arn:[^:]+:apigateway:[^:]+:lambda:path/[^/]+/functions/(?P<function>.+)/invocations$")
SERVICE_URI = re.compile(
    r"^arn:[^:]+:apigateway:(?P<region>[^:]+):(?P<service>[^:]+):(?P<kind>action|path)/(?P<target>.+)$"
)
STAGE_VARIABLE = re.compile(r"\$\{stageVariables\.([A-Za-z0-9_.\-:]+)\}")
MODEL_URL = "https://apigateway.amazonaws.com/restapis/{api_id}/models/{name}"
PROXY_RESPONSE_KEYS = {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}
HOP_BY_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "upgrade"}

# Gateway response type -> (status, x-amzn-ErrorType), as API Gateway answers by default.
GATEWAY_RESPONSES = {
    "MISSING_AUTHENTICATION_TOKEN": (403, "MissingAuthenticationTokenException"),
    "INVALID_API_KEY": (403, "ForbiddenException"),
    "BAD_REQUEST_PARAMETERS": (400, "BadRequestException"),
    "BAD_REQUEST_BODY": (400, "BadRequestException"),
    "UNSUPPORTED_MEDIA_TYPE": (415, "UnsupportedMediaTypeException"),
    "API_CONFIGURATION_ERROR": (500, "InternalServerErrorException"),
    "INTEGRATION_FAILURE": (504, "InternalServerErrorException"),
    "UNAUTHORIZED": (401, "UnauthorizedException"),
    "ACCESS_DENIED": (403, "AccessDeniedException"),
    "AUTHORIZER_FAILURE": (500, "AuthorizerFailureException"),
    "AUTHORIZER_CONFIGURATION_ERROR": (500, "AuthorizerConfigurationException"),
    "DEFAULT_5XX": (502, "InternalServerErrorException"),
}


class GatewayError(Exception):
    """A response API Gateway gives itself (a "gateway response"), not the integration."""

    def __init__(self, response_type: str, message: str | None, status: int | None = None):  # None: {"message": null}
        super().__init__(message)
        self.response_type = response_type
        self.message = message
        default_status, self.error_type = GATEWAY_RESPONSES[response_type]
        self.status = status or default_status


def configuration_error(reason: str) -> GatewayError:
    """What API Gateway answers (and logs) when the API itself is wrong."""
    LOG.warning("Execution failed due to configuration error: %s", reason)
    return GatewayError("API_CONFIGURATION_ERROR", "Internal server error")


def lambda_refused(throttled: Throttled) -> GatewayError:
    """Lambda API refused the invocation (throttled): API Gateway answers 500 Internal server error
    (docs: lambda/latest/dg/services-apigateway-errors.html), an integration failure that a
    gateway response for INTEGRATION_FAILURE or DEFAULT_5XX can reshape."""
    LOG.warning("Lambda invocation failed with status: %s (%s). Execution failed: %s",
                throttled.status, throttled.reason, throttled.message)
    return GatewayError("INTEGRATION_FAILURE", "Internal server error", status=500)


def malformed_proxy_response(reason: str) -> GatewayError:
    LOG.warning("Execution failed due to configuration error: Malformed Lambda proxy response (%s)", reason)
    return GatewayError("DEFAULT_5XX", "Internal server error", status=502)


@dataclass
class Call:
    """One request on its way through the gateway."""

    request: Request
    account_id: str
    backend: Any  # moto's APIGatewayBackend holding the API (and its keys and usage plans)
    api: RestAPI
    stage: Stage
    path: str
    resource: Resource
    method: Method
    path_params: dict[str, str]
    request_id: str
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def stage_variables(self) -> dict[str, str]:
        return dict(self.stage.variables or {})

    def params(self) -> dict[str, dict[str, str]]:
        """The method request's parameters, as `$input.params()` shows them."""
        return {
            "path": dict(self.path_params),
            "querystring": {name: values[-1] for name, values in self.request.args.lists()},
            "header": {name: value for name, value in self.request.headers.items()},
        }


class RestApiGateway:
    """WSGI app serving moto's REST APIs at `/_aws/execute-api/{restApiId}/{stageName}/...`."""

    def __init__(
        self,
        invoke_lambda: InvokeLambda,
        call_aws_service: CallAwsService,
        backends: Mapping[str, Mapping[str, Any]] | None = None,
    ):
        self.invoke_lambda = invoke_lambda
        self.call_aws_service = call_aws_service
        if backends is None:
            from moto.apigateway.models import apigateway_backends as backends
        self.backends = backends
        self.authorizer_cache = AuthorizerCache()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self.handle(Request(environ))(environ, start_response)

    def handle(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        api: RestAPI | None = None
        call: Call | None = None
        try:
            api_id, stage_name, path = split_mount_path(request.script_root + request.path)
            located = self.find_api(api_id)
            if located is None:
                return json_response(404, {"message": "Not Found"}, request_id, "NotFoundException")
            account_id, backend, api = located
            stage = api.stages.get(stage_name)
            if stage is None:
                return json_response(403, {"message": "Forbidden"}, request_id, "ForbiddenException")
            resource, method, path_params = route(api, request.method, path)
            call = Call(request, account_id, backend, api, stage, path, resource, method, path_params, request_id)
            call.context = context_variables(call)
            self.authorize(call)
            check_api_key(call)
            validate_request(call)
            response = self.integrate(call)
        except GatewayError as error:
            response = gateway_error_response(error, api, call, request_id)
        except Exception:  # noqa: BLE001 - a bug here must still look like API Gateway's 500
            LOG.exception("the local API Gateway failed on %s %s", request.method, request.path)
            response = json_response(
                500, {"message": "Internal server error"}, request_id, "InternalServerErrorException"
            )
        response.headers["x-amzn-RequestId"] = request_id
        return response

    def find_api(self, api_id: str) -> tuple[str, Any, RestAPI] | None:
        """The API with this id, in whichever account and region holds it."""
        # dict's own methods: BackendDict's item access would create backends on the way.
        for account_id, regions in list(dict.items(cast(dict, self.backends))):  # moto's BackendDict is a dict
            for backend in list(dict.values(regions)):
                if api := backend.apis.get(api_id):
                    return account_id, backend, api
        return None

    # ------------------------------------------------------------ integrations

    def integrate(self, call: Call) -> Response:
        integration = call.method.method_integration
        if integration is None:
            raise configuration_error("no integration defined for method")
        kind = (integration.integration_type or "").upper()
        if kind == "AWS_PROXY":
            return self.integrate_lambda_proxy(call, integration)
        if kind == "AWS":
            return self.integrate_aws(call, integration)
        if kind == "MOCK":
            return integrate_mock(call, integration)
        raise configuration_error(f"integration type {kind} is not supported by the local gateway")

    def integrate_lambda_proxy(self, call: Call, integration: Integration) -> Response:
        function_arn = lambda_function_arn(call, integration)
        event = json.dumps(proxy_event(call)).encode()
        payload, function_error = self.invoke(function_arn, event)
        if function_error:
            LOG.warning("Lambda execution failed with status 200 due to customer function error: %s", payload[:500])
            raise GatewayError("DEFAULT_5XX", "Internal server error", status=502)
        return proxy_response(call, payload)

    def integrate_aws(self, call: Call, integration: Integration) -> Response:
        body = integration_request_body(call, integration)
        uri = with_stage_variables(integration.uri or "", call.stage_variables)
        if LAMBDA_URI.match(uri):
            payload, function_error = self.invoke(lambda_function_arn(call, integration), body or b"{}")
            selection = lambda_error_message(payload) if function_error else "200"
            return integration_response(call, integration, payload, selection)
        service = SERVICE_URI.match(uri)
        if not service or service["kind"] != "action":
            raise configuration_error(f"AWS integration URI {uri!r} is not supported by the local gateway")
        action = service["target"].split("&", 1)[0]
        try:
            status, payload = self.call_aws_service(
                call.account_id, service["region"], service["service"], action, body,
                credentials=with_stage_variables(integration.credentials or "", call.stage_variables) or None,
            )
        except Exception as error:  # noqa: BLE001 - the backend's failure is the client's 500
            raise configuration_error(f"{service['service']}.{action} failed: {error}") from error
        return integration_response(call, integration, payload, str(status))

    def authorize(self, call: Call) -> None:
        """A method with a Lambda authorizer (authorizationType CUSTOM) runs it first: see the
        section "Lambda authorizers" below."""
        if (call.method.authorization_type or "NONE").upper() != "CUSTOM" or not call.method.authorizer_id:
            return
        authorizer = call.api.authorizers.get(call.method.authorizer_id)
        if authorizer is None or (authorizer.type or "").upper() not in ("TOKEN", "REQUEST"):
            raise configuration_error(f"authorizer {call.method.authorizer_id} is not a Lambda authorizer")
        run_lambda_authorizer(call, authorizer, self.authorizer_cache, self.invoke_lambda)

    def invoke(self, function_arn: str, event: bytes) -> tuple[bytes, str | None]:
        try:
            return self.invoke_lambda(function_arn, event)
        except Throttled as throttled:
            raise lambda_refused(throttled) from None
        except Exception as error:  # noqa: BLE001 - e.g. the function does not exist
            raise configuration_error(f"Lambda invocation of {function_arn} failed: {error}") from error


# ---------------------------------------------------------------- routing


def split_mount_path(full_path: str) -> tuple[str, str, str]:
    """`/_aws/execute-api/{api}/{stage}/rest` -> (api, stage, "/rest")."""
    if not full_path.startswith(MOUNT_PREFIX):
        raise GatewayError("MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token")
    api_id, _, rest = full_path[len(MOUNT_PREFIX):].partition("/")
    stage_name, _, path = rest.partition("/")
    return api_id, stage_name, "/" + path


def route(api: RestAPI, http_method: str, path: str) -> tuple[Resource, Method, dict[str, str]]:
    """The most specific resource for the path that has the method (or ANY): literal segments
    beat `{param}`, which beats `{proxy+}`; then the method itself beats ANY."""
    segments = [s for s in path.split("/") if s]
    best: tuple[tuple[Any, ...], Resource, Method, dict[str, str]] | None = None
    for resource in list(api.resources.values()):
        method = resource.resource_methods.get(http_method) or resource.resource_methods.get("ANY")
        if method is None:
            continue
        matched = match_path([s for s in resource.get_path().split("/") if s], segments)
        if matched is None:
            continue
        specificity, params = matched
        rank = (specificity, method.http_method == http_method)
        if best is None or rank > best[0]:
            best = (rank, resource, method, params)
    if best is None:
        raise GatewayError("MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token")
    return best[1], best[2], best[3]


def match_path(pattern: list[str], segments: list[str]) -> tuple[tuple[int, ...], dict[str, str]] | None:
    """Path parameters and a per-segment specificity (2 literal, 1 param, 0 greedy), or None."""
    params: dict[str, str] = {}
    specificity: list[int] = []
    for index, part in enumerate(pattern):
        if part.startswith("{") and part.endswith("+}"):
            if index >= len(segments):
                return None  # a greedy variable takes at least one segment
            params[part[1:-2]] = "/".join(segments[index:])
            return (*specificity, 0), params
        if index >= len(segments):
            return None
        if part.startswith("{") and part.endswith("}"):
            params[part[1:-1]] = segments[index]
            specificity.append(1)
        elif part == segments[index]:
            specificity.append(2)
        else:
            return None
    return (tuple(specificity), params) if len(pattern) == len(segments) else None


def context_variables(call: Call) -> dict[str, Any]:
    """`$context` and the proxy event's `requestContext`."""
    now = time.time()
    request = call.request
    host = request.host or f"{call.api.id}.execute-api.{call.api.region_name}.amazonaws.com"
    return {
        "accountId": call.account_id,
        "apiId": call.api.id,
        "deploymentId": call.stage.deployment_id,
        "domainName": host,
        "domainPrefix": host.split(".")[0],
        "extendedRequestId": base64.b32encode(uuid.uuid4().bytes)[:16].decode(),
        "httpMethod": request.method,
        "identity": {
            "accessKey": None, "accountId": None, "apiKey": None, "apiKeyId": None, "caller": None,
            "cognitoAuthenticationProvider": None, "cognitoAuthenticationType": None,
            "cognitoIdentityId": None, "cognitoIdentityPoolId": None, "principalOrgId": None,
            "sourceIp": request.remote_addr or "127.0.0.1", "user": None,
            "userAgent": request.headers.get("User-Agent"), "userArn": None,
        },
        "path": f"/{call.stage.name}{call.path}",
        "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
        "requestId": call.request_id,
        "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "requestTimeEpoch": int(now * 1000),
        "resourceId": call.resource.id,
        "resourcePath": call.resource.get_path(),
        "stage": call.stage.name,
    }


# ---------------------------------------------------------------- method request


def check_api_key(call: Call) -> None:
    """A method that requires an API key takes only an enabled key of a usage plan of this stage."""
    if not call.method.api_key_required:
        return
    value = call.request.headers.get("x-api-key")
    key = find_usage_plan_key(call.backend, call.api.id, str(call.stage.name), value) if value else None
    if key is None or not key.enabled:
        raise GatewayError("INVALID_API_KEY", "Forbidden")
    call.context["identity"].update(apiKey=key.value, apiKeyId=key.id)


def find_usage_plan_key(backend: Any, api_id: str, stage_name: str, value: str) -> Any:
    for plan in list(backend.usage_plans.values()):
        if not any(s.get("apiId") == api_id and s.get("stage") == stage_name for s in plan.api_stages):
            continue
        for plan_key in list(backend.usage_plan_keys.get(plan.id, {}).values()):
            if plan_key.value == value and plan_key.id in backend.keys:
                return backend.keys[plan_key.id]
    return None


def validate_request(call: Call) -> None:
    """The method's request validator: required parameters first, then the body's model."""
    validator_id = call.method.request_validator_id
    validator = call.api.request_validators.get(validator_id) if validator_id else None
    if validator is None:
        return
    if validator.validate_request_parameters:
        missing = missing_request_parameters(call)
        if missing:
            message = f"Missing required request parameters: [{', '.join(missing)}]"
            raise GatewayError("BAD_REQUEST_PARAMETERS", message)
    if validator.validate_request_body and not body_matches_model(call):
        raise GatewayError("BAD_REQUEST_BODY", "Invalid request body")


def missing_request_parameters(call: Call) -> list[str]:
    params = call.params()
    headers = {name.lower() for name in params["header"]}
    missing = []
    for expression, required in sorted((call.method.request_parameters or {}).items()):
        location, _, name = expression.removeprefix("method.request.").partition(".")
        present = name.lower() in headers if location == "header" else name in params.get(location, {})
        if required and not present:
            missing.append(name)
    return missing


def body_matches_model(call: Call) -> bool:
    models = call.method.request_models or {}
    model_name = models.get(request_content_type(call.request)) or models.get("$default")
    if not model_name or model_name == "Empty" or model_name not in call.api.models:
        return True
    try:
        body = call.request.get_data()
        instance = json.loads(body) if body.strip() else {}
    except ValueError:
        return False
    validator = jsonschema.Draft4Validator(model_schema(call.api, model_name), registry=model_registry(call.api))
    return validator.is_valid(instance)


def model_schema(api: RestAPI, name: str) -> dict[str, Any]:
    schema = api.models[name].schema
    return json.loads(schema) if isinstance(schema, str) else dict(schema or {})


def model_registry(api: RestAPI) -> referencing.Registry:
    """The API's models by URL, so a model's `$ref` to another model resolves."""
    resources = [
        (MODEL_URL.format(api_id=api.id, name=name), referencing.Resource.from_contents(
            model_schema(api, name), default_specification=referencing.jsonschema.DRAFT4))
        for name in list(api.models)
    ]
    return referencing.Registry().with_resources(resources)


# ---------------------------------------------------------------- AWS_PROXY


def lambda_function_arn(call: Call, integration: Integration) -> str:
    uri = with_stage_variables(integration.uri or "", call.stage_variables)
    match = LAMBDA_URI.match(uri)
    if not match:
        raise configuration_error(f"integration URI {uri!r} is not a Lambda function's")
    return match["function"]


def with_stage_variables(text: str, stage_variables: dict[str, str]) -> str:
    return STAGE_VARIABLE.sub(lambda m: stage_variables.get(m[1], ""), text)


def proxy_event(call: Call) -> dict[str, Any]:
    """The Lambda proxy integration's input, payload format 1.0."""
    request = call.request
    headers = proxy_event_headers(call)
    body, is_base64 = proxy_event_body(call)
    query = {name: values for name, values in request.args.lists()}
    return {
        "resource": call.resource.get_path(),
        "path": call.path,
        "httpMethod": request.method,
        "headers": {name: values[-1] for name, values in headers.items()} or None,
        "multiValueHeaders": headers or None,
        "queryStringParameters": {name: values[-1] for name, values in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": call.path_params or None,
        "stageVariables": call.stage_variables or None,
        "requestContext": call.context,
        "body": body,
        "isBase64Encoded": is_base64,
    }


def proxy_event_headers(call: Call) -> dict[str, list[str]]:
    request = call.request
    headers: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        if name.lower() not in HOP_BY_HOP_HEADERS:
            headers.setdefault(name, []).append(value)
    present = {name.lower() for name in headers}
    added = {
        "X-Amzn-Trace-Id": f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}",
        "X-Forwarded-For": request.remote_addr or "127.0.0.1",
        "X-Forwarded-Port": str(request.environ.get("SERVER_PORT", "443")),
        "X-Forwarded-Proto": request.scheme,
    }
    for name, value in added.items():
        if name.lower() not in present:
            headers[name] = [value]
    return headers


def proxy_event_body(call: Call) -> tuple[str | None, bool]:
    """Text as text; base64 for a binary media type of the API, or a body that is not UTF-8."""
    data = call.request.get_data()
    if not data:
        return None, False
    if media_type_matches(request_content_type(call.request), call.api.binaryMediaTypes):
        return base64.b64encode(data).decode(), True
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(data).decode(), True


def proxy_response(call: Call, payload: bytes) -> Response:
    """Map the function's `{statusCode, headers, multiValueHeaders, body, isBase64Encoded}`."""
    try:
        result = json.loads(payload)
    except ValueError:
        raise malformed_proxy_response("not JSON") from None
    if not isinstance(result, dict) or not PROXY_RESPONSE_KEYS.issuperset(result):
        raise malformed_proxy_response("not an object of statusCode, headers, multiValueHeaders, body, isBase64Encoded")
    status = proxy_status(result.get("statusCode"))
    headers = proxy_response_headers(result)
    body = result.get("body")
    if isinstance(body, (dict, list, bool)):
        raise malformed_proxy_response("body is not a string")
    data = b"" if body is None else str(body).encode()
    if result.get("isBase64Encoded") and accepts_binary(call):
        try:
            data = base64.b64decode(data)
        except ValueError:
            raise malformed_proxy_response("body is not base64") from None
    if "content-type" not in {name.lower() for name in headers.keys()}:
        headers["Content-Type"] = "application/json"
    return Response(data, status=status, headers=headers)


def proxy_status(value: Any) -> int:
    if isinstance(value, bool) or value is None:
        raise malformed_proxy_response("statusCode missing")
    try:
        status = int(value)
    except (TypeError, ValueError):
        raise malformed_proxy_response("statusCode is not a number") from None
    if not 100 <= status <= 599:
        raise malformed_proxy_response("statusCode out of range")
    return status


def proxy_response_headers(result: dict[str, Any]) -> Headers:
    """multiValueHeaders, then headers' values they do not already hold, as AWS merges them."""
    single, multi = result.get("headers") or {}, result.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise malformed_proxy_response("headers are not objects")
    merged: dict[str, list[str]] = {}
    for name, values in multi.items():
        for value in values if isinstance(values, list) else [values]:
            merged.setdefault(name.lower(), [name]).append(header_text(value))
    for name, value in single.items():
        entry = merged.setdefault(name.lower(), [name])
        if header_text(value) not in entry[1:]:
            entry.append(header_text(value))
    headers = Headers()
    for name, *values in merged.values():
        for value in values:
            headers.add(name, value)
    return headers


def header_text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        raise malformed_proxy_response("a header value is not a string")
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def accepts_binary(call: Call) -> bool:
    """A base64 body goes out as bytes only when the client accepts a binary media type of the API."""
    accepted = parse_accept_header(call.request.headers.get("Accept"))
    return any(media_type_matches(media, call.api.binaryMediaTypes) for media in accepted.values())


def media_type_matches(media_type: str, binary_media_types: list[str]) -> bool:
    kind, _, subtype = media_type.lower().partition("/")
    for candidate in binary_media_types or []:
        c_kind, _, c_subtype = candidate.lower().replace("~1", "/").partition("/")
        if c_kind in ("*", kind) and c_subtype in ("*", subtype):
            return True
    return False


# ---------------------------------------------------------------- AWS and MOCK


def request_content_type(request: Request) -> str:
    header = request.headers.get("Content-Type")
    return parse_options_header(header)[0].lower() if header else "application/json"


def integration_request_body(call: Call, integration: Integration) -> bytes:
    """The integration request body: the template for the request's content type, or the method
    request body passed through as passthroughBehavior allows (else 415)."""
    templates = integration.request_templates or {}
    content_type = request_content_type(call.request)
    if content_type not in templates:
        behavior = (integration.passthrough_behaviour or "WHEN_NO_MATCH").upper()
        if behavior == "NEVER" or (behavior == "WHEN_NO_TEMPLATES" and templates):
            raise GatewayError("UNSUPPORTED_MEDIA_TYPE", "Unsupported Media Type")
        return call.request.get_data()
    template = templates[content_type] or ""
    context = template_context(call, {"header": {}, "status": None})
    return render_template(template, call, call.request.get_data(), context, "request").encode()


def template_context(call: Call, response_override: dict[str, Any]) -> dict[str, Any]:
    """`$context` for one template, with overrides the template may set."""
    request_override: dict[str, Any] = {"header": {}, "path": {}, "querystring": {}}
    return {**call.context, "requestOverride": request_override, "responseOverride": response_override}


def render_template(template: str, call: Call, payload: bytes, context: dict[str, Any], stage: str) -> str:
    try:
        return vtl.render(
            template,
            body=payload.decode("utf-8", errors="replace"),
            params=call.params(),
            context=context,
            stage_variables=call.stage_variables,
        )
    except vtl.BodyNotJson as error:
        if stage == "request":
            raise GatewayError("BAD_REQUEST_BODY", f"Could not parse request body into json: {error}") from None
        raise configuration_error(f"Unable to transform response: {error}") from None
    except Exception as error:  # noqa: BLE001 - a broken template is the API's configuration error
        raise configuration_error(f"Unable to transform {stage}: {error}") from error


def integrate_mock(call: Call, integration: Integration) -> Response:
    """MOCK: the request template's `{"statusCode": N}` selects the integration response."""
    rendered = integration_request_body(call, integration)
    try:
        status = json.loads(rendered).get("statusCode")
    except (ValueError, AttributeError):
        status = None
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool):
        raise configuration_error(
            "Unable to parse statusCode. It should be an integer that is defined in the request template."
        )
    return integration_response(call, integration, b"", str(status))


def lambda_error_message(payload: bytes) -> str:
    try:
        error = json.loads(payload)
    except ValueError:
        return ""
    return str(error.get("errorMessage", "")) if isinstance(error, dict) else ""


def select_integration_response(integration: Integration, selection_value: str) -> IntegrationResponse:
    """The response whose selectionPattern matches the whole value, else the one without a
    pattern (the default)."""
    responses = list((integration.integration_responses or {}).values())
    for response in responses:
        pattern = response.selection_pattern
        if pattern and re.fullmatch(pattern, selection_value):
            return response
    default = next((r for r in responses if not r.selection_pattern), None)
    if default is None:
        raise configuration_error(
            "No match for output mapping and no default output mapping configured. "
            f"Endpoint Response Status Code: {selection_value}"
        )
    return default


def integration_response(call: Call, integration: Integration, payload: bytes, selection_value: str) -> Response:
    """Map the backend's answer to the method response: selection (by the backend's status code,
    or a Lambda function's errorMessage), template, parameters, overrides."""
    chosen = select_integration_response(integration, selection_value)
    content_type, template = response_template(call.request, chosen.response_templates or {})
    overrides: dict[str, Any] = {"status": None, "header": {}}
    if template:
        body = render_template(template, call, payload, template_context(call, overrides), "response").encode()
    else:
        body = payload
    headers = Headers({"Content-Type": content_type})
    for target, expression in (chosen.response_parameters or {}).items():
        if target.startswith("method.response.header."):
            value = response_parameter_value(expression, call, payload)
            if value is not None:
                headers[target.removeprefix("method.response.header.")] = value
    for name, value in (overrides.get("header") or {}).items():
        headers[name] = str(value)
    return Response(body, status=overridden_status(overrides.get("status")) or int(chosen.status_code), headers=headers)


def response_template(request: Request, templates: dict[str, str | None]) -> tuple[str, str | None]:
    """The template for the client's Accept type, else application/json's, else the first."""
    if not templates:
        return "application/json", None
    accepted = [media for media in parse_accept_header(request.headers.get("Accept")).values() if media in templates]
    if accepted:
        content_type = accepted[0]
    else:
        content_type = "application/json" if "application/json" in templates else next(iter(templates))
    return content_type, templates[content_type]


def overridden_status(value: Any) -> int | None:
    """`$context.responseOverride.status`, ignored unless it is a valid status code."""
    try:
        status = int(value)
    except (TypeError, ValueError):
        return None
    return status if 100 <= status <= 599 else None


def response_parameter_value(expression: str, call: Call, payload: bytes) -> str | None:
    """A response parameter's source: `'literal'`, `integration.response.body[.path]`,
    `integration.response.header.X` (none from our backends), `context.x`, `stageVariables.x`,
    `method.request.{header,querystring,path}.x`."""
    if len(expression) >= 2 and expression[0] == expression[-1] == "'":
        return expression[1:-1]
    if expression == "integration.response.body":
        return payload.decode("utf-8", errors="replace")
    if expression.startswith("integration.response.body."):
        try:
            selected = vtl.select(json.loads(payload), "$" + expression.removeprefix("integration.response.body"))
        except ValueError:
            return None
        return selected if isinstance(selected, str) or selected is None else json.dumps(selected)
    if expression.startswith("context."):
        value: Any = call.context
        for part in expression.removeprefix("context.").split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return None if value is None else str(value)
    if expression.startswith("stageVariables."):
        return call.stage_variables.get(expression.removeprefix("stageVariables."))
    if expression.startswith("method.request."):
        location, _, name = expression.removeprefix("method.request.").partition(".")
        values = call.params().get(location, {})
        return vtl.HeaderMap(values).get(name) if location == "header" else values.get(name)
    return None


# ---------------------------------------------------------------- responses


def json_response(status: int, document: Any, request_id: str, error_type: str | None = None) -> Response:
    headers = {"Content-Type": "application/json", "x-amzn-RequestId": request_id}
    if error_type:
        headers["x-amzn-ErrorType"] = error_type
    return Response(json.dumps(document, separators=(",", ":")), status=status, headers=headers)


def gateway_error_response(error: GatewayError, api: RestAPI | None, call: Call | None, request_id: str) -> Response:
    """The gateway response for an error, customized by the API's gateway responses if any
    (status, literal `gatewayresponse.header.X` values, application/json template)."""
    status, message = error.status, error.message
    headers = Headers({"Content-Type": "application/json", "x-amzn-ErrorType": error.error_type})
    body = json.dumps({"message": message}, separators=(",", ":"))
    custom = configured_gateway_response(api, error) if api else None
    if custom is not None:
        status = int(custom.status_code or status)
        for target, expression in (custom.response_parameters or {}).items():
            if target.startswith("gatewayresponse.header.") and expression[:1] == expression[-1:] == "'":
                headers[target.removeprefix("gatewayresponse.header.")] = expression[1:-1]
        if template := (custom.response_templates or {}).get("application/json"):
            context = {**(call.context if call else {}), "error": {
                "message": message, "messageString": json.dumps(message), "responseType": error.response_type}}
            try:
                body = vtl.render(template, body="", params=call.params() if call else {}, context=context,
                                  stage_variables=call.stage_variables if call else {})
            except Exception:  # noqa: BLE001 - keep the default body when the template is broken
                LOG.warning("gateway response template for %s failed", error.response_type)
    return Response(body, status=status, headers=headers)


def configured_gateway_response(api: RestAPI, error: GatewayError) -> Any:
    responses = getattr(api, "gateway_responses", {}) or {}
    fallback = "DEFAULT_5XX" if error.status >= 500 else "DEFAULT_4XX"
    return responses.get(error.response_type) or responses.get(fallback)


# ---------------------------------------------------------------- Lambda authorizers
# https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-use-lambda-authorizer.html
# Identity sources read (missing -> 401 without a call), the function called with the TOKEN or
# REQUEST event, its IAM policy evaluated against the method ARN (Allow needed, Deny wins -> 403),
# its context handed on as $context.authorizer.*, and the policy cached per identity for the TTL.

DEFAULT_AUTHORIZER_TTL = 300  # seconds, API Gateway's default
MAX_AUTHORIZER_TTL = 3600


class AuthorizerCache:
    """Authorizer results by (api, stage, authorizer, identity), kept for the authorizer's TTL."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.entries: dict[tuple[str, ...], tuple[float, dict[str, Any]]] = {}

    def get(self, key: tuple[str, ...]) -> dict[str, Any] | None:
        entry = self.entries.get(key)
        if entry is None or entry[0] <= self.clock():
            self.entries.pop(key, None)
            return None
        return entry[1]

    def put(self, key: tuple[str, ...], result: dict[str, Any], ttl: int) -> None:
        if ttl > 0:
            self.entries[key] = (self.clock() + ttl, result)


def run_lambda_authorizer(call: Call, authorizer: Any, cache: AuthorizerCache, invoke: InvokeLambda) -> None:
    """Authorize the call or raise the gateway response API Gateway would give."""
    ttl = authorizer_ttl(authorizer)
    identity = authorizer_identity(call, authorizer, ttl)
    key = (call.api.id, call.stage.name, authorizer.id, *identity)
    result = cache.get(key)
    if result is None:
        result = invoke_authorizer(call, authorizer, invoke)
        cache.put(key, result, ttl)
    method_arn = authorizer_method_arn(call)
    if policy_decision(result["policyDocument"], method_arn) != "Allow":
        raise GatewayError("ACCESS_DENIED", "User is not authorized to access this resource")
    # The integration sees the context's values as strings ("1", "true"), with the principal id.
    context = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in result.get("context", {}).items()}
    call.context["authorizer"] = {**context, "principalId": result["principalId"]}
    if usage_key := result.get("usageIdentifierKey"):
        call.context["identity"]["apiKey"] = usage_key


def authorizer_ttl(authorizer: Any) -> int:
    ttl = authorizer.authorizer_result_ttl
    return DEFAULT_AUTHORIZER_TTL if ttl is None else max(0, min(int(ttl), MAX_AUTHORIZER_TTL))


def authorizer_identity(call: Call, authorizer: Any, ttl: int) -> tuple[str, ...]:
    """The identity source values. A TOKEN authorizer's header is required, and must match the
    identity validation expression if there is one; a REQUEST authorizer's sources are required
    when caching is on (API_Authorizer.html: optional when caching is off). A missing one is 401
    Unauthorized, without calling the function."""
    sources = [s.strip() for s in (authorizer.identity_source or "").split(",") if s.strip()]
    values = [identity_source_value(call, source) for source in sources]
    if (authorizer.type or "").upper() == "TOKEN":
        if not values or not values[0]:
            raise GatewayError("UNAUTHORIZED", "Unauthorized")
        pattern = authorizer.identity_validation_expression
        if pattern and not re.fullmatch(pattern, values[0]):
            raise GatewayError("UNAUTHORIZED", "Unauthorized")
        return (values[0],)
    if ttl > 0 and (not values or not all(values)):
        raise GatewayError("UNAUTHORIZED", "Unauthorized")
    return tuple(value or "" for value in values)


def identity_source_value(call: Call, source: str) -> str | None:
    """One identity source: method.request.header|querystring.X, stageVariables.X or context.X."""
    if source.startswith("method.request."):
        location, _, name = source.removeprefix("method.request.").partition(".")
        if location == "header":
            return call.request.headers.get(name) or None
        if location == "querystring":
            return call.request.args.get(name) or None
        return call.path_params.get(name) if location == "path" else None
    if source.startswith("stageVariables."):
        return call.stage_variables.get(source.removeprefix("stageVariables.")) or None
    if source.startswith("context."):
        value: Any = call.context
        for part in source.removeprefix("context.").split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return None if value in (None, "") else str(value)
    return None


def authorizer_method_arn(call: Call) -> str:
    """arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}/{path as requested}."""
    return (f"arn:aws:execute-api:{call.api.region_name}:{call.account_id}:{call.api.id}/"
            f"{call.stage.name}/{call.request.method}{call.path}")


def authorizer_event(call: Call, authorizer: Any) -> dict[str, Any]:
    method_arn = authorizer_method_arn(call)
    if (authorizer.type or "").upper() == "TOKEN":
        header = (authorizer.identity_source or "").split(",")[0].strip()
        token = identity_source_value(call, header)
        return {"type": "TOKEN", "authorizationToken": token, "methodArn": method_arn}
    event = proxy_event(call)
    return {"type": "REQUEST", "methodArn": method_arn, **{k: v for k, v in event.items()
                                                             if k not in ("body", "isBase64Encoded")}}


def invoke_authorizer(call: Call, authorizer: Any, invoke: InvokeLambda) -> dict[str, Any]:
    """The function's answer, checked: "Unauthorized" is 401; any other error, or an answer
    without principalId and policyDocument, or a context value that is not a string, number or
    boolean, is 500 (the body's message is null, as API Gateway answers)."""
    match = LAMBDA_URI.match(with_stage_variables(authorizer.authorizer_uri or "", call.stage_variables))
    if not match:
        raise configuration_error(f"authorizer URI {authorizer.authorizer_uri!r} is not a Lambda function's")
    try:
        payload, function_error = invoke(match["function"], json.dumps(authorizer_event(call, authorizer)).encode())
    except Exception as error:  # noqa: BLE001 - e.g. the function does not exist
        LOG.warning("Execution failed due to configuration error: authorizer invocation failed: %s", error)
        raise GatewayError("AUTHORIZER_FAILURE", None) from error
    if function_error:
        if lambda_error_message(payload) == "Unauthorized":
            raise GatewayError("UNAUTHORIZED", "Unauthorized")
        LOG.warning("Execution failed due to configuration error: Authorizer error: %s", payload[:500])
        raise GatewayError("AUTHORIZER_FAILURE", None)
    try:
        result = json.loads(payload)
    except ValueError:
        result = None
    if not valid_authorizer_result(result):
        LOG.warning("Execution failed due to configuration error: Invalid JSON in response: %s", payload[:500])
        raise GatewayError("AUTHORIZER_CONFIGURATION_ERROR", None)
    return result


def valid_authorizer_result(result: Any) -> bool:
    if not isinstance(result, dict) or "principalId" not in result:
        return False
    policy = result.get("policyDocument")
    if not isinstance(policy, dict) or not isinstance(policy.get("Statement"), (list, dict)):
        return False
    context = result.get("context", {})
    return isinstance(context, dict) and all(
        isinstance(v, (str, int, float, bool)) and v is not None for v in context.values())


def policy_decision(policy: dict[str, Any], method_arn: str) -> str:
    """Deny when a statement denies execute-api:Invoke on the ARN, else Allow when one allows it,
    else Deny (nothing allowed): IAM's evaluation for one action and one resource."""
    statements = policy.get("Statement")
    statements = [statements] if isinstance(statements, dict) else statements or []
    decision = "Deny"
    for statement in statements:
        if not isinstance(statement, dict):
            continue
        actions, resources = as_list(statement.get("Action")), as_list(statement.get("Resource"))
        if not any(wildcard_match(a.lower(), "execute-api:invoke") for a in actions):
            continue
        if not any(wildcard_match(r, method_arn) for r in resources):
            continue
        if statement.get("Effect") == "Deny":
            return "Deny"
        if statement.get("Effect") == "Allow":
            decision = "Allow"
    return decision


def as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [v for v in value or [] if isinstance(v, str)]


def wildcard_match(pattern: str, value: str) -> bool:
    """IAM's wildcards: * any run of characters (slashes too), ? one character."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None
