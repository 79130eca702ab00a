import io
import json
import os
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

SERVICE = Path(__file__).resolve().parent.parent
# As Lambda sees it: the functions' code (their CodeUri) first, then the shop_shared layer's
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
        "ORDERS_TABLE": "orders-test",
        "INVENTORY_TABLE": "inventory-test",
        "ORCHESTRATOR_FUNCTION": "orchestrator",
        "SUBMIT_ORDER_FUNCTION": "submit-order",
        "RESERVE_INVENTORY_FUNCTION": "reserve-inventory",
        "PROCESS_PAYMENT_FUNCTION": "process-payment",
        "FULFIL_ORDER_FUNCTION": "fulfil-order",
        "AUTH_TOKEN_SECRET": SECRET,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "orders",
        "POWERTOOLS_METRICS_NAMESPACE": "ShopTest",
    })
    # One mock for the session: starting moto per test would dominate the run time.
    with mock_aws():
        yield boto3.client("dynamodb")


@pytest.fixture
def tables(aws):
    # Every test starts from empty tables.
    names = {"orders": ("orders-test", "orderId"), "inventory": ("inventory-test", "sku")}
    for name, key in names.values():
        if name in aws.list_tables()["TableNames"]:
            aws.delete_table(TableName=name)
        aws.create_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
    resource = boto3.resource("dynamodb")
    return {role: resource.Table(name) for role, (name, _) in names.items()}


def lambda_context(name="orders-test"):
    """The Lambda context Powertools' Logger reads (name, memory, ARN, request id)."""
    from aws_lambda_powertools.utilities.typing import LambdaContext

    context = LambdaContext()
    context._function_name = name
    context._memory_limit_in_mb = 256
    context._invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
    context._aws_request_id = "00000000-0000-0000-0000-000000000000"
    return context


@pytest.fixture
def context():
    return lambda_context()


class FakeLambda:
    """Stands in for the Lambda client: runs a Python function per function name."""

    def __init__(self, handlers):
        self.handlers = handlers
        self.calls = []

    def invoke(self, FunctionName, Payload, InvocationType="RequestResponse"):
        event = json.loads(Payload)
        self.calls.append((FunctionName, event))
        if InvocationType == "Event":
            return {"StatusCode": 202, "Payload": io.BytesIO(b"")}
        try:
            result = self.handlers[FunctionName](event, lambda_context(FunctionName))
        except Exception as error:  # noqa: BLE001 - Lambda reports it as a function error
            body = {"errorType": type(error).__name__, "errorMessage": str(error)}
            return {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": io.BytesIO(json.dumps(body).encode())}
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(result).encode())}


@pytest.fixture
def orders_api(tables, monkeypatch):
    import orders_api

    fake = FakeLambda({})
    monkeypatch.setattr(orders_api, "LAMBDA", fake)
    return orders_api, fake


@pytest.fixture
def steps(tables):
    import steps

    return steps


def pytest_configure(config):
    # Powertools warns when a request adds no metric (a 400, say): expected here.
    config.addinivalue_line("filterwarnings", "ignore:No application metrics to publish:UserWarning")
