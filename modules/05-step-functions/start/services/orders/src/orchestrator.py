"""The order orchestrator: calls each step's function in turn, retrying by hand."""
import json
import os
import time

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from shop_shared import db

logger = Logger()
tracer = Tracer()
metrics = Metrics()
LAMBDA = boto3.client("lambda")
TABLE = db.table("ORDERS_TABLE")

ATTEMPTS = 3
FIRST_DELAY = 0.2  # seconds, doubled after each failed attempt


class StepFailed(Exception):
    def __init__(self, error_type, message):
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type


@logger.inject_lambda_context(correlation_id_path="orderId")
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context: LambdaContext) -> dict:
    order = {"orderId": event["orderId"], "items": event["items"], "paymentToken": event["paymentToken"]}
    call("SUBMIT_ORDER_FUNCTION", order)
    call("RESERVE_INVENTORY_FUNCTION", order)
    try:
        payment = call("PROCESS_PAYMENT_FUNCTION", order)
    except StepFailed:
        # TODO: give the reserved stock back?
        set_status(order["orderId"], "PAYMENT_FAILED")
        metrics.add_metric(name="OrdersPaymentFailed", unit=MetricUnit.Count, value=1)
        return {"orderId": order["orderId"], "status": "PAYMENT_FAILED"}
    set_status(order["orderId"], "PAID", paymentId=payment["paymentId"])
    call("FULFIL_ORDER_FUNCTION", order)
    metrics.add_metric(name="OrdersFulfilled", unit=MetricUnit.Count, value=1)
    return {"orderId": order["orderId"], "status": "FULFILLED"}


def call(step, payload):
    """Invoke a step's function, retrying any failure with a growing delay."""
    delay = FIRST_DELAY
    for attempt in range(1, ATTEMPTS + 1):
        response = LAMBDA.invoke(FunctionName=os.environ[step], Payload=json.dumps(payload))
        result = json.loads(response["Payload"].read() or "null")
        if "FunctionError" not in response:
            return result
        error = StepFailed(result.get("errorType", "Error"), result.get("errorMessage", ""))
        logger.warning("step failed", extra={"step": step, "attempt": attempt, "error": str(error)})
        if attempt == ATTEMPTS:
            raise error
        time.sleep(delay)
        delay *= 2


def set_status(order_id, status, **extra):
    names = {"#status": "status", **{f"#{k}": k for k in extra}}
    values = {":status": status, **{f":{k}": v for k, v in extra.items()}}
    TABLE.update_item(
        Key={"orderId": order_id},
        UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in ["status", *extra]),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )
