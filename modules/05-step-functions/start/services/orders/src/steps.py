"""The order's data steps, one function each: submit, reserve inventory, fulfil."""
import json
import os

import boto3

ORDERS = boto3.resource("dynamodb").Table(os.environ["ORDERS_TABLE"])
INVENTORY = boto3.resource("dynamodb").Table(os.environ["INVENTORY_TABLE"])


def submit_order(event, context):
    """Record the order."""
    ORDERS.put_item(Item={
        "orderId": event["orderId"],
        "status": "PENDING",
        "items": json.dumps(event["items"]),
    })
    return {"orderId": event["orderId"], "status": "PENDING"}


def reserve_inventory(event, context):
    """Move each line's quantity from stock to reserved."""
    # POST /orders has checked that every line is in stock.
    for line in event["items"]:
        INVENTORY.update_item(
            Key={"sku": line["sku"]},
            UpdateExpression="SET stock = stock - :quantity, reserved = reserved + :quantity",
            ExpressionAttributeValues={":quantity": line["quantity"]},
        )
    ORDERS.update_item(
        Key={"orderId": event["orderId"]},
        UpdateExpression="SET #status = :status",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":status": "RESERVED"},
    )
    return {"orderId": event["orderId"], "status": "RESERVED"}


def fulfil_order(event, context):
    for line in event["items"]:
        INVENTORY.update_item(
            Key={"sku": line["sku"]},
            UpdateExpression="SET reserved = reserved - :quantity",
            ExpressionAttributeValues={":quantity": line["quantity"]},
        )
    ORDERS.update_item(
        Key={"orderId": event["orderId"]},
        UpdateExpression="SET #status = :status",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":status": "FULFILLED"},
    )
    return {"orderId": event["orderId"], "status": "FULFILLED"}
