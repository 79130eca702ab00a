"""The API Gateway data plane (workshop/localcloud/apigateway.py), its VTL (vtl.py), and the moto
fixes that make CloudFormation-made REST APIs complete (patches/apigateway/).

No server and no network: werkzeug's test client against the WSGI app, moto.mock_aws for the
backend, and fakes for the Lambda invoker and the AWS service caller.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import boto3
import moto
import pytest
from moto.apigateway.models import RestAPI, apigateway_backends
from moto.cloudformation import parsing
from samtranslator.translator.transform import transform
from werkzeug.test import Client

from workshop.localcloud import vtl
from workshop.localcloud.apigateway import RestApiGateway
from workshop.localcloud.patches import apigateway as patch

ACCOUNT, REGION = "123456789012", "us-east-1"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:shop"
LAMBDA_URI = f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{FUNCTION_ARN}/invocations"


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture(autouse=True)
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    patch.apply()
    with moto.mock_aws():
        yield


class FakeLambda:
    """Answers with a canned result per call; by default echoes the event in a proxy response."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.result: tuple[bytes, str | None] | None = None

    def __call__(self, function_arn: str, payload: bytes) -> tuple[bytes, str | None]:
        event = json.loads(payload)
        self.calls.append((function_arn, event))
        if self.result is not None:
            return self.result
        return json.dumps({"statusCode": 200, "body": json.dumps(event)}).encode(), None

    def returns(self, payload: Any, error: str | None = None) -> None:
        self.result = (payload if isinstance(payload, bytes) else json.dumps(payload).encode(), error)


