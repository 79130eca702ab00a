import importlib
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

# The function's code lives in src/ (the CodeUri), as Lambda sees it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))


@pytest.fixture
def aws(monkeypatch):
    # Never reach a real account or a local cloud from a unit test.
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield


@pytest.fixture
def table(aws, monkeypatch):
    monkeypatch.setenv("PAYMENTS_TABLE", "payments-test")
    monkeypatch.setenv("PAYMENT_MAX_CHARGE_CENTS", "500000")
    boto3.client("dynamodb").create_table(
        TableName="payments-test",
        AttributeDefinitions=[{"AttributeName": "orderId", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "orderId", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return boto3.resource("dynamodb").Table("payments-test")


@pytest.fixture
def payments(table):
    # A fresh import per test: module state (the table) starts clean.
    import payments

    return importlib.reload(payments)
