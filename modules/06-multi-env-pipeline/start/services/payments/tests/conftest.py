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
        "POWERTOOLS_SERVICE_NAME": "payments",
        "POWERTOOLS_METRICS_NAMESPACE": "ShopTest",
        "PAYMENTS_TABLE": "payments-test",
        "PAYMENT_MAX_CHARGE_CENTS": "500000",
    })
    # One mock for the session: starting moto per test would dominate the run time.
    with mock_aws():
        yield boto3.client("dynamodb")


@pytest.fixture
def context():
    """The Lambda context Powertools' Logger reads (name, memory, ARN, request id)."""
    from aws_lambda_powertools.utilities.typing import LambdaContext

    context = LambdaContext()
    context._function_name = "payments-test"
    context._memory_limit_in_mb = 256
    context._invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:payments-test"
    context._aws_request_id = "00000000-0000-0000-0000-000000000000"
    return context


@pytest.fixture
def table(aws):
    # Every test starts from an empty table.
    if "payments-test" in aws.list_tables()["TableNames"]:
        aws.delete_table(TableName="payments-test")
    aws.create_table(
        TableName="payments-test",
        AttributeDefinitions=[{"AttributeName": "orderId", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "orderId", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return boto3.resource("dynamodb").Table("payments-test")


@pytest.fixture
def payments(table):
    import payments

    return payments


def pytest_configure(config):
    # Powertools warns when a request adds no metric (a 401, say): expected here.
    config.addinivalue_line("filterwarnings", "ignore:No application metrics to publish:UserWarning")