class FakeServices:
    """DynamoDB calls go to moto's DynamoDB (in mock_aws); others answer what `answers` says."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str, str, Any]] = []
        self.answers: dict[str, tuple[int, Any]] = {}

    def __call__(self, account: str, region: str, service: str, action: str, body: bytes,
                 credentials: str | None = None) -> tuple[int, bytes]:
        request = json.loads(body)
        self.calls.append((account, region, service, action, request))
        if action in self.answers:
            status, answer = self.answers[action]
            return status, json.dumps(answer).encode()
        client = boto3.client(service, region_name=region)
        method = getattr(client, "".join("_" + c.lower() if c.isupper() else c for c in action).lstrip("_"))
        try:
            response = method(**request)
        except client.exceptions.ClientError as error:
            return error.response["ResponseMetadata"]["HTTPStatusCode"], json.dumps(
                {"__type": error.response["Error"]["Code"], "message": error.response["Error"]["Message"]}).encode()
        response.pop("ResponseMetadata", None)
        return 200, json.dumps(response, default=str).encode()


@pytest.fixture
def fake_lambda() -> FakeLambda:
    return FakeLambda()


@pytest.fixture
def services() -> FakeServices:
    return FakeServices()


@pytest.fixture
def http(fake_lambda: FakeLambda, services: FakeServices) -> Client:
    return Client(RestApiGateway(invoke_lambda=fake_lambda, call_aws_service=services))


def deploy_openapi(document: dict[str, Any], stage: str = "prod", variables: dict[str, str] | None = None) -> RestAPI:
    """A REST API imported from an OpenAPI document (with our importer) and deployed to a stage."""
    backend = apigateway_backends[ACCOUNT][REGION]
    api = backend.create_rest_api(name="test", description="")
    patch.import_openapi(backend, api, document)
    backend.create_deployment(api.id, stage, stage_variables=variables)
    return api


def url(api: RestAPI | str, path: str = "/", stage: str = "prod") -> str:
    api_id = api if isinstance(api, str) else api.id
    return f"/_aws/execute-api/{api_id}/{stage}{path}"


def proxy(uri: str = LAMBDA_URI) -> dict[str, Any]:
    return {"x-amazon-apigateway-integration": {"type": "aws_proxy", "httpMethod": "POST", "uri": uri}, "responses": {}}


def create_stack(template: dict[str, Any], name: str = "shop") -> dict[str, Any]:
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM"])
    stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


class NoManagedPolicies:
    def load(self) -> dict[str, str]:
        return {}


def sam_transform(template: dict[str, Any]) -> dict[str, Any]:
    return transform(template, {}, NoManagedPolicies())


def methods_by_path(api_id: str) -> dict[str, dict[str, Any]]:
    client = boto3.client("apigateway", region_name=REGION)
    return {r["path"]: r.get("resourceMethods", {}) for r in client.get_resources(restApiId=api_id, embed=["methods"])["items"]}


def body_json(response: Any) -> Any:
    return json.loads(response.get_data())


SAM_FUNCTION: dict[str, Any] = {
    "Type": "AWS::Serverless::Function",
    "Properties": {"Handler": "index.handler", "InlineCode": "def handler(event, context):\n    return {}\n"},
}


# ---------------------------------------------------------------- moto patches, through CloudFormation


def test_moto_is_the_version_these_patches_were_written_for() -> None:
    """A moto upgrade must re-check every patch: moto may fix (or move) what they replace."""
    assert moto.__version__ == "5.2.5"
    backend = apigateway_backends[ACCOUNT][REGION]
    api = backend.create_rest_api(name="swagger", description="")
    with pytest.raises(Exception, match="Only OpenAPI 3.x.x"):  # why the importer is our own
        backend.put_rest_api(api.id, {"swagger": "2.0", "paths": {}}, fail_on_warnings=False)


def test_apply_registers_the_missing_cloudformation_types_and_is_idempotent() -> None:
    patch.apply()
    patch.apply()
    model_map = parsing.get_model_map()
    for model in patch.NEW_TYPES:
        assert model_map[model.cloudformation_type()] is model
    installed = RestAPI.__dict__["create_from_cloudformation_json"]  # the classmethod apply() put there
    assert installed.__func__ is patch.completed_types.create_rest_api


def test_apply_refuses_a_moto_that_moved_what_it_patches(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.apigateway.models import APIGatewayBackend

    monkeypatch.delattr(APIGatewayBackend, "_build_integration_args")
    with pytest.raises(RuntimeError, match="_build_integration_args"):
        patch.require_moto_hooks()


def test_sam_implicit_api_is_imported_from_its_body_and_routable(fake_lambda: FakeLambda, http: Client) -> None:
    template = sam_transform({
        "Transform": "AWS::Serverless-2016-10-31",
        "Globals": {"Function": {"Runtime": "python3.12"}},
        "Resources": {"Fn": {**SAM_FUNCTION, "Properties": {**SAM_FUNCTION["Properties"], "Events": {
            "Get": {"Type": "Api", "Properties": {"Path": "/carts/{cartId}", "Method": "get"}},
            "Any": {"Type": "Api", "Properties": {"Path": "/{proxy+}", "Method": "any"}},
        }}}},
        "Outputs": {"ApiUrl": {"Value": {"Fn::Sub": "https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com/Prod/"}}},
    })
    assert template["Resources"]["ServerlessRestApi"]["Properties"]["Body"]["swagger"] == "2.0"
    outputs = create_stack(template)

    api_id = outputs["ApiUrl"].split("//")[1].split(".")[0]
    methods = methods_by_path(api_id)
    assert set(methods) == {"/", "/carts", "/carts/{cartId}", "/{proxy+}"}
    integration = methods["/carts/{cartId}"]["GET"]["methodIntegration"]
    assert integration["type"] == "AWS_PROXY" and integration["httpMethod"] == "POST"
    function_arn = boto3.client("lambda", region_name=REGION).list_functions()["Functions"][0]["FunctionArn"]
    assert integration["uri"] == f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function_arn}/invocations"
    assert set(methods["/{proxy+}"]) == {"ANY"}
    stages = boto3.client("apigateway", region_name=REGION).get_stages(restApiId=api_id)["item"]
    assert {s["stageName"] for s in stages} == {"Prod", "Stage"}

    response = http.get(url(api_id, "/carts/c-1", "Prod"))
    assert response.status_code == 200
    assert fake_lambda.calls[0][0] == function_arn
    assert body_json(response)["pathParameters"] == {"cartId": "c-1"}
    assert http.post(url(api_id, "/anything/else", "Prod")).status_code == 200


def test_sam_api_key_usage_plan_and_cors_are_created(http: Client) -> None:
    template = sam_transform({
        "Transform": "AWS::Serverless-2016-10-31",
        "Globals": {"Function": {"Runtime": "python3.12"}},
        "Resources": {
            "Api": {"Type": "AWS::Serverless::Api", "Properties": {
                "StageName": "Prod", "Cors": {"AllowOrigin": "'*'"},
                "Auth": {"ApiKeyRequired": True, "AddApiKeyRequiredToCorsPreflight": False, "UsagePlan": {"CreateUsagePlan": "PER_API"}},
            }},
            "Fn": {**SAM_FUNCTION, "Properties": {**SAM_FUNCTION["Properties"], "Events": {
                "Get": {"Type": "Api", "Properties": {"RestApiId": {"Ref": "Api"}, "Path": "/items", "Method": "get"}},
            }}},
        },
        "Outputs": {"Api": {"Value": {"Ref": "Api"}}, "Key": {"Value": {"Ref": "ApiApiKey"}},
                    "Stage": {"Value": {"Ref": "ApiProdStage"}}, "Plan": {"Value": {"Ref": "ApiUsagePlan"}}},
    })
    outputs = create_stack(template)
    client = boto3.client("apigateway", region_name=REGION)

    assert outputs["Stage"] == "Prod"
    key = client.get_api_key(apiKey=outputs["Key"], includeValue=True)
    assert key["enabled"] is True
    plan = client.get_usage_plan(usagePlanId=outputs["Plan"])
    assert plan["apiStages"] == [{"apiId": outputs["Api"], "stage": "Prod"}]
    assert [k["id"] for k in client.get_usage_plan_keys(usagePlanId=outputs["Plan"])["items"]] == [outputs["Key"]]
    methods = methods_by_path(outputs["Api"])["/items"]
    assert methods["GET"]["apiKeyRequired"] is True
    assert methods["OPTIONS"]["apiKeyRequired"] is False
    assert methods["OPTIONS"]["methodIntegration"]["type"] == "MOCK"

    assert http.get(url(outputs["Api"], "/items", "Prod")).status_code == 403
    ok = http.get(url(outputs["Api"], "/items", "Prod"), headers={"x-api-key": key["value"]})
    assert ok.status_code == 200
    preflight = http.options(url(outputs["Api"], "/items", "Prod"))
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET,OPTIONS"


OPENAPI_2_BODY: dict[str, Any] = {
    "swagger": "2.0",
    "info": {"title": "carts", "version": "1"},
    "x-amazon-apigateway-request-validators": {
        "all": {"validateRequestBody": True, "validateRequestParameters": True},
        "params": {"validateRequestBody": False, "validateRequestParameters": True},
    },
    "x-amazon-apigateway-request-validator": "params",
    "x-amazon-apigateway-binary-media-types": ["image/png"],
    "securityDefinitions": {"api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"}},
    "definitions": {
        "Line": {"type": "object", "required": ["sku"], "properties": {"sku": {"type": "string"}}},
        "Cart": {"type": "object", "required": ["lines"], "properties": {"lines": {"type": "array", "items": {"$ref": "#/definitions/Line"}}}},
    },
    "paths": {
        "/carts/{cartId}": {
            "parameters": [{"name": "cartId", "in": "path", "required": True, "type": "string"}],
            "get": {
                "parameters": [{"name": "verbose", "in": "query", "required": False, "type": "string"}],
                "security": [{"api_key": []}],
                "responses": {"200": {"description": "ok", "headers": {"Access-Control-Allow-Origin": {"type": "string"}}},
                              "404": {"description": "no"}},
                "x-amazon-apigateway-integration": {
                    "type": "aws",
                    "httpMethod": "POST",
                    "uri": {"Fn::Sub": "arn:aws:apigateway:${AWS::Region}:dynamodb:action/GetItem"},
                    "credentials": "arn:aws:iam::123456789012:role/api-dynamodb",
                    "passthroughBehavior": "never",
                    "requestParameters": {"integration.request.header.X-Cart": "method.request.path.cartId"},
                    "requestTemplates": {"application/json": "{\"TableName\": \"t\"}"},
                    "responses": {
                        "4\\d{2}": {"statusCode": "400", "responseTemplates": {"application/json": "{\"message\": \"bad\"}"}},
                        "default": {"statusCode": "200", "responseParameters": {"method.response.header.Access-Control-Allow-Origin": "'*'"},
                                    "responseTemplates": {"application/json": "$input.json('$.Item')"}},
                    },
                },
            },
            "put": {
                "x-amazon-apigateway-request-validator": "all",
                "parameters": [{"name": "cart", "in": "body", "required": True, "schema": {"$ref": "#/definitions/Cart"}}],
                "responses": {"200": {"description": "ok"}},
                "x-amazon-apigateway-integration": {"type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
                                                     "responses": {"default": {"statusCode": "200"}}},
            },
        },
        "/{proxy+}": {"x-amazon-apigateway-any-method": {"x-amazon-apigateway-integration": {
            "type": "aws_proxy", "httpMethod": "POST", "uri": {"Fn::Sub": "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/" + FUNCTION_ARN + "/invocations"}}}},
    },
}


def test_restapi_body_openapi_2_is_imported_completely() -> None:
    outputs = create_stack({
        "Resources": {"Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Body": OPENAPI_2_BODY}}},
        "Outputs": {"Api": {"Value": {"Ref": "Api"}}, "Root": {"Value": {"Fn::GetAtt": ["Api", "RootResourceId"]}}},
    })
    api_id = outputs["Api"]
    client = boto3.client("apigateway", region_name=REGION)
    api = client.get_rest_api(restApiId=api_id)
    assert api["name"] == "carts" and api["binaryMediaTypes"] == ["image/png"]
    assert api["rootResourceId"] == outputs["Root"]
    validators = {v["name"]: v for v in client.get_request_validators(restApiId=api_id)["items"]}
    assert validators["all"]["validateRequestBody"] is True and validators["params"]["validateRequestBody"] is False
    models = {m["name"]: json.loads(m["schema"]) for m in client.get_models(restApiId=api_id)["items"]}
    assert models["Cart"]["properties"]["lines"]["items"]["$ref"] == f"https://apigateway.amazonaws.com/restapis/{api_id}/models/Line"

    methods = methods_by_path(api_id)
    get = methods["/carts/{cartId}"]["GET"]
    assert get["apiKeyRequired"] is True and get["authorizationType"] == "NONE"
    assert get["requestParameters"] == {"method.request.path.cartId": True, "method.request.querystring.verbose": False}
    assert get["requestValidatorId"] == validators["params"]["id"]  # the API's default validator
    assert get["methodResponses"]["200"]["responseParameters"] == {"method.response.header.Access-Control-Allow-Origin": False}
    integration = get["methodIntegration"]
    assert integration["type"] == "AWS"
    assert integration["uri"] == f"arn:aws:apigateway:{REGION}:dynamodb:action/GetItem"  # Fn::Sub resolved by moto
    assert integration["credentials"] == "arn:aws:iam::123456789012:role/api-dynamodb"
    assert integration["passthroughBehavior"] == "NEVER"
    assert integration["requestParameters"] == {"integration.request.header.X-Cart": "method.request.path.cartId"}
    responses = integration["integrationResponses"]
    assert responses["400"]["selectionPattern"] == "4\\d{2}"
    assert "selectionPattern" not in responses["200"]
    assert responses["200"]["responseParameters"] == {"method.response.header.Access-Control-Allow-Origin": "'*'"}

    put = methods["/carts/{cartId}"]["PUT"]
    assert put["requestValidatorId"] == validators["all"]["id"]
    assert put["requestModels"] == {"application/json": "Cart"}
    assert put["methodIntegration"]["type"] == "MOCK"
    assert set(methods["/{proxy+}"]) == {"ANY"}


def test_restapi_body_openapi_3_models_and_request_body() -> None:
    body = {
        "openapi": "3.0.1",
        "info": {"title": "oas3", "version": "1"},
        "components": {"schemas": {"Order": {"type": "object", "required": ["id"]}}},
        "paths": {"/orders": {"post": {
            "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}},
            "responses": {"201": {"description": "made", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}}},
            "x-amazon-apigateway-integration": {"type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 201}"},
                                                 "responses": {"default": {"statusCode": "201"}}},
        }}},
    }
    api_id = create_stack({"Resources": {"Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "named", "Body": body}}},
                           "Outputs": {"Api": {"Value": {"Ref": "Api"}}}})["Api"]
    client = boto3.client("apigateway", region_name=REGION)
    assert client.get_rest_api(restApiId=api_id)["name"] == "named"
    post = methods_by_path(api_id)["/orders"]["POST"]
    assert post["requestModels"] == {"application/json": "Order"}
    assert post["methodResponses"]["201"]["responseModels"] == {"application/json": "Order"}
    assert [m["name"] for m in client.get_models(restApiId=api_id)["items"]] == ["Order"]


def test_explicit_method_stage_key_validator_and_model_resources(http: Client) -> None:
    template = {
        "Resources": {
            "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "explicit"}},
            "Carts": {"Type": "AWS::ApiGateway::Resource", "Properties": {
                "RestApiId": {"Ref": "Api"}, "ParentId": {"Fn::GetAtt": ["Api", "RootResourceId"]}, "PathPart": "carts"}},
            "CartModel": {"Type": "AWS::ApiGateway::Model", "Properties": {
                "RestApiId": {"Ref": "Api"}, "Name": "CartInput", "ContentType": "application/json",
                "Schema": {"type": "object", "required": ["sku"]}}},
            "BodyValidator": {"Type": "AWS::ApiGateway::RequestValidator", "Properties": {
                "RestApiId": {"Ref": "Api"}, "ValidateRequestBody": True, "ValidateRequestParameters": False}},
            "PostCart": {"Type": "AWS::ApiGateway::Method", "Properties": {
                "RestApiId": {"Ref": "Api"}, "ResourceId": {"Ref": "Carts"}, "HttpMethod": "POST",
                "AuthorizationType": "NONE", "ApiKeyRequired": True,
                "RequestValidatorId": {"Ref": "BodyValidator"}, "RequestModels": {"application/json": {"Ref": "CartModel"}},
                "RequestParameters": {"method.request.header.X-Trace": False},
                "Integration": {
                    "Type": "AWS", "IntegrationHttpMethod": "POST",
                    "Uri": {"Fn::Sub": "arn:aws:apigateway:${AWS::Region}:states:action/StartExecution"},
                    "Credentials": "arn:aws:iam::123456789012:role/api-states",
                    "PassthroughBehavior": "WHEN_NO_TEMPLATES",
                    "RequestTemplates": {"application/json": "{\"input\": \"$util.escapeJavaScript($input.json('$'))\", \"stateMachineArn\": \"arn:aws:states:us-east-1:123456789012:stateMachine:checkout\"}"},
                    "IntegrationResponses": [
                        {"StatusCode": "200", "ResponseTemplates": {"application/json": "{\"executionArn\": \"$input.path('$.executionArn')\"}"},
                         "ResponseParameters": {"method.response.header.Access-Control-Allow-Origin": "'*'"}},
                        {"StatusCode": "400", "SelectionPattern": "4\\d{2}"},
                    ],
                },
                "MethodResponses": [
                    {"StatusCode": "200", "ResponseParameters": {"method.response.header.Access-Control-Allow-Origin": True}},
                    {"StatusCode": "400"},
                ],
            }},
            "Deployment": {"Type": "AWS::ApiGateway::Deployment", "DependsOn": ["PostCart"], "Properties": {"RestApiId": {"Ref": "Api"}}},
            "Stage": {"Type": "AWS::ApiGateway::Stage", "Properties": {
                "RestApiId": {"Ref": "Api"}, "DeploymentId": {"Ref": "Deployment"}, "StageName": "live", "Variables": {"env": "test"}}},
            "Key": {"Type": "AWS::ApiGateway::ApiKey", "DependsOn": ["Stage"], "Properties": {"Enabled": True, "Value": "k" * 30}},
            "Plan": {"Type": "AWS::ApiGateway::UsagePlan", "Properties": {
                "ApiStages": [{"ApiId": {"Ref": "Api"}, "Stage": {"Ref": "Stage"}}], "Throttle": {"BurstLimit": 5, "RateLimit": 10}}},
            "PlanKey": {"Type": "AWS::ApiGateway::UsagePlanKey", "Properties": {
                "KeyId": {"Ref": "Key"}, "KeyType": "API_KEY", "UsagePlanId": {"Ref": "Plan"}}},
        },
        "Outputs": {
            "Api": {"Value": {"Ref": "Api"}}, "Stage": {"Value": {"Ref": "Stage"}}, "Key": {"Value": {"Ref": "Key"}},
            "KeyId": {"Value": {"Fn::GetAtt": ["Key", "APIKeyId"]}}, "Validator": {"Value": {"Ref": "BodyValidator"}},
            "Model": {"Value": {"Ref": "CartModel"}}, "Deployment": {"Value": {"Ref": "Deployment"}},
            "Plan": {"Value": {"Ref": "Plan"}}, "PlanKey": {"Value": {"Ref": "PlanKey"}},
        },
    }
    outputs = create_stack(template)
    client = boto3.client("apigateway", region_name=REGION)
    api_id = outputs["Api"]
    assert outputs["Stage"] == "live" and outputs["Model"] == "CartInput"
    assert outputs["Key"] == outputs["KeyId"] == outputs["PlanKey"]
    stage = client.get_stage(restApiId=api_id, stageName="live")
    assert stage["deploymentId"] == outputs["Deployment"] and stage["variables"] == {"env": "test"}
    assert client.get_request_validator(restApiId=api_id, requestValidatorId=outputs["Validator"])["validateRequestBody"] is True
    assert client.get_usage_plan(usagePlanId=outputs["Plan"])["throttle"] == {"burstLimit": 5, "rateLimit": 10.0}

    method = methods_by_path(api_id)["/carts"]["POST"]
    assert method["apiKeyRequired"] is True and method["requestValidatorId"] == outputs["Validator"]
    assert method["requestModels"] == {"application/json": "CartInput"}
    assert method["methodResponses"]["200"]["responseParameters"] == {"method.response.header.Access-Control-Allow-Origin": True}
    integration = method["methodIntegration"]
    assert integration["credentials"] == "arn:aws:iam::123456789012:role/api-states"
    assert integration["passthroughBehavior"] == "WHEN_NO_TEMPLATES"
    assert "application/json" in integration["requestTemplates"]
    assert integration["integrationResponses"]["400"]["selectionPattern"] == "4\\d{2}"
    assert integration["integrationResponses"]["200"]["responseParameters"] == {"method.response.header.Access-Control-Allow-Origin": "'*'"}

    headers = {"x-api-key": "k" * 30}
    assert http.post(url(api_id, "/carts", "live"), json={"nosku": 1}, headers=headers).status_code == 400
    assert http.post(url(api_id, "/carts", "live"), json={"sku": "a"}).status_code == 403


def test_stack_update_reimports_the_body_in_place_and_delete_removes_the_api() -> None:
    def template(path: str) -> dict[str, Any]:
        body = {"swagger": "2.0", "info": {"title": "t"}, "paths": {path: {"get": {"x-amazon-apigateway-integration": {
            "type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 200}"}, "responses": {"default": {"statusCode": "200"}}}}}}}
        return {"Resources": {
            "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Body": body}},
            "Stage": {"Type": "AWS::ApiGateway::Stage", "Properties": {"RestApiId": {"Ref": "Api"}, "StageName": "v1", "DeploymentId": {"Ref": "Deployment"}}},
            "Deployment": {"Type": "AWS::ApiGateway::Deployment", "Properties": {"RestApiId": {"Ref": "Api"}, "Description": path}},
        }, "Outputs": {"Api": {"Value": {"Ref": "Api"}}}}

    api_id = create_stack(template("/old"))["Api"]
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    cloudformation.update_stack(StackName="shop", TemplateBody=json.dumps(template("/new")))
    assert cloudformation.describe_stacks(StackName="shop")["Stacks"][0]["Outputs"][0]["OutputValue"] == api_id
    assert set(methods_by_path(api_id)) == {"/", "/new"}
    cloudformation.delete_stack(StackName="shop")
    assert api_id not in apigateway_backends[ACCOUNT][REGION].apis


# ---------------------------------------------------------------- routing


def routing_api() -> RestAPI:
    """Each integration is the same echoing function; the event's `resource` tells which matched."""
    return deploy_openapi({"swagger": "2.0", "info": {"title": "r"}, "paths": {
        "/items": {"get": proxy(), "x-amazon-apigateway-any-method": proxy()},
        "/items/{id}": {"get": proxy()},
        "/items/special": {"get": proxy()},
        "/items/{id}/parts/{part}": {"get": proxy()},
        "/{proxy+}": {"x-amazon-apigateway-any-method": proxy()},
    }})


