"""Orders API: POST /orders checks the stock and hands the order to the orchestrator;
GET /orders/{orderId} reads it. Both need a valid token."""
import json
import os
import uuid

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import BadRequestError, NotFoundError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from shop_shared import auth, db

MAX_QUANTITY = 99

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayRestResolver()
app.use(middlewares=[auth.require_token])
TABLE = db.table("ORDERS_TABLE")
INVENTORY = db.table("INVENTORY_TABLE")
LAMBDA = boto3.client("lambda")


@app.post("/orders")
@tracer.capture_method
def place_order():
    items, token = _parse(app.current_event.body)
    order_id = str(uuid.uuid4())
    # Fail fast: an order for something out of stock never reaches the orchestrator.
    if not all(_in_stock(line) for line in items):
        TABLE.put_item(Item={"orderId": order_id, "status": "OUT_OF_STOCK", "items": json.dumps(items)})
        logger.info("order out of stock", extra={"order_id": order_id})
        return _accepted(order_id)
    # Fire and forget: the orchestrator runs the order while the shopper gets an answer.
    LAMBDA.invoke(
        FunctionName=os.environ["ORCHESTRATOR_FUNCTION"],
        InvocationType="Event",
        Payload=json.dumps({"orderId": order_id, "items": items, "paymentToken": token}),
    )
    logger.info("order handed to the orchestrator", extra={"order_id": order_id})
    metrics.add_metric(name="OrdersPlaced", unit=MetricUnit.Count, value=1)
    return _accepted(order_id)


@app.get("/orders/<order_id>")
@tracer.capture_method
def get_order(order_id: str):
    item = TABLE.get_item(Key={"orderId": order_id}, ConsistentRead=True).get("Item")
    if item is None:
        raise NotFoundError("order not found")
    return {"orderId": item["orderId"], "status": item["status"]}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)


def _accepted(order_id):
    return Response(status_code=202, content_type="application/json", body={"orderId": order_id})


def _in_stock(line):
    item = INVENTORY.get_item(Key={"sku": line["sku"]}, ConsistentRead=True).get("Item")
    return item is not None and item["stock"] >= line["quantity"]


def _parse(body):
    try:
        data = json.loads(body or "")
    except ValueError:
        raise BadRequestError("body must be JSON") from None
    if not isinstance(data, dict):
        raise BadRequestError('body must be an object {"items", "paymentToken"}')
    items, token = data.get("items"), data.get("paymentToken")
    if not isinstance(items, list) or not items:
        raise BadRequestError("items must be a non-empty list")
    lines = []
    for line in items:
        if not isinstance(line, dict):
            raise BadRequestError('each item must be an object {"sku", "quantity"}')
        sku, quantity = line.get("sku"), line.get("quantity")
        if not isinstance(sku, str) or not sku.strip():
            raise BadRequestError("sku must be a non-empty string")
        # bool is a subclass of int in Python: true must not count as 1.
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
            raise BadRequestError(f"quantity must be an integer from 1 to {MAX_QUANTITY}")
        lines.append({"sku": sku, "quantity": quantity})
    if not isinstance(token, str) or not token:
        raise BadRequestError("paymentToken must be a non-empty string")
    return lines, token
