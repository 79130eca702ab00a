"""The order's data steps, one function each: submit, reserve inventory, fulfil."""
import json

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from shop_shared import db

logger = Logger()
tracer = Tracer()
ORDERS = db.table("ORDERS_TABLE")
INVENTORY = db.table("INVENTORY_TABLE")


@logger.inject_lambda_context(correlation_id_path="orderId")
@tracer.capture_lambda_handler
def submit_order(event: dict, context: LambdaContext) -> dict:
    """Record the order."""
    ORDERS.put_item(Item={
        "orderId": event["orderId"],
        "status": "PENDING",
        "items": json.dumps(event["items"]),
    })
    return {"orderId": event["orderId"], "status": "PENDING"}


@logger.inject_lambda_context(correlation_id_path="orderId")
@tracer.capture_lambda_handler
def reserve_inventory(event: dict, context: LambdaContext) -> dict:
    """Move each line's quantity from stock to reserved."""
    # POST /orders has checked that every line is in stock.
    for line in event["items"]:
        INVENTORY.update_item(
            Key={"sku": line["sku"]},
            UpdateExpression="SET stock = stock - :quantity, reserved = reserved + :quantity",
            ExpressionAttributeValues={":quantity": line["quantity"]},
        )
    _set_status(event["orderId"], "RESERVED")
    return {"orderId": event["orderId"], "status": "RESERVED"}


@logger.inject_lambda_context(correlation_id_path="orderId")
@tracer.capture_lambda_handler
def fulfil_order(event: dict, context: LambdaContext) -> dict:
    for line in event["items"]:
        INVENTORY.update_item(
            Key={"sku": line["sku"]},
            UpdateExpression="SET reserved = reserved - :quantity",
            ExpressionAttributeValues={":quantity": line["quantity"]},
        )
    _set_status(event["orderId"], "FULFILLED")
    return {"orderId": event["orderId"], "status": "FULFILLED"}


def _set_status(order_id, status):
    ORDERS.update_item(
        Key={"orderId": order_id},
        UpdateExpression="SET #status = :status",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":status": status},
    )
    logger.info("order status", extra={"order_id": order_id, "status": status})