@pytest.mark.parametrize(("method", "path", "resource", "params"), [
    ("GET", "/items/special", "/items/special", None),
    ("GET", "/items/42", "/items/{id}", {"id": "42"}),
    ("GET", "/items/42/parts/7", "/items/{id}/parts/{part}", {"id": "42", "part": "7"}),
    ("POST", "/items/42", "/{proxy+}", {"proxy": "items/42"}),
    ("GET", "/other/a/b", "/{proxy+}", {"proxy": "other/a/b"}),
    ("GET", "/items", "/items", None),
    ("DELETE", "/items", "/items", None),
    ("GET", "/items/", "/items", None),
])
def test_routing_precedence(http: Client, fake_lambda: FakeLambda, method: str, path: str, resource: str, params: Any) -> None:
    api = routing_api()
    response = http.open(url(api, path), method=method)
    assert response.status_code == 200
    event = body_json(response)
    assert (event["resource"], event["pathParameters"], event["httpMethod"]) == (resource, params, method)


def test_method_beats_any_on_the_same_resource(http: Client) -> None:
    api = routing_api()
    resource = next(r for r in api.resources.values() if r.get_path() == "/items")
    assert body_json(http.get(url(api, "/items")))["requestContext"]["resourceId"] == resource.id
    assert resource.resource_methods["GET"].method_integration is not None


