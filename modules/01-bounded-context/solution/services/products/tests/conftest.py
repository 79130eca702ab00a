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
    monkeypatch.setenv("PRODUCTS_TABLE", "products-test")
    boto3.client("dynamodb").create_table(
        TableName="products-test",
        AttributeDefinitions=[{"AttributeName": "sku", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "sku", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return boto3.resource("dynamodb").Table("products-test")


@pytest.fixture
def products(table):
    # A fresh import per test: module state (the table, the seeded flag) starts clean.
    import products

    return importlib.reload(products)
