"""Payments service: charges an order. Invoked by the order workflow, not over HTTP.

Sandbox tokens stand in for a real payment provider:
  tok_ok        approves
  tok_declined  raises PaymentDeclined (as does any unknown token)
  tok_flaky     raises PaymentTransientError on the first attempt for an order,
                then approves: the caller is expected to retry
"""
import os
import uuid

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from shop_shared import db


class PaymentDeclined(Exception):
    """The payment will never succeed: do not retry."""


class PaymentTransientError(Exception):
    """The provider failed this time: retrying may succeed."""


MAX_CHARGE_CENTS = int(os.environ["PAYMENT_MAX_CHARGE_CENTS"])

logger = Logger()
tracer = Tracer()
metrics = Metrics()
TABLE = db.table("PAYMENTS_TABLE")


# No API Gateway in front: the order id is what ties this function's logs to an order.
@logger.inject_lambda_context(correlation_id_path="orderId")
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def process_payment(event: dict, context: LambdaContext) -> dict:
    order_id, amount, token = _parse(event)
    if token == "tok_flaky" and _first_attempt(order_id):
        logger.warning("transient provider failure", extra={"order_id": order_id})
        metrics.add_metric(name="PaymentsFailedTransiently", unit=MetricUnit.Count, value=1)
        raise PaymentTransientError(f"payment provider timed out for order {order_id}")
    if token not in ("tok_ok", "tok_flaky"):
        raise _declined(order_id, f"payment declined for order {order_id}")
    if amount > MAX_CHARGE_CENTS:
        raise _declined(order_id, f"amount {amount} exceeds the limit of {MAX_CHARGE_CENTS}")
    payment_id = _approve(order_id, amount)
    logger.info("payment approved", extra={"order_id": order_id, "amount": amount, "payment_id": payment_id})
    metrics.add_metric(name="PaymentsApproved", unit=MetricUnit.Count, value=1)
    return {"status": "APPROVED", "paymentId": payment_id}


def _declined(order_id, reason):
    logger.info("payment declined", extra={"order_id": order_id, "reason": reason})
    metrics.add_metric(name="PaymentsDeclined", unit=MetricUnit.Count, value=1)
    return PaymentDeclined(reason)


def _parse(event):
    order_id, amount, token = (event.get(k) for k in ("orderId", "amount", "paymentToken"))
    if not isinstance(order_id, str) or not order_id:
        raise ValueError("orderId must be a non-empty string")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValueError("amount must be a positive integer (cents)")
    if not isinstance(token, str):
        raise ValueError("paymentToken must be a string")
    return order_id, amount, token


@tracer.capture_method
def _first_attempt(order_id):
    # Only the first writer of the order's record succeeds, so exactly one
    # attempt per order sees the transient failure, even under concurrency.
    return db.put_new(TABLE, {"orderId": order_id, "status": "ATTEMPTED"}, "orderId")


@tracer.capture_method
def _approve(order_id, amount):
    # A retried approval keeps the first paymentId: charging is idempotent per order.
    item = TABLE.update_item(
        Key={"orderId": order_id},
        UpdateExpression="SET #status = :approved, #amount = :amount, "
        "paymentId = if_not_exists(paymentId, :paymentId)",
        ExpressionAttributeNames={"#status": "status", "#amount": "amount"},
        ExpressionAttributeValues={
            ":approved": "APPROVED",
            ":amount": amount,
            ":paymentId": f"pay_{uuid.uuid4().hex}",
        },
        ReturnValues="ALL_NEW",
    )["Attributes"]
    return item["paymentId"]