def test_unknown_route_method_api_and_stage(http: Client) -> None:
    api = deploy_openapi({"swagger": "2.0", "info": {"title": "r"}, "paths": {"/items": {"get": proxy()}}})
    for response in (http.get(url(api, "/nothing")), http.delete(url(api, "/items")), http.get(url(api, "/"))):
        assert response.status_code == 403
        assert response.get_data() == b'{"message":"Missing Authentication Token"}'
        assert response.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
        assert response.headers["x-amzn-RequestId"]
    unknown_api = http.get(url("doesnotexist", "/items"))
    assert (unknown_api.status_code, body_json(unknown_api)) == (404, {"message": "Not Found"})
    unknown_stage = http.get(url(api, "/items", stage="nope"))
    assert (unknown_stage.status_code, body_json(unknown_stage)) == (403, {"message": "Forbidden"})


def test_gateway_responses_customize_errors(http: Client) -> None:
    api = deploy_openapi({"swagger": "2.0", "info": {"title": "r"}, "paths": {"/items": {"get": proxy()}},
                          "x-amazon-apigateway-gateway-responses": {"DEFAULT_4XX": {
                              "responseParameters": {"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"},
                              "responseTemplates": {"application/json": "{\"error\":$context.error.messageString}"}}}})
    response = http.get(url(api, "/missing"))
    assert response.status_code == 403
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert body_json(response) == {"error": "Missing Authentication Token"}


# ---------------------------------------------------------------- AWS_PROXY


def test_proxy_event_shape(http: Client, fake_lambda: FakeLambda) -> None:
    api = deploy_openapi({"swagger": "2.0", "info": {"title": "r"}, "paths": {"/carts/{cartId}": {"post": proxy()}}},
                         stage="Prod", variables={"table": "carts"})
    response = http.post(url(api, "/carts/c-1?a=1&a=2&b=x", "Prod"), json={"sku": "é"}, headers={"X-Custom": "v"})
    assert response.status_code == 200
    function_arn, event = fake_lambda.calls[0]
    assert function_arn == FUNCTION_ARN
    assert event["resource"] == "/carts/{cartId}"
    assert event["path"] == "/carts/c-1"
    assert event["httpMethod"] == "POST"
    assert event["headers"]["X-Custom"] == "v" and event["multiValueHeaders"]["X-Custom"] == ["v"]
    assert event["headers"]["Content-Type"] == "application/json"
    assert event["queryStringParameters"] == {"a": "2", "b": "x"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": ["x"]}
    assert event["pathParameters"] == {"cartId": "c-1"}
    assert event["stageVariables"] == {"table": "carts"}
    assert json.loads(event["body"]) == {"sku": "é"} and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["accountId"] == ACCOUNT and context["apiId"] == api.id
    assert context["resourcePath"] == "/carts/{cartId}" and context["httpMethod"] == "POST"
    assert context["path"] == "/Prod/carts/c-1" and context["stage"] == "Prod"
    assert context["requestId"] == response.headers["x-amzn-RequestId"]
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["protocol"].startswith("HTTP/") and context["domainName"]
    assert isinstance(context["requestTimeEpoch"], int) and context["requestTime"].endswith("+0000")
    assert context["resourceId"] == next(r.id for r in api.resources.values() if r.get_path() == "/carts/{cartId}")


def test_proxy_event_without_query_body_or_params_has_nulls(http: Client, fake_lambda: FakeLambda) -> None:
    api = deploy_openapi({"swagger": "2.0", "info": {"title": "r"}, "paths": {"/": {"get": proxy()}}})
    http.get(url(api, "/"))
    event = fake_lambda.calls[0][1]
    assert [event[k] for k in ("queryStringParameters", "multiValueQueryStringParameters", "pathParameters", "stageVariables", "body")] == [None] * 5
    assert event["path"] == "/" and event["resource"] == "/"


def test_proxy_event_base64_body_for_binary_media_types(http: Client, fake_lambda: FakeLambda) -> None:
    api = deploy_openapi({"swagger": "2.0", "info": {"title": "r"}, "x-amazon-apigateway-binary-media-types": ["image/png"],
                          "paths": {"/upload": {"post": proxy()}}})
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    http.post(url(api, "/upload"), data=png, headers={"Content-Type": "image/png"})
    http.post(url(api, "/upload"), data=b"plain text", headers={"Content-Type": "text/plain"})
    http.post(url(api, "/upload"), data=b"\xff\xfe\x00", headers={"Content-Type": "application/octet-stream"})
    events = [event for _, event in fake_lambda.calls]
    assert events[0]["isBase64Encoded"] is True and base64.b64decode(events[0]["body"]) == png
    assert (events[1]["isBase64Encoded"], events[1]["body"]) == (False, "plain text")
    assert events[2]["isBase64Encoded"] is True and base64.b64decode(events[2]["body"]) == b"\xff\xfe\x00"


def test_proxy_response_mapping(http: Client, fake_lambda: FakeLambda) -> None:
    api = deploy_openapi({"swagger": "2.0", "info": {"title": "r"}, "paths": {"/x": {"get": proxy()}}})
    fake_lambda.returns({
        "statusCode": "201",
        "headers": {"X-One": "1", "Set-Cookie": "a=1", "X-Flag": True},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"], "X-Many": ["x", "y"]},
        "body": "created",
    })
    response = http.get(url(api, "/x"))
    assert response.status_code == 201
    assert response.get_data() == b"created"
    assert response.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    assert response.headers.getlist("X-Many") == ["x", "y"]
    assert response.headers["X-One"] == "1" and response.headers["X-Flag"] == "true"
    assert response.headers["Content-Type"] == "application/json"  # API Gateway's default

    fake_lambda.returns({"statusCode": 200, "headers": {"content-type": "text/html"}, "body": "<p>"})
    assert http.get(url(api, "/x")).headers["Content-Type"] == "text/html"


def test_proxy_base64_response_is_binary_only_when_the_client_accepts_a_binary_type(http: Client, fake_lambda: FakeLambda) -> None:
    api = deploy_openapi({"swagger": "2.0", "info": {"title": "r"}, "x-amazon-apigateway-binary-media-types": ["image/png"],
                          "paths": {"/img": {"get": proxy()}}})
    fake_lambda.returns({"statusCode": 200, "headers": {"Content-Type": "image/png"}, "isBase64Encoded": True,
                         "body": base64.b64encode(b"\x89PNG").decode()})
    assert http.get(url(api, "/img"), headers={"Accept": "image/png"}).get_data() == b"\x89PNG"
    assert http.get(url(api, "/img"), headers={"Accept": "*/*"}).get_data() == base64.b64encode(b"\x89PNG")


@pytest.mark.parametrize("payload, error", [
    ({"errorMessage": "boom", "errorType": "Exception"}, "Unhandled"),
    (b"not json", None),
    ([1, 2], None),
    ({"body": "no status"}, None),
    ({"statusCode": 200, "body": "x", "unexpected": 1}, None),
    ({"statusCode": 200, "body": {"not": "a string"}}, None),
    ({"statusCode": "abc"}, None),
])
def test_proxy_function_error_or_malformed_response_is_502(http: Client, fake_lambda: FakeLambda, payload: Any, error: str | None) -> None:
    api = deploy_openapi({"swagger": "2.0", "info": {"title": "r"}, "paths": {"/x": {"get": proxy()}}})
    fake_lambda.returns(payload, error)
    response = http.get(url(api, "/x"))
    assert response.status_code == 502
    assert body_json(response) == {"message": "Internal server error"}
    assert response.headers["x-amzn-ErrorType"] == "InternalServerErrorException"


def test_proxy_uri_with_stage_variable(http: Client, fake_lambda: FakeLambda) -> None:
    uri = f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{FUNCTION_ARN}:${{stageVariables.alias}}/invocations"
    api = deploy_openapi({"swagger": "2.0", "info": {"title": "r"}, "paths": {"/x": {"get": proxy(uri)}}}, variables={"alias": "live"})
    assert http.get(url(api, "/x")).status_code == 200
    assert fake_lambda.calls[0][0] == f"{FUNCTION_ARN}:live"


# ---------------------------------------------------------------- AWS integrations: DynamoDB, Step Functions, Lambda

CART_GET_TEMPLATE = '{"TableName": "carts", "Key": {"cartId": {"S": "$input.params(\'cartId\')"}}}'
CART_RESPONSE_TEMPLATE = """#set($item = $input.path('$.Item'))
#if($item == "")
#set($context.responseOverride.status = 404)
{"message": "Cart $input.params('cartId') not found"}
#else
{
  "cartId": "$item.cartId.S",
  "count": $item.lines.L.size(),
  "lines": [
#foreach($line in $item.lines.L)
    {"sku": "$line.M.sku.S", "quantity": $line.M.quantity.N}#if($foreach.hasNext),#end
#end
  ]
}
#end"""


def cart_api() -> RestAPI:
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName="carts", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "cartId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "cartId", "AttributeType": "S"}],
    )
    boto3.client("dynamodb", region_name=REGION).put_item(TableName="carts", Item={
        "cartId": {"S": "c-1"},
        "lines": {"L": [{"M": {"sku": {"S": "apple"}, "quantity": {"N": "2"}}}, {"M": {"sku": {"S": "pear"}, "quantity": {"N": "1"}}}]},
    })
    return deploy_openapi({"swagger": "2.0", "info": {"title": "carts"}, "paths": {"/carts/{cartId}": {"get": {
        "responses": {"200": {"description": "ok"}, "404": {"description": "missing"}, "500": {"description": "error"}},
        "x-amazon-apigateway-integration": {
            "type": "aws", "httpMethod": "POST", "uri": f"arn:aws:apigateway:{REGION}:dynamodb:action/GetItem",
            "credentials": f"arn:aws:iam::{ACCOUNT}:role/api-dynamodb",
            "requestTemplates": {"application/json": CART_GET_TEMPLATE},
            "passthroughBehavior": "when_no_templates",
            "responses": {
                "default": {"statusCode": "200", "responseTemplates": {"application/json": CART_RESPONSE_TEMPLATE},
                            "responseParameters": {"method.response.header.Access-Control-Allow-Origin": "'*'",
                                                   "method.response.header.X-Stage": "context.stage"}},
                "4\\d{2}": {"statusCode": "500", "responseTemplates": {"application/json": "{\"message\": \"$input.path('$.__type')\"}"}},
            },
        },
    }}}})


