import os
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

# Each function's code lives in its own folder (its CodeUri), as Lambda sees it.
SERVICE = Path(__file__).resolve().parent.parent
for folder in ("manage_cart", "get_cart"):
    sys.path.insert(0, str(SERVICE / folder))


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
def manage_cart(table):
    import cart_api

    return cart_api


@pytest.fixture
def cart_store(table):
    import cart_store

    return cart_store


@pytest.fixture
def get_cart(table):
    import get_cart

    return get_cart
