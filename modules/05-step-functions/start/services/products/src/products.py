"""Products service: the read-only catalogue behind GET /products."""
import json
import os

import boto3

# The catalogue this shop sells; prices are integer cents.
CATALOGUE = [
    {"sku": "lambda-tee", "name": "Lambda T-shirt", "price": 2500},
    {"sku": "dynamodb-mug", "name": "DynamoDB mug", "price": 1400},
    {"sku": "sam-stickers", "name": "SAM sticker pack", "price": 500},
    {"sku": "apigw-cap", "name": "API Gateway cap", "price": 2000},
    {"sku": "stepfn-hoodie", "name": "Step Functions hoodie", "price": 5500},
    {"sku": "eventbridge-socks", "name": "EventBridge socks", "price": 1200},
]

TABLE = boto3.resource("dynamodb").Table(os.environ["PRODUCTS_TABLE"])
_seeded = False  # checked once per execution environment, not on every call


def list_products(event, context):
    _ensure_seeded()
    items, kwargs = [], {}
    while True:
        page = TABLE.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    products = sorted((_product(item) for item in items), key=lambda p: p["sku"])
    return _response(200, {"products": products})


def get_product(event, context):
    sku = (event.get("pathParameters") or {}).get("sku", "")
    _ensure_seeded()
    item = TABLE.get_item(Key={"sku": sku}).get("Item")
    if item is None:
        return _response(404, {"message": f"product {sku} not found"})
    return _response(200, _product(item))


def _ensure_seeded():
    # No custom resources in this module, so the table is filled on first read.
    # Putting the same items twice is harmless, so concurrent first reads are fine.
    global _seeded
    if _seeded:
        return
    if not TABLE.scan(Limit=1, ProjectionExpression="sku")["Items"]:
        with TABLE.batch_writer() as batch:
            for product in CATALOGUE:
                batch.put_item(Item=product)
    _seeded = True


def _product(item):
    # DynamoDB hands numbers back as Decimal, which json cannot encode.
    return {"sku": item["sku"], "name": item["name"], "price": int(item["price"])}


def _response(status, body):
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
    }