def test_dynamodb_get_item_present_cart_is_200(http: Client, services: FakeServices) -> None:
    api = cart_api()
    response = http.get(url(api, "/carts/c-1"))
    assert response.status_code == 200, response.get_data()
    assert body_json(response) == {"cartId": "c-1", "count": 2, "lines": [{"sku": "apple", "quantity": 2}, {"sku": "pear", "quantity": 1}]}
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["X-Stage"] == "prod"
    assert response.headers["Content-Type"] == "application/json"
    assert services.calls == [(ACCOUNT, REGION, "dynamodb", "GetItem", {"TableName": "carts", "Key": {"cartId": {"S": "c-1"}}})]


def test_dynamodb_get_item_absent_cart_is_404_by_response_override(http: Client) -> None:
    api = cart_api()
    response = http.get(url(api, "/carts/nope"))
    assert response.status_code == 404
    assert body_json(response) == {"message": "Cart nope not found"}


def test_selection_pattern_matches_the_backend_status(http: Client) -> None:
    api = cart_api()
    boto3.client("dynamodb", region_name=REGION).delete_table(TableName="carts")
    response = http.get(url(api, "/carts/c-1"))
    assert response.status_code == 500
    assert "ResourceNotFoundException" in body_json(response)["message"]


def test_missing_attribute_check_with_not(http: Client, services: FakeServices) -> None:
    services.answers["GetItem"] = (200, {})
    template = "#set($item = $input.path('$.Item'))#if(!$item.cartId)#set($context.responseOverride.status = 404)#set($context.responseOverride.header.X-Why = \"absent\"){}#end"
    api = deploy_openapi({"swagger": "2.0", "info": {"title": "c"}, "paths": {"/c": {"get": {"x-amazon-apigateway-integration": {
        "type": "aws", "httpMethod": "POST", "uri": f"arn:aws:apigateway:{REGION}:dynamodb:action/GetItem",
        "requestTemplates": {"application/json": "{}"},
        "responses": {"default": {"statusCode": "200", "responseTemplates": {"application/json": template}}}}}}}})
    response = http.get(url(api, "/c"))
    assert (response.status_code, response.headers["X-Why"]) == (404, "absent")


def test_step_functions_start_execution(http: Client, services: FakeServices) -> None:
    services.answers["StartExecution"] = (200, {"executionArn": "arn:aws:states:us-east-1:123456789012:execution:checkout:1", "startDate": 1})
    api = deploy_openapi({"swagger": "2.0", "info": {"title": "s"}, "paths": {"/checkout": {"post": {"x-amazon-apigateway-integration": {
        "type": "aws", "httpMethod": "POST", "uri": f"arn:aws:apigateway:{REGION}:states:action/StartExecution",
        "requestTemplates": {"application/json": "{\"stateMachineArn\": \"arn:aws:states:us-east-1:123456789012:stateMachine:checkout\", \"input\": \"$util.escapeJavaScript($input.json('$'))\"}"},
        "responses": {"default": {"statusCode": "202", "responseTemplates": {"application/json": "{\"id\": \"$input.path('$.executionArn')\"}"}}}}}}}})
    response = http.post(url(api, "/checkout"), json={"cartId": "c-1", "note": 'say "hi"'})
    assert response.status_code == 202
    assert body_json(response) == {"id": "arn:aws:states:us-east-1:123456789012:execution:checkout:1"}
    account, region, service, action, request = services.calls[0]
    assert (service, action) == ("states", "StartExecution")
    assert json.loads(request["input"]) == {"cartId": "c-1", "note": 'say "hi"'}


def test_lambda_custom_integration_selects_by_error_message(http: Client, fake_lambda: FakeLambda) -> None:
    api = deploy_openapi({"swagger": "2.0", "info": {"title": "l"}, "paths": {"/items/{id}": {"get": {"x-amazon-apigateway-integration": {
        "type": "aws", "httpMethod": "POST", "uri": LAMBDA_URI,
        "requestTemplates": {"application/json": "{\"id\": \"$input.params('id')\"}"},
        "responses": {
            "default": {"statusCode": "200", "responseTemplates": {"application/json": "{\"name\": \"$input.path('$.name')\"}"}},
            ".*Not Found.*": {"statusCode": "404", "responseTemplates": {"application/json": "{\"message\": \"$input.path('$.errorMessage')\"}"}},
        }}}}}})
    fake_lambda.returns({"name": "apple"})
    ok = http.get(url(api, "/items/1"))
    assert (ok.status_code, body_json(ok)) == (200, {"name": "apple"})
    assert fake_lambda.calls[0][1] == {"id": "1"}
    fake_lambda.returns({"errorMessage": "Item 2 Not Found here", "errorType": "KeyError"}, "Unhandled")
    missing = http.get(url(api, "/items/2"))
    assert (missing.status_code, body_json(missing)) == (404, {"message": "Item 2 Not Found here"})
    fake_lambda.returns({"errorMessage": "other", "errorType": "ValueError"}, "Unhandled")
    assert http.get(url(api, "/items/3")).status_code == 200  # no pattern matches: the default, as on AWS


