"""get-cart: read the cart's item and reshape it. No logic, just GetItem."""
import json
import os

import boto3

TABLE = boto3.resource("dynamodb").Table(os.environ["CART_TABLE"])


def handler(event, context):
    cart_id = (event.get("pathParameters") or {}).get("cartId", "")
    item = TABLE.get_item(Key={"cartId": cart_id}, ConsistentRead=True).get("Item")
    if item is None:
        return respond(404, {"message": "cart not found"})
    return respond(200, {
        "cartId": item["cartId"],
        # DynamoDB hands numbers back as Decimal, which json cannot encode.
        "items": [{"sku": line["sku"], "quantity": int(line["quantity"])} for line in item["items"]],
    })


def respond(status, body):
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
