import json
import os
import time
import uuid
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

ASL = Path(__file__).resolve().parent.parent / "statemachine" / "order_workflow.asl.json"
ROLE = "arn:aws:iam::123456789012:role/order-workflow"


@pytest.fixture(scope="session")
def aws():
    # Never reach a real account or a local cloud from a unit test.
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update({
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    })
    # One mock for the session, with moto's Step Functions interpreter switched on: the
    # workflow's DynamoDB tasks then run against moto's DynamoDB, in this process.
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
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


def definition(payment=None):
    """The workflow as deployed (substitutions applied), with the payment task stubbed.

    A unit test cannot run payments' Lambda function, so `payment` replaces that one state:
    "approve" with a Pass state that answers a paymentId, "decline" with a task that fails.
    """
    text = ASL.read_text()
    for name, value in {
        "OrdersTable": "orders-test",
        "InventoryTable": "inventory-test",
        "ProcessPaymentFunction": "arn:aws:lambda:us-east-1:123456789012:function:payments",
    }.items():
        text = text.replace("${" + name + "}", value)
    document = json.loads(text)
    task = document["States"]["ProcessPayment"]
    if payment == "approve":
        document["States"]["ProcessPayment"] = {
            "Type": "Pass", "Result": {"paymentId": "pay_test"}, "ResultPath": "$.payment", "Next": task["Next"],
        }
    elif payment == "decline":
        # A DynamoDB call on a table that does not exist fails like a declined payment would:
        # with an error, which the task's Catch must route to the compensation.
        document["States"]["ProcessPayment"] = {
            "Type": "Task",
            "Resource": "arn:aws:states:::dynamodb:getItem",
            "Parameters": {"TableName": "payments-declined", "Key": {"orderId": {"S.$": "$.orderId"}}},
            "Catch": task["Catch"],
            "Next": task["Next"],
        }
    return document


@pytest.fixture
def run(tables):
    sfn = boto3.client("stepfunctions")

    def run(items, payment="approve", token="tok_ok"):
        machine = sfn.create_state_machine(
            name=f"orders-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition(payment)), roleArn=ROLE,
        )["stateMachineArn"]
        order_id = str(uuid.uuid4())
        execution = sfn.start_execution(
            stateMachineArn=machine, name=order_id,
            input=json.dumps({"orderId": order_id, "items": items, "paymentToken": token}),
        )["executionArn"]
        deadline = time.monotonic() + 30
        while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.05)
        order = tables["orders"].get_item(Key={"orderId": order_id}).get("Item", {})
        return order.get("status"), sfn.describe_execution(executionArn=execution)

    return run