@pytest.mark.parametrize(("behavior", "templates", "content_type", "status"), [
    ("WHEN_NO_MATCH", {"application/json": "{}"}, "text/plain", 200),
    ("WHEN_NO_TEMPLATES", {"application/json": "{}"}, "text/plain", 415),
    ("WHEN_NO_TEMPLATES", None, "text/plain", 200),
    ("NEVER", {"application/json": "{}"}, "text/plain", 415),
    ("NEVER", {"application/json": "{}"}, "application/json", 200),
])
def test_passthrough_behavior(http: Client, services: FakeServices, behavior: str, templates: Any, content_type: str, status: int) -> None:
    services.answers["PutItem"] = (200, {})
    integration = {"type": "aws", "httpMethod": "POST", "uri": f"arn:aws:apigateway:{REGION}:dynamodb:action/PutItem",
                   "passthroughBehavior": behavior, "responses": {"default": {"statusCode": "200"}}}
    if templates:
        integration["requestTemplates"] = templates
    api = deploy_openapi({"swagger": "2.0", "info": {"title": "p"}, "paths": {"/p": {"post": {"x-amazon-apigateway-integration": integration}}}})
    response = http.post(url(api, "/p"), data='{"raw": true}', headers={"Content-Type": content_type})
    assert response.status_code == status
    if status == 415:
        assert body_json(response) == {"message": "Unsupported Media Type"}
    elif content_type == "text/plain":
        assert services.calls[0][4] == {"raw": True}  # passed through untouched


def test_request_template_on_a_body_that_is_not_json_is_400(http: Client) -> None:
    api = deploy_openapi({"swagger": "2.0", "info": {"title": "p"}, "paths": {"/p": {"post": {"x-amazon-apigateway-integration": {
        "type": "mock", "requestTemplates": {"application/json": "#set($x = $input.json('$')){\"statusCode\": 200}"},
        "responses": {"default": {"statusCode": "200"}}}}}}})
    response = http.post(url(api, "/p"), data="not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert body_json(response)["message"].startswith("Could not parse request body into json")


# ---------------------------------------------------------------- MOCK


def test_mock_integration_selects_response_by_status_code(http: Client) -> None:
    api = deploy_openapi({"swagger": "2.0", "info": {"title": "m"}, "paths": {"/health": {"get": {"x-amazon-apigateway-integration": {
        "type": "mock",
        "requestTemplates": {"application/json": "#if($input.params('fail') == 'yes'){\"statusCode\": 503}#else{\"statusCode\": 200}#end"},
        "responses": {
            "default": {"statusCode": "200", "responseTemplates": {"application/json": "{\"ok\": true, \"stage\": \"$context.stage\"}"}},
            "5\\d{2}": {"statusCode": "503", "responseTemplates": {"application/json": "{\"ok\": false}"}},
        }}}}}})
    ok = http.get(url(api, "/health"))
    assert (ok.status_code, body_json(ok)) == (200, {"ok": True, "stage": "prod"})
    failing = http.get(url(api, "/health?fail=yes"))
    assert (failing.status_code, body_json(failing)) == (503, {"ok": False})


def test_mock_cors_preflight_response_parameters(http: Client) -> None:
    api = deploy_openapi({"swagger": "2.0", "info": {"title": "m"}, "paths": {"/carts": {"options": {"x-amazon-apigateway-integration": {
        "type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
        "responses": {"default": {"statusCode": "200", "responseTemplates": {"application/json": ""}, "responseParameters": {
            "method.response.header.Access-Control-Allow-Origin": "'https://shop.example'",
            "method.response.header.Access-Control-Allow-Methods": "'GET,POST,OPTIONS'",
            "method.response.header.Access-Control-Allow-Headers": "'Content-Type,X-Api-Key'",
        }}}}}}}})
    response = http.options(url(api, "/carts"))
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert response.headers["Access-Control-Allow-Methods"] == "GET,POST,OPTIONS"
    assert response.headers["Access-Control-Allow-Headers"] == "Content-Type,X-Api-Key"
    assert response.get_data() == b""


# ---------------------------------------------------------------- method request: validators and API keys


def validated_api() -> RestAPI:
    return deploy_openapi({
        "swagger": "2.0", "info": {"title": "v"},
        "x-amazon-apigateway-request-validators": {"all": {"validateRequestBody": True, "validateRequestParameters": True}},
        "definitions": {
            "Line": {"type": "object", "required": ["sku", "quantity"], "properties": {
                "sku": {"type": "string", "minLength": 1}, "quantity": {"type": "integer", "minimum": 1}}},
            "Cart": {"type": "object", "required": ["lines"], "properties": {"lines": {"type": "array", "items": {"$ref": "#/definitions/Line"}}}},
        },
        "paths": {"/carts": {"post": {
            "x-amazon-apigateway-request-validator": "all",
            "parameters": [{"name": "cart", "in": "body", "schema": {"$ref": "#/definitions/Cart"}},
                           {"name": "currency", "in": "query", "required": True, "type": "string"},
                           {"name": "X-Shop", "in": "header", "required": True, "type": "string"}],
            "x-amazon-apigateway-integration": {"type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
                                                 "responses": {"default": {"statusCode": "200"}}},
        }}},
    })


def test_request_validator_rejects_an_invalid_body(http: Client) -> None:
    api = validated_api()
    headers = {"X-Shop": "main"}
    good = {"lines": [{"sku": "apple", "quantity": 2}]}
    assert http.post(url(api, "/carts?currency=EUR"), json=good, headers=headers).status_code == 200
    cases: list[Any] = [{"lines": [{"sku": "apple", "quantity": 0}]}, {"items": []}, "not json"]
    for bad in cases:
        data = bad if isinstance(bad, str) else json.dumps(bad)
        response = http.post(url(api, "/carts?currency=EUR"), data=data, headers={**headers, "Content-Type": "application/json"})
        assert response.status_code == 400
        assert response.get_data() == b'{"message":"Invalid request body"}'
        assert response.headers["x-amzn-ErrorType"] == "BadRequestException"


def test_request_validator_rejects_missing_required_parameters(http: Client) -> None:
    api = validated_api()
    response = http.post(url(api, "/carts"), json={"lines": []})
    assert response.status_code == 400
    assert body_json(response) == {"message": "Missing required request parameters: [X-Shop, currency]"}
    assert http.post(url(api, "/carts?currency=EUR"), json={"lines": []}, headers={"x-shop": "a"}).status_code == 200


def test_api_key_required(http: Client) -> None:
    api = deploy_openapi({"swagger": "2.0", "info": {"title": "k"}, "securityDefinitions": {"api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"}},
                          "paths": {"/secret": {"get": {"security": [{"api_key": []}], "x-amazon-apigateway-integration": {
                              "type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
                              "responses": {"default": {"statusCode": "200", "responseTemplates": {"application/json": "{\"key\": \"$context.identity.apiKeyId\"}"}}}}}}}})
    backend = apigateway_backends[ACCOUNT][REGION]
    backend.create_deployment(api.id, "dev")
    client = boto3.client("apigateway", region_name=REGION)
    good = client.create_api_key(name="good", enabled=True, value="g" * 24)
    disabled = client.create_api_key(name="off", enabled=False, value="d" * 24)
    unplanned = client.create_api_key(name="loose", enabled=True, value="u" * 24)
    plan = client.create_usage_plan(name="plan", apiStages=[{"apiId": api.id, "stage": "prod"}])
    for key in (good, disabled):
        client.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")

    for headers in ({}, {"x-api-key": "wrong"}, {"x-api-key": "d" * 24}, {"x-api-key": "u" * 24}):
        response = http.get(url(api, "/secret"), headers=headers)
        assert response.status_code == 403, headers
        assert response.get_data() == b'{"message":"Forbidden"}'
        assert response.headers["x-amzn-ErrorType"] == "ForbiddenException"
    ok = http.get(url(api, "/secret"), headers={"X-API-Key": "g" * 24})
    assert (ok.status_code, body_json(ok)) == (200, {"key": good["id"]})
    assert http.get(url(api, "/secret", stage="dev"), headers={"x-api-key": "g" * 24}).status_code == 403  # plan is for prod only
    assert unplanned["id"]


# ---------------------------------------------------------------- VTL


def render(template: str, body: str = "", params: dict[str, dict[str, str]] | None = None, context: dict[str, Any] | None = None) -> str:
    return vtl.render(template, body=body, params=params or {}, context=context or {}, stage_variables={"env": "dev"})


def test_vtl_input_params_searches_path_then_querystring_then_header() -> None:
    params = {"path": {"id": "p"}, "querystring": {"id": "q", "sort": "asc"}, "header": {"Id": "h", "X-Only": "x"}}
    assert render("$input.params('id') $input.params('sort') $input.params('x-only') [$input.params('none')]", params=params) == "p asc x []"
    assert render("$input.params().querystring.sort $input.params().header.get('x-only') $input.params().path.size()", params=params) == "asc x 1"


