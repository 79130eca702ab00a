"""get-cart: GET /cart/{cartId} returns a cart's lines; 404 when there is no cart.

A read stays a small function of its own, plain boto3 and no framework: its package is a
few kilobytes and its cold start short (module 03 replaces it with a direct integration).
"""
import json
import os

import boto3

TABLE = boto3.resource("dynamodb").Table(os.environ["CART_TABLE"])


def _answer(status, body):
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def handler(event, context):
    cart_id = (event.get("pathParameters") or {}).get("cartId")
    if not cart_id:
        return _answer(400, {"message": "cartId is missing from the path"})
    cart = TABLE.get_item(Key={"cartId": cart_id}, ConsistentRead=True).get("Item")
    if cart is None:
        return _answer(404, {"message": "cart not found"})
    # DynamoDB hands numbers back as Decimal, which JSON cannot encode.
    items = [{"sku": i["sku"], "quantity": int(i["quantity"])} for i in cart["items"]]
    return _answer(200, {"cartId": cart_id, "items": items})
