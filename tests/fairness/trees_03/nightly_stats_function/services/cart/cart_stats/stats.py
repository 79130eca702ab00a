"""A nightly job, not a route: counts the carts and their lines, and logs the figures.

Fairness fixture (part of a CORRECT alternative to module 03's solution): a function that a
schedule triggers has nothing to do with GET /cart/{cartId}.
"""
import json
import os

import boto3

TABLE = boto3.resource("dynamodb").Table(os.environ["CART_TABLE"])


def handler(event, context):
    carts = lines = 0
    kwargs = {"ProjectionExpression": "cartId, #items", "ExpressionAttributeNames": {"#items": "items"}}
    while True:
        page = TABLE.scan(**kwargs)
        for cart in page["Items"]:
            carts += 1
            lines += len(cart.get("items") or [])
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    print(json.dumps({"carts": carts, "lines": lines}))
    return {"carts": carts, "lines": lines}
