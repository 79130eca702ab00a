import io
import json
import os
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

# The functions' code lives in src/ (the CodeUri), as Lambda sees it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))


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
            result = self.handlers[FunctionName](event, None)
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
