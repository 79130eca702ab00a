"""Payments service: charges an order. Invoked by the order workflow, not over HTTP.

Sandbox tokens stand in for a real payment provider:
  tok_ok        approves
  tok_declined  raises PaymentDeclined (as does any unknown token)
  tok_flaky     raises PaymentTransientError on the first attempt for an order,
                then approves: the caller is expected to retry
"""
import os
import uuid

import db


class PaymentDeclined(Exception):
    """The payment will never succeed: do not retry."""


class PaymentTransientError(Exception):
    """The provider failed this time: retrying may succeed."""


MAX_CHARGE_CENTS = int(os.environ["PAYMENT_MAX_CHARGE_CENTS"])
TABLE = db.table("PAYMENTS_TABLE")


def process_payment(event, context):
    order_id, amount, token = _parse(event)
    print(f"process_payment order={order_id} amount={amount}")
    if token == "tok_flaky" and _first_attempt(order_id):
        print("provider timed out for", order_id)
        raise PaymentTransientError(f"payment provider timed out for order {order_id}")
    if token not in ("tok_ok", "tok_flaky"):
        raise PaymentDeclined(f"payment declined for order {order_id}")
    if amount > MAX_CHARGE_CENTS:
        raise PaymentDeclined(f"amount {amount} exceeds the limit of {MAX_CHARGE_CENTS}")
    payment_id = _approve(order_id, amount)
    print("approved", order_id, payment_id)
    return {"status": "APPROVED", "paymentId": payment_id}


def _parse(event):
    order_id, amount, token = (event.get(k) for k in ("orderId", "amount", "paymentToken"))
    if not isinstance(order_id, str) or not order_id:
        raise ValueError("orderId must be a non-empty string")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValueError("amount must be a positive integer (cents)")
    if not isinstance(token, str):
        raise ValueError("paymentToken must be a string")
    return order_id, amount, token


def _first_attempt(order_id):
    # Only the first writer of the order's record succeeds, so exactly one
    # attempt per order sees the transient failure, even under concurrency.
    return db.put_new(TABLE, {"orderId": order_id, "status": "ATTEMPTED"}, "orderId")


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
