"""get-cart: GET /cart/{cartId} returns a cart's lines."""
import functools
import json
import os

import boto3
from boto3.dynamodb.conditions import Attr

MAX_QUANTITY = 99

TABLE = boto3.resource("dynamodb").Table(os.environ["CART_TABLE"])
ConditionFailed = TABLE.meta.client.exceptions.ConditionalCheckFailedException


# --- helpers, copied from add_to_cart.py ---

class HttpError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def http(handler):
    """Turn the handler's (status, body) or HttpError into an API Gateway response."""

    @functools.wraps(handler)
    def wrapper(event, context):
        try:
            status, body = handler(event, context)
        except HttpError as err:
            status, body = err.status, {"message": str(err)}
        return {
            "statusCode": status,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps(body),
        }

    return wrapper


def _path(event, name):
    value = (event.get("pathParameters") or {}).get(name)
    if not value:
        raise HttpError(400, f"{name} is missing from the path")
    return value


def _check_sku(sku):
    if not isinstance(sku, str) or not sku.strip():
        raise HttpError(400, "sku must be a non-empty string")
    return sku


def _check_quantity(quantity):
    # bool is a subclass of int in Python: true must not count as 1.
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise HttpError(400, "quantity must be an integer")
    if not 1 <= quantity <= MAX_QUANTITY:
        raise HttpError(400, f"quantity must be between 1 and {MAX_QUANTITY}")
    return quantity


def _load(cart_id):
    """The cart's lines (None when there is no cart) and its version."""
    cart = TABLE.get_item(Key={"cartId": cart_id}, ConsistentRead=True).get("Item")
    if cart is None:
        return None, 0
    # DynamoDB hands numbers back as Decimal, which json cannot encode.
    items = [{"sku": i["sku"], "quantity": int(i["quantity"])} for i in cart["items"]]
    return items, int(cart["version"])


def _save(cart_id, items, version):
    # The write only lands if nobody saved the cart since we read it.
    expected = Attr("version").eq(version) if version else Attr("cartId").not_exists()
    try:
        TABLE.put_item(
            Item={"cartId": cart_id, "items": items, "version": version + 1},
            ConditionExpression=expected,
        )
        return True
    except ConditionFailed:
        return False

# --- end of the copied helpers ---


@http
def handler(event, context):
    cart_id = _path(event, "cartId")
    items, _ = _load(cart_id)
    if items is None:
        raise HttpError(404, "cart not found")
    return 200, {"cartId": cart_id, "items": items}
