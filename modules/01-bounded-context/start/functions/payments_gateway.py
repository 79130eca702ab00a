"""Client for the payment provider. Sandbox tokens stand in for real cards:
tok_ok approves, tok_declined (or any unknown token) is declined, and tok_flaky
fails once per order with a transient error, then approves.
"""
import os
import uuid

import boto3


class PaymentDeclined(Exception):
    """The payment will never succeed: do not retry."""


class PaymentTransientError(Exception):
    """The provider failed this time: retrying may succeed."""


# The provider refuses single charges above this amount (cents); configured per environment.
MAX_CHARGE_CENTS = int(os.environ["PAYMENT_MAX_CHARGE_CENTS"])

attempts_table = boto3.resource("dynamodb").Table(os.environ["PAYMENTS_TABLE"])
ConditionFailed = attempts_table.meta.client.exceptions.ConditionalCheckFailedException


def charge(order_id, amount, token):
    if token == "tok_flaky" and _first_attempt(order_id):
        raise PaymentTransientError(f"payment provider timed out for order {order_id}")
    if token not in ("tok_ok", "tok_flaky"):
        raise PaymentDeclined(f"payment declined for order {order_id}")
    if amount > MAX_CHARGE_CENTS:
        raise PaymentDeclined(f"amount {amount} exceeds the limit of {MAX_CHARGE_CENTS}")
    item = attempts_table.update_item(
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
    return {"status": "APPROVED", "paymentId": item["paymentId"]}


def _first_attempt(order_id):
    try:
        attempts_table.put_item(
            Item={"orderId": order_id, "status": "ATTEMPTED"},
            ConditionExpression="attribute_not_exists(orderId)",
        )
        return True
    except ConditionFailed:
        return False
