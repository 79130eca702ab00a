import os
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

SERVICE = Path(__file__).resolve().parent.parent
# As Lambda sees it: the function's code (its CodeUri) first, then the shop_shared layer's
# python/ folder (on Lambda, /opt/python). Powertools comes from the course environment here.
sys.path.insert(0, str(SERVICE / "src"))
sys.path.insert(1, str(SERVICE.parent.parent / "layers" / "shop-shared" / "content" / "python"))

SECRET = "unit-test-secret"


@pytest.fixture(scope="session")
def aws():
    # Never reach a real account or a local cloud from a unit test.
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update({
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "products",
        "POWERTOOLS_METRICS_NAMESPACE": "ShopTest",
        "PRODUCTS_TABLE": "products-test",
        "AUTH_TOKEN_SECRET": SECRET,
    })
    # One mock for the session: starting moto per test would dominate the run time.
    with mock_aws():
        yield boto3.client("dynamodb")


@pytest.fixture
def context():
    """The Lambda context Powertools' Logger reads (name, memory, ARN, request id)."""
    from aws_lambda_powertools.utilities.typing import LambdaContext

    context = LambdaContext()
    context._function_name = "products-test"
    context._memory_limit_in_mb = 256
    context._invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:products-test"
    context._aws_request_id = "00000000-0000-0000-0000-000000000000"
    return context


def api_event(method, path, resource, path_parameters=None, token=None):
    """An API Gateway REST proxy event (payload format 1.0), as Lambda receives it."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return {
        "resource": resource, "path": path, "httpMethod": method, "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": path_parameters, "stageVariables": None, "body": None, "isBase64Encoded": False,
        "requestContext": {"resourcePath": resource, "httpMethod": method, "stage": "Prod",
                           "path": f"/Prod{path}", "requestId": "test-request"},
    }


@pytest.fixture
def get(products, context):
    """get(path, token=None) -> (status, json) through the function's handler."""
    import json

    def call(path, token=None):
        sku = path.split("/")[2] if path.count("/") == 2 else None
        resource = "/products/{sku}" if sku else "/products"
        event = api_event("GET", path, resource, {"sku": sku} if sku else None, token)
        response = products.handler(event, context)
        headers = {k.lower(): v for k, v in (response.get("multiValueHeaders") or {}).items()}
        assert headers["content-type"] == ["application/json"]
        return int(response["statusCode"]), json.loads(response["body"])

    return call


@pytest.fixture
def table(aws):
    # Every test starts from an empty table.
    if "products-test" in aws.list_tables()["TableNames"]:
        aws.delete_table(TableName="products-test")
    aws.create_table(
        TableName="products-test",
        AttributeDefinitions=[{"AttributeName": "sku", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "sku", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return boto3.resource("dynamodb").Table("products-test")


@pytest.fixture
def token():
    """A valid bearer token, minted as a client of the shop would get one."""
    from shop_shared.auth import issue_token

    return issue_token("tester", SECRET)


@pytest.fixture
def products(table):
    import products

    products._seeded = False  # each test is a fresh execution environment
    return products


def pytest_configure(config):
    # Powertools warns when a request adds no metric (a 401, say): expected here.
    config.addinivalue_line("filterwarnings", "ignore:No application metrics to publish:UserWarning")
