"""Payments service: charges an order. Invoked by the order workflow, not over HTTP.

The event is {"orderId", "paymentToken", "items": [{"sku", "quantity"}]}: payments prices the
lines itself, from the tariff below, so the caller never states what to charge. (Module 01's
{"orderId", "amount", "paymentToken"} is still accepted.)

Sandbox tokens stand in for a real payment provider:
  tok_ok        approves
  tok_declined  raises PaymentDeclined (as does any unknown token)
  tok_flaky     raises PaymentTransientError on the first attempt for an order,
                then approves: the caller is expected to retry
"""
import os
import uuid

import boto3


class PaymentDeclined(Exception):
    """The payment will never succeed: do not retry."""


class PaymentTransientError(Exception):
    """The provider failed this time: retrying may succeed."""


# Unit prices in cents. Payments keeps its own copy of the catalogue's prices, as inventory
# keeps its own list of SKUs: reading the products table would couple the two services.
TARIFF = {
    "lambda-tee": 2500,
    "dynamodb-mug": 1400,
    "sam-stickers": 500,
    "apigw-cap": 2000,
    "stepfn-hoodie": 5500,
    "eventbridge-socks": 1200,
}
MAX_QUANTITY = 99

# Payments' own configuration, set by payments' own template. Failing fast here
# is fine now: a misconfigured payments stack can only break payments.
MAX_CHARGE_CENTS = int(os.environ["PAYMENT_MAX_CHARGE_CENTS"])
TABLE = boto3.resource("dynamodb").Table(os.environ["PAYMENTS_TABLE"])
ConditionFailed = TABLE.meta.client.exceptions.ConditionalCheckFailedException


def process_payment(event, context):
    order_id, amount, token = _parse(event)
    if token == "tok_flaky" and _first_attempt(order_id):
        raise PaymentTransientError(f"payment provider timed out for order {order_id}")
    if token not in ("tok_ok", "tok_flaky"):
        raise PaymentDeclined(f"payment declined for order {order_id}")
    if amount > MAX_CHARGE_CENTS:
        raise PaymentDeclined(f"amount {amount} exceeds the limit of {MAX_CHARGE_CENTS}")
    return {"status": "APPROVED", "paymentId": _approve(order_id, amount), "amount": amount}


def _parse(event):
    order_id, token = event.get("orderId"), event.get("paymentToken")
    if not isinstance(order_id, str) or not order_id:
        raise ValueError("orderId must be a non-empty string")
    if not isinstance(token, str):
        raise ValueError("paymentToken must be a string")
    amount = _price(event["items"]) if "items" in event else event.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValueError("amount must be a positive integer (cents)")
    return order_id, amount, token


def _price(items):
    if not isinstance(items, list) or not items:
        raise ValueError("items must be a non-empty list")
    total = 0
    for line in items:
        sku, quantity = (line.get(k) for k in ("sku", "quantity")) if isinstance(line, dict) else (None, None)
        if sku not in TARIFF:
            raise ValueError(f"no price for sku {sku!r}")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
            raise ValueError(f"quantity of {sku} must be an integer from 1 to {MAX_QUANTITY}")
        total += TARIFF[sku] * quantity
    return total


def _first_attempt(order_id):
    # Only the first writer of the order's record succeeds, so exactly one
    # attempt per order sees the transient failure, even under concurrency.
    try:
        TABLE.put_item(
            Item={"orderId": order_id, "status": "ATTEMPTED"},
            ConditionExpression="attribute_not_exists(orderId)",
        )
        return True
    except ConditionFailed:
        return False


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
