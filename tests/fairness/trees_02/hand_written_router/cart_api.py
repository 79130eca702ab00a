"""manage-cart: both write routes in one function, routed by hand on the event's httpMethod.

A plausible wrong refactor of module 02: one function, one validation, but no web app and no
adapter; anything that is not a POST or a DELETE gets a bare 405.
"""
import json

import cart_store

MAX_QUANTITY = 99
ATTEMPTS = 3


class HttpError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def _answer(status, body):
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def _sku(value):
    if not isinstance(value, str) or not value.strip():
        raise HttpError(400, "sku must be a non-empty string")
    return value


def _line(body):
    try:
        data = json.loads(body or "")
    except ValueError:
        raise HttpError(400, "body must be JSON") from None
    if not isinstance(data, dict):
        raise HttpError(400, 'body must be an object {"sku", "quantity"}')
    quantity = data.get("quantity")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise HttpError(400, f"quantity must be an integer from 1 to {MAX_QUANTITY}")
    return _sku(data.get("sku")), quantity


def _add(cart_id, body):
    sku, quantity = _line(body)
    for _ in range(ATTEMPTS):
        items, version = cart_store.load(cart_id)
        items = items or []
        line = next((i for i in items if i["sku"] == sku), None)
        if line is None:
            line = {"sku": sku, "quantity": 0}
            items.append(line)
        if line["quantity"] + quantity > MAX_QUANTITY:
            raise HttpError(400, f"quantity of {sku} would exceed {MAX_QUANTITY}")
        line["quantity"] += quantity
        if cart_store.save(cart_id, items, version):
            return 201, {"cartId": cart_id, "items": items}
    raise HttpError(409, "the cart changed meanwhile, retry")


def _remove(cart_id, sku):
    sku = _sku(sku)
    for _ in range(ATTEMPTS):
        items, version = cart_store.load(cart_id)
        if items is None:
            raise HttpError(404, "cart not found")
        kept = [i for i in items if i["sku"] != sku]
        if len(kept) == len(items):
            raise HttpError(404, f"{sku} is not in the cart")
        if cart_store.save(cart_id, kept, version):
            return 200, {"cartId": cart_id, "items": kept}
    raise HttpError(409, "the cart changed meanwhile, retry")


def handler(event, context):
    params = event.get("pathParameters") or {}
    method = event.get("httpMethod")
    try:
        if method == "POST":
            return _answer(*_add(params.get("cartId"), event.get("body")))
        elif method == "DELETE":
            return _answer(*_remove(params.get("cartId"), params.get("sku")))
        else:
            return _answer(405, {"message": f"{method} is not supported"})
    except HttpError as err:
        return _answer(err.status, {"message": str(err)})
