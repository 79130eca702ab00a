"""Inventory service: stock levels per SKU behind GET /inventory/{sku}."""
import json
import os

import boto3

# Inventory keeps its own list of the SKUs it stocks. It repeats the products
# catalogue on purpose: sharing one module would couple the two services again.
STOCKED_SKUS = {
    "lambda-tee",
    "dynamodb-mug",
    "sam-stickers",
    "apigw-cap",
    "stepfn-hoodie",
    "eventbridge-socks",
}
INITIAL_STOCK = 100

TABLE = boto3.resource("dynamodb").Table(os.environ["INVENTORY_TABLE"])
ConditionFailed = TABLE.meta.client.exceptions.ConditionalCheckFailedException


def get_stock(event, context):
    sku = (event.get("pathParameters") or {}).get("sku", "")
    item = TABLE.get_item(Key={"sku": sku}, ConsistentRead=True).get("Item") if sku else None
    if item is None:
        if sku not in STOCKED_SKUS:
            return _response(404, {"message": f"no stock record for {sku}"})
        item = _seed(sku)
    return _response(
        200, {"sku": item["sku"], "stock": int(item["stock"]), "reserved": int(item["reserved"])}
    )


def _seed(sku):
    # Stock is seeded on first read. The condition keeps a concurrent first read
    # (or a reservation made meanwhile) from being overwritten.
    item = {"sku": sku, "stock": INITIAL_STOCK, "reserved": 0}
    try:
        TABLE.put_item(Item=item, ConditionExpression="attribute_not_exists(sku)")
    except ConditionFailed:
        item = TABLE.get_item(Key={"sku": sku}, ConsistentRead=True)["Item"]
    return item


def _response(status, body):
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
    }