def test_vtl_input_json_and_path() -> None:
    body = json.dumps({"a": {"b": [1, 2, 3]}, "items": [{"n": "x"}, {"n": "y"}], "s": "t"})
    assert render("$input.json('$.a')", body) == '{"b":[1,2,3]}'
    assert render("$input.json('$')", body) == json.dumps(json.loads(body), separators=(",", ":"))
    assert render("$input.path('$.a.b').size() $input.path('$.a.b[0]') $input.path('$.s')", body) == "3 1 t"
    assert render("#foreach($i in $input.path('$.items'))$i.n#end", body) == "xy"
    assert render("#foreach($n in $input.path('$.items[*].n'))$n,#end", body) == "x,y,"
    assert render("[$input.path('$.missing')]", body) == "[]"
    assert render("$input.body", "raw") == "raw"


def test_vtl_util_functions() -> None:
    assert render("$util.escapeJavaScript($input.path('$.s'))", json.dumps({"s": "it's \"q\"\n/é"})) == "it\\'s \\\"q\\\"\\n\\/\\u00E9"
    assert render("$util.urlEncode('a b&c=d') $util.urlDecode('a+b%26c')") == "a+b%26c%3Dd a b&c"
    assert render("$util.base64Encode('hello') $util.base64Decode('aGVsbG8=')") == "aGVsbG8= hello"
    assert render("$util.parseJson('{\"a\": {\"b\": 5}}').a.b") == "5"


def test_vtl_context_stage_variables_and_overrides() -> None:
    context = {"requestId": "r-1", "stage": "prod", "resourcePath": "/x", "httpMethod": "GET", "accountId": ACCOUNT,
               "apiId": "abc", "identity": {"sourceIp": "10.0.0.1"}, "responseOverride": {"status": None, "header": {}}}
    assert render("$context.requestId $context.stage $context.resourcePath $context.httpMethod $context.identity.sourceIp $context.apiId $stageVariables.env",
                  context=context) == "r-1 prod /x GET 10.0.0.1 abc dev"
    render("#set($context.responseOverride.status = 418)#set($context.responseOverride.header.Retry-After = \"5\")", context=context)
    assert context["responseOverride"] == {"status": 418, "header": {"Retry-After": "5"}}


def test_vtl_rejects_json_reads_of_a_non_json_body() -> None:
    with pytest.raises(vtl.BodyNotJson):
        render("$input.path('$.a')", "<xml/>")


def test_vtl_null_references_are_false_as_in_velocity() -> None:
    assert render("#if($missing)yes#else no#end") == " no"
    assert render("#if(!$missing)yes#end") == "yes"
    assert render("#set($item = $input.path('$.Item'))#if(!$item.cartId)absent#end", "{}") == "absent"


# ---------------------------------------------------------------- what the local gateway does not do


def test_unsupported_integration_type_is_a_500(http: Client) -> None:
    api = deploy_openapi({"swagger": "2.0", "info": {"title": "h"}, "paths": {"/h": {"get": {"x-amazon-apigateway-integration": {
        "type": "http_proxy", "httpMethod": "GET", "uri": "https://example.com/"}}}}})
    response = http.get(url(api, "/h"))
    assert (response.status_code, body_json(response)) == (500, {"message": "Internal server error"})


def test_an_invoker_failure_is_a_500_not_a_crash(fake_lambda: FakeLambda, services: FakeServices) -> None:
    def failing_invoker(function_arn: str, payload: bytes) -> tuple[bytes, str | None]:
        raise LookupError("Function not found")

    http = Client(RestApiGateway(invoke_lambda=failing_invoker, call_aws_service=services))
    api = deploy_openapi({"swagger": "2.0", "info": {"title": "r"}, "paths": {"/x": {"get": proxy()}}})
    response = http.get(url(api, "/x"))
    assert (response.status_code, body_json(response)) == (500, {"message": "Internal server error"})


# ---------------------------------------------------------------- Lambda authorizers
# https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-use-lambda-authorizer.html


AUTHORIZER_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:authorizer"
AUTHORIZER_URI = f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{AUTHORIZER_ARN}/invocations"


class FakeAuthorizer(FakeLambda):
    """The authorizer function answers `decide(event)`; every other function echoes as FakeLambda."""

    def __init__(self) -> None:
        super().__init__()
        self.arn = AUTHORIZER_ARN
        self.decide: Any = lambda event: allow(event["methodArn"])

    def __call__(self, function_arn: str, payload: bytes) -> tuple[bytes, str | None]:
        if function_arn != self.arn:
            return super().__call__(function_arn, payload)
        event = json.loads(payload)
        self.calls.append((function_arn, event))
        answer = self.decide(event)
        if isinstance(answer, Exception):  # as the Lambda runtime reports a raised exception
            return json.dumps({"errorMessage": str(answer), "errorType": "Exception"}).encode(), "Unhandled"
        return json.dumps(answer).encode(), None

    def authorizer_calls(self) -> list[dict[str, Any]]:
        return [event for arn, event in self.calls if arn == self.arn]


def allow(resource: str, effect: str = "Allow", context: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"principalId": "alice", "context": context or {"sub": "alice", "tier": 2, "admin": False},
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}]}}


@pytest.fixture
def authorizer_lambda() -> FakeAuthorizer:
    return FakeAuthorizer()


@pytest.fixture
def guarded(authorizer_lambda: FakeAuthorizer, services: FakeServices) -> Client:
    return Client(RestApiGateway(invoke_lambda=authorizer_lambda, call_aws_service=services))


def authorized_api(kind: str = "token", ttl: int | None = 0, identity: str | None = None,
                   validation: str | None = None) -> RestAPI:
    """/things/{id}: GET proxied to a function, PUT a DynamoDB-less MOCK reading $context.authorizer;
    /open without authorizer. Both guarded routes use one Lambda authorizer."""
    authorizer: dict[str, Any] = {"type": kind, "authorizerUri": AUTHORIZER_URI}
    if ttl is not None:
        authorizer["authorizerResultTtlInSeconds"] = ttl
    if identity:
        authorizer["identitySource"] = identity
    if validation:
        authorizer["identityValidationExpression"] = validation
    mock = {"x-amazon-apigateway-integration": {
        "type": "mock", "requestTemplates": {"application/json": '{"statusCode": 200}'},
        "responses": {"default": {"statusCode": "200", "responseTemplates": {
            "application/json": '{"who": "$context.authorizer.principalId", "sub": "$context.authorizer.sub", '
                                '"tier": "$context.authorizer.tier"}'}}}},
        "responses": {"200": {"description": "ok"}}, "security": [{"shop": []}]}
    return deploy_openapi({
        "swagger": "2.0", "info": {"title": "guarded", "version": "1"},
        "securityDefinitions": {"shop": {"type": "apiKey", "name": "Authorization", "in": "header",
                                         "x-amazon-apigateway-authtype": "custom",
                                         "x-amazon-apigateway-authorizer": authorizer}},
        "paths": {
            "/things/{id}": {"get": {**proxy(), "security": [{"shop": []}]}, "put": mock},
            "/open": {"get": proxy()},
        },
    })


def test_authorizer_token_missing_is_401_without_calling_the_function(guarded: Client, authorizer_lambda: FakeAuthorizer) -> None:
    """TOKEN authorizer: a missing or empty identity source is 401 {"message":"Unauthorized"} and the
    function is not called (apigateway-lambda-authorizer-input.html, "identity source")."""
    api = authorized_api()
    for headers in ({}, {"Authorization": ""}):
        response = guarded.get(url(api, "/things/1"), headers=headers)
        assert response.status_code == 401 and body_json(response) == {"message": "Unauthorized"}
        assert response.headers["x-amzn-ErrorType"] == "UnauthorizedException"
    assert authorizer_lambda.calls == []
    assert guarded.get(url(api, "/open")).status_code == 200  # a method without authorizer is open


def test_authorizer_token_event_and_allow_reaches_the_integration(guarded: Client, authorizer_lambda: FakeAuthorizer) -> None:
    """The TOKEN event is {type, authorizationToken, methodArn}, the ARN naming the requested path;
    an Allow lets the call through and the proxy event's requestContext.authorizer carries the
    context (values as strings) and principalId (apigateway-lambda-authorizer-output.html)."""
    api = authorized_api()
    response = guarded.get(url(api, "/things/42"), headers={"Authorization": "Bearer good"})
    assert response.status_code == 200
    [event] = authorizer_lambda.authorizer_calls()
    assert event == {"type": "TOKEN", "authorizationToken": "Bearer good",
                     "methodArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api.id}/prod/GET/things/42"}
    proxied = body_json(response)  # the fake function echoes its event
    assert proxied["requestContext"]["authorizer"] == {"principalId": "alice", "sub": "alice", "tier": "2", "admin": "false"}


