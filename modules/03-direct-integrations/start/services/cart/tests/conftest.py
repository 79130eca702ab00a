import json
import os
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

# Each function's code lives in its own folder (its CodeUri), as Lambda sees it.
SERVICE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(SERVICE / "manage_cart"))
sys.path.insert(0, str(SERVICE / "get_cart"))


@pytest.fixture(scope="session")
def aws():
    # Never reach a real account or a local cloud from a unit test.
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update({
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "CART_TABLE": "cart-test",
    })
    # One mock for the session: starting moto per test would dominate the run time.
    with mock_aws():
        yield boto3.client("dynamodb")


@pytest.fixture
def table(aws):
    # Every test starts from an empty table.
    if "cart-test" in aws.list_tables()["TableNames"]:
        aws.delete_table(TableName="cart-test")
    aws.create_table(
        TableName="cart-test",
        AttributeDefinitions=[{"AttributeName": "cartId", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "cartId", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return boto3.resource("dynamodb").Table("cart-test")


@pytest.fixture
def app(table):
    import app

    return app


def api_event(method, path, body=None, path_parameters=None):
    """An API Gateway REST proxy event (payload format 1.0), as Lambda receives it."""
    headers = {"Content-Type": "application/json", "Host": "local.test"}
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {"resourcePath": path, "httpMethod": method, "stage": "Prod",
                           "path": f"/Prod{path}", "requestId": "test", "identity": {"sourceIp": "127.0.0.1"}},
        "body": body,
        "isBase64Encoded": False,
    }


@pytest.fixture
def call():
    """call(app_or_module_handler, METHOD, path, body=None, path_parameters=None) -> (status, json)."""

    def invoke(handler, method, path, body=None, path_parameters=None):
        response = handler(api_event(method, path, body, path_parameters), None)
        headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
        assert headers["content-type"].startswith("application/json")
        return response["statusCode"], json.loads(response["body"])

    return invoke
