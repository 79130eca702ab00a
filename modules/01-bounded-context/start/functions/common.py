"""Helpers shared by every function of the shop, so each fix lands everywhere at once."""
import functools
import json
import os

import boto3

from payments_gateway import PaymentDeclined

dynamodb = boto3.resource("dynamodb")
products_table = dynamodb.Table(os.environ["PRODUCTS_TABLE"])
cart_table = dynamodb.Table(os.environ["CART_TABLE"])
inventory_table = dynamodb.Table(os.environ["INVENTORY_TABLE"])
ConditionFailed = dynamodb.meta.client.exceptions.ConditionalCheckFailedException

MAX_QUANTITY = 99
INITIAL_STOCK = 100

# Prices are integer cents.
CATALOGUE = [
    {"sku": "lambda-tee", "name": "Lambda T-shirt", "price": 2500},
    {"sku": "dynamodb-mug", "name": "DynamoDB mug", "price": 1400},
    {"sku": "sam-stickers", "name": "SAM sticker pack", "price": 500},
    {"sku": "apigw-cap", "name": "API Gateway cap", "price": 2000},
    {"sku": "stepfn-hoodie", "name": "Step Functions hoodie", "price": 5500},
    {"sku": "eventbridge-socks", "name": "EventBridge socks", "price": 1200},
]


class BadRequest(Exception):
    pass


class NotFound(Exception):
    pass


class Conflict(Exception):
    pass


# One error mapping for the whole shop (checkout answers 402 for a declined card).
STATUS = {BadRequest: 400, NotFound: 404, Conflict: 409, PaymentDeclined: 402}


def api(handler):
    """Turn a handler's (status, body) or one of the errors above into a response."""

    @functools.wraps(handler)
    def wrapper(event, context):
        try:
            status, body = handler(event, context)
        except tuple(STATUS) as err:
            status, body = STATUS[type(err)], {"message": str(err)}
        return {
            "statusCode": status,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps(body),
        }

    return wrapper


def path_param(event, name):
    value = (event.get("pathParameters") or {}).get(name)
    if not value:
        raise BadRequest(f"{name} is missing from the path")
    return value


def json_body(event):
    try:
        data = json.loads(event.get("body") or "")
    except ValueError:
        raise BadRequest("body must be JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("body must be a JSON object")
    return data


def positive_int(value, name, maximum=None):
    # bool is a subclass of int in Python: true must not count as 1.
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BadRequest(f"{name} must be a positive integer")
    if maximum is not None and value > maximum:
        raise BadRequest(f"{name} must be at most {maximum}")
    return value


def seed_catalogue():
    """Fill the products table on first use (we cannot use custom resources)."""
    if not products_table.scan(Limit=1, ProjectionExpression="sku")["Items"]:
        with products_table.batch_writer() as batch:
            for product in CATALOGUE:
                batch.put_item(Item=product)


def product_json(item):
    return {"sku": item["sku"], "name": item["name"], "price": int(item["price"])}


def load_cart(cart_id):
    """The cart's lines (None when there is no cart) and its version."""
    cart = cart_table.get_item(Key={"cartId": cart_id}, ConsistentRead=True).get("Item")
    if cart is None:
        return None, 0
    items = [{"sku": i["sku"], "quantity": int(i["quantity"])} for i in cart["items"]]
    return items, int(cart["version"])


def save_cart(cart_id, items, version):
    """Write the cart unless someone saved it since it was loaded; False if so."""
    condition = "version = :v" if version else "attribute_not_exists(cartId)"
    values = {":v": version} if version else {}
    try:
        cart_table.put_item(
            Item={"cartId": cart_id, "items": items, "version": version + 1},
            ConditionExpression=condition,
            **({"ExpressionAttributeValues": values} if values else {}),
        )
        return True
    except ConditionFailed:
        return False
