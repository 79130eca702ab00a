"""manage-cart: one FastAPI app, run in Lambda by Mangum, serves every write to a cart.

One DynamoDB item per cart: {"cartId", "items": [{"sku", "quantity"}], "version"}, lines
kept in the order they were added; the version guards against lost updates.
"""
import json
import os

import boto3
from boto3.dynamodb.conditions import Attr
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from mangum import Mangum
from starlette.exceptions import HTTPException

MAX_QUANTITY = 99
ATTEMPTS = 3  # optimistic-locking retries before answering 409

TABLE = boto3.resource("dynamodb").Table(os.environ["CART_TABLE"])
ConditionFailed = TABLE.meta.client.exceptions.ConditionalCheckFailedException

app = FastAPI(title="cart", openapi_url=None, docs_url=None, redoc_url=None)


class CartError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


@app.exception_handler(CartError)
async def cart_error(request, error):
    return JSONResponse({"message": str(error)}, status_code=error.status)


@app.exception_handler(HTTPException)
async def http_error(request, error):
    # FastAPI's own errors (unknown route, wrong method) in the shop's error shape.
    return JSONResponse({"message": str(error.detail)}, status_code=error.status_code)


@app.post("/cart/{cartId}/items", status_code=201)
async def add_item(cartId: str, request: Request):
    sku, quantity = parse_line(await request.body())
    for _ in range(ATTEMPTS):
        items, version = load(cartId)
        items = items or []
        line = next((i for i in items if i["sku"] == sku), None)
        if line is None:
            line = {"sku": sku, "quantity": 0}
            items.append(line)
        if line["quantity"] + quantity > MAX_QUANTITY:
            raise CartError(400, f"quantity of {sku} would exceed {MAX_QUANTITY}")
        line["quantity"] += quantity
        if save(cartId, items, version):
            return {"cartId": cartId, "items": items}
    raise CartError(409, "the cart changed meanwhile, retry")


@app.delete("/cart/{cartId}/items/{sku}")
def remove_item(cartId: str, sku: str):
    for _ in range(ATTEMPTS):
        items, version = load(cartId)
        if items is None:
            raise CartError(404, "cart not found")
        kept = [i for i in items if i["sku"] != sku]
        if len(kept) == len(items):
            raise CartError(404, f"{sku} is not in the cart")
        if save(cartId, kept, version):
            return {"cartId": cartId, "items": kept}
    raise CartError(409, "the cart changed meanwhile, retry")


def parse_line(body):
    try:
        data = json.loads(body or b"")
    except ValueError:
        raise CartError(400, "body must be JSON") from None
    if not isinstance(data, dict):
        raise CartError(400, 'body must be an object {"sku", "quantity"}')
    sku, quantity = data.get("sku"), data.get("quantity")
    if not isinstance(sku, str) or not sku.strip():
        raise CartError(400, "sku must be a non-empty string")
    # bool is a subclass of int in Python: true must not count as 1.
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise CartError(400, "quantity must be an integer")
    if not 1 <= quantity <= MAX_QUANTITY:
        raise CartError(400, f"quantity must be between 1 and {MAX_QUANTITY}")
    return sku, quantity


def load(cart_id):
    """The cart's lines (None when there is no cart) and its version."""
    cart = TABLE.get_item(Key={"cartId": cart_id}, ConsistentRead=True).get("Item")
    if cart is None:
        return None, 0
    # DynamoDB hands numbers back as Decimal, which json cannot encode.
    items = [{"sku": i["sku"], "quantity": int(i["quantity"])} for i in cart["items"]]
    return items, int(cart["version"])


def save(cart_id, items, version):
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


# Lambda's entry point: Mangum turns the API Gateway event into an ASGI request and back.
handler = Mangum(app, lifespan="off")
