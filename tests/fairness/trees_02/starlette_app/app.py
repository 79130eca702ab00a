"""Cart writes as a plain Starlette app (no FastAPI, no pydantic), run on Lambda by Mangum.

A correct alternative of module 02: another ASGI framework behind the same adapter, its own
hand-written validation shared by both routes, and its own error wording.
"""
import json

from mangum import Mangum
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import cart_store

LIMIT = 99
TRIES = 3


# -- the one validation, for both routes ------------------------------------------------------

def valid_sku(value):
    if not isinstance(value, str) or not value.strip() or len(value) > 128:
        raise HTTPException(400, "sku: expected a non-blank string of at most 128 characters")
    return value


def valid_quantity(value):
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= LIMIT:
        raise HTTPException(400, f"quantity: expected a whole number from 1 to {LIMIT}")
    return value


async def read_line(request: Request):
    if "application/json" not in request.headers.get("content-type", ""):
        raise HTTPException(400, "send the line as JSON (Content-Type: application/json)")
    try:
        data = json.loads(await request.body())
    except ValueError:
        raise HTTPException(400, "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise HTTPException(400, 'expected a JSON object {"sku": ..., "quantity": ...}')
    return valid_sku(data.get("sku")), valid_quantity(data.get("quantity"))


# -- routes ------------------------------------------------------------------------------------

async def put_line(request: Request):
    cart_id = request.path_params["cartId"]
    sku, quantity = await read_line(request)
    for _ in range(TRIES):
        items, version = cart_store.load(cart_id)
        items = items or []
        line = next((i for i in items if i["sku"] == sku), None)
        if line is None:
            line = {"sku": sku, "quantity": 0}
            items.append(line)
        if line["quantity"] + quantity > LIMIT:
            raise HTTPException(400, f"{sku}: at most {LIMIT} per line")
        line["quantity"] += quantity
        if cart_store.save(cart_id, items, version):
            return JSONResponse({"cartId": cart_id, "items": items}, status_code=201)
    raise HTTPException(409, "concurrent update, try again")


async def drop_line(request: Request):
    cart_id, sku = request.path_params["cartId"], valid_sku(request.path_params["sku"])
    for _ in range(TRIES):
        items, version = cart_store.load(cart_id)
        if items is None:
            raise HTTPException(404, f"no cart {cart_id}")
        kept = [i for i in items if i["sku"] != sku]
        if len(kept) == len(items):
            raise HTTPException(404, f"cart {cart_id} has no line for {sku}")
        if cart_store.save(cart_id, kept, version):
            return JSONResponse({"cartId": cart_id, "items": kept})
    raise HTTPException(409, "concurrent update, try again")


async def as_json(request: Request, exc: HTTPException):
    # Also the router's own 404 and 405 (the latter with its Allow header).
    return JSONResponse({"message": exc.detail}, status_code=exc.status_code, headers=exc.headers)


app = Starlette(
    routes=[
        Route("/cart/{cartId}/items", put_line, methods=["POST"]),
        Route("/cart/{cartId}/items/{sku}", drop_line, methods=["DELETE"]),
    ],
    exception_handlers={HTTPException: as_json},
)

lambda_handler = Mangum(app, lifespan="off")
