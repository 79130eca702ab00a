"""Orders API: POST /orders checks the stock and hands the order to the orchestrator;
GET /orders/{orderId} reads it."""
import json
import os
import uuid

import boto3

MAX_QUANTITY = 99
TABLE = boto3.resource("dynamodb").Table(os.environ["ORDERS_TABLE"])
INVENTORY = boto3.resource("dynamodb").Table(os.environ["INVENTORY_TABLE"])
LAMBDA = boto3.client("lambda")


class BadRequest(Exception):
    pass


def place_order(event, context):
    try:
        items, token = _parse(event.get("body"))
    except BadRequest as err:
        return _response(400, {"message": str(err)})
    order_id = str(uuid.uuid4())
    # Fail fast: an order for something out of stock never reaches the orchestrator.
    if not all(_in_stock(line) for line in items):
        TABLE.put_item(Item={"orderId": order_id, "status": "OUT_OF_STOCK", "items": json.dumps(items)})
        return _response(202, {"orderId": order_id})
    # Fire and forget: the orchestrator runs the order while the shopper gets an answer.
    LAMBDA.invoke(
        FunctionName=os.environ["ORCHESTRATOR_FUNCTION"],
        InvocationType="Event",
        Payload=json.dumps({"orderId": order_id, "items": items, "paymentToken": token}),
    )
    return _response(202, {"orderId": order_id})


def get_order(event, context):
    order_id = (event.get("pathParameters") or {}).get("orderId", "")
    item = TABLE.get_item(Key={"orderId": order_id}, ConsistentRead=True).get("Item") if order_id else None
    if item is None:
        return _response(404, {"message": "order not found"})
    return _response(200, {"orderId": item["orderId"], "status": item["status"]})


def _in_stock(line):
    item = INVENTORY.get_item(Key={"sku": line["sku"]}, ConsistentRead=True).get("Item")
    return item is not None and item["stock"] >= line["quantity"]


def _parse(body):
    try:
        data = json.loads(body or "")
    except ValueError:
        raise BadRequest("body must be JSON") from None
    if not isinstance(data, dict):
        raise BadRequest('body must be an object {"items", "paymentToken"}')
    items, token = data.get("items"), data.get("paymentToken")
    if not isinstance(items, list) or not items:
        raise BadRequest("items must be a non-empty list")
    lines = []
    for line in items:
        if not isinstance(line, dict):
            raise BadRequest('each item must be an object {"sku", "quantity"}')
        sku, quantity = line.get("sku"), line.get("quantity")
        if not isinstance(sku, str) or not sku.strip():
            raise BadRequest("sku must be a non-empty string")
        # bool is a subclass of int in Python: true must not count as 1.
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
            raise BadRequest(f"quantity must be an integer from 1 to {MAX_QUANTITY}")
        lines.append({"sku": sku, "quantity": quantity})
    if not isinstance(token, str) or not token:
        raise BadRequest("paymentToken must be a non-empty string")
    return lines, token


def _response(status, body):
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
    }
