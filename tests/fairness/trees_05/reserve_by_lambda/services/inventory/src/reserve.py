"""Inventory: reserve one line of an order, for the order workflow (a learner's wrong refactor).

The workflow invokes this function for each line instead of a dynamodb:updateItem task. The
update is conditional, so it does not oversell; but it is code that a DynamoDB integration
makes unnecessary, and it is a second Lambda task in the workflow.
"""
import os

import boto3

TABLE = boto3.resource("dynamodb").Table(os.environ["INVENTORY_TABLE"])
ConditionFailed = TABLE.meta.client.exceptions.ConditionalCheckFailedException


class OutOfStock(Exception):
    """Not enough stock for the line: the order cannot be reserved."""


def reserve(event, context):
    sku, quantity, hold = event["sku"], int(event["quantity"]), event["hold"]
    try:
        TABLE.update_item(
            Key={"sku": sku},
            UpdateExpression="SET stock = stock - :q, reserved = reserved + :q ADD holds :hold",
            ConditionExpression="stock >= :q",
            ExpressionAttributeValues={":q": quantity, ":hold": {hold}},
        )
    except ConditionFailed:
        raise OutOfStock(f"not enough {sku} for {quantity}") from None
    return {"sku": sku, "reserved": quantity, "hold": hold}
