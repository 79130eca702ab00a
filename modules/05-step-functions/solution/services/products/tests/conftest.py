import os
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

# The function's code lives in src/ (the CodeUri), as Lambda sees it.
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
        "PRODUCTS_TABLE": "products-test",
    })
    # One mock for the session: starting moto per test would dominate the run time.
    with mock_aws():
        yield boto3.client("dynamodb")


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
def products(table):
    import products

    products._seeded = False  # each test is a fresh execution environment
    return products