def test_authorizer_context_in_mapping_templates(guarded: Client) -> None:
    """$context.authorizer.principalId and $context.authorizer.<key> in a template."""
    api = authorized_api()
    response = guarded.put(url(api, "/things/1"), headers={"Authorization": "t", "Content-Type": "application/json"})
    assert response.status_code == 200
    assert body_json(response) == {"who": "alice", "sub": "alice", "tier": "2"}


def test_authorizer_unauthorized_error_is_401(guarded: Client, authorizer_lambda: FakeAuthorizer) -> None:
    """A function that fails with the message "Unauthorized" gives 401 Unauthorized."""
    authorizer_lambda.decide = lambda event: Exception("Unauthorized")
    response = guarded.get(url(authorized_api(), "/things/1"), headers={"Authorization": "Bearer expired"})
    assert response.status_code == 401 and body_json(response) == {"message": "Unauthorized"}


@pytest.mark.parametrize("policy", [
    lambda arn: allow(arn, effect="Deny"),
    lambda arn: allow(arn.rsplit("/", 2)[0] + "/POST/*"),  # allows another method only
    lambda arn: {**allow(arn), "policyDocument": {"Version": "2012-10-17", "Statement": [
        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "*"},
        {"Action": "execute-api:*", "Effect": "Deny", "Resource": arn}]}},  # an explicit Deny wins
])
def test_authorizer_policy_that_does_not_allow_is_403(guarded: Client, authorizer_lambda: FakeAuthorizer, policy: Any) -> None:
    """Deny, or no Allow matching the method ARN: 403 "User is not authorized to access this resource"."""
    authorizer_lambda.decide = lambda event: policy(event["methodArn"])
    response = guarded.get(url(authorized_api(), "/things/1"), headers={"Authorization": "t"})
    assert response.status_code == 403
    assert body_json(response) == {"message": "User is not authorized to access this resource"}
    assert response.headers["x-amzn-ErrorType"] == "AccessDeniedException"


def test_authorizer_wildcard_resource_allows_every_route(guarded: Client, authorizer_lambda: FakeAuthorizer) -> None:
    """IAM wildcards in the policy's Resource: `*` spans slashes (api/stage/*/*)."""
    authorizer_lambda.decide = lambda event: allow(event["methodArn"].split("/")[0] + "/prod/*/*")
    api = authorized_api()
    assert guarded.get(url(api, "/things/1"), headers={"Authorization": "t"}).status_code == 200
    assert guarded.put(url(api, "/things/2"), headers={"Authorization": "t"}).status_code == 200


@pytest.mark.parametrize("answer", [
    Exception("boom"),
    {"policyDocument": {"Statement": []}},  # no principalId
    {"principalId": "a"},  # no policy
    {**allow("*"), "context": {"nested": {"not": "allowed"}}},
])
def test_authorizer_failures_are_500(guarded: Client, authorizer_lambda: FakeAuthorizer, answer: Any) -> None:
    """Any other error, or an invalid answer, is a 500 whose message is null."""
    authorizer_lambda.decide = lambda event: answer
    response = guarded.get(url(authorized_api(), "/things/1"), headers={"Authorization": "t"})
    assert response.status_code == 500 and body_json(response) == {"message": None}


def test_authorizer_result_is_cached_for_its_ttl(guarded: Client, authorizer_lambda: FakeAuthorizer) -> None:
    """With a TTL the policy is cached per token and evaluated again for each method ARN: one call
    for two requests with one token, a new call for another token; TTL 0 calls every time."""
    cached, uncached = authorized_api(ttl=300), authorized_api(ttl=0)
    authorizer_lambda.decide = lambda event: allow(event["methodArn"])  # this path only
    for _ in range(2):
        assert guarded.get(url(cached, "/things/1"), headers={"Authorization": "a"}).status_code == 200
    assert len(authorizer_lambda.authorizer_calls()) == 1
    # The cached policy names /things/1 only: the same token on /things/2 is denied, uncalled.
    assert guarded.get(url(cached, "/things/2"), headers={"Authorization": "a"}).status_code == 403
    assert guarded.get(url(cached, "/things/1"), headers={"Authorization": "b"}).status_code == 200
    assert len(authorizer_lambda.authorizer_calls()) == 2
    for _ in range(2):
        guarded.get(url(uncached, "/things/1"), headers={"Authorization": "a"})
    assert len(authorizer_lambda.authorizer_calls()) == 4


def test_authorizer_cache_expires() -> None:
    from workshop.localcloud.apigateway import AuthorizerCache

    now = [0.0]
    cache = AuthorizerCache(clock=lambda: now[0])
    cache.put(("k",), {"principalId": "a"}, ttl=300)
    now[0] = 299.9
    assert cache.get(("k",)) == {"principalId": "a"}
    now[0] = 300.0
    assert cache.get(("k",)) is None
    cache.put(("z",), {"principalId": "a"}, ttl=0)
    assert cache.get(("z",)) is None


def test_authorizer_identity_validation_expression(guarded: Client, authorizer_lambda: FakeAuthorizer) -> None:
    """A token not matching identityValidationExpression is 401 without calling the function."""
    api = authorized_api(validation=r"Bearer [a-z]+")
    assert guarded.get(url(api, "/things/1"), headers={"Authorization": "Basic xyz"}).status_code == 401
    assert authorizer_lambda.authorizer_calls() == []
    assert guarded.get(url(api, "/things/1"), headers={"Authorization": "Bearer abc"}).status_code == 200


def test_authorizer_request_type_event_and_required_sources(guarded: Client, authorizer_lambda: FakeAuthorizer) -> None:
    """REQUEST authorizer: the event carries the request (headers, query, path parameters, stage
    variables, requestContext); with caching on, every identity source is required (401 otherwise).
    The API reference (API_Authorizer.html, identitySource): "When the authorization caching is not
    enabled, this property is optional"."""
    api = authorized_api(kind="request", ttl=60,
                         identity="method.request.header.X-Key, method.request.querystring.tenant")
    assert guarded.get(url(api, "/things/7"), headers={"X-Key": "k"}).status_code == 401
    assert authorizer_lambda.authorizer_calls() == []
    response = guarded.get(url(api, "/things/7?tenant=t1"), headers={"X-Key": "k"})
    assert response.status_code == 200
    [event] = authorizer_lambda.authorizer_calls()
    assert event["type"] == "REQUEST" and event["methodArn"].endswith("/prod/GET/things/7")
    assert event["headers"]["X-Key"] == "k" and event["queryStringParameters"] == {"tenant": "t1"}
    assert event["pathParameters"] == {"id": "7"} and event["requestContext"]["resourcePath"] == "/things/{id}"


def test_sam_token_authorizer_guards_a_definition_body_route(guarded: Client, authorizer_lambda: FakeAuthorizer) -> None:
    """SAM's Auth.DefaultAuthorizer with FunctionPayloadType TOKEN, through CloudFormation."""
    template = sam_transform({
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {
            "Api": {"Type": "AWS::Serverless::Api", "Properties": {
                "StageName": "Prod",
                "Auth": {"DefaultAuthorizer": "Tok", "Authorizers": {"Tok": {
                    "FunctionArn": {"Fn::GetAtt": ["AuthFn", "Arn"]}, "FunctionPayloadType": "TOKEN",
                    "Identity": {"Header": "Authorization", "ReauthorizeEvery": 0}}}}}},
            "AuthFn": {**SAM_FUNCTION, "Properties": {**SAM_FUNCTION["Properties"], "Runtime": "python3.12"}},
            "Fn": {**SAM_FUNCTION, "Properties": {**SAM_FUNCTION["Properties"], "Runtime": "python3.12", "Events": {
                "Get": {"Type": "Api", "Properties": {"RestApiId": {"Ref": "Api"}, "Path": "/x", "Method": "get"}}}}},
        },
        "Outputs": {"Id": {"Value": {"Ref": "Api"}}, "AuthFn": {"Value": {"Fn::GetAtt": ["AuthFn", "Arn"]}}},
    })
    outputs = create_stack(template)
    api_id, authorizer_lambda.arn = outputs["Id"], outputs["AuthFn"]
    assert guarded.get(url(api_id, "/x", stage="Prod")).status_code == 401
    authorizer_lambda.decide = lambda event: Exception("Unauthorized")
    assert guarded.get(url(api_id, "/x", stage="Prod"), headers={"Authorization": "bad"}).status_code == 401
    authorizer_lambda.decide = lambda event: allow(event["methodArn"])
    assert guarded.get(url(api_id, "/x", stage="Prod"), headers={"Authorization": "good"}).status_code == 200
